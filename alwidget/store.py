"""The durable label log: an append-only SQLite event table (stdlib ``sqlite3``, WAL mode).

Every submit, skip and undo is an *event*; nothing is ever deleted. The current labels are
derived by replaying the log, so undo is an event too, and a crash loses nothing that was
committed. The store holds data only (no pickles): it is safe to open a store someone sent you.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["LabelStore", "LabelEvent", "fingerprint", "StoreMismatchError"]

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,              -- 'label' | 'skip' | 'undo'
    submit INTEGER NOT NULL,         -- groups the events of one submit; undo: the submit undone
    idx INTEGER,                     -- pool index (NULL for undo)
    label INTEGER,                   -- class code (label events)
    annotator TEXT,
    ts TEXT NOT NULL,                -- UTC, ISO 8601
    round INTEGER,
    strategy TEXT,
    score REAL,
    rank INTEGER,
    model_version INTEGER,           -- number of labels the selecting model was trained on
    source TEXT                      -- 'batch' | 'map' | 'import'
);
CREATE INDEX IF NOT EXISTS events_submit ON events(submit);
"""

COLUMNS = [
    "seq", "kind", "submit", "idx", "label", "annotator", "ts", "round", "strategy",
    "score", "rank", "model_version", "source",
]  # fmt: skip


class StoreMismatchError(ValueError):
    """The store was made for other data (different fingerprint or classes)."""


def fingerprint(X: np.ndarray) -> str:
    """SHA-256 hex digest of a feature matrix's shape and float64 contents.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Numeric features.

    Returns
    -------
    str
        64 hex characters; equal for equal data.
    """
    a = np.ascontiguousarray(X, dtype=np.float64)
    h = hashlib.sha256(json.dumps(list(a.shape)).encode())
    h.update(a.tobytes())
    return h.hexdigest()


@dataclass
class LabelEvent:
    """One label answer to append (see :meth:`LabelStore.append`)."""

    idx: int
    label: int | None
    kind: str = "label"
    round: int | None = None
    strategy: str | None = None
    score: float | None = None
    rank: int | None = None
    model_version: int | None = None
    source: str = "batch"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def default_annotator() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user database entry (some containers)
        return "unknown"


class LabelStore:
    """Append-only label log in one SQLite file.

    Parameters
    ----------
    path : str or Path
        Database file, created if missing; ``":memory:"`` keeps labels in memory only (lost
        when the kernel stops).

    Raises
    ------
    sqlite3.DatabaseError
        If ``path`` exists but is not a SQLite database.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._con = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        if self.path != ":memory:":
            self._con.execute("PRAGMA journal_mode=WAL")
            self._con.execute("PRAGMA synchronous=FULL")
        self._con.executescript(_SCHEMA)

    # -- metadata -----------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        row = self._con.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else row[0]

    def set_meta(self, key: str, value: str) -> None:
        self._con.execute(
            "INSERT INTO meta(key, value) VALUES(?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            (key, value),
        )

    def bind(self, fp: str, n_samples: int, classes: Sequence[str]) -> None:
        """Tie the store to one pool, or check that it is the pool it was made for.

        Raises
        ------
        StoreMismatchError
            If the store holds labels for other data or other classes.
        """
        classes = [str(c) for c in classes]
        old = self.get_meta("fingerprint")
        if old is None:
            self.set_meta("schema_version", str(SCHEMA_VERSION))
            self.set_meta("fingerprint", fp)
            self.set_meta("n_samples", str(n_samples))
            self.set_meta("classes", json.dumps(classes))
            return
        if old != fp:
            raise StoreMismatchError(
                f"the label store {self.path!r} was made for other data "
                f"({self.get_meta('n_samples')} items, fingerprint {old[:12]}), not this X "
                f"({n_samples} items, fingerprint {fp[:12]}). Use another store file (store=...) "
                "or the data the store was made for."
            )
        old_classes = json.loads(self.get_meta("classes") or "[]")
        if old_classes != classes:
            raise StoreMismatchError(
                f"the label store {self.path!r} uses classes {old_classes}, not {classes}. "
                "Pass the same classes, in the same order, or use another store file."
            )

    # -- events -------------------------------------------------------------------------
    def _next_submit(self) -> int:
        row = self._con.execute("SELECT COALESCE(MAX(submit), 0) FROM events").fetchone()
        return int(row[0]) + 1

    def append(self, events: Iterable[LabelEvent], annotator: str) -> int:
        """Append events as one submit, committed to disk before returning.

        Returns
        -------
        int
            The submit id of this group of events.
        """
        events = list(events)
        ts = _now()
        with self._con:  # one transaction
            self._con.execute("BEGIN IMMEDIATE")
            sid = self._next_submit()
            self._con.executemany(
                "INSERT INTO events(kind, submit, idx, label, annotator, ts, round, strategy, "
                "score, rank, model_version, source) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                [
                    (
                        e.kind, sid, int(e.idx), None if e.label is None else int(e.label),
                        annotator, ts, e.round, e.strategy,
                        None if e.score is None else float(e.score),
                        e.rank, e.model_version, e.source,
                    )
                    for e in events
                ],
            )  # fmt: skip
        return sid

    def undo_last(self, annotator: str) -> int | None:
        """Record an undo of the newest label submit not already undone.

        Returns
        -------
        int or None
            The submit id undone, or None if there is nothing to undo.
        """
        with self._con:
            self._con.execute("BEGIN IMMEDIATE")
            row = self._con.execute(
                "SELECT MAX(submit) FROM events WHERE kind='label' AND submit NOT IN "
                "(SELECT submit FROM events WHERE kind='undo')"
            ).fetchone()
            if row is None or row[0] is None:
                return None
            sid = int(row[0])
            self._con.execute(
                "INSERT INTO events(kind, submit, annotator, ts) VALUES ('undo', ?, ?, ?)",
                (sid, annotator, _now()),
            )
        return sid

    def events(self) -> pd.DataFrame:
        """The whole log, oldest first, as a DataFrame with the columns of ``COLUMNS``."""
        rows = self._con.execute(f"SELECT {', '.join(COLUMNS)} FROM events ORDER BY seq").fetchall()
        return pd.DataFrame(rows, columns=COLUMNS)

    def undone_submits(self) -> set[int]:
        rows = self._con.execute("SELECT submit FROM events WHERE kind='undo'").fetchall()
        return {int(r[0]) for r in rows}

    def submit_events(self, sid: int) -> pd.DataFrame:
        rows = self._con.execute(
            f"SELECT {', '.join(COLUMNS)} FROM events WHERE submit=? AND kind!='undo' ORDER BY seq",
            (sid,),
        ).fetchall()
        return pd.DataFrame(rows, columns=COLUMNS)

    def current(self) -> pd.DataFrame:
        """Effective state per pool index after replaying the log (undone submits ignored).

        Returns
        -------
        DataFrame
            One row per index whose latest effective event is a label or a skip, with the
            columns of :meth:`events`; ``kind`` tells which.
        """
        ev = self.events()
        if ev.empty:
            return ev
        undone = self.undone_submits()
        ev = ev[(ev["kind"] != "undo") & ~ev["submit"].isin(undone)]
        ev = ev.drop_duplicates("idx", keep="last")
        return ev.sort_values("seq").reset_index(drop=True)

    def n_submits(self) -> int:
        """Label submits that are in effect (not undone)."""
        row = self._con.execute(
            "SELECT COUNT(DISTINCT submit) FROM events WHERE kind='label' AND submit NOT IN "
            "(SELECT submit FROM events WHERE kind='undo')"
        ).fetchone()
        return int(row[0])

    def close(self) -> None:
        self._con.close()
