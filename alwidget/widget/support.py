"""Helpers of :class:`~alwidget.LabelingWidget`: item access, hover texts, closing the
projection, and the small script-facing views of the status / error lines and Submit button."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import ipywidgets as W
import numpy as np

from ..projection import Projection
from ..session import Session
from ..strategies import available_strategies
from .cards import BatchCards
from .renderers import item_summary

if TYPE_CHECKING:
    from .app import LabelingWidget


class _Line:
    """A read-only view of one text line of the cards (``.value``)."""

    def __init__(self, view: BatchCards, name: str) -> None:
        self._view, self._name = view, name

    @property
    def value(self) -> str:
        return str(getattr(self._view, self._name))

    def __repr__(self) -> str:
        return f"<{self._name} line: {self.value!r}>"


class _SubmitButton:
    """The Submit button for scripts: ``click()`` acts as the browser's submit action."""

    def __init__(self, widget: LabelingWidget) -> None:
        self._widget = widget

    @property
    def disabled(self) -> bool:
        return not (self._widget.view.live and self._widget.view.enabled.get("submit", False))

    def click(self) -> bool:
        return self._widget.view.send_action("submit")


def _close_projection(p: Projection) -> None:
    """Stop the projection's background process (its own ``close`` when it has one)."""
    close = getattr(p, "close", None)
    if callable(close):
        close()
        return
    pool = getattr(p, "_pool", None)
    if pool is None or not hasattr(pool, "shutdown"):
        return
    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:  # a UMAP fit still running: end it, it would outlive the widget
        if proc.is_alive():
            proc.terminate()


def _proj_name(p: Projection) -> str:
    return {"umap": "UMAP", "pca": "PCA", "identity": "feature"}[p.method_]


def _hover_texts(items: Any, n: int) -> list[str] | None:
    """One short text per item for hover, or None for images (the index says enough)."""
    if n == 0 or isinstance(items, _RowItems):
        return None
    first = items[0]
    if isinstance(first, np.ndarray) and first.ndim >= 2:
        return None
    return [item_summary(items[i], 60) for i in range(n)]


def _strategy_options(session: Session) -> list[str]:
    """Strategies the session's estimator can serve: the MC-dropout ones (``mc_bald``...) only
    with a model that gives MC samples (:class:`alwidget.models.MCDropoutClassifier`)."""
    from ..strategies.deep import DEEP_STRATEGIES

    est = session.estimator
    last = est.steps[-1][1] if hasattr(est, "steps") else est
    mc = hasattr(last, "predict_proba_samples")
    names = [n for n in available_strategies() if mc or n not in DEEP_STRATEGIES or n == "vaal"]
    if session.strategy.name not in names:
        names = [session.strategy.name, *names]
    return names


class Items(Protocol):
    """What a widget shows, one per pool item: ``len(items)`` and ``items[i]``."""

    def __len__(self) -> int: ...

    def __getitem__(self, i: int, /) -> Any: ...


def _as_items(items: Any, session: Session) -> Items:
    if items is None:
        return _RowItems(session)
    try:
        import pandas as pd

        if isinstance(items, pd.DataFrame):
            items = _FrameRows(items)
    except ImportError:  # pragma: no cover
        pass
    if len(items) != session.n_samples:
        raise ValueError(
            f"items has {len(items)} entries but the pool X has {session.n_samples} rows; "
            "pass one item per row of X, in the same order"
        )
    return items


class _FrameRows:
    def __init__(self, df: Any) -> None:
        self.df = df

    def __len__(self) -> int:
        return len(self.df)

    def __getitem__(self, i: int) -> Any:
        return self.df.iloc[int(i)]


class _RowItems:
    def __init__(self, session: Session) -> None:
        self.session = session
        cols = getattr(session.X_fit, "columns", None)
        self.cols = list(cols) if cols is not None else [f"x{j}" for j in range(session.X.shape[1])]

    def __len__(self) -> int:
        return self.session.n_samples

    def __getitem__(self, i: int) -> Any:
        return dict(zip(self.cols, self.session.X[int(i)].tolist(), strict=True))


def _header(strategy_select: W.Widget) -> W.HBox:
    """The widget's first row: what it is, and the strategy menu."""
    return W.HBox(
        [
            W.HTML("<b>alwidget</b>: label the batch the strategy picked; each submit retrains"),
            strategy_select,
        ],
        layout=W.Layout(
            align_items="center", flex_flow="row wrap", justify_content="space-between"
        ),
    )
