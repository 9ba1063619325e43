"""Export the teaching lab for slides: the current view (map, learning curve, diagnostics) as
one PNG and one HTML page, and a replay strip (the map of rounds 1..r side by side) as PNG.

Pictures are plotly's own: the figures as they are now (copied, never changed), composed with
:func:`plotly.subplots.make_subplots` and rasterised by plotly's ``write_image`` (kaleido, which
drives an installed Chrome or Chromium). The HTML needs neither.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots

from .figure import BATCH_COLOUR, CLASS_COLOURS, escape_plotly
from .teaching_views import diagnostics_html

__all__ = ["export_view", "replay_strip", "view_figure"]


def _write_png(fig: go.Figure, path: Path, width: int, height: int) -> None:
    try:
        fig.write_image(str(path), width=width, height=height, scale=1)
    except Exception as exc:  # kaleido missing, or no Chrome/Chromium it can drive
        raise RuntimeError(
            f"could not write the PNG {path} ({type(exc).__name__}: {exc}). PNG export needs "
            "kaleido and a Chrome or Chromium: pip install 'alwidget[export]' and install "
            "chromium (e.g. apt-get install chromium); the HTML export needs neither."
        ) from exc


def view_figure(lab: Any) -> go.Figure:
    """One figure of the lab's current view: the map (left), the learning curve (top right)
    and the newest diagnostics rows (bottom right), copied from the live figures.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    mp, cv = go.Figure(lab.widget.map.fig), go.Figure(lab.panel.curve)
    fig = make_subplots(
        rows=2,
        cols=2,
        column_widths=[0.56, 0.44],
        row_heights=[0.55, 0.45],
        specs=[[{"rowspan": 2}, {}], [None, {"type": "table"}]],
        subplot_titles=(mp.layout.title.text or "map", cv.layout.title.text or "curve", ""),
        horizontal_spacing=0.1,
        vertical_spacing=0.1,
    )
    for i, t in enumerate(mp.data):
        if t.type == "contour":
            t.showscale = False
        elif getattr(t, "marker", None) is not None:
            t.marker.showscale = i == 0  # one colour bar: the pool's, beside the map
            if i == 0:
                t.marker.colorbar.update(x=0.5, len=0.9, y=0.5, thickness=14)
        fig.add_trace(t, row=1, col=1)
    for t in cv.data:
        fig.add_trace(t, row=1, col=2)
    rows = lab.panel.diagnostics
    cols = ["round", "labels", "picked by", "accuracy", "far outliers", "sparsest 10 %"]
    cols += ["coverage mean / max"]
    fig.add_trace(
        go.Table(
            header=dict(values=[f"<b>{escape_plotly(c)}</b>" for c in cols], align="right"),
            cells=dict(values=[[r[c] for r in rows] for c in cols], align="right", height=26),
            columnwidth=[0.8, 0.8, 2.6, 1.1, 1.1, 1.1, 1.6],
        ),
        row=2,
        col=2,
    )
    for sh in mp.layout.shapes or ():  # the covering-radius ring, on the map's axes
        fig.add_shape(sh.to_plotly_json(), row=1, col=1)
    for sh in cv.layout.shapes or ():  # strategy switches on the curve
        fig.add_shape(sh.to_plotly_json(), row=1, col=2)
    for a in cv.layout.annotations or ():
        fig.add_annotation(a.to_plotly_json(), row=1, col=2)
    fig.update_xaxes(title_text=mp.layout.xaxis.title.text, row=1, col=1)
    fig.update_yaxes(title_text=mp.layout.yaxis.title.text, row=1, col=1)
    if mp.layout.yaxis.scaleanchor:  # the data itself: equal units on both axes
        fig.update_yaxes(scaleanchor="x", row=1, col=1)
    fig.update_xaxes(title_text="number of labels", row=1, col=2)
    fig.update_yaxes(title_text="score on held-out set", range=[0, 1.02], row=1, col=2)
    fig.update_layout(
        template="plotly_white",
        legend=dict(orientation="h", yanchor="top", y=-0.06, x=0),
        margin=dict(l=60, r=30, t=70, b=90),
        font=dict(size=14),
    )
    return fig


