"""Map clicks and lassos reach Python while the kernel is busy (JupyterLab + Chromium).

Also the experiment behind the map's event channel (see ``alwidget.widget.events``): the same
clicks and lassos are watched by plotly's own FigureWidget callbacks (``trace.on_click`` /
``on_selection``), and what they received is printed beside what the map received.
"""

from __future__ import annotations

import json

from jlab import SHOTS, open_notebook_and_run_all, write_notebook

CODE = """
import time
import numpy as np
import alwidget

X = np.random.default_rng(0).normal(size=(300, 3))
w = alwidget.label(X, classes=["a", "b"], batch_size=5, random_state=0, store=":memory:")
ours, plotlys = [], []
w.map.on_point(lambda i: ours.append(["click", int(i), round(time.time() % 100, 2)]))
w.map.on_select(lambda s: ours.append(["select", len(s), round(time.time() % 100, 2)]))
def _click(trace, points, state):
    if points.point_inds:
        plotlys.append(["click", len(points.point_inds), round(time.time() % 100, 2)])
def _select(trace, points, selector):
    if points.point_inds:
        plotlys.append(["select", len(points.point_inds), round(time.time() % 100, 2)])
for _tr in w.map.fig.data:
    _tr.on_click(_click)
    _tr.on_selection(_select)
w
"""

PLOT = ".alw-root .js-plotly-plot"
POINT_XY = """(k) => {
  const gd = document.querySelector('.alw-root .js-plotly-plot');
  const d = gd._fullData[0], xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
  const box = gd.querySelector('.nsewdrag').getBoundingClientRect();
  return [box.left + xa.l2p(d.x[k]), box.top + ya.l2p(d.y[k])];
}"""
KERNEL = "window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"
RUN = """async (code) => {
  const k = KERNEL; let out = '';
  const f = k.requestExecute({ code });
  f.onIOPub = (m) => { if (m.header.msg_type === 'stream') out += m.content.text; };
  await f.done; return out;
}""".replace("KERNEL", KERNEL)
BUSY = (
    "(s) => { KERNEL.requestExecute({ code: `import time; busy = [time.time() % 100]; "
    "time.sleep(${s}); busy.append(time.time() % 100)` }); }"
).replace("KERNEL", KERNEL)


def _counts(page) -> tuple[list, list]:
    out = page.evaluate(RUN, "import json; print(json.dumps([ours, plotlys]))")
    ours, plotlys = json.loads(out)
    return ours, plotlys


def _click_points(page, ks):
    for k in ks:
        x, y = page.evaluate(POINT_XY, k)
        page.mouse.move(x, y, steps=2)
        page.wait_for_timeout(150)
        page.mouse.click(x, y)
        page.wait_for_timeout(150)
        page.mouse.move(x + 40, y + 40, steps=2)  # hover elsewhere / unhover
        page.wait_for_timeout(100)


def _lasso_then_hover(page, plot):
    area = plot.locator(".nsewdrag").first.bounding_box()
    cx, cy = area["x"] + area["width"] * 0.5, area["y"] + area["height"] * 0.5
    r = min(area["width"], area["height"]) * 0.2
    page.mouse.move(cx - r, cy - r)
    page.mouse.down()
    for px, py in [(cx + r, cy - r), (cx + r, cy + r), (cx - r, cy + r), (cx - r, cy - r + 1)]:
        page.mouse.move(px, py, steps=6)
    page.mouse.up()
    for k in range(3):  # the pointer goes on over points, as a user's does
        x, y = page.evaluate(POINT_XY, 10 + k)
        page.mouse.move(x, y, steps=2)
        page.wait_for_timeout(80)


def test_map_events_arrive_while_the_kernel_is_busy(lab_server, page):
    base, token, root = lab_server
    write_notebook(root / "events.ipynb", CODE)
    open_notebook_and_run_all(page, f"{base}/lab/tree/events.ipynb?token={token}", 180_000)
    page.wait_for_function(
        f"() => {{ const gd = document.querySelector('{PLOT}');"
        " return gd && gd._fullData && gd._fullData[0]._length === 300; }",
        timeout=120_000,
    )
    plot = page.locator(PLOT).first
    plot.scroll_into_view_if_needed()
    page.wait_for_timeout(500)

    # 1) idle kernel: 4 clicks, then a lasso with the pointer moving on over points
    _click_points(page, [0, 1, 2, 3])
    _lasso_then_hover(page, plot)
    page.wait_for_timeout(2000)
    ours, plotlys = _counts(page)
    idle = (ours, plotlys)
    assert [e[0] for e in ours].count("click") >= 4, ours
    assert "select" in [e[0] for e in ours], ours

    # 2) busy kernel (as while a model retrains): the same gestures during a 6 s cell
    page.evaluate(RUN, "w.map.clear_selection()")  # as the widget does after using a selection
    page.wait_for_timeout(1000)
    page.evaluate(RUN, "ours.clear(); plotlys.clear()")
    page.evaluate("""() => { const gd = document.querySelector('.alw-root .js-plotly-plot');
      window.__ev = []; for (const k of ['plotly_click', 'plotly_selected', 'plotly_deselect'])
        gd.on(k, (e) => window.__ev.push(k + ':' + ((e && e.points) ? e.points.length : -1))); }""")
    page.evaluate(BUSY, 6)
    page.wait_for_timeout(300)
    _click_points(page, [4, 5, 6, 7])
    _lasso_then_hover(page, plot)
    page.wait_for_timeout(8000)
    ours, plotlys = _counts(page)
    SHOTS.mkdir(parents=True, exist_ok=True)
    plot.screenshot(path=str(SHOTS / "map_events_busy.png"))
    print(f"\nidle kernel: map channel {idle[0]}\n             plotly callbacks {idle[1]}")
    print("events plotly.js emitted:", page.evaluate("() => window.__ev"))
    print("kernel busy from / to (s):", page.evaluate(RUN, "print(busy)").strip())
    print(f"busy kernel: map channel {ours}\n             plotly callbacks {plotlys}")
    # every click and the lasso arrive, in order, once the kernel is free again
    assert [e[1] for e in ours if e[0] == "click"] == [
        int(v)
        for v in page.evaluate(
            "() => { const d = document.querySelector('.alw-root .js-plotly-plot')._fullData[0];"
            " return [4, 5, 6, 7].map(k => d.customdata[k]); }"
        )
    ], ours
    assert ours[-1][0] == "select" and ours[-1][1] > 0, ours
