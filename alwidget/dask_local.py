"""Going on without the cluster: a local session on a sample of a Dask session's pool."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["to_local"]


def to_local(
    session: Any,
    sample: int = 100_000,
    *,
    random_state: int = 0,
    store: Any = None,
    **options: Any,
) -> Any:
    """A new local :class:`~alwidget.Session` on a seeded sample of a Dask session's pool that
    holds every answered item, with their answers imported.

    The sample's rows are computed from the pool's recipe on this machine (Dask's threaded
    scheduler: a pool read from files or generated lazily can be recomputed without the
    cluster); if that fails (the rows lived only in the lost cluster's memory), the rows
    already on this machine are used: every labeled, unsure and batch item (fetched for
    fitting and for the cards) and nothing else, with an :class:`AlwidgetWarning`.

    Parameters
    ----------
    session : Session
        A session over a Dask array (``session.dask`` is not None).
    sample : int, default=100_000
        Items drawn uniformly (seeded) besides the answered ones.
    random_state : int, default=0
        Seed of the sample, and the new session's ``random_state``.
    store : str, Path, LabelStore or None
        The new session's store (default: a file named after the sample's fingerprint in the
        working directory). The Dask session's store keeps every label as it was.
    **options
        Other :class:`~alwidget.Session` options (default: the Dask session's classes,
        estimator, strategy, batch size, annotator and label policy).

    Returns
    -------
    Session
        Its attribute ``pool_index`` (ndarray of shape (m,), int64) maps each local item to
        its index in the Dask pool. Labels and unsure answers are imported (``source="import"``).

    Raises
    ------
    ValueError
        If ``session`` is not over a Dask array.

    Examples
    --------
    >>> import dask.array as da, numpy as np, alwidget
    >>> X = da.from_array(np.random.default_rng(0).normal(size=(1_000, 3)), chunks=(250, 3))
    >>> s = alwidget.Session(X, classes=["a", "b"], store=":memory:", random_state=0)
    >>> _ = s.submit({int(i): "a" for i in s.query()[:3]})
    >>> local = s.to_local(sample=100, store=":memory:")
    >>> local.n_labeled, local.n_samples >= 100, type(local.X).__name__
    (3, True, 'ndarray')
    >>> local.close(); s.close()
    """
    import warnings

    from .errors import AlwidgetWarning
    from .labelstate import UNLABELED, UNSURE, UNSURE_STATUS

    dask = getattr(session, "dask", None)
    if dask is None:
        raise ValueError("to_local() is for a session over a Dask array; this one is local")
    answered = np.flatnonzero(session.status != UNLABELED)
    idx = np.union1d(dask.pool.sample(sample, random_state), answered).astype(np.int64)
    try:
        import dask as dask_

        (rows,) = dask_.compute(dask.rows_array(idx), scheduler="threads")
        rows = np.asarray(rows)
    except Exception as exc:  # the rows were only in the lost cluster's memory
        cached = np.asarray(sorted(dask.pool._rows), dtype=np.int64)
        warnings.warn(
            f"the pool's rows cannot be recomputed here ({type(exc).__name__}: {exc}); going "
            f"on with the {cached.size} rows already on this machine (every answered item)",
            AlwidgetWarning,
            stacklevel=3,
        )
        idx = np.union1d(cached, answered).astype(np.int64)
        rows = dask.pool.take(idx)
    from .session import Session

    kw = dict(
        classes=session.classes,
        estimator=session.estimator,
        strategy=session.strategy.name,
        batch_size=min(session.batch_size, idx.size),
        annotator=session.annotator,
        label_policy=session.label_policy,
    )
    kw.update(options)
    local = Session(rows, random_state=random_state, store=store, **kw)
    local.pool_index = idx
    pos = {int(i): j for j, i in enumerate(idx.tolist())}
    answers: dict[int, Any] = {}
    for i in answered.tolist():
        if session.y[i] >= 0:
            answers[pos[i]] = session.classes[int(session.y[i])]
        elif session.status[i] == UNSURE_STATUS:
            answers[pos[i]] = UNSURE
    if answers:
        local.import_labels(answers)
    return local
