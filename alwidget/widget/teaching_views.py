"""What the teaching panel shows, as data and as drawings: the learning curve (with the
simulated random baseline), the per-round diagnostics table, the stopping criteria and the
decision-region grid of a 2-D model.

The data functions (:func:`diagnostics_rows`, :func:`random_baseline`, :func:`decision_grid`)
return plain Python / numpy / pandas values; the drawing functions only format them. All maths
lives in :mod:`alwidget.diagnostics`, :mod:`alwidget.evaluation` and :mod:`alwidget.simulation`.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import ipywidgets as W
import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..evaluation import EvalSet, StoppingMonitor, StopStatus
from ..simulation import simulate
from .figure import TITLE_BELOW_TOOLBAR, SyncedFigureWidget, escape_plotly, f32

__all__ = [
    "DIAGNOSTIC_COLUMNS",
    "TEACHING_CSS",
    "decision_grid",
    "diagnostics_html",
    "diagnostics_rows",
    "draw_baseline",
    "draw_curve",
    "learning_curve_figure",
    "oracle_controls",
    "random_baseline",
    "stopping_html",
]

TEACHING_CSS = """
<style>
.alw-teach h4 { margin: 8px 0 4px 0; }
.alw-diag table { border-collapse: collapse; font-size: 12px; }
.alw-diag th, .alw-diag td { border-bottom: 1px solid var(--jp-border-color2, #ddd);
  padding: 2px 6px; text-align: right; }
.alw-diag th { font-weight: 600; }
.alw-stop { font-size: 13px; }
.alw-stop .alw-fired { background: #fff3cd; border-left: 4px solid #e0a800; padding: 2px 6px; }
</style>
"""

#: column title -> its definition (the table's hover text), in display order
DIAGNOSTIC_COLUMNS: dict[str, str] = {
    "round": "",
    "labels": "",
    "picked by": "",
    "accuracy": "held-out accuracy",
    "macro F1": "held-out macro F1",
    "coverage mean / max": "distance from unlabeled items to the nearest labeled item "
    "(feature space; core-set radius = max; lower = better covered)",
    "far outliers": "far outliers (kNN distance beyond Q3 + 3 IQR) in this batch / labeled so far",
    "sparsest 10 %": "share of the batch in the pool's lowest-density decile (kNN distance): "
    "gaps between clusters as well as outliers; a random batch has about 10 %",
    "batch redundancy": "mean pairwise distance in the batch / that of a random batch: "
    "below 1 = items close together (redundant), above 1 = spread out",
    "class balance": "normalised entropy of labeled classes: 1 = balanced",
    "forgotten": "items whose prediction went from correct to wrong at this retrain",
    "dispersion": "mean label dispersion of unlabeled items (how often the predicted "
    "label changed across rounds)",
}


# -- learning curve ----------------------------------------------------------------------------
def learning_curve_figure(n_eval: int) -> SyncedFigureWidget:
    """The empty learning-curve figure: traces 0 accuracy, 1 macro F1, 2 the baseline's ±1 sd
    band, 3 the baseline's mean accuracy; ``n_eval`` (0: none yet) goes in the title."""
    fig = SyncedFigureWidget(
        data=[
            go.Scatter(
                x=[],
                y=[],
                mode="lines+markers",
                name="this session: accuracy",
                line=dict(color="#1f77b4", width=2.5),
            ),
            go.Scatter(
                x=[],
                y=[],
                mode="lines+markers",
                name="this session: macro F1",
                line=dict(color="#ff7f0e", width=2, dash="dot"),
            ),
            go.Scatter(
                x=[],
                y=[],
                mode="lines",
                name="random baseline spread (±1 sd)",
                fill="toself",
                fillcolor="rgba(85,85,85,0.15)",
                line=dict(width=0),
                hoverinfo="skip",
                showlegend=False,
            ),
            go.Scatter(
                x=[],
                y=[],
                mode="lines",
                name="random baseline (simulated; band ±1 sd): accuracy",
                line=dict(color="#555", width=2, dash="dash"),
            ),
        ]
    )
    title = (
        f"Learning curve on the held-out set ({n_eval} items never queried)"
        if n_eval
        else "Learning curve: no evaluation set yet (label one below)"
    )
    fig.update_layout(
        title=dict(text=title, **TITLE_BELOW_TOOLBAR),
        xaxis=dict(title=dict(text="number of labels"), rangemode="tozero"),
        yaxis=dict(title=dict(text="score on held-out set"), range=[0, 1.02]),
        legend=dict(orientation="h", yanchor="top", y=-0.2, x=0),
        height=400,
        autosize=True,  # fit the container when it changes size (presentation layout)
        margin=dict(l=60, r=20, t=62, b=100),
        template="plotly_white",
    )
    return fig


def random_baseline(
    session: Any,
    y_true: np.ndarray,
    eval_set: EvalSet,
    *,
    repeats: int,
    budget: int | None,
    random_state: int,
) -> pd.DataFrame:
    """Simulated random-sampling learning curve on the session's pool and estimator.

    Returns
    -------
    DataFrame
        Columns ``n_labels``, ``mean`` and ``std`` of the held-out accuracy over ``repeats``
        runs; ``budget`` defaults to ``min(pool, max(100, 20 * batch_size))``.
    """
    s = session
    if budget is None:
        budget = min(s.n_samples, max(100, 20 * s.batch_size))
    names = np.asarray(s.classes, dtype=object)
    df = simulate(
        s.X_fit,
        names[y_true],
        X_eval=eval_set.X,
        y_eval=names[eval_set.y],
        classes=s.classes,
        strategies=["random"],
        budget=int(budget),
        batch_size=s.batch_size,
        n_repeats=int(repeats),
        random_state=random_state,
        estimator=s.estimator,
        progress=False,
        cold_start=s.cold_start,
    )
    return df.groupby("n_labels")["accuracy"].agg(["mean", "std"]).reset_index()


def draw_baseline(fig: go.FigureWidget, baseline: pd.DataFrame | None) -> None:
    """Draw :func:`random_baseline` on traces 2 (band) and 3 (mean) of the curve."""
    if baseline is None:
        return
    x = baseline["n_labels"].to_numpy(np.float32)
    m = baseline["mean"].to_numpy(np.float32)
    sd = baseline["std"].fillna(0).to_numpy(np.float32)
    xb = np.concatenate([x, x[::-1]])
    yb = np.clip(np.concatenate([m + sd, (m - sd)[::-1]]), 0, 1)  # accuracy stays in [0, 1]
    fig.plotly_restyle({"x": [f32(xb), f32(x)], "y": [f32(yb), f32(m)]}, [2, 3])


def draw_curve(fig: go.FigureWidget, rounds: Sequence[Any]) -> None:
    """Draw the session's held-out accuracy and macro F1 per round on traces 0 and 1, and
    mark every strategy switch (not the end of the cold start): a dotted vertical line at the
    labels where a round was first picked by another strategy, named at the bottom of the plot
    ("→ coreset")."""
    x = f32([r.n_labels for r in rounds])
    acc = f32([r.metrics["accuracy"] for r in rounds])
    f1 = f32([r.metrics["macro_f1"] for r in rounds])
    shapes, notes = [], []
    for before, r in zip(rounds, list(rounds)[1:], strict=False):
        if str(r.strategy) != str(before.strategy) and not str(before.strategy).startswith(
            "cold start"
        ):
            at = float(before.n_labels)  # the switch happened with this many labels
            shapes.append(
                dict(
                    type="line",
                    x0=at,
                    x1=at,
                    y0=0,
                    y1=1,
                    yref="paper",
                    line=dict(color="#555", width=1.5, dash="dot"),
                )
            )
            notes.append(
                dict(
                    x=at,
                    y=0.02,
                    yref="paper",
                    yanchor="bottom",
                    xanchor="left",
                    showarrow=False,
                    text=f"→ {escape_plotly(str(r.strategy))}",
                    font=dict(size=12, color="#333"),
                )
            )
    with fig.batch_update():
        fig.plotly_restyle({"x": [x, x], "y": [acc, f1]}, [0, 1])
        fig.layout.shapes = shapes
        fig.layout.annotations = notes


# -- diagnostics and stopping ------------------------------------------------------------------
def diagnostics_rows(rounds: Sequence[Any], last: int = 8) -> list[dict[str, str]]:
    """The diagnostics table as shown: one dict per round (newest first, at most ``last``),
    keyed by :data:`DIAGNOSTIC_COLUMNS`, values formatted ("–" for a missing value)."""
    out = []
    for r in reversed(list(rounds)[-last:]):
        d, m = r.diagnostics, r.metrics
        cells = [
            str(r.round),
            str(r.n_labels),
            str(r.strategy),
            _fmt(m["accuracy"]),
            _fmt(m["macro_f1"]),
            f"{_fmt(d.get('coverage_mean'), 2)} / {_fmt(d.get('coverage_max'), 2)}",
            _far(d, r.picked),
            _pct(d.get("outlier_fixation")),
            _fmt(d.get("batch_redundancy"), 2),
            _fmt(d.get("class_balance"), 2),
            _fmt(d.get("forgetting_events"), 0),
            _fmt(d.get("mean_dispersion"), 3),
        ]
        out.append(dict(zip(DIAGNOSTIC_COLUMNS, cells, strict=True)))
    return out


def _far(d: dict[str, Any], picked: Any) -> str:
    share, total = d.get("far_outlier_share"), d.get("far_outliers_labeled")
    if share is None or total is None or not np.isfinite(share):
        return "–"
    return f"{int(round(share * len(picked)))} / {int(total)}"


def diagnostics_html(rows: list[dict[str, str]]) -> str:
    """The HTML table of :func:`diagnostics_rows` (every cell escaped)."""
    if not rows:
        return "<i>no round yet: label a batch (or press the oracle)</i>"
    th = "".join(
        f'<th title="{html.escape(t)}">{html.escape(h)}</th>' for h, t in DIAGNOSTIC_COLUMNS.items()
    )
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row.values()) + "</tr>"
        for row in rows
    )
    return (
        f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"
        "<div class='alw-caption'>newest first; hover a column title for its definition</div>"
    )


