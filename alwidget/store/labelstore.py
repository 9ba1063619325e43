"""The :class:`LabelStore`: one SQLite connection, its lock and transactions, opening and
binding checks; reads, writes and durability are delegated to the sibling modules."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import durability, frames, reads, schema, writes
from .connection import StoreConnection
from .errors import StoreError, bad_row_error
from .events import KIND_CODES, LabelEvent, describe_bad


class LabelStore(StoreConnection):
    """Append-only label log in one SQLite file.

    Opening a store only reads it: an existing store is upgraded to the current schema and
    switched to WAL mode when it is first written or bound (:meth:`bind`), so a store that is
    refused (made for other data, damaged) is left exactly as it was.

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
        If another process holds the write lock for longer than ``timeout`` while a new store
        is being set up.

    Warns
    -----
    StoreWarning
        If the store holds fewer events than were committed to it (see :class:`StoreWarning`).

    Examples
    --------
    >>> import numpy as np
    >>> from alwidget.store import LabelEvent, LabelStore, fingerprint
    >>> X = np.zeros((4, 2))
    >>> store = LabelStore(":memory:")
    >>> store.bind(fingerprint(X), len(X), ["cat", "dog"])
    >>> store.append([LabelEvent(idx=2, label=1)], annotator="ann", session_id="s1")
    1
    >>> store.effective_for([2, 3])
    (array([2, 3]), array([ 0, -1], dtype=int8), array([ 1, -1]))
    >>> store.undo_last(session_id="s1")
    1
    """

    # -- metadata -----------------------------------------------------------------------
    def set_meta(self, key: str, value: str) -> None:
        """Set a metadata value (committed at once).

        Raises
        ------
        StoreLockedError, StoreReadOnlyError, StoreWriteError
            If the store cannot be written now (``error.pending`` is ``{key: value}``).
        """
        self._write(lambda c: schema.set_meta(c, key, value), f"saving {key}", {key: value})

    def bind(
        self,
        fp: str,
        n_samples: int,
        classes: Sequence[str],
        *,
        prefix: Callable[[int], str] | None = None,
    ) -> None:
        """Tie the store to one pool, or check that it is the pool it was made for.

        Everything is checked before anything is written: a refused store is left exactly as
        it was (schema, journal mode, bytes). Only then is an older store upgraded to the
        current schema and switched to WAL mode.

        Parameters
        ----------
        fp : str
            :func:`fingerprint` of the pool's features.
        n_samples : int
            Pool size.
        classes : sequence of str
            Class names, in code order.
        prefix : callable, optional
            ``prefix(m) -> fingerprint of the pool's first m items``. With it, a pool that
            **grew** since the store was made (more items, the first ones unchanged: see
            :meth:`grow`) is accepted and the growth recorded.

        Raises
        ------
        StoreMismatchError
            If the store holds labels for other data or other classes (or for a larger
            pool than this one). Nothing is changed.
        StoreCorruptError
            If its metadata is not valid (junk JSON in ``classes`` or ``excluded``), or an
            event names an item outside the pool, a class code outside the classes or an
            unknown kind. The message names the row. Nothing is changed.

        Examples
        --------
        >>> from alwidget.store import LabelStore, StoreMismatchError
        >>> store = LabelStore(":memory:")
        >>> store.bind("f" * 64, 10, ["cat", "dog"])
        >>> store.bind("f" * 64, 10, ["cat", "dog"])  # the same data: accepted
        >>> try:
        ...     store.bind("f" * 64, 10, ["dog", "cat"])
        ... except StoreMismatchError:
        ...     print("refused")
        refused
        """
        classes = [str(c) for c in classes]
        n = int(n_samples)
        with self._lock:
            meta = dict(self._read("SELECT key, value FROM meta"))
            grown = schema.grown_from(meta, fp, n, prefix)
            try:
                schema.check_binding(self.path, meta, fp if grown is None else grown[1], n, classes)
            except StoreError:
                raise
            except ValueError as exc:  # a damaged meta row
                raise bad_row_error(self.path, str(exc)) from None
            bad = schema.first_bad_event(self._read, n, len(classes))
            if bad is not None:
                raise bad_row_error(self.path, describe_bad(*bad, n=n, k=len(classes)))
            if "fingerprint" not in meta:
                self._write(
                    lambda c: schema.init_meta(c, fp, n, classes), "binding the store to this data"
                )
            else:
                self._prepare("opening the store")
                if grown is not None:
                    self._write(
                        lambda c: schema.record_growth(c, meta, fp, n),
                        "recording the pool's growth",
                    )
            self._n, self._k = n, len(classes)

    def grow(self, fp: str, n_samples: int) -> None:
        writes.grow(self, fp, n_samples)

    def growth(self) -> list[tuple[int, str]]:
        return writes.growth(self)

    grow.__doc__ = writes.grow.__doc__
    growth.__doc__ = writes.growth.__doc__

    # -- writes -------------------------------------------------------------------------
    def append(
        self,
        events: Iterable[LabelEvent],
        annotator: str,
        *,
        pending: Any = None,
        session_id: str | None = None,
    ) -> int:
        """Append events as one submit, committed to disk before returning.

        Each event records the item's previous effective answer (``prev_kind``,
        ``prev_label``, under the ``"latest"`` policy), so an update of an earlier label or a
        relabel of an "unsure" item is recorded as such. After the commit the WAL is folded
        into the named file, so a copy of that file alone holds this submit.

        Parameters
        ----------
        events : iterable of LabelEvent
            The events of one submit.
        annotator : str
            Who answered.
        pending : object, optional
            Attached to the :class:`StoreError` raised if the write fails.
        session_id : str, optional
            The writing session (recorded with every event; see :meth:`undo_last`).

        Returns
        -------
        int
            The submit id of this group of events.

        Raises
        ------
        ValueError
            On an unknown event kind, or (once bound) an index outside the pool.
        StoreLockedError, StoreReadOnlyError, StoreWriteError
            Nothing was written; ``error.pending`` is ``pending``; retry later.

        Examples
        --------
        >>> from alwidget.store import LabelEvent, LabelStore
        >>> store = LabelStore(":memory:")
        >>> store.bind("f" * 64, 10, ["cat", "dog"])
        >>> store.append([LabelEvent(0, 1), LabelEvent(5, None, kind="unsure")], "ann")
        1
        >>> store.append([LabelEvent(0, 0)], "bob")  # an update of item 0
        2
        >>> store.events()[["submit", "idx", "kind", "label", "prev_label"]]
           submit  idx    kind  label  prev_label
        0       1    0   label    1.0         NaN
        1       1    5  unsure    NaN         NaN
        2       2    0   label    0.0         1.0
        """
        events = list(events)
        for e in events:
            if e.kind not in KIND_CODES:
                raise ValueError(f"unknown event kind {e.kind!r}")
            if self._n is not None and not 0 <= int(e.idx) < self._n:
                raise ValueError(f"index {e.idx} is out of range for a pool of {self._n} items")
        return self._write(
            lambda c: writes.insert_submit(c, events, annotator, session_id),
            f"saving {len(events)} answers",
            pending,
        )

    def undo_last(
        self, annotator: str | None = None, *, session_id: str | None = None
    ) -> int | None:
        """Record an undo of the newest answer submit not already undone.

        Parameters
        ----------
        annotator : str, optional
            Undo this annotator's newest submit (others' answers are untouched); ``None``:
            anyone's.
        session_id : str, optional
            Undo the newest submit written with this ``session_id`` (see :meth:`append`):
            another session's submits on the same store are untouched. ``None``: any
            session's.

        Returns
        -------
        int or None
            The submit id undone, or None if there is nothing to undo.

        Raises
        ------
        StoreLockedError, StoreReadOnlyError, StoreWriteError
            Nothing was written.

        Examples
        --------
        >>> from alwidget.store import LabelEvent, LabelStore
        >>> store = LabelStore(":memory:")
        >>> store.append([LabelEvent(0, 1)], "ann", session_id="a")
        1
        >>> store.append([LabelEvent(1, 0)], "ann", session_id="b")
        2
        >>> store.undo_last(session_id="a")  # session a's own submit, not b's
        1
        >>> store.undo_last(session_id="a") is None  # nothing left to undo for a
        True
        """
        return self._write(lambda c: writes.insert_undo(c, annotator, session_id), "saving an undo")

    def backup(self, path: str | Path) -> Path:
        """Copy the whole store to ``path`` now, consistently, with SQLite's backup API.

        Safe while sessions write to the store; the copy is one self-contained file
        (rollback-journal mode, no ``-wal``) that :meth:`read_events` and a new session can
        open. It is written to a temporary name and renamed, so ``path`` is never half
        written.

        Parameters
        ----------
        path : str or Path
            The copy to write (replaced if it exists; its folder is created); not the store
            itself.

        Returns
        -------
        Path
            The file written.

        Raises
        ------
        ValueError
            If ``path`` is the store's own file.
        StoreWriteError
            If the copy cannot be written (the store itself is untouched).

        Examples
        --------
        >>> import os, tempfile
        >>> from alwidget.store import LabelEvent, LabelStore
        >>> folder = tempfile.mkdtemp()
        >>> store = LabelStore(os.path.join(folder, "labels.sqlite"))
        >>> store.append([LabelEvent(0, 1)], "ann")
        1
        >>> copy = store.backup(os.path.join(folder, "copy.sqlite"))
        >>> LabelStore.read_events(copy)[["idx", "label"]]
           idx  label
        0    0      1
        """
        return durability.backup(self._con, self._lock, self.path, self._memory, Path(path))

    # -- reads --------------------------------------------------------------------------
    def events(self) -> pd.DataFrame:
        """The whole log, oldest first, as a DataFrame with the columns of ``COLUMNS``."""
        self._prepare("reading")
        return pd.DataFrame(
            self._read(f"SELECT {schema.COLS} FROM events ORDER BY seq"), columns=schema.COLUMNS
        )

    @classmethod
    def read_events(cls, path: str | Path) -> pd.DataFrame:
        """Read the log of a store file without writing anything.

        Works on read-only files, on copies (e.g. made with :meth:`backup` or a plain file
        copy) and on stores of older alwidget versions (columns they lack are empty).

        Parameters
        ----------
        path : str or Path
            A store file.

        Returns
        -------
        DataFrame
            The log, oldest first, with the columns of ``COLUMNS``.

        Raises
        ------
        StoreCorruptError
            If the file is not an alwidget label store.
        """
        return frames.read_events(path)

    def undone_submits(self) -> set[int]:
        """Submit ids that were undone."""
        return {int(r[0]) for r in self._read("SELECT submit FROM events WHERE kind='undo'")}

    def max_seq(self) -> int:
        """The newest event's ``seq`` (0 for an empty log); see :meth:`changed_since`."""
        return int(self._read("SELECT COALESCE(MAX(seq), 0) FROM events")[0][0])

    def submit_events(self, sid: int) -> pd.DataFrame:
        """The events of one submit (not its undo), oldest first."""
        self._prepare("reading")
        sql = f"SELECT {schema.COLS} FROM events WHERE submit=? AND kind!='undo' ORDER BY seq"
        return pd.DataFrame(self._read(sql, (sid,)), columns=schema.COLUMNS)

    # Docstrings (with examples) live with the implementations in reads.py and frames.py.
    def changed_since(self, seq: int) -> tuple[int, np.ndarray]:
        return reads.changed_since(self, seq)

    def effective_for(
        self, indices: Sequence[int] | np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return reads.effective_for(self, indices)

    def effective_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return reads.effective_arrays(self)

    def n_submits(self) -> int:
        return reads.n_submits(self)

    def answers(self) -> pd.DataFrame:
        return frames.answers(self)

    def current(self, policy: str = "latest") -> pd.DataFrame:
        return frames.current(self, policy)

    def disagreements(self) -> pd.DataFrame:
        return frames.disagreements(self)

    changed_since.__doc__ = reads.changed_since.__doc__
    effective_for.__doc__ = reads.effective_for.__doc__
    effective_arrays.__doc__ = reads.effective_arrays.__doc__
    n_submits.__doc__ = reads.n_submits.__doc__
    answers.__doc__ = frames.answers.__doc__
    current.__doc__ = frames.current.__doc__
    disagreements.__doc__ = frames.disagreements.__doc__

    def close(self) -> None:
        """Close the connection (everything is already committed)."""
        with self._lock:
            self._con.close()
