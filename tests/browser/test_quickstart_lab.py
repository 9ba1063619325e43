"""The quickstart notebook in a real JupyterLab, driven by headless Chromium: label a batch by
clicking, submit, see the next batch and the map; then label by keyboard."""

import shutil
import time
from pathlib import Path

from jlab import SHOTS, open_notebook_and_run_all

QUICKSTART = Path(__file__).parents[2] / "notebooks" / "01_quickstart.ipynb"


def captions(page):
    return page.locator(".alw-caption").all_inner_texts()


def test_quickstart_label_by_mouse_and_keyboard(lab_server, page):
    base, token, root = lab_server
    shutil.copy(QUICKSTART, root / QUICKSTART.name)
    t0 = time.monotonic()
    open_notebook_and_run_all(page, f"{base}/lab/tree/{QUICKSTART.name}?token={token}", 180_000)
    cards = page.locator(".alw-card")
    cards.first.wait_for(timeout=60_000)
    assert cards.count() == 10
    status = page.locator(".alw-status").first
    assert "cold start" in status.inner_text()
    first_batch = captions(page)

    # the map is drawn: pool points (WebGL), colour bar, legend, title, axis titles
    plot = page.locator(".alw-root .js-plotly-plot").first
    plot.locator(".colorbar").first.wait_for(timeout=60_000)
    assert plot.locator(".legend").count() == 1
    assert "Embedding map" in plot.locator(".gtitle").first.text_content()
    assert plot.locator(".xtitle").first.text_content() == "PCA 1"
    page.wait_for_function(
        "() => { const gd = document.querySelector('.alw-root .js-plotly-plot');"
        " return gd && gd._fullData && gd._fullData[0].marker.color.length === 1797; }",
        timeout=60_000,
    )

    # label the batch by mouse: the first class button of each card ("0"), then Submit
    for i in range(10):
        cards.nth(i).locator(".widget-toggle-button").nth(i % 10).click()
    page.locator("button", has_text="Submit batch").click()
    page.locator(".alw-status", has_text="10 labeled").wait_for(timeout=60_000)
    page.wait_for_function(
        "(old) => { const c = [...document.querySelectorAll('.alw-caption')].map(e => e.innerText);"
        " return c.length === 10 && c[0] !== old[0]; }",
        arg=first_batch,
        timeout=60_000,
    )
    second = captions(page)
    assert not set(second) & set(first_batch)
    assert "score" in second[0], "after the first submit the model scores the batch"
    assert "model: trained on 10 labels" in status.inner_text()
    # the map recoloured: the batch overlay moved, the labeled overlays hold 10 points
    n_labeled = page.evaluate(
        "() => { const gd = document.querySelector('.alw-root .js-plotly-plot');"
        " return gd._fullData.filter(t => t.name.startsWith('labeled'))"
        ".reduce((a, t) => a + (t.x ? t.x.length : 0), 0); }"
    )
    assert n_labeled == 10
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.locator(".alw-root").first.screenshot(path=str(SHOTS / "quickstart_after_submit.png"))
    plot.scroll_into_view_if_needed()
    plot.screenshot(path=str(SHOTS / "quickstart_map.png"))

    # keyboard: click inside the widget (the status line), press 3, 5, Enter
    page.locator(".alw-status").first.click()
    page.keyboard.press("3")
    page.keyboard.press("5")
    page.keyboard.press("Enter")
    page.locator(".alw-status", has_text="12 labeled").wait_for(timeout=60_000)
    assert "round 2" in status.inner_text()
    # the keys did not reach the notebook: no cell turned into a heading by "3"
    n_md = page.evaluate(
        "() => window.jupyterapp.shell.currentWidget.content.widgets"
        ".filter(c => c.model.type === 'markdown').length"
    )
    assert n_md == 3, "number keys leaked to JupyterLab's command mode"
    page.screenshot(path=str(SHOTS / "quickstart_lab.png"), full_page=True)
    print(f"\nquickstart in JupyterLab: ok in {time.monotonic() - t0:.1f}s")
