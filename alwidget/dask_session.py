"""A :class:`~alwidget.Session` over a Dask array: the pool object the session delegates to.

``Session(X)`` with ``X`` a :class:`dask.array.Array` (chunked by rows) keeps its labels, its
store, its batches and its model on your machine, and hands every step that touches the whole
pool to one :class:`DaskSessionPool`:

- **scoring for the query**: least confidence, margin and entropy run chunk-wise on the
  workers with the model as one graph key (:class:`~alwidget.dask_pool.DaskPool`), per-chunk
  top k merged here; core-set is :meth:`DaskPool.k_center_greedy`; BADGE is
  :func:`alwidget.dask_badge.badge_select_dask`; random needs no pool at all;
- **rows for fitting**: only the labeled rows are fetched (and kept in a small row cache, so
  a retrain does not read the pool again);
- **the map's colours**: the uncertainty of the items a map shows (a seeded sample, the
  labeled, unsure and batch items), never of the whole pool;
- **unsure neighbours**: the nearest neighbours of "unsure" items, chunk-wise.

The store is bound to the pool by a fingerprint of its shape, dtype and row chunks plus a
seeded sample of rows (:meth:`DaskSessionPool.fingerprint`): the 15 GB are never hashed. The
same data as a numpy array, or chunked otherwise, is another pool to the store.

If the cluster goes away, a step raises :class:`~alwidget.errors.PoolUnavailableError`; every
label is on disk before the pool is touched, and :meth:`alwidget.Session.to_local`
(:func:`to_local`) goes on with a local sample that holds every answered item.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

from .dask_guard import GuardedPool, Neighbours, default_client
from .dask_local import to_local
from .dask_pool import UNCERTAINTY_MEASURES, _local_mask
from .errors import PoolUnavailableError
from .training import FitSnapshot, fit_model, predict_proba_full

__all__ = [
    "DaskSessionPool",
    "is_dask_array",
    "open_dask_pool",
    "to_local",
    "SUPPORTED_STRATEGIES",
]

#: Strategies a session runs on a Dask pool.
SUPPORTED_STRATEGIES = ("least_confidence", "margin", "entropy", "random", "coreset", "badge")


def is_dask_array(X: Any) -> bool:
    """True for a :class:`dask.array.Array` (checked without importing dask)."""
    da = sys.modules.get("dask.array")
    return da is not None and isinstance(X, da.Array)


def open_dask_pool(X: Any, client: Any = None) -> DaskSessionPool | None:
    """The pool object of a session over ``X``: a :class:`DaskSessionPool` for a Dask array,
    None for anything else (``client`` must then be None).

    Raises
    ------
    TypeError
        If ``client`` is given for a pool that is not a Dask array.
    """
    if is_dask_array(X):
        return DaskSessionPool(X, client=client)
    if client is not None:
        raise TypeError(
            f"client= is for a pool held as a dask.array.Array; X is a {type(X).__name__}"
        )
    return None


def _proba_rows_block(X: np.ndarray, model: Any, n_classes: int) -> np.ndarray:
    return predict_proba_full(model, X, n_classes)


def _score_block(X: np.ndarray, model: Any, n_classes: int, measure: str) -> np.ndarray:
    """The measure of each row from float64 probabilities (as the in-memory strategies)."""
    return UNCERTAINTY_MEASURES[measure](predict_proba_full(model, X, n_classes))


def _select_block(X: np.ndarray, sel: np.ndarray, block_info: Any = None) -> np.ndarray:
    """The chunk's rows among the sorted global indices ``sel``."""
    start = block_info[0]["array-location"][0][0] if block_info else 0
    return X[_local_mask(sel, start, X.shape[0])]


