"""Checking and preparing the arguments of :class:`~alwidget.Session` (before any file is
created or changed)."""

from __future__ import annotations

import re
import warnings
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression

from .errors import AlwidgetWarning
from .store import POLICIES, LabelStore, fingerprint
from .strategies import Strategy, available_strategies, get_strategy
from .validation import (
    as_features,
    check_batch_size,
    check_sparse,
    dense_embedding,
    is_sparse,
    sparse_fingerprint,
)

__all__ = [
    "default_estimator",
    "default_store_path",
    "prepare_pool",
    "check_options",
    "check_estimator",
    "open_store",
    "resolve_strategy",
]

#: The strategy of a new session (see :class:`~alwidget.Session`).
DEFAULT_STRATEGY = "margin"


#: Cold-start rules of :func:`alwidget.selection.cold_start_pick`.
COLD_STARTS = ("random", "diverse", "typiclust", "probcover")
#: The cold start of a new session: TypiClust's first batch beat a random one, paired over 10
#: seeds, on 7 of the 8 feature sets of docs/strategies.md ("Fewer labels on real data") and
#: was not significantly behind on the eighth.
DEFAULT_COLD_START = "typiclust"


def default_estimator(sparse: bool = False) -> Any:
    """``make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))``: scaling keeps
    features in different units (table rows) from dominating the model. For a sparse pool
    the scaler does not centre (``with_mean=False``), which would densify it.

    Examples
    --------
    >>> [name for name, _ in default_estimator().steps]
    ['standardscaler', 'logisticregression']
    """
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(with_mean=not sparse), LogisticRegression(max_iter=1000))


def default_store_path(name: str | None, fp: str) -> str:
    """``alwidget-<name>.sqlite`` (name reduced to letters, digits, ``-_.``), or
    ``alwidget-<first 10 hex of the data fingerprint>.sqlite``, in the working directory.

    Examples
    --------
    >>> default_store_path("my run/1", "0123456789abcdef")
    'alwidget-my_run_1.sqlite'
    >>> default_store_path(None, "0123456789abcdef")
    'alwidget-0123456789.sqlite'
    """
    if name:
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", str(name)).strip("._") or fp[:10]
        return f"alwidget-{safe}.sqlite"
    return f"alwidget-{fp[:10]}.sqlite"


def prepare_pool(X: Any, embedding: Any) -> tuple[Any, np.ndarray, str]:
    """What the estimator sees, the dense geometry and the data fingerprint of a pool.

    Returns
    -------
    X_fit : X as given (a sparse matrix checked, a DataFrame kept for Pipelines)
    X_geo : ndarray of shape (n_samples, n_dims)
        ``X`` itself if dense, else ``embedding`` (default a truncated SVD of X).
    fp : str
        Fingerprint of the pool (ties the label store to it).

    Raises
    ------
    ValueError
        On NaN/inf, an embedding with another number of rows, or fewer than 2 items.

    Examples
    --------
    >>> X_fit, X_geo, fp = prepare_pool(np.zeros((3, 2)), None)
    >>> X_geo.shape, len(fp) > 10
    ((3, 2), True)
    """
    if is_sparse(X):  # what the estimator sees: sparse as is; geometry: a dense embedding
        X_fit = check_sparse(X)
        fp = sparse_fingerprint(X_fit)
        X_geo = as_features(dense_embedding(X_fit) if embedding is None else embedding)
        if X_geo.shape[0] != X_fit.shape[0]:
            raise ValueError(
                f"embedding has {X_geo.shape[0]} rows; X has {X_fit.shape[0]}: pass "
                "one row per item"
            )
    else:
        X_fit, X_geo = X, as_features(X)
        fp = fingerprint(X_geo)
    if X_geo.shape[0] < 2:
        raise ValueError(f"the pool needs at least 2 items; X has {X_geo.shape[0]}")
    return X_fit, X_geo, fp


