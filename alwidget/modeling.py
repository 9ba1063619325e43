"""The model life cycle of a session: snapshot the labels, fit, install, rescore.

:class:`Models` holds the current model, its pool probabilities and what it was trained on;
:class:`~alwidget.training.Trainer` runs the same steps in a background thread.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .training import FitSnapshot, ThreadChooser, fit_model, predict_proba_full

if TYPE_CHECKING:
    from .session import Session

__all__ = ["Models"]


class Models:
    """The current model of one session.

    Parameters
    ----------
    session : Session
        Provides the estimator, features, labels, lock and events.

    Attributes
    ----------
    model : fitted estimator or None
        None while fewer than two classes are labeled.
    proba : ndarray of shape (n_samples, n_classes), float64, or None
        The model's class probabilities for the pool.
    labels_trained_on : int
        Number of labels the current model was trained on (0 without a model).
    model_labels_version : int
        :attr:`LabelState.labels_version` of those labels (-1 before the first fit).
    fit_progress : tuple of (int, int) or None
        ``(step, total)`` of the running fit for estimators that report progress.
    last_error : str or None
        Why the last fit failed, if it did.

    Examples
    --------
    >>> import numpy as np, alwidget
    >>> X = np.random.default_rng(0).normal(size=(20, 2))
    >>> s = alwidget.Session(X, classes=["a", "b"], store=":memory:", random_state=0)
    >>> _ = s.import_labels({0: "a", 1: "b", 2: "a"}, retrain=False)
    >>> s.models.labels_trained_on, s.models.behind
    (0, 3)
    >>> s.models.retrain(), s.models.labels_trained_on, s.models.behind
    (True, 3, 0)
    >>> s.close()
    """

    def __init__(self, session: Session) -> None:
        self._s = session
        self.model: Any = None
        self.proba: np.ndarray | None = None
        self.labels_trained_on = 0
        self.model_labels_version = -1
        self.fit_progress: tuple[int, int] | None = None
        self.last_error: str | None = None
        self.threads = ThreadChooser()
        self._model_y = np.full(session.n_samples, -1, dtype=np.int64)
        self._unc_cache: tuple[tuple[int, str], np.ndarray] | None = None

    @property
    def behind(self) -> int:
        """How many items' training labels differ from those the current model was fitted on
        (:attr:`Session.models_behind`).

        New, changed and undone labels each count once; 0 after a successful synchronous
        :meth:`retrain`. While no model can be fitted it counts the labels since the last
        attempt.
        """
        return int(np.count_nonzero(self._s.y != self._model_y))

    @property
    def newer(self) -> bool:
        """True if a model newer than the one that picked the current batch is installed
        (it picks the next batch; the cards on screen never change because of it)."""
        return self.model is not None and self.model_labels_version > self._s.batch.labels_version

    def uncertainty(self) -> np.ndarray:
        """Uncertainty of every pool item under the current model (:attr:`Session.uncertainty`).

        Returns
        -------
        ndarray of shape (n_samples,), float32
            In [0, 1] by the current strategy's measure (:attr:`Strategy.measure`); all
            ones at cold start. Strategies that measure the model itself
            (``model_uncertainty``, e.g. MC-dropout mutual information) are computed once
            per model and strategy.

        Examples
        --------
        >>> import numpy as np, alwidget
        >>> with alwidget.Session(np.eye(4), classes=["a", "b"], store=":memory:",
        ...                       batch_size=2) as s:
        ...     s.uncertainty.tolist(), s.uncertainty.dtype
        ([1.0, 1.0, 1.0, 1.0], dtype('float32'))
        """
        s = self._s
        if (dask := getattr(s, "dask", None)) is not None and self.model is not None:
            return dask.uncertainty(self.model, s.strategy, s)  # seam: shown items only
        if self.proba is None:
            return np.ones(s.n_samples, dtype=np.float32)
        st = s.strategy
        if hasattr(st, "model_uncertainty") and self.model is not None:
            key = (id(self.model), st.name)
            if self._unc_cache is None or self._unc_cache[0] != key:
                try:
                    u = np.asarray(
                        st.model_uncertainty(self.model, s.X_fit, len(s.classes)),
                        dtype=np.float32,
                    )
                except (TypeError, ValueError):  # not a model it can measure: fall back
                    u = st.uncertainty(self.proba)
                self._unc_cache = (key, u)
            return self._unc_cache[1]
        return st.uncertainty(self.proba)

    def snapshot(self) -> FitSnapshot:
        """Copy the current training labels, to fit on in another thread."""
        s = self._s
        with s._lock:
            idx = np.flatnonzero(s.y >= 0).astype(np.int64)
            return FitSnapshot(idx, s.y[idx].copy(), s.labels_version)

    def fit(self, snapshot: FitSnapshot) -> tuple[Any, np.ndarray | None]:
        """Fit a clone of the estimator on ``snapshot`` and predict the pool (no state
        change but :attr:`Session.timings`); see :func:`alwidget.training.fit_model`."""
        s = self._s
        how: dict[str, Any] = {
            "threads": self.threads,
            "timings": s.timings,
            "progress": self.progress,
        }
        if (dask := getattr(s, "dask", None)) is not None:  # seam: fit on labeled rows only
            return dask.fit(s.estimator, snapshot, len(s.classes), **how)
        return fit_model(s.estimator, s.X_fit, snapshot, len(s.classes), **how)

    def progress(self, step: int, total: int, *_: Any) -> None:
        """Record the progress of a fit and emit ``"fit_progress"``."""
        self.fit_progress = (int(step), int(total))
        self._s._emit("fit_progress")

    def install(self, snapshot: FitSnapshot, model: Any, proba: np.ndarray | None) -> bool:
        """Make ``model`` current unless a model of newer labels is in place; emits
        ``"model"``. Returns True if installed."""
        s = self._s
        with s._lock:
            if snapshot.labels_version <= self.model_labels_version:
                return False
            if proba is not None and len(proba) < s.n_samples:  # the pool grew during the fit
                extra = predict_proba_full(model, s.X_fit[len(proba) :], len(s.classes))
                proba = np.vstack([proba, extra.astype(proba.dtype, copy=False)])
            self.model, self.proba = model, proba
            self.fit_progress = None
            self.labels_trained_on = int(snapshot.indices.size) if model is not None else 0
            self.model_labels_version = snapshot.labels_version
            self._model_y = np.full(s.n_samples, -1, dtype=np.int64)
            self._model_y[snapshot.indices] = snapshot.codes
            self.last_error = None
            s._emit("model")
            return True

    def retrain(self) -> bool:
        """Refit a clone of the estimator on all labels and rescore the pool (synchronously).

        Returns
        -------
        bool
            True if a model is in place after the call. On a fit error the previous model is
            kept and :attr:`Session.last_error` holds the message.

        Examples
        --------
        >>> import numpy as np, alwidget
        >>> X = np.random.default_rng(0).normal(size=(20, 2))
        >>> with alwidget.Session(X, classes=["a", "b"], store=":memory:") as s:
        ...     _ = s.import_labels({0: "a", 1: "b"}, retrain=False)
        ...     s.models_behind, s.retrain(), s.models_behind, s.labels_trained_on
        (2, True, 0, 2)
        """
        with self._s._lock:
            snap = self.snapshot()
            try:
                model, proba = self.fit(snap)
            except Exception as exc:  # a user's estimator can fail in any way; keep the labels
                self.failed(exc)
                return self.model is not None
            self.install(snap, model, proba)
            self.last_error = None
            return self.model is not None

    def failed(self, exc: BaseException) -> None:
        """Record a failed fit and emit ``"fit_error"``."""
        with self._s._lock:
            self.last_error = f"retrain failed, labels kept: {type(exc).__name__}: {exc}"
            self.fit_progress = None
        self._s._emit("fit_error")
