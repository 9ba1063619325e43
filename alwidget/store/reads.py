"""Array reads of a store: the state of items under the ``"latest"`` policy (all items, or a
few), incremental replay, and the round count.

Each function takes the :class:`LabelStore` it reads as its first argument; its docstring
documents the :class:`LabelStore` method that delegates to it.

The "answer in effect" is the ``effective_state`` view (:mod:`alwidget.store.schema`);
whole-log replays (:func:`effective_arrays`, ``current("latest")``) read ``live_events`` and
pick the deciding rows with numpy (:func:`_latest_positions`: 53 vs 188 ms for the view's
window function at 50k events, the cost of a session's open); this is the one other
statement of the rule, and a property test holds every path to the same answers.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import bad_row_error
from .events import state_arrays
from .schema import CHUNK, KIND_CODE_SQL, KIND_CODES

if TYPE_CHECKING:
    from .labelstore import LabelStore

_STATE = f"seq, idx, {KIND_CODE_SQL}, COALESCE(label, -1)"


def max_seq(c: sqlite3.Connection) -> int:
    """The newest event's ``seq`` on ``c`` (0 for an empty log)."""
    return int(c.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0])


def changed_since(store: LabelStore, seq: int) -> tuple[int, np.ndarray]:
    """Items whose state may have changed after event ``seq``.

    With :meth:`effective_for`, this replays only what changed: keep the returned
    ``new_seq``, and on the next call pass it back. The cost depends on the number of new
    events, not on the size of the log.

    Parameters
    ----------
    seq : int
        A value returned by :meth:`max_seq` or by an earlier call (0: from the start).

    Returns
    -------
    new_seq : int
        :meth:`max_seq` on the same snapshot of the store.
    indices : ndarray of shape (m,), int64
        Sorted pool indices touched by events with ``seq`` greater than the one given,
        including the items of submits undone by those events.

    Examples
    --------
    >>> from alwidget.store import LabelEvent, LabelStore
    >>> store = LabelStore(":memory:")
    >>> store.append([LabelEvent(3, 0), LabelEvent(7, 1)], "ann")
    1
    >>> seen, changed = store.changed_since(0)
    >>> seen, changed
    (2, array([3, 7]))
    >>> store.append([LabelEvent(5, 1)], "ann")
    2
    >>> store.changed_since(seen)  # only what came after
    (3, array([5]))
    """
    seq = int(seq)

    def q(c: sqlite3.Connection) -> tuple[int, np.ndarray]:
        top = max_seq(c)
        if top <= seq:
            return top, np.empty(0, dtype=np.int64)
        rows = c.execute(
            "SELECT idx FROM events WHERE seq > ? AND seq <= ? AND idx IS NOT NULL "
            "UNION SELECT e.idx FROM events AS u JOIN events AS e ON e.submit = u.submit "
            "WHERE u.seq > ? AND u.seq <= ? AND u.kind = 'undo' AND e.kind != 'undo' "
            "AND e.idx IS NOT NULL",
            (seq, top, seq, top),
        ).fetchall()
        try:
            idx = np.asarray([r[0] for r in rows], dtype=np.int64)
        except (TypeError, ValueError):
            what = f"an event after seq={seq} has a non-integer idx"
            raise bad_row_error(store.path, what) from None
        return top, np.unique(idx)

    return store._read_tx(q)


