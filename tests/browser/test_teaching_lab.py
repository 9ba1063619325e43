"""Notebook 03 in a real JupyterLab, driven by headless Chromium: press the oracle, see the
learning curve, diagnostics, stopping criteria, decision regions, replay and overlays drawn;
the far outliers marked and the outlier filter; core-set's covering radius shrinking."""

import re
import shutil
import time
from pathlib import Path

from playwright.sync_api import expect

from jlab import SHOTS, open_notebook_and_run_all

NB = Path(__file__).parents[2] / "notebooks" / "03_teaching_active_learning.ipynb"

CURVE_JS = """() => { const gd = document.querySelector('.alw-teach .js-plotly-plot');
  return gd && gd._fullData ? gd._fullData.map(t => [t.name, t.x ? t.x.length : 0]) : null; }"""
MAP_JS = """() => { const gd = document.querySelector('.alw-root .js-plotly-plot');
  return gd && gd._fullData ? gd._fullData.map(t => [t.name, t.x ? t.x.length : 0]) : null; }"""


def n_points(page, js, name):
    data = dict(page.evaluate(js) or [])
    return data.get(name, -1)


def test_teaching_lab_oracle_curve_diagnostics(lab_server, page):
    base, token, root = lab_server
    shutil.copy(NB, root / NB.name)
    page.set_viewport_size({"width": 1500, "height": 1100})  # a lecturer's screen
    t0 = time.monotonic()
    open_notebook_and_run_all(page, f"{base}/lab/tree/{NB.name}?token={token}", 240_000)
    panel = page.locator(".alw-teach").first
    panel.wait_for(timeout=60_000)
    status = page.locator(".alw-status").first
    # the notebook ran four oracle rounds from code
    page.locator(".alw-status", has_text="20 labeled").wait_for(timeout=60_000)

    oracle = page.locator("button", has_text="Oracle: label this batch")
    for n in (25, 30):
        oracle.click()
        page.locator(".alw-status", has_text=f"{n} labeled").wait_for(timeout=60_000)
    assert "round 6" in status.inner_text()
    # (a) entropy with the GP has been labeling the far outliers, marked on the map
    n_far = n_points(page, MAP_JS, "far outlier")
    assert n_far >= 25
    note = panel.locator(".widget-html", has_text="far outliers in the pool").first
    far_labeled = int(note.inner_text().split("far outliers in the pool (◉),")[1].split()[0])
    assert far_labeled >= 10, note.inner_text()

    # learning curve: 6 points, random baseline drawn, title/axes/legend present
    page.wait_for_function(
        "() => { const gd = document.querySelector('.alw-teach .js-plotly-plot');"
        " return gd && gd._fullData && gd._fullData[0].x && gd._fullData[0].x.length === 6; }",
        timeout=60_000,
    )
    assert n_points(page, CURVE_JS, "random baseline (simulated; band ±1 sd): accuracy") > 5
    curve = panel.locator(".js-plotly-plot").first
    assert "Learning curve on the held-out set" in curve.locator(".gtitle").first.text_content()
    assert curve.locator(".xtitle").first.text_content() == "number of labels"
    assert curve.locator(".ytitle").first.text_content() == "score on held-out set"
    assert curve.locator(".legend").count() == 1

    # diagnostics and stopping criteria
    rows = panel.locator(".alw-diag tbody tr")
    assert rows.count() == 6
    head = panel.locator(".alw-diag thead").inner_text()
    assert "far outliers" in head and "sparsest 10 %" in head
    assert "budget: 30 of 60 labels used" in panel.locator(".alw-stop").inner_text()

    # the map: decision regions drawn, labeled overlays hold 30 points
    plot = page.locator(".alw-root .js-plotly-plot").first
    page.wait_for_function(
        "() => { const gd = document.querySelector('.alw-root .js-plotly-plot');"
        " const c = gd && gd._fullData && gd._fullData.find(t => t.type === 'contour');"
        " return c && c.z && c.z.length === 80; }",
        timeout=60_000,
    )
    labeled = sum(v for k, v in page.evaluate(MAP_JS) if k.startswith("labeled"))
    assert labeled == 30

    SHOTS.mkdir(parents=True, exist_ok=True)
    plot.scroll_into_view_if_needed()
    plot.screenshot(path=str(SHOTS / "teaching_map_boundary.png"))
    curve.scroll_into_view_if_needed()
    curve.screenshot(path=str(SHOTS / "teaching_learning_curve.png"))
    panel.locator(".alw-diag").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "teaching_diagnostics.png"))

    # what other strategies would pick now
    page.locator("button", has_text="Show what other strategies would pick").click()
    page.wait_for_function(
        "() => { const gd = document.querySelector('.alw-root .js-plotly-plot');"
        ' const t = gd._fullData.find(t => t.name === "random\'s pick");'
        " return t && t.x && t.x.length === 5; }",
        timeout=60_000,
    )
    plot.scroll_into_view_if_needed()
    plot.screenshot(path=str(SHOTS / "teaching_map_other_strategies.png"))

    # click one of those points: its item's card opens (a click on this overlay raised
    # IndexError in the kernel before the map owned its overlays)
    xy, idx = page.evaluate(
        """() => { const gd = document.querySelector('.alw-root .js-plotly-plot');
        const d = gd._fullData.find(t => t.name === "random's pick");
        const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
        const box = gd.querySelector('.nsewdrag').getBoundingClientRect();
        return [[box.left + xa.l2p(d.x[0]), box.top + ya.l2p(d.y[0])], d.customdata[0]]; }"""
    )
    page.mouse.move(*xy, steps=3)
    page.wait_for_timeout(300)  # plotly clicks the point it last hovered
    page.mouse.click(*xy)
    card = page.locator(".alw-map-card")
    card.wait_for(timeout=30_000)
    assert f"#{idx} from the map" in card.inner_text()

    # replay: move the slider one step with the keyboard
    handle = panel.locator(".alw-replay .noUi-handle").first
    handle.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "() => { const gd = document.querySelector('.alw-root .js-plotly-plot');"
        " return gd.layout.title.text.startsWith('Replay of round 1'); }",
        timeout=60_000,
    )
    assert n_points(page, MAP_JS, "picked (replay)") == 5
    plot.scroll_into_view_if_needed()
    plot.screenshot(path=str(SHOTS / "teaching_map_replay.png"))

    # the static side-by-side comparison rendered below
    side = page.locator(".js-plotly-plot", has_text="What each strategy picked").first
    side.scroll_into_view_if_needed()
    side.wait_for(timeout=60_000)
    side.screenshot(path=str(SHOTS / "teaching_side_by_side.png"))
    page.screenshot(path=str(SHOTS / "teaching_lab.png"), full_page=True)
    # reload the page: the map comes back from the kernel as it is now (overlays, replay)
    page.evaluate("window.jupyterapp.commands.execute('docmanager:save')")
    page.wait_for_timeout(1500)
    page.reload()
    page.wait_for_function(
        "() => { const gd = document.querySelector('.alw-root .js-plotly-plot');"
        " return gd && gd._fullData && gd.layout.title.text.startsWith('Replay of round 1'); }",
        timeout=120_000,
    )
    assert n_points(page, MAP_JS, "picked (replay)") == 5
    assert n_points(page, MAP_JS, "random's pick") == 5
    # a replay is a snapshot: round 1 was picked before anything was labeled (30 are now)
    assert sum(v for k, v in page.evaluate(MAP_JS) if k.startswith("labeled")) == 0
    page.wait_for_function(
        "() => { const gd = document.querySelector('.alw-teach .js-plotly-plot');"
        " return gd && gd._fullData && gd._fullData[0].x && gd._fullData[0].x.length === 6; }",
        timeout=60_000,
    )
    plot = page.locator(".alw-root .js-plotly-plot").first
    plot.scroll_into_view_if_needed()
    plot.screenshot(path=str(SHOTS / "teaching_map_after_reload.png"))

    # back to live, then the outlier filter: the next batches stay out of the far outliers
    handle = panel.locator(".alw-replay .noUi-handle").first
    handle.focus()
    page.keyboard.press("Home")
    page.locator("button", has_text="Outlier filter").click()
    status.filter(has_text="outlier_filter(entropy)").wait_for(timeout=60_000)
    page.locator("button", has_text="Oracle: label this batch").click()
    page.locator(".alw-status", has_text="35 labeled").wait_for(timeout=60_000)
    # the diagnostics row of this round is written when its model lands: wait for it
    cells = panel.locator(".alw-diag tbody tr").first.locator("td")
    expect(cells.nth(2)).to_have_text("outlier_filter(entropy)", timeout=60_000)
    expect(cells.nth(6)).to_have_text(re.compile(r"^0 / "), timeout=10_000)  # none
    plot.scroll_into_view_if_needed()
    plot.screenshot(path=str(SHOTS / "teaching_outlier_filter.png"))

    # (b) core-set: the map shows the distance to the nearest label and the covering radius
    box = page.locator(".widget-dropdown", has=page.locator("label", has_text="Strategy")).first
    box.locator("select").select_option(label="coreset")
    radii = []
    for n in (40, 45):
        page.locator("button", has_text="Oracle: label this batch").click()
        page.locator(".alw-status", has_text=f"{n} labeled").wait_for(timeout=60_000)
        page.wait_for_function(
            "() => { const gd = document.querySelector('.alw-root .js-plotly-plot');"
            " const t = gd._fullData[0].marker.colorbar.title.text;"
            " return t.startsWith('distance to the nearest label'); }",
            timeout=60_000,
        )
        title = page.evaluate(
            "() => document.querySelector('.alw-root .js-plotly-plot')"
            "._fullData[0].marker.colorbar.title.text"
        )
        radii.append(float(title.split("r = ")[1].split()[0].rstrip(",)")))
    assert radii[1] <= radii[0], radii
    plot.screenshot(path=str(SHOTS / "teaching_coreset_radius.png"))
    print(f"\ncovering radius {radii}; far outliers labeled {far_labeled} of {n_far}")
    print(f"\nteaching lab in JupyterLab: ok in {time.monotonic() - t0:.1f}s")
