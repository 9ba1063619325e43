"""Teaching helpers: one call to a labeling widget with an oracle, a held-out learning curve
and the strategy-behaviour panels; and a static side-by-side of what strategies pick.

These are views (ipywidgets, plotly); ``alwidget.teach`` and ``alwidget.teaching`` load this
module lazily, so ``import alwidget`` stays headless.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go

from ..diagnostics import PoolGeometry
from ..evaluation import EvalSet, holdout_split
from ..session import Session
from ..strategies import get_strategy
from .map import escape_plotly
from .presentation import ColumnWidths, presentation_body

__all__ = ["teach", "TeachingLab", "compare_strategies_figure"]


def teach(
    X: Any,
    y: Any,
    *,
    classes: Sequence[Any],
    items: Any = None,
    strategy: str = "entropy",
    eval_size: float | int = 0.25,
    compare: Sequence[str] = ("random", "entropy", "coreset"),
    batch_size: int = 10,
    budget: int | None = None,
    random_state: int = 0,
    store: Any = ":memory:",
    projection: str = "auto",
    renderer: Any = None,
    max_points: int = 50_000,
    presentation: bool = False,
    **session_kwargs: Any,
) -> Any:
    """A teaching lab: a held-out split, a Session with an oracle, the widget and its panels.

    Parameters
    ----------
    X : ndarray or DataFrame of shape (n_samples, n_features)
        Features. With two columns, the map is the data itself and the model's decision
        regions are drawn.
    y : array-like of shape (n_samples,), int
        True class codes ``0..n_classes-1`` (the oracle's answers).
    classes : sequence of str
        Class names.
    items : sequence, optional
        What a human looks at, one per row of X.
    strategy : str, default="entropy"
    eval_size : float or int, default=0.25
        Held-out share (or count), never in the pool.
    compare : sequence of str
        Strategies offered in the "would pick now" overlay.
    batch_size, random_state, store, projection, renderer, max_points, **session_kwargs
        As for :func:`alwidget.label` / :class:`~alwidget.Session`.
    budget : int, optional
        Label budget (a stopping criterion; auto-play stops there).
    presentation : bool, default=False
        For a projector: the teaching controls, learning curve and diagnostics beside the
        map instead of below it, and every text at 16 px or more.

    Returns
    -------
    TeachingLab
        A VBox to display; ``.session``, ``.widget``, ``.panel``, ``.pool_index`` (indices of
        the pool rows in ``X``), ``.eval_index``.

    Raises
    ------
    ValueError
        If ``y`` holds codes outside ``0..len(classes)-1`` or its length differs from X.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> import alwidget
    >>> X, y = make_blobs(300, centers=3, random_state=0)
    >>> lab = alwidget.teach(X, y, classes=["a", "b", "c"], batch_size=5, budget=40,
    ...                      cold_start="random")
    >>> lab.panel.oracle_step()  # the oracle labels the batch with the truth and submits
    True
    >>> lab.panel.diagnostics[0]["labels"], lab.panel.diagnostics[0]["picked by"]
    ('5', 'cold start (random)')
    >>> lab.widget.close()
    """
    from .app import LabelingWidget
    from .teaching import TeachingPanel

    y = np.asarray(y, dtype=np.int64)
    if len(X) != y.shape[0]:
        raise ValueError(f"X has {len(X)} rows but y has {y.shape[0]}")
    if y.min() < 0 or y.max() >= len(classes):
        raise ValueError(f"y must hold class codes 0..{len(classes) - 1}")
    tr, ev = holdout_split(y, test_size=eval_size, random_state=random_state)
    Xp, Xe = _rows(X, tr), _rows(X, ev)
    session = Session(
        Xp,
        classes=classes,
        strategy=strategy,
        batch_size=batch_size,
        random_state=random_state,
        store=store,
        **session_kwargs,
    )
    pool_items = None if items is None else _rows(items, tr)
    widget = LabelingWidget(
        session, pool_items, renderer=renderer, projection=projection, max_points=max_points
    )
    panel = TeachingPanel(
        widget,
        y_true=y[tr],
        eval_set=EvalSet(Xe, y[ev], len(classes)),
        compare=compare,
        budget=budget,
        random_state=random_state,
    )
    return TeachingLab(widget, panel, tr, ev, presentation=presentation)


class TeachingLab(W.VBox):
    """The labeling widget and its teaching panel (see :func:`teach`): one above the other, or
    side by side in the presentation layout (``presentation=True``: map and cards on the left,
    controls, curve and diagnostics on the right, fonts of 16 px and more).

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> import alwidget
    >>> X, y = make_blobs(200, centers=3, random_state=0)
    >>> lab = alwidget.teach(X, y, classes=["a", "b", "c"], batch_size=5, presentation=True)
    >>> lab.presentation, lab.session.n_samples  # 25 % of the rows are held out
    (True, 150)
    >>> lab.widget.close()
    """

    def __init__(
        self,
        widget: Any,
        panel: Any,
        pool_index: np.ndarray,
        eval_index: np.ndarray,
        *,
        presentation: bool = False,
    ) -> None:
        self.presentation = bool(presentation)
        #: The presentation layout's column widths in the browser (px), which size the map
        #: and the curve (None without the presentation layout).
        self.column_widths = ColumnWidths() if self.presentation else None
        if self.column_widths is None:
            super().__init__([widget, panel])
        else:
            super().__init__(presentation_body(widget, panel, self.column_widths))
        if self.column_widths is not None:
            self.add_class("alw-present")
            self.column_widths.observe(self._fit_figures, names="widths")
        self.widget, self.panel, self.session = widget, panel, widget.session
        self.pool_index, self.eval_index = pool_index, eval_index

    def _fit_figures(self, change: dict) -> None:
        left, right = (int(v) for v in change["new"])
        if left > 200:
            self.widget.map.fig.layout.width = left - 8
        if right > 200:
            self.panel.curve.layout.width = right - 8

    def export_figure(self, path: Any) -> tuple[Any, Any]:
        """Write the current view (map, learning curve, diagnostics) as ``<path>.png`` and
        ``<path>.html``; see :func:`alwidget.widget.export.export_view`."""
        from .export import export_view

        return export_view(self, path)

    def export_replay_strip(self, path: Any, rounds: Any = None, columns: int = 4) -> Any:
        """Write the map of rounds 1..r (or ``rounds``) side by side as a PNG; see
        :func:`alwidget.widget.export.replay_strip`."""
        from .export import replay_strip

        return replay_strip(self, path, rounds, columns)


def compare_strategies_figure(
    X: np.ndarray,
    y: Any,
    strategies: Sequence[str] = ("random", "entropy", "coreset"),
    *,
    budget: int = 40,
    batch_size: int = 5,
    random_state: int = 0,
    estimator: Any = None,
) -> tuple[go.Figure, Any]:
    """Run each strategy with an oracle on the same 2-D pool and draw what it picked.

    Every strategy starts from the same seed (same first batch). One panel per strategy:
    the pool in grey, the items it picked coloured by the round they were picked in, and in
    the subplot title its outlier fixation (share of picks in the lowest-density decile) and
    coverage radius (max distance from an unlabeled item to the nearest labeled one).

    Parameters
    ----------
    X : ndarray of shape (n_samples, 2)
        2-D features (the plot axes).
    y : array-like of shape (n_samples,), int
        True class codes.
    strategies : sequence of str
        Registry names; names that are not registered are skipped with a note in the title.
    budget, batch_size, random_state, estimator
        As for :func:`alwidget.simulate`.

    Returns
    -------
    fig : plotly.graph_objects.Figure
    summary : pandas.DataFrame
        Per strategy: ``labels``, ``far_outliers_labeled`` (of the pool's
        :func:`~alwidget.diagnostics.far_outliers`), ``outlier_fixation`` (share of all
        picks in the sparsest 10 %), ``coverage_max``, ``coverage_mean``.

    Raises
    ------
    ValueError
        If X is not 2-D with two columns.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> X, y = make_blobs(120, centers=3, random_state=0)
    >>> fig, summary = compare_strategies_figure(X, y, ("random", "coreset"), budget=10)
    >>> summary["labels"].tolist(), len(fig.layout.annotations)  # one panel title each
    ([10, 10], 2)
    """
    import pandas as pd
    from plotly.subplots import make_subplots

    from ..diagnostics import coverage, outlier_fixation

    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X must have shape (n_samples, 2); got {X.shape}")
    y = np.asarray(y, dtype=np.int64)
    classes = [str(c) for c in range(int(y.max()) + 1)]
    ok, missing = [], []
    for name in strategies:
        try:
            get_strategy(name)
            ok.append(name)
        except ValueError:
            missing.append(name)
    geo = PoolGeometry(X)
    rows, titles, picks = [], [], []
    for name in ok:
        s = Session(
            X,
            classes=classes,
            strategy=name,
            batch_size=batch_size,
            estimator=estimator,
            random_state=random_state,
            store=":memory:",
        )
        order = np.full(X.shape[0], -1)
        rnd = 0
        while s.n_labeled < budget and s.query().size:
            b = s.query()[: budget - s.n_labeled]
            rnd += 1
            order[b] = rnd
            s.submit({int(i): int(y[i]) for i in b})
        picked = np.flatnonzero(order > 0)
        cmean, cmax = coverage(X, s.y >= 0)
        of = outlier_fixation(picked, geo.knn_dist)
        n_far = int((geo.far & (s.y >= 0)).sum())
        rows.append(
            {
                "strategy": name,
                "labels": int(picked.size),
                "far_outliers_labeled": n_far,
                "outlier_fixation": of,
                "coverage_mean": cmean,
                "coverage_max": cmax,
            }
        )
        titles.append(
            f"<b>{escape_plotly(name)}</b>: {n_far} of {int(geo.far.sum())} far outliers "
            f"labeled,<br>{100 * of:.0f}% of picks in sparsest 10%,<br>coverage radius {cmax:.2f}"
        )
        picks.append((picked, order[picked]))
    fig = make_subplots(
        rows=1,
        cols=max(1, len(ok)),
        subplot_titles=titles,
        shared_yaxes=True,
        horizontal_spacing=0.04,
    )
    for j, (picked, when) in enumerate(picks, start=1):
        fig.add_trace(
            go.Scatter(
                x=X[:, 0],
                y=X[:, 1],
                mode="markers",
                name="pool (unlabeled)",
                marker=dict(color="#c8c8c8", size=5),
                showlegend=j == 1,
                legendgroup="pool",
                hoverinfo="skip",
            ),
            row=1,
            col=j,
        )
        far = np.flatnonzero(geo.far)
        fig.add_trace(
            go.Scatter(
                x=X[far, 0],
                y=X[far, 1],
                mode="markers",
                name="far outlier",
                marker=dict(symbol="circle-open", color="#111", size=13, line=dict(width=1.5)),
                showlegend=j == 1,
                legendgroup="far",
                hoverinfo="skip",
            ),
            row=1,
            col=j,
        )
        fig.add_trace(
            go.Scatter(
                x=X[picked, 0],
                y=X[picked, 1],
                mode="markers",
                name="picked (colour = round)",
                marker=dict(
                    color=when,
                    colorscale="Plasma",
                    size=9,
                    line=dict(width=1, color="#222"),
                    showscale=j == len(picks),
                    colorbar=dict(title=dict(text="round picked"), thickness=12),
                ),
                showlegend=j == 1,
                legendgroup="picked",
                hovertemplate="#%{customdata}<br>round %{marker.color}<extra></extra>",
                customdata=picked,
            ),
            row=1,
            col=j,
        )
        fig.update_xaxes(title_text="x1", row=1, col=j)
    fig.update_yaxes(title_text="x2", row=1, col=1)
    note = f" (not available: {escape_plotly(', '.join(map(str, missing)))})" if missing else ""
    fig.update_layout(
        title=dict(
            text=f"What each strategy picked in {budget} labels, same start{note}", x=0.01, y=0.98
        ),
        template="plotly_white",
        height=500,
        margin=dict(t=130, b=90),
        legend=dict(orientation="h", yanchor="top", y=-0.15, x=0),
    )
    fig.update_annotations(font_size=13)
    return fig, pd.DataFrame(rows).set_index("strategy")


def _rows(X: Any, idx: np.ndarray) -> Any:
    if hasattr(X, "iloc"):
        return X.iloc[idx]
    if isinstance(X, np.ndarray):
        return X[idx]
    return [X[int(i)] for i in idx]
