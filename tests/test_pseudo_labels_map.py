"""The model's pseudo-labels on the map (headless): their own layer, never human labels."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_blobs

import alwidget
from alwidget.semi_supervised import LabelSpreadingClassifier, SelfTraining
from alwidget.widget.pseudo_labels import model_pseudo_labels

CLASSES = ["a", "b", "c"]


@pytest.fixture
def blobs():
    X, y = make_blobs(150, centers=3, cluster_std=1.0, random_state=0)
    return X, y


def _label_batch(w, y):
    for idx in w.batch:
        w.choose(int(idx), int(y[idx]))
    w.submit()
    assert w.wait_for_model(30)


def _drawn(w, overlay):
    """Pool indices the figure's trace of ``overlay`` holds."""
    n = len(w.map.fig.data[overlay.trace].x)
    return np.sort(w.map.pool_indices(overlay.trace, np.arange(n)))


@pytest.mark.parametrize(
    "estimator", [LabelSpreadingClassifier(), SelfTraining(threshold=0.8)], ids=["ls", "st"]
)
def test_layer_holds_exactly_the_models_pseudo_labels(blobs, estimator):
    X, y = blobs
    w = alwidget.label(
        X, classes=CLASSES, estimator=estimator, store=":memory:", batch_size=9,
        cold_start="typiclust", random_state=0, background=False,
    )  # fmt: skip
    try:
        n_traces = len(w.map.fig.data)
        assert w.pseudo_layer.overlays == []  # no model yet: the map is unchanged
        for _ in range(2):
            _label_batch(w, y)
            s = w.session
            model = s.model
            unl = np.flatnonzero(s.y < 0)  # the rows the model was fitted with as X_unlabeled
            assert model.pseudo_labels_.shape == unl.shape
            keep = model.pseudo_mask_ & (model.pseudo_labels_ >= 0)
            assert keep.any()
            layer = w.pseudo_layer
            assert len(layer.overlays) == len(CLASSES)
            assert len(w.map.fig.data) == n_traces + len(CLASSES)
            for c, ov in enumerate(layer.overlays):
                want = np.sort(unl[keep & (model.pseudo_labels_ == c)])
                np.testing.assert_array_equal(np.sort(layer.shown[c]), want)
                np.testing.assert_array_equal(_drawn(w, ov), want)  # what the figure holds
                assert (s.y[want] < 0).all()  # never a human-labeled item
                name = w.map.fig.data[ov.trace].name
                assert name == f"pseudo-label (model): {CLASSES[c]}"
                assert w.map.fig.data[ov.trace].marker.symbol == "circle-open"
            # human labels stay on their own (class) layers, and nothing is in the store
            # but the human answers
            assert len(s.labels) == int((s.y >= 0).sum())
    finally:
        w.close()


def test_plain_estimator_map_has_no_pseudo_layer(blobs):
    X, y = blobs
    w = alwidget.label(
        X, classes=CLASSES, store=":memory:", batch_size=9, random_state=0, background=False
    )
    try:
        n_traces = len(w.map.fig.data)
        _label_batch(w, y)
        assert w.pseudo_layer.overlays == [] and len(w.map.fig.data) == n_traces
        assert model_pseudo_labels(w.session)[0].size == 0
    finally:
        w.close()


def test_model_behind_labels_keeps_no_labeled_item(blobs):
    X, y = blobs
    s = alwidget.Session(
        X, classes=CLASSES, estimator=LabelSpreadingClassifier(), store=":memory:",
        batch_size=9, random_state=0,
    )  # fmt: skip
    try:
        s.submit({int(i): int(y[i]) for i in s.query()})
        idx, codes = model_pseudo_labels(s)
        assert idx.size == int((s.y < 0).sum()) and (s.y[idx] < 0).all()
        s.submit({int(idx[0]): int(y[idx[0]])}, source="map", retrain=False)
        assert model_pseudo_labels(s) is None  # the model is behind: its rows are unknown
        from alwidget.widget.map import MapView
        from alwidget.widget.pseudo_labels import PseudoLabelLayer

        layer = PseudoLabelLayer(MapView(X[:, :2], CLASSES), s)
        s.retrain()
        layer.update()
        drawn = np.concatenate(list(layer.shown.values()))
        s.submit({int(drawn[0]): int(y[drawn[0]])}, source="map", retrain=False)
        layer.update()  # behind again: the newly labeled item leaves the layer
        after = np.concatenate(list(layer.shown.values()))
        assert drawn[0] not in after and after.size == drawn.size - 1
    finally:
        s.close()
