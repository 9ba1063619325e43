"""The headless active-learning loop: query, submit, retrain, undo, skip, unsure.

:class:`Session` knows nothing about widgets; :class:`alwidget.LabelingWidget` renders it.
Every answer goes to the durable :class:`~alwidget.store.LabelStore` before anything else
happens; the session's labels are always derived from the store's log. The work is done by
parts it owns (composition; each public method here is a few lines or a delegation that
keeps the part's docstring): :class:`~alwidget.labelstate.LabelState` (labels and statuses
replayed from the store), :class:`~alwidget.batches.Batches` (current batch, queue,
strategy), :class:`~alwidget.modeling.Models` (fit, install, rescore),
:class:`~alwidget.live.Lifetime` (closing, the background
:class:`~alwidget.training.Trainer`, one live session per store) and
:class:`~alwidget.observers.Listeners` (events); see docs/session.md.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from .batches import Batches
from .dask_session import open_dask_pool
from .errors import AlwidgetWarning, SessionClosedError, StaleBatchError
from .growth import prefix_fingerprint
from .labelstate import (
    LABELED,
    SKIPPED,
    SOURCES,
    STATUS_NAMES,
    UNLABELED,
    UNSURE,
    UNSURE_STATUS,
    LabelState,
)
from .live import Lifetime
from .modeling import Models
from .observers import Listeners
from .options import (
    DEFAULT_COLD_START,
    check_estimator,
    check_options,
    default_estimator,
    default_store_path,
    open_store,
    prepare_pool,
    resolve_strategy,
)
from .selection import OPEN, Batch
from .session_views import SessionState, check_retrain, delegate
from .store import LabelEvent, default_annotator
from .strategies import Strategy, get_strategy
from .tables import LabelTables
from .training import FitSnapshot
from .validation import ClassNames, check_index, is_sparse

__all__ = [
    "Session",
    "Batch",
    "StaleBatchError",
    "SessionClosedError",
    "AlwidgetWarning",
    "FitSnapshot",
    "UNSURE",
    "STATUS_NAMES",
    "UNLABELED",
    "LABELED",
    "SKIPPED",
    "UNSURE_STATUS",
    "SOURCES",
    "default_estimator",
    "default_store_path",
]


class Session(SessionState):
    """An active-learning session over a pool of items (docs/session.md says more).

    Parameters
    ----------
    X : ndarray, DataFrame, scipy.sparse matrix or dask.array.Array of shape (n_samples, n_features)
        Numeric features of the pool, what the estimator is trained on; never modified. A
        Dask array (chunked by rows) stays where it is: the whole-pool steps run chunk-wise
        on its cluster (:mod:`alwidget.dask_session`, docs/dask.md).
    classes : sequence of str or numbers
        Class names; labels are stored as codes ``0..n_classes-1`` (see :meth:`code_of`).
    embedding : ndarray of shape (n_samples, n_dims), optional
        Dense coordinates for geometry when X is sparse; default a truncated SVD of X.
    estimator : classifier, optional
        With ``predict_proba`` or ``decision_function``; cloned before each fit.
    strategy : str, Strategy, callable or None
        A name from :func:`~alwidget.strategies.available_strategies`, a ``Strategy`` or
        ``f(ctx) -> scores``; ``None`` resumes the store's strategy, else ``"margin"``.
    batch_size : int, default=10
        Items per batch; clipped to the pool size with an :class:`AlwidgetWarning`.
    random_state : int, Generator or None
        Seed for every random choice (cold start, tie-breaking, random strategy).
    store : str, Path, LabelStore or None
        An SQLite file (resumed if it exists), ``":memory:"``, or ``None`` for
        ``alwidget-<name or data fingerprint>.sqlite`` in the working directory.
    name : str, optional
        Session name, used for the default store file name.
    cold_start : {"typiclust", "random", "diverse", "probcover"}, optional
        Default ``"typiclust"`` (``"random"`` on a Dask pool, where the others would read the
        whole pool). How to pick batches until two classes are labeled (see
        :func:`alwidget.selection.cold_start_pick`): TypiClust (the most typical item of each
        k-means cluster, Hacohen et al. 2022) beat a random first batch on 7 of the 8
        feature sets measured in docs/strategies.md ("Fewer labels on real data") and was not
        significantly behind on the eighth; ``"random"`` is a uniform draw.
    annotator : str, optional
        Recorded with every answer; default the operating-system user.
    label_policy : {"latest", "majority"}, default="latest"
        Which answer trains when an item has several; all answers are kept either way.
    avoid_unsure_neighbours : bool, default=True
        Keep the ``unsure_neighbours`` nearest neighbours of "unsure" items out of batches.
    unsure_neighbours : int, default=5
        How many neighbours of each unsure item to avoid.
    client : distributed.Client, optional
        Only with a Dask array ``X``: the cluster to run on (default: dask's current client,
        else the local scheduler).

    Raises
    ------
    ValueError
        On NaN/inf in X, fewer than 2 items or classes, or a bad option; raised before any
        file is created or changed.
    TypeError
        If the estimator has neither ``predict_proba`` nor ``decision_function``.
    StoreMismatchError, StoreCorruptError, StoreLockedError, StoreReadOnlyError
        If the store holds other data, is damaged, locked or cannot be written.

    Notes
    -----
    State is written under one re-entrant lock, so the background
    :class:`~alwidget.training.Trainer` cannot interleave with a submit. One live session
    per store file and annotator in a process: a newer one closes the older
    (:mod:`alwidget.live`).

    Examples
    --------
    >>> import numpy as np, alwidget
    >>> X = np.random.default_rng(0).normal(size=(100, 4))
    >>> with alwidget.Session(X, classes=["a", "b"], store=":memory:", random_state=0) as s:
    ...     b = s.query()
    ...     _ = s.submit({int(b[0]): "a", int(b[1]): "b"})
    ...     s.n_labeled, s.round, s.skipped.tolist()
    (2, 1, [])
    """

    def __init__(
        self,
        X: Any,
        *,
        classes: Sequence[Any],
        estimator: Any = None,
        strategy: str | Strategy | Callable | None = None,
        batch_size: int = 10,
        random_state: int | np.random.Generator | None = None,
        store: Any = None,
        name: str | None = None,
        cold_start: str | None = None,
        annotator: str | None = None,
        label_policy: str = "latest",
        avoid_unsure_neighbours: bool = True,
        unsure_neighbours: int = 5,
        embedding: Any = None,
        client: Any = None,
    ) -> None:
        #: The pool object of a Dask array X (whole-pool steps delegate to it), else None.
        self.dask = open_dask_pool(X, client)
        if self.dask is None:
            self.X_fit, self.X, self.fingerprint = prepare_pool(X, embedding)
        else:  # seam: alwidget.dask_session
            self.X_fit, self.X, self.fingerprint = self.dask.prepared()
        n = self.X.shape[0]
        if cold_start is None:
            cold_start = DEFAULT_COLD_START if self.dask is None else "random"
        self._classes = ClassNames(classes)
        self.classes = self._classes.names
        self.batch_size = check_options(n, batch_size, cold_start, label_policy, unsure_neighbours)
        self.estimator = check_estimator(estimator, sparse=is_sparse(self.X_fit))
        self.cold_start, self.label_policy = cold_start, label_policy
        self.annotator = annotator or default_annotator()
        self.avoid_unsure_neighbours = bool(avoid_unsure_neighbours)
        self.unsure_neighbours = int(unsure_neighbours)
        if isinstance(random_state, np.random.RandomState):
            random_state = int(random_state.randint(2**31 - 1))
        self.rng = np.random.default_rng(random_state)
        strategy = None if strategy is None else get_strategy(strategy)  # fails before any file
        if self.dask is not None:
            self.dask.check_cold_start(cold_start)
            if strategy is not None:
                self.dask.check_strategy(strategy)
        plain = not is_sparse(self.X_fit) and self.dask is None
        prefix = prefix_fingerprint(self.X) if plain else None
        self.store, own_store = open_store(store, name, self.fingerprint, n, self.classes, prefix)
        self._lock = threading.RLock()
        self.session_id = uuid.uuid4().hex
        self.timings: dict[str, float] = {}
        self.listeners = Listeners()
        #: The labels and statuses (:class:`~alwidget.labelstate.LabelState`).
        self.label_state = LabelState(self.store, n, self._classes, label_policy)
        #: The model life cycle (:class:`~alwidget.modeling.Models`).
        self.models = Models(self)
        #: The current batch and queue (:class:`~alwidget.batches.Batches`).
        self.batches = Batches(self, resolve_strategy(self.store, strategy))
        self.tables = LabelTables(self.store, self.classes, label_policy, lambda: self.y)
        self.label_state.replay()
        self.retrain()
        self.batches.reselect()
        #: Open/closed, the background worker, the live-session registry (:class:`Lifetime`).
        self.life = Lifetime(self, own_store)

    # -- the loop -------------------------------------------------------------------------
    def query(self) -> np.ndarray:
        """The open cards of the current batch as pool indices, shape (k,), int64, most
        informative first (skipped, unsure and map-labeled cards of the batch excluded).

        Examples
        --------
        >>> import numpy as np, alwidget
        >>> with alwidget.Session(np.eye(8), classes=["a", "b"], store=":memory:",
        ...                       batch_size=3) as s:
        ...     s.query().shape, s.query().dtype
        ((3,), dtype('int64'))
        """
        return self.batch.open_indices().copy()

    check_action = delegate("batches", Batches.check_action)
    queue = property(lambda self: self.batches.pending(), doc=Batches.pending.__doc__)
    enqueue = delegate("batches", Batches.enqueue)
    clear_queue = delegate("batches", Batches.clear_queue)
    requery = delegate("batches", Batches.requery)
    exclude = delegate("batches", Batches.exclude)
    set_batch = delegate("batches", Batches.set_batch)

    def submit(
        self,
        labels: Mapping[int, Any],
        *,
        source: str = "batch",
        retrain: bool | str = True,
        keep_batch: bool = False,
        batch_id: int | None = None,
        wait: float = 0.3,
    ) -> np.ndarray:
        """Record answers (in the store, first), retrain, and return the next batch.

        If the refit fails, the answers are kept, :attr:`last_error` says why, and the next
        batch comes from the last good model (or the cold-start rule).

        Parameters
        ----------
        labels : mapping of int to class name, class code, or UNSURE
            ``{pool index: answer}``; in the current batch when ``source="batch"``. An item
            that already has an answer gets an update (recorded with ``previous``).
        source : {"batch", "map", "import"}
            Recorded in the provenance.
        retrain : {True, False, "background"}, default=True
            Refit now; do not (:attr:`models_behind` says by how much); or fit in the
            :attr:`trainer` thread and wait up to ``wait`` seconds; a model landing later
            picks the *next* batch (event ``"model"``), never the current one.
        keep_batch : bool, default=False
            Keep the current batch, marking the answered cards labeled (``Batch.state``); a
            new batch is picked only if no open card is left.
        batch_id : int, optional
            :attr:`Batch.id` the answers were given on; a stale one raises.
        wait : float, default=0.3
            Seconds to wait for a background fit.

        Raises
        ------
        StaleBatchError
            If ``batch_id`` is not the current batch.
        ValueError
            On empty ``labels``, an unknown class, an index outside the batch (a second
            click), a card already skipped or answered, or an unknown ``source``/``retrain``.
        StoreLockedError, StoreReadOnlyError
            If the store cannot be written; the answers are in ``error.pending``.
        SessionClosedError
            If the session is closed. In every error case nothing is recorded.

        Examples
        --------
        >>> import numpy as np, alwidget
        >>> with alwidget.Session(np.eye(8), classes=["a", "b"], store=":memory:",
        ...                       batch_size=2, random_state=0) as s:
        ...     i, j = s.query().tolist()
        ...     nxt = s.submit({i: "a", j: alwidget.UNSURE})
        ...     s.n_labeled, s.unsure.tolist() == [j], i in nxt
        (1, True, False)
        """
        check_retrain(retrain)
        with self._lock:
            self.check_action(batch_id)
            events = self._events_for(labels, source)
            self._record(events, dict(labels))
        self._refit(retrain, wait)
        with self._lock:
            self.batches.answered([e.idx for e in events], keep_batch)
            self._emit("submit")
            return self.query()

    def mark_unsure(self, index: int, *, batch_id: int | None = None) -> np.ndarray:
        """Answer "unsure" for one item and return the current batch; the batch is kept.

        An open card is recorded with source ``"batch"`` and stays in place, marked unsure;
        any other item with source ``"map"``. Unsure items never train and are not asked
        again; a later class answer is a relabel. Raises as :meth:`skip`, and
        ``StoreLockedError``/``StoreReadOnlyError`` (nothing recorded).

        Examples
        --------
        >>> import numpy as np, alwidget
        >>> with alwidget.Session(np.eye(6), classes=["a", "b"], store=":memory:",
        ...                       batch_size=3) as s:
        ...     i = int(s.query()[0])
        ...     left = s.mark_unsure(i)
        ...     s.unsure.tolist() == [i], i in left, left.size
        (True, False, 2)
        """
        with self._lock:
            self.check_action(batch_id, None if batch_id is None else index)
            idx = self._check_index(index)
            pos = self.batch.position(idx)
            in_batch = pos is not None and self.batch.state[pos] == OPEN
            events = self._events_for({idx: UNSURE}, "batch" if in_batch else "map")
            self._record(events, {idx: UNSURE})  # a labeled item turned unsure: models_behind
            if in_batch:
                self.batches.mark(idx, UNSURE_STATUS)
            self._emit("unsure")
            return self.query()

    def import_labels(self, labels: Any, *, retrain: bool = True) -> int:
        """Import existing labels as a seed set (``source="import"``, one undoable submit).

        Parameters
        ----------
        labels : mapping, pandas Series, or sequence of length n_samples
            ``{pool index: class}``, or one entry per row of X (None, NaN, ``""``: none).
        retrain : bool, default=True
            Refit the model after the import.

        Returns
        -------
        int
            How many labels were recorded (answers already in effect are left alone, so a
            second identical import records nothing).

        Raises
        ------
        ValueError
            On an unknown class, an out-of-range index or a sequence of the wrong length;
            nothing is recorded then.

        Examples
        --------
        >>> import numpy as np, alwidget
        >>> with alwidget.Session(np.eye(6), classes=["a", "b"], store=":memory:", batch_size=3) as s:
        ...     s.import_labels(["a", "b", None, None, None, None]), s.import_labels({0: "a"})
        (2, 0)
        """
        with self._lock:
            self._check_live()
            events = self.label_state.import_events(
                labels,
                self.round,
                self.labels_trained_on,  # once, not per row
            )
            if not events:
                return 0
            self._record(events, labels)
            if retrain:
                self.retrain()
            self.batches.reselect()
            self._emit("import")
            return len(events)

    def undo(self, *, retrain: bool | str = True, wait: float = 0.3) -> np.ndarray | None:
        """Take back this annotator's last submit (recorded as an undo event).

        Its items become the current batch again, the answers taken back in
        :attr:`Batch.prefill`. ``retrain`` and ``wait`` are as for :meth:`submit`. Returns
        the items taken back (int64), or None if there was nothing to undo.

        Examples
        --------
        >>> import numpy as np, alwidget
        >>> with alwidget.Session(np.eye(6), classes=["a", "b"], store=":memory:", batch_size=3) as s:
        ...     i = int(s.query()[0])
        ...     _ = s.submit({i: "b"})
        ...     s.undo().tolist() == [i], s.n_labeled, s.batch.prefill == {i: 1}
        (True, 0, True)
        """
        check_retrain(retrain)
        with self._lock:
            self._check_live()
            sid = self.store.undo_last(self.annotator, session_id=self.session_id)
            if sid is None:
                return None
            undone = self.store.submit_events(sid)
            self.label_state.replay()
        self._refit(retrain, wait)
        with self._lock:
            idx = self.batches.restore(undone, self.cold)
            self._emit("undo")
            return idx

    def skip(self, index: int, *, batch_id: int | None = None) -> np.ndarray:
        """Pass on one open card without answering (recorded as a skip); return the batch.

        The card stays in place, marked skipped; the item is not asked again in this session
        unless answered from the map. A new batch is picked when no open card is left.

        Raises
        ------
        StaleBatchError
            If ``batch_id`` is given and is not the current batch.
        ValueError
            If ``index`` is not an open card of the current batch.

        Examples
        --------
        >>> import numpy as np, alwidget
        >>> with alwidget.Session(np.eye(6), classes=["a", "b"], store=":memory:",
        ...                       batch_size=2) as s:
        ...     i, j = s.query().tolist()
        ...     s.skip(i).tolist() == [j], s.skipped.tolist() == [i], s.n_labeled
        (True, True, 0)
        """
        with self._lock:
            self.check_action(batch_id)
            idx = self._check_index(index)
            pos = self.batch.position(idx)
            if pos is None or self.batch.state[pos] != OPEN:
                raise ValueError(f"index {idx} is not in the current batch; cannot skip it")
            self._record([self.label_state.skip_event(idx, self.batch)], {idx: "skip"})
            self.batches.mark(idx, SKIPPED)
            self._emit("skip")
            return self.query()

    set_strategy = delegate("batches", Batches.set_strategy)

    #: For a session made by :meth:`to_local`: each item's index in the Dask pool.
    pool_index: np.ndarray | None = None

    def to_local(self, sample: int = 100_000, **kwargs: Any) -> Session:
        """Go on without the cluster: a local session on a seeded sample of this Dask pool
        that holds every answered item (see :func:`alwidget.dask_session.to_local`)."""
        from .dask_session import to_local

        return to_local(self, sample, **kwargs)

    # -- internals ------------------------------------------------------------------------
    def _emit(self, event: str) -> None:
        self.listeners.emit(event)

    def _check_live(self) -> None:
        self.life.check()

    def _refit(self, retrain: bool | str, wait: float) -> None:
        """Refit after a change of labels, as asked (called without holding the lock, so a
        background fit can install its model while we wait for it)."""
        if retrain is True:
            self.retrain()
        elif retrain == "background":
            self.trainer.request()
            self.trainer.wait(max(0.0, float(wait)))

    def _record(self, events: list[LabelEvent], pending: Any) -> None:
        """Write ``events`` to the store (first: on a store error nothing changed, the
        answers are in ``error.pending``), then replay them into the labels."""
        t0 = time.perf_counter()
        self.store.append(events, self.annotator, pending=pending, session_id=self.session_id)
        t1 = time.perf_counter()
        self.label_state.replay()
        self.timings["store"], self.timings["replay"] = t1 - t0, time.perf_counter() - t1

    def _events_for(self, labels: Mapping[int, Any], source: str) -> list[LabelEvent]:
        """Validate a submit completely and build its events (no state change)."""
        self._check_live()
        return self.label_state.events_for(labels, source, self.batch)

    def _check_index(self, raw: Any) -> int:
        return check_index(raw, self.n_samples)

    def _candidates(self) -> np.ndarray:
        return self.batches.candidates()