def effective_for(
    store: LabelStore, indices: Sequence[int] | np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The effective state of some items under the ``"latest"`` policy.

    The newest answer in effect (not undone) of each item, or a skip if the item has no
    answer in effect (the ``effective_state`` view). Reads only the events of these items
    (through the item index), so the cost does not grow with the log.

    Parameters
    ----------
    indices : array-like of int
        Pool indices (repeats allowed).

    Returns
    -------
    idx : ndarray of shape (m,), int64
        The unique indices, sorted.
    kind : ndarray of shape (m,), int8
        0 = label, 1 = unsure, 2 = skip, -1 = no event in effect.
    label : ndarray of shape (m,), int64
        Class code of label states, -1 otherwise.

    Raises
    ------
    ValueError
        If an index is outside the pool (once the store is bound).
    StoreCorruptError
        If a row read names a class code outside the classes.

    Examples
    --------
    >>> from alwidget.store import LabelEvent, LabelStore
    >>> store = LabelStore(":memory:")
    >>> store.append([LabelEvent(1, 2), LabelEvent(2, None, kind="skip")], "ann")
    1
    >>> idx, kind, label = store.effective_for([2, 1, 0])
    >>> idx.tolist(), kind.tolist(), label.tolist()
    ([0, 1, 2], [-1, 0, 2], [-1, 2, -1])
    """
    store._prepare("reading")
    n = store._n
    idx = np.unique(np.asarray(indices, dtype=np.int64).ravel())
    if n is not None and idx.size and (idx[0] < 0 or idx[-1] >= n):
        raise ValueError(f"indices must be in 0..{n - 1}")
    kind = np.full(idx.size, -1, dtype=np.int8)
    label = np.full(idx.size, -1, dtype=np.int64)
    if idx.size == 0:
        return idx, kind, label
    rows: list[tuple[Any, ...]] = []
    for i in range(0, idx.size, CHUNK):
        chunk = idx[i : i + CHUNK].tolist()
        marks = ",".join("?" * len(chunk))
        rows += store._read(f"SELECT {_STATE} FROM effective_state WHERE idx IN ({marks})", chunk)
    _, ridx, rkind, rlabel = state_arrays(store.path, rows, n, store._k)
    pos = np.searchsorted(idx, ridx)
    kind[pos], label[pos] = rkind, rlabel
    return idx, kind, label


def effective_arrays(store: LabelStore) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The effective state of every item with one, under the ``"latest"`` policy.

    The fast path behind :meth:`current` with ``policy="latest"`` (no pandas); one row
    per item: its newest answer in effect, or its newest skip if it has no answer (the
    ``effective_state`` view's rule, applied with numpy to ``live_events``).
    :meth:`changed_since` with :meth:`effective_for` update it incrementally.

    Returns
    -------
    idx : ndarray of shape (m,), int64
        Distinct pool indices, in the order of their deciding event.
    kind : ndarray of shape (m,), int8
        0 = label, 1 = unsure, 2 = skip.
    label : ndarray of shape (m,), int64
        Class code of label events, -1 otherwise.

    Raises
    ------
    StoreCorruptError
        If an event names an item outside the pool or a class code outside the classes.

    Examples
    --------
    >>> from alwidget.store import LabelEvent, LabelStore
    >>> store = LabelStore(":memory:")
    >>> store.append([LabelEvent(4, 1), LabelEvent(2, None, kind="unsure")], "ann")
    1
    >>> store.append([LabelEvent(4, 0)], "bob")  # the newest answer counts
    2
    >>> [a.tolist() for a in store.effective_arrays()]
    [[2, 4], [1, 0], [-1, 0]]
    """
    store._prepare("reading")
    rows = store._read(f"SELECT {_STATE} FROM live_events ORDER BY seq")
    _, idx, kind, label = state_arrays(store.path, rows, store._n, store._k)
    keep = _latest_positions(idx, kind)
    return idx[keep], kind[keep], label[keep]


def n_submits(store: LabelStore) -> int:
    """The round: submits in effect that hold at least one class label.

    A submit of only "unsure" answers or skips is not a round; imports and undone
    submits do not count. Counted incrementally (only events since the previous call are
    read), so the cost does not grow with the log.

    Returns
    -------
    int
        Number of such submits.

    Examples
    --------
    >>> from alwidget.store import LabelEvent, LabelStore
    >>> store = LabelStore(":memory:")
    >>> store.append([LabelEvent(0, 1)], "ann")
    1
    >>> store.append([LabelEvent(1, None, kind="unsure")], "ann")  # not a round
    2
    >>> store.n_submits()
    1
    """
    # imported labels, corrections from a label review and rule labels (weak, source
    # 'rule:<name>') are not rounds
    counted = (
        "kind = 'label' AND COALESCE(source, '') NOT IN ('import', 'review') "
        "AND COALESCE(source, '') NOT LIKE 'rule:%'"
    )

    def q(c: sqlite3.Connection) -> tuple[int, int]:
        top = max_seq(c)
        last, count = store._rounds
        if top < last:  # the log is shorter than before (a restored file): count again
            last, count = 0, 0
        if top == last:
            return top, count
        # new counted events of submits in effect (live_events: on this snapshot)
        added = c.execute(
            f"SELECT COUNT(DISTINCT submit) FROM live_events WHERE seq > ? AND {counted}",
            (last,),
        ).fetchone()[0]
        # submits counted at `last` that a newer undo took back: the state at an earlier
        # seq, so not the live_events view (which is "not undone" now)
        removed = c.execute(
            "SELECT COUNT(DISTINCT u.submit) FROM events AS u WHERE u.kind = 'undo' "
            "AND u.seq > ? AND EXISTS (SELECT 1 FROM events AS e WHERE "
            f"e.submit = u.submit AND e.seq <= ? AND e.{counted}) AND NOT EXISTS (SELECT 1 "
            "FROM events AS v WHERE v.kind = 'undo' AND v.submit = u.submit AND v.seq <= ?)",
            (last, last, last),
        ).fetchone()[0]
        return top, count + int(added) - int(removed)

    with store._lock:
        store._rounds = store._read_tx(q)
        return store._rounds[1]


def _latest_positions(idx: np.ndarray, kind: np.ndarray) -> np.ndarray:
    """Rows of the ``effective_state`` view, from live events in log order (vectorised).

    The view's rule for whole-log reads (measured ~3x faster than the view's window
    function at 50k events): per item its newest answer, or its newest skip if it has no
    answer. A property test holds the two to agreement.

    Parameters
    ----------
    idx : ndarray of shape (m,), int64
        Pool index of each live event, oldest first.
    kind : ndarray of shape (m,), int8
        Kind codes (:data:`KIND_CODES`).

    Returns
    -------
    ndarray of shape (k,), int64
        Positions of the deciding events, ascending (log order).
    """
    pos = np.arange(idx.size, dtype=np.int64)[::-1]  # newest first
    ans = kind[::-1] < KIND_CODES["skip"]
    a_pos = pos[ans]
    _, first = np.unique(idx[a_pos], return_index=True)
    chosen = a_pos[first]
    s_pos = pos[~ans]
    s_pos = s_pos[~np.isin(idx[s_pos], idx[chosen])]
    _, first = np.unique(idx[s_pos], return_index=True)
    return np.sort(np.concatenate([chosen, s_pos[first]]))
