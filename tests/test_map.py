"""The map without a browser: overlays map back to pool items, colours stay on their items
above the display cap, a late front end gets the current figure, user strings are escaped."""

from __future__ import annotations

import json

import numpy as np
import plotly.io as pio
import pytest
from ipywidgets.widgets.widget import _remove_buffers

from alwidget.widget.map import MapView, escape_plotly


@pytest.fixture
def big() -> MapView:
    """More items than the display cap: the pool trace shows a sample."""
    xy = np.random.default_rng(0).normal(size=(500, 2))
    return MapView(xy, ["a", "b"], max_points=120, hover_text=[f"item {i}" for i in range(500)])


def late_frontend_state(fig) -> dict:
    """What a front end that connects now (page reload, Voila) builds its plot from: the state
    ipywidgets sends for ``request_state``, with binary buffers turned back into arrays."""
    state, paths, buffers = _remove_buffers(fig.get_state())
    for path, buf in zip(paths, buffers, strict=True):  # path ends in ..., key, "buffer"
        parent = state
        for key in path[:-2]:
            parent = parent[key]
        parent[path[-2]] = np.frombuffer(buf, dtype=parent[path[-2]]["dtype"])
    return state


def test_overlay_points_map_back_to_pool_items_including_hidden_ones(big):
    m = big
    hidden = int(np.setdiff1d(np.arange(500), m.shown)[0])
    picks = m.add_overlay("entropy's pick", symbol="x", size=11, color="#2ca02c")
    m.set_overlay(picks, [hidden, 7, 499])
    tr = m.fig.data[picks.trace]
    np.testing.assert_allclose(tr.x, m.xy[[hidden, 7, 499], 0])
    assert tr.customdata.tolist() == [hidden, 7, 499]
    clicked, selected = [], []
    m.on_point(clicked.append)
    m.on_select(selected.append)
    m.handle_event("click", [picks.trace], [0])
    assert clicked == [hidden]
    # a lasso over the pool trace and the overlay: one sorted set of pool indices
    m.handle_event("selected", [0, 0, picks.trace, picks.trace], [0, 1, 1, 2])
    assert selected[-1].tolist() == sorted({int(m.shown[0]), int(m.shown[1]), 7, 499})


def test_events_on_layers_without_pool_items_give_nothing_and_never_raise(big):
    m = big
    regions = m.add_regions("decision regions", ["#1f77b4", "#ff7f0e"])
    picks = m.add_overlay("random's pick")
    clicked, selected = [], []
    m.on_point(clicked.append)
    m.on_select(selected.append)
    for trace in (regions.trace, picks.trace, 99, len(m.fig.data)):
        assert m.pool_indices(trace, [0, 3]).size == 0
        m.handle_event("click", [trace], [0])
    assert clicked == []
    m.handle_event("click", [99, 0], [4, 2])  # the first point is on an unknown trace
    assert clicked == [int(m.shown[2])]
    m.handle_event("selected", [regions.trace, picks.trace, 0], [[1, 2], 5, 3])
    assert selected[-1].tolist() == [int(m.shown[3])]
    assert m.pool_indices(0, [10_000]).size == 0, "a stale point number is dropped"


def test_recolour_above_the_display_cap_keeps_colours_on_their_items(big):
    m = big
    values = np.linspace(0, 1, 500)
    m.recolour(values, "label dispersion")
    tr = m.fig.data[0]
    assert len(tr.marker.color) == len(m.shown) == 120
    # each drawn point carries the value of the item it shows
    np.testing.assert_allclose(tr.marker.color, values[np.asarray(tr.customdata)], rtol=1e-6)
    assert tr.marker.colorbar.title.text == "label dispersion"
    assert "label dispersion" in m.fig.layout.title.text
    with pytest.raises(ValueError, match="one value per pool item"):
        m.recolour(values[:300], "x")
    with pytest.raises(ValueError, match="0..499"):
        m.set_overlay(m.batch_overlay, [500])


