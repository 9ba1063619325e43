"""BADGE on a Dask pool: k-means++ seeding on gradient embeddings, chunk by chunk.

BADGE (Ash et al., 2020) embeds each candidate as ``g_i = a_i ⊗ x_i`` with
``a_i = p_i - e_yhat_i`` and seeds k-means++ on those embeddings: the first pick has the largest
``|g|``, each next one is drawn with probability proportional to its squared distance ``D²`` to
the nearest pick. As in :func:`alwidget.strategies.gradient.badge_select` the embeddings are
never built (``||g_i - g_p||²`` from factors, float32, no cancellation). Here:

- the factors (``a_i`` in float32, ``|a_i|²``, ``|x_i|²``) are computed per chunk on the
  workers with the model as one graph key, and kept there (``persist``);
- each chunk keeps its ``D²`` vector on the workers. The client draws ``u`` from the session's
  generator, as ``Generator.choice(n, p=D²/ΣD²)`` does, and finds the chunk the draw falls in
  from the chunk sums; then one graph finds the row in that chunk (its cumulative sum), updates
  every chunk's ``D²`` with that row (it goes from worker to worker, not through the client)
  and returns the row and the new chunk sums: **one round trip per pick**.

Picks equal the in-memory :func:`~alwidget.strategies.gradient.badge_select` on the same data
and seed (same kernels, same draws; only the order of the float64 sums differs, which changes
a draw only if it falls within ~1e-16 of a boundary).

References
----------
Ash, J. T., Zhang, C., Krishnamurthy, A., Langford, J. & Agarwal, A. (2020). Deep batch
active learning by diverse, uncertain gradient lower bounds. ICLR.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .dask_pool import DaskPool, _local_mask
from .strategies.gradient import badge_sq_dist_rows
from .training import predict_proba_full

__all__ = ["badge_select_dask"]


def _factors_block(X: np.ndarray, model: Any, n_classes: int, intercept: bool) -> np.ndarray:
    """``[a (float32 values), |a|², |x|²]`` per row, shape (n, n_classes + 2), float64."""
    P = predict_proba_full(model, X, n_classes)
    A = np.ascontiguousarray(P, dtype=np.float32).copy()
    if A.shape[0]:
        A[np.arange(A.shape[0]), P.argmax(axis=1)] -= 1.0
    Xf = np.ascontiguousarray(X, dtype=np.float32)
    an = np.einsum("ij,ij->i", A, A).astype(np.float64)
    xn = np.einsum("ij,ij->i", Xf, Xf).astype(np.float64) + (1.0 if intercept else 0.0)
    return np.column_stack([A.astype(np.float64), an, xn])


def _init_block(F: np.ndarray, excluded: np.ndarray, block_info: Any = None) -> np.ndarray:
    """``D²`` before any pick: inf for candidates, 0 (never drawn) for the others."""
    start = block_info[0]["array-location"][0][0] if block_info else 0
    out = np.full((F.shape[0], 1), np.inf)
    out[_local_mask(excluded, start, F.shape[0])] = 0.0
    return out


def _sq_dist(X: np.ndarray, F: np.ndarray, ap: np.ndarray, xp: np.ndarray, xn_p: float) -> Any:
    """``||g_i - g_p||²`` of every row (the kernel of ``_badge_sq_dist_to``, same order)."""
    C = F.shape[1] - 2
    A = F[:, :C].astype(np.float32)
    Xf = np.ascontiguousarray(X, dtype=np.float32)
    return badge_sq_dist_rows(A, Xf, F[:, C], ap, xp, xn_p)


def _update_block(
    X: np.ndarray, F: np.ndarray, mind: np.ndarray, row: np.ndarray, block_info: Any = None
) -> np.ndarray:
    """``min(D², ||g - g_p||²)`` for the pick's ``row`` (as :func:`_row` gives it), 0 at the
    pick itself and at non-candidates (kept at 0)."""
    start = block_info[0]["array-location"][0][0] if block_info else 0
    r = np.asarray(row).reshape(-1)
    p, xn_p = int(r[0]), float(r[2])
    C = F.shape[1] - 2
    ap = r[3 : 3 + C].astype(np.float32)
    xp = r[3 + C :].astype(np.float32)
    d = np.minimum(mind[:, 0], _sq_dist(X, F, ap, xp, xn_p))
    if start <= p < start + X.shape[0]:
        d[p - start] = 0.0
    return d[:, None]


def _row(X: np.ndarray, F: np.ndarray, i: int, start: int, d: float) -> np.ndarray:
    """``[global index, D² at pick, |x|², a, x]`` of local row ``i``, float64."""
    C = F.shape[1] - 2
    return np.r_[float(start + i), d, F[i, C + 1], F[i, :C], X[i].astype(np.float64)][None, :]


def _lookup_block(
    X: np.ndarray, F: np.ndarray, mind: np.ndarray, target: float, start: int
) -> np.ndarray:
    """The row where the cumulative ``D²`` of this chunk passes ``target``."""
    m = mind[:, 0]
    cs = np.cumsum(m)
    i = int(np.searchsorted(cs, target, side="right"))
    if i >= m.size or m[i] <= 0:  # rounding at the chunk's end: its last drawable row
        pos = np.flatnonzero(m > 0)
        le = pos[pos <= min(i, m.size - 1)]
        i = int(le[-1]) if le.size else int(pos[0])
    return _row(X, F, i, start, float(m[i]))


def _fetch_block(X: np.ndarray, F: np.ndarray, i: int, d: float, start: int) -> np.ndarray:
    return _row(X, F, i, start, d)


def badge_select_dask(
    pool: DaskPool,
    model: Any,
    n_classes: int,
    k: int,
    exclude: np.ndarray,
    rng: np.random.Generator,
    intercept: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """BADGE picks on a Dask pool (see the module notes).

    Parameters
    ----------
    pool : DaskPool
    model : fitted classifier
        Fitted on class codes; sent to the workers once.
    n_classes : int
    k : int
        Batch size; clipped to the number of candidates.
    exclude : ndarray of shape (m,), int
        Pool indices that are not candidates (labeled, skipped, unsure, excluded ...).
    rng : numpy.random.Generator
        The D² draws (as ``badge_select``: one ``random()`` per pick after the first).
    intercept : bool, default=False
        Append a constant 1 to ``x`` (the bias gradient).

    Returns
    -------
    picks : ndarray of shape (k',), int64
        Pool indices in pick order.
    distances : ndarray of shape (k',), float64
        Gradient-embedding distance of each pick to the nearest earlier pick (the norm for
        the first).

    Examples
    --------
    >>> import dask.array as da, numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = np.random.default_rng(0).normal(size=(2_000, 5)).astype("float32")
    >>> model = LogisticRegression().fit(X[:20], (X[:20, 0] > 0).astype(int))
    >>> pool = DaskPool(da.from_array(X, chunks=(500, 5)))
    >>> picks, d = badge_select_dask(pool, model, 2, 5, np.arange(20), np.random.default_rng(0))
    >>> picks.size, bool(np.isin(picks, np.arange(20)).any())
    (5, False)
    """
    import dask.array as da

    excluded = pool._excluded(exclude)
    n_cand = pool.n_samples - excluded.size
    k = min(int(k), n_cand)
    if k <= 0:
        return np.empty(0, dtype=np.int64), np.empty(0)
    X, C = pool.X, int(n_classes)
    F = pool._persist(
        X.map_blocks(
            _factors_block,
            pool._broadcast(model),
            C,
            bool(intercept),
            dtype=np.float64,
            chunks=(X.chunks[0], (C + 2,)),
        )
    )
    gn = F.map_blocks(lambda f: f[:, C] * f[:, C + 1], dtype=np.float64, drop_axis=1)
    idx, best = pool.top_k(gn, 1, excluded, return_scores=True)  # the largest norm first
    bounds = np.r_[0, np.cumsum(X.chunks[0])]
    col = (X.chunks[0], (1,))
    mind = pool._persist(
        F.map_blocks(_init_block, pool._broadcast(excluded), dtype=float, chunks=col)
    )

    def row_in_chunk(fn: Any, p_local: Any, c: int) -> Any:
        """The delayed ``[index, D², |x|², a, x]`` row that ``fn`` finds in chunk ``c``."""
        out = da.map_blocks(
            fn,
            X.blocks[c],
            F.blocks[c],
            *([mind.blocks[c]] if fn is _lookup_block else []),
            *p_local,
            int(bounds[c]),
            dtype=np.float64,
            chunks=((1,), (3 + C + X.shape[1],)),
        )
        return out.to_delayed().ravel()[0]

    def take(row: Any) -> None:
        r = np.asarray(row).reshape(-1)
        picks.append(int(r[0]))
        dists.append(float(np.sqrt(max(r[1], 0.0))))

    p0 = int(idx[0])
    c0 = int(np.searchsorted(bounds, p0, side="right") - 1)
    row = row_in_chunk(_fetch_block, (p0 - int(bounds[c0]), float(best[0])), c0)
    picks: list[int] = []
    dists: list[float] = []
    for _ in range(1, k):
        # one round trip: the pick's row, D² updated with it on every chunk, the chunk sums
        mind = pool._persist(da.map_blocks(_update_block, X, F, mind, row, dtype=float, chunks=col))
        sums = mind.map_blocks(
            lambda m: np.array([[m.sum()]]), dtype=float, chunks=((1,) * len(col[0]), (1,))
        )
        got, s = pool._compute(row, sums)
        take(got)
        s = np.asarray(s)[:, 0]
        total = float(s.sum())
        if total > 0 and np.isfinite(total):
            target = rng.random() * total
            offsets = np.cumsum(s)
            c = min(int(np.searchsorted(offsets, target, side="right")), len(s) - 1)
            while s[c] <= 0:  # rounding past the last drawable chunk
                c -= 1
            before = float(offsets[c - 1]) if c else 0.0
            row = row_in_chunk(_lookup_block, (max(target - before, 0.0),), c)
        else:  # every remaining point coincides with a pick: uniform among the rest
            rest = np.setdiff1d(np.arange(pool.n_samples), np.r_[excluded, picks])
            p = int(rng.choice(rest))
            c = int(np.searchsorted(bounds, p, side="right") - 1)
            row = row_in_chunk(_fetch_block, (p - int(bounds[c]), 0.0), c)
    (got,) = pool._compute(row)  # the last pick's row: no update after it
    take(got)
    return np.asarray(picks, dtype=np.int64), np.asarray(dists)
