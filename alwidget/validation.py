"""Input checks for a :class:`~alwidget.Session`: features, classes, indices, answers.

Every check raises an error that says what to do; nothing here changes any state.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Number
from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils import check_array

__all__ = ["as_features", "ClassNames", "check_index", "check_batch_size", "is_missing", "rows"]


def as_features(X: Any) -> np.ndarray:
    """The pool's features as a 2-D float array, float32 kept as float32 (no copy if possible).

    Parameters
    ----------
    X : array-like or DataFrame of shape (n_samples, n_features)

    Returns
    -------
    ndarray of shape (n_samples, n_features), float32 or float64

    Raises
    ------
    ValueError
        If X is not numeric, not 2-D, has no feature columns, or holds NaN / infinity.
    TypeError
        If X is a scipy sparse matrix (densify it, or reduce it first, see the message).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.ones((3, 2), dtype=np.float32)
    >>> as_features(X).dtype, as_features([[1, 2], [3, 4]]).dtype
    (dtype('float32'), dtype('float64'))
    """
    if is_sparse(X):
        raise TypeError("as_features takes dense features; for a sparse X use dense_embedding(X)")
    arr = X.to_numpy() if isinstance(X, pd.DataFrame) else X
    try:
        arr = np.asarray(arr)
        if arr.dtype.kind not in "fiub":
            arr = arr.astype(np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            "X must be numeric features of shape (n_samples, n_features); encode text or "
            "categories first (e.g. TF-IDF + TruncatedSVD, or one-hot encoding)"
        ) from None
    if arr.ndim != 2:
        raise ValueError(
            f"X must have shape (n_samples, n_features); got shape {arr.shape}. "
            "Flatten images with X.reshape(len(X), -1)."
        )
    if arr.shape[1] == 0:
        raise ValueError(
            f"X has {arr.shape[0]} rows but no feature columns (shape {arr.shape}); pass at "
            "least one numeric feature per item"
        )
    bad = ~np.isfinite(arr) if arr.dtype.kind == "f" else np.zeros(arr.shape, bool)
    if bad.any():
        rows_ = np.flatnonzero(bad.any(axis=1))
        raise ValueError(
            f"X has NaN or infinite values in {rows_.size} rows (first: {rows_[:5].tolist()}); "
            "impute them (sklearn.impute.SimpleImputer) or drop those rows"
        )
    dtype = np.float32 if arr.dtype == np.float32 else np.float64
    return check_array(
        arr, dtype=dtype, ensure_min_samples=0, ensure_min_features=0, ensure_all_finite=False
    )


def is_sparse(X: Any) -> bool:
    """True for a scipy.sparse matrix or array (e.g. what TF-IDF gives)."""
    return hasattr(X, "tocsr") and hasattr(X, "nnz")


def check_sparse(X: Any) -> Any:
    """A sparse pool as CSR with sorted indices, checked like dense features.

    Raises
    ------
    ValueError
        If it is not 2-D with at least one column, or holds NaN / infinity.
    """
    Xs = X.tocsr()
    if Xs.ndim != 2 or Xs.shape[1] == 0:
        raise ValueError(f"X must have shape (n_samples, n_features >= 1); got {Xs.shape}")
    if not np.all(np.isfinite(Xs.data)):
        raise ValueError("X has NaN or infinite values; impute or drop them first")
    if not Xs.has_sorted_indices:
        Xs = Xs.sorted_indices()
    return Xs


def dense_embedding(X: Any, n_components: int = 100, random_state: int = 0) -> np.ndarray:
    """Dense coordinates of a sparse pool for geometry (the map, core-set, BADGE, density):
    a truncated SVD (latent semantic analysis on TF-IDF), computed without densifying X.

    Parameters
    ----------
    X : scipy.sparse matrix of shape (n_samples, n_features)
    n_components : int, default=100
        Clipped to ``n_features - 1`` (at least 1).
    random_state : int, default=0

    Returns
    -------
    ndarray of shape (n_samples, n_components), float32
    """
    from sklearn.decomposition import TruncatedSVD

    k = max(1, min(int(n_components), X.shape[1] - 1, X.shape[0] - 1))
    if X.shape[1] == 1:
        return np.asarray(X.todense(), dtype=np.float32)
    svd = TruncatedSVD(n_components=k, algorithm="randomized", random_state=random_state)
    return svd.fit_transform(X).astype(np.float32)


def sparse_fingerprint(X: Any) -> str:
    """SHA-256 hex digest of a sparse pool (shape and CSR contents), for the label store."""
    import hashlib
    import json

    Xs = X.tocsr()
    Xs.sum_duplicates()
    h = hashlib.sha256(json.dumps(["csr", *map(int, Xs.shape)]).encode())
    for a in (Xs.data.astype(np.float64), Xs.indices.astype(np.int64), Xs.indptr.astype(np.int64)):
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


class ClassNames:
    """The classes of a session: names shown to the user, and how answers map to codes.

    An answer matches a class by name (``"cat"``), by code (``0..k-1`` when no class is
    *named* like that number), or by numeric value: with ``classes=[0.5, 1.5]`` the answer
    ``0.5`` (or ``np.float64(0.5)``, or ``"0.5"``) is the first class; with ``classes=[0, 1]``
    the answers ``0``, ``0.0`` and ``"0"`` all mean class 0.

    Parameters
    ----------
    classes : list, tuple, ndarray or pandas Index
        At least two distinct classes, in code order.

    Raises
    ------
    TypeError
        If ``classes`` is a string (``"spam"`` would be four one-letter classes) or an
        unordered set (its order, hence the codes, would be arbitrary).
    ValueError
        If there are fewer than two classes, two with the same name, or two with the same
        numeric value (``1`` and ``"1.0"``), which would make answers ambiguous.

    Examples
    --------
    >>> c = ClassNames([0, 1, 2])
    >>> c.names, c.code_of("2"), c.code_of(1.0)
    (['0', '1', '2'], 2, 1)
    """

    def __init__(self, classes: Any) -> None:
        if isinstance(classes, (str, bytes)):
            raise TypeError(
                f"classes must be a list of class names, not the string {classes!r} "
                f"(that would be {len(classes)} one-letter classes); e.g. classes=['spam', 'ham']"
            )
        if isinstance(classes, (set, frozenset)) or isinstance(classes, dict):
            raise TypeError(
                "classes must be an ordered sequence (a list or tuple): a set has no fixed "
                "order, so the class codes would change from run to run; e.g. "
                f"classes={sorted(map(str, classes))}"
            )
        try:
            values = list(classes)
        except TypeError:
            raise TypeError(
                f"classes must be a list of class names; got {type(classes).__name__}"
            ) from None
        self.values = values
        self.names = [_name(c) for c in values]
        if len(self.names) < 2:
            raise ValueError(f"need at least 2 classes to learn; got {self.names}")
        if len(set(self.names)) != len(self.names):
            raise ValueError(f"class names must be unique; got {self.names}")
        nums = [_number(c) for c in values]
        seen: dict[float, int] = {}
        for i, v in enumerate(nums):
            if v is None:
                continue
            if v in seen:
                raise ValueError(
                    f"classes {self.names[seen[v]]!r} and {self.names[i]!r} are the same number; "
                    "answers would be ambiguous: give them distinct names"
                )
            seen[v] = i
        self._by_value = seen

    def __len__(self) -> int:
        return len(self.names)

    def code_of(self, label: Any) -> int:
        """Class code of an answer (a name, a code or a numeric value).

        Raises
        ------
        ValueError
            If ``label`` matches no class.
        """
        if isinstance(label, str) and label in self.names:
            return self.names.index(label)
        if isinstance(label, (bool, np.bool_)):
            label = str(label)
            if label in self.names:
                return self.names.index(label)
        else:
            v = _number(label)
            if v is not None and v in self._by_value:
                return self._by_value[v]
            if isinstance(label, (int, np.integer)) and 0 <= int(label) < len(self.names):
                return int(label)  # a class code
        raise ValueError(
            f"unknown class {label!r}; the classes are {self.names} (or their codes "
            f"0..{len(self.names) - 1}, or alwidget.UNSURE)"
        )


def _name(c: Any) -> str:
    return str(c.item()) if isinstance(c, np.generic) else str(c)


def _number(c: Any) -> float | None:
    """The numeric value of a class or answer (``"2"``, ``2``, ``2.0``), or None."""
    if isinstance(c, (bool, np.bool_)):
        return None
    if isinstance(c, (Number, np.number)):
        v = float(c)  # type: ignore[arg-type]
        return v if math.isfinite(v) else None
    if isinstance(c, str):
        try:
            v = float(c.strip())
        except ValueError:
            return None
        return v if math.isfinite(v) else None
    return None


def check_index(raw: Any, n: int) -> int:
    """A pool index as int.

    Raises
    ------
    ValueError
        If ``raw`` is not a whole number in ``0..n-1``.

    Examples
    --------
    >>> import numpy as np
    >>> check_index(np.int64(3), 10)
    3
    >>> check_index(10, 10)
    Traceback (most recent call last):
    ...
    ValueError: ...
    """
    if isinstance(raw, (bool, np.bool_)):
        raise ValueError(f"pool index must be an integer; got {raw!r}")
    if isinstance(raw, (float, np.floating)) and float(raw).is_integer():
        raw = int(raw)
    if not isinstance(raw, (int, np.integer)):
        raise ValueError(f"pool index must be an integer; got {raw!r}")
    idx = int(raw)
    if not 0 <= idx < n:
        raise ValueError(f"index {idx} is out of range for a pool of {n} items")
    return idx


def check_batch_size(batch_size: Any) -> int:
    """A batch size as a positive int.

    Raises
    ------
    ValueError
        If it is not a whole number of at least 1.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
        raise ValueError(f"batch_size must be a whole number of items; got {batch_size!r}")
    if int(batch_size) < 1:
        raise ValueError(f"batch_size must be at least 1; got {batch_size}")
    return int(batch_size)


def is_missing(v: Any) -> bool:
    """True for None, ``""``, NaN and pandas' NA (an entry with no label)."""
    if v is None:
        return True
    if isinstance(v, str):
        return v == ""
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def rows(X: Any, idx: Sequence[int] | np.ndarray) -> Any:
    """Rows ``idx`` of an array or DataFrame / Series (positional)."""
    if isinstance(X, (pd.DataFrame, pd.Series)):
        return X.iloc[np.asarray(idx, dtype=np.int64)]
    return X[np.asarray(idx)] if is_sparse(X) else np.asarray(X)[idx]
