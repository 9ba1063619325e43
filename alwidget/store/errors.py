"""The label store's errors and warning, and the mapping of ``sqlite3`` errors onto them.

Every message says what happened, that nothing was changed or written, and what to do.
"""

from __future__ import annotations

import sqlite3
from typing import Any


class StoreError(RuntimeError):
    """Base class of label-store errors. The message says what to do.

    Attributes
    ----------
    pending : object
        What was being written when a write failed (e.g. the answers of a submit, as passed
        to :meth:`LabelStore.append`), kept so the caller can retry; None for other errors.

    Examples
    --------
    One ``except`` clause catches every store error; the subclass says which kind:

    >>> from alwidget.store import LabelStore, StoreError
    >>> print(", ".join(c.__name__ for c in StoreError.__subclasses__()))
    StoreMismatchError, StoreCorruptError, StoreLockedError, StoreReadOnlyError, StoreWriteError
    >>> try:
    ...     LabelStore(".")  # a folder, not a file
    ... except StoreError as err:
    ...     print(type(err).__name__, "-", err)
    StoreCorruptError - the label store '.' is a folder; pass a file path such as 'labels.sqlite'
    """

    def __init__(self, message: str, pending: Any = None) -> None:
        super().__init__(message)
        self.pending = pending


class StoreMismatchError(StoreError, ValueError):
    """The store was made for other data (different fingerprint or classes).

    Raised before anything is written: the store is left as it was. Also a ``ValueError``.

    Examples
    --------
    A session on a store file made for other features:

    >>> import numpy as np, alwidget
    >>> alwidget.Session(np.eye(4), classes=["a", "b"], store="mine.sqlite", batch_size=2).close()
    >>> try:
    ...     alwidget.Session(np.ones((4, 4)), classes=["a", "b"], store="mine.sqlite", batch_size=2)
    ... except alwidget.StoreMismatchError as err:
    ...     print(err)
    the label store 'mine.sqlite' was made for other data (4 items, fingerprint ...), not this X ...
    """


class StoreCorruptError(StoreError):
    """The file is not an alwidget label store, or it is damaged or hand-edited.

    Nothing is changed in the file; the message names the damaged row when there is one.

    Examples
    --------
    >>> from alwidget.store import LabelStore, StoreCorruptError
    >>> with open("notes.txt", "w") as f:
    ...     _ = f.write("my notes, not a label store " * 100)
    >>> try:
    ...     LabelStore("notes.txt")
    ... except StoreCorruptError as err:
    ...     print(err)
    the label store 'notes.txt' is not an alwidget label store or is damaged (file is not a ...
    """


class StoreLockedError(StoreError):
    """Another process holds the store's write lock for longer than the timeout.

    Attributes
    ----------
    pending : object
        What was being written (e.g. the labels of a submit), kept so the caller can retry.

    Examples
    --------
    Another connection holds the write lock for longer than ``timeout`` (0.1 s here):

    >>> import sqlite3
    >>> from alwidget.store import LabelEvent, LabelStore, StoreLockedError
    >>> store = LabelStore("locked.sqlite", timeout=0.1)
    >>> store.bind("f" * 64, 4, ["cat", "dog"])
    >>> other = sqlite3.connect("locked.sqlite")
    >>> _ = other.execute("BEGIN IMMEDIATE")  # e.g. another notebook writing
    >>> try:
    ...     store.append([LabelEvent(idx=0, label=1)], "ann", pending={0: "dog"})
    ... except StoreLockedError as err:
    ...     answers = err.pending  # nothing was written; keep these for a retry
    >>> answers
    {0: 'dog'}
    >>> other.rollback(); other.close()  # the other writer is done: submit again
    >>> store.append([LabelEvent(idx=0, label=1)], "ann")
    1
    >>> store.close()
    """


class StoreReadOnlyError(StoreError):
    """The store file (or its folder) cannot be written.

    Raised when such a store is opened (or, if it becomes read-only later, at the first
    write, with ``pending`` holding what was being written).

    Examples
    --------
    >>> import os
    >>> from alwidget.store import LabelStore, StoreReadOnlyError
    >>> LabelStore("shared.sqlite").close()
    >>> os.chmod("shared.sqlite", 0o444)  # read-only, e.g. a colleague's copy
    >>> try:
    ...     LabelStore("shared.sqlite")
    ... except StoreReadOnlyError as err:
    ...     print(err)
    cannot write to the label store 'shared.sqlite' (the file is marked read-only). ...
    >>> LabelStore.read_events("shared.sqlite").shape[0]  # reading it needs no write access
    0
    """


class StoreWriteError(StoreError):
    """A write failed for another reason: the disk is full or an I/O error.

    Nothing of the failed write is in the store; ``pending`` holds it for a retry.

    Examples
    --------
    >>> from alwidget.store import LabelEvent, LabelStore, StoreWriteError
    >>> store = LabelStore(":memory:")
    >>> try:
    ...     submit_id = store.append([LabelEvent(idx=0, label=1)], "me", pending={0: "b"})
    ... except StoreWriteError as err:  # e.g. the disk is full
    ...     answers = err.pending  # submit them again later
    """