def export_view(lab: Any, path: str | Path) -> tuple[Path, Path]:
    """Write the lab's current view as ``<path>.png`` (one picture of map, curve and
    diagnostics, 1600 x 950 px) and ``<path>.html`` (the live figures, interactive, and the
    diagnostics and stopping tables; self-contained).

    Parameters
    ----------
    lab : TeachingLab
    path : str or Path
        File name with or without a ``.png`` / ``.html`` suffix; its folder is created.

    Returns
    -------
    png, html : Path

    Raises
    ------
    RuntimeError
        If the PNG cannot be written (kaleido or Chrome/Chromium missing); the HTML is
        written first, so it is there anyway.
    """
    base = Path(path)
    if base.suffix.lower() in (".png", ".html"):
        base = base.with_suffix("")
    base.parent.mkdir(parents=True, exist_ok=True)
    png, page = base.with_suffix(".png"), base.with_suffix(".html")
    panel = lab.panel
    parts = [
        pio.to_html(go.Figure(lab.widget.map.fig), include_plotlyjs=True, full_html=False),
        pio.to_html(go.Figure(panel.curve), include_plotlyjs=False, full_html=False),
        f"<div>{panel.stop_html.value}</div>",
        "<h3>Diagnostics per round</h3>",
        diagnostics_html(panel.diagnostics),
    ]
    title = html.escape(f"alwidget teaching lab: {lab.session.n_labeled} labels")
    page.write_text(
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head>"
        f"<body style='font-family: sans-serif'><h2>{title}</h2>{''.join(parts)}</body></html>",
        encoding="utf-8",
    )
    _write_png(view_figure(lab), png, 1600, 950)
    return png, page


def replay_strip(
    lab: Any, path: str | Path, rounds: Sequence[int] | None = None, columns: int = 4
) -> Path:
    """Write the map of several rounds side by side as one PNG, for slides.

    Each panel is what the replay slider shows for that round: the labels in effect when its
    batch was picked (class colours), that batch (magenta ◇) and the other items coloured by
    the uncertainty of the model that picked it.

    Parameters
    ----------
    lab : TeachingLab
    path : str or Path
        The PNG to write (its folder is created).
    rounds : sequence of int, optional
        Rounds to show (1-based); default every round so far.
    columns : int, default=4
        Panels per row (320 x 300 px each).

    Returns
    -------
    Path

    Raises
    ------
    ValueError
        If there is no round yet or a round is out of range.
    RuntimeError
        If the PNG cannot be written (kaleido or Chrome/Chromium missing).
    """
    hist = lab.panel.history.rounds
    rs = list(range(1, len(hist) + 1)) if rounds is None else [int(r) for r in rounds]
    if not rs:
        raise ValueError("no round yet: label a batch (or press the oracle) first")
    bad = [r for r in rs if not 1 <= r <= len(hist)]
    if bad:
        raise ValueError(f"rounds {bad} do not exist; there are {len(hist)}")
    xy = lab.widget.map.xy
    classes = lab.session.classes
    ncol = max(1, min(int(columns), len(rs)))
    nrow = math.ceil(len(rs) / ncol)
    titles = [f"round {r}: {escape_plotly(str(hist[r - 1].strategy))}" for r in rs]
    fig = make_subplots(rows=nrow, cols=ncol, subplot_titles=titles, horizontal_spacing=0.03)
    for j, r in enumerate(rs):
        rnd, row, col = hist[r - 1], j // ncol + 1, j % ncol + 1
        before = rnd.labels_before if rnd.labels_before is not None else np.full(len(xy), -1)
        unl = np.flatnonzero(before < 0)
        colour = rnd.uncertainty[unl] if rnd.uncertainty is not None else "#bbbbbb"
        first = j == 0
        fig.add_trace(
            go.Scattergl(
                x=xy[unl, 0],
                y=xy[unl, 1],
                mode="markers",
                name="unlabeled (colour = uncertainty)",
                marker=dict(size=4, color=colour, colorscale="Viridis", cmin=0, cmax=1),
                showlegend=first,
                legendgroup="pool",
            ),
            row=row,
            col=col,
        )
        for c, name in enumerate(classes):
            lab_c = np.flatnonzero(before == c)
            fig.add_trace(
                go.Scattergl(
                    x=xy[lab_c, 0],
                    y=xy[lab_c, 1],
                    mode="markers",
                    name=f"labeled: {escape_plotly(str(name))}",
                    marker=dict(size=7, color=CLASS_COLOURS[c % len(CLASS_COLOURS)]),
                    showlegend=first,
                    legendgroup=f"c{c}",
                ),
                row=row,
                col=col,
            )
        fig.add_trace(
            go.Scattergl(
                x=xy[rnd.picked, 0],
                y=xy[rnd.picked, 1],
                mode="markers",
                name="picked this round",
                marker=dict(symbol="diamond-open", size=11, color=BATCH_COLOUR, line=dict(width=2)),
                showlegend=first,
                legendgroup="picked",
            ),
            row=row,
            col=col,
        )
    fig.update_xaxes(showticklabels=False)
    fig.update_yaxes(showticklabels=False)
    fig.update_layout(
        template="plotly_white",
        title=dict(text="Replay: what each round picked (◇) from the labels it had", x=0.01),
        legend=dict(orientation="h", yanchor="top", y=-0.02, x=0),
        margin=dict(l=20, r=20, t=70, b=70),
    )
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    _write_png(fig, out, 320 * ncol, 300 * nrow + 140)
    return out
