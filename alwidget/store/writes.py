"""Writes of a store, each run inside one IMMEDIATE transaction by :meth:`LabelStore._write`:
a submit's events (with each item's previous answer), an undo, and a pool's growth."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

import numpy as np

from . import schema
from .events import LabelEvent, now
from .schema import CHUNK

if TYPE_CHECKING:
    from .labelstore import LabelStore


def previous(c: sqlite3.Connection, idx: list[int]) -> dict[int, tuple[str, int | None]]:
    """Effective answer (kind, label) of each index (the ``effective_answers`` view)."""
    out: dict[int, tuple[str, int | None]] = {}
    uniq = sorted(set(idx))
    for i in range(0, len(uniq), CHUNK):
        chunk = uniq[i : i + CHUNK]
        marks = ",".join("?" * len(chunk))
        for j, kind, label in c.execute(
            f"SELECT idx, kind, label FROM effective_answers WHERE idx IN ({marks})", chunk
        ):
            out[int(j)] = (kind, label)
    return out


def insert_submit(
    c: sqlite3.Connection, events: list[LabelEvent], annotator: str, session_id: str | None
) -> int:
    """Insert ``events`` as one new submit; return its id."""
    ts = now()
    sid = int(c.execute("SELECT COALESCE(MAX(submit), 0) FROM events").fetchone()[0]) + 1
    prev = previous(c, [int(e.idx) for e in events])
    c.executemany(
        "INSERT INTO events(kind, submit, idx, label, annotator, ts, round, strategy, "
        "score, rank, model_version, source, prev_kind, prev_label, session_id) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        [
            (
                e.kind,
                sid,
                int(e.idx),
                None if e.label is None else int(e.label),
                annotator,
                ts,
                e.round,
                e.strategy,
                None if e.score is None or not np.isfinite(e.score) else float(e.score),
                e.rank,
                e.model_version,
                e.source,
                *(prev.get(int(e.idx), (None, None)) if e.kind != "skip" else (None, None)),
                session_id,
            )
            for e in events
        ],
    )
    return sid


def insert_undo(c: sqlite3.Connection, annotator: str | None, session_id: str | None) -> int | None:
    """Undo the newest answer submit in effect (of ``annotator`` / ``session_id`` if given)."""
    sql = "SELECT submit FROM live_events WHERE kind IN ('label', 'unsure')"
    args: list[Any] = []
    if annotator is not None:
        sql += " AND annotator=?"
        args.append(annotator)
    if session_id is not None:
        sql += " AND session_id=?"
        args.append(session_id)
    row = c.execute(sql + " ORDER BY submit DESC LIMIT 1", args).fetchone()
    if row is None:
        return None
    sid = int(row[0])
    c.execute(
        "INSERT INTO events(kind, submit, annotator, ts, session_id) VALUES ('undo', ?, ?, ?, ?)",
        (sid, annotator, now(), session_id),
    )
    return sid


# -- a pool that grows (LabelStore.grow / growth) -----------------------------------
def grow(store: LabelStore, fp: str, n_samples: int) -> None:
    """Record that the pool grew to ``n_samples`` items (its first items unchanged).

    The store then belongs to the grown pool (fingerprint ``fp``); every earlier size and
    fingerprint is kept in the meta row ``growth``, so a session resumed on the grown
    pool is accepted and one on anything else is refused as before.

    Parameters
    ----------
    fp : str
        :func:`fingerprint` of the grown pool.
    n_samples : int
        Its size; more than the current one.

    Raises
    ------
    ValueError
        If ``n_samples`` is not larger than the current pool.
    StoreLockedError, StoreReadOnlyError, StoreWriteError
        If the store cannot be written now.

    Examples
    --------
    >>> import numpy as np
    >>> from alwidget.store import LabelStore, fingerprint
    >>> X = np.arange(8.0).reshape(4, 2)
    >>> X2 = np.vstack([X, [[9.0, 9.0]]])
    >>> store = LabelStore(":memory:")
    >>> store.bind(fingerprint(X), 4, ["a", "b"])
    >>> store.grow(fingerprint(X2), 5)
    >>> store.bind(fingerprint(X2), 5, ["a", "b"])  # the grown pool: accepted
    >>> [n for n, _ in store.growth()]
    [4, 5]
    """
    n = int(n_samples)
    with store._lock:
        meta = dict(store._read("SELECT key, value FROM meta"))
        if n <= int(meta.get("n_samples", "0")):
            raise ValueError(
                f"a pool only grows: {n} items is not more than {meta.get('n_samples')}"
            )
        store._write(lambda c: schema.record_growth(c, meta, fp, n), "recording the pool's growth")
        store._n = n


def growth(store: LabelStore) -> list[tuple[int, str]]:
    """Every size the pool had, oldest first, with its fingerprint: ``[(n, fp), ...]``
    (one entry for a pool that never grew)."""
    meta = dict(store._read("SELECT key, value FROM meta"))
    return schema.growth_history(meta)
