"""A Session over a Dask array picks what the same Session over the numpy array picks."""

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
    X = rng.standard_normal((3_000, 10)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1)
    return X, y


def run(pool, y, strategy, submits=3, **kw):
    """The batches a session shows over ``submits`` oracle submits (and the one after)."""
    kw.setdefault("cold_start", "random")  # the Dask pool's default; the numpy pool's is TypiClust
    with alwidget.Session(
        pool, classes=CLASSES, store=":memory:", strategy=strategy, random_state=0, **kw
    ) as s:
        seq = []
        for _ in range(submits):
            b = s.query()
            seq.append(b.tolist())
            s.submit({int(i): int(y[i]) for i in b})
        seq.append(s.query().tolist())
        return seq, s.n_labeled


@pytest.mark.parametrize("strategy", ["margin", "coreset", "badge", "entropy", "random"])
def test_a_dask_pool_picks_the_batches_of_the_numpy_pool(data, strategy):
    X, y = data
    ref, n_ref = run(X, y, strategy)
    got, n_got = run(da.from_array(X, chunks=(750, 10)), y, strategy)
    assert got == ref and n_got == n_ref == 30
    assert len({i for b in got for i in b}) == 40  # never an item twice


def test_on_a_two_worker_cluster_too(data):
    X, y = data
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster, set_as_default=False) as client,
    ):
        pool = da.from_array(X, chunks=(750, 10))
        for strategy in ("margin", "coreset"):
            got, _ = run(pool, y, strategy, client=client)
            assert got == run(X, y, strategy)[0]


def test_float32_is_kept_and_the_store_is_bound_to_the_dask_pool(data, tmp_path):
    X, y = data
    pool = da.from_array(X, chunks=(750, 10))
    with alwidget.Session(X, classes=CLASSES, store=":memory:") as s:
        assert s.X.dtype == np.float32 and s.dask is None
    path = tmp_path / "labels.sqlite"
    with alwidget.Session(pool, classes=CLASSES, store=path, random_state=0) as s:
        assert s.X.dtype == np.float32 and s.proba is None
        b = s.query()
        s.submit({int(i): int(y[i]) for i in b})
        fp = s.fingerprint
    # resumed from the file: the same dask pool is accepted, the numpy array is another pool
    with alwidget.Session(pool, classes=CLASSES, store=path) as s:
        assert s.n_labeled == 10 and s.fingerprint == fp
    with pytest.raises(alwidget.store.StoreMismatchError):
        alwidget.Session(X, classes=CLASSES, store=path)


def test_unsupported_strategies_and_options_say_what_runs(data):
    X, _ = data
    pool = da.from_array(X, chunks=(750, 10))
    with pytest.raises(ValueError, match="margin.*badge.*to_local"):
        alwidget.Session(pool, classes=CLASSES, store=":memory:", strategy="bald")
    with pytest.raises(ValueError, match="cold_start='random'"):
        alwidget.Session(pool, classes=CLASSES, store=":memory:", cold_start="typiclust")
    with pytest.raises(TypeError, match="client="):
        alwidget.Session(X, classes=CLASSES, store=":memory:", client=object())
    with alwidget.Session(pool, classes=CLASSES, store=":memory:") as s:
        assert s.strategy.name == "margin"  # the default
        with pytest.raises(ValueError, match="does not run on a Dask pool"):
            s.set_strategy("egl")
        assert s.strategy.name == "margin"
        s.set_strategy("entropy")
        assert s.strategy.name == "entropy"


def test_unsure_items_and_their_neighbours_are_avoided_as_in_memory(data):
    X, y = data
    seqs = []
    for pool in (X, da.from_array(X, chunks=(750, 10))):
        with alwidget.Session(
            pool,
            classes=CLASSES,
            store=":memory:",
            random_state=1,
            strategy="margin",
            cold_start="random",
        ) as s:
            b = s.query()
            s.mark_unsure(int(b[0]))
            s.submit({int(i): int(y[i]) for i in s.query()})
            cand = s.batches.candidates()
            seqs.append((s.query().tolist(), cand.tolist()))
    assert seqs[0] == seqs[1]
    assert len(seqs[0][1]) == 3_000 - 10 - 5  # 9 labeled, 1 unsure and its 5 neighbours


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("chunk", [700, 3_000])
def test_badge_on_dask_picks_what_the_in_memory_badge_picks(data, seed, chunk):
    from sklearn.linear_model import LogisticRegression

    from alwidget.dask_badge import badge_select_dask
    from alwidget.dask_pool import DaskPool
    from alwidget.strategies.gradient import badge_select
    from alwidget.training import predict_proba_full

    X, y = data
    lab = np.random.default_rng(seed).choice(X.shape[0], 30, replace=False)
    model = LogisticRegression().fit(X[lab], y[lab])
    busy = np.arange(0, X.shape[0], 7)  # not candidates either (skipped, excluded ...)
    others = np.union1d(lab, busy)
    cand = np.setdiff1d(np.arange(X.shape[0]), others)
    P = predict_proba_full(model, X, 3)[cand]
    pos, dist = badge_select(P, X[cand], 12, np.random.default_rng(seed))
    pool = DaskPool(da.from_array(X, chunks=(chunk, 10)))
    picks, d = badge_select_dask(pool, model, 3, 12, others, np.random.default_rng(seed))
    np.testing.assert_array_equal(picks, cand[pos])
    np.testing.assert_allclose(d, dist, rtol=1e-6)
