"""A pool that grows: new items appended to a running session (stream-based labeling).

:func:`add_items` appends rows to a session's pool under its lock: the features, the label
and status arrays, the excluded mask, the model's probabilities (the current model scores
the new rows at once) and the store's binding, which records the growth so that a session
resumed on the grown pool is accepted, and one on anything else refused as before
(:meth:`alwidget.store.LabelStore.grow`). Labels of the existing items never move: new items
get the next indices.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .selection import UnsureNeighbours
from .store import fingerprint
from .validation import as_features, is_sparse

__all__ = ["add_items", "prefix_fingerprint"]


def prefix_fingerprint(X_geo: np.ndarray) -> Any:
    """``m -> fingerprint(X_geo[:m])``: how a store checks that a pool grew from its data."""
    return lambda m: fingerprint(X_geo[: int(m)])


def _new_rows(session: Any, X_new: Any) -> tuple[Any, np.ndarray]:
    """Validate the new rows against the pool; return them as the estimator and the geometry
    see them."""
    if is_sparse(session.X_fit) or is_sparse(X_new):
        raise ValueError(
            "add_items supports dense feature pools; a sparse pool's geometry is a truncated "
            "SVD fitted on the first items. Start a new session (store=...) on the grown pool."
        )
    if session.X_fit is not session.X and not isinstance(session.X_fit, pd.DataFrame):
        raise ValueError(
            "add_items cannot extend a session made with embedding=: start a new session on "
            "the grown pool with the grown embedding"
        )
    if isinstance(session.X_fit, pd.DataFrame):
        new_fit = X_new if isinstance(X_new, pd.DataFrame) else pd.DataFrame(X_new)
        if list(new_fit.columns) != list(session.X_fit.columns):
            raise ValueError(
                f"the new rows need the pool's columns {list(session.X_fit.columns)}; got "
                f"{list(new_fit.columns)}"
            )
    else:
        new_fit = X_new
    geo = as_features(new_fit)
    if geo.shape[1] != session.X.shape[1]:
        raise ValueError(
            f"the new items have {geo.shape[1]} features; the pool has {session.X.shape[1]}"
        )
    if geo.shape[0] == 0:
        raise ValueError("no items to add: X_new has 0 rows")
    return new_fit, geo.astype(session.X.dtype, copy=False)


def add_items(session: Any, X_new: Any) -> np.ndarray:
    """Append items to the pool of a running session (see :meth:`alwidget.Session.add_items`).

    Parameters
    ----------
    session : Session
    X_new : ndarray or DataFrame of shape (m, n_features)
        Features of the new items, as the pool's (same columns, numeric, finite).

    Returns
    -------
    ndarray of shape (m,), int64
        Pool indices of the new items (``n_samples_before .. n_samples_after - 1``).

    Raises
    ------
    ValueError
        If the rows do not match the pool (feature count, columns), are empty or not finite,
        or the pool is sparse / has a separate ``embedding``.
    SessionClosedError
        If the session is closed.
    StoreLockedError, StoreReadOnlyError, StoreWriteError
        If the store cannot record the growth; the session is then unchanged.
    """
    with session._lock:
        session._check_live()
        new_fit, geo = _new_rows(session, X_new)
        n_old, m = session.n_samples, geo.shape[0]
        X_geo = np.vstack([session.X, geo])
        if isinstance(session.X_fit, pd.DataFrame):
            X_fit: Any = pd.concat([session.X_fit, new_fit], ignore_index=True)
        else:
            X_fit = X_geo
        fp = fingerprint(X_geo)
        session.store.grow(fp, n_old + m)  # first: a refused write changes nothing
        session.X_fit, session.X, session.fingerprint = X_fit, X_geo, fp
        _grow_parts(session, geo if X_fit is X_geo else new_fit, m)
    # outside the lock: a view redraws on "grow" and takes its own lock first, then this one
    session._emit("grow")
    return np.arange(n_old, n_old + m, dtype=np.int64)


def _grow_parts(session: Any, new_fit: Any, m: int) -> None:
    """Extend every per-item array of the session's parts by ``m`` new, unlabeled items."""
    ls = session.label_state
    ls.n_samples += m
    ls.y = np.concatenate([ls.y, np.full(m, -1, dtype=ls.y.dtype)])
    ls.status = np.concatenate([ls.status, np.zeros(m, dtype=ls.status.dtype)])
    b = session.batches
    b.excluded = np.concatenate([b.excluded, np.zeros(m, dtype=bool)])
    b.held = np.concatenate([b.held, np.zeros(m, dtype=bool)])
    b._near = UnsureNeighbours(session.X, session.unsure_neighbours)
    mo = session.models
    mo._model_y = np.concatenate([mo._model_y, np.full(m, -1, dtype=np.int64)])
    mo._unc_cache = None
    if mo.proba is not None and mo.model is not None:
        from .training import predict_proba_full

        extra = predict_proba_full(mo.model, new_fit, len(session.classes))
        mo.proba = np.vstack([mo.proba, extra.astype(mo.proba.dtype, copy=False)])
