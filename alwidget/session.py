"""The headless active-learning loop: query, submit, retrain, undo, skip, unsure.

:class:`Session` knows nothing about widgets; :class:`alwidget.LabelingWidget` renders it.
Every answer goes to the durable :class:`~alwidget.store.LabelStore` before anything else
happens; the session's labels are always derived from the store's log.
"""

from __future__ import annotations

import functools
import json
import re
import threading
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.utils import check_random_state
from threadpoolctl import ThreadpoolController

from .store import POLICIES, LabelEvent, LabelStore, default_annotator, fingerprint
from .strategies import QueryContext, Strategy, available_strategies, get_strategy
from .tables import LabelTables

__all__ = [
    "Session",
    "AlwidgetWarning",
    "FitSnapshot",
    "UNSURE",
    "STATUS_NAMES",
    "UNLABELED",
    "LABELED",
    "SKIPPED",
    "UNSURE_STATUS",
]

#: Status codes of :attr:`Session.status` (int8).
UNLABELED, LABELED, SKIPPED, UNSURE_STATUS = 0, 1, 2, 3
#: Names of the status codes, indexed by code.
STATUS_NAMES = ("unlabeled", "labeled", "skipped", "unsure")
SOURCES = ("batch", "map", "import")


class _Unsure(str):
    """The type of :data:`UNSURE` (a str, so it prints and serialises as ``"unsure"``)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "alwidget.UNSURE"


#: Answer meaning "I am not sure": ``session.submit({i: alwidget.UNSURE})``. The plain string
#: ``"unsure"`` means the same unless one of the classes is named ``"unsure"``.
UNSURE = _Unsure("unsure")


class AlwidgetWarning(UserWarning):
    """Warnings raised by alwidget (turned into errors in its own test suite)."""


@dataclass(frozen=True)
class FitSnapshot:
    """The training labels at one moment, safe to fit on in another thread.

    Attributes
    ----------
    indices : ndarray of shape (m,), int64
        Pool indices of the labeled items (a copy).
    codes : ndarray of shape (m,), int64
        Their class codes (a copy).
    labels_version : int
        :attr:`Session.labels_version` when the snapshot was taken.
    """

    indices: np.ndarray
    codes: np.ndarray
    labels_version: int


@dataclass
class Batch:
    """The current acquisition batch.

    Attributes
    ----------
    indices : ndarray of shape (k,), int64
        Pool indices, most informative first.
    scores : ndarray of shape (k,), float64
        Strategy score of each item at selection time.
    strategy : str
        Strategy (or cold-start rule) that picked it.
    round : int
        Round number (submits so far) when picked.
    model_version : int
        Number of labels the selecting model was trained on (0 at cold start).
    cold_start : bool
        True if picked by the cold-start rule because no model could be fitted yet.
    """

    indices: np.ndarray
    scores: np.ndarray
    strategy: str
    round: int
    model_version: int
    cold_start: bool

    def rank_of(self, idx: int) -> int:
        return int(np.flatnonzero(self.indices == idx)[0]) + 1

    def score_of(self, idx: int) -> float:
        return float(self.scores[self.rank_of(idx) - 1])


class Session(LabelTables):
    """An active-learning session over a pool of items.

    Parameters
    ----------
    X : ndarray or DataFrame of shape (n_samples, n_features)
        Numeric features of the pool. Never modified.
    classes : sequence of str
        Label names, shown on the buttons; labels are stored as codes ``0..n_classes-1``.
    estimator : classifier, optional
        Any scikit-learn classifier with ``predict_proba`` (a Pipeline too); one with only
        ``decision_function`` (e.g. ``LinearSVC``) is used through a softmax of its decision
        values. It is cloned before each fit, never fitted in place. Default:
        ``LogisticRegression(max_iter=1000)``.
    strategy : str, Strategy, callable or None
        Query strategy: a name from :func:`alwidget.strategies.available_strategies`, a
        :class:`~alwidget.strategies.Strategy`, or a score function ``f(ctx) -> scores``.
        ``None`` (default) resumes the strategy saved in the store, else ``"entropy"``.
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
    Thread safety: :meth:`submit`, :meth:`undo`, :meth:`skip`, :meth:`import_labels`,
    :meth:`install_model`, :meth:`set_strategy` and :meth:`requery` hold one re-entrant lock,
    so a background thread installing a model cannot interleave with a foreground submit.
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
    ) -> None:
        self.X_fit = X  # what the estimator sees (DataFrame kept as is for Pipelines)
        self.X = _as_features(X)
        n = self.X.shape[0]
        if n < 2:
            raise ValueError(f"the pool needs at least 2 items; X has {n}")
        self.classes = [str(c) for c in classes]
        if len(self.classes) < 2:
            raise ValueError(f"need at least 2 classes to learn; got {self.classes}")
        if len(set(self.classes)) != len(self.classes):
            raise ValueError(f"class names must be unique; got {self.classes}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
            raise ValueError(f"batch_size must be a whole number of items; got {batch_size!r}")
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be at least 1; got {batch_size}")
        if batch_size > n:
            warnings.warn(
                f"batch_size={batch_size} is larger than the pool ({n}); using {n}",
                AlwidgetWarning,
                stacklevel=2,
            )
            batch_size = n
        if cold_start not in ("random", "diverse"):
            raise ValueError(f"cold_start must be 'random' or 'diverse'; got {cold_start!r}")
        if label_policy not in POLICIES:
            raise ValueError(f"label_policy must be one of {POLICIES}; got {label_policy!r}")
        if int(unsure_neighbours) < 0:
            raise ValueError(f"unsure_neighbours must be >= 0; got {unsure_neighbours}")
        if estimator is None:
            estimator = LogisticRegression(max_iter=1000)
        if not (hasattr(estimator, "predict_proba") or hasattr(estimator, "decision_function")):
            raise TypeError(
                f"{type(estimator).__name__} has neither predict_proba nor decision_function; "
                "pass a scikit-learn classifier (for SVC use probability=True, or wrap it in "
                "sklearn.calibration.CalibratedClassifierCV)"
            )
        self.estimator = estimator
        self.batch_size = int(batch_size)
        self.cold_start = cold_start
        self.annotator = annotator or default_annotator()
        self.label_policy = label_policy
        self.avoid_unsure_neighbours = bool(avoid_unsure_neighbours)
        self.unsure_neighbours = int(unsure_neighbours)
        self._rng = check_random_state(random_state)
        self.rng = np.random.default_rng(self._rng.randint(2**31 - 1))

        self.fingerprint = fingerprint(self.X)
        own_store = not isinstance(store, LabelStore)
        if isinstance(store, LabelStore):
            self.store = store
        else:
            if store is None:
                store = default_store_path(name, self.fingerprint)
            self.store = LabelStore(store)
        try:
            self.store.bind(self.fingerprint, n, self.classes)
        except Exception:
            if own_store:
                self.store.close()
            raise

        if strategy is None:
            saved = self.store.get_meta("strategy")
            strategy = saved if saved in available_strategies() else "entropy"
        self._strategy = get_strategy(strategy)
        if self.store.get_meta("strategy") != self._strategy.name:
            self.store.set_meta("strategy", self._strategy.name)  # resumed next time
        self._lock = threading.RLock()
        self.y = np.full(n, -1, dtype=np.int64)
        self.status = np.zeros(n, dtype=np.int8)
        self.labels_version = 0
        self.model: Any = None
        self.model_version = 0
        self.model_labels_version = -1
        self._model_y = np.full(n, -1, dtype=np.int64)
        self.proba: np.ndarray | None = None
        self.last_error: str | None = None
        self.timings: dict[str, float] = {}
        self._listeners: list[Callable[[str], None]] = []
        self._near_cache: tuple[tuple[int, ...], np.ndarray] | None = None
        self.excluded = np.zeros(n, dtype=bool)
        saved_excl = self.store.get_meta("excluded")
        if saved_excl:
            self.excluded[np.asarray(json.loads(saved_excl), dtype=np.int64)] = True
        self._replay()
        self.retrain()
        self.batch = self._select()

    # -- public state ---------------------------------------------------------------------
    @property
    def n_samples(self) -> int:
        return self.X.shape[0]

    @property
    def n_labeled(self) -> int:
        """Items with a class label in effect (the training set size)."""
        return int((self.y >= 0).sum())

    @property
    def skipped(self) -> np.ndarray:
        """Boolean mask of shape (n_samples,): skipped items (with no answer)."""
        return self.status == SKIPPED

    @property
    def unsure(self) -> np.ndarray:
        """Pool indices answered "unsure" (in effect), shape (m,), int64, ascending."""
        return np.flatnonzero(self.status == UNSURE_STATUS).astype(np.int64)

    @property
    def round(self) -> int:
        """Number of answer submits in effect (undone ones and imports do not count)."""
        return self.store.n_submits()

    @property
    def models_behind(self) -> int:
        """How many items' training labels differ from those the current model was fitted on.

        New labels, changed labels and undone labels each count once; 0 after a successful
        synchronous :meth:`retrain`. While no model can be fitted (fewer than two classes)
        it counts the labels since the last attempt.
        """
        return int(np.count_nonzero(self.y != self._model_y))

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
            ones at cold start (nothing is known yet).
        """
        if self.proba is None:
            return np.ones(self.n_samples, dtype=np.float32)
        return self._strategy.uncertainty(self.proba)

    def observe(self, callback: Callable[[str], None]) -> None:
        """Call ``callback(event)`` after each change (``"submit"``, ``"undo"``, ``"skip"``,
        ``"strategy"``, ``"query"``, ``"import"``, ``"unsure"``, ``"model"``).

        ``"model"`` is emitted by :meth:`install_model`, possibly from a background thread.
        """
        self._listeners.append(callback)

    # -- the loop -------------------------------------------------------------------------
    def query(self) -> np.ndarray:
        """The current batch as pool indices, shape (k,), int64, most informative first."""
        return self.batch.indices.copy()

    def requery(self) -> np.ndarray:
        """Pick a fresh batch with the current model and strategy (no retrain)."""
        with self._lock:
            self.batch = self._select()
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
            if np.isin(self.batch.indices, idx).any():
                self.batch = self._select()
            self._emit("query")

    def set_batch(self, indices: Sequence[int]) -> np.ndarray:
        """Make chosen pool items the current batch ("label these next", e.g. from the map).

        Parameters
        ----------
        indices : sequence of int
            Pool indices; already labeled ones are dropped.

        Returns
        -------
        ndarray of shape (k,), int64
            The new batch (recorded as strategy ``"map selection"``).

        Raises
        ------
        ValueError
            If an index is out of range or none of them is unlabeled.
        """
        with self._lock:
            idx = [self._check_index(i) for i in indices]
            idx = list(dict.fromkeys(i for i in idx if self.y[i] < 0))
            if not idx:
                raise ValueError("none of these items is unlabeled; nothing to put in the batch")
            self.batch = Batch(
                indices=np.asarray(idx, dtype=np.int64), scores=np.full(len(idx), np.nan),
                strategy="map selection", round=self.round, model_version=self.model_version,
                cold_start=False,
            )  # fmt: skip
            self._emit("query")
            return self.query()

    def submit(
        self,
        labels: Mapping[int, Any],
        *,
        source: str = "batch",
        retrain: bool = True,
        keep_batch: bool = False,
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
        retrain : bool, default=True
            Refit the model now. ``False`` stores the answers and picks the next batch with
            the current (stale) model; :attr:`models_behind` then says by how much.
        keep_batch : bool, default=False
            Keep the current batch (minus the items just answered), with its strategy,
            scores and ranks, instead of picking a new one; e.g. after labeling a point
            from the map while the batch is half labeled. A new batch is picked if nothing
            is left.

        Returns
        -------
        ndarray of shape (k,), int64
            The next batch.

        Raises
        ------
        ValueError
            If ``labels`` is empty, names an unknown class, an index outside the batch
            (already submitted, e.g. a second click) or the pool, or ``source`` is unknown.
            Nothing is recorded then.
        StoreLockedError, StoreReadOnlyError
            If the store cannot be written; nothing is recorded, the answers are in
            ``error.pending``: submit them again.
        """
        with self._lock:
            events = self._events_for(labels, source)
            t0 = time.perf_counter()
            self.store.append(events, self.annotator, pending=dict(labels))
            self.timings["store"] = time.perf_counter() - t0
            self._replay()
            if retrain:
                self.retrain()
            keep = self.status[self.batch.indices] == UNLABELED
            if keep_batch and keep.any():
                self.batch.indices = self.batch.indices[keep]
                self.batch.scores = self.batch.scores[keep]
            else:
                self.batch = self._select()
            self._emit("submit")
            return self.query()

    def mark_unsure(self, index: int) -> np.ndarray:
        """Answer "unsure" for one item, like :meth:`skip` but recorded as an answer.

        An item of the current batch is recorded with source ``"batch"`` (with its score and
        rank) and leaves the batch, the rest of the batch stays; any other item is recorded
        with source ``"map"``. No retrain is needed: unsure items are never used for training.
        They are not asked again (see ``avoid_unsure_neighbours``); a later class answer is
        recorded as a relabel (``previous="unsure"``). Same as including ``{index: UNSURE}``
        in a :meth:`submit`, except that the batch is kept.

        Returns
        -------
        ndarray of shape (k,), int64
            The current batch after the answer (a new one if it became empty).

        Raises
        ------
        ValueError
            If ``index`` is not a pool index. Nothing is recorded then.
        StoreLockedError, StoreReadOnlyError
            If the store cannot be written; nothing is recorded.
        """
        with self._lock:
            idx = self._check_index(index)
            in_batch = idx in set(self.batch.indices.tolist())
            events = self._events_for({idx: UNSURE}, "batch" if in_batch else "map")
            self.store.append(events, self.annotator, pending={idx: UNSURE})
            self._replay()  # a labeled item turned unsure shows up in models_behind
            keep = self.batch.indices != idx
            self.batch.indices, self.batch.scores = self.batch.indices[keep], self.batch.scores[keep]
            if self.batch.indices.size == 0:
                self.batch = self._select()
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
            pairs = self._import_pairs(labels)
            events = []
            seen: set[int] = set()
            for raw_idx, raw in pairs:
                idx = self._check_index(raw_idx)
                kind, code = self._answer_of(raw)
                if idx in seen:
                    raise ValueError(f"index {idx} appears twice in the imported labels")
                seen.add(idx)
                same = (kind == "label" and self.y[idx] == code) or (
                    kind == "unsure" and self.status[idx] == UNSURE_STATUS
                )
                if not same:
                    events.append(
                        LabelEvent(idx=idx, label=code, kind=kind, round=self.round,
                                   model_version=self.model_version, source="import")
                    )  # fmt: skip
            if not events:
                return 0
            self.store.append(events, self.annotator, pending=labels)
            self._replay()
            if retrain:
                self.retrain()
            self.batch = self._select()
            self._emit("import")
            return len(events)

    def undo(self) -> np.ndarray | None:
        """Take back this annotator's last submitted answers (recorded as an undo event);
        their items become the current batch again.

        Returns
        -------
        ndarray of shape (k,), int64, or None
            The items whose answers were taken back, or None if there was nothing to undo.
        """
        with self._lock:
            sid = self.store.undo_last(self.annotator)
            if sid is None:
                return None
            undone = self.store.submit_events(sid)
            self._replay()
            self.retrain()
            idx = undone["idx"].astype("int64").to_numpy()
            free = self.status[idx] == UNLABELED
            idx = idx[free]
            strategy = undone["strategy"].dropna()
            self.batch = Batch(
                indices=idx,
                scores=undone["score"].astype("float64").to_numpy()[free],
                strategy=str(strategy.iloc[0]) if len(strategy) else self._strategy.name,
                round=self.round,
                model_version=self.model_version,
                cold_start=self.cold,
            )
            if idx.size == 0:
                self.batch = self._select()
            self._emit("undo")
            return idx

    def skip(self, index: int) -> np.ndarray:
        """Drop an item from the current batch without answering (recorded as a skip).

        Skipped items are not queried again in this session unless answered from the map.
        When the batch becomes empty, a new one is picked.

        Returns
        -------
        ndarray of shape (k,), int64
            The current batch after the skip.

        Raises
        ------
        ValueError
            If ``index`` is not in the current batch.
        """
        with self._lock:
            idx = self._check_index(index)
            if idx not in set(self.batch.indices.tolist()):
                raise ValueError(f"index {idx} is not in the current batch; cannot skip it")
            self.store.append(
                [LabelEvent(idx=idx, label=None, kind="skip", round=self.batch.round,
                            strategy=self.batch.strategy, score=self.batch.score_of(idx),
                            rank=self.batch.rank_of(idx), model_version=self.batch.model_version)],
                self.annotator, pending={idx: "skip"},
            )  # fmt: skip
            if self.status[idx] == UNLABELED:
                self.status[idx] = SKIPPED
            keep = self.batch.indices != idx
            self.batch.indices, self.batch.scores = self.batch.indices[keep], self.batch.scores[keep]
            if self.batch.indices.size == 0:
                self.batch = self._select()
            self._emit("skip")
            return self.query()

    def set_strategy(self, strategy: str | Strategy | Callable, *, requery: bool = True) -> None:
        """Switch the query strategy; with ``requery`` the current batch is re-picked now."""
        with self._lock:
            self._strategy = get_strategy(strategy)
            self.store.set_meta("strategy", self._strategy.name)
            if requery:
                self.batch = self._select()
            self._emit("strategy")

    # -- models ---------------------------------------------------------------------------
    def fit_snapshot(self) -> FitSnapshot:
        """Copy the current training labels, to fit on in another thread.

        Returns
        -------
        FitSnapshot
        """
        with self._lock:
            idx = np.flatnonzero(self.y >= 0).astype(np.int64)
            return FitSnapshot(idx, self.y[idx].copy(), self.labels_version)

    def fit_model(self, snapshot: FitSnapshot) -> tuple[Any, np.ndarray | None]:
        """Fit a clone of the estimator on a snapshot and predict the whole pool.

        Pure: changes no session state, so it may run in another thread.

        Parameters
        ----------
        snapshot : FitSnapshot
            From :meth:`fit_snapshot`.

        Returns
        -------
        model : fitted estimator or None
            None if the snapshot has fewer than two classes (nothing to learn yet).
        proba : ndarray of shape (n_samples, n_classes), float64, or None
            Class probabilities for the pool (a softmax of ``decision_function`` for
            estimators without ``predict_proba``).

        Raises
        ------
        Exception
            Whatever the estimator's ``fit`` or ``predict_proba`` raises.
        """
        if np.unique(snapshot.codes).size < 2:
            return None, None
        model = clone(self.estimator)
        t0 = time.perf_counter()
        # A fit on a few hundred labels is many tiny BLAS calls: threads only add contention
        # (measured 1.9 s with two OpenBLAS threads vs 0.06 s with one on a busy 2-core box).
        if snapshot.indices.size < 5000:
            with _blas_controller().limit(limits=1, user_api="blas"):
                model.fit(_rows(self.X_fit, snapshot.indices), snapshot.codes)
        else:
            model.fit(_rows(self.X_fit, snapshot.indices), snapshot.codes)
        t1 = time.perf_counter()
        proba = self._predict_full(model)
        self.timings["fit"], self.timings["predict"] = t1 - t0, time.perf_counter() - t1
        return model, proba

    def install_model(self, snapshot: FitSnapshot, model: Any, proba: np.ndarray | None) -> bool:
        """Make a fitted model current, unless a model of newer labels is already in place.

        Reselects nothing: call :meth:`requery` to re-pick the batch with it.

        Parameters
        ----------
        snapshot : FitSnapshot
            What ``model`` was fitted on.
        model, proba
            From :meth:`fit_model`.

        Returns
        -------
        bool
            True if installed; False if the installed model is as new or newer (a newer
            result never loses to an older one).
        """
        with self._lock:
            if snapshot.labels_version <= self.model_labels_version:
                return False
            self.model, self.proba = model, proba
            self.model_version = int(snapshot.indices.size) if model is not None else 0
            self.model_labels_version = snapshot.labels_version
            self._model_y = np.full(self.n_samples, -1, dtype=np.int64)
            self._model_y[snapshot.indices] = snapshot.codes
            self.last_error = None
            self._emit("model")
            return True

    def retrain(self) -> bool:
        """Refit a clone of the estimator on all labels and rescore the pool (synchronously).

        Returns
        -------
        bool
            True if a model is in place after the call. On a fit error the previous model is
            kept and :attr:`last_error` holds the message.
        """
        with self._lock:
            snap = self.fit_snapshot()
            try:
                model, proba = self.fit_model(snap)
            except Exception as exc:  # a user's estimator can fail in any way; keep the labels
                self.last_error = f"retrain failed, labels kept: {type(exc).__name__}: {exc}"
                return self.model is not None
            self.install_model(snap, model, proba)
            self.last_error = None
            return self.model is not None

    def code_of(self, label: Any) -> int:
        """Class code of a class name or code.

        Raises
        ------
        ValueError
            If ``label`` is not one of :attr:`classes` (nor a valid code).
        """
        if isinstance(label, (int, np.integer)) and not isinstance(label, bool):
            if 0 <= int(label) < len(self.classes) and str(label) not in self.classes:
                return int(label)
        if isinstance(label, str) and label in self.classes:
            return self.classes.index(label)
        if isinstance(label, (int, np.integer)) and not isinstance(label, bool):
            s = str(label)
            if s in self.classes:
                return self.classes.index(s)
        raise ValueError(
            f"unknown class {label!r}; the classes are {self.classes} (or their codes "
            f"0..{len(self.classes) - 1}, or alwidget.UNSURE)"
        )

    # -- internals ------------------------------------------------------------------------
    def _emit(self, event: str) -> None:
        for cb in list(self._listeners):
            cb(event)

    def _answer_of(self, raw: Any) -> tuple[str, int | None]:
        if isinstance(raw, _Unsure) or (raw == UNSURE and UNSURE not in self.classes):
            return "unsure", None
        return "label", self.code_of(raw)

    def _events_for(self, labels: Mapping[int, Any], source: str) -> list[LabelEvent]:
        """Validate a submit completely and build its events (no state change)."""
        if source not in SOURCES:
            raise ValueError(f"source must be one of {SOURCES}; got {source!r}")
        if not isinstance(labels, Mapping):
            raise ValueError(
                f"labels must be a mapping {{pool index: class}}; got {type(labels).__name__}"
            )
        if not labels:
            raise ValueError("no labels to submit: pick a class for at least one item")
        events, seen = [], set()
        batch_set = set(self.batch.indices.tolist())
        for raw_idx, raw_label in labels.items():
            idx = self._check_index(raw_idx)
            if idx in seen:
                raise ValueError(f"index {idx} appears twice in one submit")
            seen.add(idx)
            if source == "batch" and idx not in batch_set:
                if self.status[idx] in (LABELED, UNSURE_STATUS):
                    prev = self._describe(idx)
                    raise ValueError(
                        f"index {idx} was already submitted ({prev}) and is no longer in the "
                        "batch (a second click?); to change its answer use source='map', "
                        "which records an update"
                    )
                raise ValueError(
                    f"index {idx} is not in the current batch {sorted(batch_set)}; "
                    "use source='map' to label items outside the batch"
                )
            kind, code = self._answer_of(raw_label)
            in_batch = idx in batch_set
            events.append(
                LabelEvent(
                    idx=idx,
                    label=code,
                    kind=kind,
                    round=self.batch.round,
                    strategy=self.batch.strategy if in_batch else None,
                    score=self.batch.score_of(idx) if in_batch else None,
                    rank=self.batch.rank_of(idx) if in_batch else None,
                    model_version=self.batch.model_version,
                    source=source,
                )
            )
        return events

    def _describe(self, idx: int) -> str:
        if self.status[idx] == UNSURE_STATUS:
            return "answered unsure"
        return f"labeled {self.classes[int(self.y[idx])]!r}"

    def _import_pairs(self, labels: Any) -> list[tuple[int, Any]]:
        if isinstance(labels, Mapping):
            items = list(labels.items())
        else:
            if isinstance(labels, (str, bytes)):
                raise ValueError("labels must be a mapping or one entry per row of X")
            values = labels.to_numpy() if isinstance(labels, (pd.Series, pd.Index)) else labels
            values = list(values)
            if len(values) != self.n_samples:
                raise ValueError(
                    f"got {len(values)} labels for a pool of {self.n_samples} items; pass one "
                    "entry per row of X (None/NaN for unlabeled) or a dict {index: class}"
                )
            items = list(enumerate(values))
        return [(i, v) for i, v in items if not _missing(v)]

    def _check_index(self, raw: Any) -> int:
        if isinstance(raw, (bool, np.bool_)):
            raise ValueError(f"pool index must be an integer; got {raw!r}")
        if isinstance(raw, (float, np.floating)) and float(raw).is_integer():
            raw = int(raw)
        if not isinstance(raw, (int, np.integer)):
            raise ValueError(f"pool index must be an integer; got {raw!r}")
        idx = int(raw)
        if not 0 <= idx < self.n_samples:
            raise ValueError(f"index {idx} is out of range for a pool of {self.n_samples} items")
        return idx

    def _replay(self) -> None:
        """Rebuild labels and statuses from the store (under the label policy)."""
        y = np.full(self.n_samples, -1, dtype=np.int64)
        status = np.zeros(self.n_samples, dtype=np.int8)
        if self.label_policy == "latest":  # fast path, no pandas: runs after every submit
            idx, kind, lab = self.store.effective_arrays()
            ans = kind < 2
            ia, ka, la = idx[ans][::-1], kind[ans][::-1], lab[ans][::-1]
            _, first = np.unique(ia, return_index=True)  # newest answer per item
            ia, ka, la = ia[first], ka[first], la[first]
            skip = idx[~ans]
            status[skip] = SKIPPED  # a skip never hides an answer: answers written after
            status[ia] = np.where(ka == 0, LABELED, UNSURE_STATUS)
            y[ia[ka == 0]] = la[ka == 0]
            if not np.array_equal(y, self.y):
                self.labels_version += 1
            self.y, self.status = y, status
            return
        cur = self.store.current(self.label_policy)
        if not cur.empty:
            for kind, code in (("label", LABELED), ("unsure", UNSURE_STATUS), ("skip", SKIPPED)):
                rows = cur[cur["kind"] == kind]
                idx = rows["idx"].astype("int64").to_numpy()
                status[idx] = code
                if kind == "label":
                    y[idx] = rows["label"].astype("int64").to_numpy()
        if not np.array_equal(y, self.y):
            self.labels_version += 1
        self.y, self.status = y, status

    def _predict_full(self, model: Any) -> np.ndarray:
        if hasattr(model, "predict_proba"):
            p = np.asarray(model.predict_proba(self.X_fit), dtype=np.float64)
        else:
            p = _softmax_decision(model.decision_function(self.X_fit))
        cols = np.asarray(model.classes_, dtype=np.int64)
        if cols.size == len(self.classes) and np.array_equal(cols, np.arange(cols.size)):
            return p
        full = np.zeros((self.n_samples, len(self.classes)))
        full[:, cols] = p
        return full

    def _unsure_near(self, unsure: np.ndarray) -> np.ndarray:
        """Pool indices among the ``unsure_neighbours`` nearest neighbours of unsure items."""
        key = tuple(unsure.tolist())
        if self._near_cache is not None and self._near_cache[0] == key:
            return self._near_cache[1]
        from sklearn.neighbors import NearestNeighbors

        k = min(self.unsure_neighbours + 1, self.n_samples)
        nn = NearestNeighbors(n_neighbors=k, algorithm="brute").fit(self.X)
        near = np.unique(nn.kneighbors(self.X[unsure], return_distance=False))
        self._near_cache = (key, near)
        return near

    def _candidates(self) -> np.ndarray:
        mask = (self.status == UNLABELED) & ~self.excluded
        unsure = self.unsure
        if self.avoid_unsure_neighbours and self.unsure_neighbours > 0 and unsure.size:
            far = mask.copy()
            far[self._unsure_near(unsure)] = False
            if far.any():
                mask = far
        return np.flatnonzero(mask)

    def _select(self) -> Batch:
        t0 = time.perf_counter()
        cand = self._candidates()
        ctx = QueryContext(
            X=self.X, labels=self.y, candidates=cand, proba=self.proba, model=self.model,
            estimator=self.estimator, n_classes=len(self.classes), rng=self.rng,
        )  # fmt: skip
        k = min(self.batch_size, cand.size)
        if k == 0:
            idx, scores, name, cold = np.empty(0, np.int64), np.empty(0), self._strategy.name, False
        elif self.model is None and self._strategy.needs_model:
            idx, name, cold = self._cold_start(ctx, k), f"cold start ({self.cold_start})", True
            scores = np.zeros(idx.size)
        else:
            idx, scores = self._strategy.query(ctx, k)
            name, cold = self._strategy.name, False
        self.timings["select"] = time.perf_counter() - t0
        return Batch(np.asarray(idx, np.int64), np.asarray(scores, np.float64), name,
                     self.round, self.model_version, cold)  # fmt: skip

    def _cold_start(self, ctx: QueryContext, k: int) -> np.ndarray:
        if self.cold_start == "random":
            return ctx.rng.choice(ctx.candidates, size=k, replace=False).astype(np.int64)
        from .strategies.diversity import k_center_greedy

        return k_center_greedy(self.X[ctx.candidates], k, rng=ctx.rng)[0].astype(np.int64)


def default_store_path(name: str | None, fp: str) -> str:
    """``alwidget-<name>.sqlite`` (name reduced to letters, digits, ``-_.``), or
    ``alwidget-<first 10 hex of the data fingerprint>.sqlite``, in the working directory."""
    if name:
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", str(name)).strip("._") or fp[:10]
        return f"alwidget-{safe}.sqlite"
    return f"alwidget-{fp[:10]}.sqlite"


def _missing(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, str):
        return v == ""
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _softmax_decision(d: Any) -> np.ndarray:
    """Class probabilities from decision values: (n,) binary -> logistic, (n, c) -> softmax."""
    d = np.asarray(d, dtype=np.float64)
    if d.ndim == 1:
        d = np.column_stack([np.zeros_like(d), d])
    d = d - d.max(axis=1, keepdims=True)
    e = np.exp(d)
    return e / e.sum(axis=1, keepdims=True)


@functools.lru_cache(maxsize=1)
def _blas_controller() -> ThreadpoolController:
    """Found once: building a controller scans the loaded libraries (~10 ms)."""
    return ThreadpoolController()


def _as_features(X: Any) -> np.ndarray:
    try:
        arr = np.asarray(X.to_numpy() if isinstance(X, pd.DataFrame) else X, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            "X must be numeric features of shape (n_samples, n_features); encode text or "
            "categories first (e.g. TF-IDF + TruncatedSVD, or one-hot encoding)"
        ) from None
    if arr.ndim != 2:
        raise ValueError(
            f"X must have shape (n_samples, n_features); got shape {arr.shape}. "
            "Flatten images with X.reshape(len(X), -1)."
        )
    bad = ~np.isfinite(arr)
    if bad.any():
        rows = np.flatnonzero(bad.any(axis=1))
        raise ValueError(
            f"X has NaN or infinite values in {rows.size} rows (first: {rows[:5].tolist()}); "
            "impute them (sklearn.impute.SimpleImputer) or drop those rows"
        )
    return arr


def _rows(X: Any, idx: np.ndarray) -> Any:
    return X.iloc[idx] if isinstance(X, (pd.DataFrame, pd.Series)) else np.asarray(X)[idx]
