"""Pools beyond one machine: the query strategies' heavy steps on a Dask array, chunk by chunk.

A pool of 10M x 384 float32 embeddings is 15 GB: it outgrows one process. :class:`DaskPool`
holds it as a :class:`dask.array.Array` chunked by rows (on a ``dask.distributed`` cluster, or
Dask's local scheduler) and runs the parts of a query that touch every row where the data
lives:

- **uncertainty family** (least confidence, margin, entropy): the fitted model is one key of
  the task graph per retrain (sent to each worker once; a key with a recipe, so a worker lost
  while holding it costs a recompute, not the query), ``predict_proba`` and the
  score run per chunk (``map_blocks``) and are kept on the workers (``persist``); each chunk
  returns its own top k, and the client merges those into the global top k;
- **core-set / k-center greedy** (Sener & Savarese, 2018): each chunk keeps its vector of
  distances to the nearest centre on the workers; each pick is one round trip (every chunk
  reports its farthest row, the client picks the farthest of those, fetches that row and sends
  it back as the new centre).

Only small arrays cross to the client: ``k`` candidates per chunk, one row per pick, and a
seeded sample for the map. The label store stays local. Results equal the in-memory
strategies on the same data (ties are broken by the lower pool index); they share the same
kernels (``predict_proba_full``, ``min_sq_dist``: float64 per chunk, ``sq_dist_to_point``:
float32 differences).

References
----------
Sener, O. & Savarese, S. (2018). Active learning for convolutional neural networks: a core-set
approach. ICLR.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .strategies._utils import min_sq_dist, sq_dist_to_point
from .strategies.uncertainty import entropy, least_confidence, margin
from .training import predict_proba_full

__all__ = ["DaskPool", "UNCERTAINTY_MEASURES"]

#: Score functions run per chunk (higher = more informative).
UNCERTAINTY_MEASURES = {
    "least_confidence": least_confidence,
    "margin": margin,
    "entropy": entropy,
}

_INSTALL = 'a Dask pool needs dask: pip install "alwidget[dask]"'


def _import_dask() -> Any:
    try:
        import dask.array as da
    except ImportError as e:
        raise ImportError(_INSTALL) from e
    return da


# -- per-chunk functions (run on the workers; module level so they pickle by reference) -------
def _proba_block(X: np.ndarray, model: Any, n_classes: int) -> np.ndarray:
    return predict_proba_full(model, X, n_classes).astype(np.float32)


def _score_block(P: np.ndarray, measure: str) -> np.ndarray:
    return UNCERTAINTY_MEASURES[measure](P).astype(np.float64)


def _local_mask(excluded: np.ndarray, start: int, size: int) -> np.ndarray:
    """Boolean mask of a chunk's rows from the sorted global indices ``excluded``."""
    mask = np.zeros(size, dtype=bool)
    lo, hi = np.searchsorted(excluded, [start, start + size])
    mask[excluded[lo:hi] - start] = True
    return mask


def _block_top_k(s: np.ndarray, excluded: np.ndarray, k: int, block_info: Any = None) -> np.ndarray:
    """The chunk's k best rows as a (1, k, 2) array of (score, global index); -inf pads."""
    start = block_info[0]["array-location"][0][0] if block_info else 0
    s = np.where(_local_mask(excluded, start, s.shape[0]), -np.inf, np.nan_to_num(s, nan=-np.inf))
    out = np.full((1, k, 2), -np.inf)
    out[0, :, 1] = -1
    m = min(k, s.size)
    if m:
        part = np.argpartition(-s, m - 1)[:m] if m < s.size else np.arange(s.size)
        part = part[np.lexsort((part, -s[part]))]  # best first, ties by lower index
        out[0, :m, 0] = s[part]
        out[0, :m, 1] = part + start
    return out


def _min_sq_dist_block(X: np.ndarray, C: np.ndarray) -> np.ndarray:
    """Squared distance of each row to its nearest centre, float64, shape (n, 1)."""
    if C.shape[0] == 0:
        return np.full((X.shape[0], 1), np.inf)
    return min_sq_dist(X, C)[:, None]


def _update_min(X: np.ndarray, dmin: np.ndarray, c: np.ndarray) -> np.ndarray:
    """``min(dmin, |x - c|^2)`` per row (differences in float32 row blocks, no cancellation)."""
    return np.minimum(dmin, sq_dist_to_point(X, np.reshape(c, -1))[:, None])


def _block_argmax(dmin: np.ndarray, excluded: np.ndarray, block_info: Any = None) -> np.ndarray:
    start = block_info[0]["array-location"][0][0] if block_info else 0
    d = np.where(_local_mask(excluded, start, dmin.shape[0]), -np.inf, dmin[:, 0])
    if d.size == 0:
        return np.array([[-np.inf, -1.0]])
    j = int(np.argmax(d))  # first maximum: the lower index wins a tie
    return np.array([[d[j], float(j + start)]])


