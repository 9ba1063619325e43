"""Label by clicks, lasso a cluster on the map and label it in one go, click a stray point and
label it: in JupyterLab, Jupyter Notebook 7 and Voila, in headless Chromium."""

import nbformat
import pytest

from jlab import SHOTS, open_notebook_and_run_all

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
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(CELL)]
    nbformat.write(nb, root / "map.ipynb")


def _status_has(page, text):
    page.locator(".alw-status", has_text=text).wait_for(timeout=60_000)


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
        cards.nth(i).locator(".widget-toggle-button").nth(i % 10).click()
    page.locator("button", has_text="Submit batch").click()
    _status_has(page, "10 labeled")

    # 2) lasso a region of the map, label the selection in one go (with confirmation)
    plot = page.locator(PLOT).first
    plot.scroll_into_view_if_needed()
    area = plot.locator(".nsewdrag").first.bounding_box()
    cx, cy = area["x"] + area["width"] * 0.5, area["y"] + area["height"] * 0.5
    r = min(area["width"], area["height"]) * 0.12
    page.mouse.move(cx - r, cy - r)
    page.mouse.down()
    for px, py in [(cx + r, cy - r), (cx + r, cy + r), (cx - r, cy + r), (cx - r, cy - r + 1)]:
        page.mouse.move(px, py, steps=8)
    page.mouse.up()
    info = page.locator(".widget-html", has_text="selected on the map")
    info.wait_for(timeout=30_000)
    text = info.inner_text()  # "<n> selected on the map (<k> unlabeled): ..."
    n_sel, n_new = int(text.split()[0]), int(text.split("(")[1].split()[0])
    assert n_sel > 0
    page.locator("button", has_text=f"Label {n_sel} selected").click()
    page.locator("button", has_text=f"Yes, label {n_sel}").click()
    _status_has(page, f"{10 + n_new} labeled")

    # 3) click a stray unlabeled pool point (WebGL trace): its card appears; label it
    before = page.locator(".alw-status").first.inner_text()
    xy = page.evaluate(
        f"""() => {{
        const gd = document.querySelector('{PLOT}');
        const d = gd._fullData[0], xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
        // the point farthest from the centre: a stray one
        let best = 0, bd = -1;
        for (let i = 0; i < d._length; i++) {{
          const dx = d.x[i] - (xa.range[0] + xa.range[1]) / 2, dy = d.y[i] - (ya.range[0] + ya.range[1]) / 2;
          const v = dx * dx / (xa.range[1] - xa.range[0]) ** 2 + dy * dy / (ya.range[1] - ya.range[0]) ** 2;
          if (v > bd && v < 0.2) {{ bd = v; best = i; }}
        }}
        const box = gd.querySelector('.nsewdrag').getBoundingClientRect();
        return [box.left + xa.l2p(d.x[best]), box.top + ya.l2p(d.y[best])];
      }}"""
    )
    page.mouse.click(xy[0], xy[1])
    map_card = page.locator(".alw-map-card")
    try:
        map_card.wait_for(timeout=5_000)
    except Exception:  # a click on a plot that still shows a selection first clears it
        page.mouse.click(xy[0], xy[1])
        map_card.wait_for(timeout=30_000)
    assert "from the map" in map_card.inner_text()
    map_card.locator(".widget-toggle-button").nth(7).click()
    page.wait_for_function(
        "(old) => { const s = document.querySelector('.alw-status'); return s && s.innerText !== old; }",
        arg=before,
        timeout=60_000,
    )
    assert page.locator(".alw-map-card").count() == 0
    SHOTS.mkdir(parents=True, exist_ok=True)
    plot.screenshot(path=str(SHOTS / f"map_{name}.png"))


def test_map_flows_jupyterlab(lab_server, page):
    base, token, root = lab_server
    _write(root)
    open_notebook_and_run_all(page, f"{base}/lab/tree/map.ipynb?token={token}", 180_000)
    _flows(page, "lab")


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
        "(old) => document.querySelector('.alw-status').innerText !== old", arg=before,
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
