"""Small shared helpers for the strategies (not public API)."""

from __future__ import annotations

from typing import Any

import numpy as np
import sklearn
from sklearn.metrics import pairwise_distances_argmin_min
from sklearn.neighbors import NearestNeighbors

from .base import QueryContext


def check_proba(proba: Any, name: str = "proba") -> np.ndarray:
    """Validate a 2-D probability array; return it as a float array (no copy if possible)."""
    arr = np.asarray(proba)
    if arr.ndim != 2 or arr.shape[1] < 1:
        raise ValueError(
            f"{name} must have shape (n_samples, n_classes); got shape {arr.shape}. "
            "Pass the output of estimator.predict_proba(X)."
        )
    if arr.dtype not in (np.float32, np.float64):
        arr = arr.astype(np.float64)
    return arr


def check_features(X: Any, n: int | None = None, name: str = "X") -> np.ndarray:
    """Validate a 2-D numeric feature array with ``n`` rows (if given)."""
    arr = np.asarray(X)
    if arr.ndim != 2:
        raise ValueError(f"{name} must have shape (n_samples, n_features); got shape {arr.shape}")
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"{name} has {arr.shape[0]} rows; expected {n} (one per item)")
    return arr


def require_proba(ctx: QueryContext, who: str) -> np.ndarray:
    """``ctx.proba`` or a clear error if there is no model yet."""
    if ctx.proba is None:
        raise ValueError(
            f"strategy {who!r} needs a fitted model (ctx.proba is None); label items of at "
            "least two classes first, or use a strategy with needs_model=False"
        )
    return ctx.proba


def f32(X: np.ndarray) -> np.ndarray:
    """``X`` as C-contiguous float32 (a copy only if needed)."""
    return np.ascontiguousarray(X, dtype=np.float32)


def row_sq_norms(X: np.ndarray) -> np.ndarray:
    """Squared Euclidean norm of each row, same dtype as ``X``."""
    return np.einsum("ij,ij->i", X, X)


def aligned_proba(model: Any, X: Any, n_classes: int) -> np.ndarray:
    """``model.predict_proba(X)`` with one column per class code ``0..n_classes-1``.

    A model fitted on a subset of the classes (a bootstrap that missed a class) gets zero
    columns for the classes it never saw.
    """
    p = np.asarray(model.predict_proba(X), dtype=np.float64)
    cols = np.asarray(getattr(model, "classes_", np.arange(p.shape[1])), dtype=np.int64)
    if cols.size == n_classes and np.array_equal(cols, np.arange(n_classes)):
        return p
    full = np.zeros((p.shape[0], n_classes))
    full[:, cols] = p
    return full


#: Upper bound, in MiB, on any temporary distance block (issue 17: bounded memory at 1M rows).
WORKING_MEMORY_MB = 256


