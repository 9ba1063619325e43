"""The quickstart notebook in a real JupyterLab, driven by headless Chromium: label a batch by
clicking, submit, see the next batch and the map; label by keyboard; Skip and Unsure leave the
cards in place; reload the page and see the same state."""

import shutil
import time
from pathlib import Path

from jlab import READY_JS, SHOTS, open_notebook_and_run_all

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
        cards.nth(i).locator(".alw-class").nth(i % 10).click()
    assert page.locator(".alw-card.alw-chosen").count() == 10
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
    page.wait_for_function(
        "() => document.querySelectorAll('.alw-card').length === 10"
        " && !document.querySelector('.alw-card.alw-chosen')",
        timeout=60_000,
    )

    # Skip and Unsure leave the cards in place, dimmed; keys label the highlighted card
    third = captions(page)
    cards.nth(0).locator(".alw-skip").click()
    cards.nth(2).locator(".alw-unsure-btn").click()
    page.locator(".alw-card.alw-unsure").wait_for(timeout=30_000)
    page.locator(".alw-card.alw-skipped").wait_for(timeout=30_000)
    assert captions(page) == third, "same cards, same order"
    assert "skipped" in cards.nth(0).inner_text().lower()
    cards.nth(1).click()  # the highlight moves to the clicked card
    page.keyboard.press("4")  # labels card 2, the highlight moves on (to the dimmed card 3)
    page.keyboard.press("ArrowRight")
    page.keyboard.press("6")
    page.wait_for_function(
        "() => document.querySelectorAll('.alw-card.alw-chosen').length === 2", timeout=30_000
    )
    assert cards.nth(1).locator(".alw-class.alw-on").inner_text() == "4"
    assert cards.nth(3).locator(".alw-class.alw-on").inner_text() == "6"
    page.locator(".alw-root").first.screenshot(path=str(SHOTS / "quickstart_skip_unsure.png"))

    # save and reload the page: the same batch, the same marks (from the kernel's widget state)
    page.evaluate("window.jupyterapp.commands.execute('docmanager:save')")
    page.wait_for_function(
        "() => !window.jupyterapp.shell.currentWidget.context.model.dirty", timeout=30_000
    )
    page.reload()
    page.wait_for_function(READY_JS, timeout=120_000)
    cards = page.locator(".alw-card")
    cards.first.wait_for(timeout=60_000)
    page.wait_for_function(
        "() => document.querySelectorAll('.alw-card.alw-chosen').length === 2", timeout=60_000
    )
    assert captions(page) == third
    assert page.locator(".alw-card.alw-skipped").count() == 1
    assert page.locator(".alw-card.alw-unsure").count() == 1
    assert cards.nth(3).locator(".alw-class.alw-on").inner_text() == "6"
    page.wait_for_function(
        "() => { const gd = document.querySelector('.alw-root .js-plotly-plot');"
        " return gd && gd._fullData && gd._fullData[0]._length === 1797; }",
        timeout=60_000,
    )
    cards.nth(4).locator(".alw-class").nth(1).click()
    page.locator("button", has_text="Submit batch").click()
    page.locator(".alw-status", has_text="15 labeled").wait_for(timeout=60_000)
    # the keys did not reach the notebook: no cell turned into a heading by "3"
    n_md = page.evaluate(
        "() => window.jupyterapp.shell.currentWidget.content.widgets"
        ".filter(c => c.model.type === 'markdown').length"
    )
    assert n_md == 3, "number keys leaked to JupyterLab's command mode"
    page.screenshot(path=str(SHOTS / "quickstart_lab.png"), full_page=True)
    assert not page.locator(".alw-error").first.inner_text()
    print(f"\nquickstart in JupyterLab: ok in {time.monotonic() - t0:.1f}s")
