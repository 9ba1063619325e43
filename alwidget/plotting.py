"""Plotting helpers of the headless core (learning curves); plotly is imported only when a
figure is drawn, so ``import alwidget`` and a whole :class:`~alwidget.Session` loop never load
it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["plot_learning_curves", "STRATEGY_COLOURS"]

#: Colour of each strategy in every plot (the random baseline is grey).
STRATEGY_COLOURS = {
    "random": "#555555",
    "entropy": "#1f77b4",
    "margin": "#ff7f0e",
    "least_confidence": "#2ca02c",
    "coreset": "#d62728",
    "badge": "#9467bd",
}
_FALLBACK = ["#8c564b", "#e377c2", "#bcbd22", "#17becf", "#7f7f7f"]


def plot_learning_curves(
    df: pd.DataFrame,
    metric: str = "accuracy",
    *,
    spread: str = "std",
    title: str | None = None,
) -> Any:
    """Mean learning curve per strategy with a spread band.

    Parameters
    ----------
    df : DataFrame
        Output of :func:`simulate` (columns ``strategy``, ``repeat``, ``n_labels``, metric).
    metric : str, default="accuracy"
        Any numeric column (``macro_f1``, ``recall[<class>]``, ``coverage_max``...).
    spread : {"std", "sem", "minmax"}, default="std"
        Band: mean +- one standard deviation over repeats, +- standard error, or min..max.
    title : str, optional

    Returns
    -------
    plotly.graph_objects.Figure
        Title, axis labels, legend; ``random`` is dashed and named "random (baseline)".

    Raises
    ------
    KeyError
        If ``metric`` is not a column.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> import alwidget
    >>> X, y = load_digits(return_X_y=True)
    >>> df = alwidget.simulate(X, y, strategies=["random", "margin"], budget=40,
    ...                        n_repeats=2, progress=False)
    >>> fig = alwidget.plot_learning_curves(df)
    >>> fig.layout.xaxis.title.text
    'number of labels'
    """
    import plotly.graph_objects as go

    if metric not in df.columns:
        raise KeyError(f"no column {metric!r}; choose one of {list(df.columns)}")
    if spread not in ("std", "sem", "minmax"):
        raise ValueError(f"spread must be 'std', 'sem' or 'minmax'; got {spread!r}")
    fig = go.Figure()
    runs = ["seed", "repeat"] if "seed" in df.columns else ["repeat"]
    n_rep = len(df.groupby(runs).size())
    unit, bounds = _measure(metric)
    for i, (name, g) in enumerate(df.groupby("strategy", sort=False)):
        colour = STRATEGY_COLOURS.get(str(name), _FALLBACK[i % len(_FALLBACK)])
        st = g.groupby("n_labels")[metric].agg(["mean", "std", "min", "max", "count"]).reset_index()
        st = st.dropna(subset=["mean"])
        if spread == "std":
            lo, hi = st["mean"] - st["std"].fillna(0), st["mean"] + st["std"].fillna(0)
        elif spread == "sem":
            se = st["std"].fillna(0) / np.sqrt(st["count"])
            lo, hi = st["mean"] - se, st["mean"] + se
        else:
            lo, hi = st["min"], st["max"]
        lo, hi = lo.clip(*bounds), hi.clip(*bounds)  # a share's band stays in [0, 1]
        label = "random (baseline)" if name == "random" else str(name)
        x = st["n_labels"].to_numpy()
        fig.add_trace(
            go.Scatter(
                x=np.concatenate([x, x[::-1]]),
                y=np.concatenate([hi.to_numpy(), lo.to_numpy()[::-1]]),
                fill="toself",
                fillcolor=_rgba(colour, 0.15),
                line=dict(width=0),
                hoverinfo="skip",
                legendgroup=label,
                showlegend=False,
                name=f"{label} spread",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=st["mean"],
                mode="lines",
                name=label,
                legendgroup=label,
                line=dict(color=colour, width=2.5, dash="dash" if name == "random" else "solid"),
                hovertemplate=f"{label}<br>%{{x}} labels: %{{y:.3f}}<extra></extra>",
            )
        )
    band = {"std": "± 1 sd", "sem": "± 1 s.e.", "minmax": "min-max"}[spread]
    nice = metric.replace("_", " ").replace("macro f1", "macro F1")
    where = "held-out " if unit == "on held-out set" else ""
    fig.update_layout(
        title=title or f"Learning curves: {where}{nice} (mean, band {band}, {n_rep} runs)",
        xaxis_title="number of labels",
        yaxis_title=f"{nice} ({unit})" if where == "" else f"{nice} {unit}",
        legend_title_text="strategy",
        template="plotly_white",
        height=450,
    )
    return fig


#: What the pool measures of :func:`alwidget.simulate` are, and their range.
_POOL_MEASURES: dict[str, tuple[str, tuple[float | None, float | None]]] = {
    "coverage_mean": ("feature units, lower = better covered", (0.0, None)),
    "coverage_max": ("covering radius, feature units", (0.0, None)),
    "outlier_fixation": ("share of the batch in the sparsest 10 %", (0.0, 1.0)),
    "far_outlier_share": ("share of the batch", (0.0, 1.0)),
    "far_outliers_labeled": ("count", (0.0, None)),
    "batch_redundancy": ("ratio to a random batch", (0.0, None)),
    "class_balance": ("normalised entropy, 1 = balanced", (0.0, 1.0)),
    "forgetting_events": ("count", (0.0, None)),
    "mean_dispersion": ("share of rounds", (0.0, 1.0)),
    "batch_size": ("items", (0.0, None)),
}


def _measure(metric: str) -> tuple[str, tuple[float | None, float | None]]:
    """The y-axis unit of a :func:`alwidget.simulate` column and the range its band is
    clipped to."""
    if metric in _POOL_MEASURES:
        return _POOL_MEASURES[metric]
    if metric.startswith("time_"):
        return "seconds", (0.0, None)
    return "on held-out set", (0.0, 1.0)  # accuracy, macro F1, recall[c]


def _rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"
