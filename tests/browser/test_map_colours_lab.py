"""The colour bar follows the colour in a real JupyterLab (issue 13): a strategy switch in the
widget's menu and the teaching panel's "Map colour" menu change the bar's title and the
points' colours together; core-set shows the covering radius."""

from jlab import SHOTS, open_notebook_and_run_all, write_notebook

CELL = """
import numpy as np, alwidget
from sklearn.datasets import make_blobs
import alwidget.teaching as teaching
X, y = make_blobs(300, centers=[[-5, 0], [5, 0], [0, 6]], cluster_std=1.2, random_state=0)
lab = teaching.teach(X, y, classes=["a", "b", "c"], strategy="margin", batch_size=5,
                     budget=60, random_state=0)
for _ in range(3):
    lab.panel.oracle_step()
lab
"""

BAR = """() => { const gd = document.querySelector('.alw-root .js-plotly-plot');
  return gd && gd._fullData ? gd._fullData[0].marker.colorbar.title.text : null; }"""


def _bar_is(page, text_start):
    page.wait_for_function(
        f"() => {{ const t = ({BAR})(); return t && t.startsWith({text_start!r}); }}",
        timeout=60_000,
    )
    return page.evaluate(BAR)


def _shapes_become(page, n):
    """Wait until the map holds ``n`` layout shapes (they may arrive after the colours)."""
    page.wait_for_function(
        "() => (document.querySelector('.alw-root .js-plotly-plot').layout.shapes || [])"
        f".length === {n}",
        timeout=60_000,
    )


def _select(page, label, value):
    """Choose ``value`` in the ipywidgets Dropdown whose description is ``label``."""
    box = page.locator(".widget-dropdown", has=page.locator("label", has_text=label)).first
    box.locator("select").select_option(label=value)


def test_colour_bar_title_follows_strategy_and_teaching_colour(lab_server, page):
    base, token, root = lab_server
    write_notebook(root / "colours.ipynb", CELL)
    page.set_viewport_size({"width": 1500, "height": 1100})
    open_notebook_and_run_all(page, f"{base}/lab/tree/colours.ipynb?token={token}", 180_000)
    assert _bar_is(page, "uncertainty (1 − margin)") == "uncertainty (1 − margin), high = unsure"

    _select(page, "Strategy", "coreset")
    title = _bar_is(page, "distance to the nearest label")
    assert "covering radius r = " in title and title.endswith("high = far")
    # the covering radius is drawn: a ring shape and the marked farthest item
    _shapes_become(page, 1)
    plot = page.locator(".alw-root .js-plotly-plot").first
    plot.scroll_into_view_if_needed()
    SHOTS.mkdir(parents=True, exist_ok=True)
    plot.screenshot(path=str(SHOTS / "map_colour_coreset_distance.png"))

    _select(page, "Map colour", "label dispersion (Bengar et al. 2021)")
    assert _bar_is(page, "label dispersion").endswith("high = unstable")
    _select(page, "Map colour", "forgetting events (Toneva et al. 2019)")
    assert "high = often forgotten" in _bar_is(page, "forgetting events")
    plot.screenshot(path=str(SHOTS / "map_colour_forgetting.png"))
    _select(page, "Strategy", "entropy")
    _select(page, "Map colour", "what the strategy looks at (uncertainty; distance for core-set)")
    assert _bar_is(page, "uncertainty (entropy") == (
        "uncertainty (entropy ÷ log classes), high = unsure"
    )
    _shapes_become(page, 0)  # the ring goes with core-set
