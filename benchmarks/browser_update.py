"""Submit click -> new batch's cards and the recoloured map in the page, in real JupyterLab.

Starts a throw-away JupyterLab server, opens a notebook with a LabelingWidget on a synthetic pool
(50 features, 5 classes, batch 10), and in headless Chromium (Debian's /usr/bin/chromium) labels
the batch by clicks and clicks "Submit batch", timing until the new cards are in the DOM and the
map's colour array in the page has changed. Also times the first map on screen after the cell
starts running, and after the widget appears in the page.

Usage::

    python benchmarks/browser_update.py             # 2k and 200k items, 8 submits each
    python benchmarks/browser_update.py --quick     # 2k items, 3 submits (CI)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import nbformat

from alwidget.widget.map import DEFAULT_MAX_POINTS

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "browser"))
from jlab import (  # noqa: E402  (the browser-test helpers: server + Chromium flags)
    CHROMIUM,
    CHROMIUM_ARGS,
    READY_JS,
    _free_port,
    _start_server,
    _stop_server,
    server_command,
)

CELL = """\
import numpy as np
from sklearn.datasets import make_classification
import alwidget
X, y = make_classification(n_samples={n}, n_features=50, n_informative=20, n_classes=5,
                           random_state=0)
w = alwidget.label(X, classes=[f"c{{i}}" for i in range(5)], random_state=0, store=":memory:",
                   projection="pca")
w
"""

PLOT = ".alw-root .js-plotly-plot"


def run(n: int, submits: int) -> tuple[float, float, list[float], list[float]]:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                     "language": "python"}  # fmt: skip
        nb.cells = [nbformat.v4.new_code_cell(CELL.format(n=n))]
        nbformat.write(nb, root / "bench.ipynb")
        port, token = _free_port(), uuid.uuid4().hex
        cmd = server_command("lab", port, token, root)
        proc, log = _start_server(cmd, root, port, token, "/api/status")
        try:
            with sync_playwright() as p:
                b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = b.new_page(viewport={"width": 1280, "height": 900})
                page.goto(f"http://127.0.0.1:{port}/lab/tree/bench.ipynb?token={token}")
                page.wait_for_function(READY_JS, timeout=120_000)
                t0 = time.perf_counter()
                page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
                page.wait_for_function("() => !!document.querySelector('.alw-root')",
                                       timeout=600_000, polling="raf")
                t_shown = time.perf_counter()
                page.wait_for_function(
                    f"(n) => {{ const gd = document.querySelector('{PLOT}');"
                    " return gd && gd._fullData && gd._fullData[0]._length === n; }",
                    arg=min(n, DEFAULT_MAX_POINTS), timeout=600_000, polling="raf",
                )  # fmt: skip
                first_map = time.perf_counter() - t0
                shown_to_map = time.perf_counter() - t_shown
                times, map_times = [], []
                for _ in range(submits):
                    cards = page.locator(".alw-card")
                    for i in range(cards.count()):
                        cards.nth(i).locator(".widget-toggle-button").nth(i % 5).click()
                    page.evaluate(
                        f"() => {{ const gd = document.querySelector('{PLOT}');"
                        " window.__oldColor = gd.data[0].marker.color;"
                        " window.__oldCap = document.querySelector('.alw-caption').innerText; }"
                    )
                    t1 = time.perf_counter()
                    page.locator("button", has_text="Submit batch").click()
                    page.wait_for_function(
                        f"() => {{ const gd = document.querySelector('{PLOT}');"
                        " return gd.data[0].marker.color !== window.__oldColor; }",
                        timeout=120_000, polling="raf",
                    )  # fmt: skip
                    map_times.append(time.perf_counter() - t1)
                    page.wait_for_function(
                        "() => { const cap = document.querySelector('.alw-caption');"
                        " return cap && cap.innerText !== window.__oldCap; }",
                        timeout=120_000, polling="raf",
                    )  # fmt: skip
                    times.append(time.perf_counter() - t1)
                b.close()
        finally:
            _stop_server(proc, log, port, token)
    return first_map, shown_to_map, times, map_times


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--sizes", default=None, help="comma-separated pool sizes")
    args = ap.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"no Chromium at {CHROMIUM}: apt-get install -y chromium")
        return 1
    sizes = [2_000] if args.quick else [2_000, 200_000]
    if args.sizes:
        sizes = [int(v) for v in args.sizes.split(",")]
    submits = 3 if args.quick else 8
    print("n_items  first_map_s  displayed_to_map_s  map_recoloured_ms(median, max)"
          "  cards_and_map_ms(median, max)")
    for n in sizes:
        first, shown, times, map_times = run(n, submits)
        ms = [t * 1000 for t in times]
        mm = [t * 1000 for t in map_times]
        print(f"{n:>7}  {first:>11.2f}  {shown:>18.2f}  {statistics.median(mm):>12.0f} {max(mm):>8.0f}"
              f"  {statistics.median(ms):>16.0f} {max(ms):>8.0f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
