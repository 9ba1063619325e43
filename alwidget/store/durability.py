"""What keeps a store's labels whole on disk: the WAL checkpoint after each commit (a plain
copy of the file holds every label), consistent backups, and the ``<store>-seq`` sidecar
that detects a lost tail of the log.

The sidecar (64 bytes, fsynced after each write) records the store's id and its newest
committed ``seq``; a store that opens with fewer events (a truncated or lost ``-wal`` file, an
older copy put in its place) raises a :class:`StoreWarning` saying how many events are kept.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import uuid
import warnings
from pathlib import Path

from .errors import StoreWarning, StoreWriteError


def sidecar_path(path: str) -> Path:
    """The sidecar file of the store at ``path``."""
    return Path(path + "-seq")


def checkpoint(con: sqlite3.Connection) -> None:
    """Fold the WAL into the named file (best effort: another process's reader can hold it
    back until the next write; the commit is durable in the WAL already)."""
    try:
        con.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
    except sqlite3.Error:
        pass


def write_sidecar(con: sqlite3.Connection, path: str, written: int | None) -> int | None:
    """Record the newest committed ``seq`` next to the store (fsynced; best effort).

    Parameters
    ----------
    con : sqlite3.Connection
        The store's connection.
    path : str
        The store file.
    written : int or None
        The ``seq`` the sidecar already holds (skip the write if unchanged).

    Returns
    -------
    int or None
        The ``seq`` the sidecar now holds (``written`` if nothing was written).
    """
    try:
        store_id, seq = con.execute(
            "SELECT (SELECT value FROM meta WHERE key='store_id'), "
            "(SELECT COALESCE(MAX(seq), 0) FROM events)"
        ).fetchone()
    except sqlite3.Error:
        return written
    if store_id is None or seq == written:
        return written
    data = f"{store_id} {int(seq)}\n".encode().ljust(64)
    try:
        fd = os.open(sidecar_path(path), os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            os.write(fd, data)  # one 64-byte block, overwritten in place
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        return written
    return int(seq)


def check_sidecar(con: sqlite3.Connection, path: str) -> None:
    """Warn (:class:`StoreWarning`) if the store holds fewer events than its sidecar says
    were committed. No sidecar (e.g. a copied file) or an unreadable one: nothing to check."""
    try:
        store_id, seq = sidecar_path(path).read_bytes().decode().split()
        recorded = int(seq)
    except (OSError, ValueError, UnicodeDecodeError):
        return
    sid, top, count = con.execute(
        "SELECT (SELECT value FROM meta WHERE key='store_id'), "
        "(SELECT COALESCE(MAX(seq), 0) FROM events), (SELECT COUNT(*) FROM events)"
    ).fetchone()
    if sid != store_id or top >= recorded:
        return
    warnings.warn(
        StoreWarning(
            f"the label store {path!r} ends at event {top}, but events up to "
            f"{recorded} were saved to it: the last {recorded - top} events are "
            f"missing (its -wal file was truncated or lost, or an older copy replaced "
            f"it). The {count} events kept are used. If you have a backup or the "
            "original -wal file, close this session and restore it first."
        ),
        stacklevel=3,
    )


def backup(
    con: sqlite3.Connection, lock: threading.RLock, path: str, memory: bool, dest: Path
) -> Path:
    """Copy the store on ``con`` to ``dest`` with SQLite's online backup API (see
    :meth:`LabelStore.backup`); written to a temporary name, then renamed."""
    if not memory and dest.resolve() == Path(path).resolve():
        raise ValueError(f"backup to another file than the store itself ({path!r})")
    tmp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        dst = sqlite3.connect(tmp)
        try:
            with lock:
                con.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
        os.replace(tmp, dest)
    except (OSError, sqlite3.Error) as exc:
        tmp.unlink(missing_ok=True)
        raise StoreWriteError(
            f"cannot write a backup of the label store {path!r} to {str(dest)!r} "
            f"({exc}); the store itself is unchanged. Choose a writable folder with "
            "free space."
        ) from None
    return dest
