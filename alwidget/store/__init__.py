"""The durable label log: an append-only SQLite event table (stdlib ``sqlite3``, WAL mode).

Every answer (a label or "unsure"), skip and undo is an *event*; nothing is ever deleted. The
current labels are derived by replaying the log, so undo is an event too, and a crash loses
nothing that was committed: :meth:`LabelStore.append` returns only after the transaction is on
disk (``synchronous=FULL``) and folded into the named file (a WAL checkpoint), so a plain copy
of the ``.sqlite`` file holds every label; :meth:`LabelStore.backup` makes a consistent copy
at any time. A ``<store>-seq`` sidecar detects a lost tail of the log (:class:`StoreWarning`).

The store holds data only (integers, floats and text; no pickles): it is safe to open a store
someone sent you. A store made for other data is refused without being changed; damaged or
hand-edited content raises :class:`StoreCorruptError` naming the row; every failed write
raises a :class:`StoreError` whose ``pending`` attribute holds what was being written.

Several annotators (and several sessions) may write to one store (one connection each;
SQLite serialises the writes). All their answers are kept; :meth:`LabelStore.current` derives
the label used for training by a policy (``"latest"`` or ``"majority"``) and
:meth:`LabelStore.disagreements` lists the items where annotators differ. Each event records
the session that wrote it, so an undo can take back a session's own last submit.

Modules
-------
errors
    the ``Store*`` exceptions and warning; ``sqlite3`` errors mapped onto them.
schema
    tables, the SQL views that define "not undone" and "the answer in effect" (once),
    migrations, the checks made before anything is changed.
events
    :class:`LabelEvent`, :func:`fingerprint`, decoding and validating rows read back.
connection
    the connection, its lock and transactions, opening checks, preparation.
writes, reads, frames
    a submit and an undo; array reads and incremental replay; DataFrame reads and policies.
durability
    WAL checkpoint after each commit, backups, the ``-seq`` sidecar.
labelstore
    :class:`LabelStore`, the one entry point, composing the above.
"""

from __future__ import annotations

from .errors import (
    StoreCorruptError,
    StoreError,
    StoreLockedError,
    StoreMismatchError,
    StoreReadOnlyError,
    StoreWarning,
    StoreWriteError,
)
from .events import LabelEvent, fingerprint
from .events import default_annotator as default_annotator
from .labelstore import LabelStore
from .reads import _latest_positions as _latest_positions
from .schema import ANSWER_KINDS as ANSWER_KINDS
from .schema import COLUMNS as COLUMNS
from .schema import EVENT_KINDS as EVENT_KINDS
from .schema import KIND_CODES as KIND_CODES
from .schema import POLICIES
from .schema import SCHEMA_VERSION as SCHEMA_VERSION

__all__ = [
    "LabelStore",
    "LabelEvent",
    "fingerprint",
    "StoreError",
    "StoreMismatchError",
    "StoreCorruptError",
    "StoreLockedError",
    "StoreReadOnlyError",
    "StoreWriteError",
    "StoreWarning",
    "POLICIES",
]
