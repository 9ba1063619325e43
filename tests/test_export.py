"""Export of the teaching lab for slides: the current view as PNG + HTML, a replay strip."""

import numpy as np
import pytest
from PIL import Image

from alwidget.teaching import outlier_toy, teach


@pytest.fixture(scope="module")
def lab():
    X, y, _ = outlier_toy(n_samples=240, n_outliers=12, random_state=0)
    lab = teach(X, y, classes=["a", "b", "c"], strategy="entropy", batch_size=5, budget=40)
    for _ in range(3):
        lab.panel.oracle_step()
    lab.session.set_strategy("coreset")
    lab.widget.refresh()
    lab.panel.oracle_step()
    yield lab
    lab.widget.close()


def test_export_figure_writes_the_view_as_png_and_html(lab, tmp_path):
    png, page = lab.export_figure(tmp_path / "slides" / "round4.png")
    assert png.name == "round4.png" and page.name == "round4.html"
    img = Image.open(png)
    assert img.size == (1600, 950)
    pixels = np.asarray(img.convert("L"))
    assert pixels.std() > 10  # a picture, not a blank page
    text = page.read_text(encoding="utf-8")
    assert "Diagnostics per round" in text and "plotly" in text.lower()
    assert "20 labels" in text  # the title says where the lab stands
    assert text.count("<tr>") == 5  # header + 4 rounds


def test_the_composed_view_holds_map_curve_table_and_the_marks(lab):
    from alwidget.widget.export import view_figure

    fig = view_figure(lab)
    names = {t.name for t in fig.data}
    assert {"pool items", "current batch", "far outlier", "this session: accuracy"} <= names
    assert any(t.type == "table" for t in fig.data)
    assert sum(bool(getattr(getattr(t, "marker", None), "showscale", False)) for t in fig.data) == 1
    # core-set's covering-radius ring and the strategy switch on the curve came along
    kinds = sorted(sh.type for sh in fig.layout.shapes)
    assert kinds == ["circle", "line"]
    assert any(a.text == "→ coreset" for a in fig.layout.annotations)


def test_replay_strip_has_one_panel_per_round(lab, tmp_path):
    out = lab.export_replay_strip(tmp_path / "strip.png", columns=2)
    assert Image.open(out).size == (640, 2 * 300 + 140)
    with pytest.raises(ValueError, match="do not exist"):
        lab.export_replay_strip(tmp_path / "x.png", rounds=[9])
