"""Background model fitting for a :class:`~alwidget.Session`: one worker, newest labels win.

The view never fits models: it asks the session to retrain in the background
(``session.submit(..., retrain="background")``) and renders whatever model is installed. The
:class:`Trainer` here owns the worker thread:

* one daemon thread per session (a fit that hangs never keeps the process from exiting);
* requests coalesce: while a fit runs, any number of new requests make exactly one more fit,
  on the labels as they are when it starts;
* a fitted model is installed through :meth:`Session.install_model`, under the session's lock,
  and only if it was fitted on newer labels than the installed one (a newer model never loses
  to an older one);
* a failed fit keeps every label and the previous model; the error is in
  :attr:`Session.last_error` and the session emits ``"fit_error"``.

This module knows nothing about widgets.
"""

from __future__ import annotations

import functools
import inspect
import os
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.base import clone
from threadpoolctl import ThreadpoolController

from .linear_proba import linear_proba
from .strategies._utils import align_columns
from .validation import rows

if TYPE_CHECKING:  # pragma: no cover
    from .session import Session

__all__ = ["Trainer", "FitSnapshot", "fit_model", "predict_proba_full", "ThreadChooser"]


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

    Examples
    --------
    >>> import numpy as np
    >>> snap = FitSnapshot(np.array([0, 3]), np.array([1, 0]), labels_version=2)
    >>> snap.indices.tolist(), snap.codes.tolist()
    ([0, 3], [1, 0])
    """

    indices: np.ndarray
    codes: np.ndarray
    labels_version: int


@functools.lru_cache(maxsize=1)
def _blas_controller() -> ThreadpoolController:
    """Found once: building a controller scans the loaded libraries (~10 ms)."""
    return ThreadpoolController()


class ThreadChooser:
    """Picks the number of BLAS threads for a fit by measurement, per size of the fit.

    A fit on a few hundred labels is many tiny BLAS calls where threads only add contention
    (measured here: 1.9 s with two OpenBLAS threads vs 0.06 s with one on a busy 2-core
    machine), while a fit on tens of thousands of labels gains from them. No fixed row count
    decides: fits are grouped by the power of two of their label count; in each group the
    first fits try one thread and all cores in turn, then the faster (median) is used, and
    the slower is re-tried every ``retry`` fits in case the machine's load changed.

    Parameters
    ----------
    max_threads : int, optional
        Default: the number of CPUs.
    retry : int, default=16
    min_explore : int, default=512
        Below this many labels one thread is used without trying more: a multi-threaded
        fit that small never won here, and a try costs up to seconds on a loaded machine.

    Examples
    --------
    >>> t = ThreadChooser(max_threads=4)
    >>> t.choose(100)  # a small fit: one thread, nothing to measure
    1
    """

    def __init__(
        self, max_threads: int | None = None, retry: int = 16, min_explore: int = 512
    ) -> None:
        self.max_threads = max(1, int(max_threads or os.cpu_count() or 1))
        self.retry = int(retry)
        self.min_explore = int(min_explore)
        self._times: dict[tuple[int, int], list[float]] = {}
        self._count: dict[int, int] = {}

    def choose(self, n_labels: int) -> int:
        """Threads to use for a fit on ``n_labels`` labels."""
        if self.max_threads == 1 or n_labels < self.min_explore:
            return 1
        g = max(0, int(n_labels)).bit_length()
        c = self._count.get(g, 0)
        self._count[g] = c + 1
        one, many = self._times.get((g, 1), []), self._times.get((g, self.max_threads), [])
        if len(one) < 2 or len(many) < 2:
            return 1 if len(one) <= len(many) else self.max_threads
        best = 1 if np.median(one[-5:]) <= np.median(many[-5:]) else self.max_threads
        if c % self.retry == 0:
            return self.max_threads if best == 1 else 1
        return best

    def record(self, n_labels: int, threads: int, seconds: float) -> None:
        """Record how long a fit took."""
        g = max(0, int(n_labels)).bit_length()
        self._times.setdefault((g, threads), []).append(float(seconds))


def predict_proba_full(model: Any, X: Any, n_classes: int) -> np.ndarray:
    """Class probabilities of the whole pool with one column per class code.

    Estimators without ``predict_proba`` are used through a softmax of ``decision_function``;
    a model fitted on a subset of the classes gets zero columns for the others. A logistic
    regression (alone or after a ``StandardScaler``) on a dense array is computed by
    :func:`alwidget.linear_proba.linear_proba` (the same values, 4x faster on large pools).

    Returns
    -------
    ndarray of shape (n_samples, n_classes)
        float32 for a float32 array ``X`` (the pool's precision: no float64 copy), else float64.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> m = LogisticRegression().fit(X[:2], [0, 2])  # class 1 not labeled yet
    >>> p = predict_proba_full(m, X, 3)
    >>> p.shape, p[:, 1].tolist(), np.allclose(p.sum(axis=1), 1)
    ((4, 3), [0.0, 0.0, 0.0, 0.0], True)
    """
    p = linear_proba(model, X)
    if p is None and hasattr(model, "predict_proba"):
        p = np.asarray(model.predict_proba(X), dtype=np.float64)
    elif p is None:
        p = softmax_decision(model.decision_function(X))
    if isinstance(X, np.ndarray) and X.dtype == np.float32:
        p = p.astype(np.float32, copy=False)
    return align_columns(p, model, n_classes)


def softmax_decision(d: Any) -> np.ndarray:
    """Class probabilities from decision values: (n,) binary -> logistic, (n, c) -> softmax.

    Examples
    --------
    >>> softmax_decision([0.0, 2.0]).round(2).tolist()
    [[0.5, 0.5], [0.12, 0.88]]
    """
    d = np.asarray(d, dtype=np.float64)
    if d.ndim == 1:
        d = np.column_stack([np.zeros_like(d), d])
    d = d - d.max(axis=1, keepdims=True)
    e = np.exp(d)
    return e / e.sum(axis=1, keepdims=True)


def fit_model(
    estimator: Any,
    X_fit: Any,
    snapshot: FitSnapshot,
    n_classes: int,
    *,
    threads: ThreadChooser | None = None,
    timings: dict[str, float] | None = None,
    progress: Any = None,
) -> tuple[Any, np.ndarray | None]:
    """Fit a clone of ``estimator`` on a snapshot and predict the whole pool (pure).

    Parameters
    ----------
    estimator : classifier
        Never fitted in place (cloned).
    X_fit : array-like or DataFrame of shape (n_samples, n_features)
        What the estimator sees.
    snapshot : FitSnapshot
    n_classes : int
    threads : ThreadChooser, optional
        Chooses the BLAS threads of the fit; default all.
    timings : dict, optional
        Receives ``"fit"`` and ``"predict"`` in seconds.
    progress : callable, optional
        ``progress(step, total, loss)`` during the fit, for estimators with a ``progress``
        parameter (e.g. :class:`alwidget.models.MCDropoutClassifier`, per epoch); the
        estimator's own ``progress`` callback, if any, is still called. The user's estimator
        is not changed (only its clone).

    Returns
    -------
    model : fitted estimator or None
        None if the snapshot has fewer than two classes (nothing to learn yet).
    proba : ndarray of shape (n_samples, n_classes), float64, or None

    Raises
    ------
    Exception
        Whatever the estimator's ``fit`` or ``predict_proba`` raises.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> est = LogisticRegression()
    >>> model, proba = fit_model(est, X, FitSnapshot(np.array([0, 3]), np.array([0, 1]), 1), 2)
    >>> proba.shape, hasattr(est, "coef_")  # the estimator itself is not fitted
    ((4, 2), False)
    """
    if np.unique(snapshot.codes).size < 2:
        return None, None
    model = clone(estimator)
    if progress is not None and "progress" in model.get_params(deep=False):
        own = model.get_params(deep=False)["progress"]

        def both(*args: Any) -> None:
            if own is not None:
                own(*args)
            progress(*args)

        model.set_params(progress=both)
    t0 = time.perf_counter()
    n = int(snapshot.indices.size)
    k = threads.choose(n) if threads is not None else None
    extra: dict[str, Any] = {}
    if "X_unlabeled" in inspect.signature(model.fit).parameters:
        # a semi-supervised estimator (alwidget.semi_supervised) also sees the unlabeled pool;
        # its pseudo-labels stay on the model, never in the store
        rest = np.setdiff1d(np.arange(_n_rows(X_fit)), snapshot.indices)
        extra["X_unlabeled"] = rows(X_fit, rest)
    if k is None:
        model.fit(rows(X_fit, snapshot.indices), snapshot.codes, **extra)
    else:
        with _blas_controller().limit(limits=k, user_api="blas"):
            model.fit(rows(X_fit, snapshot.indices), snapshot.codes, **extra)
    t1 = time.perf_counter()
    if threads is not None and k is not None:
        threads.record(n, k, t1 - t0)
    proba = predict_proba_full(model, X_fit, n_classes)
    if timings is not None:
        timings["fit"], timings["predict"] = t1 - t0, time.perf_counter() - t1
        timings["fit_threads"] = float(k or 0)
    return model, proba


def _n_rows(X: Any) -> int:
    return int(X.shape[0]) if hasattr(X, "shape") else len(X)


class Trainer:
    """The background fitting worker of one session.

    Parameters
    ----------
    session : Session
        The session whose labels are fitted and whose model is replaced.

    Attributes
    ----------
    fits : int
        Number of fits run so far (installed or not).

    Examples
    --------
    >>> import numpy as np, alwidget
    >>> X = np.random.default_rng(0).normal(size=(60, 3))
    >>> s = alwidget.Session(X, classes=["a", "b"], store=":memory:", random_state=0)
    >>> b = s.query()
    >>> _ = s.submit({int(b[0]): "a", int(b[1]): "b"}, retrain="background", wait=5.0)
    >>> s.trainer.wait(5.0), s.cold
    (True, False)
    >>> s.close()
    """

    def __init__(self, session: Session) -> None:
        self._session = session
        self._cond = threading.Condition()
        self._wanted = False
        self._running_since: float | None = None
        self._closed = False
        self.fits = 0
        self._thread = threading.Thread(target=self._loop, name="alwidget-fit", daemon=True)
        self._thread.start()

    # -- public --------------------------------------------------------------------------
    def request(self) -> None:
        """Ask for a fit on the newest labels (returns at once).

        Raises
        ------
        RuntimeError
            If the trainer was closed.
        """
        with self._cond:
            if self._closed:
                raise RuntimeError("this session is closed; start a new Session to retrain")
            self._wanted = True
            self._cond.notify_all()

    @property
    def busy(self) -> bool:
        """True while a fit runs or is waiting to run."""
        with self._cond:
            return self._wanted or self._running_since is not None

    @property
    def running_for(self) -> float:
        """Seconds the current fit has been running (0.0 when idle)."""
        with self._cond:
            t0 = self._running_since
        return 0.0 if t0 is None else time.monotonic() - t0

    def wait(self, timeout: float | None = None) -> bool:
        """Block until no fit runs or waits (at most ``timeout`` seconds).

        Returns
        -------
        bool
            True if the worker is idle, False if ``timeout`` passed first.
        """
        with self._cond:
            return self._cond.wait_for(
                lambda: self._closed or not (self._wanted or self._running_since is not None),
                timeout,
            )

    def close(self) -> None:
        """Stop the worker. Does not wait for a running fit (its result is dropped)."""
        with self._cond:
            self._closed = True
            self._wanted = False
            self._cond.notify_all()

    @property
    def closed(self) -> bool:
        return self._closed

    # -- worker --------------------------------------------------------------------------
    def _loop(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._wanted or self._closed)
                if self._closed:
                    return
                self._wanted = False
                self._running_since = time.monotonic()
            try:
                self._fit_once()
            finally:
                with self._cond:
                    self._running_since = None
                    self.fits += 1
                    idle = not self._wanted
                    self._cond.notify_all()
                if idle and not self._closed:
                    self._session._emit("fit_done")  # e.g. the status stops saying "retraining"

    def _fit_once(self) -> None:
        s = self._session
        snap = s.fit_snapshot()
        if snap.labels_version <= s.model_labels_version:
            return  # these labels are already fitted
        try:
            model, proba = s.fit_model(snap)
        except Exception as exc:  # a user's estimator can fail in any way; labels are kept
            if not self._closed:
                s.models.failed(exc)
            return
        if not self._closed:
            s.install_model(snap, model, proba)
