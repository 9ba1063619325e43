"""A map changed after it was displayed comes back as it is now when the page is reloaded
(JupyterLab + Chromium): overlays, colours and title come from the kernel's current state."""

from __future__ import annotations

from jlab import SHOTS, open_notebook_and_run_all, write_notebook

SHOW = """
import numpy as np
from alwidget.widget.map import MapView

xy = np.random.default_rng(0).normal(size=(400, 2))
m = MapView(xy, ["a", "b"], max_points=300)
picks = m.add_overlay("coreset's pick", symbol="x", size=12, color="#d62728")
m.fig
"""
CHANGE = """
m.set_overlay(picks, [1, 2, 3, 399])
m.recolour(np.linspace(0, 1, 400), "label dispersion", heading="changed after display")
labels = np.full(400, -1); labels[[5, 6]] = 0
m.update(np.linspace(0, 1, 400), labels, np.array([7, 8, 9]), "margin")
m.set_heading("changed after display")
"""
PLOT = ".js-plotly-plot"
STATE_JS = """() => { const gd = document.querySelector('.js-plotly-plot');
  if (!gd || !gd._fullData || !gd.layout.title) return null;
  return [gd.layout.title.text, gd._fullData.map(t => [t.name, t.x ? t.x.length : 0])]; }"""


def test_a_reloaded_page_shows_the_map_as_it_is_now(lab_server, page):
    base, token, root = lab_server
    write_notebook(root / "reload.ipynb", SHOW, CHANGE)
    url = f"{base}/lab/tree/reload.ipynb?token={token}"
    open_notebook_and_run_all(page, url, 180_000)
    page.wait_for_function(
        "() => { const gd = document.querySelector('.js-plotly-plot');"
        " return gd && gd.layout.title && gd.layout.title.text === 'changed after display'; }",
        timeout=60_000,
    )
    page.evaluate("window.jupyterapp.commands.execute('docmanager:save')")
    page.wait_for_timeout(2000)
    page.reload()
    page.wait_for_function(
        "() => { const gd = document.querySelector('.js-plotly-plot');"
        " return gd && gd._fullData && gd._fullData.length === 7; }",
        timeout=120_000,
    )
    title, traces = page.evaluate(STATE_JS)
    n = dict(traces)
    plot = page.locator(PLOT).first
    plot.scroll_into_view_if_needed()
    SHOTS.mkdir(parents=True, exist_ok=True)
    plot.screenshot(path=str(SHOTS / "map_after_reload.png"))
    assert title == "changed after display"
    assert n["coreset's pick"] == 4 and n["current batch"] == 3 and n["labeled: a"] == 2
    assert n["pool items"] == 300
    colour = page.evaluate(
        "() => Array.from(document.querySelector('.js-plotly-plot')._fullData[0].marker.color"
        ".slice(0, 3))"
    )
    cd = page.evaluate(
        "() => Array.from(document.querySelector('.js-plotly-plot')._fullData[0].customdata"
        ".slice(0, 3))"
    )
    assert [round(c, 4) for c in colour] == [round(i / 399, 4) for i in cd]
