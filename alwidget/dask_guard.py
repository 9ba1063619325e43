"""The Dask side of a session's pool: a :class:`~alwidget.dask_pool.DaskPool` that says when its
cluster is gone (:class:`~alwidget.errors.PoolUnavailableError`) and caches the rows it fetched
(labeled and batch rows: a retrain or a card does not read the pool again), and the unsure
items' nearest neighbours found chunk-wise. Used by :mod:`alwidget.dask_session`.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

from .dask_pool import DaskPool
from .errors import PoolUnavailableError

__all__ = ["GuardedPool", "Neighbours", "default_client", "LOST"]

LOST = (
    "the Dask cluster of this pool is gone ({what}); every label is kept in the store. "
    "Start a cluster and a new session on the same store to resume, or go on with "
    "session.to_local(sample=...) on a local sample that holds every labeled item"
)


def default_client() -> Any:
    """dask's current ``distributed.Client``, or None (then the local scheduler runs)."""
    distributed = sys.modules.get("distributed")
    if distributed is None:
        return None
    try:
        return distributed.default_client()
    except ValueError:
        return None


def _knn_block(
    X: np.ndarray, U: np.ndarray, k: int, block_info: Any = None
) -> np.ndarray:  # (1, m, k, 2): the k nearest rows of the chunk to each row of U
    from sklearn.metrics import pairwise_distances

    start = block_info[0]["array-location"][0][0] if block_info else 0
    out = np.full((1, U.shape[0], k, 2), np.inf)
    out[..., 1] = -1
    if X.shape[0] == 0:
        return out
    D = pairwise_distances(U, X)  # (m, n_chunk), float64
    m = min(k, X.shape[0])
    for i in range(U.shape[0]):
        part = np.argpartition(D[i], m - 1)[:m] if m < X.shape[0] else np.arange(X.shape[0])
        out[0, i, :m, 0] = D[i, part]
        out[0, i, :m, 1] = part + start
    return out


class GuardedPool(DaskPool):
    """:class:`DaskPool` whose computations raise :class:`PoolUnavailableError` when the
    cluster is gone, and whose rows are cached on the client (labeled and batch rows)."""

    def __init__(self, X: Any, client: Any = None, cache_rows: int = 200_000) -> None:
        super().__init__(X, client=client)
        self._rows: dict[int, np.ndarray] = {}
        self.cache_rows = int(cache_rows)

    def check_live(self) -> None:
        """Raise :class:`PoolUnavailableError` if the client is closed or lost its scheduler."""
        c = self.client
        if c is None:
            return
        status = getattr(c, "status", "running")
        if status not in ("running", "connecting"):
            raise PoolUnavailableError(LOST.format(what=f"the client is {status}"))
        cluster = getattr(c, "cluster", None)
        if cluster is not None and getattr(cluster, "status", None) is not None:
            if getattr(cluster.status, "name", str(cluster.status)) in ("closed", "closing"):
                raise PoolUnavailableError(LOST.format(what="its cluster was closed"))

    def _compute(self, *arrays: Any) -> Any:
        self.check_live()
        try:
            return super()._compute(*arrays)
        except PoolUnavailableError:
            raise
        except (OSError, TimeoutError) as e:  # CommClosedError is an OSError
            raise PoolUnavailableError(LOST.format(what=f"{type(e).__name__}: {e}")) from e
        except Exception as e:
            if type(e).__name__ in ("CancelledError", "FutureCancelledError"):
                raise PoolUnavailableError(LOST.format(what="its work was cancelled")) from e
            raise

    def _persist(self, array: Any) -> Any:
        self.check_live()
        return super()._persist(array)

    def take(self, indices: Sequence[int] | np.ndarray) -> np.ndarray:
        """Rows of ``indices`` (in order), from the row cache where possible."""
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        missing = np.unique([i for i in idx.tolist() if i not in self._rows])
        if missing.size:
            got = super().take(missing)
            if len(self._rows) + missing.size <= self.cache_rows:
                self._rows.update(zip(missing.tolist(), got, strict=True))
            else:  # beyond the cache: serve this call without keeping the rows
                fresh = dict(zip(missing.tolist(), got, strict=True))
                both = {**fresh, **self._rows}
                return np.stack([both[i] for i in idx.tolist()])
        if idx.size == 0:
            return np.empty((0, self.n_features), dtype=self.X.dtype)
        return np.stack([self._rows[i] for i in idx.tolist()])


class Neighbours:
    """The ``k`` nearest neighbours of the unsure items, chunk-wise (one pass per change)."""

    def __init__(self, owner: Any, k: int) -> None:
        self.owner, self.k = owner, int(k)
        self._cache: tuple[tuple[int, ...], np.ndarray] | None = None

    def near(self, unsure: np.ndarray) -> np.ndarray:
        key = tuple(np.asarray(unsure).tolist())
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        pool, k = self.owner.pool, min(self.k + 1, self.owner.n_samples)
        U = pool.take(unsure).astype(np.float64)
        parts = pool.X.map_blocks(
            _knn_block,
            pool._broadcast(U),
            k,
            dtype=np.float64,
            chunks=((1,) * len(pool.X.chunks[0]), (U.shape[0],), (k,), (2,)),
            new_axis=[2, 3],
        )
        (c,) = pool._compute(parts)
        c = np.asarray(c)  # (n_chunks, m, k, 2)
        near: list[np.ndarray] = [np.asarray(unsure, dtype=np.int64)]
        for i in range(U.shape[0]):
            cand = c[:, i].reshape(-1, 2)
            cand = cand[cand[:, 1] >= 0]
            order = np.lexsort((cand[:, 1], cand[:, 0]))[:k]
            near.append(cand[order, 1].astype(np.int64))
        out = np.unique(np.concatenate(near))
        self._cache = (key, out)
        return out
