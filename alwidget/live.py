"""One live session per store file and annotator in a process.

Running the same notebook cell again opens a new :class:`~alwidget.Session` on the same store;
the older one is closed (event ``"closed"``) so that its widget can no longer write.
"""

from __future__ import annotations

import os
import weakref
from typing import Any

__all__ = ["live_key", "register", "unregister"]

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
    (``session.close(reason)``)."""
    if key is None:
        return
    old_ref = _LIVE.get(key)
    old = old_ref() if old_ref is not None else None
    if old is not None and old is not session and not old.closed:
        old.close("a newer session opened the same store for the same annotator")
    _LIVE[key] = weakref.ref(session)


def unregister(key: tuple[str, str] | None, session: Any) -> None:
    """Forget ``session`` if it is the live one for ``key`` (called by ``close``)."""
    if key is None:
        return
    ref = _LIVE.get(key)
    if ref is not None and ref() is session:
        del _LIVE[key]
