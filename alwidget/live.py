"""The life of a session: one live session per store file and annotator in a process, the
background :class:`~alwidget.training.Trainer` it starts, and closing.

Running the same notebook cell again opens a new :class:`~alwidget.Session` on the same store;
the older one is closed (event ``"closed"``) so that its widget can no longer write.
"""

from __future__ import annotations

import os
import weakref
from typing import TYPE_CHECKING, Any

from .errors import SessionClosedError
from .training import Trainer

if TYPE_CHECKING:
    from .session import Session

__all__ = ["Lifetime", "live_key", "register", "unregister"]

#: Live sessions by (store file, annotator).
_LIVE: dict[tuple[str, str], weakref.ref[Any]] = {}


def live_key(store_path: str, annotator: str, own_store: bool) -> tuple[str, str] | None:
    """The registry key of a session, or None if it takes no part (an in-memory store, or a
    :class:`~alwidget.store.LabelStore` passed in by the caller).

    Examples
    --------
    >>> live_key(":memory:", "ann", True) is None
    True
    >>> live_key("labels.sqlite", "ann", False) is None
    True
    >>> live_key("labels.sqlite", "ann", True)[1]
    'ann'
    """
    if not own_store or store_path == ":memory:":
        return None
    return os.path.realpath(store_path), annotator


def register(key: tuple[str, str] | None, session: Any) -> None:
    """Make ``session`` the live one for ``key``; an older live session there is closed
    (``session.close(reason)``).

    :class:`~alwidget.Session` calls it when it opens, so running a notebook cell again
    closes the session the cell made before. A ``None`` key (in-memory store) does nothing.

    Parameters
    ----------
    key : tuple of (str, str) or None
        :func:`live_key` of the session.
    session : Session
        Anything with a ``closed`` attribute and a ``close(reason)`` method; held by weak
        reference only.

    Examples
    --------
    >>> class Owner:  # a Session, or anything with .closed and .close(reason)
    ...     closed = False
    ...     def close(self, reason):
    ...         self.closed = True
    >>> key = live_key("labels.sqlite", "ann", own_store=True)
    >>> first, second = Owner(), Owner()
    >>> register(key, first)
    >>> register(key, second)  # same store, same annotator: the first one is closed
    >>> first.closed, second.closed
    (True, False)
    """
    if key is None:
        return
    old_ref = _LIVE.get(key)
    old = old_ref() if old_ref is not None else None
    if old is not None and old is not session and not old.closed:
        old.close("a newer session opened the same store for the same annotator")
    _LIVE[key] = weakref.ref(session)


def unregister(key: tuple[str, str] | None, session: Any) -> None:
    """Forget ``session`` if it is the live one for ``key`` (called by ``close``).

    A session that is not (or no longer) the live one for ``key`` is left alone, so a closed
    older session cannot unregister its successor.

    Examples
    --------
    >>> class Owner:  # a Session, or anything with .closed and .close(reason)
    ...     closed = False
    ...     def close(self, reason):
    ...         self.closed = True
    >>> key = live_key("other.sqlite", "ann", own_store=True)
    >>> first, second = Owner(), Owner()
    >>> register(key, first)
    >>> unregister(key, first)  # e.g. first.close() ran
    >>> register(key, second)  # first was forgotten, so it is not closed
    >>> first.closed
    False
    """
    if key is None:
        return
    ref = _LIVE.get(key)
    if ref is not None and ref() is session:
        del _LIVE[key]


class Lifetime:
    """Whether a session is open, its background worker, and closing it.

    Parameters
    ----------
    session : Session
        The session; registered as the live one for its store file and annotator.
    own_store : bool
        Whether the session opened its store (then :meth:`close` closes it).

    Examples
    --------
    >>> import numpy as np, alwidget
    >>> s = alwidget.Session(np.eye(4), classes=["a", "b"], store=":memory:", batch_size=2)
    >>> s.closed
    False
    >>> s.close(); s.closed
    True
    >>> try:
    ...     s.trainer
    ... except alwidget.SessionClosedError:
    ...     print("closed")
    closed
    """

    def __init__(self, session: Session, own_store: bool) -> None:
        self._s = session
        self.own_store = own_store
        self.reason: str | None = None
        self._trainer: Trainer | None = None
        self.key = live_key(session.store.path, session.annotator, own_store)
        register(self.key, session)

    @property
    def closed(self) -> bool:
        """True once :meth:`close` ran (or a newer session on the same store replaced this one)."""
        return self.reason is not None

    def check(self) -> None:
        """Raise :class:`~alwidget.SessionClosedError` if the session is closed."""
        if self.reason is not None:
            raise SessionClosedError(
                f"this session is closed ({self.reason}); nothing was recorded. Every label "
                f"is saved in {self._s.store.path!r}: start a new Session (or run the cell again) "
                "to go on."
            )

    @property
    def trainer(self) -> Trainer:
        """The background fitting worker (:class:`~alwidget.training.Trainer`), started on
        first use; ``SessionClosedError`` if the session is closed."""
        with self._s._lock:
            self.check()
            if self._trainer is None:
                self._trainer = Trainer(self._s)
            return self._trainer

    def close(self, reason: str = "closed") -> None:
        """Stop the background worker and close the store (if this session opened it).

        Idempotent; emits ``"closed"``. Every label is already on disk; a running fit's
        result is dropped. ``reason`` is said by :class:`~alwidget.SessionClosedError` later.
        """
        s = self._s
        with s._lock:
            if self.reason is not None:
                return
            self.reason = reason
            if self._trainer is not None:
                self._trainer.close()
            if self.own_store:
                s.store.close()
            unregister(self.key, s)
        s._emit("closed")
