"""Markup in items and class names shows as typed on the map (hover labels, legend, overlay
hovers) in a real JupyterLab + Chromium: no link, no styled text, no plotly template field."""

from __future__ import annotations

from jlab import SHOTS, open_notebook_and_run_all, write_notebook

# hover labels show the first 60 characters of an item: one payload per item
HOSTILE = [
    '<a href="https://evil.test/l" id="alw-map-link">login</a>',
    '<span style="fill:red;color:red">RED</span>',
    "100%{x} %{customdata} %{text}",
    "$x^2$ <b>bold</b> <br> &amp;",
]
EVIL_CLASS = '<b>cat</b> %{customdata} <a href="https://evil.test/c">c</a>'

CODE = f"""
import numpy as np
import alwidget

items = [{HOSTILE!r}[i % 4] for i in range(60)]
X = np.random.default_rng(0).normal(size=(60, 3))
w = alwidget.label(X, items=items, classes=[{EVIL_CLASS!r}, "dog"], batch_size=5,
                   random_state=0, store=":memory:", renderer="text")
for i in w.session.query().tolist():
    w.choose(i, {EVIL_CLASS!r})
w.submit()
w
"""

PLOT = ".alw-root .js-plotly-plot"

POINT_XY = """([name, k]) => {
  const gd = document.querySelector('.alw-root .js-plotly-plot');
  const t = gd._fullData.findIndex(d => (d.name || '').startsWith(name));
  const d = gd._fullData[t], xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
  const box = gd.querySelector('.nsewdrag').getBoundingClientRect();
  return [box.left + xa.l2p(d.x[k]), box.top + ya.l2p(d.y[k])];
}"""


def _hover(page, name: str, k: int) -> str:
    page.mouse.move(5, 5)
    page.wait_for_timeout(200)
    x, y = page.evaluate(POINT_XY, [name, k])
    page.mouse.move(x, y, steps=3)
    label = page.locator(f"{PLOT} .hoverlayer .hovertext").first
    label.wait_for(timeout=10_000)
    return label.text_content() or ""


def test_markup_in_items_and_class_names_shows_as_typed_on_the_map(lab_server, page):
    base, token, root = lab_server
    write_notebook(root / "evil_map.ipynb", CODE)
    open_notebook_and_run_all(page, f"{base}/lab/tree/evil_map.ipynb?token={token}", 180_000)
    page.wait_for_function(
        f"() => {{ const gd = document.querySelector('{PLOT}');"
        " const t = gd && gd._fullData && gd._fullData.find(d => d.name && d.name.startsWith('labeled: '));"
        " return t && t.x && t.x.length === 5; }",
        timeout=120_000,
    )
    plot = page.locator(PLOT).first
    plot.scroll_into_view_if_needed()

    # legend: the class name, character for character; nothing parsed
    legend = [t for t in plot.locator(".legend .legendtext").all_text_contents()]
    assert f"labeled: {EVIL_CLASS}" in legend, legend
    assert plot.locator(".legend a").count() == 0
    assert plot.locator(".legend [style*='bold']").count() == 0

    # hover pool points: each item text as typed, no link, no red text, no substitution
    hover = plot.locator(".hoverlayer")
    SHOTS.mkdir(parents=True, exist_ok=True)
    for k, payload in enumerate(HOSTILE):
        text = _hover(page, "pool items", k)
        assert text == f"#{k}: {payload}", text
        assert hover.locator("a").count() == 0, "a link in the hover label"
        assert hover.locator("[style*='red']").count() == 0, "styled text in the hover label"
        assert hover.locator("[style*='bold']").count() == 0, "bold text in the hover label"
        plot.screenshot(path=str(SHOTS / f"map_security_hover_{k}.png"))

    # hover a labeled point: the class name in the overlay's template is not a template field
    text = _hover(page, "labeled: ", 0)  # (the trace's name is the escaped class name)
    assert f"labeled {EVIL_CLASS}" in text, text
    assert hover.locator("a").count() == 0
    plot.screenshot(path=str(SHOTS / "map_security_hover_labeled.png"))
    assert page.locator("#alw-map-link").count() == 0
    assert "evil.test" not in page.url
