"""The durable label log: an append-only SQLite event table (stdlib ``sqlite3``, WAL mode).

Every answer (a label or "unsure"), skip and undo is an *event*; nothing is ever deleted. The
current labels are derived by replaying the log, so undo is an event too, and a crash loses
nothing that was committed: :meth:`LabelStore.append` returns only after the transaction is on
disk (``synchronous=FULL``).

The store holds data only (integers, floats and text; no pickles): it is safe to open a store
someone sent you.

Several annotators may write to one store (one connection per process; SQLite serialises the
writes). All their answers are kept; :meth:`LabelStore.current` derives the label used for
training by a policy (``"latest"`` or ``"majority"``) and :meth:`LabelStore.disagreements`
lists the items where annotators differ.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import sqlite3
import stat
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

__all__ = [
    "LabelStore",
    "LabelEvent",
    "fingerprint",
    "StoreError",
    "StoreMismatchError",
    "StoreCorruptError",
    "StoreLockedError",
    "StoreReadOnlyError",
    "POLICIES",
]

SCHEMA_VERSION = 2
#: Label policies understood by :meth:`LabelStore.current`.
POLICIES = ("latest", "majority")
#: Event kinds that are answers (kept per annotator, undoable).
ANSWER_KINDS = ("label", "unsure")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,              -- 'label' | 'unsure' | 'skip' | 'undo'
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
    source TEXT,                     -- 'batch' | 'map' | 'import'
    prev_kind TEXT,                  -- the item's effective answer before this one (NULL: none)
    prev_label INTEGER               -- its class code if prev_kind = 'label'
);
CREATE INDEX IF NOT EXISTS events_submit ON events(submit);
CREATE INDEX IF NOT EXISTS events_idx ON events(idx);
"""

COLUMNS = [
    "seq", "kind", "submit", "idx", "label", "annotator", "ts", "round", "strategy",
    "score", "rank", "model_version", "source", "prev_kind", "prev_label",
]  # fmt: skip

T = TypeVar("T")


class StoreError(RuntimeError):
    """Base class of label-store errors. The message says what to do."""


class StoreMismatchError(StoreError, ValueError):
    """The store was made for other data (different fingerprint or classes)."""


class StoreCorruptError(StoreError):
    """The file is not an alwidget label store, or it is damaged."""


class StoreLockedError(StoreError):
    """Another process holds the store's write lock for longer than the timeout.

    Attributes
    ----------
    pending : object
        What was being written (e.g. the labels of a submit), kept so the caller can retry.
    """

    def __init__(self, message: str, pending: Any = None) -> None:
        super().__init__(message)
        self.pending = pending


class StoreReadOnlyError(StoreError):
    """The store file (or its folder) cannot be written."""


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
    """One event to append (see :meth:`LabelStore.append`).

    Attributes
    ----------
    idx : int
        Pool index.
    label : int or None
        Class code for ``kind="label"``; None otherwise.
    kind : {"label", "unsure", "skip"}
        What the annotator answered.
    round, strategy, score, rank, model_version, source
        Provenance at selection time (see the table schema).
    """

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
    """The operating-system user name, or ``"unknown"`` if there is none."""
    try:
        return getpass.getuser()
    except Exception:  # no user database entry (some containers)
        return "unknown"


def _is_locked(exc: sqlite3.OperationalError) -> bool:
    msg = str(exc).lower()
    return "locked" in msg or "busy" in msg


def _is_readonly(exc: sqlite3.OperationalError) -> bool:
    msg = str(exc).lower()
    return "readonly" in msg or "read-only" in msg or "unable to open" in msg


