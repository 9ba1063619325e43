"""Diversity-based selection in feature space: core-set and cluster-based batches.

References
----------
Sener, O. & Savarese, S. (2018). Active Learning for Convolutional Neural Networks: A Core-Set
Approach. ICLR.
Gonzalez, T. F. (1985). Clustering to minimize the maximum intercluster distance. Theoretical
Computer Science 38 (the greedy 2-approximation of k-center).
Nguyen, H. T. & Smeulders, A. (2004). Active learning using pre-clustering. ICML (cluster-based
selection of informative representatives).
Zhdanov, F. (2019). Diverse mini-batch active learning. arXiv:1901.05954 (k-means on the pool,
one informative item per cluster).
"""

from __future__ import annotations

import numpy as np
from sklearn.cluster import KMeans

from . import uncertainty as _u
from ._utils import check_features, f32, min_sq_dist, require_proba, sq_dist_to_point
from .base import QueryContext, Strategy

__all__ = ["k_center_greedy", "covering_radius", "cluster_batch", "Coreset", "ClusterBatch"]


def k_center_greedy(
    X: np.ndarray,
    k: int,
    centers: np.ndarray | None = None,
    rng: np.random.Generator | None = None,
    block: int = 512,
    allowed: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Greedy k-center (core-set) selection (Sener & Savarese, 2018; Gonzalez, 1985).

    Repeatedly picks the point farthest from every center chosen so far (and from
    ``centers``), updating each point's distance to its nearest center incrementally:
    ``O((k + n_centers) * n * d)`` time, ``O(n)`` extra memory, no ``n x n`` matrix. The
    distances to ``centers`` come from scikit-learn's chunked
    :func:`~sklearn.metrics.pairwise_distances_argmin_min` (float64 per chunk); each new
    center's distances from differences ``x - c`` in float32 row blocks (no cancellation).
    Temporaries stay under 64 MB.

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
    block : int, default=512
        Ignored (kept for compatibility): blocks are sized by memory, at most 64 MB.
    allowed : ndarray of shape (n_samples,), bool, optional
        Only these rows may be picked (all by default); the others still count as points
        but are never chosen (so a caller need not copy the candidate rows).

    Returns
    -------
    positions : ndarray of shape (k,), int64
        Positions into ``X``, in pick order.
    distances : ndarray of shape (k,), float64
        Euclidean distance of each pick to its nearest center at the time it was picked
        (higher = more informative; ``inf`` for a first pick without centers).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0, 0], [0.1, 0], [5, 0], [5, 0.1], [10, 0]])
    >>> pos, dist = k_center_greedy(X, 2, centers=X[:1])
    >>> pos.tolist(), np.round(dist, 2).tolist()  # the farthest first, then the gap's middle
    ([4, 3], [10.0, 5.0])
    """
    Xf = f32(check_features(X))
    n = Xf.shape[0]
    k = min(int(k), n if allowed is None else int(np.count_nonzero(allowed)))
    rng = np.random.default_rng(rng)
    if centers is not None and len(centers):
        mind = min_sq_dist(Xf, f32(centers)).astype(np.float32)
    else:
        mind = np.full(n, np.inf, dtype=np.float32)
    if allowed is not None:
        mind[~np.asarray(allowed, dtype=bool)] = -1.0  # never picked
    to_new = _PointDistances(Xf) if k > 1 else None
    picks = np.empty(k, dtype=np.int64)
    dists = np.empty(k)
    for j in range(k):
        p = _first_pick(mind, rng) if j == 0 and np.isposinf(mind.max()) else int(np.argmax(mind))
        picks[j] = p
        dists[j] = np.sqrt(float(mind[p])) if np.isfinite(mind[p]) else np.inf
        if to_new is not None and j < k - 1:  # the last pick's distances are never used
            np.minimum(mind, to_new(p), out=mind)
        mind[p] = -1.0  # never pick twice
    return picks, dists


def _first_pick(mind: np.ndarray, rng: np.random.Generator) -> int:
    """Without centers every allowed item is infinitely far: a random one (as before, a
    uniform draw over the pool when all are allowed)."""
    far = np.flatnonzero(np.isposinf(mind))
    if far.size == mind.size:
        return int(rng.integers(mind.size))
    return int(far[rng.integers(far.size)])


class _PointDistances:
    """Squared distances of every row of ``X`` to one of its rows, fast and exact enough.

    One float32 matrix-vector product per call on centred norms:
    ``|x - c|^2 = |x'|^2 + |c'|^2 - 2 x'.c'`` with ``x' = x - m``, ``m`` the mean of a sample of
    rows (so an offset of the data
    does not cancel digits); rows within 1e-3 of the scale of their norms, where the expansion
    could lose digits (the new centre's own neighbourhood), are recomputed from differences
    (:func:`sq_dist_to_point`). ``O(n * d)`` per call, three float32 vectors of ``n`` kept.
    """

    def __init__(self, X: np.ndarray) -> None:
        self.X = X
        # any shift keeps the expansion exact; a (sampled) mean keeps its terms small
        self.mu = X[:: max(1, X.shape[0] // 4096)].mean(axis=0, dtype=np.float64).astype(X.dtype)
        self.norms = sq_dist_to_point(X, self.mu)  # |x - mean|^2, from differences
        self.g = np.empty(X.shape[0], dtype=X.dtype)
        self.d = np.empty(X.shape[0], dtype=X.dtype)

    def __call__(self, p: int) -> np.ndarray:
        c = self.X[p] - self.mu
        np.dot(self.X, c, out=self.g)  # x . (c - mean)
        self.g -= float(self.mu @ c)  # = (x - mean) . (c - mean)
        d, scale = self.d, self.norms + self.norms[p]
        np.multiply(self.g, -2.0, out=d)
        d += scale
        near = np.flatnonzero(d < 1e-3 * scale)
        if near.size:
            d[near] = sq_dist_to_point(self.X[near], self.X[p])
        np.maximum(d, 0.0, out=d)
        return d


def covering_radius(X: np.ndarray, centers: np.ndarray, block: int | None = None) -> float:
    """Largest distance from a point of ``X`` to its nearest center (the k-center objective).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    centers : ndarray of shape (n_centers, n_features)

    Returns
    -------
    radius : float
        Lower is better covered. Computed in float64 chunks by scikit-learn (``block`` is
        ignored, kept for compatibility).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0, 0], [3, 4], [6, 8]])
    >>> covering_radius(X, X[:1]), covering_radius(X, X[[0, 2]])
    (10.0, 5.0)
    """
    return float(np.sqrt(min_sq_dist(check_features(X), check_features(centers)).max()))


class Coreset(Strategy):
    """Core-set (Sener & Savarese, 2018): k-center greedy with the labeled items as centers.

    Needs no model: it only looks at ``ctx.X``. At cold start (nothing labeled) the first pick
    is random (from ``ctx.rng``) and the rest spread out from it.

    Examples
    --------
    >>> import numpy as np
    >>> from alwidget.strategies import QueryContext
    >>> X = np.array([[0.0], [1.0], [2.0], [9.0], [10.0]])
    >>> labels = np.array([0, -1, -1, -1, -1])
    >>> ctx = QueryContext(X=X, labels=labels, candidates=np.arange(1, 5), proba=None,
    ...                    model=None, estimator=None, n_classes=2, rng=np.random.default_rng(0))
    >>> Coreset().query(ctx, 2)[0].tolist()  # the far end, then the middle
    [4, 2]
    """

    name = "coreset"
    needs_model = False

    def query(self, ctx: QueryContext, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
        centers = ctx.X[ctx.labeled]
        n, cand = ctx.X.shape[0], ctx.candidates
        if 2 * cand.size < n:  # few candidates: work on their copy
            pos, d = k_center_greedy(ctx.X[cand], batch_size, centers, ctx.rng)
            return cand[pos], d
        # most of the pool: no copy of it; the other items are never picked
        allowed = np.zeros(n, dtype=bool)
        allowed[cand] = True
        return k_center_greedy(ctx.X, batch_size, centers, ctx.rng, allowed=allowed)


def _assign(X: np.ndarray, C: np.ndarray) -> np.ndarray:
    """Nearest centroid of each row (scikit-learn, chunked)."""
    from sklearn.metrics import pairwise_distances_argmin

    return pairwise_distances_argmin(X, C).astype(np.int64)


def cluster_batch(
    X: np.ndarray,
    scores: np.ndarray,
    k: int,
    rng: np.random.Generator | int | None = None,
    max_fit: int = 20000,
) -> tuple[np.ndarray, np.ndarray]:
    """Cluster-based batch: k-means into ``k`` clusters, the best-scoring item of each.

    k-means (one k-means++ initialisation, at most 50 Lloyd iterations) is fitted on at most
    ``max_fit`` items drawn at random; every item is then assigned to its nearest centroid
    blockwise. Clusters that receive no item are filled with the best remaining scores.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Features to cluster.
    scores : ndarray of shape (n_samples,)
        Informativeness of each item (e.g. entropy); higher is better.
    k : int
        Batch size = number of clusters; clipped to ``n_samples``.
    rng : Generator, int or None
        Seeds the subsample and k-means.
    max_fit : int, default=20000
        Largest sample k-means is fitted on (bounds the cost at 100k items).

    Returns
    -------
    positions : ndarray of shape (k,), int64
        Unique positions, sorted by decreasing score.
    scores : ndarray of shape (k,), float64
        Their scores.

    Raises
    ------
    ValueError
        On shape mismatches.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_blobs
    >>> X, y = make_blobs(300, centers=[[0, 0], [10, 0], [0, 10]], cluster_std=0.5, random_state=0)
    >>> scores = np.random.default_rng(0).random(300)
    >>> pos, _ = cluster_batch(X, scores, 3, rng=0)
    >>> sorted(y[pos].tolist())  # one item from each of the three clusters
    [0, 1, 2]
    """
    rng = np.random.default_rng(rng)
    scores = np.asarray(scores, dtype=np.float64)
    Xf = f32(check_features(X, scores.shape[0]))
    n = Xf.shape[0]
    k = min(int(k), n)
    if k <= 0:
        return np.empty(0, np.int64), np.empty(0)
    fit_idx = rng.choice(n, size=max_fit, replace=False) if n > max_fit else np.arange(n)
    km = KMeans(n_clusters=k, n_init=1, max_iter=50, random_state=int(rng.integers(2**31 - 1))).fit(
        Xf[fit_idx]
    )
    lab = _assign(Xf, f32(km.cluster_centers_))
    s = np.nan_to_num(scores, nan=-np.inf)
    tie = rng.random(n) * 1e-12  # seeded tie-breaking
    order = np.lexsort((-tie, -s))  # best first
    first = np.full(k, -1, dtype=np.int64)
    seen = np.zeros(k, dtype=bool)
    lab_o = lab[order]
    _, where = np.unique(lab_o, return_index=True)
    clusters = lab_o[where]
    first[clusters] = order[where]
    seen[clusters] = True
    picks = first[seen]
    if picks.size < k:
        taken = np.zeros(n, dtype=bool)
        taken[picks] = True
        extra = order[~taken[order]][: k - picks.size]
        picks = np.concatenate([picks, extra])
    picks = picks[np.argsort(-s[picks], kind="stable")]
    return picks.astype(np.int64), scores[picks]


class ClusterBatch(Strategy):
    """Cluster-based batch (Zhdanov, 2019): k-means on the candidates, most uncertain per cluster.

    Parameters
    ----------
    measure : {"entropy", "margin", "least_confidence"}, default="entropy"
        Uncertainty used to pick inside a cluster.
    max_fit : int, default=20000
        See :func:`cluster_batch`.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_blobs
    >>> from alwidget.strategies import QueryContext
    >>> X, y = make_blobs(200, centers=2, random_state=0)
    >>> P = np.full((200, 2), 0.5)
    >>> ctx = QueryContext(X=X, labels=np.full(200, -1), candidates=np.arange(200), proba=P,
    ...                    model=None, estimator=None, n_classes=2, rng=np.random.default_rng(0))
    >>> idx, _ = ClusterBatch().query(ctx, 2)
    >>> sorted(y[idx].tolist())  # equally unsure everywhere: one pick per cluster
    [0, 1]
    """

    name = "cluster_batch"

    def __init__(self, measure: str = "entropy", max_fit: int = 20000) -> None:
        self.measure, self.max_fit = measure, max_fit

    def query(self, ctx: QueryContext, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
        P = require_proba(ctx, self.name)[ctx.candidates]
        s = getattr(_u, self.measure)(P)
        pos, sc = cluster_batch(ctx.X[ctx.candidates], s, batch_size, ctx.rng, self.max_fit)
        return ctx.candidates[pos], sc
