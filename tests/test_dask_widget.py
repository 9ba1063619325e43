"""The widget on a Dask pool, and a session whose cluster goes away."""

import sqlite3

import numpy as np
import pytest

import alwidget

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

pytestmark = pytest.mark.dask
CLASSES = ["a", "b", "c"]


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((4_000, 8)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1)
    return X, y


def act(w, action, **fields):
    """What the browser sends for a click: the batch id it shows."""
    msg = {"type": "action", "action": action, "batch_id": w.view.batch_id, "seq": 1}
    msg.update(fields)
    w.view._handle(w.view, msg, [])


def label_cards(w, y):
    batch = [c["index"] for c in w.view.cards]
    for i in batch:
        act(w, "choose", index=int(i), code=int(y[i]))
    act(w, "submit")
    return batch


def drawn(w, overlay):
    return set(np.asarray(w.map.fig.data[overlay.trace].customdata, dtype=np.int64).tolist())


def test_the_widget_labels_a_dask_pool_and_its_map_holds_a_sample(data):
    X, y = data
    pool = da.from_array(X, chunks=(1_000, 8))
    w = alwidget.label(
        pool, classes=CLASSES, store=":memory:", random_state=0, background=False, max_points=500
    )
    s = w.session
    try:
        assert s.dask is not None and len(w.cards) == 10 and w.cards[0]["kind"] == "row"
        first = label_cards(w, y)
        assert s.n_labeled == 10
        stored = s.labels.set_index("index").loc[first, "code"].tolist()
        assert stored == y[first].tolist()
        second = label_cards(w, y)  # a model now: margin picks the next batch
        assert s.n_labeled == 20 and not set(first) & set(second)
        nxt = [c["index"] for c in w.view.cards]
        assert nxt == s.query().tolist() and not set(nxt) & set(first + second)
        # the map: trace 0 is the seeded sample; labeled and batch items are drawn on top
        assert w.map.shown.size == 500
        assert np.array_equal(np.asarray(w.map.fig.data[0].customdata), w.map.shown)
        labeled = set().union(*(drawn(w, h) for h in w.map.class_overlays))
        assert labeled == set(first + second)
        assert drawn(w, w.map.batch_overlay) == set(nxt)
        shown_xy = w.map.xy[np.r_[w.map.shown, first, second, nxt]]
        assert np.isfinite(shown_xy).all()
        assert np.isnan(w.map.xy[:, 0]).sum() >= X.shape[0] - 500 - 30  # only those placed
        colour = np.asarray(w.map.fig.data[0].marker.color)
        assert colour.shape == (500,) and np.isfinite(colour).all() and colour.std() > 0
    finally:
        w.close()


def test_a_lost_cluster_is_said_labels_are_kept_and_to_local_goes_on(data, tmp_path):
    X, y = data
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    )
    client = distributed.Client(cluster, set_as_default=False)
    pool = da.from_array(X, chunks=(1_000, 8))
    path = tmp_path / "labels.sqlite"
    w = alwidget.label(
        pool,
        classes=CLASSES,
        store=path,
        client=client,
        random_state=0,
        background=False,
        max_points=500,
    )
    s = w.session
    try:
        first = label_cards(w, y)
        on_screen = [c["index"] for c in w.view.cards]
        client.close()
        cluster.close()
        batch = [c["index"] for c in w.view.cards]
        for i in batch:
            act(w, "choose", index=int(i), code=int(y[i]))
        act(w, "submit")  # the answers are stored, the next query cannot run
        assert "Dask cluster of this pool is gone" in w.error.value
        assert "pool unavailable" in w.status.value and "to_local" in w.status.value
        assert [c["index"] for c in w.view.cards] == on_screen  # the batch on screen stays
        assert s.n_labeled == 20
        with pytest.raises(alwidget.PoolUnavailableError, match="to_local"):
            s.requery()
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)  # on disk, read by itself
        try:
            (n,) = con.execute("SELECT COUNT(*) FROM events WHERE kind = 'label'").fetchone()
        finally:
            con.close()
        assert n == 20
        local = s.to_local(sample=1_000, store=":memory:")
        try:
            assert local.n_labeled == 20 and isinstance(local.X, np.ndarray)
            back = local.pool_index[local.labels["index"].to_numpy()]
            assert sorted(back.tolist()) == sorted(first + batch)
            np.testing.assert_array_equal(local.X, X[local.pool_index])
            nxt = local.query()
            local.submit({int(i): int(y[local.pool_index[i]]) for i in nxt})
            assert local.n_labeled == 30
        finally:
            local.close()
    finally:
        w.close()
