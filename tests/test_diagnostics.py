"""Per-round diagnostics and the RoundHistory recorder."""

import numpy as np
import pytest

from alwidget import Session
from alwidget.diagnostics import (
    ForgettingTracker,
    LabelDispersion,
    RoundHistory,
    batch_redundancy,
    class_balance,
    coverage,
    knn_distance,
    outlier_fixation,
)
from alwidget.evaluation import EvalSet, holdout_split
from alwidget.strategies import QueryContext

from alw_helpers import oracle


def test_coverage_by_hand():
    X = np.array([[0.0], [1.0], [3.0], [10.0]])
    lab = np.array([True, False, False, False])
    mean, mx = coverage(X, lab)
    assert mean == pytest.approx((1 + 3 + 10) / 3) and mx == pytest.approx(10)
    assert coverage(X, np.ones(4, bool)) == (0.0, 0.0)
    assert np.isnan(coverage(X, np.zeros(4, bool))[0])


def test_outlier_fixation_sees_injected_outliers():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(size=(200, 2)), [[20, 20], [-20, 20], [20, -20], [-25, 0]]])
    kd = knn_distance(X, k=5)
    outliers = np.arange(200, 204)
    assert outlier_fixation(outliers, kd) == 1.0
    assert outlier_fixation(np.arange(10), kd) < 0.5
    assert np.isnan(outlier_fixation(np.array([], int), kd))


def test_far_outliers_are_the_injected_ones_not_the_gaps_between_clusters():
    from alwidget.diagnostics import far_outliers
    from alwidget.teaching import outlier_toy

    X, _, injected = outlier_toy(random_state=0)
    far = far_outliers(knn_distance(X, k=10))
    assert (far & injected).sum() == injected.sum()  # every injected outlier is found
    assert (far & ~injected).sum() <= 0.02 * (~injected).sum()  # few cluster-tail items
    # the sparsest decile holds many more items than the far outliers: the gaps
    kd = knn_distance(X, k=10)
    sparse = kd >= np.quantile(kd, 0.9)
    assert sparse.sum() > far.sum() and (sparse & ~injected).sum() > 10
    # a pool without outliers (10-D Gaussian) has none
    assert not far_outliers(knn_distance(np.random.default_rng(0).normal(size=(500, 10)))).any()


def test_pool_geometry_counts_far_outliers_picked_and_labeled():
    from alwidget.diagnostics import PoolGeometry
    from alwidget.teaching import outlier_toy

    X, _, injected = outlier_toy(random_state=1)
    geo = PoolGeometry(X)
    out = np.flatnonzero(injected)[:3]
    labels = np.full(len(X), -1)
    labels[out] = 0
    labels[:2] = 1  # two cluster items labeled earlier
    batch = np.r_[out, 0, 1]
    d = geo.diagnostics(batch, labels, 3)
    assert d["far_outlier_share"] == pytest.approx(3 / 5)
    assert d["far_outliers_labeled"] == 3


def test_batch_redundancy_low_for_near_duplicates_high_for_spread():
    rng = np.random.default_rng(1)
    X = rng.uniform(size=(500, 2))
    close = np.argsort(np.linalg.norm(X - 0.5, axis=1))[:10]
    far = np.array(
        [
            np.argmin(np.linalg.norm(X - c, axis=1))
            for c in [[0, 0], [1, 1], [0, 1], [1, 0], [0.5, 0], [0, 0.5], [1, 0.5], [0.5, 1]]
        ]
    )
    assert batch_redundancy(X, close) < 0.3
    assert batch_redundancy(X, far) > 1.3
    assert 0.7 < batch_redundancy(X, rng.choice(500, 50, replace=False)) < 1.3
    assert np.isnan(batch_redundancy(X, np.array([3])))


def test_class_balance():
    counts, bal = class_balance(np.array([0, 0, 1, 1, -1]), 2)
    assert counts.tolist() == [2, 2] and bal == pytest.approx(1.0)
    counts, bal = class_balance(np.array([0, 0, -1]), 3)
    assert bal == pytest.approx(0.0)
    assert np.isnan(class_balance(np.array([-1]), 2)[1])


def test_forgetting_counts_correct_to_wrong_only():
    ft = ForgettingTracker([0, 1, 1])
    assert ft.update(np.array([0, 1, 0])) == 0  # first step: nothing to compare
    assert ft.update(np.array([1, 1, 1])) == 1  # item 0 forgotten, item 2 learned
    assert ft.update(np.array([0, 0, 1])) == 1  # item 1 forgotten
    assert ft.counts.tolist() == [1, 1, 0]
    ctx = QueryContext(
        X=np.zeros((3, 1)),
        labels=np.full(3, -1),
        candidates=np.array([1, 2]),
        proba=None,
        model=None,
        estimator=None,
        n_classes=2,
    )
    assert ft.as_strategy().query(ctx, 1)[0].tolist() == [1]


def test_label_dispersion_bengar():
    ld = LabelDispersion(2, 3)
    for p in ([0, 1], [0, 2], [0, 1], [0, 0]):
        ld.update(np.array(p))
    # item 0 always 0 -> 0; item 1: mode 1 twice out of 4 -> 0.5
    assert ld.dispersion.tolist() == [0.0, 0.5]
    assert ld.flips.tolist() == [0, 3]
    assert ld.dispersion.dtype == np.float32


def test_round_history_records_a_live_session(blobs):
    X, y = blobs
    tr, ev = holdout_split(y, random_state=0)
    s = Session(X[tr], classes=["a", "b", "c"], random_state=0, store=":memory:")
    hist = RoundHistory(s, y_true=y[tr], eval_set=EvalSet(X[ev], y[ev], 3))
    seen = []
    hist.on_round(seen.append)
    first_batch = s.query()
    unc_before = s.uncertainty.copy()
    s.submit(oracle(s, y[tr]))
    second_batch = s.query()
    unc_second = s.uncertainty.copy()
    s.submit(oracle(s, y[tr]))
    assert len(hist.rounds) == 2 and seen == hist.rounds
    r1, r2 = hist.rounds
    assert sorted(r1.picked.tolist()) == sorted(first_batch.tolist())
    assert sorted(r2.picked.tolist()) == sorted(second_batch.tolist())
    assert r1.uncertainty.dtype == np.float32
    assert np.array_equal(r1.uncertainty, unc_before)  # cold start: all ones
    assert np.allclose(r2.uncertainty, unc_second)  # what margin saw when it picked
    assert r2.strategy == "margin" and r1.strategy.startswith("cold start")
    assert r2.metrics["accuracy"] > 0.8
    assert set(r2.diagnostics) >= {
        "coverage_mean",
        "coverage_max",
        "outlier_fixation",
        "batch_redundancy",
        "class_balance",
        "forgetting_events",
        "mean_dispersion",
    }
    assert r2.diagnostics["coverage_max"] <= r1.diagnostics["coverage_max"] + 1e-9
    df = hist.to_frame()
    assert df["n_labels"].tolist() == [10, 20]
    assert "stop:stabilizing predictions" in df.columns
    s.undo()
    assert len(hist.rounds) == 1 and seen[-1] is None
    s.submit(oracle(s, y[tr]))
    assert [r.round for r in hist.rounds] == [1, 2]


def test_round_history_rejects_wrong_truth_length(blobs):
    X, y = blobs
    s = Session(X, classes=["a", "b", "c"], random_state=0, store=":memory:")
    with pytest.raises(ValueError, match="y_true"):
        RoundHistory(s, y_true=y[:5])
