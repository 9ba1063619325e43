"""Distance kernels in float32 agree with a float64 brute force, also far from the origin."""

import numpy as np
import pytest

from alwidget.strategies._utils import knn, min_sq_dist, sq_dist_to_point
from alwidget.strategies.density import outlier_scores, pool_similarity
from alwidget.strategies.diversity import covering_radius, k_center_greedy


def _data(offset):
    X = np.random.default_rng(0).standard_normal((3000, 20)) + offset
    return X.astype(np.float32), X  # float32 as users give it; float64 for the reference


def _brute_sq(A, B):
    return ((A[:, None, :] - B[None, :, :]) ** 2).sum(-1)


@pytest.mark.parametrize("offset", [0.0, 1000.0])
def test_distances_to_a_point_and_to_the_nearest_center(offset):
    X32, X64 = _data(offset)
    X64 = X32.astype(np.float64)  # the same numbers, exact arithmetic
    d = sq_dist_to_point(X32, X32[7])
    ref = ((X64 - X64[7]) ** 2).sum(1)
    assert d[7] == 0.0  # a point is at distance 0 from itself, whatever its norm
    np.testing.assert_allclose(d, ref, rtol=1e-5, atol=1e-4)
    C = X32[:50]
    np.testing.assert_allclose(
        min_sq_dist(X32, C), _brute_sq(X64, X64[:50]).min(1), rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize("offset", [0.0, 1000.0])
def test_core_set_picks_equal_a_float64_brute_force(offset):
    X32, _ = _data(offset)
    X64 = X32.astype(np.float64)
    centers = np.arange(25)
    cand = np.arange(25, 3000)
    pos, dist = k_center_greedy(X32[cand], 12, X32[centers])
    # float64 reference: greedy farthest-first by brute force
    mind = _brute_sq(X64[cand], X64[centers]).min(1)
    ref, ref_d = [], []
    for _ in range(12):
        p = int(np.argmax(mind))
        ref.append(p)
        ref_d.append(np.sqrt(mind[p]))
        mind = np.minimum(mind, ((X64[cand] - X64[cand][p]) ** 2).sum(1))
        mind[p] = -1
    np.testing.assert_array_equal(pos, ref)
    np.testing.assert_allclose(dist, ref_d, rtol=1e-5)
    r = covering_radius(X32, X32[np.r_[centers, cand[pos]]])
    assert r == pytest.approx(np.sqrt(_brute_sq(X64, X64[np.r_[centers, cand[pos]]]).min(1).max()))


@pytest.mark.parametrize("offset", [0.0, 1000.0])
def test_nearest_neighbours_and_outlier_scores_exclude_self_by_index(offset):
    X32, _ = _data(offset)
    X64 = X32.astype(np.float64)
    D = np.sqrt(_brute_sq(X64[:300], X64[300:]))
    d, i = knn(X32[:300], X32[300:], 5)
    np.testing.assert_allclose(d, np.sort(D, 1)[:, :5], rtol=1e-5, atol=1e-3)
    full = np.sqrt(_brute_sq(X64, X64))
    np.fill_diagonal(full, np.inf)
    ref = np.sort(full, 1)[:, :10].mean(1)
    np.testing.assert_allclose(
        outlier_scores(X32, method="knn", n_neighbors=10, n_reference=None), ref, rtol=1e-4
    )


def test_euclidean_density_equals_its_formula():
    X32, _ = _data(0.0)
    X64 = X32.astype(np.float64)
    ref = (1.0 / (1.0 + np.sqrt(_brute_sq(X64[:400], X64)))).mean(1)
    np.testing.assert_allclose(pool_similarity(X32[:400], X32, metric="euclidean"), ref, rtol=1e-9)
