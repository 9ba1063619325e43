"""Cold-start strategies for tiny budgets: TypiClust and ProbCover.

Both look only at the features (``needs_model = False``), so they work before any label is
known, and both prefer *typical* (dense) regions over the outliers that uncertainty and
k-center pick first, which is what helps when very few labels exist.

References
----------
Hacohen, G., Dekel, A. & Weinshall, D. (2022). Active Learning on a Budget: Opposite
Strategies Suit High and Low Budgets. ICML (TypiClust).
Yehuda, O., Dekel, A., Hacohen, G. & Weinshall, D. (2022). Active Learning Through a Covering
Lens. NeurIPS (ProbCover).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.neighbors import NearestNeighbors, radius_neighbors_graph

from ._utils import check_features, f32
from .base import QueryContext, Strategy

__all__ = [
    "TypiClust",
    "ProbCover",
    "typicality",
    "typiclust_select",
    "probcover_delta",
    "probcover_select",
    "cold_start_select",
]


def _rng(rng: np.random.Generator | int | None) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def typicality(X: np.ndarray, n_neighbors: int = 20) -> np.ndarray:
    """Typicality of each row: ``1 / mean distance to its n_neighbors nearest neighbours``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Points (in TypiClust, the members of one cluster).
    n_neighbors : int, default=20
        Neighbours per point (Hacohen et al., 2022 use 20); clipped to ``n_samples - 1``.

    Returns
    -------
    typ : ndarray of shape (n_samples,), float64
        Higher = denser neighbourhood. A single point gets typicality 1.0.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [0.1], [0.2], [5.0]])
    >>> int(np.argmax(typicality(X, n_neighbors=2)))
    1
    """
    X = check_features(X)
    n = X.shape[0]
    if n <= 1:
        return np.ones(n)
    k = min(int(n_neighbors), n - 1)
    d, _ = NearestNeighbors(n_neighbors=k + 1).fit(X).kneighbors(X)
    return 1.0 / (d[:, 1:].mean(axis=1) + 1e-12)


def _kmeans_labels(X: np.ndarray, k: int, rng: np.random.Generator, max_fit: int) -> np.ndarray:
    seed = int(rng.integers(2**31 - 1))
    if X.shape[0] <= max_fit:
        return KMeans(n_clusters=k, n_init=1, random_state=seed).fit_predict(X)
    km = MiniBatchKMeans(n_clusters=k, n_init=3, random_state=seed, batch_size=4096)
    return km.fit(X).predict(X)


def typiclust_select(
    X: np.ndarray,
    labeled: np.ndarray,
    candidates: np.ndarray,
    k: int,
    rng: np.random.Generator | int | None = None,
    n_neighbors: int = 20,
    max_fit: int = 20000,
) -> tuple[np.ndarray, np.ndarray]:
    """TypiClust (Hacohen et al., 2022): the most typical item of each uncovered cluster.

    The pool is clustered by k-means into ``n_labeled + k`` clusters (``MiniBatchKMeans`` when
    the pool has more than ``max_fit`` rows); clusters that hold no labeled item are
    *uncovered*. The largest uncovered clusters are visited first, and from each the candidate
    with the highest :func:`typicality` (within its cluster) is picked. If fewer than ``k``
    uncovered clusters hold a candidate, the cluster just used counts as covered and the loop
    continues on the largest clusters again, so a full batch is always returned.

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
    rng : numpy.random.Generator or int, optional
        Seed for k-means.
    n_neighbors : int, default=20
        Neighbours in the typicality estimate.
    max_fit : int, default=20000
        Pools larger than this use ``MiniBatchKMeans``.

    Returns
    -------
    indices : ndarray of shape (k,), int64
        Pool indices, all in ``candidates``, in pick order (largest cluster first).
    scores : ndarray of shape (k,), float64
        Typicality of each pick within its cluster.

    Raises
    ------
    ValueError
        If ``X`` is not 2-D or ``labeled`` does not have one entry per row.
    """
    X = f32(check_features(X))
    n = X.shape[0]
    labeled = np.asarray(labeled, dtype=bool)
    if labeled.shape != (n,):
        raise ValueError(f"labeled has shape {labeled.shape}; expected ({n},), one per row of X")
    candidates = np.asarray(candidates, dtype=np.int64)
    k = min(int(k), candidates.shape[0])
    if k <= 0:
        return np.empty(0, dtype=np.int64), np.empty(0)
    rng = _rng(rng)
    n_clusters = min(int(labeled.sum()) + k, n)
    assign = _kmeans_labels(X, n_clusters, rng, max_fit)
    sizes = np.bincount(assign, minlength=n_clusters)
    covered = np.zeros(n_clusters, dtype=bool)
    covered[np.unique(assign[labeled])] = True
    is_cand = np.zeros(n, dtype=bool)
    is_cand[candidates] = True
    picks: list[int] = []
    scores: list[float] = []
    typ_cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    while len(picks) < k:
        open_ = np.flatnonzero(~covered)
        if open_.size == 0:
            covered[:] = False  # every cluster visited: start another round
            continue
        # largest uncovered cluster first; ties by cluster id (deterministic)
        c = int(open_[np.argsort(-sizes[open_], kind="stable")[0]])
        covered[c] = True
        if c not in typ_cache:
            members = np.flatnonzero(assign == c)
            typ_cache[c] = (members, typicality(X[members], n_neighbors))
        members, typ = typ_cache[c]
        ok = is_cand[members]
        if not ok.any():
            continue
        best = int(np.argmax(np.where(ok, typ, -np.inf)))
        picks.append(int(members[best]))
        scores.append(float(typ[best]))
        is_cand[members[best]] = False
    return np.asarray(picks, dtype=np.int64), np.asarray(scores)


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
    rng = _rng(rng)
    if X.shape[0] > max_sample:
        X = X[rng.choice(X.shape[0], max_sample, replace=False)]
    n = X.shape[0]
    if n < 3:
        return 1.0
    assign = _kmeans_labels(X, min(max(int(n_classes), 2), n), rng, max_sample)
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
    rng = _rng(rng)
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


class TypiClust(Strategy):
    """TypiClust (Hacohen et al., 2022): typical items of uncovered k-means clusters.

    Needs no model, so it can pick the very first batch. See :func:`typiclust_select`.

    Parameters
    ----------
    n_neighbors : int, default=20
        Neighbours in the typicality estimate.
    max_fit : int, default=20000
        Pools larger than this are clustered with ``MiniBatchKMeans``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_blobs
    >>> from alwidget.strategies import QueryContext
    >>> X, _ = make_blobs(200, centers=4, random_state=0)
    >>> ctx = QueryContext(X=X, labels=np.full(200, -1), candidates=np.arange(200), proba=None,
    ...                    model=None, estimator=None, n_classes=4, rng=np.random.default_rng(0))
    >>> idx, scores = TypiClust().query(ctx, 4)
    >>> idx.shape
    (4,)
    """

    name = "typiclust"
    needs_model = False

    def __init__(self, n_neighbors: int = 20, max_fit: int = 20000) -> None:
        self.n_neighbors = n_neighbors
        self.max_fit = max_fit

    def query(self, ctx: QueryContext, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
        return typiclust_select(
            ctx.X, ctx.labeled, ctx.candidates, batch_size, ctx.rng, self.n_neighbors, self.max_fit
        )


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


def cold_start_select(
    rule: str,
    X: np.ndarray,
    candidates: np.ndarray,
    k: int,
    rng: np.random.Generator,
    labels: np.ndarray | None = None,
    n_classes: int = 2,
) -> np.ndarray:
    """Pool indices for a cold-start batch by ``"typiclust"`` or ``"probcover"``.

    The hook for :func:`alwidget.selection.cold_start_pick`.

    Parameters
    ----------
    rule : {"typiclust", "probcover"}
        The cold-start rule.
    X : ndarray of shape (n_samples, n_features)
        Features of the whole pool.
    candidates : ndarray of shape (n_candidates,), int
        Pool indices that may be picked.
    k : int
        Batch size.
    rng : numpy.random.Generator
        Seeded generator.
    labels : ndarray of shape (n_samples,), int, optional
        Label codes (``-1`` unlabeled); all unlabeled if omitted.
    n_classes : int, default=2
        Number of classes (for ProbCover's radius).

    Returns
    -------
    ndarray of shape (min(k, n_candidates),), int64
        Pool indices, all in ``candidates``.

    Raises
    ------
    ValueError
        For an unknown ``rule``.
    """
    n = np.asarray(X).shape[0]
    labeled = np.zeros(n, dtype=bool) if labels is None else np.asarray(labels) >= 0
    if rule == "typiclust":
        return typiclust_select(X, labeled, candidates, k, rng)[0]
    if rule == "probcover":
        delta = probcover_delta(X, n_classes, rng)
        return probcover_select(X, labeled, candidates, k, delta, rng)[0]
    raise ValueError(f"unknown cold-start rule {rule!r}; use 'typiclust' or 'probcover'")