def check_options(
    n: int, batch_size: int, cold_start: str, label_policy: str, unsure_neighbours: int
) -> int:
    """Check the options of a session; return the batch size to use (clipped to ``n`` with
    an :class:`AlwidgetWarning`).

    Raises
    ------
    ValueError
        On a bad batch size, cold-start rule, label policy or neighbour count.

    Examples
    --------
    >>> check_options(100, 10, "random", "latest", 5)
    10
    """
    batch_size = check_batch_size(batch_size)
    if batch_size > n:
        warnings.warn(
            f"batch_size={batch_size} is larger than the pool ({n}); using {n}",
            AlwidgetWarning,
            stacklevel=3,
        )
        batch_size = n
    if cold_start not in COLD_STARTS:
        raise ValueError(f"cold_start must be one of {COLD_STARTS}; got {cold_start!r}")
    if label_policy not in POLICIES:
        raise ValueError(f"label_policy must be one of {POLICIES}; got {label_policy!r}")
    if int(unsure_neighbours) < 0:
        raise ValueError(f"unsure_neighbours must be >= 0; got {unsure_neighbours}")
    return int(batch_size)


def check_estimator(estimator: Any, sparse: bool) -> Any:
    """The estimator to use (default :func:`default_estimator`).

    Raises
    ------
    TypeError
        If it has neither ``predict_proba`` nor ``decision_function``.

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression
    >>> type(check_estimator(None, sparse=False)).__name__
    'Pipeline'
    >>> check_estimator(LinearRegression(), sparse=False)
    Traceback (most recent call last):
    ...
    TypeError: LinearRegression has neither predict_proba nor decision_function; ...
    """
    if estimator is None:
        return default_estimator(sparse=sparse)
    if not (hasattr(estimator, "predict_proba") or hasattr(estimator, "decision_function")):
        raise TypeError(
            f"{type(estimator).__name__} has neither predict_proba nor decision_function; "
            "pass a scikit-learn classifier (for SVC use probability=True, or wrap it in "
            "sklearn.calibration.CalibratedClassifierCV)"
        )
    return estimator


def open_store(
    store: Any, name: str | None, fp: str, n: int, classes: Any, prefix: Any = None
) -> tuple[LabelStore, bool]:
    """Open (or take) the label store and bind it to the pool.

    ``prefix(m)`` (optional) gives the fingerprint of the pool's first ``m`` items: a store
    made for a smaller pool that grew into this one is then accepted (see
    :meth:`LabelStore.bind`).

    Returns
    -------
    store : LabelStore
    own : bool
        True if opened here (then the session closes it).

    Raises
    ------
    StoreMismatchError, StoreCorruptError, StoreLockedError, StoreReadOnlyError
        As :meth:`LabelStore.bind`; a store opened here is closed again first.

    Examples
    --------
    >>> store, own = open_store(":memory:", None, "fp-of-the-pool", 10, ["a", "b"])
    >>> own, store.path
    (True, ':memory:')
    >>> store.close()
    """
    if isinstance(store, LabelStore):
        store.bind(fp, n, classes, prefix=prefix)
        return store, False
    st = LabelStore(default_store_path(name, fp) if store is None else store)
    try:
        st.bind(fp, n, classes, prefix=prefix)
    except Exception:
        st.close()
        raise
    return st, True


def resolve_strategy(store: LabelStore, strategy: Any) -> Strategy:
    """The session's strategy: ``strategy`` (a name, ``Strategy`` or score function), or for
    None the one saved in ``store`` (else ``"margin"``); saved in the store for next time.

    Raises
    ------
    ValueError, ImportError, TypeError
        As :func:`alwidget.strategies.get_strategy` (unknown name, missing extra, bad object).

    Examples
    --------
    >>> from alwidget.store import LabelStore
    >>> store = LabelStore(":memory:")
    >>> resolve_strategy(store, None).name, resolve_strategy(store, "entropy").name
    ('margin', 'entropy')
    >>> resolve_strategy(store, None).name  # resumed
    'entropy'
    """
    if strategy is None:
        saved = store.get_meta("strategy")
        strategy = saved if saved in available_strategies() else DEFAULT_STRATEGY
    st = get_strategy(strategy)
    if store.get_meta("strategy") != st.name:
        store.set_meta("strategy", st.name)
    return st