class LabelStore:
    """Append-only label log in one SQLite file.

    Parameters
    ----------
    path : str or Path
        Database file, created if missing (with its folder); ``":memory:"`` keeps labels in
        memory only (lost when the kernel stops).
    timeout : float, default=5.0
        Seconds to wait for another process's write lock before raising
        :class:`StoreLockedError`.

    Raises
    ------
    StoreCorruptError
        If ``path`` exists but is not an alwidget label store, or is damaged.
    StoreReadOnlyError
        If ``path`` (or its folder) cannot be written, including a file whose permission bits
        say read-only.
    StoreLockedError
        If another process holds the write lock for longer than ``timeout`` while the store is
        being set up.
    """

    def __init__(self, path: str | Path, *, timeout: float = 5.0) -> None:
        self.path = str(path)
        self.timeout = float(timeout)
        self._lock = threading.RLock()  # one connection, shared by threads: serialise use
        memory = self.path == ":memory:"
        if not memory:
            p = Path(self.path)
            if p.is_dir():
                raise StoreCorruptError(
                    f"the label store {self.path!r} is a folder; pass a file path such as "
                    f"{str(p / 'labels.sqlite')!r}"
                )
            if p.exists() and not (p.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)):
                raise self._readonly_error("the file is marked read-only")
            try:
                p.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise self._readonly_error(f"cannot create its folder ({exc})") from None
            if p.exists() and not os.access(p, os.W_OK):
                raise self._readonly_error("no write permission")
        try:
            self._con = sqlite3.connect(
                self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.OperationalError as exc:
            raise self._readonly_error(str(exc)) from None
        try:
            self._setup(memory)
        except StoreError:
            self._con.close()
            raise
        except sqlite3.DatabaseError as exc:
            self._con.close()
            if isinstance(exc, sqlite3.OperationalError) and _is_locked(exc):
                raise self._locked_error("opening it") from None
            if isinstance(exc, sqlite3.OperationalError) and _is_readonly(exc):
                raise self._readonly_error(str(exc)) from None
            raise self._corrupt_error(str(exc)) from None

    # -- errors -------------------------------------------------------------------------
    def _corrupt_error(self, why: str) -> StoreCorruptError:
        return StoreCorruptError(
            f"the label store {self.path!r} is not an alwidget label store or is damaged "
            f"({why}). Nothing was changed. Move the file aside (keep it: it may be "
            "recoverable with the sqlite3 command-line tool's .recover) and start a new "
            "store with store='another-file.sqlite', or restore a backup."
        )

    def _readonly_error(self, why: str) -> StoreReadOnlyError:
        return StoreReadOnlyError(
            f"cannot write to the label store {self.path!r} ({why}). Make the file and its "
            "folder writable (chmod u+w), or copy the file somewhere writable and pass that "
            "path as store=...; to only read it, use LabelStore.read_events(path)."
        )

    def _locked_error(self, doing: str, pending: Any = None) -> StoreLockedError:
        return StoreLockedError(
            f"the label store {self.path!r} is locked by another process (waited "
            f"{self.timeout:g} s while {doing}). Nothing was written; your labels are kept "
            "(error.pending), submit again when the other process is done, or close the "
            "other session/notebook using this file.",
            pending,
        )

    def _write(self, fn: Callable[[sqlite3.Connection], T], doing: str, pending: Any = None) -> T:
        """Run ``fn`` in one IMMEDIATE transaction; commit or roll back; map sqlite errors."""
        with self._lock:
            try:
                self._con.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                if _is_locked(exc):
                    raise self._locked_error(doing, pending) from None
                if _is_readonly(exc):
                    raise self._readonly_error(str(exc)) from None
                raise
            try:
                out = fn(self._con)
                self._con.execute("COMMIT")
            except BaseException as exc:
                if self._con.in_transaction:
                    self._con.execute("ROLLBACK")
                if isinstance(exc, sqlite3.OperationalError):
                    if _is_locked(exc):
                        raise self._locked_error(doing, pending) from None
                    if _is_readonly(exc):
                        raise self._readonly_error(str(exc)) from None
                if isinstance(exc, sqlite3.DatabaseError) and not isinstance(
                    exc, sqlite3.OperationalError
                ):
                    raise self._corrupt_error(str(exc)) from None
                raise
            return out

    def _read(self, sql: str, args: Sequence[Any] = ()) -> list[tuple]:
        with self._lock:
            try:
                return self._con.execute(sql, args).fetchall()
            except sqlite3.OperationalError as exc:
                if _is_locked(exc):
                    raise self._locked_error("reading") from None
                raise
            except sqlite3.DatabaseError as exc:
                raise self._corrupt_error(str(exc)) from None

    def _setup(self, memory: bool) -> None:
        con = self._con
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        tables.discard("sqlite_sequence")
        if tables and not {"meta", "events"} <= tables:
            raise self._corrupt_error(f"it holds other tables: {sorted(tables)}")
        if tables:
            row = con.execute("PRAGMA quick_check").fetchone()
            if row is None or row[0] != "ok":
                raise self._corrupt_error(f"integrity check: {row[0] if row else 'no answer'}")
        if not memory:
            mode = con.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise self._readonly_error(f"cannot switch to WAL mode (mode {mode})")
            con.execute("PRAGMA synchronous=FULL")
        if not tables:
            con.executescript(_SCHEMA)  # its own transaction (executescript commits first)
            return
        cols = {r[1] for r in con.execute("PRAGMA table_info(events)")}
        missing = [c for c in ("prev_kind", "prev_label") if c not in cols]
        if missing:  # schema 1 -> 2: add the columns (data stays as it is)

            def migrate(c: sqlite3.Connection) -> None:
                for name in missing:
                    typ = "TEXT" if name == "prev_kind" else "INTEGER"
                    c.execute(f"ALTER TABLE events ADD COLUMN {name} {typ}")
                c.execute("CREATE INDEX IF NOT EXISTS events_idx ON events(idx)")
                c.execute(
                    "INSERT INTO meta(key, value) VALUES('schema_version', ?) "
                    "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                    (str(SCHEMA_VERSION),),
                )

            self._write(migrate, "upgrading the store")
        version = self.get_meta("schema_version")
        if version is not None and int(version) > SCHEMA_VERSION:
            raise StoreError(
                f"the label store {self.path!r} was written by a newer alwidget (schema "
                f"{version}, this one reads {SCHEMA_VERSION}); upgrade alwidget to open it"
            )

    # -- metadata -----------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        """A metadata value (``None`` if unset)."""
        rows = self._read("SELECT value FROM meta WHERE key=?", (key,))
        return rows[0][0] if rows else None

    def set_meta(self, key: str, value: str) -> None:
        """Set a metadata value (committed at once).

        Raises
        ------
        StoreLockedError, StoreReadOnlyError
            If the store cannot be written now.
        """
        self._write(
            lambda c: c.execute(
                "INSERT INTO meta(key, value) VALUES(?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                (key, value),
            ),
            f"saving {key}",
        )

    def bind(self, fp: str, n_samples: int, classes: Sequence[str]) -> None:
        """Tie the store to one pool, or check that it is the pool it was made for.

        Parameters
        ----------
        fp : str
            :func:`fingerprint` of the pool's features.
        n_samples : int
            Pool size.
        classes : sequence of str
            Class names, in code order.

        Raises
        ------
        StoreMismatchError
            If the store holds labels for other data or other classes. Nothing is changed.
        """
        classes = [str(c) for c in classes]
        old = self.get_meta("fingerprint")
        if old is None:

            def init(c: sqlite3.Connection) -> None:
                for k, v in [
                    ("schema_version", str(SCHEMA_VERSION)),
                    ("fingerprint", fp),
                    ("n_samples", str(n_samples)),
                    ("classes", json.dumps(classes)),
                ]:
                    c.execute(
                        "INSERT INTO meta(key, value) VALUES(?, ?) "
                        "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                        (k, v),
                    )

            self._write(init, "binding the store to this data")
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
    def append(
        self, events: Iterable[LabelEvent], annotator: str, *, pending: Any = None
    ) -> int:
        """Append events as one submit, committed to disk before returning.

        Each event records the item's previous effective answer (``prev_kind``,
        ``prev_label``, under the ``"latest"`` policy), so an update of an earlier label or a
        relabel of an "unsure" item is recorded as such.

        Parameters
        ----------
        events : iterable of LabelEvent
            The events of one submit.
        annotator : str
            Who answered.
        pending : object, optional
            Attached to :class:`StoreLockedError` if the write lock cannot be had.

        Returns
        -------
        int
            The submit id of this group of events.

        Raises
        ------
        StoreLockedError, StoreReadOnlyError
            Nothing was written; retry later.
        """
        events = list(events)
        for e in events:
            if e.kind not in ("label", "unsure", "skip"):
                raise ValueError(f"unknown event kind {e.kind!r}")
        ts = _now()

        def write(c: sqlite3.Connection) -> int:
            sid = int(c.execute("SELECT COALESCE(MAX(submit), 0) FROM events").fetchone()[0]) + 1
            prev = self._previous(c, [int(e.idx) for e in events])
            c.executemany(
                "INSERT INTO events(kind, submit, idx, label, annotator, ts, round, strategy, "
                "score, rank, model_version, source, prev_kind, prev_label) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [
                    (
                        e.kind, sid, int(e.idx), None if e.label is None else int(e.label),
                        annotator, ts, e.round, e.strategy,
                        None if e.score is None or not np.isfinite(e.score) else float(e.score),
                        e.rank, e.model_version, e.source,
                        *(prev.get(int(e.idx), (None, None)) if e.kind != "skip" else (None, None)),
                    )
                    for e in events
                ],
            )  # fmt: skip
            return sid

        return self._write(write, f"saving {len(events)} answers", pending)

    @staticmethod
    def _previous(c: sqlite3.Connection, idx: list[int]) -> dict[int, tuple[str, int | None]]:
        """Latest effective answer (kind, label) of each index, inside the open transaction."""
        if not idx:
            return {}
        out: dict[int, tuple[str, int | None]] = {}
        uniq = sorted(set(idx))
        for i in range(0, len(uniq), 500):
            chunk = uniq[i : i + 500]
            marks = ",".join("?" * len(chunk))
            rows = c.execute(
                f"SELECT idx, kind, label FROM events WHERE idx IN ({marks}) "
                "AND kind IN ('label', 'unsure') AND submit NOT IN "
                "(SELECT submit FROM events WHERE kind='undo') ORDER BY seq",
                chunk,
            ).fetchall()
            for j, kind, label in rows:
                out[int(j)] = (kind, label)
        return out

    def undo_last(self, annotator: str | None = None) -> int | None:
        """Record an undo of the newest answer submit not already undone.

        Parameters
        ----------
        annotator : str, optional
            Undo this annotator's newest submit (others' answers are untouched); ``None``:
            anyone's.

        Returns
        -------
        int or None
            The submit id undone, or None if there is nothing to undo.
        """

        def write(c: sqlite3.Connection) -> int | None:
            sql = (
                "SELECT MAX(submit) FROM events WHERE kind IN ('label', 'unsure') AND submit "
                "NOT IN (SELECT submit FROM events WHERE kind='undo')"
            )
            args: tuple = ()
            if annotator is not None:
                sql += " AND annotator=?"
                args = (annotator,)
            row = c.execute(sql, args).fetchone()
            if row is None or row[0] is None:
                return None
            sid = int(row[0])
            c.execute(
                "INSERT INTO events(kind, submit, annotator, ts) VALUES ('undo', ?, ?, ?)",
                (sid, annotator, _now()),
            )
            return sid

        return self._write(write, "saving an undo")

    def events(self) -> pd.DataFrame:
        """The whole log, oldest first, as a DataFrame with the columns of ``COLUMNS``."""
        rows = self._read(f"SELECT {', '.join(COLUMNS)} FROM events ORDER BY seq")
        return pd.DataFrame(rows, columns=COLUMNS)

    @classmethod
    def read_events(cls, path: str | Path) -> pd.DataFrame:
        """Read the log of a store file without writing anything (works on read-only files).

        Raises
        ------
        StoreCorruptError
            If the file is not an alwidget label store.
        """
        uri = Path(path).resolve().as_uri() + "?mode=ro"
        try:
            con = sqlite3.connect(uri, uri=True)
            try:
                rows = con.execute(f"SELECT {', '.join(COLUMNS)} FROM events ORDER BY seq").fetchall()
            finally:
                con.close()
        except sqlite3.DatabaseError as exc:
            raise StoreCorruptError(
                f"cannot read the label store {str(path)!r} ({exc}); is it an alwidget store?"
            ) from None
        return pd.DataFrame(rows, columns=COLUMNS)

    def undone_submits(self) -> set[int]:
        """Submit ids that were undone."""
        return {int(r[0]) for r in self._read("SELECT submit FROM events WHERE kind='undo'")}

    def effective_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The effective (not undone) label, unsure and skip events, oldest first, as arrays.

        The fast path behind :meth:`current` with ``policy="latest"`` (no pandas): the
        session replays it after every submit.

        Returns
        -------
        idx : ndarray of shape (m,), int64
        kind : ndarray of shape (m,), int8
            0 = label, 1 = unsure, 2 = skip.
        label : ndarray of shape (m,), int64
            Class code of label events, -1 otherwise.
        """
        rows = self._read(
            "SELECT idx, CASE kind WHEN 'label' THEN 0 WHEN 'unsure' THEN 1 ELSE 2 END, "
            "COALESCE(label, -1) FROM events WHERE kind IN ('label', 'unsure', 'skip') AND "
            "submit NOT IN (SELECT submit FROM events WHERE kind='undo') ORDER BY seq"
        )
        if not rows:
            e = np.empty(0, dtype=np.int64)
            return e, e.astype(np.int8), e
        a = np.asarray(rows, dtype=np.int64)
        return a[:, 0], a[:, 1].astype(np.int8), a[:, 2]

    def submit_events(self, sid: int) -> pd.DataFrame:
        """The events of one submit (not its undo), oldest first."""
        rows = self._read(
            f"SELECT {', '.join(COLUMNS)} FROM events WHERE submit=? AND kind!='undo' ORDER BY seq",
            (sid,),
        )
        return pd.DataFrame(rows, columns=COLUMNS)

    def answers(self) -> pd.DataFrame:
        """Every answer in effect (labels and unsure, all annotators, undone ones excluded),
        oldest first, with the columns of :meth:`events`."""
        ev = self.events()
        if ev.empty:
            return ev
        ev = ev[ev["kind"].isin(ANSWER_KINDS) & ~ev["submit"].isin(self.undone_submits())]
        return ev.reset_index(drop=True)

    def current(self, policy: str = "latest") -> pd.DataFrame:
        """Effective state per pool index after replaying the log (undone submits ignored).

        Parameters
        ----------
        policy : {"latest", "majority"}, default="latest"
            Which answer counts when there are several (e.g. several annotators):
            ``"latest"``: the newest answer of anyone. ``"majority"``: each annotator's newest
            answer is one vote; the class with most votes wins, ties go to the class answered
            most recently; "unsure" votes count only when nobody gave a class.

        Returns
        -------
        DataFrame
            One row per index with an answer (``kind`` ``"label"`` or ``"unsure"``) or, if
            it has none, a skip (``kind="skip"``), with the columns of :meth:`events`, in log
            order. A skip never hides an answer.

        Raises
        ------
        ValueError
            On an unknown policy.
        """
        if policy not in POLICIES:
            raise ValueError(f"unknown label policy {policy!r}; use one of {POLICIES}")
        ev = self.events()
        if ev.empty:
            return ev
        undone = self.undone_submits()
        ev = ev[(ev["kind"] != "undo") & ~ev["submit"].isin(undone)]
        ans = ev[ev["kind"].isin(ANSWER_KINDS)]
        if policy == "latest":
            chosen = ans.drop_duplicates("idx", keep="last")
        else:
            chosen = _majority(ans)
        skips = ev[(ev["kind"] == "skip") & ~ev["idx"].isin(ans["idx"])]
        skips = skips.drop_duplicates("idx", keep="last")
        out = pd.concat([chosen, skips]) if len(skips) else chosen
        return out.sort_values("seq").reset_index(drop=True)

    def disagreements(self) -> pd.DataFrame:
        """Items whose annotators' newest answers differ.

        Returns
        -------
        DataFrame
            One row per such item: ``idx``, ``n_annotators``, ``answers`` (dict annotator ->
            class code, or ``"unsure"``), sorted by ``idx``.
        """
        ans = self.answers()
        cols = ["idx", "n_annotators", "answers"]
        if ans.empty:
            return pd.DataFrame(columns=cols)
        last = ans.drop_duplicates(["idx", "annotator"], keep="last")
        rows = []
        for idx, g in last.groupby("idx", sort=True):
            votes = {
                str(a): ("unsure" if k == "unsure" else int(lab))
                for a, k, lab in zip(g["annotator"], g["kind"], g["label"], strict=True)
            }
            if len(set(votes.values())) > 1:
                rows.append((int(idx), len(votes), votes))
        return pd.DataFrame(rows, columns=cols)

    def n_submits(self) -> int:
        """Answer submits that are in effect (not undone), imports excluded: the round."""
        rows = self._read(
            "SELECT COUNT(DISTINCT submit) FROM events WHERE kind IN ('label', 'unsure') "
            "AND COALESCE(source, '') != 'import' AND submit NOT IN "
            "(SELECT submit FROM events WHERE kind='undo')"
        )
        return int(rows[0][0])

    def close(self) -> None:
        """Close the connection (everything is already committed)."""
        with self._lock:
            self._con.close()


def _majority(ans: pd.DataFrame) -> pd.DataFrame:
    """One row per idx under the majority policy (see :meth:`LabelStore.current`)."""
    if ans.empty:
        return ans
    last = ans.drop_duplicates(["idx", "annotator"], keep="last")
    keep = []
    for _, g in last.groupby("idx", sort=False):
        lab = g[g["kind"] == "label"]
        if lab.empty:
            keep.append(g.index[-1])
            continue
        counts = lab["label"].value_counts()
        top = counts[counts == counts.max()].index
        keep.append(lab[lab["label"].isin(top)].index[-1])
    return ans.loc[keep]