class DaskPool:
    """A pool of feature rows as a Dask array, with chunk-wise scoring and core-set selection.

    Parameters
    ----------
    X : dask.array.Array of shape (n_samples, n_features)
        Chunked by rows (a column split is merged into one column chunk). Its dtype is kept:
        float32 stays float32 (no float64 copy).
    client : distributed.Client, optional
        The cluster to run on (any scheduler address the user connected to); without one
        Dask's current scheduler is used (the threaded one, or a client made the default).

    Attributes
    ----------
    X : dask.array.Array
    n_samples, n_features : int

    Raises
    ------
    TypeError
        If ``X`` is not a Dask array.
    ValueError
        If ``X`` is not two-dimensional.

    Examples
    --------
    >>> import dask.array as da
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = da.random.default_rng(0).standard_normal((20_000, 8), chunks=(5_000, 8))
    >>> X = X.astype("float32")
    >>> y = (X[:, 0] > 0).astype(int).compute()
    >>> pool = DaskPool(X)
    >>> lab = [0, 1, 2, 3, 4, 5]
    >>> model = LogisticRegression().fit(pool.take(lab), y[lab])
    >>> picks = pool.uncertainty_top_k(model, 2, "margin", k=5, exclude=lab)
    >>> picks.shape, bool(set(picks.tolist()).isdisjoint(lab))
    ((5,), True)
    """

    def __init__(self, X: Any, client: Any = None) -> None:
        da = _import_dask()
        if not isinstance(X, da.Array):
            raise TypeError(f"DaskPool needs a dask.array.Array; got {type(X).__name__}")
        if X.ndim != 2:
            raise ValueError(f"X must have shape (n_samples, n_features); got {X.shape}")
        if len(X.chunks[1]) > 1:
            X = X.rechunk({1: -1})
        self.X = X
        self.client = client
        self.n_samples, self.n_features = int(X.shape[0]), int(X.shape[1])

    # -- plumbing ------------------------------------------------------------------------------
    def _compute(self, *arrays: Any) -> Any:
        if self.client is not None:
            return self.client.compute(list(arrays), sync=True)
        import dask

        return dask.compute(*arrays)

    def _persist(self, array: Any) -> Any:
        return self.client.persist(array) if self.client is not None else array.persist()

    def _broadcast(self, obj: Any) -> Any:
        """Put ``obj`` into the task graph once (one key); every chunk's task depends on it.

        The scheduler ships it to each worker once. Unlike ``client.scatter`` the key keeps its
        recipe, so a worker that dies holding it does not lose it: Dask recomputes it.
        """
        import dask

        return dask.delayed(obj, pure=True, traverse=False)

    def _excluded(self, exclude: Sequence[int] | np.ndarray | None) -> np.ndarray:
        """Sorted unique pool indices to skip (small: labeled, skipped, batch items)."""
        if exclude is None or len(exclude) == 0:
            return np.empty(0, dtype=np.int64)
        return np.unique(np.asarray(exclude, dtype=np.int64))

    # -- rows ----------------------------------------------------------------------------------
    def take(self, indices: Sequence[int] | np.ndarray) -> np.ndarray:
        """The feature rows of ``indices`` as a numpy array (in the order given).

        Returns
        -------
        ndarray of shape (len(indices), n_features), the pool's dtype

        Raises
        ------
        IndexError
            If an index is outside ``0..n_samples-1``.
        """
        idx = np.asarray(indices, dtype=np.int64)
        if idx.size and (idx.min() < 0 or idx.max() >= self.n_samples):
            raise IndexError(f"pool indices must lie in 0..{self.n_samples - 1}")
        if idx.size == 0:
            return np.empty((0, self.n_features), dtype=self.X.dtype)
        uniq, inv = np.unique(idx, return_inverse=True)
        (rows,) = self._compute(self.X[uniq])
        return np.asarray(rows)[inv]

    def sample(self, n: int, random_state: int | np.random.Generator | None = 0) -> np.ndarray:
        """A seeded uniform sample of ``n`` pool indices, sorted (e.g. the rows the map shows).

        Returns
        -------
        ndarray of shape (min(n, n_samples),), int64
        """
        rng = np.random.default_rng(random_state)
        n = min(int(n), self.n_samples)
        return np.sort(rng.choice(self.n_samples, n, replace=False)).astype(np.int64)

    # -- uncertainty ---------------------------------------------------------------------------
    def proba(self, model: Any, n_classes: int) -> Any:
        """``predict_proba`` of every row, run per chunk and kept on the workers.

        Parameters
        ----------
        model : fitted scikit-learn classifier
            Fitted on class codes; sent to the workers once.
        n_classes : int
            Columns of the result; classes the model never saw get probability 0.

        Returns
        -------
        dask.array.Array of shape (n_samples, n_classes), float32, persisted
        """
        handle = self._broadcast(model)
        P = self.X.map_blocks(
            _proba_block,
            handle,
            int(n_classes),
            dtype=np.float32,
            chunks=(self.X.chunks[0], (int(n_classes),)),
        )
        return self._persist(P)

    def top_k(
        self,
        scores: Any,
        k: int,
        exclude: Sequence[int] | np.ndarray | None = None,
        *,
        return_scores: bool = False,
    ) -> Any:
        """Global top ``k`` of a per-row score array, from each chunk's own top ``k``.

        Parameters
        ----------
        scores : dask.array.Array of shape (n_samples,)
            Higher is better; NaN counts as lowest.
        k : int
        exclude : sequence of int, optional
            Pool indices never picked (labeled, skipped, already in a batch).

        return_scores : bool, default=False
            Also return the picks' scores.

        Returns
        -------
        ndarray of shape (min(k, n_available),), int64
            Pool indices, best first; a tie goes to the lower index.
        scores : ndarray of the same shape, float64
            Only with ``return_scores``.
        """
        k = int(k)
        if k <= 0:
            empty = np.empty(0, dtype=np.int64)
            return (empty, np.empty(0)) if return_scores else empty
        parts = scores.map_blocks(
            _block_top_k,
            self._broadcast(self._excluded(exclude)),
            k,
            dtype=np.float64,
            chunks=((1,) * len(scores.chunks[0]), (k,), (2,)),
            new_axis=[1, 2],
        )
        (cand,) = self._compute(parts)
        cand = np.asarray(cand).reshape(-1, 2)
        cand = cand[np.isfinite(cand[:, 0]) & (cand[:, 1] >= 0)]
        order = np.lexsort((cand[:, 1], -cand[:, 0]))[:k]
        if return_scores:
            return cand[order, 1].astype(np.int64), cand[order, 0]
        return cand[order, 1].astype(np.int64)

    def uncertainty_top_k(
        self,
        model: Any,
        n_classes: int,
        measure: str,
        k: int,
        exclude: Sequence[int] | np.ndarray | None = None,
    ) -> np.ndarray:
        """Pick the ``k`` most uncertain rows (least confidence, margin or entropy).

        Raises
        ------
        ValueError
            If ``measure`` is unknown.
        """
        if measure not in UNCERTAINTY_MEASURES:
            raise ValueError(
                f"unknown measure {measure!r} on a Dask pool; use one of "
                f"{sorted(UNCERTAINTY_MEASURES)}"
            )
        P = self.proba(model, n_classes)
        scores = P.map_blocks(_score_block, measure, dtype=np.float64, drop_axis=1)
        return self.top_k(scores, k, exclude)

    # -- core-set --------------------------------------------------------------------------------
    def k_center_greedy(
        self,
        k: int,
        centers: Sequence[int] | np.ndarray,
        exclude: Sequence[int] | np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Greedy k-center (core-set) picks: the row farthest from every centre, ``k`` times.

        Parameters
        ----------
        k : int
        centers : sequence of int
            Pool indices already covered (the labeled items); at least one.
        exclude : sequence of int, optional
            Pool indices never picked (besides the centres themselves).

        Returns
        -------
        picks : ndarray of shape (k',), int64
            Pool indices in pick order (``k' <= k`` when fewer rows are available).
        distances : ndarray of shape (k',), float64
            Euclidean distance of each pick to its nearest centre when it was picked.

        Raises
        ------
        ValueError
            If ``centers`` is empty (pick a first batch at random or by the cold-start rule).
        """
        centers = np.asarray(centers, dtype=np.int64)
        if centers.size == 0:
            raise ValueError("k-center greedy on a Dask pool needs at least one labeled centre")
        da = _import_dask()
        excluded = self._excluded(np.r_[centers, self._excluded(exclude)])
        C = self._broadcast(self.take(centers).astype(np.float64))
        col = (self.X.chunks[0], (1,))
        dmin = self._persist(self.X.map_blocks(_min_sq_dist_block, C, dtype=np.float64, chunks=col))
        picks: list[int] = []
        dists: list[float] = []
        for _ in range(int(k)):
            best = dmin.map_blocks(
                _block_argmax,
                self._broadcast(excluded),
                dtype=np.float64,
                chunks=((1,) * len(dmin.chunks[0]), (2,)),
            )
            (b,) = self._compute(best)
            b = np.asarray(b)
            b = b[b[:, 1] >= 0]
            if b.size == 0 or not np.isfinite(b[:, 0]).any():
                break
            j = int(np.lexsort((b[:, 1], -b[:, 0]))[0])
            p = int(b[j, 1])
            picks.append(p)
            dists.append(float(np.sqrt(max(b[j, 0], 0.0))))
            if len(picks) == int(k):  # the last pick's distances would never be read
                break
            excluded = np.insert(excluded, np.searchsorted(excluded, p), p)
            # the pick's row goes from its chunk's worker to the others inside the graph, so
            # the next compute is this pick's only round trip
            row = self.X[p : p + 1].to_delayed().ravel()[0]
            dmin = self._persist(
                da.map_blocks(_update_min, self.X, dmin, row, dtype=np.float64, chunks=col)
            )
        return np.asarray(picks, dtype=np.int64), np.asarray(dists, dtype=np.float64)
