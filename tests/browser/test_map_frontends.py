"""Label by clicks, lasso a cluster on the map and label it in one go, click a stray point and
label it: in JupyterLab, Jupyter Notebook 7 and Voila, in headless Chromium."""

import pytest

from jlab import SHOTS, open_notebook_and_run_all, stray_point_xy, write_notebook

CELL = """\
import numpy as np
from sklearn.datasets import load_digits
import alwidget
d = load_digits()
w = alwidget.label(d.data, items=d.images, classes=[str(c) for c in range(10)],
                   random_state=0, store=":memory:")
w
"""

PLOT = ".alw-root .js-plotly-plot"


def _write(root):
    write_notebook(root / "map.ipynb", CELL)


def _status_has(page, text):
    page.locator(".alw-status", has_text=text).wait_for(timeout=60_000)


def _lasso(page, fx, fy, fr):
    """Lasso a square around (fx, fy) (fractions of the plot area); return the counts the
    selection bar shows: (selected, unlabeled)."""
    plot = page.locator(PLOT).first
    plot.scroll_into_view_if_needed()
    area = plot.locator(".nsewdrag").first.bounding_box()
    cx, cy = area["x"] + area["width"] * fx, area["y"] + area["height"] * fy
    r = min(area["width"], area["height"]) * fr
    page.mouse.move(cx - r, cy - r)
    page.mouse.down()
    for px, py in [(cx + r, cy - r), (cx + r, cy + r), (cx - r, cy + r), (cx - r, cy - r + 1)]:
        page.mouse.move(px, py, steps=8)
    page.mouse.up()
    info = page.locator(".alw-selection-info", has_text="selected on the map")
    info.wait_for(timeout=30_000)
    text = info.inner_text()  # "<n> selected on the map: <k> unlabeled, <m> labeled (...)"
    return int(text.split()[0]), int(text.split(": ")[1].split()[0])


def _flows(page, name):
    cards = page.locator(".alw-card")
    cards.first.wait_for(timeout=120_000)
    page.wait_for_function(
        f"() => {{ const gd = document.querySelector('{PLOT}');"
        " return gd && gd._fullData && gd._fullData[0]._length === 1797; }",
        timeout=60_000,
    )
    # 1) label the batch by clicks and submit
    for i in range(10):
        cards.nth(i).locator(".alw-class").nth(i % 10).click()
    page.locator("button", has_text="Submit batch").click()
    _status_has(page, "10 labeled")

    # 2) lasso a region of the map, label the selection in one go (with confirmation): the
    #    unlabeled items only (the box to relabel labeled ones is off)
    n_sel, n_new = _lasso(page, 0.5, 0.5, 0.12)
    assert n_sel > 0
    page.locator("button", has_text=f"Label {n_new} selected").click()
    page.locator("button", has_text=f"Yes, label {n_new}").click()
    _status_has(page, f"{10 + n_new} labeled")
    plot = page.locator(PLOT).first

    # 3) click a stray unlabeled pool point (WebGL trace): its card appears; label it
    before = page.locator(".alw-status").first.inner_text()
    xy = stray_point_xy(page, PLOT)
    page.mouse.click(xy[0], xy[1])
    map_card = page.locator(".alw-map-card")
    try:
        map_card.wait_for(timeout=5_000)
    except Exception:  # a click on a plot that still shows a selection first clears it
        page.mouse.click(xy[0], xy[1])
        map_card.wait_for(timeout=30_000)
    assert "from the map" in map_card.inner_text()
    box = map_card.bounding_box()
    pbox = plot.bounding_box()
    assert pbox["y"] <= box["y"] < pbox["y"] + pbox["height"] - box["height"] / 2, (
        "the clicked point's card opens next to the point, on the map"
    )
    page.locator(".alw-maprow").first.screenshot(path=str(SHOTS / f"map_point_card_{name}.png"))
    map_card.locator(".alw-class").nth(7).click()
    page.wait_for_function(
        "(old) => { const s = document.querySelector('.alw-status'); return s && s.innerText !== old; }",
        arg=before,
        timeout=60_000,
    )
    page.locator(".alw-map-card").wait_for(state="detached", timeout=30_000)
    SHOTS.mkdir(parents=True, exist_ok=True)
    plot.screenshot(path=str(SHOTS / f"map_{name}.png"))


