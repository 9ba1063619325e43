"""What a store holds: :class:`LabelEvent`, the pool :func:`fingerprint`, and the decoding
and validation of rows read back (a damaged or hand-edited row raises
:class:`StoreCorruptError` naming it)."""

from __future__ import annotations

import getpass
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import numpy as np
import pandas as pd

from .errors import bad_row_error
from .schema import EVENT_KINDS, KIND_CODES


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

    Examples
    --------
    >>> import numpy as np
    >>> from alwidget.store import fingerprint
    >>> X = np.arange(6.0).reshape(3, 2)
    >>> len(fingerprint(X))
    64
    >>> fingerprint(X) == fingerprint(X.astype(np.float32))
    True
    >>> fingerprint(X) == fingerprint(X.reshape(2, 3))
    False
    """
    X = np.asarray(X)
    h = hashlib.sha256(json.dumps(list(X.shape)).encode())
    # by row blocks of at most 32 MB: the same bytes as the whole float64 array, without a
    # float64 copy of the pool (a 1M x 50 float32 pool: 0.8 GB of temporaries before)
    rows_per_block = max(1, (32 << 20) // max(1, 8 * int(np.prod(X.shape[1:]))))
    for i in range(0, max(1, X.shape[0]), rows_per_block):
        h.update(np.ascontiguousarray(X[i : i + rows_per_block], dtype=np.float64).data)
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

    Examples
    --------
    >>> from alwidget.store import LabelEvent
    >>> LabelEvent(idx=3, label=1, strategy="margin", score=0.02)
    LabelEvent(idx=3, label=1, kind='label', round=None, strategy='margin', score=0.02, rank=None, model_version=None, source='batch')
    >>> LabelEvent(idx=4, label=None, kind="unsure").kind
    'unsure'
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


def now() -> str:
    """The current UTC time, ISO 8601 with microseconds (the ``ts`` column)."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def default_annotator() -> str:
    """The operating-system user name, or ``"unknown"`` if there is none."""
    try:
        return getpass.getuser()
    except Exception:  # no user database entry (some containers)
        return "unknown"


def as_int(v: Any) -> int | None:
    """``v`` as an int if it is a whole number (int, numpy integer or whole float), else None."""
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return int(v)
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return int(v)
    return None


def describe_bad(seq: Any, kind: Any, idx: Any, label: Any, submit: Any, *, n: int, k: int) -> str:
    """Name a bad event row and what is wrong with it (for :class:`StoreCorruptError`)."""
    seq = as_int(seq)
    idx = as_int(idx) if as_int(idx) is not None else idx
    label = as_int(label) if as_int(label) is not None else label
    where = f"event seq={seq} (kind {kind!r}, idx {idx!r}, label {label!r})"
    if kind not in EVENT_KINDS:
        return f"{where} has an unknown kind; kinds are {', '.join(EVENT_KINDS)}"
    if as_int(submit) is None:
        return f"{where} has submit id {submit!r}, not an integer"
    if kind != "undo" and (not isinstance(idx, int) or not 0 <= idx < n):
        return f"{where} names item {idx!r}, outside this pool's indices 0..{n - 1}"
    return f"{where} has class code {label!r}, outside the {k} classes' codes 0..{k - 1}"


def state_arrays(
    path: str, rows: list[tuple[Any, ...]], n: int | None, k: int | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Decode rows of (seq, idx, kind code, label) into int arrays, range-checked.

    Parameters
    ----------
    path : str
        The store (named in an error).
    rows : list of tuple
        Rows of those four columns.
    n, k : int or None
        Pool size and number of classes (None: not bound yet, no range check).

    Returns
    -------
    seq, idx, label : ndarray of shape (m,), int64
    kind : ndarray of shape (m,), int8

    Raises
    ------
    StoreCorruptError
        Naming the first row with a NULL or text number, an item outside the pool or a class
        code outside the classes.
    """
    if not rows:
        e = np.empty(0, dtype=np.int64)
        return e, e, e.astype(np.int8), e
    try:
        a = np.asarray(rows, dtype=np.int64)
    except (TypeError, ValueError):  # a NULL or text where a number belongs
        for r in rows:
            if not all(isinstance(v, int) for v in r):
                raise bad_row_error(
                    path,
                    f"event seq={r[0]} holds idx {r[1]!r} and label {r[3]!r}; both must be integers",
                ) from None
        raise
    seq, idx, kind, label = a[:, 0], a[:, 1], a[:, 2].astype(np.int8), a[:, 3]
    if n is not None and k is not None:
        bad = (idx < 0) | (idx >= n) | ((kind == 0) & ((label < 0) | (label >= k)))
        if bad.any():
            j = int(np.argmax(bad))
            name = {v: c for c, v in KIND_CODES.items()}.get(int(kind[j]), "?")
            what = describe_bad(int(seq[j]), name, int(idx[j]), int(label[j]), 0, n=n, k=k)
            raise bad_row_error(path, what)
    return seq, idx, kind, label


def check_frame(path: str, df: pd.DataFrame, n: int | None, k: int | None) -> pd.DataFrame:
    """Range-check event rows read as a DataFrame (vectorised); returns ``df``.

    Raises
    ------
    StoreCorruptError
        Naming the first row whose item is outside the pool, or whose class code (of a label
        event) is outside the classes.
    """
    if n is None or k is None or df.empty:
        return df
    idx = pd.to_numeric(df["idx"], errors="coerce").to_numpy(dtype=np.float64)
    label = pd.to_numeric(df["label"], errors="coerce").to_numpy(dtype=np.float64)
    is_label = (df["kind"] == "label").to_numpy()
    with np.errstate(invalid="ignore"):  # NaN (NULL or text) compares False: bad
        bad = ~((idx >= 0) & (idx < n) & (idx == np.floor(idx)))
        bad |= is_label & ~((label >= 0) & (label < k) & (label == np.floor(label)))
    if bad.any():
        r = df.iloc[int(np.argmax(bad))]
        raise bad_row_error(
            path, describe_bad(r["seq"], r["kind"], r["idx"], r["label"], 0, n=n, k=k)
        )
    return df