class StoreWarning(UserWarning):
    """Something about the store needs attention, but every event it holds is usable.

    Raised (as a warning) when a store opens with fewer events than were committed to it,
    e.g. after its ``-wal`` file was truncated or lost, or an older copy was put in its place.
    The events kept are used; restore a backup first if you have one. A script that must not
    go on in that case turns the warning into an error with
    ``warnings.simplefilter("error", StoreWarning)``.

    Examples
    --------
    An older copy of the store is put back in place of the newer one:

    >>> import shutil, warnings
    >>> from alwidget.store import LabelEvent, LabelStore, StoreWarning
    >>> store = LabelStore("labels.sqlite")
    >>> store.bind("f" * 64, 4, ["cat", "dog"])
    >>> _ = store.backup("old.sqlite")
    >>> _ = store.append([LabelEvent(idx=0, label=1)], "ann"); store.close()
    >>> _ = shutil.copy("old.sqlite", "labels.sqlite")
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always", StoreWarning)
    ...     store = LabelStore("labels.sqlite")
    >>> print(caught[0].message)
    the label store 'labels.sqlite' ends at event 0, but events up to 1 were saved to it: ...
    >>> store.close()
    """


# SQLite primary result codes (https://sqlite.org/rescode.html)
_PRIMARY = {
    3: "readonly",
    5: "locked",
    6: "locked",
    8: "readonly",
    10: "io",
    11: "corrupt",
    13: "full",
    14: "readonly",
    26: "corrupt",
}


def error_kind(exc: sqlite3.Error) -> str:
    """Classify a sqlite3 error: locked, readonly, full, io, corrupt, closed or other."""
    if isinstance(exc, sqlite3.ProgrammingError):
        return "closed"
    code = getattr(exc, "sqlite_errorcode", None)  # Python >= 3.11
    if isinstance(code, int):
        return _PRIMARY.get(code & 0xFF, "other")
    msg = str(exc).lower()  # Python 3.10: only the message says it
    for kind, words in (
        ("locked", ("locked", "busy")),
        ("readonly", ("readonly", "read-only", "unable to open")),
        ("full", ("full",)),
        ("io", ("i/o",)),
        ("corrupt", ("malformed", "not a database")),
    ):
        if any(w in msg for w in words):
            return kind
    return "other"


def corrupt_error(path: str, why: str, pending: Any = None) -> StoreCorruptError:
    """The file at ``path`` is not a label store, or is damaged (``why``)."""
    return StoreCorruptError(
        f"the label store {path!r} is not an alwidget label store or is damaged "
        f"({why}). Nothing was changed. Move the file aside (keep it: it may be "
        "recoverable with the sqlite3 command-line tool's .recover) and start a new "
        "store with store='another-file.sqlite', or restore a backup.",
        pending,
    )


def bad_row_error(path: str, what: str) -> StoreCorruptError:
    """A row of the store at ``path`` is damaged or hand-edited; ``what`` names it."""
    return StoreCorruptError(
        f"the label store {path!r} is damaged or was edited by hand: {what}. Nothing "
        "was changed. Correct or delete that row with the sqlite3 command-line tool (or "
        "DB Browser for SQLite) on a copy of the file, or restore a backup "
        "(LabelStore.backup)."
    )


def readonly_error(path: str, why: str, pending: Any = None) -> StoreReadOnlyError:
    """The store at ``path`` (or its folder) cannot be written (``why``)."""
    return StoreReadOnlyError(
        f"cannot write to the label store {path!r} ({why}). Nothing was written; "
        "anything being saved is kept in error.pending. Make the file and its folder "
        "writable (chmod u+w), or copy the file somewhere writable and pass that path as "
        "store=...; to only read it, use LabelStore.read_events(path).",
        pending,
    )


def locked_error(path: str, timeout: float, doing: str, pending: Any = None) -> StoreLockedError:
    """Another process held the write lock for ``timeout`` seconds while ``doing``."""
    return StoreLockedError(
        f"the label store {path!r} is locked by another process (waited "
        f"{timeout:g} s while {doing}). Nothing was written; your labels are kept "
        "(error.pending), submit again when the other process is done, or close the "
        "other session/notebook using this file.",
        pending,
    )


def map_error(
    path: str,
    timeout: float,
    exc: sqlite3.Error,
    doing: str,
    pending: Any = None,
    *,
    read: bool = False,
) -> StoreError:
    """The :class:`StoreError` for a sqlite3 error raised while ``doing`` something.

    Parameters
    ----------
    path : str
        The store's path (named in the message).
    timeout : float
        Seconds the connection waits for a lock (named in a lock error).
    exc : sqlite3.Error
        The error raised.
    doing : str
        What was being done, e.g. ``"saving 3 answers"``.
    pending : object, optional
        What was being written, kept in the error.
    read : bool, default=False
        True for a read: an unclassified error means the file is damaged.
    """
    kind = error_kind(exc)
    if kind == "locked":
        return locked_error(path, timeout, doing, pending)
    if kind == "readonly":
        return readonly_error(path, str(exc), pending)
    if kind == "corrupt" or (read and kind == "other"):
        return corrupt_error(path, str(exc), pending)
    if kind == "closed":
        return StoreError(
            f"the label store {path!r} is closed ({exc}); open it again "
            "(LabelStore(path)) or start a new session. Nothing was written; anything "
            "being saved is kept in error.pending.",
            pending,
        )
    if kind == "full":
        why = "the disk is full (or the store reached its size limit)"
        advice = "free some disk space and try again, or save to a store on another disk"
    else:
        why = f"a disk or file-system error ({exc})"
        advice = (
            "check the disk (a network drive that went away?) and try again, or save "
            "to a store on another disk"
        )
    kept = "; your answers are kept in error.pending" if pending is not None else ""
    return StoreWriteError(
        f"cannot write to the label store {path!r} while {doing}: {why}. Nothing "
        f"was written{kept}: {advice}.",
        pending,
    )
