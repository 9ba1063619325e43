"""The embedding map: one plotly FigureWidget, built once, updated in place.

Trace 0 is the pool (``scattergl``) coloured by uncertainty, a float32 array on a fixed 0..1
scale sent as a binary buffer. Above a display cap it shows a seeded sample of the pool;
labeled, unsure and batch items are always drawn, as small overlay traces on top: one per
class for the labeled items, then "unsure", "last labeled" and "current batch".

Clicks and box / lasso selections on any trace (forwarded by
:class:`~alwidget.widget.events.BrowserEvents` through :meth:`MapView.handle_event`) come back as
pool indices through :meth:`MapView.on_point` and :meth:`MapView.on_select`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence

import numpy as np
import plotly.graph_objects as go

__all__ = ["MapView", "DEFAULT_MAX_POINTS"]

CLASS_COLOURS = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
]  # fmt: skip
CLASS_SYMBOLS = ["circle", "square", "diamond", "cross", "triangle-up", "x", "star", "hexagon"]
DEFAULT_MAX_POINTS = 50_000


class MapView:
    """Builds and updates the map figure.

    Parameters
    ----------
    xy : ndarray of shape (n_samples, 2)
        Map coordinates (stored as float32).
    classes : sequence of str
        Class names (legend entries of the labeled overlays).
    projection : str, default="PCA"
        Name of the projection, shown in the title and axis labels.
    hover_text : sequence of str, optional
        One short text per pool item, shown on hover. Sent once, never on updates.
    max_points : int, default=50_000
        Display cap for the pool trace: above it a seeded random sample of the pool is drawn
        (labeled, unsure and batch items are always drawn by their overlays).
    random_state : int, default=0
        Seed of that sample.
    """

    def __init__(
        self,
        xy: np.ndarray,
        classes: Sequence[str],
        projection: str = "PCA",
        *,
        hover_text: Sequence[str] | None = None,
        max_points: int = DEFAULT_MAX_POINTS,
        random_state: int = 0,
    ) -> None:
        self.classes = list(classes)
        self.xy = np.asarray(xy, dtype=np.float32)
        self.projection = projection
        n = len(self.xy)
        if n > max_points:
            rng = np.random.default_rng(random_state)
            self.shown = np.sort(rng.choice(n, size=max_points, replace=False)).astype(np.int64)
        else:
            self.shown = np.arange(n, dtype=np.int64)
        self._overlay_idx: dict[int, np.ndarray] = {}
        self._point_cbs: list[Callable[[int], None]] = []
        self._select_cbs: list[Callable[[np.ndarray], None]] = []
        self._acc: list[np.ndarray] = []

        hover = "#%{customdata}<extra></extra>"
        if hover_text is not None:
            hover = "#%{customdata}: %{text}<extra></extra>"
        traces = [
            go.Scattergl(
                mode="markers",
                name="pool items",
                marker=dict(
                    colorscale="Viridis", cmin=0.0, cmax=1.0, size=5, opacity=0.75,
                    colorbar=dict(title=dict(text="uncertainty", side="right"), thickness=14),
                ),
                hovertemplate=hover,
                # a selection enlarges the selected points instead of fading the others, so a
                # selection left behind in the browser never leaves the map faded
                selected=dict(marker=dict(size=9, opacity=1.0)),
                unselected=dict(marker=dict(opacity=0.75)),
            )
        ]  # fmt: skip
        for c, name in enumerate(self.classes):
            traces.append(
                go.Scatter(
                    mode="markers", name=f"labeled: {name}",
                    marker=dict(
                        color=CLASS_COLOURS[c % len(CLASS_COLOURS)],
                        symbol=CLASS_SYMBOLS[(c // len(CLASS_COLOURS)) % len(CLASS_SYMBOLS)],
                        size=9, line=dict(color="black", width=1),
                    ),
                    hovertemplate=f"#%{{customdata}} labeled {name}<extra></extra>",
                )
            )  # fmt: skip
        traces += [
            go.Scatter(
                mode="markers", name="unsure",
                marker=dict(symbol="x-thin-open", size=10, color="#555", line=dict(width=2)),
                hovertemplate="#%{customdata} unsure<extra></extra>",
            ),
            go.Scatter(
                mode="markers", name="last labeled",
                marker=dict(symbol="star-open", size=15, color="#111", line=dict(width=2)),
                hovertemplate="#%{customdata} just labeled<extra></extra>",
            ),
            go.Scatter(
                mode="markers", name="current batch",
                marker=dict(symbol="circle-open", size=16, color="#e6194b", line=dict(width=3)),
                hovertemplate="#%{customdata} in the batch<extra></extra>",
            ),
        ]  # fmt: skip
        for tr in traces[1:]:
            tr.unselected = dict(marker=dict(opacity=1.0))
        fig = go.FigureWidget(data=traces)
        fig.update_layout(
            title=dict(text=self._title("uncertainty"), x=0.01, y=0.98, font=dict(size=15)),
            xaxis=dict(title=dict(text=f"{projection} 1"), zeroline=False),
            yaxis=dict(title=dict(text=f"{projection} 2"), zeroline=False),
            legend=dict(
                orientation="h", yanchor="top", y=-0.12, x=0, font=dict(size=11), entrywidth=105
            ),
            height=560,
            margin=dict(l=55, r=20, t=40, b=120),
            dragmode="lasso",
            uirevision=projection,  # keep the user's zoom and pan across updates
            template="plotly_white",
            hovermode="closest",
        )  # fmt: skip
        self.fig = fig
        # Arrays in a FigureWidget's initial state do not reach the front end (plotly 7 +
        # anywidget); the same arrays sent as a restyle do, as binary buffers.
        self.set_xy(self.xy, projection)
        if hover_text is not None:
            text = [str(hover_text[int(i)]) for i in self.shown]
            fig.plotly_restyle({"text": [text]}, [0])
            self._sync_state()

    @property
    def n_overlays(self) -> int:
        return len(self.classes) + 3

    def _title(self, measure: str) -> str:
        return f"Embedding map ({self.projection}): colour = {measure}"

    # -- updates ---------------------------------------------------------------------------
    def update(
        self,
        uncertainty: np.ndarray,
        labels: np.ndarray,
        batch: np.ndarray,
        measure: str,
        *,
        unsure: np.ndarray | None = None,
        last: np.ndarray | None = None,
    ) -> None:
        """Recolour the pool and redraw the overlays.

        Parameters
        ----------
        uncertainty : ndarray of shape (n_samples,)
            Values in [0, 1]; sent as float32 (only the displayed sample above the cap).
        labels : ndarray of shape (n_samples,), int
            Label codes, -1 for unlabeled.
        batch : ndarray of shape (k,), int
            Pool indices of the current batch.
        measure : str
            Name of the uncertainty measure (colour bar title).
        unsure : ndarray of shape (m,), int, optional
            Pool indices answered "unsure".
        last : ndarray of shape (j,), int, optional
            Pool indices labeled by the last submit.
        """
        colour = np.asarray(uncertainty, dtype=np.float32)
        if len(self.shown) != len(colour):
            colour = colour[self.shown]
        colour = np.ascontiguousarray(colour)
        labels = np.asarray(labels)
        groups = [np.flatnonzero(labels == c) for c in range(len(self.classes))]
        for extra in (unsure, last, batch):
            groups.append(np.empty(0, np.int64) if extra is None else np.asarray(extra, np.int64))
        xs = [np.ascontiguousarray(self.xy[g, 0]) for g in groups]
        ys = [np.ascontiguousarray(self.xy[g, 1]) for g in groups]
        ids = [g.astype(np.int32) for g in groups]
        self._overlay_idx = {1 + i: g for i, g in enumerate(groups)}
        fig = self.fig
        label = measure.replace("_", " ")
        # Two messages, each setting the same properties on every trace it names: a
        # batch_update mixing traces sends "undefined" for the properties a trace lacks,
        # and the front end then drops that trace's x/y.
        with fig.batch_update():
            fig.data[0].marker.color = colour
            fig.data[0].marker.colorbar.title.text = label
            fig.layout.title.text = self._title(label)
        fig.plotly_restyle(
            {"x": xs, "y": ys, "customdata": ids}, list(range(1, 1 + self.n_overlays))
        )
        self._sync_state()

    def _sync_state(self) -> None:
        """Keep the figure's synced state equal to its data, without sending it.

        Restyle messages only reach front ends that are connected when they are sent. A front
        end that connects later (Voila renders after the notebook ran; a page reload) builds
        its plot from the widget state, which plotly only fills at construction. So store the
        current data as that state's value directly: no change event, nothing sent now.
        """
        fig = self.fig
        fig._trait_values["_widget_data"] = copy.deepcopy(fig._data)
        fig._trait_values["_widget_layout"] = copy.deepcopy(fig._layout)

    def set_xy(self, xy: np.ndarray, projection: str) -> None:
        """Move every point to new coordinates (e.g. UMAP replacing PCA); overlays follow
        on the next :meth:`update`."""
        self.xy = np.asarray(xy, dtype=np.float32)
        self.projection = projection
        fig = self.fig
        shown = self.xy[self.shown]
        with fig.batch_update():
            fig.data[0].x = np.ascontiguousarray(shown[:, 0])
            fig.data[0].y = np.ascontiguousarray(shown[:, 1])
            fig.data[0].customdata = self.shown.astype(np.int32)
            fig.layout.xaxis.title.text = f"{projection} 1"
            fig.layout.yaxis.title.text = f"{projection} 2"
            if fig.layout.uirevision != projection:
                fig.layout.uirevision = projection  # new coordinates: reset the view once
        self._sync_state()

    def clear_selection(self) -> None:
        """Drop the box / lasso selection shown on the map.

        The browser keeps the selection in its own state, which the Python figure does not
        mirror (selections arrive as custom messages), so a plain ``selectedpoints=None``
        would be no change to plotly.py and never sent. Send "every point selected" (which
        looks like no selection) and then ``None``.
        """
        fig = self.fig
        every = [np.arange(len(tr.x) if tr.x is not None else 0, dtype=np.int32) for tr in fig.data]
        fig.plotly_restyle({"selectedpoints": every})
        fig.plotly_restyle({"selectedpoints": [None] * len(fig.data)})
        fig.plotly_relayout({"selections": []})
        self._sync_state()

    # -- events ----------------------------------------------------------------------------
    def on_point(self, callback: Callable[[int], None]) -> None:
        """Call ``callback(pool_index)`` when the user clicks a point."""
        self._point_cbs.append(callback)

    def on_select(self, callback: Callable[[np.ndarray], None]) -> None:
        """Call ``callback(pool_indices)`` (int64, sorted, unique) after a box / lasso
        selection, and with an empty array when the selection is cleared."""
        self._select_cbs.append(callback)

    def pool_indices(self, trace_index: int, point_inds: Sequence[int]) -> np.ndarray:
        """Map a trace's point indices back to pool indices, int64 of shape (m,)."""
        pts = np.asarray(point_inds, dtype=np.int64)
        if trace_index == 0:
            return self.shown[pts]
        return self._overlay_idx.get(trace_index, np.empty(0, np.int64))[pts]

    def handle_event(self, event: str, trace_indexes: Sequence[int], point_indexes: Sequence[int]) -> None:
        """Dispatch a map event from the browser to :meth:`on_point` / :meth:`on_select`.

        Parameters
        ----------
        event : {"click", "selected", "deselect"}
        trace_indexes, point_indexes : sequences of int, same length
            Plotly's ``curveNumber`` and ``pointNumber`` of each point of the event.
        """
        traces = np.asarray(list(trace_indexes), dtype=np.int64)
        inds = np.asarray(list(point_indexes), dtype=np.int64)
        pool = [self.pool_indices(int(t), inds[traces == t]) for t in np.unique(traces)]
        sel = np.unique(np.concatenate(pool)) if pool else np.empty(0, np.int64)
        if event == "click" and sel.size:
            first = self.pool_indices(int(traces[0]), inds[:1])
            for cb in list(self._point_cbs):
                cb(int(first[0]))
        elif event == "selected":
            for cb in list(self._select_cbs):
                cb(sel.astype(np.int64))
        elif event == "deselect":
            for cb in list(self._select_cbs):
                cb(np.empty(0, np.int64))
