"""alwidget: interactive active learning in Jupyter.

>>> from sklearn.datasets import load_digits
>>> import alwidget
>>> d = load_digits()
>>> w = alwidget.label(d.data, items=d.images, classes=[str(c) for c in range(10)])  # doctest: +SKIP
>>> w  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

from .errors import PoolUnavailableError  # a Dask pool's cluster is gone (dask_session)
from .session import (
    LABELED,
    SKIPPED,
    STATUS_NAMES,
    UNLABELED,
    UNSURE,
    UNSURE_STATUS,
    AlwidgetWarning,
    Batch,
    FitSnapshot,
    Session,
    SessionClosedError,
    StaleBatchError,
)
from .simulation import labels_to_target, paired_difference, plot_learning_curves, simulate
from .store import (
    LabelStore,
    StoreCorruptError,
    StoreError,
    StoreLockedError,
    StoreMismatchError,
    StoreReadOnlyError,
    StoreWarning,
    StoreWriteError,
)

__version__ = "0.1.0"

__all__ = [
    "Session",
    "LabelingWidget",
    "label",
    "teach",
    "simulate",
    "plot_learning_curves",
    "labels_to_target",
    "paired_difference",
    "LabelStore",
    "StoreMismatchError",
    "FitSnapshot",
    "Batch",
    "StaleBatchError",
    "SessionClosedError",
    "PoolUnavailableError",
    "UNSURE",
    "STATUS_NAMES",
    "UNLABELED",
    "LABELED",
    "SKIPPED",
    "UNSURE_STATUS",
    "StoreError",
    "StoreCorruptError",
    "StoreLockedError",
    "StoreReadOnlyError",
    "StoreWriteError",
    "StoreWarning",
    "AlwidgetWarning",
]


def __getattr__(name: str) -> Any:  # the widget (ipywidgets, plotly) is imported lazily
    if name == "LabelingWidget":
        from .widget import LabelingWidget

        return LabelingWidget
    if name == "teach":
        from .teaching import teach

        return teach
    raise AttributeError(f"module 'alwidget' has no attribute {name!r}")


def label(
    X: Any,
    *,
    classes: Any,
    items: Any = None,
    renderer: Any = None,
    projection: str = "auto",
    background: bool = True,
    sync_wait: float = 0.3,
    max_points: int = 50_000,
    **session_kwargs: Any,
) -> Any:
    """Start labeling ``X`` in one call: a :class:`Session` and its :class:`LabelingWidget`.

    Parameters
    ----------
    X : ndarray, DataFrame or dask.array.Array of shape (n_samples, n_features)
        Numeric features of the pool. A Dask array (chunked by rows) is scored on its cluster
        (pass ``client=``); the map then shows a seeded sample of ``max_points`` items plus
        every labeled and batch item (docs/dask.md).
    classes : sequence of str
        Label names.
    items : sequence, optional
        What a human looks at, one per row of X (images, texts, rows).
    renderer : {"image", "text", "row"} or callable, optional
        Force a renderer.
    projection : {"auto", "umap", "pca"}, default="auto"
        Map coordinates.
    background, sync_wait, max_points
        Passed to :class:`LabelingWidget` (retrain off the UI path; map display cap).
    **session_kwargs
        Passed to :class:`Session` (estimator, strategy, batch_size, random_state, store...).

    Returns
    -------
    LabelingWidget
        Display it (last expression of a cell); ``widget.session`` is the session.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> import alwidget
    >>> d = load_digits()
    >>> w = alwidget.label(d.data, items=d.images, classes=[str(c) for c in range(10)],
    ...                    store=":memory:", projection="pca", background=False)
    >>> for i in w.batch.tolist():  # what clicks on the cards do
    ...     w.choose(i, str(d.target[i]))
    >>> w.submit()
    True
    >>> w.status_facts["n_labeled"], w.status_facts["round"]
    (10, 1)
    >>> w.close()
    """
    from .widget import LabelingWidget

    session = Session(X, classes=classes, **session_kwargs)
    widget = LabelingWidget(
        session,
        items,
        renderer=renderer,
        projection=projection,
        background=background,
        sync_wait=sync_wait,
        max_points=max_points,
    )
    widget.owns_session = True  # widget.close() closes the session it was made with
    return widget
