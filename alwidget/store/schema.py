"""The store's schema: tables, indexes, the SQL views that define "the answer in effect",
migrations of older stores, and the read-only checks made before anything is changed.

"Not undone" and "the answer in effect" are written once, here, as TEMP views created on
each connection (nothing is written to the file):

``live_events``
    label, unsure and skip events of submits not undone.
``effective_state``
    per item, its newest live answer (label or unsure), or its newest live skip if it has
    no answer (a skip never hides an answer): the ``"latest"`` policy.
``effective_answers``
    the rows of ``effective_state`` that are answers.

A ``WHERE idx IN (...)`` on the views is pushed down to the ``events_idx`` index (the
window partitions by ``idx``), so reading a few items costs the same at any log size.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from .errors import StoreMismatchError

SCHEMA_VERSION = 3
#: Label policies understood by :meth:`LabelStore.current`.
POLICIES = ("latest", "majority")
#: Event kinds that are answers (kept per annotator, undoable).
ANSWER_KINDS = ("label", "unsure")
#: Every event kind in a valid log.
EVENT_KINDS = ("label", "unsure", "skip", "undo")
#: Kind codes of :meth:`LabelStore.effective_arrays` and :meth:`LabelStore.effective_for`.
KIND_CODES = {"label": 0, "unsure": 1, "skip": 2}

TABLES = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS events (
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
    prev_label INTEGER,              -- its class code if prev_kind = 'label'
    session_id TEXT                  -- the session that wrote the event (schema 3)
)""",
)
#: Columns added since schema 1, with their types (migrations add them, data stays).
ADDED_COLUMNS = (("prev_kind", "TEXT"), ("prev_label", "INTEGER"), ("session_id", "TEXT"))
INDEXES = (
    "CREATE INDEX IF NOT EXISTS events_submit ON events(submit)",
    "CREATE INDEX IF NOT EXISTS events_idx ON events(idx)",
    # the undone submits, found without scanning the log
    "CREATE INDEX IF NOT EXISTS events_undo ON events(submit) WHERE kind = 'undo'",
)

COLUMNS = [
    "seq",
    "kind",
    "submit",
    "idx",
    "label",
    "annotator",
    "ts",
    "round",
    "strategy",
    "score",
    "rank",
    "model_version",
    "source",
    "prev_kind",
    "prev_label",
    "session_id",
]
COLS = ", ".join(COLUMNS)

#: The one definition of "not undone" and of "the answer in effect" (see the module text).
VIEWS = (
    f"""CREATE TEMP VIEW IF NOT EXISTS live_events AS
    SELECT {COLS} FROM main.events AS e
    WHERE e.kind IN ('label', 'unsure', 'skip')
      AND NOT EXISTS (SELECT 1 FROM main.events AS u WHERE u.kind = 'undo' AND u.submit = e.submit)""",
    f"""CREATE TEMP VIEW IF NOT EXISTS effective_state AS
    SELECT {COLS} FROM (
        SELECT {COLS},
            ROW_NUMBER() OVER (PARTITION BY idx ORDER BY kind = 'skip', seq DESC) AS rn
        FROM live_events)
    WHERE rn = 1""",
    f"""CREATE TEMP VIEW IF NOT EXISTS effective_answers AS
    SELECT {COLS} FROM effective_state WHERE kind IN ('label', 'unsure')""",
)
#: The kind code (:data:`KIND_CODES`) of a row of the views, in SQL.
KIND_CODE_SQL = "CASE kind WHEN 'label' THEN 0 WHEN 'unsure' THEN 1 ELSE 2 END"
CHUNK = 500  # host parameters per IN (...) list


def migration_needed(con: sqlite3.Connection) -> bool:
    """True if the store on ``con`` lacks a table, column, index or meta row of this schema."""
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if not {"meta", "events"} <= tables:
        return True
    cols = {r[1] for r in con.execute("PRAGMA table_info(events)")}
    if any(name not in cols for name, _ in ADDED_COLUMNS):
        return True
    names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    if not {"events_submit", "events_idx", "events_undo"} <= names:
        return True
    meta = dict(
        con.execute(
            "SELECT key, value FROM meta WHERE key IN ('schema_version', 'store_id')"
        ).fetchall()
    )
    return meta.get("schema_version") != str(SCHEMA_VERSION) or "store_id" not in meta


def migrate(con: sqlite3.Connection) -> None:
    """Create the tables, or upgrade schema 1/2 to 3 in place (data stays as it is).

    Runs inside the caller's transaction.
    """
    for stmt in TABLES:
        con.execute(stmt)
    cols = {r[1] for r in con.execute("PRAGMA table_info(events)")}
    for name, typ in ADDED_COLUMNS:
        if name not in cols:
            con.execute(f"ALTER TABLE events ADD COLUMN {name} {typ}")
    for stmt in INDEXES:
        con.execute(stmt)
    set_meta(con, "schema_version", str(SCHEMA_VERSION))
    con.execute("INSERT OR IGNORE INTO meta(key, value) VALUES('store_id', ?)", (uuid.uuid4().hex,))


def set_meta(con: sqlite3.Connection, key: str, value: str) -> None:
    """Insert or replace one meta row (inside the caller's transaction)."""
    con.execute(
        "INSERT INTO meta(key, value) VALUES(?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
        (key, value),
    )


