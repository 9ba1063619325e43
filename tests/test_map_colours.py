"""The map's colour bar says what the colour shows, with its direction, whatever shows it
(issue 13): the strategy's uncertainty, core-set's distance to the labels with the covering
radius, the teaching panel's dynamics colours, a replayed round."""

import numpy as np
import pytest
from sklearn.datasets import make_blobs

import alwidget
from alwidget.diagnostics import distance_to_labels
from alwidget.widget.teaching import TeachingPanel
from tests.alw_helpers import oracle


def _bar(w):
    return w.map.fig.data[0].marker.colorbar.title.text


def _colours(w):
    return np.asarray(w.map.fig.data[0].marker.color, dtype=np.float64)


@pytest.fixture
def blobs2d():
    X, y = make_blobs(300, centers=[[-5, 0], [5, 0], [0, 6]], cluster_std=1.0, random_state=0)
    return X, y


def test_title_follows_the_strategy_and_names_the_direction(blobs2d):
    X, y = blobs2d
    w = alwidget.label(X, classes=["a", "b", "c"], store=":memory:", batch_size=6, background=False)
    assert _bar(w) == "uncertainty: no model yet (cold start), all alike"
    w.session.submit(oracle(w.session, y))
    w.refresh()
    assert _bar(w) == "uncertainty (1 − margin), high = unsure"  # the default, margin
    np.testing.assert_allclose(_colours(w), w.session.uncertainty, rtol=1e-6)
    w.strategy_select.value = "entropy"
    assert _bar(w) == "uncertainty (entropy ÷ log classes), high = unsure"
    w.strategy_select.value = "least_confidence"
    assert _bar(w) == "uncertainty (1 − top probability), high = unsure"
    w.close()


def test_coreset_colours_by_distance_to_the_labels_with_the_covering_radius(blobs2d):
    X, y = blobs2d
    w = alwidget.label(X, classes=["a", "b", "c"], store=":memory:", batch_size=6, background=False)
    w.session.submit(oracle(w.session, y))
    w.strategy_select.value = "coreset"
    d, near = distance_to_labels(X, w.session.y >= 0)
    r = float(d.max())
    assert _bar(w) == f"distance to the nearest label ÷ covering radius r = {r:.3g}, high = far"
    np.testing.assert_allclose(_colours(w), d / r, rtol=1e-5, atol=1e-6)
    far = int(np.argmax(d))
    assert w.map._points[w.coverage_layer.trace].tolist() == [far]
    # the map is the data (2-D): a ring of radius r around the label nearest to the farthest item
    (ring,) = w.map.fig.layout.shapes
    cx, cy = X[near[far]]
    assert ring.type == "circle"
    np.testing.assert_allclose(
        [ring.x0, ring.x1, ring.y0, ring.y1], [cx - r, cx + r, cy - r, cy + r], rtol=1e-5
    )
    # labeling the farthest item shrinks the radius, and the title says so
    w.session.submit({far: int(y[far])}, source="map")
    w.refresh()
    r2 = float(distance_to_labels(X, w.session.y >= 0)[0].max())
    assert r2 < r and f"r = {r2:.3g}" in _bar(w)
    # back to an uncertainty strategy: no ring, no mark
    w.strategy_select.value = "margin"
    assert len(w.map.fig.layout.shapes) == 0
    assert w.map._points[w.coverage_layer.trace].size == 0
    w.close()


def test_no_ring_on_a_projection(digits):
    w = alwidget.label(
        digits.data[:400],
        classes=[str(c) for c in range(10)],
        store=":memory:",
        strategy="coreset",
        batch_size=5,
        background=False,
    )
    w.session.submit({i: str(digits.target[i]) for i in range(20)}, source="map")
    w.refresh()
    assert _bar(w).startswith("distance to the nearest label")
    assert len(w.map.fig.layout.shapes) == 0  # a 2-D ring on PCA would not be that distance
    assert w.map._points[w.coverage_layer.trace].size == 1
    w.close()


def test_teaching_colours_have_truthful_titles(blobs2d):
    X, y = blobs2d
    w = alwidget.label(X, classes=["a", "b", "c"], store=":memory:", batch_size=6, background=False)
    panel = TeachingPanel(w, y_true=y, baseline=False)
    for _ in range(3):
        panel.oracle_step()
    titles = {}
    for key in ("auto", "uncertainty", "distance", "dispersion", "forgetting"):
        panel.colour_select.value = key
        titles[key] = _bar(w)
    assert titles["auto"] == titles["uncertainty"] == "uncertainty (1 − margin), high = unsure"
    assert titles["distance"].startswith("distance to the nearest label ÷ covering radius")
    assert titles["dispersion"].endswith("high = unstable")
    assert (
        titles["forgetting"].startswith("forgetting events")
        and "high = often" in titles["forgetting"]
    )
    assert len(set(titles.values())) == 4
    # a replayed round says whose uncertainty it shows
    panel.colour_select.value = "uncertainty"
    panel.replay_round(2)
    assert _bar(w) == "uncertainty of round 2's model, high = unsure"
    panel.replay_round(1)  # picked at cold start: there was no model
    assert _bar(w) == "uncertainty: no model yet at round 1 (cold start), all alike"
    panel.close()
    w.close()
