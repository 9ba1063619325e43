"""A pool held as a Dask array picks exactly what the in-memory strategies pick."""

import os
import threading
import time

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from alwidget.strategies.base import top_k
from alwidget.strategies.diversity import k_center_greedy
from alwidget.strategies.uncertainty import entropy, least_confidence, margin

from alw_helpers import run_benchmark, table_rows

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

from alwidget.dask_pool import DaskPool  # noqa: E402

pytestmark = pytest.mark.dask
MEASURES = {"least_confidence": least_confidence, "margin": margin, "entropy": entropy}


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((12_000, 16)).astype(np.float32)
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int) + (X[:, 2] > 1)
    lab = rng.choice(X.shape[0], 40, replace=False)
    model = LogisticRegression().fit(X[lab], y[lab])
    return X, y, lab, model


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    )
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


@pytest.fixture(params=["local-scheduler", "cluster"])
def pool(request, data):
    c = request.getfixturevalue("client") if request.param == "cluster" else None
    return DaskPool(da.from_array(data[0], chunks=(2_500, 16)), client=c)


@pytest.mark.parametrize("measure", sorted(MEASURES))
def test_uncertainty_picks_equal_the_in_memory_path(pool, data, measure):
    X, _, lab, model = data
    cand = np.setdiff1d(np.arange(X.shape[0]), lab)
    ref = cand[top_k(MEASURES[measure](model.predict_proba(X[cand])), 25)]
    got = pool.uncertainty_top_k(model, 3, measure, 25, exclude=lab)
    np.testing.assert_array_equal(got, ref)


def test_core_set_picks_equal_the_in_memory_path(pool, data):
    X, _, lab, _ = data
    cand = np.setdiff1d(np.arange(X.shape[0]), lab)
    pos, dist = k_center_greedy(X[cand], 8, X[lab])
    picks, d = pool.k_center_greedy(8, lab)
    np.testing.assert_array_equal(picks, cand[pos])
    np.testing.assert_allclose(d, dist, rtol=1e-4)


def test_excluded_items_are_never_picked_and_float32_is_kept(pool, data):
    X, _, lab, model = data
    busy = np.arange(0, X.shape[0], 2)  # every other item is taken already
    picks = pool.uncertainty_top_k(model, 3, "margin", 50, exclude=np.r_[lab, busy])
    assert picks.size == 50 and not np.isin(picks, np.r_[lab, busy]).any()
    kc, _ = pool.k_center_greedy(5, lab, exclude=busy)
    assert not np.isin(kc, np.r_[lab, busy]).any() and np.unique(kc).size == 5
    assert pool.X.dtype == np.float32 and pool.proba(model, 3).dtype == np.float32
    rows = pool.take([5, 1, 5])
    assert rows.dtype == np.float32
    np.testing.assert_array_equal(rows, X[[5, 1, 5]])


def test_map_sample_is_seeded_sorted_and_bounded(pool):
    a, b = pool.sample(1_000, random_state=3), pool.sample(1_000, random_state=3)
    np.testing.assert_array_equal(a, b)
    assert np.all(np.diff(a) > 0) and a.size == 1_000 and pool.sample(10**9).size == 12_000


def test_clear_errors():
    with pytest.raises(TypeError, match="dask.array.Array"):
        DaskPool(np.zeros((3, 2)))
    p = DaskPool(da.zeros((10, 2), chunks=5))
    with pytest.raises(ValueError, match="unknown measure"):
        p.uncertainty_top_k(None, 2, "bald", 3)
    with pytest.raises(ValueError, match="at least one labeled"):
        p.k_center_greedy(3, [])
    with pytest.raises(IndexError, match="0..9"):
        p.take([10])


class _SlowModel(LogisticRegression):
    def predict_proba(self, X):
        time.sleep(0.15)
        return super().predict_proba(X)


def test_a_worker_killed_mid_scoring_is_retried_and_the_picks_are_unchanged(data):
    X, y, lab, _ = data
    model = _SlowModel().fit(X[lab], y[lab])
    cand = np.setdiff1d(np.arange(X.shape[0]), lab)
    ref = cand[top_k(margin(LogisticRegression.predict_proba(model, X[cand])), 10)]
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        pool = DaskPool(da.from_array(X, chunks=(500, 16)), client=client)
        victim = next(iter(client.scheduler_info()["workers"]))
        killed = threading.Event()

        def kill():
            time.sleep(0.8)  # 24 chunks x 0.15 s on 2 workers: scoring is under way
            try:
                client.run(os._exit, 1, workers=[victim])
            except Exception:  # noqa: BLE001 - the worker dies before it answers
                pass
            killed.set()

        t = threading.Thread(target=kill)
        t.start()
        got = pool.uncertainty_top_k(model, 3, "margin", 10, exclude=lab)
        t.join()
        assert killed.is_set()
        np.testing.assert_array_equal(got, ref)


def test_dask_benchmark_quick_prints_a_sane_table():
    row = table_rows(run_benchmark("dask_pool.py", "--quick", "--repeats", "1"))[0]
    assert row["pool"] == "0.2M x 16" and int(row["workers"]) == 2
    for col in ("margin_s", "coreset_10_s", "chunk_s", "model8_margin_s"):
        assert 0 < float(row[col]) < 300, (col, row[col])
    assert 0 < float(row["client_peak_mb"]) < 1024  # the client stays small
