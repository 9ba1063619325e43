"""The map's plotly figure: colours, escaping, the synced FigureWidget and the traces.

Pure figure building, no state: :class:`~alwidget.widget.map.MapView` builds its figure with
:func:`build_map_figure` and adds layers with :func:`overlay_trace` / :func:`regions_trace`,
and is the only code that changes the figure afterwards.

Every user string that reaches plotly (hover text, class names in the legend and hover
templates, titles) goes through :func:`escape_plotly`, so an item's ``<a href=...>`` or
``%{...}`` shows as typed instead of becoming a link, styled text or a template field.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import plotly.graph_objects as go

__all__ = [
    "BATCH_COLOUR",
    "STATE_SYMBOLS",
    "CLASS_COLOURS",
    "CLASS_SYMBOLS",
    "Overlay",
    "SyncedFigureWidget",
    "TITLE_BELOW_TOOLBAR",
    "build_map_figure",
    "clear_selection",
    "escape_plotly",
    "f32",
    "overlay_trace",
    "regions_trace",
    "score_contour_trace",
]

CLASS_COLOURS = [
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
]
CLASS_SYMBOLS = ["circle", "square", "diamond", "cross", "triangle-up", "x", "star", "hexagon"]
#: The current batch's ring (and a replayed round's picks): magenta, in no class palette.
BATCH_COLOUR = "#ff00ff"

#: One symbol per state on the map (classes cycle colours first, then ``CLASS_SYMBOLS``):
#: labeled = filled class colour with a black edge; unsure = grey thin ×; last labeled = thin
#: black hexagon ring; current batch = thick magenta ring; a replayed round's picks = magenta
#: diamond ring; "would pick" of a compared strategy = its filled symbol with a white edge
#: (× random, ▲ entropy, ★ core-set, ...); the item at the covering radius = magenta square.
STATE_SYMBOLS = {
    "labeled": "circle (class colour)",
    "unsure": "x-thin-open",
    "last labeled": "hexagon-open",
    "current batch": "circle-open",
    "replay picks": "diamond-open",
    "covering radius": "square-open",
}


def escape_plotly(text: Any) -> str:
    """Make a user string safe to show in a plotly hover label, legend entry or title.

    Plotly renders a subset of HTML in every text it draws (``<a href>``, ``<span style>``,
    ``<b>``, ``<br>`` ...), substitutes ``%{...}`` in hover templates, and hands ``$...$`` to
    MathJax when the page has it. This escapes ``& < >`` as HTML entities and ``%``, ``$`` as
    numeric entities, which plotly.js turns back into the plain characters when drawing.

    Parameters
    ----------
    text : object
        Converted with ``str``.

    Returns
    -------
    str
        Shows exactly ``str(text)`` on the map.

    Examples
    --------
    >>> escape_plotly('<a href="https://x.test">login</a> 100%{x}')
    '&lt;a href="https://x.test"&gt;login&lt;/a&gt; 100&#37;{x}'
    """
    s = html.escape(str(text), quote=False)
    return s.replace("%", "&#37;").replace("$", "&#36;")


def f32(a: Any) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(a, dtype=np.float32))


@dataclass(frozen=True)
class Overlay:
    """Handle of one layer of the map, returned by :meth:`MapView.add_overlay` and
    :meth:`MapView.add_regions`.

    Attributes
    ----------
    name : str
        Legend entry (as given, unescaped).
    trace : int
        Index of its trace in ``MapView.fig.data`` (plotly's ``curveNumber``).
    kind : {"points", "regions"}
    """

    name: str
    trace: int
    kind: str = "points"


class SyncedFigureWidget(go.FigureWidget):
    """A plotly FigureWidget whose synced state is always the figure's current data.

    Plotly sends its data to the browser once (the ``_widget_data`` / ``_widget_layout``
    traits, filled at construction and again on each display), then only as restyle /
    relayout messages, which reach the front ends connected at that moment. A front end that
    connects later (a page reload, Voila rendering after the notebook ran, a second view)
    asks the kernel for the widget's state, which ipywidgets builds with
    :meth:`ipywidgets.Widget.get_state` (``request_state`` / ``request_states``). Overriding
    that public method to read the figure's current traces and layout (``to_plotly_json()``
    of each, public plotly API) gives late front ends the current map, sends nothing
    on updates and writes none of plotly's private attributes.
    """

    def get_state(self, key: Any = None, drop_defaults: bool = False) -> dict:
        state = super().get_state(key=key, drop_defaults=drop_defaults)
        keys = None if key is None else {key} if isinstance(key, str) else set(key)
        # only a full state request (a new front end) or an explicit one copies the figure;
        # the restyle / relayout messages of every update stay as small as plotly makes them
        for name, current in (
            ("_widget_data", lambda: [tr.to_plotly_json() for tr in self.data]),
            ("_widget_layout", lambda: self.layout.to_plotly_json()),
        ):
            if keys is not None and name not in keys:
                continue
            try:
                value = current()
            except AttributeError:  # called by ipywidgets before the figure is built
                continue
            to_json = self.trait_metadata(name, "to_json") or self._trait_to_json
            state[name] = to_json(value, self)
        return state


def overlay_trace(name: str, hover: str, marker: dict) -> go.Scatter:
    """An empty trace of points (an overlay); ``name`` and ``hover`` are escaped."""
    return go.Scatter(
        x=[],
        y=[],
        mode="markers",
        name=escape_plotly(name),
        marker=marker,
        hovertemplate=f"#%{{customdata}} {escape_plotly(hover)}<extra></extra>",
        unselected=dict(marker=dict(opacity=1.0)),
    )


def score_contour_trace(name: str) -> go.Contour:
    """An empty contour trace of lines only (levels 0.2, 0.4, 0.6, 0.8 of a score in [0, 1],
    labelled), e.g. the acquisition score over a 2-D plane."""
    return go.Contour(
        name=escape_plotly(name),
        showlegend=True,
        showscale=False,
        zmin=0,
        zmax=1,
        hoverinfo="skip",
        contours=dict(coloring="lines", start=0.2, end=0.8, size=0.2, showlabels=True),
        colorscale=[[0, "#7b3294"], [1, "#7b3294"]],
        line=dict(width=1.5, dash="dot"),
        contours_labelfont=dict(size=11, color="#7b3294"),
    )


def regions_trace(name: str, colours: Sequence[str], opacity: float) -> go.Contour:
    """An empty contour trace of class-coloured regions (one colour per class code)."""
    k = len(colours)
    scale: list[list] = []
    for c, col in enumerate(colours):
        scale += [[c / k, col], [(c + 1) / k, col]]
    return go.Contour(
        name=escape_plotly(name),
        showlegend=True,
        showscale=False,
        colorscale=scale,
        zmin=-0.5,
        zmax=k - 0.5,
        opacity=opacity,
        hoverinfo="skip",
        contours=dict(coloring="heatmap", start=0.5, end=max(k - 1.5, 0.5), size=1, showlines=True),
        line=dict(color="#222", width=1.5),
    )


#: Title placement under plotly's toolbar: anchored to the top of the plot area, inside a
#: top margin of at least 60 px, so the toolbar (top right of the figure) never covers it.
TITLE_BELOW_TOOLBAR: dict[str, Any] = dict(
    x=0.01,
    xref="container",
    y=1,
    yref="paper",
    yanchor="bottom",
    pad=dict(b=8),
    font=dict(size=15),
)


def build_map_figure(
    classes: Sequence[str], projection: str, title: str, *, hover_text: bool
) -> tuple[SyncedFigureWidget, list[Overlay]]:
    """The empty map: the pool trace (0), then one overlay per class, "unsure", "last labeled"
    and "current batch".

    Parameters
    ----------
    classes : sequence of str
        Class names (legend entries; escaped).
    projection : str
        Projection name (axis titles, ``uirevision``).
    title : str
        Figure title (already escaped).
    hover_text : bool
        Whether the pool trace shows a per-item text on hover.

    Returns
    -------
    fig : SyncedFigureWidget
    handles : list of Overlay
        The built-in overlays, in trace order.
    """
    hover = (
        "#%{customdata}: %{text}<extra></extra>" if hover_text else "#%{customdata}<extra></extra>"
    )
    traces = [
        go.Scattergl(
            mode="markers",
            name="pool items",
            marker=dict(
                colorscale="Viridis",
                cmin=0.0,
                cmax=1.0,
                size=5,
                opacity=0.75,
                colorbar=dict(title=dict(text="uncertainty", side="right"), thickness=14),
            ),
            hovertemplate=hover,
            # a selection enlarges the selected points instead of fading the others, so a
            # selection left behind in the browser never leaves the map faded
            selected=dict(marker=dict(size=9, opacity=1.0)),
            unselected=dict(marker=dict(opacity=0.75)),
        )
    ]
    builtin: list[tuple[str, str, dict]] = []
    for c, name in enumerate(classes):
        builtin.append(
            (
                f"labeled: {name}",
                f"labeled {name}",
                dict(
                    color=CLASS_COLOURS[c % len(CLASS_COLOURS)],
                    symbol=CLASS_SYMBOLS[(c // len(CLASS_COLOURS)) % len(CLASS_SYMBOLS)],
                    size=9,
                    line=dict(color="black", width=1),
                ),
            )
        )
    builtin += [
        (
            "unsure",
            "unsure",
            dict(symbol="x-thin-open", size=10, color="#555", line=dict(width=2)),
        ),
        (
            # a thin ring around the class colour, never covering it (a bulk label stays
            # readable)
            "last labeled",
            "just labeled",
            dict(symbol="hexagon-open", size=15, color="#111", line=dict(width=1.2)),
        ),
        (
            # magenta: not a class colour, visible on every colour of the scale
            "current batch",
            "in the batch",
            dict(symbol="circle-open", size=17, color=BATCH_COLOUR, line=dict(width=3)),
        ),
    ]
    handles = []
    for name, what, marker in builtin:
        handles.append(Overlay(name, len(traces)))
        traces.append(overlay_trace(name, what, marker))
    fig = SyncedFigureWidget(data=traces)
    fig.update_layout(
        # the title sits just above the plot, under plotly's toolbar (which never covers it)
        title=dict(text=title, **TITLE_BELOW_TOOLBAR),
        xaxis=dict(title=dict(text=escape_plotly(f"{projection} 1")), zeroline=False),
        yaxis=dict(title=dict(text=escape_plotly(f"{projection} 2")), zeroline=False),
        legend=dict(
            orientation="h", yanchor="top", y=-0.12, x=0, font=dict(size=11), entrywidth=105
        ),
        height=580,
        margin=dict(l=55, r=20, t=62, b=120),
        dragmode="lasso",
        uirevision=projection,  # keep the user's zoom and pan across updates
        template="plotly_white",
        hovermode="closest",
    )
    return fig, handles


def clear_selection(fig: go.FigureWidget) -> None:
    """Drop the box / lasso selection shown in the browser.

    The browser keeps the selection in its own state, which the Python figure does not
    mirror (selections arrive as custom messages), so a plain ``selectedpoints=None`` would
    be no change to plotly.py and never sent. Send "every point selected" (which looks like
    no selection) and then ``None``.
    """
    every = [
        np.arange(len(tr.x) if getattr(tr, "x", None) is not None else 0, dtype=np.int32)
        for tr in fig.data
    ]
    fig.plotly_restyle({"selectedpoints": every})
    fig.plotly_restyle({"selectedpoints": [None] * len(fig.data)})
    fig.plotly_relayout({"selections": []})
