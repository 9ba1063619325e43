"""The connection under a :class:`LabelStore`: opening and read-only checks, the lock,
transactions (commit, roll back, map every ``sqlite3`` error to a :class:`StoreError`), and
the one-time preparation (WAL, schema upgrade, views) before the first write or bind."""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from . import durability, schema
from .errors import (
    StoreCorruptError,
    StoreError,
    bad_row_error,
    corrupt_error,
    map_error,
    readonly_error,
)

T = TypeVar("T")


class StoreConnection:
    """One SQLite connection to a label store, shared by threads (see :class:`LabelStore`,
    which adds the public API; the parameters and errors are documented there)."""

    def __init__(self, path: str | Path, *, timeout: float = 5.0) -> None:
        self.path = str(path)
        self.timeout = float(timeout)
        self._lock = threading.RLock()  # one connection, shared by threads: serialise use
        self._memory = memory = self.path == ":memory:"
        self._prepared = False  # schema current, WAL on, views created
        self._n: int | None = None  # pool size and number of classes, once bound
        self._k: int | None = None
        self._rounds = (0, 0)  # n_submits cache: (max seq seen, count)
        self._sidecar_seq: int | None = None
        if not memory:
            p = Path(self.path)
            if p.is_dir():
                raise StoreCorruptError(
                    f"the label store {self.path!r} is a folder; pass a file path such as "
                    f"{str(p / 'labels.sqlite')!r}"
                )
            if p.exists() and not (p.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)):
                raise readonly_error(self.path, "the file is marked read-only")
            try:
                p.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise readonly_error(self.path, f"cannot create its folder ({exc})") from None
            if p.exists() and not os.access(p, os.W_OK):
                raise readonly_error(self.path, "no write permission")
        try:
            self._con = sqlite3.connect(
                self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise readonly_error(self.path, str(exc)) from None
        try:
            if not memory:
                self._con.execute("PRAGMA synchronous=FULL")  # this connection only
            if self._inspect():
                self._prepare("creating the store")
            elif not memory:
                durability.check_sidecar(self._con, self.path)
        except sqlite3.Error as exc:
            self._con.close()
            raise self._map_error(exc, "opening it", read=True) from None
        except BaseException:  # a StoreError, or a StoreWarning turned into an error
            self._con.close()
            raise

    # -- connection, transactions, errors ----------------------------------------------
    def _map_error(
        self, exc: sqlite3.Error, doing: str, pending: Any = None, *, read: bool = False
    ) -> StoreError:
        return map_error(self.path, self.timeout, exc, doing, pending, read=read)

    def _rollback(self) -> None:
        if self._con.in_transaction:
            try:
                self._con.execute("ROLLBACK")
            except sqlite3.Error:  # the transaction was already rolled back (e.g. disk full)
                pass

    def _write(self, fn: Callable[[sqlite3.Connection], T], doing: str, pending: Any = None) -> T:
        """Run ``fn`` in one IMMEDIATE transaction; commit or roll back; map sqlite errors;
        then :meth:`_after_commit`."""
        with self._lock:
            self._prepare(doing, pending)
            try:
                self._con.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise self._map_error(exc, doing, pending) from None
            try:
                out = fn(self._con)
                self._con.execute("COMMIT")
            except BaseException as exc:
                self._rollback()
                if isinstance(exc, sqlite3.Error):
                    raise self._map_error(exc, doing, pending) from None
                raise
            self._after_commit()
            return out

    def _after_commit(self) -> None:
        """Fold the WAL into the named file and record the newest ``seq`` in the sidecar."""
        if self._memory:
            return
        durability.checkpoint(self._con)
        self._sidecar_seq = durability.write_sidecar(self._con, self.path, self._sidecar_seq)

    def _read(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                return self._con.execute(sql, args).fetchall()
            except sqlite3.Error as exc:
                raise self._map_error(exc, "reading", read=True) from None

    def _read_tx(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run several reads on one snapshot of the store."""
        with self._lock:
            self._prepare("reading")
            try:
                self._con.execute("BEGIN")
                try:
                    return fn(self._con)
                finally:
                    self._rollback()
            except sqlite3.Error as exc:
                raise self._map_error(exc, "reading", read=True) from None

    # -- opening, checking and upgrading ------------------------------------------------
    def _inspect(self) -> bool:
        """Read-only checks at open; True if the store is new (has no tables yet)."""
        con = self._con
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        tables.discard("sqlite_sequence")
        if not tables:
            return True
        if not {"meta", "events"} <= tables:
            raise corrupt_error(self.path, f"it holds other tables: {sorted(tables)}")
        row = con.execute("PRAGMA quick_check").fetchone()
        if row is None or row[0] != "ok":
            raise corrupt_error(self.path, f"integrity check: {row[0] if row else 'no answer'}")
        version = self.get_meta("schema_version")
        try:
            newer = version is not None and int(version) > schema.SCHEMA_VERSION
        except ValueError:
            what = f"meta row 'schema_version' holds {version!r}, not a number"
            raise bad_row_error(self.path, what) from None
        if newer:
            raise StoreError(
                f"the label store {self.path!r} was written by a newer alwidget (schema "
                f"{version}, this one reads {schema.SCHEMA_VERSION}); upgrade alwidget to open it"
            )
        return False

    def _prepare(self, doing: str, pending: Any = None) -> None:
        """Switch to WAL, upgrade the schema and create the views (once, before any write)."""
        if self._prepared:
            return
        con = self._con
        with self._lock:
            try:
                if not self._memory:
                    mode = con.execute("PRAGMA journal_mode=WAL").fetchone()[0]
                    if str(mode).lower() != "wal":
                        why = f"cannot switch to WAL mode (mode {mode})"
                        raise readonly_error(self.path, why)
                if schema.migration_needed(con):
                    con.execute("BEGIN IMMEDIATE")
                    try:
                        schema.migrate(con)
                        con.execute("COMMIT")
                    except BaseException:
                        self._rollback()
                        raise
                for view in schema.VIEWS:
                    con.execute(view)
            except sqlite3.Error as exc:
                raise self._map_error(exc, doing, pending) from None
            self._prepared = True
            if not self._memory:  # the present state is acknowledged (warned about at open)
                self._sidecar_seq = durability.write_sidecar(con, self.path, self._sidecar_seq)

    def get_meta(self, key: str) -> str | None:
        """A metadata value (``None`` if unset)."""
        rows = self._read("SELECT value FROM meta WHERE key=?", (key,))
        return rows[0][0] if rows else None
