"""The widget on a pool held as a Dask array, in a real JupyterLab: label a batch by clicking,
submit, see the next batch; the map draws its seeded sample and the labeled items."""

import pytest

from jlab import SHOTS, open_notebook_and_run_all, write_notebook

pytest.importorskip("dask.array")

SETUP = """
import dask.array as da
import numpy as np
import alwidget

X = da.from_array(
    np.random.default_rng(0).standard_normal((20_000, 8)).astype("float32"), chunks=(5_000, 8)
)
w = alwidget.label(X, classes=["neg", "pos"], store="dask.sqlite", random_state=0,
                   max_points=2_000, background=False)
w
"""


def test_label_a_dask_pool_by_clicking(lab_server, page):
    base, token, root = lab_server
    write_notebook(root / "dask_pool.ipynb", SETUP)
    open_notebook_and_run_all(page, f"{base}/lab/tree/dask_pool.ipynb?token={token}", 180_000)
    cards = page.locator(".alw-card")
    cards.first.wait_for(timeout=60_000)
    assert cards.count() == 10
    first = page.locator(".alw-caption").all_inner_texts()
    plot = page.locator(".alw-root .js-plotly-plot").first
    page.wait_for_function(
        "() => { const gd = document.querySelector('.alw-root .js-plotly-plot');"
        " return gd && gd._fullData && gd._fullData[0].x && gd._fullData[0].x.length === 2000; }",
        timeout=60_000,
    )
    for i in range(10):
        cards.nth(i).locator(".alw-class").nth(i % 2).click()
    page.locator("button", has_text="Submit batch").click()
    page.locator(".alw-status", has_text="10 labeled").wait_for(timeout=60_000)
    page.wait_for_function(
        "(old) => { const c = [...document.querySelectorAll('.alw-caption')].map(e => e.innerText);"
        " return c.length === 10 && c[0] !== old[0]; }",
        arg=first,
        timeout=60_000,
    )
    page.wait_for_function(  # the labeled items drawn on top of the sample
        "() => { const gd = document.querySelector('.alw-root .js-plotly-plot');"
        " return gd._fullData.filter(t => t.name.startsWith('labeled'))"
        ".reduce((a, t) => a + (t.x ? t.x.length : 0), 0) === 10; }",
        timeout=30_000,
    )
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.locator(".alw-root").first.screenshot(path=str(SHOTS / "dask_pool_after_submit.png"))
    plot.scroll_into_view_if_needed()
    plot.screenshot(path=str(SHOTS / "dask_pool_map.png"))
