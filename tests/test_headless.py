"""The core is headless: importing alwidget and running a whole loop loads no widget or plot
library (a fresh interpreter, so nothing imported by other tests hides an import)."""

import subprocess
import sys
import textwrap


def test_import_and_a_whole_session_loop_load_neither_plotly_nor_ipywidgets():
    code = textwrap.dedent(
        """
        import sys
        import numpy as np
        import alwidget
        X = np.random.default_rng(0).normal(size=(120, 4))
        y = (X[:, 0] > 0).astype(int)
        with alwidget.Session(X, classes=["neg", "pos"], store=":memory:", random_state=0) as s:
            for _ in range(3):
                b = s.query()
                s.submit({int(i): int(y[i]) for i in b}, retrain="background", wait=5)
            s.undo()
            s.labels, s.uncertainty
        df = alwidget.simulate(X, y, strategies=["random", "margin"], budget=20, n_repeats=1,
                               progress=False)
        alwidget.labels_to_target(df, 0.8)
        bad = sorted(m for m in sys.modules if m.split(".")[0] in ("plotly", "ipywidgets",
                                                                      "anywidget"))
        print("LOADED", bad)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "LOADED []" in out.stdout, out.stdout + out.stderr
