"""What a session shows: its state, held by its parts, as read-only properties, and its label
tables.

:class:`SessionState` is the base of :class:`alwidget.Session`. It declares the parts it reads
(:class:`~alwidget.labelstate.LabelState`, :class:`~alwidget.modeling.Models`,
:class:`~alwidget.batches.Batches`, :class:`~alwidget.tables.LabelTables`,
:class:`~alwidget.live.Lifetime`, :class:`~alwidget.observers.Listeners` and the store) and
turns each into a property or a delegating method that keeps the part's docstring; the loop
that changes them (query, submit, undo, skip, unsure, import) is in :mod:`alwidget.session`.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .batches import Batches
from .labelstate import LabelState
from .live import Lifetime
from .modeling import Models
from .observers import Listeners
from .selection import Batch
from .store import LabelStore
from .strategies import Strategy
from .tables import LabelTables

__all__ = ["SessionState", "RETRAIN_MODES", "check_retrain", "via", "delegate"]

RETRAIN_MODES = (True, False, "background")
_warned_model_version = False


def via(part: str, name: str, doc: str | None = None) -> Any:
    """A read-only property giving ``self.<part>.<name>`` (the state lives in the parts)."""
    return property(lambda self: getattr(getattr(self, part), name), doc=doc)


def delegate(part: str, func: Callable[..., Any]) -> Any:
    """A method calling ``self.<part>.<func.__name__>``, with ``func``'s docstring."""

    @functools.wraps(func)
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        return getattr(getattr(self, part), func.__name__)(*args, **kwargs)

    return method


def check_retrain(retrain: Any) -> None:
    """ValueError unless ``retrain`` is one of :data:`RETRAIN_MODES`."""
    if not any(retrain is m or (isinstance(m, str) and retrain == m) for m in RETRAIN_MODES):
        raise ValueError(f"retrain must be True, False or 'background'; got {retrain!r}")


class SessionState:
    """The state of a session as read-only properties of its parts, and its label tables.

    Attributes
    ----------
    label_state : LabelState
        Labels and statuses replayed from the store.
    models : Models
        The model life cycle.
    batches : Batches
        The current batch, the queue and the strategy.
    tables : LabelTables
        The label tables and exports.
    life : Lifetime
        Open or closed, the background trainer.
    listeners : Listeners
        Event callbacks.
    store : LabelStore
        The durable label log.
    X : ndarray of shape (n_samples, n_features)
        The pool's dense geometry.
    """

    label_state: LabelState
    models: Models
    batches: Batches
    tables: LabelTables
    life: Lifetime
    listeners: Listeners
    store: LabelStore
    X: np.ndarray
    X_fit: Any
    estimator: Any
    classes: list[Any]
    close: Callable[[], None]

    # -- state, held by the parts (read-only here) -----------------------------------------
    excluded = via("batches", "excluded", "Items kept out of every batch, bool (n_samples,).")
    y = via("label_state", "y", "Class code in effect per item, int64 (n_samples,); -1: none.")
    status = via("label_state", "status", "Status per item, int8 (n_samples,): STATUS_NAMES.")
    labels_version = via("label_state", "labels_version", "Incremented when :attr:`y` changes.")
    model = via("models", "model", "The current fitted model, or None at cold start.")
    proba = via("models", "proba", "Pool class probabilities (n_samples, n_classes) or None.")
    labels_trained_on = via("models", "labels_trained_on", "Labels the model was fitted on.")
    model_labels_version = via("models", "model_labels_version", "labels_version of those.")
    fit_progress = via("models", "fit_progress", "``(step, total)`` of a running fit, or None.")
    last_error = via("models", "last_error", "Why the last fit failed (None after a good one).")
    _threads = via("models", "threads")

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

    skipped = via("label_state", "skipped", LabelState.skipped.__doc__)
    unsure = via("label_state", "unsure", LabelState.unsure.__doc__)
    models_behind = via("models", "behind", Models.behind.__doc__)
    newer_model = via("models", "newer", Models.newer.__doc__)
    uncertainty = property(lambda self: self.models.uncertainty(), doc=Models.uncertainty.__doc__)
    closed = via("life", "closed", Lifetime.closed.__doc__)
    trainer = via("life", "trainer", Lifetime.trainer.__doc__)
    close = delegate("life", Lifetime.close)
    observe = delegate("listeners", Listeners.observe)
    unobserve = delegate("listeners", Listeners.unobserve)
    code_of = delegate("label_state", LabelState.code_of)

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
        self.batches.set_strategy(value)

    @property
    def cold(self) -> bool:
        """True while no model can be fitted (fewer than two classes labeled)."""
        return self.model is None

    # -- label tables (alwidget.tables.LabelTables) ----------------------------------------
    @property
    def labels(self) -> pd.DataFrame:
        """What was labeled, one row per labeled item, oldest first (see :meth:`labels_table`)."""
        return self.tables.labels_table()

    labels_table = via("tables", "labels_table", "See :meth:`LabelTables.labels_table`.")
    answers = via("tables", "answers", "Every answer in effect (updates too), oldest first.")
    disagreements = via("tables", "disagreements", "See :meth:`LabelTables.disagreements`.")
    export = via("tables", "export", "Write labels to CSV/Parquet: :meth:`LabelTables.export`.")

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

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- models (alwidget.modeling.Models) ------------------------------------------------
    fit_snapshot = via("models", "snapshot", "Copy the training labels: :meth:`Models.snapshot`.")
    fit_model = via("models", "fit", "Fit a clone on a snapshot (pure): :meth:`Models.fit`.")
    install_model = via("models", "install", "Make a model current: :meth:`Models.install`.")

    retrain = delegate("models", Models.retrain)
