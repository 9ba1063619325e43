"""Diversity-based selection in feature space.

References
----------
Sener, O. & Savarese, S. (2018). Active Learning for Convolutional Neural Networks: A Core-Set
Approach. ICLR.
"""

from __future__ import annotations

import numpy as np

__all__ = ["k_center_greedy"]


def _sq_dist_to(X: np.ndarray, sq_norms: np.ndarray, c: np.ndarray) -> np.ndarray:
    d = sq_norms - 2.0 * (X @ c) + float(c @ c)
    np.maximum(d, 0.0, out=d)
    return d


def k_center_greedy(
    X: np.ndarray,
    k: int,
    centers: np.ndarray | None = None,
    rng: np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Greedy k-center (core-set) selection (Sener & Savarese, 2018).

    Repeatedly picks the point farthest from every center chosen so far (and from
    ``centers``), updating each point's distance to its nearest center incrementally:
    ``O(k * n * d)`` time, ``O(n)`` extra memory, no ``n x n`` matrix.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Candidate points.
    k : int
        How many to pick; clipped to ``n_samples``.
    centers : ndarray of shape (n_centers, n_features), optional
        Points already covered (e.g. the labeled set). If omitted, the first pick is random.
    rng : numpy.random.Generator, optional
        Seeded generator for the first pick when there are no centers.

    Returns
    -------
    positions : ndarray of shape (k,), int64
        Positions into ``X``, in pick order.
    distances : ndarray of shape (k,), float64
        Euclidean distance of each pick to its nearest center at the time it was picked
        (higher = more informative).
    """
    X = np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    k = min(int(k), n)
    rng = np.random.default_rng() if rng is None else rng
    sq = np.einsum("ij,ij->i", X, X)
    mind = np.full(n, np.inf)
    if centers is not None and len(centers):
        C = np.asarray(centers, dtype=np.float64)
        for start in range(0, C.shape[0], 256):
            blk = C[start : start + 256]
            d = sq[:, None] - 2.0 * (X @ blk.T) + np.einsum("ij,ij->i", blk, blk)[None, :]
            np.minimum(mind, np.maximum(d, 0).min(axis=1), out=mind)
    picks = np.empty(k, dtype=np.int64)
    dists = np.empty(k)
    for j in range(k):
        if np.isinf(mind).all():
            p = int(rng.integers(n))
        else:
            p = int(np.argmax(mind))
        picks[j], dists[j] = p, np.sqrt(mind[p]) if np.isfinite(mind[p]) else np.inf
        np.minimum(mind, _sq_dist_to(X, sq, X[p]), out=mind)
        mind[p] = -1.0  # never pick twice
    return picks, dists
