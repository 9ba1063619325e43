"""The fast uncertainty kernels equal their float64 definitions, ties and float32 included."""

import numpy as np
import pytest

from alwidget.strategies.committee import vote_entropy
from alwidget.strategies.uncertainty import entropy, least_confidence, margin


@pytest.mark.parametrize("n_classes", [2, 3, 5, 40])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_scores_equal_the_definitions(n_classes, dtype):
    rng = np.random.default_rng(n_classes)
    P = rng.dirichlet(np.ones(n_classes), 5000)
    P[:50] = np.round(P[:50], 1)  # ties between the top classes
    P[50:60] = 0.0
    P[50:60, 0] = 1.0  # certain rows (and zeros: 0 log 0 = 0)
    t = np.sort(P, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ent = -np.nansum(np.where(P > 0, P * np.log(P), 0.0), axis=1)
    tol = 1e-6 if dtype == np.float32 else 1e-12
    Q = P.astype(dtype)
    np.testing.assert_allclose(least_confidence(Q), 1 - t[:, -1], atol=tol)
    np.testing.assert_allclose(margin(Q), 1 - (t[:, -1] - t[:, -2]), atol=tol)
    np.testing.assert_allclose(entropy(Q), ent, atol=tol * 10)
    for f in (least_confidence, margin, entropy):
        assert f(Q).dtype == np.float64 and f(Q).shape == (5000,)


def test_vote_entropy_counts_votes_per_row():
    votes = np.array([[0, 0, 0, 0], [0, 1, 0, 1], [0, 1, 2, 3], [2, 2, 1, 2]])
    counts = [[4], [2, 2], [1, 1, 1, 1], [3, 1]]
    ref = [-sum(c / 4 * np.log(c / 4) for c in row) for row in counts]
    np.testing.assert_allclose(vote_entropy(votes, 4), ref, atol=1e-12)


def _reference(proba):
    p = np.asarray(proba, dtype=np.float64)
    srt = np.sort(p, axis=1)
    lc = 1.0 - srt[:, -1]
    mg = 1.0 - (srt[:, -1] - srt[:, -2]) if p.shape[1] > 1 else np.zeros(len(p))
    with np.errstate(divide="ignore", invalid="ignore"):
        ent = -np.where(p > 0, p * np.log(p), 0.0).sum(axis=1)
    return lc, mg, ent


def _probabilities(n_classes, rng):
    p = rng.dirichlet(np.ones(n_classes), size=400)
    # ties and exact zeros: two equal top classes, a one-hot row, a uniform row
    p[0, :] = 0.0
    p[0, :2] = 0.5
    p[1, :] = 0.0
    p[1, -1] = 1.0
    p[2, :] = 1.0 / n_classes
    p[3] = np.round(p[3], 1)
    return p / p.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("n_classes", [1, 2, 5, 40])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_kernels_equal_float64_reference(n_classes, dtype):
    rng = np.random.default_rng(n_classes)
    p = _probabilities(n_classes, rng) if n_classes > 1 else np.ones((50, 1))
    lc, mg, ent = _reference(p.astype(dtype))
    tol = 1e-12 if dtype == np.float64 else 1e-6
    for fn, ref in ((least_confidence, lc), (margin, mg), (entropy, ent)):
        got = fn(p.astype(dtype))
        assert got.dtype == np.float64 and got.shape == (len(p),)
        np.testing.assert_allclose(got, ref, atol=tol, err_msg=fn.__name__)
    if n_classes > 1:
        assert margin(p.astype(dtype))[0] == pytest.approx(1.0)  # tie between the top two
        assert least_confidence(p)[1] == 0.0 and entropy(p)[1] == 0.0


def test_kernels_do_not_modify_input():
    p = _probabilities(5, np.random.default_rng(0)).astype(np.float32)
    before = p.copy()
    for fn in (least_confidence, margin, entropy):
        fn(p)
    np.testing.assert_array_equal(p, before)


def test_vote_entropy_equals_per_class_count():
    rng = np.random.default_rng(3)
    votes = rng.integers(0, 4, size=(300, 7))
    counts = np.stack([(votes == c).sum(axis=1) for c in range(4)], axis=1) / 7
    with np.errstate(divide="ignore", invalid="ignore"):
        ref = -np.where(counts > 0, counts * np.log(counts), 0.0).sum(axis=1)
    np.testing.assert_allclose(vote_entropy(votes, 4), ref, atol=1e-12)