def _json(key: str, value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        raise ValueError(
            f"meta row {key!r} holds {value[:60]!r}, which is not valid JSON"
        ) from None


def check_binding(
    path: str, meta: dict[str, str], fp: str, n_samples: int, classes: list[str]
) -> None:
    """Check the store's metadata against the pool it is bound to (reads nothing else).

    Raises
    ------
    StoreMismatchError
        If the store was made for other data or other classes.
    ValueError
        If a meta row is damaged; the message names the row (the caller wraps it into a
        :class:`StoreCorruptError`).
    """
    old = meta.get("fingerprint")
    if old is not None:
        if old != fp:
            raise StoreMismatchError(
                f"the label store {path!r} was made for other data "
                f"({meta.get('n_samples')} items, fingerprint {old[:12]}), not this X "
                f"({n_samples} items, fingerprint {fp[:12]}). Use another store file "
                "(store=...) or the data the store was made for (a pool may grow: its first "
                f"{meta.get('n_samples')} items must be those data)."
            )
        old_classes = _json("classes", meta.get("classes", "[]"))
        if not isinstance(old_classes, list) or not all(isinstance(c, str) for c in old_classes):
            raise ValueError(
                f"meta row 'classes' holds {meta.get('classes', '')[:60]!r}, not a "
                "list of class names"
            )
        if old_classes != classes:
            raise StoreMismatchError(
                f"the label store {path!r} uses classes {old_classes}, not "
                f"{classes}. Pass the same classes, in the same order, or use another "
                "store file."
            )
    if "excluded" in meta:
        excl = _json("excluded", meta["excluded"])
        ok = isinstance(excl, list) and all(
            isinstance(i, int) and not isinstance(i, bool) and 0 <= i < n_samples for i in excl
        )
        if not ok:
            raise ValueError(
                f"meta row 'excluded' holds {meta['excluded'][:60]!r}, not a list of "
                f"pool indices in 0..{n_samples - 1}"
            )


def growth_history(meta: dict[str, str]) -> list[tuple[int, str]]:
    """Sizes and fingerprints the pool had, oldest first (meta row ``growth``, plus the
    current binding)."""
    past = _json("growth", meta["growth"]) if "growth" in meta else []
    if not isinstance(past, list) or not all(
        isinstance(e, list) and len(e) == 2 and isinstance(e[0], int) for e in past
    ):
        raise ValueError(f"meta row 'growth' holds {meta['growth'][:60]!r}, not [[n, fp], ...]")
    out = [(int(n), str(f)) for n, f in past]
    if "fingerprint" in meta:
        out.append((int(meta.get("n_samples", "0")), meta["fingerprint"]))
    return out


def grown_from(
    meta: dict[str, str], fp: str, n: int, prefix: Callable[[int], str] | None
) -> tuple[int, str] | None:
    """``(old n, old fingerprint)`` if a pool of ``n`` items with fingerprint ``fp`` is the
    store's pool grown (its first ``old n`` items have the stored fingerprint), else None."""
    old = meta.get("fingerprint")
    if old is None or old == fp or prefix is None:
        return None
    try:
        old_n = int(meta.get("n_samples", "0"))
    except ValueError:
        return None
    if 0 < old_n < n and prefix(old_n) == old:
        return old_n, old
    return None


def record_growth(con: sqlite3.Connection, meta: dict[str, str], fp: str, n: int) -> None:
    """Bind the store to the grown pool, keeping the earlier binding in ``growth``."""
    past = [[int(m), f] for m, f in growth_history(meta)]
    set_meta(con, "growth", json.dumps(past))
    set_meta(con, "fingerprint", fp)
    set_meta(con, "n_samples", str(n))


def first_bad_event(
    read: Callable[[str, Sequence[Any]], list[tuple[Any, ...]]], n: int, k: int
) -> tuple[Any, ...] | None:
    """The first event that is not valid for a pool of ``n`` items and ``k`` classes.

    Parameters
    ----------
    read : callable
        ``read(sql, args)`` returning rows (the store's read).
    n, k : int
        Pool size and number of classes.

    Returns
    -------
    tuple or None
        ``(seq, kind, idx, label, submit)`` of the first bad row, or None.
    """
    kinds = ", ".join(f"'{x}'" for x in EVENT_KINDS)
    rows = read(
        "SELECT seq, kind, idx, label, submit FROM events WHERE "
        f"kind NOT IN ({kinds}) OR typeof(submit) != 'integer' "
        "OR (kind != 'undo' AND (typeof(idx) != 'integer' OR idx < 0 OR idx >= ?)) "
        "OR (kind = 'label' AND (typeof(label) != 'integer' OR label < 0 OR label >= ?)) "
        "ORDER BY seq LIMIT 1",
        (n, k),
    )
    return rows[0] if rows else None


def init_meta(con: sqlite3.Connection, fp: str, n_samples: int, classes: Sequence[str]) -> None:
    """Write the binding of a new store (inside the caller's transaction)."""
    for k, v in [
        ("schema_version", str(SCHEMA_VERSION)),
        ("fingerprint", fp),
        ("n_samples", str(n_samples)),
        ("classes", json.dumps(list(classes))),
    ]:
        set_meta(con, k, v)