def _rows_per_block(n_cols: int, itemsize: int = 8) -> int:
    """Rows of an ``rows x n_cols`` block that fit in :data:`WORKING_MEMORY_MB`."""
    return max(1, int(WORKING_MEMORY_MB * 2**20 // max(1, n_cols * itemsize)))


def nearest_sq_dist(X: np.ndarray, C: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest row of ``C`` for each row of ``X`` and its squared Euclidean distance.

    Uses :func:`sklearn.metrics.pairwise_distances_argmin_min` (chunked, float32 upcast to
    float64 inside each chunk, so no cancellation error far from the origin) with blocks
    bounded by :data:`WORKING_MEMORY_MB`.

    Parameters
    ----------
    X : ndarray of shape (n, d)
    C : ndarray of shape (m, d), m >= 1

    Returns
    -------
    index : ndarray of shape (n,), int64
        Row of ``C`` nearest to each row of ``X``.
    sq_dist : ndarray of shape (n,), float64
        Squared distance to that row.

    Examples
    --------
    >>> import numpy as np
    >>> i, d2 = nearest_sq_dist(np.array([[0.0, 0.0], [3.0, 4.0]]), np.array([[0.0, 0.0]]))
    >>> i.tolist(), d2.tolist()
    ([0, 0], [0.0, 25.0])
    """
    with sklearn.config_context(working_memory=WORKING_MEMORY_MB):
        idx, dist = pairwise_distances_argmin_min(X, C)
    d2 = np.asarray(dist, dtype=np.float64)
    return np.asarray(idx, dtype=np.int64), d2 * d2


def sq_dist_to_row(X: np.ndarray, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Squared Euclidean distance of every row of ``X`` to one point ``x``.

    Computed from differences ``sum((X - x)**2)`` in row blocks (bounded by
    :data:`WORKING_MEMORY_MB`), not by ``|X|^2 - 2 X.x + |x|^2``: no cancellation in
    float32 even far from the origin, and measured as fast as the expansion (the hot loop of
    core-set and k-means++ seeding).

    Parameters
    ----------
    X : ndarray of shape (n, d)
    x : ndarray of shape (d,)
    out : ndarray of shape (n,), optional
        Written in place and returned.

    Returns
    -------
    ndarray of shape (n,), dtype of ``X``

    Examples
    --------
    >>> import numpy as np
    >>> sq_dist_to_row(np.array([[1.0, 1.0], [4.0, 5.0]]), np.array([1.0, 1.0])).tolist()
    [0.0, 25.0]
    """
    n = X.shape[0]
    if out is None:
        out = np.empty(n, dtype=X.dtype)
    step = _rows_per_block(X.shape[1], X.dtype.itemsize)
    step = min(step, 16384)
    for s in range(0, n, step):
        D = X[s : s + step] - x
        np.einsum("ij,ij->i", D, D, out=out[s : s + step])
    return out


def knn_sq_dist(
    Q: np.ndarray,
    R: np.ndarray,
    k: int,
    block: int | None = None,
    exclude_self: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact k nearest rows of ``R`` for each row of ``Q`` (squared Euclidean).

    Uses :class:`sklearn.neighbors.NearestNeighbors` (brute force, chunked by scikit-learn
    with blocks bounded by :data:`WORKING_MEMORY_MB`; nothing ``len(Q) x len(R)`` is held).

    Parameters
    ----------
    Q : ndarray of shape (n_q, d)
    R : ndarray of shape (n_r, d)
    k : int
        Clipped to the number of rows available.
    block : int, optional
        Ignored (kept for callers of the former hand-written kernel).
    exclude_self : bool, default=False
        ``Q`` is ``R``: row ``i`` is never its own neighbour. Excluded by index, so an exact
        duplicate of row ``i`` still counts as a neighbour at distance 0.

    Returns
    -------
    dist : ndarray of shape (len(Q), k)
        Squared distances, ascending.
    index : ndarray of shape (len(Q), k), int64
        Row positions in ``R``.

    Examples
    --------
    >>> import numpy as np
    >>> d, i = knn_sq_dist(np.array([[0.0], [1.0], [3.0]]), np.array([[0.0], [1.0], [3.0]]), 1,
    ...                    exclude_self=True)
    >>> i.ravel().tolist(), d.ravel().tolist()
    ([1, 0, 1], [1.0, 1.0, 4.0])
    """
    avail = R.shape[0] - (1 if exclude_self else 0)
    k = min(int(k), avail)
    if k <= 0:
        return np.empty((Q.shape[0], 0)), np.empty((Q.shape[0], 0), dtype=np.int64)
    nn = NearestNeighbors(algorithm="brute", metric="euclidean").fit(R)
    with sklearn.config_context(working_memory=WORKING_MEMORY_MB):
        if not exclude_self:
            dist, index = nn.kneighbors(Q, n_neighbors=k)
        else:
            dist, index = nn.kneighbors(Q, n_neighbors=k + 1)
            rows = np.arange(Q.shape[0])[:, None]
            keep = index != rows
            # a row whose own index is not among its k+1 neighbours (ties at distance 0):
            # drop the last column instead
            drop_last = keep.all(axis=1)
            keep[drop_last, -1] = False
            dist = dist[keep].reshape(Q.shape[0], k)
            index = index[keep].reshape(Q.shape[0], k)
    dist = np.asarray(dist, dtype=np.float64)
    return dist * dist, np.asarray(index, dtype=np.int64)
