"""TypiClust and ProbCover: batch contract, cluster coverage, reproducibility."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_blobs

from alwidget.strategies import ProbCover, QueryContext, TypiClust, get_strategy
from alwidget.strategies.typicality import cold_start_select, probcover_select, typiclust_select


def _ctx(X, labels, seed=0, n_classes=5, candidates=None):
    labels = np.asarray(labels)
    if candidates is None:
        candidates = np.flatnonzero(labels < 0)
    return QueryContext(
        X=X,
        labels=labels,
        candidates=np.asarray(candidates, dtype=np.int64),
        proba=None,
        model=None,
        estimator=None,
        n_classes=n_classes,
        rng=np.random.default_rng(seed),
    )


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(500, centers=5, cluster_std=0.6, random_state=3)
    return X, y


@pytest.mark.parametrize("name", ["typiclust", "probcover"])
def test_batch_contract(blobs, name):
    X, _ = blobs
    labels = np.full(len(X), -1)
    labels[:7] = 0
    cand = np.arange(20, 500, 2)  # a strict subset of the unlabeled items
    s = get_strategy(name)
    assert s.needs_model is False
    idx, scores = s.query(_ctx(X, labels, candidates=cand), 12)
    assert idx.dtype == np.int64 and idx.shape == (12,) and scores.shape == (12,)
    assert len(set(idx.tolist())) == 12
    assert np.isin(idx, cand).all()


@pytest.mark.parametrize("cls", [TypiClust, ProbCover])
def test_first_batch_covers_every_blob(blobs, cls):
    X, y = blobs
    idx, _ = cls().query(_ctx(X, np.full(len(X), -1)), 5)
    assert sorted(set(y[idx].tolist())) == [0, 1, 2, 3, 4]


def test_typiclust_picks_typical_not_outliers(blobs):
    X, y = blobs
    idx, _ = TypiClust().query(_ctx(X, np.full(len(X), -1)), 5)
    for i in idx:  # each pick lies near its blob's centre (closer than most blob members)
        members = X[y == y[i]]
        d = np.linalg.norm(members - members.mean(axis=0), axis=1)
        assert np.linalg.norm(X[i] - members.mean(axis=0)) <= np.quantile(d, 0.5)


def test_labeled_clusters_are_covered(blobs):
    X, y = blobs
    labels = np.full(len(X), -1)
    for c in range(4):  # one label in each of the blobs 0..3
        labels[np.flatnonzero(y == c)[0]] = c
    for fn in (TypiClust(), ProbCover()):
        idx, _ = fn.query(_ctx(X, labels), 1)
        assert y[idx[0]] == 4, type(fn).__name__


@pytest.mark.parametrize("name", ["typiclust", "probcover"])
def test_seeded_reproducibility(blobs, name):
    X, _ = blobs
    labels = np.full(len(X), -1)
    a = get_strategy(name).query(_ctx(X, labels, seed=11), 8)[0]
    b = get_strategy(name).query(_ctx(X, labels, seed=11), 8)[0]
    np.testing.assert_array_equal(a, b)


def test_batch_larger_than_clusters_and_full_coverage(blobs):
    X, _ = blobs
    labels = np.full(len(X), -1)
    idx, _ = typiclust_select(X, labels >= 0, np.arange(len(X)), 40, 0)
    assert len(set(idx.tolist())) == 40
    # a huge radius covers everything with the first pick; the rest are random candidates
    idx, gains = probcover_select(X, labels >= 0, np.arange(len(X)), 6, delta=1e3, rng=0)
    assert len(set(idx.tolist())) == 6 and gains[0] == len(X) and np.all(gains[1:] == 0)


def test_errors_and_cold_start_hook(blobs):
    X, _ = blobs
    with pytest.raises(ValueError, match="delta must be > 0"):
        probcover_select(X, np.zeros(len(X), bool), np.arange(len(X)), 3, delta=0.0)
    with pytest.raises(ValueError, match="expected"):
        typiclust_select(X, np.zeros(3, bool), np.arange(len(X)), 3)
    with pytest.raises(ValueError, match="unknown cold-start rule"):
        cold_start_select("nope", X, np.arange(len(X)), 3, np.random.default_rng(0))
    got = cold_start_select("typiclust", X, np.arange(100, 500), 5, np.random.default_rng(0))
    assert got.shape == (5,) and np.isin(got, np.arange(100, 500)).all()


def test_large_clusters_sampled_picks_still_typical(blobs):
    X, y = blobs  # 5 blobs of 100: with max_members=30 each cluster's typicality is sampled
    labeled = np.zeros(len(X), bool)
    idx, _ = typiclust_select(X, labeled, np.arange(len(X)), 5, 0, max_members=30)
    assert sorted(set(y[idx].tolist())) == [0, 1, 2, 3, 4]
    for i in idx:  # still near the blob's centre
        members = X[y == y[i]]
        d = np.linalg.norm(members - members.mean(axis=0), axis=1)
        assert np.linalg.norm(X[i] - members.mean(axis=0)) <= np.quantile(d, 0.75)
    # a cap above every cluster's size changes nothing
    exact = typiclust_select(X, labeled, np.arange(len(X)), 5, 0)[0]
    np.testing.assert_array_equal(
        typiclust_select(X, labeled, np.arange(len(X)), 5, 0, max_members=10_000)[0], exact
    )
