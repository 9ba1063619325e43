"""Density: information density weighting and outlier scores, without an n x n matrix.

References
----------
Settles, B. & Craven, M. (2008). An analysis of active learning strategies for sequence
labeling tasks. EMNLP (information density).
Liu, F. T., Ting, K. M. & Zhou, Z.-H. (2008). Isolation forest. ICDM.
"""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import IsolationForest

from . import uncertainty as _u
from ._utils import BLOCK_BYTES, check_features, require_proba, row_sq_norms
from .base import QueryContext, ScoreStrategy

__all__ = [
    "pool_similarity",
    "knn_density",
    "information_density",
    "outlier_scores",
    "InformationDensity",
]


def _reference(X_ref, n_reference, rng):
    if n_reference is not None and X_ref.shape[0] > n_reference:
        idx = np.sort(np.random.default_rng(rng).choice(X_ref.shape[0], n_reference, replace=False))
        return X_ref[idx]
    return X_ref


def pool_similarity(
    X: np.ndarray,
    X_ref: np.ndarray | None = None,
    metric: str = "cosine",
    n_reference: int | None = None,
    rng: np.random.Generator | int | None = None,
    block: int = 2048,
) -> np.ndarray:
    """Mean similarity of each row of ``X`` to the rows of ``X_ref`` (the pool).

    * ``"cosine"``: ``(1/U) sum_u cos(x, u) = <x/|x|, mean_u u/|u|>``, exact in ``O((n + U) d)``
      time and ``O(n)`` memory: no pairwise matrix at all. Negative means (possible when
      features take both signs) are clipped to 0.
    * ``"knn"``: the Gaussian kNN density of :func:`knn_density` (the default of
      :class:`InformationDensity`).
    * ``"euclidean"``: ``(1/U) sum_u 1 / (1 + |x - u|)`` (modAL's convention), from
      scikit-learn's ``pairwise_distances_chunked`` in float64 chunks of at most 64 MB:
      ``O(n U d)`` time; set ``n_reference`` to average over a random sample of the pool and
      bound the cost.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    X_ref : ndarray of shape (n_ref, n_features), optional
        The pool to compare against; default ``X``.
    metric : {"cosine", "euclidean", "knn"}, default="cosine"
    n_reference : int, optional
        Average over at most this many reference rows drawn at random.
    rng : Generator, int or None
        Seed for the reference sample.
    block : int, default=2048
        Ignored (kept for compatibility): chunks are sized by memory.

    Returns
    -------
    similarity : ndarray of shape (n_samples,), float64
        In ``[0, 1]``.

    Raises
    ------
    ValueError
        On an unknown metric or shape mismatch.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 0.0], [1.0, 0.1], [0.0, 1.0]])
    >>> pool_similarity(X).round(2).tolist()  # the first two point the same way
    [0.67, 0.7, 0.37]
    """
    X = check_features(X)
    R = X if X_ref is None else check_features(X_ref, name="X_ref")
    if R.shape[1] != X.shape[1]:
        raise ValueError(f"X_ref has {R.shape[1]} features; X has {X.shape[1]}")
    R = _reference(R, n_reference, rng)
    if metric == "cosine":
        Xn = np.asarray(X, dtype=np.float64)
        Rn = np.asarray(R, dtype=np.float64)
        xs = np.sqrt(row_sq_norms(Xn))
        rs = np.sqrt(row_sq_norms(Rn))
        rs[rs == 0] = 1.0
        m = (Rn / rs[:, None]).mean(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            sim = (Xn @ m) / xs
        return np.clip(np.nan_to_num(sim, nan=0.0), 0.0, 1.0)
    if metric == "euclidean":
        from sklearn import config_context
        from sklearn.metrics import pairwise_distances_chunked

        def mean_inverse(D: np.ndarray, start: int) -> np.ndarray:
            return (1.0 / (1.0 + D)).mean(axis=1)

        with config_context(working_memory=BLOCK_BYTES // 2**20):
            chunks = pairwise_distances_chunked(
                np.asarray(X, dtype=np.float64),
                np.asarray(R, dtype=np.float64),
                reduce_func=mean_inverse,
            )
            return np.concatenate(list(chunks))
    if metric == "knn":
        return knn_density(X, X_ref, n_reference=n_reference, rng=rng)
    raise ValueError(f"unknown metric {metric!r}; use 'knn', 'cosine' or 'euclidean'")


def information_density(
    uncertainty: np.ndarray,
    X: np.ndarray,
    beta: float = 1.0,
    metric: str = "cosine",
    X_ref: np.ndarray | None = None,
    n_reference: int | None = None,
    rng: np.random.Generator | int | None = None,
) -> np.ndarray:
    """Information density (Settles & Craven, 2008): ``phi(x) * sim(x, pool)^beta``.

    Parameters
    ----------
    uncertainty : ndarray of shape (n_samples,)
        Base informativeness ``phi(x)`` (e.g. entropy), non-negative.
    X : ndarray of shape (n_samples, n_features)
        Features of the scored items.
    beta : float, default=1.0
        Weight of the density term; 0 gives back ``uncertainty``.
    metric, X_ref, n_reference, rng
        See :func:`pool_similarity`.

    Returns
    -------
    scores : ndarray of shape (n_samples,), float64
        Higher = more informative.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.vstack([np.random.default_rng(0).normal(size=(50, 2)), [[9.0, 9.0]]])
    >>> u = np.ones(51)  # equally uncertain
    >>> s = information_density(u, X, metric="knn")
    >>> int(np.argmin(s))  # the outlier counts least
    50
    """
    u = np.asarray(uncertainty, dtype=np.float64)
    sim = pool_similarity(X, X_ref, metric, n_reference, rng)
    if sim.shape != u.shape:
        raise ValueError(f"uncertainty has shape {u.shape}; expected {sim.shape}")
    return u * sim**beta


def outlier_scores(
    X: np.ndarray,
    X_ref: np.ndarray | None = None,
    method: str = "knn",
    n_neighbors: int = 10,
    n_reference: int | None = 5000,
    rng: np.random.Generator | int | None = None,
    X_index: np.ndarray | None = None,
) -> np.ndarray:
    """How much each row of ``X`` looks like an outlier of the pool ``X_ref``.

    * ``"knn"``: mean Euclidean distance to the ``n_neighbors`` nearest rows of a random
      reference sample of at most ``n_reference`` pool rows, exact (scikit-learn's
      ``NearestNeighbors``). The item itself is excluded **by index** (``X_index``, or all
      of ``X`` when ``X_ref`` is None), never by a distance threshold, so a duplicate item
      still counts as a neighbour at distance 0. ``O(n * n_reference * d)`` time.
    * ``"isolation_forest"``: ``-IsolationForest.score_samples`` (Liu et al., 2008), fitted on
      the reference sample.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Items to score.
    X_ref : ndarray of shape (n_pool, n_features), optional
        The pool; default ``X``.
    method : {"knn", "isolation_forest"}
    n_neighbors : int, default=10
    n_reference : int or None, default=5000
        Reference sample size (None: the whole pool).
    rng : Generator, int or None
        Seed of the reference sample.
    X_index : ndarray of shape (n_samples,), int, optional
        Row of each item of ``X`` in ``X_ref`` (-1: not in it), to leave itself out.

    Returns
    -------
    scores : ndarray of shape (n_samples,), float64
        Higher = more outlying (lower density).

    Raises
    ------
    ValueError
        On an unknown method, or ``X_index`` of the wrong length.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.vstack([np.random.default_rng(0).normal(size=(50, 2)), [[9.0, 9.0]]])
    >>> int(np.argmax(outlier_scores(X, n_neighbors=5)))
    50
    """
    X, R, ref_idx, X_index, rng = _reference_sample(X, X_ref, X_index, n_reference, rng)
    if method == "knn":
        d, keep = _neighbour_distances(X, R, ref_idx, X_index, n_neighbors)
        return (d * keep).sum(axis=1) / np.maximum(keep.sum(axis=1), 1)
    if method == "isolation_forest":
        iso = IsolationForest(random_state=int(rng.integers(2**31 - 1))).fit(R)
        return -iso.score_samples(X)
    raise ValueError(f"unknown outlier method {method!r}; use 'knn' or 'isolation_forest'")


def _reference_sample(
    X: np.ndarray,
    X_ref: np.ndarray | None,
    X_index: np.ndarray | None,
    n_reference: int | None,
    rng: np.random.Generator | int | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None, np.random.Generator]:
    """The rows to compare against: ``X_ref`` (default ``X``, each item then its own row),
    or a sorted random sample of at most ``n_reference`` of them. Returns the checked X,
    the reference rows, their pool rows, ``X_index`` and the generator."""
    gen = np.random.default_rng(rng)
    X = check_features(X)
    if X_ref is None:
        X_ref, X_index = X, np.arange(X.shape[0])
    else:
        X_ref = check_features(X_ref, name="X_ref")
    ref_idx = np.arange(X_ref.shape[0])
    if n_reference is not None and X_ref.shape[0] > n_reference:
        ref_idx = np.sort(gen.choice(X_ref.shape[0], n_reference, replace=False))
    return X, X_ref[ref_idx], ref_idx, X_index, gen


def _neighbour_distances(
    X: np.ndarray, R: np.ndarray, ref_idx: np.ndarray, X_index: np.ndarray | None, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Euclidean distances of each row of X to its ``k`` nearest rows of ``R`` (scikit-learn
    ``NearestNeighbors``, exact), and which of them to keep: the item itself (``X_index`` =
    its row in the pool, ``ref_idx`` = the pool rows of ``R``) is left out **by index**, never
    by distance, and everyone keeps exactly ``k`` neighbours."""
    from sklearn.neighbors import NearestNeighbors

    if X_index is None:
        X_index = np.full(X.shape[0], -1)
    X_index = np.asarray(X_index, dtype=np.int64)
    if X_index.shape != (X.shape[0],):
        raise ValueError(f"X_index must have shape ({X.shape[0]},); got {X_index.shape}")
    k = min(int(k), R.shape[0] - 1) if R.shape[0] > 1 else 1
    nn = NearestNeighbors(n_neighbors=min(k + 1, R.shape[0])).fit(R)
    d, nb = nn.kneighbors(X)
    keep = ref_idx[nb] != X_index[:, None]  # the item itself, by index
    no_self = keep.all(axis=1)
    if d.shape[1] > k:
        keep[no_self, -1] = False  # k neighbours for everyone
    return d, keep


def knn_density(
    X: np.ndarray,
    X_ref: np.ndarray | None = None,
    n_neighbors: int = 20,
    n_reference: int | None = 2000,
    rng: np.random.Generator | int | None = None,
    X_index: np.ndarray | None = None,
) -> np.ndarray:
    """Density of each row of ``X`` in the pool: the mean Gaussian kernel over its
    ``n_neighbors`` nearest pool rows, ``exp(-d^2 / (2 sigma^2))``, with the bandwidth
    ``sigma`` the median of those distances (the median heuristic).

    No ``n x n`` matrix: exact neighbours (scikit-learn) among a random reference sample of
    at most ``n_reference`` pool rows, ``O(n * n_reference * d)`` time. The item itself is
    left out by index, as in :func:`outlier_scores`. This replaces the mean cosine similarity
    as the weight of information density: on centred features the cosine weight is 0 for
    about half the pool (docs/strategies.md).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    X_ref : ndarray of shape (n_pool, n_features), optional
        The pool; default ``X`` (then each item is left out of its own neighbours).
    n_neighbors : int, default=20
    n_reference : int or None, default=2000
    rng : Generator, int or None
        Seed of the reference sample.
    X_index : ndarray of shape (n_samples,), int, optional
        Row of each item of ``X`` in ``X_ref`` (-1: not in it).

    Returns
    -------
    density : ndarray of shape (n_samples,), float64
        In ``(0, 1]``; higher = denser.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.vstack([np.random.default_rng(0).normal(size=(200, 2)), [[8.0, 8.0]]])
    >>> w = knn_density(X)
    >>> bool(w[-1] < np.median(w[:200]) / 10)  # the far outlier is in no dense region
    True
    """
    X, R, ref_idx, X_index, _ = _reference_sample(X, X_ref, X_index, n_reference, rng)
    d, keep = _neighbour_distances(X, R, ref_idx, X_index, n_neighbors)
    sigma = float(np.median(d[keep])) if keep.any() else 1.0
    sigma = sigma if sigma > 0 else 1.0
    g = np.exp(-np.square(d) / (2.0 * sigma**2)) * keep
    return g.sum(axis=1) / np.maximum(keep.sum(axis=1), 1)


class InformationDensity(ScoreStrategy):
    """Information density (Settles & Craven, 2008): uncertainty x density^beta.

    The density weight is by default the Gaussian kNN density of each item in the pool
    (:func:`knn_density`, computed once per pool); ``metric="cosine"`` gives the mean cosine
    similarity of the original paper (on centred features it is 0 for about half the pool
    and was below random on digits: docs/strategies.md).

    Parameters
    ----------
    measure : {"entropy", "margin", "least_confidence"}, default="entropy"
        The base uncertainty ``phi``.
    beta : float, default=1.0
    metric : {"knn", "cosine", "euclidean"}, default="knn"
    n_reference : int, default=2000
        Reference sample size for ``"knn"`` and ``"euclidean"`` (cosine is exact at any size).

    Examples
    --------
    >>> import numpy as np
    >>> from alwidget.strategies import QueryContext
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(size=(100, 2)), [[9.0, 9.0]]])  # item 100: a far outlier
    >>> P = np.full((101, 2), 0.5)  # the model is equally unsure everywhere
    >>> ctx = QueryContext(X=X, labels=np.full(101, -1), candidates=np.arange(101), proba=P,
    ...                    model=None, estimator=None, n_classes=2, rng=rng)
    >>> idx, _ = InformationDensity().query(ctx, 5)
    >>> 100 in idx.tolist()  # density keeps the outlier out of the batch
    False
    """

    def __init__(
        self,
        measure: str = "entropy",
        beta: float = 1.0,
        metric: str = "knn",
        n_reference: int = 2000,
    ) -> None:
        self.base, self.beta, self.metric, self.n_reference = measure, beta, metric, n_reference
        self._density: tuple[tuple[int, tuple[int, ...]], np.ndarray] | None = None
        super().__init__(self._score, name="information_density", measure=measure)

    def _score(self, ctx: QueryContext) -> np.ndarray:
        P = require_proba(ctx, self.name)[ctx.candidates]
        u = getattr(_u, self.base)(P)
        if self.metric == "knn":  # the density of every pool item, once per pool
            key = (id(ctx.X), tuple(ctx.X.shape))
            if self._density is None or self._density[0] != key:
                w = knn_density(ctx.X, n_reference=self.n_reference, rng=ctx.rng)
                self._density = (key, w)
            return np.asarray(u, dtype=np.float64) * self._density[1][ctx.candidates] ** self.beta
        Xc = ctx.X[ctx.candidates]
        nref = None if self.metric == "cosine" else self.n_reference
        return information_density(u, Xc, self.beta, self.metric, None, nref, ctx.rng)
