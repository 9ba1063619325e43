"""The exceptions and the warning class of alwidget's labeling loop."""

from __future__ import annotations

__all__ = ["AlwidgetWarning", "StaleBatchError", "SessionClosedError", "PoolUnavailableError"]


class AlwidgetWarning(UserWarning):
    """Warnings raised by alwidget (turned into errors in its own test suite).

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     warnings.warn("batch_size clipped", AlwidgetWarning)
    >>> w[0].category.__name__
    'AlwidgetWarning'
    """


class StaleBatchError(ValueError):
    """An action was made on a batch that is no longer the current one; nothing was recorded.

    The browser may still show an older batch for a moment (a submit from the keyboard, a
    reload); every action carries the id of the batch it was made on and the session refuses
    one made on another batch, so a click is never stored for an item that was not on that
    card.

    Examples
    --------
    >>> import numpy as np, alwidget
    >>> with alwidget.Session(np.eye(4), classes=["a", "b"], store=":memory:",
    ...                       batch_size=2) as s:
    ...     old = s.batch.id
    ...     _ = s.requery()  # a new batch: actions on the old one are refused
    ...     try:
    ...         s.submit({int(s.query()[0]): "a"}, batch_id=old)
    ...     except alwidget.StaleBatchError:
    ...         print("stale; nothing recorded:", s.n_labeled)
    stale; nothing recorded: 0
    """


class SessionClosedError(RuntimeError):
    """The session was closed (:meth:`Session.close`, or a newer session on the same store
    in this process replaced it); start a new session to go on. Nothing was recorded.

    Examples
    --------
    >>> import numpy as np, alwidget
    >>> s = alwidget.Session(np.eye(4), classes=["a", "b"], store=":memory:", batch_size=2)
    >>> s.close()
    >>> try:
    ...     s.submit({int(s.query()[0]): "a"})
    ... except alwidget.SessionClosedError:
    ...     print("closed")
    closed
    """


class PoolUnavailableError(RuntimeError):
    """The pool's Dask cluster cannot be reached (closed, or its scheduler is gone).

    Raised by a query, a retrain or any step that needs the pool's rows on a session over a
    Dask array (:mod:`alwidget.dask_session`). Every label is kept: answers are written to the
    local store before the pool is touched. Reconnect (a new session on the same store and a
    live cluster resumes), or go on with :meth:`alwidget.Session.to_local` on a seeded local
    sample that holds every labeled item.

    Examples
    --------
    >>> try:
    ...     raise PoolUnavailableError("the Dask cluster of this pool is gone")
    ... except RuntimeError as e:
    ...     print(type(e).__name__)
    PoolUnavailableError
    """
