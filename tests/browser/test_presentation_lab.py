"""The teaching lab's presentation layout in a real JupyterLab at 1500x1100 (issue 13): the
controls and the learning curve beside the map, 16 px text, titles clear of plotly's toolbar,
each card saying why it was picked, and the export run from the notebook."""

from jlab import SHOTS, open_notebook_and_run_all, write_notebook

CELL = """
from sklearn.gaussian_process import GaussianProcessClassifier
from sklearn.gaussian_process.kernels import RBF
import alwidget.teaching as teaching
X, y, _ = teaching.outlier_toy(random_state=0)
gp = GaussianProcessClassifier(1.0 * RBF(2.0), optimizer=None)
lab = teaching.teach(X, y, classes=["a", "b", "c"], strategy="entropy", estimator=gp,
                     batch_size=5, budget=60, random_state=0, presentation=True)
for _ in range(3):
    lab.panel.oracle_step()
lab
"""
EXPORT = """
png, page = lab.export_figure("export/view")
strip = lab.export_replay_strip("export/strip.png")
print("exported", png.stat().st_size > 50_000, page.stat().st_size > 100_000, strip.exists())
"""

BOX = """(sel) => { const e = document.querySelector(sel); if (!e) return null;
  const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; }"""
FONT = """(sel) => Array.from(document.querySelectorAll(sel)).map(
  e => parseFloat(getComputedStyle(e).fontSize))"""


def test_presentation_layout_side_by_side_large_text_and_export(lab_server, page):
    base, token, root = lab_server
    write_notebook(root / "present.ipynb", CELL, EXPORT)
    page.set_viewport_size({"width": 1500, "height": 1100})
    open_notebook_and_run_all(page, f"{base}/lab/tree/present.ipynb?token={token}", 240_000)
    # what a lecturer does first: hide the file browser (Ctrl+B)
    page.evaluate("window.jupyterapp.commands.execute('application:toggle-left-area')")
    page.wait_for_timeout(500)
    page.locator(".alw-present .alw-teach").first.wait_for(timeout=60_000)
    page.locator(".alw-status", has_text="15 labeled").wait_for(timeout=60_000)
    page.wait_for_function(
        "() => { const gd = document.querySelector('.alw-teach .js-plotly-plot');"
        " return gd && gd._fullData && gd._fullData[0].x && gd._fullData[0].x.length === 3; }",
        timeout=60_000,
    )
    # side by side: the curve starts right of the map, at the same height
    mp = page.evaluate(BOX, ".alw-present .alw-root .js-plotly-plot")
    cv = page.evaluate(BOX, ".alw-present .alw-teach .js-plotly-plot")
    assert cv[0] >= mp[2] - 2, (mp, cv)
    col = page.evaluate(BOX, ".alw-present .alw-teach")
    assert cv[2] <= col[2] + 1, (cv, col)  # the curve fits its column (not cut off)
    page.wait_for_function(  # and its drawing fits too, after the file browser was hidden
        "() => { const gd = document.querySelector('.alw-present .alw-teach .js-plotly-plot');"
        " const col = document.querySelector('.alw-present .alw-teach');"
        " return gd._fullLayout.width <= col.getBoundingClientRect().width + 1; }",
        timeout=10_000,
    )
    assert cv[1] < mp[3] and mp[2] - mp[0] > 750, (mp, cv)
    cards = page.evaluate(BOX, ".alw-present .alw-card:not(.alw-map-card)")
    assert cards[1] >= mp[3] - 2, (mp, cards)  # the cards below the map
    # 16 px text or more: cards, status, why-lines, diagnostics, controls
    for sel in (
        ".alw-present .alw-status",
        ".alw-present .alw-caption",
        ".alw-present .alw-why",
        ".alw-present .alw-diag td",
        ".alw-present .alw-class",
        ".alw-present .widget-button",
    ):
        sizes = page.evaluate(FONT, sel)
        assert sizes and min(sizes) >= 16, (sel, sizes)
    ticks = page.evaluate(FONT, ".alw-present .alw-root .js-plotly-plot .xtick text")
    assert ticks and min(ticks) >= 16, ticks
    # titles clear of the toolbar
    for plot in (".alw-root", ".alw-teach"):
        title = page.evaluate(BOX, f".alw-present {plot} .js-plotly-plot .gtitle")
        bar = page.evaluate(BOX, f".alw-present {plot} .js-plotly-plot .modebar")
        if bar is not None:
            assert title[1] >= bar[3] - 1 or title[2] <= bar[0], (plot, title, bar)
    # each card says why it was picked; the details are on hover
    whys = page.locator(".alw-present .alw-cards .alw-why")
    assert whys.count() == 5 and whys.first.inner_text().startswith("p ")
    details = whys.first.get_attribute("title")
    assert "rank 1 of 5" in details and "rank under coreset: –" in details, details
    # the export ran in the kernel
    out = page.locator(".jp-OutputArea-output", has_text="exported").first
    assert out.inner_text().strip() == "exported True True True"
    assert (root / "export" / "view.png").exists()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.locator(".alw-present").first.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "presentation_lab_1500x1100.png"))
    import shutil

    shutil.copy(root / "export" / "view.png", SHOTS / "export_view.png")
    shutil.copy(root / "export" / "strip.png", SHOTS / "export_replay_strip.png")
