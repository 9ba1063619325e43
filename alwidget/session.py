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

import functools
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .batches import Batches
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
    check_estimator,
    check_options,
    default_estimator,
    default_store_path,
    open_store,
    prepare_pool,
    resolve_strategy,
)
from .selection import OPEN, Batch
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

RETRAIN_MODES = (True, False, "background")
_warned_model_version = False


def _via(part: str, name: str, doc: str | None = None) -> Any:
    """A read-only property giving ``self.<part>.<name>`` (the state lives in the parts)."""
    return property(lambda self: getattr(getattr(self, part), name), doc=doc)


def _delegate(part: str, func: Callable[..., Any]) -> Any:
    """A method calling ``self.<part>.<func.__name__>``, with ``func``'s docstring."""

    @functools.wraps(func)
    def method(self: Session, *args: Any, **kwargs: Any) -> Any:
        return getattr(getattr(self, part), func.__name__)(*args, **kwargs)

    return method


class Session:
    """An active-learning session over a pool of items (docs/session.md says more).

    Parameters
    ----------
    X : ndarray, DataFrame or scipy.sparse matrix of shape (n_samples, n_features)
        Numeric features of the pool, what the estimator is trained on; never modified.
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
    cold_start : {"random", "diverse", "typiclust", "probcover"}, default="random"
        How to pick batches until two classes are labeled (see
        :func:`alwidget.selection.cold_start_pick`; TypiClust measured best in
        docs/strategies.md).
    annotator : str, optional
        Recorded with every answer; default the operating-system user.
    label_policy : {"latest", "majority"}, default="latest"
        Which answer trains when an item has several; all answers are kept either way.
    avoid_unsure_neighbours : bool, default=True
        Keep the ``unsure_neighbours`` nearest neighbours of "unsure" items out of batches.
    unsure_neighbours : int, default=5
        How many neighbours of each unsure item to avoid.

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
        cold_start: str = "random",
        annotator: str | None = None,
        label_policy: str = "latest",
        avoid_unsure_neighbours: bool = True,
        unsure_neighbours: int = 5,
        embedding: Any = None,
    ) -> None:
        self.X_fit, self.X, self.fingerprint = prepare_pool(X, embedding)
        n = self.X.shape[0]
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
        prefix = None if is_sparse(self.X_fit) else prefix_fingerprint(self.X)
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

    # -- state, held by the parts (read-only here) -----------------------------------------
    excluded = _via("batches", "excluded", "Items kept out of every batch, bool (n_samples,).")
    y = _via("label_state", "y", "Class code in effect per item, int64 (n_samples,); -1: none.")
    status = _via("label_state", "status", "Status per item, int8 (n_samples,): STATUS_NAMES.")
    labels_version = _via("label_state", "labels_version", "Incremented when :attr:`y` changes.")
    model = _via("models", "model", "The current fitted model, or None at cold start.")
    proba = _via("models", "proba", "Pool class probabilities (n_samples, n_classes) or None.")
    labels_trained_on = _via("models", "labels_trained_on", "Labels the model was fitted on.")
    model_labels_version = _via("models", "model_labels_version", "labels_version of those.")
    fit_progress = _via("models", "fit_progress", "``(step, total)`` of a running fit, or None.")
    last_error = _via("models", "last_error", "Why the last fit failed (None after a good one).")
    _threads = _via("models", "threads")

    @property
    def batch(self) -> Batch:
        """The current batch (the cards on screen)."""
        return self.batches.current

    @batch.setter
    def batch(self, value: Batch) -> None:
        self.batches.batch = value

    @property
    def model_version(self) -> int:
        """Deprecated alias of :attr:`labels_trained_on` (emits ``FutureWarning`` once)."""
        global _warned_model_version
        if not _warned_model_version:
            _warned_model_version = True
            warnings.warn(
                "Session.model_version is renamed Session.labels_trained_on (the number of "
                "labels the model was trained on); the old name will be removed",
                FutureWarning,
                stacklevel=2,
            )
        return self.models.labels_trained_on

    skipped = _via("label_state", "skipped", LabelState.skipped.__doc__)
    unsure = _via("label_state", "unsure", LabelState.unsure.__doc__)
    models_behind = _via("models", "behind", Models.behind.__doc__)
    newer_model = _via("models", "newer", Models.newer.__doc__)
    uncertainty = property(lambda self: self.models.uncertainty(), doc=Models.uncertainty.__doc__)
    closed = _via("life", "closed", Lifetime.closed.__doc__)
    trainer = _via("life", "trainer", Lifetime.trainer.__doc__)
    close = _delegate("life", Lifetime.close)
    observe = _delegate("listeners", Listeners.observe)
    unobserve = _delegate("listeners", Listeners.unobserve)
    code_of = _delegate("label_state", LabelState.code_of)

    @property
    def n_samples(self) -> int:
        """Number of pool items."""
        return self.X.shape[0]

    @property
    def n_labeled(self) -> int:
        """Items with a class label in effect (the training set size)."""
        return int((self.y >= 0).sum())

    @property
    def round(self) -> int:
        """Number of answer submits in effect (undone ones and imports do not count)."""
        return self.store.n_submits()

    @property
    def strategy(self) -> Strategy:
        """The query strategy (assigning calls :meth:`set_strategy`)."""
        return self.batches.strategy

    @strategy.setter
    def strategy(self, value: str | Strategy | Callable) -> None:
        self.set_strategy(value)

    @property
    def cold(self) -> bool:
        """True while no model can be fitted (fewer than two classes labeled)."""
        return self.model is None

    # -- label tables (alwidget.tables.LabelTables) ----------------------------------------
    @property
    def labels(self) -> pd.DataFrame:
        """What was labeled, one row per labeled item, oldest first (see :meth:`labels_table`)."""
        return self.tables.labels_table()

    labels_table = _via("tables", "labels_table", "See :meth:`LabelTables.labels_table`.")
    answers = _via("tables", "answers", "Every answer in effect (updates too), oldest first.")
    disagreements = _via("tables", "disagreements", "See :meth:`LabelTables.disagreements`.")
    export = _via("tables", "export", "Write labels to CSV/Parquet: :meth:`LabelTables.export`.")

    def label_issues(self, *, cv: int = 5) -> pd.DataFrame:
        """Likely label mistakes (cleanlab on out-of-fold probabilities) and annotator
        disagreements, most suspicious first; see :func:`alwidget.label_issues.session_label_issues`.
        Correct one with ``submit({index: label}, source="map")``: recorded as an update, with
        the previous answer kept in the log."""
        from .label_issues import session_label_issues

        return session_label_issues(self, cv=cv)

    def add_items(self, X_new: Any) -> np.ndarray:
        """Append new items to the pool (items that arrived); their indices come last.

        The current model scores them at once, the store records the growth (a session
        resumed on the grown pool is accepted; give the store a path or ``name=``, since
        the default file name follows the data), and event ``"grow"`` is emitted. See
        :func:`alwidget.growth.add_items` for the errors raised.

        Parameters
        ----------
        X_new : ndarray or DataFrame of shape (m, n_features)

        Returns
        -------
        ndarray of shape (m,), int64
            The new items' pool indices.

        Examples
        --------
        >>> import numpy as np, alwidget
        >>> with alwidget.Session(np.eye(4), classes=["a", "b"], store=":memory:",
        ...                       batch_size=2) as s:
        ...     s.add_items(np.ones((2, 4))).tolist(), s.n_samples
        ([4, 5], 6)
        """
        from .growth import add_items

        return add_items(self, X_new)

    def backup(self, path: str | Path) -> Path:
        """Write a consistent copy of the label store to ``path`` (safe while labeling) and
        return it; see :meth:`LabelStore.backup`. ``StoreError`` if it cannot be written."""
        return self.store.backup(path)

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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

    check_action = _delegate("batches", Batches.check_action)
    queue = property(lambda self: self.batches.pending(), doc=Batches.pending.__doc__)
    enqueue = _delegate("batches", Batches.enqueue)
    clear_queue = _delegate("batches", Batches.clear_queue)
    requery = _delegate("batches", Batches.requery)
    exclude = _delegate("batches", Batches.exclude)
    set_batch = _delegate("batches", Batches.set_batch)

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
        _check_retrain(retrain)
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
        _check_retrain(retrain)
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

    set_strategy = _delegate("batches", Batches.set_strategy)

    # -- models (alwidget.modeling.Models) ------------------------------------------------
    fit_snapshot = _via("models", "snapshot", "Copy the training labels: :meth:`Models.snapshot`.")
    fit_model = _via("models", "fit", "Fit a clone on a snapshot (pure): :meth:`Models.fit`.")
    install_model = _via("models", "install", "Make a model current: :meth:`Models.install`.")

    retrain = _delegate("models", Models.retrain)

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


def _check_retrain(retrain: Any) -> None:
    if not any(retrain is m or (isinstance(m, str) and retrain == m) for m in RETRAIN_MODES):
        raise ValueError(f"retrain must be True, False or 'background'; got {retrain!r}")
