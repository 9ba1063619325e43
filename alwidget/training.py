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

import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .session import Session

__all__ = ["Trainer"]


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
        self._thread = threading.Thread(
            target=self._loop, name="alwidget-fit", daemon=True
        )
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
                    self._cond.notify_all()

    def _fit_once(self) -> None:
        s = self._session
        snap = s.fit_snapshot()
        if snap.labels_version <= s.model_labels_version:
            return  # these labels are already fitted
        try:
            model, proba = s.fit_model(snap)
        except Exception as exc:  # a user's estimator can fail in any way; labels are kept
            if not self._closed:
                s._fit_failed(exc)
            return
        if not self._closed:
            s.install_model(snap, model, proba)