def test_map_flows_jupyterlab(lab_server, page):
    base, token, root = lab_server
    _write(root)
    open_notebook_and_run_all(page, f"{base}/lab/tree/map.ipynb?token={token}", 180_000)
    _flows(page, "lab")
    _label_these_next(page)


def _captions(page):
    return page.locator(".alw-root .alw-card:not(.alw-map-card) .alw-caption").all_inner_texts()


def _label_these_next(page):
    """Lasso an unlabeled region, "Label these K next": all K are served, batch after batch."""
    page.locator(".alw-status").first.click()  # clears nothing; focus back in the widget
    before = int(page.locator(".alw-status").first.inner_text().split()[0])
    for fx, fy, fr in [
        (0.3, 0.3, 0.06),
        (0.7, 0.3, 0.06),
        (0.3, 0.7, 0.06),
        (0.7, 0.7, 0.06),
        (0.5, 0.8, 0.08),
        (0.2, 0.5, 0.08),
    ]:
        n_sel, n_new = _lasso(page, fx, fy, fr)
        if 10 < n_new <= 60:
            break
    assert 10 < n_new <= 60, f"no lasso found 11-60 unlabeled points (last: {n_new})"
    page.locator("button", has_text=f"Label these {n_new} next").click()
    _status_has(page, f"{n_new - 10} queued")
    served: list[str] = []
    while len(served) < n_new:
        page.wait_for_function(
            "(n) => { const c = [...document.querySelectorAll('.alw-root .alw-card:not(.alw-map-card)"
            " .alw-caption')].map(e => e.innerText.split(' ')[0]);"
            " return c.length > 0 && !c.some(x => window.__alwServed && window.__alwServed.has(x)); }",
            arg=None,
            timeout=60_000,
        )
        caps = _captions(page)
        assert all("score" not in c for c in caps), "queued items, not strategy picks"
        ids = [c.split()[0] for c in caps]
        served += ids
        page.evaluate(
            "(ids) => { window.__alwServed = new Set([...(window.__alwServed || []), ...ids]); }",
            ids,
        )
        cards = page.locator(".alw-root .alw-card:not(.alw-map-card)")
        for i in range(cards.count()):
            cards.nth(i).locator(".alw-class").nth(2).click()
        page.locator("button", has_text="Submit batch").click()
        _status_has(page, f"{before + len(served)} labeled")
    assert len(served) == n_new == len(set(served)), "every queued item served once"
    assert "queued" not in page.locator(".alw-status").first.inner_text()
    page.locator(".alw-root").first.screenshot(path=str(SHOTS / "map_label_these_next_done.png"))


def test_map_flows_notebook7(notebook_server, page):
    base, token, root = notebook_server
    _write(root)
    page.goto(f"{base}/notebooks/map.ipynb?token={token}")
    # Notebook 7 does not expose window.jupyterapp: wait for the kernel's idle indicator,
    # then run the cell as a user would
    page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for(timeout=120_000)
    page.wait_for_timeout(1000)
    page.locator(".jp-Cell .jp-InputArea-editor").first.click()
    page.keyboard.press("Shift+Enter")
    _flows(page, "notebook7")
    # keyboard in Notebook 7: keys inside the widget label, and do not reach the notebook
    page.locator(".alw-status").first.click()
    before = page.locator(".alw-status").first.inner_text()
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    page.wait_for_function(
        "(old) => document.querySelector('.alw-status').innerText !== old",
        arg=before,
        timeout=60_000,
    )
    assert page.locator(".jp-MarkdownCell").count() == 0, (
        "a number key reached the notebook's command mode"
    )


def test_map_flows_voila(voila_server, page):
    pytest.importorskip("voila")
    base, token, root = voila_server
    _write(root)
    page.goto(f"{base}/voila/render/map.ipynb?token={token}")
    _flows(page, "voila")
    page.screenshot(path=str(SHOTS / "voila_page.png"), full_page=True)