class DaskSessionPool:
    """What a :class:`~alwidget.Session` over a Dask array delegates to (see the module notes).

    Parameters
    ----------
    X : dask.array.Array of shape (n_samples, n_features)
        Chunked by rows; numeric. Its dtype is kept (float32 stays float32). NaN or infinite
        values are not scanned for (that would read the whole pool): check with
        ``da.isfinite(X).all().compute()`` if unsure; a NaN row scores lowest.
    client : distributed.Client, optional
        Default: dask's current client if there is one, else Dask's local scheduler.

    Attributes
    ----------
    pool : DaskPool
        The chunk-wise kernels (with a row cache and lost-cluster checks).
    X : dask.array.Array
    client : distributed.Client or None
    watched : ndarray of shape (m,), int64
        Pool items whose uncertainty :meth:`uncertainty` computes besides the labeled, unsure
        and batch items (the map's sample; set by :meth:`watch`).

    Raises
    ------
    ValueError
        If ``X`` is not 2-D with at least 2 rows and one column, or not numeric.

    Examples
    --------
    >>> import dask.array as da, numpy as np, alwidget
    >>> X = da.from_array(np.random.default_rng(0).normal(size=(400, 3)), chunks=(100, 3))
    >>> with alwidget.Session(X, classes=["a", "b"], store=":memory:", random_state=0) as s:
    ...     type(s.dask).__name__, s.query().size, s.X.dtype
    ('DaskSessionPool', 10, dtype('float64'))
    """

    def __init__(self, X: Any, client: Any = None) -> None:
        if X.ndim != 2 or X.shape[0] < 2 or X.shape[1] < 1:
            raise ValueError(
                f"a Dask pool must have shape (n_samples >= 2, n_features >= 1); got {X.shape}"
            )
        if np.dtype(X.dtype).kind not in "fiub":
            raise ValueError(f"a Dask pool must be numeric; got dtype {X.dtype}")
        if np.dtype(X.dtype).kind != "f":
            X = X.astype(np.float64)
        self.client = client if client is not None else default_client()
        self.pool = GuardedPool(X, client=self.client)
        self.X = self.pool.X
        self.n_samples = self.pool.n_samples
        self.watched = np.empty(0, dtype=np.int64)
        self._watched_X: Any = None
        self._unc: tuple[tuple[Any, ...], np.ndarray] | None = None

    # -- binding ---------------------------------------------------------------------------
    def fingerprint(self, n_chunks: int = 8, n_rows: int = 128, random_state: int = 0) -> str:
        """SHA-256 of the pool's shape, dtype and row chunks and of a seeded sample of rows.

        The rows come from a few chunks only (a seeded choice of ``n_chunks`` chunks, a seeded
        ``n_rows`` rows in each): a pool that is generated or read lazily is not read whole.
        The same data chunked otherwise, or as a numpy array, is another pool to the store.

        Parameters
        ----------
        n_chunks : int, default=8
        n_rows : int, default=128
            Rows hashed per chosen chunk; the rest are not read.
        random_state : int, default=0

        Returns
        -------
        str
            64 hex digits; ties the label store to this pool.
        """
        sizes = np.asarray(self.X.chunks[0], dtype=np.int64)
        head = ["dask", list(map(int, self.X.shape)), str(self.X.dtype), sizes.tolist()]
        h = hashlib.sha256(json.dumps(head).encode())
        rng = np.random.default_rng(random_state)
        starts = np.r_[0, np.cumsum(sizes)]
        chunks = np.sort(rng.choice(sizes.size, min(n_chunks, sizes.size), replace=False))
        picks = [
            starts[c] + np.sort(rng.choice(sizes[c], min(n_rows, sizes[c]), replace=False))
            for c in chunks.tolist()
        ]
        h.update(np.ascontiguousarray(self.pool.take(np.concatenate(picks))).tobytes())
        return h.hexdigest()

    def prepared(self) -> tuple[Any, Any, str]:
        """``(X_fit, X, fingerprint)`` as :func:`alwidget.options.prepare_pool` gives them."""
        return self.X, self.X, self.fingerprint()

    def check_strategy(self, strategy: Any) -> None:
        """Raise ``ValueError`` unless ``strategy`` runs on a Dask pool."""
        from .strategies.base import RandomStrategy, UncertaintyStrategy
        from .strategies.diversity import Coreset
        from .strategies.gradient import Badge

        ok = (UncertaintyStrategy, RandomStrategy, Coreset, Badge)
        if not isinstance(strategy, ok) or getattr(strategy, "embed", None) is not None:
            raise ValueError(
                f"strategy {getattr(strategy, 'name', strategy)!r} does not run on a Dask "
                f"pool; use one of {list(SUPPORTED_STRATEGIES)}, or session.to_local(sample=n) "
                "for any strategy on a local sample"
            )

    def check_cold_start(self, rule: str) -> None:
        """Raise ``ValueError`` unless the cold-start rule is ``"random"``."""
        if rule != "random":
            raise ValueError(
                f"cold_start={rule!r} reads the whole pool; on a Dask pool use cold_start='random'"
            )

    # -- the loop ----------------------------------------------------------------------------
    def fit(
        self,
        estimator: Any,
        snapshot: FitSnapshot,
        n_classes: int,
        **kwargs: Any,
    ) -> tuple[Any, None]:
        """Fit a clone of ``estimator`` on the labeled rows only (fetched, then cached).

        Returns ``(model, None)``: the pool's probabilities stay on the workers (scored per
        query), so :attr:`Session.proba` is None on a Dask pool. ``kwargs`` go to
        :func:`alwidget.training.fit_model`.
        """
        rows = self.pool.take(snapshot.indices)
        local = FitSnapshot(
            np.arange(rows.shape[0], dtype=np.int64), snapshot.codes, snapshot.labels_version
        )
        model, _ = fit_model(estimator, rows, local, n_classes, **kwargs)
        return model, None

    def query(self, strategy: Any, ctx: Any, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Pick ``k`` of ``ctx.candidates`` with ``strategy`` on the pool.

        Returns
        -------
        indices : ndarray of shape (k',), int64
        scores : ndarray of shape (k',), float64

        Raises
        ------
        ValueError
            If the strategy does not run on a Dask pool (:data:`SUPPORTED_STRATEGIES`).
        PoolUnavailableError
            If the cluster is gone.
        """
        self.check_strategy(strategy)
        cand = np.asarray(ctx.candidates, dtype=np.int64)
        free = np.zeros(self.n_samples, dtype=bool)
        free[cand] = True
        others = np.flatnonzero(~free)  # never picked: labeled, skipped, unsure, excluded ...
        name = strategy.name
        if name == "random":
            picks, picked_scores = strategy.query(ctx, k)
            return picks, picked_scores
        if name in UNCERTAINTY_MEASURES:
            if ctx.model is None:
                raise ValueError(f"strategy {name!r} needs a fitted model")
            handle = self.pool._broadcast(ctx.model)
            scores = self.X.map_blocks(
                _score_block,
                handle,
                int(ctx.n_classes),
                name,
                dtype=np.float64,
                drop_axis=1,
            )
            idx, sc = self.pool.top_k(scores, k, others, return_scores=True)
        elif name == "coreset":
            idx, sc = self._coreset(ctx, cand, others, k)
        else:  # badge
            from .dask_badge import badge_select_dask

            if ctx.model is None:
                raise ValueError("strategy 'badge' needs a fitted model")
            idx, sc = badge_select_dask(
                self.pool, ctx.model, int(ctx.n_classes), k, others, ctx.rng, strategy.intercept
            )
        self.pool.take(idx)  # the batch's rows: cached for its cards and the next fit
        return idx, sc

    def _coreset(
        self, ctx: Any, cand: np.ndarray, others: np.ndarray, k: int
    ) -> tuple[np.ndarray, np.ndarray]:
        labeled = np.flatnonzero(np.asarray(ctx.labels) >= 0)
        if labeled.size:
            return self.pool.k_center_greedy(k, labeled, exclude=others)
        # as the in-memory core-set: without centres the first pick is a seeded draw
        first = int(cand[ctx.rng.integers(cand.size)])
        rest, d = self.pool.k_center_greedy(k - 1, [first], exclude=others)
        return np.r_[first, rest].astype(np.int64), np.r_[np.inf, d]

    # -- what the map shows --------------------------------------------------------------------
    def watch(self, indices: Sequence[int] | np.ndarray) -> None:
        """Compute :meth:`uncertainty` for these items too (the map's sample); their rows are
        kept on the workers (``persist``), so recolouring after a retrain does not read the
        pool again."""
        idx = np.unique(np.asarray(indices, dtype=np.int64))
        self.watched = idx
        self._watched_X = self.pool._persist(self.rows_array(idx)) if idx.size else None
        self._unc = None

    def rows_array(self, indices: np.ndarray) -> Any:
        """The rows of sorted unique ``indices`` as a Dask array (one chunk per pool chunk,
        selected on the workers)."""
        sel = np.asarray(indices, dtype=np.int64)
        bounds = np.r_[0, np.cumsum(self.X.chunks[0])]
        counts = tuple(int(c) for c in np.diff(np.searchsorted(sel, bounds)))
        return self.X.map_blocks(
            _select_block,
            self.pool._broadcast(sel),
            dtype=self.X.dtype,
            chunks=(counts, self.X.chunks[1]),
        )

    def uncertainty(self, model: Any, strategy: Any, session: Any) -> np.ndarray:
        """The strategy's uncertainty (0..1) of the watched, labeled, unsure and batch items.

        The watched items (the map's sample, kept on the workers) are scored once per model
        and measure; the others (few) here, from the row cache.

        Returns
        -------
        ndarray of shape (n_samples,), float32
            NaN for the items not computed (neither watched nor answered nor in the batch).
        """
        from .labelstate import UNLABELED

        batch = getattr(session.batches, "batch", None)
        asked = np.flatnonzero(session.status != UNLABELED)
        if batch is not None:
            asked = np.union1d(asked, batch.indices)
        extra = np.setdiff1d(asked, self.watched).astype(np.int64)
        n_classes = len(session.classes)
        key = (id(model), strategy.measure, self.watched.size)
        if self._unc is None or self._unc[0] != key:
            out = np.full(self.n_samples, np.nan, dtype=np.float32)
            try:
                out[self.watched] = self._watched_uncertainty(model, strategy, n_classes)
            except PoolUnavailableError:  # the map keeps the colours it has; queries say why
                if self._unc is not None:
                    out = self._unc[1]
            self._unc = (key, out)
        out = self._unc[1]
        todo = extra[np.isnan(out[extra])]
        if todo.size:
            try:
                p = predict_proba_full(model, self.pool.take(todo), n_classes)
                out[todo] = strategy.uncertainty(p)
            except PoolUnavailableError:
                pass
        return out

    def _watched_uncertainty(self, model: Any, strategy: Any, n_classes: int) -> np.ndarray:
        if self._watched_X is None:
            return np.empty(0, dtype=np.float32)
        P = self._watched_X.map_blocks(
            _proba_rows_block,
            self.pool._broadcast(model),
            n_classes,
            dtype=np.float64,
            chunks=(self._watched_X.chunks[0], (n_classes,)),
        )
        (p,) = self.pool._compute(P)
        return strategy.uncertainty(np.asarray(p))

    def neighbours(self, k: int) -> Neighbours:
        """The :class:`~alwidget.selection.UnsureNeighbours` of a Dask pool."""
        return Neighbours(self, k)
