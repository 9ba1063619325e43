"""ProbCover (Yehuda et al., 2022): greedy coverage of ``delta``-balls, for tiny budgets.

Needs no model (``needs_model = False``); prefers dense regions, like TypiClust
(:mod:`alwidget.strategies.typicality`).

References
----------
Yehuda, O., Dekel, A., Hacohen, G. & Weinshall, D. (2022). Active Learning Through a Covering
Lens. NeurIPS.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.neighbors import NearestNeighbors, radius_neighbors_graph

from ._utils import as_generator, check_features, f32, kmeans_labels
from .base import QueryContext, Strategy

__all__ = ["ProbCover", "probcover_delta", "probcover_select"]


def probcover_delta(
    X: np.ndarray,
    n_classes: int,
    rng: np.random.Generator | int | None = None,
    purity: float = 0.95,
    max_sample: int = 3000,
    n_grid: int = 20,
) -> float:
    """Ball radius for ProbCover by the purity rule of Yehuda et al. (2022).

    The pool (a random sample of at most ``max_sample`` rows, for bounded memory) is clustered
    by k-means with ``n_classes`` clusters as a stand-in for the unknown labels; a ball is
    *pure* when every point in it has its centre's cluster. The returned radius is the largest
    of ``n_grid`` candidates (quantiles of the nearest-neighbour distances up to the median
    pairwise distance) for which at least ``purity`` of the balls are pure.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Features of the pool.
    n_classes : int
        Number of classes (clusters in the purity estimate); at least 2 is used.
    rng : numpy.random.Generator or int, optional
        Seed for the sample and k-means.
    purity : float, default=0.95
        Required fraction of pure balls (the paper's alpha).
    max_sample : int, default=3000
        Rows used for the estimate.
    n_grid : int, default=20
        Candidate radii tried.

    Returns
    -------
    delta : float
        Euclidean radius, > 0.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> X, _ = make_blobs(300, centers=3, cluster_std=0.5, random_state=0)
    >>> probcover_delta(X, 3, rng=0) > 0
    True
    """
    X = f32(check_features(X))
    rng = as_generator(rng)
    if X.shape[0] > max_sample:
        X = X[rng.choice(X.shape[0], max_sample, replace=False)]
    n = X.shape[0]
    if n < 3:
        return 1.0
    assign = kmeans_labels(X, min(max(int(n_classes), 2), n), rng, max_sample)
    nn = NearestNeighbors(n_neighbors=min(n, 50)).fit(X)
    d, idx = nn.kneighbors(X)
    # radii from the 1st nearest-neighbour distance up to the 50th neighbour's distance
    lo = float(np.quantile(d[:, 1], 0.5))
    hi = float(np.quantile(d[:, -1], 0.5))
    if not hi > lo:
        return max(hi, 1e-6)
    grid = np.linspace(lo, hi, n_grid)
    same = assign[idx] == assign[:, None]
    best = grid[0]
    for delta in grid:
        inside = d <= delta
        pure = np.all(same | ~inside, axis=1)
        # balls with more than 50 points are judged on their 50 nearest (a bounded estimate)
        if pure.mean() >= purity:
            best = delta
        else:
            break
    return float(max(best, 1e-6))


def probcover_select(
    X: np.ndarray,
    labeled: np.ndarray,
    candidates: np.ndarray,
    k: int,
    delta: float,
    rng: np.random.Generator | int | None = None,
    max_pool: int = 20000,
) -> tuple[np.ndarray, np.ndarray]:
    """ProbCover (Yehuda et al., 2022): greedy max coverage of ``delta``-balls.

    Builds the sparse ``delta``-ball graph (``sklearn.neighbors.radius_neighbors_graph``;
    memory grows with the number of edges, not ``n^2``), marks everything within ``delta`` of
    a labeled item as covered, then repeatedly picks the candidate whose ball covers the most
    still-uncovered points. Once all points are covered the remaining picks are random
    candidates (score 0), as in the paper. Pools larger than ``max_pool`` are subsampled
    (labeled items and picks are always kept in the graph's point set) to bound memory.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Features of the whole pool.
    labeled : ndarray of shape (n_samples,), bool
        True where a label is known.
    candidates : ndarray of shape (n_candidates,), int
        Pool indices that may be picked.
    k : int
        Batch size; clipped to ``len(candidates)``.
    delta : float
        Ball radius (Euclidean); see :func:`probcover_delta`.
    rng : numpy.random.Generator or int, optional
        Seed for subsampling and the random picks after full coverage.
    max_pool : int, default=20000
        Largest point set the graph is built on.

    Returns
    -------
    indices : ndarray of shape (k,), int64
        Pool indices, all in ``candidates``, in pick order.
    scores : ndarray of shape (k,), float64
        Number of newly covered points each pick added.

    Raises
    ------
    ValueError
        If ``delta`` is not positive or ``labeled`` has the wrong shape.

    Examples
    --------
    Four blobs of 50, nothing labeled: each pick's ball covers (most of) a new blob.

    >>> import numpy as np
    >>> from sklearn.datasets import make_blobs
    >>> X, blob = make_blobs(200, centers=4, cluster_std=0.5, random_state=0)
    >>> delta = probcover_delta(X, n_classes=4, rng=0)
    >>> idx, gains = probcover_select(X, np.zeros(200, bool), np.arange(200), 4, delta, rng=0)
    >>> sorted(blob[idx].tolist()), gains.tolist()
    ([0, 1, 2, 3], [50.0, 50.0, 49.0, 49.0])
    """
    X = f32(check_features(X))
    n = X.shape[0]
    if not delta > 0:
        raise ValueError(f"delta must be > 0; got {delta}. Use probcover_delta(X, n_classes).")
    labeled = np.asarray(labeled, dtype=bool)
    if labeled.shape != (n,):
        raise ValueError(f"labeled has shape {labeled.shape}; expected ({n},), one per row of X")
    candidates = np.asarray(candidates, dtype=np.int64)
    k = min(int(k), candidates.shape[0])
    if k <= 0:
        return np.empty(0, dtype=np.int64), np.empty(0)
    rng = as_generator(rng)
    lab_idx = np.flatnonzero(labeled)
    cand = candidates
    if n > max_pool:
        room = max(max_pool - lab_idx.size, k)
        cand = rng.choice(candidates, size=min(room, candidates.size), replace=False)
    pts = np.concatenate([lab_idx, cand])
    A = radius_neighbors_graph(X[pts], delta, mode="connectivity", include_self=True)
    A = sp.csr_matrix(A, dtype=np.float32)
    m = pts.size
    uncovered = np.ones(m, dtype=bool)
    if lab_idx.size:
        uncovered[A[: lab_idx.size].indices] = False
    # gain[i] = number of uncovered points in the ball of point i (A is symmetric)
    gain = np.asarray(A @ uncovered.astype(np.float32)).ravel()
    is_cand = np.zeros(m, dtype=bool)
    is_cand[lab_idx.size :] = True
    picks: list[int] = []
    scores: list[float] = []
    while len(picks) < k:
        g = np.where(is_cand, gain, -1.0)
        p = int(np.argmax(g))
        if g[p] <= 0:
            break
        picks.append(int(pts[p]))
        scores.append(float(g[p]))
        is_cand[p] = False
        row = A.indices[A.indptr[p] : A.indptr[p + 1]]
        newly = row[uncovered[row]]
        uncovered[newly] = False
        if newly.size:
            gain -= np.asarray(A[:, newly].sum(axis=1)).ravel()
    if len(picks) < k:  # everything covered: random remaining candidates
        rest = np.setdiff1d(candidates, np.asarray(picks, dtype=np.int64))
        extra = rng.choice(rest, size=k - len(picks), replace=False)
        picks.extend(int(i) for i in extra)
        scores.extend([0.0] * extra.size)
    return np.asarray(picks, dtype=np.int64), np.asarray(scores)


class ProbCover(Strategy):
    """ProbCover (Yehuda et al., 2022): greedy coverage of ``delta``-balls.

    Needs no model. See :func:`probcover_select` and :func:`probcover_delta`.

    Parameters
    ----------
    delta : float, optional
        Ball radius; if omitted, chosen on the first query by the purity rule
        (:func:`probcover_delta`) and kept for later queries on the same pool.
    purity : float, default=0.95
        Purity required by the automatic radius.
    max_pool : int, default=20000
        Largest point set the ball graph is built on.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_blobs
    >>> from alwidget.strategies import QueryContext
    >>> X, _ = make_blobs(200, centers=4, random_state=0)
    >>> ctx = QueryContext(X=X, labels=np.full(200, -1), candidates=np.arange(200), proba=None,
    ...                    model=None, estimator=None, n_classes=4, rng=np.random.default_rng(0))
    >>> idx, gains = ProbCover().query(ctx, 4)
    >>> bool(np.all(gains[:-1] >= gains[1:]))
    True
    """

    name = "probcover"
    needs_model = False

    def __init__(
        self, delta: float | None = None, purity: float = 0.95, max_pool: int = 20000
    ) -> None:
        self.delta = delta
        self.purity = purity
        self.max_pool = max_pool
        self.delta_: float | None = delta
        self._pool_shape: tuple[int, ...] | None = None

    def query(self, ctx: QueryContext, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
        if self.delta is None and (self.delta_ is None or self._pool_shape != ctx.X.shape):
            self.delta_ = probcover_delta(ctx.X, ctx.n_classes, ctx.rng, self.purity)
            self._pool_shape = ctx.X.shape
        assert self.delta_ is not None
        return probcover_select(
            ctx.X, ctx.labeled, ctx.candidates, batch_size, self.delta_, ctx.rng, self.max_pool
        )
