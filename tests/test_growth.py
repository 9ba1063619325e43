"""A pool that grows (issue 18): Session.add_items, resume on the grown pool, the widget."""

import numpy as np
import pytest

import alwidget
from alwidget.store import StoreMismatchError
from alwidget.training import predict_proba_full
from alwidget.widget.stream_panel import StreamPanel
from tests.alw_helpers import oracle


def test_add_items_keeps_labels_scores_new_items_and_they_can_be_labeled(blobs, tmp_path):
    X, y = blobs
    store = tmp_path / "grow.sqlite"
    s = alwidget.Session(X[:200], classes=["a", "b", "c"], store=store, batch_size=5)
    for _ in range(4):
        s.submit(oracle(s, y))
    labeled = s.y.copy()
    events = []
    s.observe(events.append)
    new = s.add_items(X[200:])
    assert new.tolist() == list(range(200, 300)) and s.n_samples == 300
    assert "grow" in events
    assert np.array_equal(s.y[:200], labeled) and (s.y[200:] == -1).all()
    assert s.proba.shape == (300, 3) and s.uncertainty.shape == (300,)
    # the current model scored the new items as it scores the old ones
    assert np.allclose(s.proba[200:], predict_proba_full(s.model, X[200:], 3))
    s.submit({250: int(y[250])}, source="map")
    assert s.y[250] == y[250]
    s.set_batch([260, 261])
    assert set(s.query().tolist()) == {260, 261}
    s.close()
    # resume on the grown pool: accepted, labels back, including the new item's
    with alwidget.Session(X, classes=["a", "b", "c"], store=store) as r:
        assert r.n_labeled == int((labeled >= 0).sum()) + 1 and r.y[250] == y[250]
    # the smaller pool, or a grown pool with other first items: refused
    with pytest.raises(StoreMismatchError, match="may grow"):
        alwidget.Session(X[:200], classes=["a", "b", "c"], store=store)
    other = X.copy()
    other[0] += 1
    with pytest.raises(StoreMismatchError):
        alwidget.Session(np.vstack([other, X[:5]]), classes=["a", "b", "c"], store=store)


def test_resume_on_a_pool_that_grew_outside_the_session_records_the_growth(blobs, tmp_path):
    X, y = blobs
    store = tmp_path / "g.sqlite"
    with alwidget.Session(X[:150], classes=["a", "b", "c"], store=store) as s:
        s.submit(oracle(s, y))
        n = s.n_labeled
    with alwidget.Session(X, classes=["a", "b", "c"], store=store) as s:
        assert s.n_samples == 300 and s.n_labeled == n
        assert [m for m, _ in s.store.growth()] == [150, 300]


def test_add_items_refuses_rows_that_do_not_fit_the_pool(blobs):
    X, _ = blobs
    with alwidget.Session(X, classes=["a", "b", "c"], store=":memory:") as s:
        with pytest.raises(ValueError, match="features"):
            s.add_items(np.ones((2, X.shape[1] + 1)))
        with pytest.raises(ValueError, match="0 rows"):
            s.add_items(np.ones((0, X.shape[1])))
        with pytest.raises(ValueError):
            s.add_items(np.full((1, X.shape[1]), np.nan))
        assert s.n_samples == len(X) and s.store.growth()[-1][0] == len(X)


def test_a_fit_that_lands_after_growth_covers_the_new_items(blobs):
    X, y = blobs
    with alwidget.Session(X[:200], classes=["a", "b", "c"], store=":memory:") as s:
        s.submit(oracle(s, y), retrain=False)
        snap = s.models.snapshot()
        model, proba = s.models.fit(snap)  # fitted on the pool before it grew
        s.add_items(X[200:])
        assert s.models.install(snap, model, proba)
        assert s.proba.shape == (300, 3)
        assert np.allclose(s.proba[200:], predict_proba_full(model, X[200:], 3))


def test_widget_places_new_points_marks_them_new_and_labels_them(blobs):
    X, y = blobs
    texts = [f"item {i}" for i in range(len(X))]
    w = alwidget.label(X[:200], items=texts[:200], classes=["a", "b", "c"], store=":memory:")
    with pytest.raises(ValueError, match="items="):
        w.add_items(X[200:])
    new = w.add_items(X[200:], items=texts[200:])
    assert w.map.n_samples == 300 and w.map.xy.shape == (300, 2)
    assert sorted(w.map._points[w.new_overlay.trace].tolist()) == new.tolist()
    assert w.items[250] == "item 250"
    assert w.label_from_map(250, "b") and w.session.y[250] == 1
    # items added to the session directly reach the map too
    w.session.add_items(X[:3] + 100)
    assert w.map.n_samples == 303 and 302 in w.map._points[w.new_overlay.trace]
    w.close()


def test_stream_panel_lets_arriving_items_through_the_rule(blobs):
    X, y = blobs
    w = alwidget.label(X[:100], classes=["a", "b", "c"], store=":memory:", batch_size=50)
    stream = StreamPanel(w, chunk_size=100)
    stream.next_chunk()
    w.session.submit(oracle(w.session, y))
    asked = stream.arrive(X[100:])
    assert w.session.n_samples == 300
    assert stream.rule.n_seen == 300  # 100 pool items, then the 200 that arrived
    assert set(asked.tolist()) <= set(range(100, 300))
    passed = stream.passed["index"].to_numpy()
    assert np.isin(np.arange(100, 300), np.concatenate([asked, passed])).all()
    w.close()
