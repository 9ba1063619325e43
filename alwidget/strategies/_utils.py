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
    return align_columns(np.asarray(model.predict_proba(X), dtype=np.float64), model, n_classes)


def align_columns(p: np.ndarray, model: Any, n_classes: int) -> np.ndarray:
    """Probabilities ``p`` (n, len(model.classes_)) as one column per class code; zero columns
    for the classes the model never saw. ``p`` itself when it is already aligned."""
    cols = np.asarray(getattr(model, "classes_", np.arange(p.shape[1])), dtype=np.int64)
    if cols.size == n_classes and np.array_equal(cols, np.arange(n_classes)):
        return p
    full = np.zeros((p.shape[0], n_classes), dtype=p.dtype)
    full[:, cols] = p
    return full


#: Largest temporary block of a distance computation, in bytes (issue: bounded memory).
BLOCK_BYTES = 64 * 2**20

#: Row block of a one-point distance pass (core-set's update, BADGE's kernel), in bytes: small
#: enough that the difference block stays in a core's cache for the reads that follow it
#: (100k x 384 float32 on an idle core: 31.7 ms with 8 MB blocks, 18.8 ms with 2 MB).
CACHE_BLOCK_BYTES = 2 * 2**20


def sq_dist_to_point(X: np.ndarray, c: np.ndarray) -> np.ndarray:
    """``|x_i - c|^2`` for every row, from differences in row blocks (no cancellation).

    The expansion ``|x|^2 - 2 x.c + |c|^2`` loses every digit in float32 when ``x`` is near
    ``c`` (it missed self-matches); differences do not. Temporaries stay under
    :data:`CACHE_BLOCK_BYTES`.

    Parameters
    ----------
    X : ndarray of shape (n, d), float32 or float64
    c : ndarray of shape (d,)

    Returns
    -------
    ndarray of shape (n,), ``X.dtype``
    """
    c = np.asarray(c, dtype=X.dtype)
    n = X.shape[0]
    out = np.empty(n, dtype=X.dtype)
    step = max(1, CACHE_BLOCK_BYTES // max(X.shape[1] * X.itemsize, 1))
    # one block buffer for the whole pass: Dask's nanny sets MALLOC_TRIM_THRESHOLD_, and a
    # fresh block per step then costs an mmap and its page faults (4x slower on a worker)
    D = np.empty((min(step, n), X.shape[1]), dtype=X.dtype)
    for s in range(0, n, step):
        m = min(step, n - s)
        np.subtract(X[s : s + m], c, out=D[:m])
        np.einsum("ij,ij->i", D[:m], D[:m], out=out[s : s + m])
    return out


def min_sq_dist(X: np.ndarray, C: np.ndarray) -> np.ndarray:
    """Squared Euclidean distance of each row of ``X`` to its nearest row of ``C``.

    scikit-learn's :func:`~sklearn.metrics.pairwise_distances_argmin_min` (chunked, float32
    upcast to float64 per chunk), with chunks bounded by :data:`BLOCK_BYTES`.

    Returns
    -------
    ndarray of shape (n,), float64
    """
    from sklearn import config_context
    from sklearn.metrics import pairwise_distances_argmin_min

    with config_context(working_memory=BLOCK_BYTES // 2**20):
        _, d = pairwise_distances_argmin_min(X, C)
    return np.square(d, dtype=np.float64)


def knn(Q: np.ndarray, R: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact ``k`` nearest rows of ``R`` for each row of ``Q`` (scikit-learn NearestNeighbors).

    ``Q`` and ``R`` are different sets (to leave an item itself out of its own neighbours,
    query with ``k + 1`` and drop the column equal to its index, never by distance).

    Returns
    -------
    dist : ndarray of shape (len(Q), k), Euclidean, ascending
    index : ndarray of shape (len(Q), k), int64, row positions in ``R``
    """
    from sklearn import config_context
    from sklearn.neighbors import NearestNeighbors

    k = min(int(k), R.shape[0])
    with config_context(working_memory=BLOCK_BYTES // 2**20):
        d, i = NearestNeighbors(n_neighbors=k).fit(R).kneighbors(Q)
    return d, i.astype(np.int64)


def as_generator(rng: np.random.Generator | int | None) -> np.random.Generator:
    """A ``numpy.random.Generator`` from a Generator (as is), a seed or None."""
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def kmeans_labels(X: np.ndarray, k: int, rng: np.random.Generator, max_fit: int) -> np.ndarray:
    """Cluster labels of ``k``-means on X, shape (n_samples,): exact ``KMeans`` (one init)
    up to ``max_fit`` rows, ``MiniBatchKMeans`` above; seeded from ``rng``."""
    from sklearn.cluster import KMeans, MiniBatchKMeans

    seed = int(rng.integers(2**31 - 1))
    if X.shape[0] <= max_fit:
        return KMeans(n_clusters=k, n_init=1, random_state=seed).fit_predict(X)
    km = MiniBatchKMeans(n_clusters=k, n_init=3, random_state=seed, batch_size=4096)
    return km.fit(X).predict(X)
