"""The life cycle of a session's batches: the current :class:`~alwidget.selection.Batch`,
the "label these next" queue, candidates, and picking a new batch with the strategy (or the
cold-start rule). Used by :class:`~alwidget.Session`, which owns one :class:`Batches`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .labelstate import LABELED, UNLABELED, UNSURE_STATUS
from .selection import OPEN, Batch, UnsureNeighbours, cold_start_pick, strategy_order
from .strategies import QueryContext, Strategy, get_strategy
from .validation import check_index

if TYPE_CHECKING:
    from .session import Session

__all__ = ["Batches"]


class Batches:
    """The current batch and the queue of one session.

    Parameters
    ----------
    session : Session
        Read for the labels, model and options; never written but for
        :attr:`Session.timings` ``["select"]``.
    strategy : Strategy
        The query strategy (:meth:`set_strategy` changes it).

    Attributes
    ----------
    batch : Batch or None
        The cards on screen (None until :meth:`select` ran once).
    queue : ndarray of shape (m,), int64
        Items to serve before the strategy picks ("label these next"), in order.
    excluded : ndarray of shape (n_samples,), bool
        Items never asked (:meth:`exclude`).

    Examples
    --------
    >>> import numpy as np, alwidget
    >>> X = np.random.default_rng(0).normal(size=(30, 2))
    >>> s = alwidget.Session(X, classes=["a", "b"], store=":memory:", batch_size=4, random_state=0)
    >>> b = s.batches.select()  # a fresh batch (not installed)
    >>> len(b.indices), b.cold_start
    (4, True)
    >>> s.close()
    """

    def __init__(self, session: Session, strategy: Strategy) -> None:
        self._s = session
        self.strategy = strategy
        self.batch: Batch | None = None
        self.queue = np.empty(0, dtype=np.int64)
        #: Items kept out of every batch (bool mask, saved in the store's meta).
        self.excluded = np.zeros(session.n_samples, dtype=bool)
        #: Items held out of batches for now, not saved (a stream's items that have not
        #: arrived or that passed; see :meth:`hold`).
        self.held = np.zeros(session.n_samples, dtype=bool)
        saved = session.store.get_meta("excluded")
        if saved:
            self.excluded[np.asarray(json.loads(saved), dtype=np.int64)] = True
        self._counter = 0
        dask = getattr(session, "dask", None)  # seam: a Dask pool finds neighbours chunk-wise
        self._near: Any = (
            UnsureNeighbours(session.X, session.unsure_neighbours)
            if dask is None
            else dask.neighbours(session.unsure_neighbours)
        )

    @property
    def current(self) -> Batch:
        """The current batch (there always is one once the session is built)."""
        assert self.batch is not None
        return self.batch

    def check_action(self, batch_id: int | None, index: int | None = None) -> None:
        """Check that an action made on batch ``batch_id`` (:attr:`Batch.id`, None: not
        checked) and card ``index`` is current.

        Raises
        ------
        StaleBatchError
            If ``batch_id`` is not the current batch (it changed since the user saw it).
        ValueError
            If ``index`` is not a card of the current batch.
        SessionClosedError
            If the session is closed.

        Examples
        --------
        >>> import numpy as np, alwidget
        >>> with alwidget.Session(np.eye(6), classes=["a", "b"], store=":memory:",
        ...                       batch_size=3) as s:
        ...     s.check_action(s.batch.id)  # current: fine
        ...     try:
        ...         s.check_action(s.batch.id - 1)
        ...     except alwidget.StaleBatchError:
        ...         print("stale")
        stale
        """
        self._s._check_live()
        self.current.check_action(batch_id, index, self._s.n_samples)

    def context(self, candidates: np.ndarray) -> QueryContext:
        """The :class:`~alwidget.strategies.QueryContext` of the session for ``candidates``."""
        s = self._s
        return QueryContext(
            X=s.X,
            labels=s.y,
            candidates=candidates,
            proba=s.proba,
            model=s.model,
            estimator=s.estimator,
            n_classes=len(s.classes),
            rng=s.rng,
        )

    def order(self, idx: np.ndarray) -> np.ndarray:
        """``idx`` in the current strategy's order, most informative first."""
        s = self._s
        unc = None if s.proba is None else s.uncertainty
        return strategy_order(self.strategy, self.context(idx), unc)

    def _append(self, indices: Sequence[int], *, skip_open: bool) -> np.ndarray:
        """Append the askable ``indices`` to the queue in strategy order; return them."""
        s = self._s
        idx = np.asarray([check_index(i, s.n_samples) for i in indices], dtype=np.int64)
        idx = idx[np.sort(np.unique(idx, return_index=True)[1])]
        ok = (s.status[idx] != LABELED) & (s.status[idx] != UNSURE_STATUS)
        ok &= ~self.excluded[idx] & ~np.isin(idx, self.queue)
        if skip_open:
            ok &= ~np.isin(idx, self.current.open_indices())
        add = self.order(idx[ok])
        self.queue = np.concatenate([self.queue, add])
        return add

    def new_batch(
        self,
        idx: np.ndarray,
        scores: np.ndarray,
        strategy: str,
        cold: bool,
        *,
        prefill: dict[int, int] | None = None,
    ) -> Batch:
        """A new :class:`Batch` with the next id, stamped with the session's round and model."""
        self._counter += 1
        s = self._s
        return Batch(
            np.asarray(idx, np.int64),
            np.asarray(scores, np.float64),
            strategy,
            s.round,
            s.labels_trained_on,
            cold,
            id=self._counter,
            prefill=dict(prefill or {}),
            labels_version=s.model_labels_version,
        )

    def candidates(self) -> np.ndarray:
        """Askable pool indices (unlabeled, not excluded, away from unsure items when asked
        and possible), int64, ascending."""
        s = self._s
        mask = (s.status == UNLABELED) & ~self.excluded & ~self.held
        unsure = s.unsure
        if s.avoid_unsure_neighbours and s.unsure_neighbours > 0 and unsure.size:
            far = mask.copy()
            far[self._near.near(unsure)] = False
            if far.any():
                mask = far
        return np.flatnonzero(mask)

    def select(self) -> Batch:
        """Pick a new batch: the queue first, else the strategy (or the cold-start rule).
        Does not install it."""
        s = self._s
        t0 = time.perf_counter()
        k = s.batch_size
        askable = (s.status == UNLABELED) & ~self.excluded & ~self.held
        queued = self.queue[askable[self.queue]]
        if queued.size:  # "label these next": served before the strategy picks
            self.queue = queued[k:]
            s.timings["select"] = time.perf_counter() - t0
            return self.new_batch(
                queued[:k], np.full(min(k, queued.size), np.nan), "map selection", False
            )
        self.queue = queued
        cand = self.candidates()
        k = min(s.batch_size, cand.size)
        st = self.strategy
        if k == 0:
            idx, scores, name, cold = np.empty(0, np.int64), np.empty(0), st.name, False
        elif s.model is None and st.needs_model:
            idx = cold_start_pick(s.cold_start, s.X, cand, k, s.rng)
            name, cold = f"cold start ({s.cold_start})", True
            scores = np.zeros(idx.size)
        elif (dask := getattr(s, "dask", None)) is not None:  # seam: the Dask pool queries
            idx, scores = dask.query(st, self.context(cand), k)
            name, cold = st.name, False
        else:
            idx, scores = st.query(self.context(cand), k)
            name, cold = st.name, False
        s.timings["select"] = time.perf_counter() - t0
        return self.new_batch(idx, scores, name, cold)

    def reselect(self) -> None:
        """Install a freshly picked batch."""
        self.batch = self.select()

    def restore(self, undone: pd.DataFrame, cold: bool) -> np.ndarray:
        """Make the items of an undone submit (``LabelStore.submit_events``) that are free
        again the current batch, their answers in :attr:`Batch.prefill`; return them. With
        none free, a fresh batch is picked."""
        s = self._s
        idx = undone["idx"].astype("int64").to_numpy()
        free = s.status[idx] == UNLABELED
        prefill = {
            int(i): int(lab)
            for i, k, lab, f in zip(idx, undone["kind"], undone["label"], free, strict=True)
            if f and k == "label"
        }
        idx = idx[free]
        strategy = undone["strategy"].dropna()
        if idx.size == 0:
            self.reselect()
        else:
            self.batch = self.new_batch(
                idx,
                undone["score"].astype("float64").to_numpy()[free],
                str(strategy.iloc[0]) if len(strategy) else self.strategy.name,
                cold,
                prefill=prefill,
            )
        return idx

    def answered(self, indices: Sequence[int], keep_batch: bool) -> None:
        """After a submit of ``indices``: pick a new batch, or with ``keep_batch`` mark their
        open cards labeled and pick one only when no open card is left."""
        b = self.current
        if keep_batch:
            b.state[np.isin(b.indices, indices) & (b.state == OPEN)] = LABELED
        if not keep_batch or b.open_indices().size == 0:
            self.reselect()

    def mark(self, idx: int, state: int) -> bool:
        """Mark card ``idx`` of the current batch (``Batch.state``); pick a new batch if no
        open card is left. Returns True if a new batch was picked."""
        b = self.current
        pos = b.position(idx)
        if pos is not None:
            b.state[pos] = state
        if b.open_indices().size == 0:
            self.reselect()
            return True
        return False

    # -- the "label these next" API of Session (Session.enqueue is Batches.enqueue) ---------
    def pending(self) -> np.ndarray:
        """Pool indices waiting to be served as the next batches ("label these next"), in
        the order they will be asked, int64 of shape (m,) (:attr:`Session.queue`)."""
        s = self._s
        with s._lock:
            return self.queue[s.status[self.queue] == UNLABELED].copy()

    def enqueue(self, indices: Sequence[int]) -> np.ndarray:
        """Queue pool items to be asked next, before the strategy picks new ones; return
        those added (int64, in queue order: strategy order). Labeled, unsure, excluded,
        queued or open-card items are left out; ``ValueError`` on an out-of-range index.

        Examples
        --------
        >>> import numpy as np, alwidget
        >>> with alwidget.Session(np.eye(8), classes=["a", "b"], store=":memory:",
        ...                       batch_size=2) as s:
        ...     added = s.enqueue([i for i in range(8) if i not in s.query()][:3])
        ...     added.size, np.array_equal(s.queue, added)
        (3, True)
        """
        s = self._s
        with s._lock:
            s._check_live()
            add = self._append(indices, skip_open=True)
            s._emit("query")
            return add

    def clear_queue(self) -> None:
        """Forget the queued items (the current batch stays)."""
        with self._s._lock:
            self.queue = np.empty(0, dtype=np.int64)
            self._s._emit("query")

    def requery(self) -> np.ndarray:
        """Pick a fresh batch with the current model and strategy (no retrain); return its
        open cards (as :meth:`Session.query`)."""
        s = self._s
        with s._lock:
            s._check_live()
            self.reselect()
            s._emit("query")
            return s.query()

    def exclude(self, indices: Sequence[int]) -> None:
        """Keep pool items out of every batch from now on (e.g. a held-out evaluation set);
        saved in the store, so a resumed session keeps it. ``ValueError`` on a bad index.

        Examples
        --------
        >>> import numpy as np, alwidget
        >>> with alwidget.Session(np.eye(6), classes=["a", "b"], store=":memory:",
        ...                       batch_size=3) as s:
        ...     s.exclude([0, 1, 2])
        ...     sorted(s.query().tolist())
        [3, 4, 5]
        """
        s = self._s
        with s._lock:
            idx = np.asarray([check_index(i, s.n_samples) for i in indices], dtype=np.int64)
            self.excluded[idx] = True
            s.store.set_meta("excluded", json.dumps(np.flatnonzero(self.excluded).tolist()))
            if np.isin(self.current.open_indices(), idx).any():
                self.reselect()
            s._emit("query")

    def hold(self, held: np.ndarray) -> None:
        """Keep the items where ``held`` (bool, shape (n_samples,); all False ends holding)
        is True out of batches for now. Not saved (a resumed session asks them again,
        unlike :meth:`exclude`): stream mode holds back what has not arrived or passed."""
        s = self._s
        with s._lock:
            mask = np.asarray(held, dtype=bool)
            if mask.shape != (s.n_samples,):
                raise ValueError(f"held must be a bool mask of shape ({s.n_samples},)")
            self.held = mask.copy()

    def set_batch(self, indices: Sequence[int]) -> np.ndarray:
        """Make chosen pool items the next batches ("label these next", e.g. from the map).

        The queue is replaced by these items in strategy order and its first
        :attr:`Session.batch_size` become the current batch at once (strategy
        ``"map selection"``), whose open cards are returned. Labeled and unsure items are
        dropped; ``ValueError`` if an index is out of range or none can be asked.

        Examples
        --------
        >>> import numpy as np, alwidget
        >>> with alwidget.Session(np.eye(6), classes=["a", "b"], store=":memory:",
        ...                       batch_size=2) as s:
        ...     sorted(s.set_batch([5, 4, 3]).tolist()), s.batch.strategy, s.queue.size
        ([4, 5], 'map selection', 1)
        """
        s = self._s
        with s._lock:
            s._check_live()
            old, self.queue = self.queue, np.empty(0, dtype=np.int64)
            if self._append(indices, skip_open=False).size == 0:
                self.queue = old
                raise ValueError("none of these items is unlabeled; nothing to put in the batch")
            self.reselect()
            s._emit("query")
            return s.query()

    def set_strategy(self, strategy: Any, *, requery: bool = True) -> None:
        """Switch the query strategy (saved in the store); with ``requery`` the current
        batch is re-picked now. On ``ValueError`` (unknown name), ``ImportError`` (a missing
        extra) or ``TypeError`` (unfit for this estimator) the old strategy and batch stay.

        Parameters
        ----------
        strategy : str, Strategy or callable
            As the ``strategy`` argument of :class:`~alwidget.Session`.
        requery : bool, default=True
            Pick a new current batch with it now (else from the next batch on).

        Examples
        --------
        >>> import numpy as np, alwidget
        >>> with alwidget.Session(np.eye(6), classes=["a", "b"], store=":memory:",
        ...                       batch_size=3) as s:
        ...     s.set_strategy("entropy")
        ...     s.strategy.name
        'entropy'
        """
        s = self._s
        with s._lock:
            s._check_live()
            new, old = get_strategy(strategy), self.strategy
            if (dask := getattr(s, "dask", None)) is not None:  # seam: what runs on Dask
                dask.check_strategy(new)
            self.strategy = new
            try:
                batch = self.select() if requery else None
            except Exception:
                self.strategy = old
                raise
            s.store.set_meta("strategy", new.name)
            if batch is not None:
                self.batch = batch
            s._emit("strategy")
