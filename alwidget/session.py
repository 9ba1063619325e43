"""The headless active-learning loop: query, submit, retrain, undo, skip, unsure.

:class:`Session` knows nothing about widgets; :class:`alwidget.LabelingWidget` renders it.
Every answer goes to the durable :class:`~alwidget.store.LabelStore` before anything else
happens; the session's labels are always derived from the store's log. The work is done by
parts it owns: :class:`~alwidget.labelstate.LabelState` (labels and statuses replayed from
the store), :class:`~alwidget.batches.Batches` (current batch and queue),
:class:`~alwidget.modeling.Models` (fit, install, rescore) and
:class:`~alwidget.training.Trainer` (background fits); see docs/architecture.md.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import live
from .batches import Batches
from .errors import AlwidgetWarning, SessionClosedError, StaleBatchError
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
from .modeling import Models
from .options import (
    check_estimator,
    check_options,
    default_estimator,
    default_store_path,
    open_store,
    prepare_pool,
)
from .selection import OPEN, Batch
from .store import LabelEvent, default_annotator
from .strategies import Strategy, available_strategies, get_strategy
from .tables import LabelTables
from .training import FitSnapshot, Trainer
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
#: The strategy of a new session (see :class:`Session`).
DEFAULT_STRATEGY = "margin"
_warned_model_version = False


class Session:
    """An active-learning session over a pool of items.

    Parameters
    ----------
    X : ndarray, DataFrame or scipy.sparse matrix of shape (n_samples, n_features)
        Numeric features of the pool, what the estimator is trained on. Never modified;
        float32 stays float32. A sparse X (e.g. TF-IDF) is used as is by the estimator; the
        strategies that need geometry (core-set, BADGE, information density, cluster batch,
        unsure-neighbour avoidance, diverse cold start) and the map use ``embedding``.
    classes : sequence of str or numbers
        Class names, shown on the buttons; labels are stored as codes
        ``0..n_classes-1``. Answers match a class by name, by code or by numeric value
        (with ``classes=[0, 1]``, ``0``, ``0.0`` and ``"0"`` are class 0).
    embedding : ndarray of shape (n_samples, n_dims), optional
        Dense coordinates for geometry when X is sparse; default a 100-component
        truncated SVD of X (:func:`alwidget.validation.dense_embedding`). Ignored for a
        dense X (X itself is used).
    estimator : classifier, optional
        Any scikit-learn classifier with ``predict_proba`` (a Pipeline too); one with only
        ``decision_function`` (e.g. ``LinearSVC``) is used through a softmax of its decision
        values. It is cloned before each fit, never fitted in place. Default:
        ``make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))`` (scaled, so
        table columns in different units do not give a confidently wrong model).
    strategy : str, Strategy, callable or None
        Query strategy: a name from :func:`alwidget.strategies.available_strategies`, a
        :class:`~alwidget.strategies.Strategy`, or a score function ``f(ctx) -> scores``.
        ``None`` (default) resumes the strategy saved in the store, else ``"margin"``
        (margin needed 0.62x random's labels to 90% accuracy on MNIST-5k, where entropy
        needed more than random; see docs/strategies.md).
    batch_size : int, default=10
        Items per batch. Larger than the pool: clipped to the pool size with an
        :class:`AlwidgetWarning`. Smaller than 1: ``ValueError``.
    random_state : int, Generator or None
        Seed for every random choice (cold start, tie-breaking, random strategy).
    store : str, Path, LabelStore or None
        Where labels live. A path to an SQLite file (resumed if it exists), ``":memory:"``
        for labels that die with the kernel, or ``None`` for
        ``alwidget-<name or data fingerprint>.sqlite`` in the working directory (next to
        the notebook).
    name : str, optional
        Session name, used for the default store file name.
    cold_start : {"random", "diverse"}, default="random"
        How to pick batches until two classes are labeled: uniformly at random, or spread
        over the feature space (k-center greedy from a random start).
    annotator : str, optional
        Recorded with every answer; default the operating-system user.
    label_policy : {"latest", "majority"}, default="latest"
        Which answer is used for training when an item has several (several annotators, or
        updates): the newest one, or the majority of the annotators' newest answers (see
        :meth:`alwidget.store.LabelStore.current`). All answers are kept either way.
    avoid_unsure_neighbours : bool, default=True
        Also keep the ``unsure_neighbours`` nearest neighbours (Euclidean, in X) of every
        item answered "unsure" out of the batches (unsure items themselves are never
        re-asked). If that would leave nothing to ask, the neighbours are asked after all.
    unsure_neighbours : int, default=5
        How many neighbours of each unsure item to avoid.

    Raises
    ------
    ValueError
        On NaN/inf in X, fewer than 2 items or classes, a bad batch size, policy or option.
        Raised before any file is created or changed.
    TypeError
        If the estimator has neither ``predict_proba`` nor ``decision_function``.
    StoreMismatchError
        If ``store`` holds labels for other data or classes.
    StoreCorruptError, StoreLockedError, StoreReadOnlyError
        If the store file is damaged, locked by another process, or cannot be written.

    Notes
    -----
    Thread safety: session state is written only under one re-entrant lock (:meth:`submit`,
    :meth:`undo`, :meth:`skip`, :meth:`mark_unsure`, :meth:`import_labels`,
    :meth:`install_model`, :meth:`set_strategy`, :meth:`requery` and the queue), so the
    background :class:`~alwidget.training.Trainer` installing a model cannot interleave with
    a foreground submit.

    One live session per store file and annotator in a process: opening a second one (the
    same notebook cell run again) closes the first (:meth:`close`, event ``"closed"``), so an
    old widget can no longer write to the store.

    Examples
    --------
    >>> import numpy as np, alwidget
    >>> X = np.random.default_rng(0).normal(size=(100, 4))
    >>> with alwidget.Session(X, classes=["a", "b"], store=":memory:", random_state=0) as s:
    ...     b = s.query()
    ...     _ = s.submit({int(b[0]): "a", int(b[1]): "b"})
    ...     s.n_labeled, s.round
    (2, 1)
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
        self.store, self._own_store = open_store(store, name, self.fingerprint, n, self.classes)
        self._strategy = get_strategy(self._saved_strategy() if strategy is None else strategy)
        if self.store.get_meta("strategy") != self._strategy.name:
            self.store.set_meta("strategy", self._strategy.name)  # resumed next time
        self._lock = threading.RLock()
        self.session_id = uuid.uuid4().hex
        self.timings: dict[str, float] = {}
        self._listeners: list[tuple[Callable[[str], None], frozenset[str] | None]] = []
        self._trainer: Trainer | None = None
        self._closed: str | None = None
        #: The labels and statuses (:class:`~alwidget.labelstate.LabelState`).
        self.label_state = LabelState(self.store, n, self._classes, label_policy)
        #: The model life cycle (:class:`~alwidget.modeling.Models`).
        self.models = Models(self)
        #: The current batch and queue (:class:`~alwidget.batches.Batches`).
        self.batches = Batches(self)
        self.tables = LabelTables(self.store, self.classes, label_policy, lambda: self.y)
        self.excluded = np.zeros(n, dtype=bool)
        saved_excl = self.store.get_meta("excluded")
        if saved_excl:
            self.excluded[np.asarray(json.loads(saved_excl), dtype=np.int64)] = True
        self.label_state.replay()
        self.retrain()
        self.batches.reselect()
        live.register(self._live_key(), self)

    def _saved_strategy(self) -> str:
        saved = self.store.get_meta("strategy")
        return saved if saved in available_strategies() else DEFAULT_STRATEGY

    # -- state (held by the parts) --------------------------------------------------------
    @property
    def y(self) -> np.ndarray:
        """Class code in effect per item, int64 (n_samples,), -1 for none."""
        return self.label_state.y

    @property
    def status(self) -> np.ndarray:
        """Status code per item, int8 (n_samples,): see :data:`STATUS_NAMES`."""
        return self.label_state.status

    @property
    def labels_version(self) -> int:
        """Incremented each time :attr:`y` changes."""
        return self.label_state.labels_version

    @property
    def batch(self) -> Batch:
        """The current batch (the cards on screen)."""
        return self.batches.current

    @batch.setter
    def batch(self, value: Batch) -> None:
        self.batches.batch = value

    @property
    def model(self) -> Any:
        """The current fitted model, or None at cold start."""
        return self.models.model

    @property
    def proba(self) -> np.ndarray | None:
        """Class probabilities of the pool under :attr:`model`, (n_samples, n_classes)."""
        return self.models.proba

    @property
    def labels_trained_on(self) -> int:
        """Number of labels the current model was trained on (0 without a model)."""
        return self.models.labels_trained_on

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

    @property
    def model_labels_version(self) -> int:
        """:attr:`labels_version` of the labels the current model was fitted on."""
        return self.models.model_labels_version

    @property
    def fit_progress(self) -> tuple[int, int] | None:
        """``(step, total)`` of the running fit for estimators that report progress."""
        return self.models.fit_progress

    @property
    def last_error(self) -> str | None:
        """Why the last fit failed (None after a good fit)."""
        return self.models.last_error

    @property
    def _threads(self) -> Any:
        return self.models.threads

    @property
    def n_samples(self) -> int:
        return self.X.shape[0]

    @property
    def n_labeled(self) -> int:
        """Items with a class label in effect (the training set size)."""
        return int((self.y >= 0).sum())

    @property
    def skipped(self) -> np.ndarray:
        """Pool indices skipped (no answer in effect), shape (m,), int64, ascending.

        Same form as :attr:`unsure`; ``session.status == SKIPPED`` gives the mask.
        """
        return self.label_state.skipped

    @property
    def unsure(self) -> np.ndarray:
        """Pool indices answered "unsure" (in effect), shape (m,), int64, ascending."""
        return self.label_state.unsure

    @property
    def round(self) -> int:
        """Number of answer submits in effect (undone ones and imports do not count)."""
        return self.store.n_submits()

    @property
    def models_behind(self) -> int:
        """How many items' training labels differ from those the current model was fitted on.

        New, changed and undone labels each count once; 0 after a successful synchronous
        :meth:`retrain`. While no model can be fitted it counts the labels since the last
        attempt.
        """
        return self.models.behind

    @property
    def strategy(self) -> Strategy:
        return self._strategy

    @strategy.setter
    def strategy(self, value: str | Strategy | Callable) -> None:
        self.set_strategy(value)

    @property
    def cold(self) -> bool:
        """True while no model can be fitted (fewer than two classes labeled)."""
        return self.model is None

    @property
    def uncertainty(self) -> np.ndarray:
        """Uncertainty of every pool item under the current model.

        Returns
        -------
        ndarray of shape (n_samples,), float32
            In [0, 1] by the current strategy's measure (:attr:`Strategy.measure`); all
            ones at cold start. Strategies that measure the model itself
            (``model_uncertainty``, e.g. MC-dropout mutual information) are computed once
            per model and strategy.
        """
        return self.models.uncertainty()

    # -- label tables (alwidget.tables.LabelTables) ----------------------------------------
    @property
    def labels(self) -> pd.DataFrame:
        """What was labeled, one row per labeled item, oldest first (see :meth:`labels_table`)."""
        return self.tables.labels_table()

    def labels_table(
        self, *, include_unsure: bool = False, include_skipped: bool = False
    ) -> pd.DataFrame:
        """The answer in effect for each item, with provenance; see
        :meth:`alwidget.tables.LabelTables.labels_table`."""
        return self.tables.labels_table(
            include_unsure=include_unsure, include_skipped=include_skipped
        )

    @property
    def answers(self) -> pd.DataFrame:
        """Every answer in effect from every annotator (updates too), oldest first."""
        return self.tables.answers

    def disagreements(self) -> pd.DataFrame:
        """Items whose annotators' newest answers differ; see
        :meth:`alwidget.tables.LabelTables.disagreements`."""
        return self.tables.disagreements()

    def export(
        self, path: str | Path, *, include_unsure: bool = True, include_skipped: bool = False
    ) -> Path:
        """Write the labels with provenance to a CSV or Parquet file; see
        :meth:`alwidget.tables.LabelTables.export`."""
        return self.tables.export(
            path, include_unsure=include_unsure, include_skipped=include_skipped
        )

    def observe(
        self, callback: Callable[[str], None], names: str | Iterable[str] | None = None
    ) -> None:
        """Call ``callback(event)`` after each change.

        Parameters
        ----------
        callback : callable
            ``callback(event: str)``.
        names : str or iterable of str, optional
            Only these events; default all of ``"submit"``, ``"undo"``, ``"skip"``,
            ``"unsure"``, ``"strategy"``, ``"query"``, ``"import"``, ``"model"`` (a new model
            was installed; may come from the background thread), ``"fit_error"`` (a fit
            failed, see :attr:`last_error`), ``"fit_progress"`` (see :attr:`fit_progress`),
            ``"fit_done"`` (the background worker became idle, whether or not its model was
            installed) and ``"closed"``.
        """
        sel = None if names is None else frozenset([names] if isinstance(names, str) else names)
        self._listeners.append((callback, sel))

    def unobserve(self, callback: Callable[[str], None]) -> None:
        """Stop calling ``callback`` (every registration of it)."""
        self._listeners = [(cb, n) for cb, n in self._listeners if cb is not callback]

    @property
    def trainer(self) -> Trainer:
        """The background fitting worker (:class:`~alwidget.training.Trainer`), started on
        first use.

        Raises
        ------
        SessionClosedError
            If the session is closed.
        """
        with self._lock:
            self._check_live()
            if self._trainer is None:
                self._trainer = Trainer(self)
            return self._trainer

    @property
    def newer_model(self) -> bool:
        """True if a model newer than the one that picked the current batch is installed
        (it picks the next batch; the cards on screen never change because of it)."""
        return self.model is not None and self.model_labels_version > self.batch.labels_version

    @property
    def closed(self) -> bool:
        """True once :meth:`close` ran (or a newer session on the same store replaced this one)."""
        return self._closed is not None

    def close(self, reason: str = "closed") -> None:
        """Stop the background worker and close the store (if this session opened it).

        Idempotent. Emits ``"closed"``. Every label is already on disk; a running fit is not
        waited for (its result is dropped).

        Parameters
        ----------
        reason : str, default="closed"
            Said by :class:`SessionClosedError` on later actions.
        """
        with self._lock:
            if self._closed is not None:
                return
            self._closed = reason
            if self._trainer is not None:
                self._trainer.close()
            if self._own_store:
                self.store.close()
            live.unregister(self._live_key(), self)
        self._emit("closed")

    def backup(self, path: str | Path) -> Path:
        """Write a consistent, self-contained copy of the label store to ``path`` (SQLite's
        online backup API; safe while labeling). Share or archive that file; open it with
        ``Session(X, classes=..., store=path)`` or :meth:`LabelStore.read_events`.

        Returns
        -------
        Path
            The file written.

        Raises
        ------
        StoreError
            If the copy cannot be written.
        """
        return self.store.backup(path)

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the loop -------------------------------------------------------------------------
    def query(self) -> np.ndarray:
        """The open cards of the current batch as pool indices, shape (k,), int64, most
        informative first (skipped, unsure and map-labeled cards of the batch excluded)."""
        return self.batch.open_indices().copy()

    def check_action(self, batch_id: int | None, index: int | None = None) -> None:
        """Check that an action made on batch ``batch_id`` (and card ``index``) is current.

        Parameters
        ----------
        batch_id : int or None
            :attr:`Batch.id` of the batch the action was made on (None: not checked).
        index : int, optional
            Pool index of the card it was made on.

        Raises
        ------
        StaleBatchError
            If ``batch_id`` is not the current batch (it changed since the user saw it).
        ValueError
            If ``index`` is not a card of the current batch.
        SessionClosedError
            If the session is closed.
        """
        self._check_live()
        self.batches.check_action(batch_id, index)

    @property
    def queue(self) -> np.ndarray:
        """Pool indices waiting to be served as the next batches ("label these next"), in
        the order they will be asked, int64 of shape (m,)."""
        with self._lock:
            q = self.batches.queue
            return q[self.status[q] == UNLABELED].copy()

    def enqueue(self, indices: Sequence[int]) -> np.ndarray:
        """Queue pool items to be asked next, batch after batch, before the strategy picks
        new ones. Already labeled, unsure, excluded, queued or open-card items are left out;
        the rest are ordered by the current strategy (most informative first).

        Parameters
        ----------
        indices : sequence of int
            Pool indices.

        Returns
        -------
        ndarray of shape (m,), int64
            The items added to the queue, in queue order.

        Raises
        ------
        ValueError
            If an index is out of range.
        """
        with self._lock:
            self._check_live()
            add = self.batches.enqueue(indices, skip_open=True)
            self._emit("query")
            return add

    def clear_queue(self) -> None:
        """Forget the queued items (the current batch stays)."""
        with self._lock:
            self.batches.queue = np.empty(0, dtype=np.int64)
            self._emit("query")

    def requery(self) -> np.ndarray:
        """Pick a fresh batch with the current model and strategy (no retrain)."""
        with self._lock:
            self._check_live()
            self.batches.reselect()
            self._emit("query")
            return self.query()

    def exclude(self, indices: Sequence[int]) -> None:
        """Keep pool items out of every batch from now on (e.g. a held-out evaluation set).

        The exclusion is saved in the store, so a resumed session keeps it; labels given to
        excluded items elsewhere (an evaluation set) are not part of the pool's training set.

        Parameters
        ----------
        indices : sequence of int
            Pool indices to exclude (in addition to those already excluded).

        Raises
        ------
        ValueError
            If an index is out of range.
        """
        with self._lock:
            idx = np.asarray([self._check_index(i) for i in indices], dtype=np.int64)
            self.excluded[idx] = True
            self.store.set_meta("excluded", json.dumps(np.flatnonzero(self.excluded).tolist()))
            if np.isin(self.batch.open_indices(), idx).any():
                self.batches.reselect()
            self._emit("query")

    def set_batch(self, indices: Sequence[int]) -> np.ndarray:
        """Make chosen pool items the next batches ("label these next", e.g. from the map).

        The queue (:attr:`queue`) is replaced by these items in strategy order, and the
        first :attr:`batch_size` of them become the current batch at once; the rest are
        served batch after batch before the strategy picks new ones.

        Parameters
        ----------
        indices : sequence of int
            Pool indices; labeled and unsure ones are dropped.

        Returns
        -------
        ndarray of shape (k,), int64
            The new batch (recorded as strategy ``"map selection"``).

        Raises
        ------
        ValueError
            If an index is out of range or none of them can be asked.
        """
        with self._lock:
            self._check_live()
            old, self.batches.queue = self.batches.queue, np.empty(0, dtype=np.int64)
            if self.batches.enqueue(indices, skip_open=False).size == 0:
                self.batches.queue = old
                raise ValueError("none of these items is unlabeled; nothing to put in the batch")
            self.batches.reselect()
            self._emit("query")
            return self.query()

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
        """Record answers, retrain, and pick the next batch.

        The answers are committed to the store (on disk) before anything else. If the refit
        fails, the answers are kept, :attr:`last_error` says why, and the next batch comes
        from the last good model (or the cold-start rule).

        Parameters
        ----------
        labels : mapping of int to class name, class code, or UNSURE
            ``{pool index: answer}``. Indices must be in the current batch when
            ``source="batch"``; any pool index otherwise. An item that already has an
            answer gets an update, recorded with the answer it replaces (``previous``).
        source : {"batch", "map", "import"}
            Recorded in the provenance.
        retrain : {True, False, "background"}, default=True
            ``True``: refit now, then pick the next batch with the new model. ``False``:
            store the answers and pick the next batch with the current (stale) model;
            :attr:`models_behind` then says by how much. ``"background"``: fit in the
            :attr:`trainer`'s worker thread and wait up to ``wait`` seconds; if it is done,
            the next batch comes from the new model, else from the previous one, and the
            new model is installed when it lands (event ``"model"``): it recolours and
            picks the *next* batch, it never replaces the current one.
        keep_batch : bool, default=False
            Keep the current batch, with its strategy, scores and ranks, instead of picking
            a new one; the cards just answered are marked labeled (``Batch.state``) and
            stay in place; e.g. after labeling a point from the map while the batch is
            half labeled. A new batch is picked if no open card is left.
        batch_id : int, optional
            :attr:`Batch.id` of the batch the answers were given on; a stale one raises
            :class:`StaleBatchError` and records nothing.
        wait : float, default=0.3
            Seconds to wait for a background fit (``retrain="background"``).

        Returns
        -------
        ndarray of shape (k,), int64
            The next batch.

        Raises
        ------
        StaleBatchError
            If ``batch_id`` is not the current batch. Nothing is recorded.
        ValueError
            If ``labels`` is empty, names an unknown class, an index outside the batch
            (already submitted, e.g. a second click), a card already skipped or answered,
            or an index outside the pool, or ``source`` or ``retrain`` is unknown. Nothing is
            recorded then.
        StoreLockedError, StoreReadOnlyError
            If the store cannot be written; nothing is recorded, the answers are in
            ``error.pending``: submit them again.
        SessionClosedError
            If the session is closed.
        """
        _check_retrain(retrain)
        with self._lock:
            self.check_action(batch_id)
            events = self._events_for(labels, source)
            t0 = time.perf_counter()
            self.store.append(
                events, self.annotator, pending=dict(labels), session_id=self.session_id
            )
            t1 = time.perf_counter()
            self.label_state.replay()
            self.timings["store"], self.timings["replay"] = t1 - t0, time.perf_counter() - t1
        self._refit(retrain, wait)
        with self._lock:
            if keep_batch:
                answered = np.isin(self.batch.indices, [e.idx for e in events])
                self.batch.state[answered & (self.batch.state == OPEN)] = LABELED
            if not keep_batch or self.batch.open_indices().size == 0:
                self.batches.reselect()
            self._emit("submit")
            return self.query()

    def mark_unsure(self, index: int, *, batch_id: int | None = None) -> np.ndarray:
        """Answer "unsure" for one item, like :meth:`skip` but recorded as an answer.

        An open card of the current batch is recorded with source ``"batch"`` (with its
        score and rank) and stays in place, marked unsure (``Batch.state``); any other item is
        recorded with source ``"map"``. No retrain is needed: unsure items are never used for training.
        They are not asked again (see ``avoid_unsure_neighbours``); a later class answer is
        recorded as a relabel (``previous="unsure"``). Same as including ``{index: UNSURE}``
        in a :meth:`submit`, except that the batch is kept.

        Returns
        -------
        ndarray of shape (k,), int64
            The current batch after the answer (a new one if it became empty).

        Raises
        ------
        StaleBatchError
            If ``batch_id`` is given and is not the current batch.
        ValueError
            If ``index`` is not a pool index (or, with ``batch_id``, not a card of the
            batch). Nothing is recorded then.
        StoreLockedError, StoreReadOnlyError
            If the store cannot be written; nothing is recorded.
        """
        with self._lock:
            self.check_action(batch_id, None if batch_id is None else index)
            idx = self._check_index(index)
            pos = self.batch.position(idx)
            in_batch = pos is not None and self.batch.state[pos] == OPEN
            events = self._events_for({idx: UNSURE}, "batch" if in_batch else "map")
            self.store.append(
                events, self.annotator, pending={idx: UNSURE}, session_id=self.session_id
            )
            self.label_state.replay()  # a labeled item turned unsure shows up in models_behind
            if in_batch:
                self.batch.state[pos] = UNSURE_STATUS
                if self.batch.open_indices().size == 0:
                    self.batches.reselect()
            self._emit("unsure")
            return self.query()

    def import_labels(self, labels: Any, *, retrain: bool = True) -> int:
        """Import existing labels as a seed set (``source="import"``, one undoable submit).

        Parameters
        ----------
        labels : mapping, pandas Series, or sequence of length n_samples
            A mapping is ``{pool index: class name or code}``. A Series or sequence of
            length ``n_samples`` gives one entry per row of X (e.g. a DataFrame column);
            missing entries (None, NaN, ``""``) are left unlabeled.
        retrain : bool, default=True
            Refit the model after the import.

        Returns
        -------
        int
            How many labels were recorded. Items whose answer in effect is already the
            same label are left alone, so running the same import twice records nothing
            the second time.

        Raises
        ------
        ValueError
            On an unknown class, an out-of-range index or a sequence of the wrong length;
            nothing is recorded then.
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
            self.store.append(events, self.annotator, pending=labels, session_id=self.session_id)
            self.label_state.replay()
            if retrain:
                self.retrain()
            self.batches.reselect()
            self._emit("import")
            return len(events)

    def undo(self, *, retrain: bool | str = True, wait: float = 0.3) -> np.ndarray | None:
        """Take back this annotator's last submitted answers (recorded as an undo event);
        their items become the current batch again, with the answers taken back in
        :attr:`Batch.prefill` (to show them as chosen).

        Parameters
        ----------
        retrain : {True, False, "background"}, default=True
            As for :meth:`submit`.
        wait : float, default=0.3
            Seconds to wait for a background fit.

        Returns
        -------
        ndarray of shape (k,), int64, or None
            The items whose answers were taken back, or None if there was nothing to undo.
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
            idx = undone["idx"].astype("int64").to_numpy()
            free = self.status[idx] == UNLABELED
            prefill = {
                int(i): int(lab)
                for i, k, lab, f in zip(idx, undone["kind"], undone["label"], free, strict=True)
                if f and k == "label"
            }
            idx = idx[free]
            strategy = undone["strategy"].dropna()
            if idx.size == 0:
                self.batches.reselect()
            else:
                self.batch = self.batches.new_batch(
                    idx,
                    undone["score"].astype("float64").to_numpy()[free],
                    str(strategy.iloc[0]) if len(strategy) else self._strategy.name,
                    self.cold,
                    prefill=prefill,
                )
            self._emit("undo")
            return idx

    def skip(self, index: int, *, batch_id: int | None = None) -> np.ndarray:
        """Pass on one card of the current batch without answering (recorded as a skip).

        The card stays in place, marked skipped (``Batch.state``). Skipped items are not
        queried again in this session unless answered from the map. When no open card is
        left, a new batch is picked.

        Returns
        -------
        ndarray of shape (k,), int64
            The current batch after the skip.

        Raises
        ------
        StaleBatchError
            If ``batch_id`` is given and is not the current batch.
        ValueError
            If ``index`` is not an open card of the current batch.
        """
        with self._lock:
            self.check_action(batch_id)
            idx = self._check_index(index)
            pos = self.batch.position(idx)
            if pos is None or self.batch.state[pos] != OPEN:
                raise ValueError(f"index {idx} is not in the current batch; cannot skip it")
            self.store.append(
                [
                    LabelEvent(
                        idx=idx,
                        label=None,
                        kind="skip",
                        round=self.batch.round,
                        strategy=self.batch.strategy,
                        score=self.batch.score_of(idx),
                        rank=self.batch.rank_of(idx),
                        model_version=self.batch.model_version,
                    )
                ],
                self.annotator,
                pending={idx: "skip"},
                session_id=self.session_id,
            )
            if self.status[idx] == UNLABELED:
                self.status[idx] = SKIPPED
            self.batch.state[pos] = SKIPPED
            if self.batch.open_indices().size == 0:
                self.batches.reselect()
            self._emit("skip")
            return self.query()

    def set_strategy(self, strategy: str | Strategy | Callable, *, requery: bool = True) -> None:
        """Switch the query strategy; with ``requery`` the current batch is re-picked now.

        Raises
        ------
        ValueError
            On an unknown name.
        ImportError
            If the strategy needs an optional extra that is not installed (the message says
            what to install).
        TypeError
            If the strategy cannot work with this session's estimator (e.g. an MC-dropout
            strategy without :class:`alwidget.models.MCDropoutClassifier`).
        In every case the previous strategy and batch stay.
        """
        with self._lock:
            self._check_live()
            new, old = get_strategy(strategy), self._strategy
            self._strategy = new
            try:
                batch = self.batches.select() if requery else None
            except Exception:
                self._strategy = old
                raise
            self.store.set_meta("strategy", new.name)
            if batch is not None:
                self.batch = batch
            self._emit("strategy")

    # -- models (alwidget.modeling.Models) ------------------------------------------------
    def fit_snapshot(self) -> FitSnapshot:
        """Copy the current training labels, to fit on in another thread."""
        return self.models.snapshot()

    def fit_model(self, snapshot: FitSnapshot) -> tuple[Any, np.ndarray | None]:
        """Fit a clone of the estimator on a snapshot and predict the whole pool.

        Pure (changes no session state but :attr:`timings`), so it may run in another
        thread; see :func:`alwidget.training.fit_model`.

        Returns
        -------
        model : fitted estimator or None
            None if the snapshot has fewer than two classes (nothing to learn yet).
        proba : ndarray of shape (n_samples, n_classes), float64, or None

        Raises
        ------
        Exception
            Whatever the estimator's ``fit`` or ``predict_proba`` raises.
        """
        return self.models.fit(snapshot)

    def install_model(self, snapshot: FitSnapshot, model: Any, proba: np.ndarray | None) -> bool:
        """Make a fitted model current, unless a model of newer labels is already in place
        (a newer result never loses to an older one). Reselects nothing: call
        :meth:`requery` to re-pick the batch with it. Returns True if installed."""
        return self.models.install(snapshot, model, proba)

    def retrain(self) -> bool:
        """Refit a clone of the estimator on all labels and rescore the pool (synchronously).

        Returns
        -------
        bool
            True if a model is in place after the call. On a fit error the previous model is
            kept and :attr:`last_error` holds the message.

        Examples
        --------
        >>> import numpy as np, alwidget
        >>> X = np.random.default_rng(0).normal(size=(20, 2))
        >>> with alwidget.Session(X, classes=["a", "b"], store=":memory:") as s:
        ...     _ = s.import_labels({0: "a", 1: "b"}, retrain=False)
        ...     s.models_behind, s.retrain(), s.models_behind, s.labels_trained_on
        (2, True, 0, 2)
        """
        return self.models.retrain()

    def code_of(self, label: Any) -> int:
        """Class code of an answer: a class name, a code, or a numeric value equal to a
        numeric class (``0 == 0.0 == "0"``), see :class:`alwidget.validation.ClassNames`.

        Raises
        ------
        ValueError
            If ``label`` matches no class.
        """
        return self._classes.code_of(label)

    # -- internals ------------------------------------------------------------------------
    def _emit(self, event: str) -> None:
        for cb, names in list(self._listeners):
            if names is None or event in names:
                cb(event)

    def _check_live(self) -> None:
        if self._closed is not None:
            raise SessionClosedError(
                f"this session is closed ({self._closed}); nothing was recorded. Every label "
                f"is saved in {self.store.path!r}: start a new Session (or run the cell again) "
                "to go on."
            )

    def _refit(self, retrain: bool | str, wait: float) -> None:
        """Refit after a change of labels, as asked (called without holding the lock, so a
        background fit can install its model while we wait for it)."""
        if retrain is True:
            self.retrain()
        elif retrain == "background":
            self.trainer.request()
            self.trainer.wait(max(0.0, float(wait)))

    def _fit_failed(self, exc: BaseException) -> None:
        self.models.failed(exc)

    def _live_key(self) -> tuple[str, str] | None:
        return live.live_key(self.store.path, self.annotator, self._own_store)

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