def stopping_html(monitor: StoppingMonitor | None) -> tuple[list[StopStatus], str]:
    """The latest status of each stopping criterion, and its HTML (fired ones highlighted)."""
    if monitor is None or not monitor.history:
        return [], "<b>Stopping criteria</b>: evaluated after each retrain"
    status = list(monitor.history[-1])
    items = []
    for st in status:
        if st.fired:
            items.append(
                f"<div class='alw-fired'>&#9873; <b>Stop suggested</b> by "
                f"<b>{html.escape(st.name)}</b>: {html.escape(st.message)}</div>"
            )
        else:
            items.append(f"<div>&#9675; {html.escape(st.name)}: {html.escape(st.message)}</div>")
    return status, "<b>Stopping criteria</b>" + "".join(items)


# -- decision regions --------------------------------------------------------------------------
def decision_grid(session: Any, grid_size: int) -> list | None:
    """The model's predicted class and the strategy's acquisition score on a ``grid_size`` x
    ``grid_size`` grid over 2-D features (5 % padding): ``[x (g,) float32, y (g,) float32,
    codes (g, g) int8 as lists, score (g, g) float32 in [0, 1] as lists]`` (score = the
    strategy's uncertainty measure, :meth:`Strategy.uncertainty`), or None without a model."""
    s = session
    if s.model is None:
        return None
    X = s.X
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = 0.05 * (hi - lo)
    g = int(grid_size)
    gx = np.linspace(lo[0] - pad[0], hi[0] + pad[0], g)
    gy = np.linspace(lo[1] - pad[1], hi[1] + pad[1], g)
    xx, yy = np.meshgrid(gx, gy)
    grid: Any = np.column_stack([xx.ravel(), yy.ravel()])
    cols = getattr(s.X_fit, "columns", None)
    if cols is not None:
        grid = pd.DataFrame(grid, columns=cols)
    codes = np.asarray(s.model.classes_, dtype=np.int64)
    proba = np.zeros((g * g, len(s.classes)))
    proba[:, codes] = np.asarray(s.model.predict_proba(grid))
    pred = proba.argmax(axis=1).reshape(g, g)
    score = np.round(s.strategy.uncertainty(proba).reshape(g, g).astype(np.float32), 3)
    return [gx.astype(np.float32), gy.astype(np.float32), pred.astype(np.int8).tolist(), score]


def _fmt(v: Any, nd: int = 3) -> str:
    if v is None or not np.isfinite(v):
        return "–"
    return f"{v:.{nd}f}"


def _pct(v: Any) -> str:
    if v is None or not np.isfinite(v):
        return "–"
    return f"{100 * v:.0f} %"


def oracle_controls(has_truth: bool) -> tuple[W.Button, W.Play, W.IntSlider]:
    """The oracle button, the auto-play control and its speed slider (disabled without the
    true labels)."""
    button = W.Button(
        description="Oracle: label this batch",
        icon="magic",
        disabled=not has_truth,
        tooltip="Label the current batch with the true labels and submit",
        layout=W.Layout(width="220px"),
    )
    play = W.Play(
        value=0,
        min=0,
        max=100_000,
        step=1,
        interval=800,
        description="Auto-play",
        disabled=not has_truth,
        show_repeat=False,
    )
    speed = W.IntSlider(
        value=800,
        min=150,
        max=3000,
        step=50,
        description="ms / round",
        disabled=not has_truth,
        layout=W.Layout(width="300px"),
    )
    return button, play, speed
