"""Small shared helpers for the strategies (not public API)."""

from __future__ import annotations

from typing import Any

import numpy as np

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


def knn_sq_dist(
    Q: np.ndarray, R: np.ndarray, k: int, block: int = 4096
) -> tuple[np.ndarray, np.ndarray]:
    """Exact k nearest rows of ``R`` for each row of ``Q`` (squared Euclidean), blockwise.

    Memory is ``O(block * len(R))``; nothing ``len(Q) x len(R)`` is held at once.

    Returns
    -------
    dist : ndarray of shape (len(Q), k)
        Squared distances, ascending.
    index : ndarray of shape (len(Q), k), int64
        Row positions in ``R``.
    """
    k = min(int(k), R.shape[0])
    rn = row_sq_norms(R)
    dist = np.empty((Q.shape[0], k), dtype=np.result_type(Q.dtype, R.dtype))
    index = np.empty((Q.shape[0], k), dtype=np.int64)
    for s in range(0, Q.shape[0], block):
        q = Q[s : s + block]
        d = row_sq_norms(q)[:, None] - 2.0 * (q @ R.T) + rn[None, :]
        np.maximum(d, 0.0, out=d)
        if k < R.shape[0]:
            part = np.argpartition(d, k - 1, axis=1)[:, :k]
        else:
            part = np.broadcast_to(np.arange(k), d.shape).copy()
        dp = np.take_along_axis(d, part, axis=1)
        order = np.argsort(dp, axis=1, kind="stable")
        dist[s : s + block] = np.take_along_axis(dp, order, axis=1)
        index[s : s + block] = np.take_along_axis(part, order, axis=1)
    return dist, index