def test_a_late_frontend_gets_the_current_overlays_and_colours(big):
    m = big
    picks = m.add_overlay("coreset's pick")
    regions = m.add_regions("decision regions", ["#1f77b4", "#ff7f0e"])
    labels = np.full(500, -1)
    labels[[3, 4]] = 1
    m.update(np.full(500, 0.25), labels, np.array([10, 11, 12]), "margin")
    m.set_overlay(picks, [42, 43])
    m.set_regions(regions, np.arange(3.0), np.arange(2.0), np.array([[0, 1, 1], [0, 0, 1]]))
    m.recolour(np.linspace(0, 1, 500), "forgetting events")
    state = late_frontend_state(m.fig)
    data = {tr["name"]: tr for tr in state["_widget_data"]}
    assert data["coreset's pick"]["customdata"].tolist() == [42, 43]
    assert data["current batch"]["customdata"].tolist() == [10, 11, 12]
    assert data["labeled: b"]["customdata"].tolist() == [3, 4]
    assert data["decision regions"]["z"] == [[0, 1, 1], [0, 0, 1]]
    np.testing.assert_allclose(
        data["pool items"]["marker"]["color"], np.linspace(0, 1, 500)[m.shown], rtol=1e-6
    )
    assert "forgetting events" in state["_widget_layout"]["title"]["text"]
    # a plain trait update (one restyle message) does not carry the whole figure
    assert set(m.fig.get_state(key="_py2js_restyle")) == {"_py2js_restyle"}


def test_set_xy_moves_every_overlay(big):
    m = big
    picks = m.add_overlay("random's pick")
    m.set_overlay(picks, [5, 6])
    m.update(np.zeros(500), np.full(500, -1), np.array([1]), "entropy")
    new = np.random.default_rng(1).normal(size=(500, 2)).astype(np.float32)
    m.set_xy(new, "UMAP")
    np.testing.assert_array_equal(m.fig.data[picks.trace].x, new[[5, 6], 0])
    np.testing.assert_array_equal(m.fig.data[m.batch_overlay.trace].y, new[[1], 1])
    assert m.fig.layout.xaxis.title.text == "UMAP 1"


HOSTILE_ITEM = '<a href="https://evil.test">login</a> <span style="color:red">red</span> %{x}'
HOSTILE_CLASS = '<b>cat</b> %{customdata} <a href="https://evil.test">x</a>'


def test_escape_plotly_keeps_the_text_and_drops_the_markup():
    s = escape_plotly(HOSTILE_ITEM + " & $x$")
    assert "<" not in s and ">" not in s and "%{" not in s and "$x$" not in s
    assert html_unescape(s) == HOSTILE_ITEM + " & $x$"


def html_unescape(s: str) -> str:
    import html

    return html.unescape(s)


def test_user_strings_reach_plotly_escaped():
    xy = np.random.default_rng(0).normal(size=(30, 2))
    m = MapView(
        xy, [HOSTILE_CLASS, "dog"], projection="PCA <i>x</i>", hover_text=[HOSTILE_ITEM] * 30
    )
    picks = m.add_overlay(f"{HOSTILE_CLASS}'s pick", hover=HOSTILE_ITEM)
    m.update(np.zeros(30), np.zeros(30, int), np.array([1]), "<script>alert(1)</script>")
    m.set_heading(HOSTILE_ITEM)
    fig = json.loads(pio.to_json(m.fig))
    texts = []
    for tr in fig["data"]:
        texts += [tr.get("name", ""), tr.get("hovertemplate", "")]
        texts += list(tr.get("text") or [])
    lay = fig["layout"]
    texts += [lay["title"]["text"], lay["xaxis"]["title"]["text"], lay["yaxis"]["title"]["text"]]
    texts += [fig["data"][0]["marker"]["colorbar"]["title"]["text"]]
    joined = "\n".join(texts)
    for bad in ("<a", "<span", "<b>", "<i>", "<script", "%{x}"):
        assert bad not in joined, bad
    # the only template fields are the map's own
    for t in texts:
        fields = set(t.split("%{")[1:]) if "%{" in t else set()
        assert {f.split("}")[0] for f in fields} <= {"customdata", "text"}, t
    assert fig["data"][picks.trace]["name"].startswith("&lt;b&gt;cat")


def test_removed_listeners_are_no_longer_called(big):
    m = big
    clicked, selected = [], []
    m.on_point(clicked.append)
    m.on_select(selected.append)
    m.on_point(clicked.append)  # registering twice calls it once
    m.handle_event("click", [0], [3])
    m.on_point(clicked.append, remove=True)
    m.on_select(selected.append, remove=True)
    m.handle_event("click", [0], [4])
    m.handle_event("selected", [0], [5])
    m.handle_event("deselect", [], [])
    assert clicked == [int(m.shown[3])] and selected == []
