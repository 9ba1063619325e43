"""The embedding map: one plotly FigureWidget, built once, updated in place.

Trace 0 is the whole pool (``scattergl``) coloured by uncertainty, a float32 array on a fixed
0..1 scale (sent as a binary buffer). Labeled items (one small trace per class) and the
current batch are overlay traces on top.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

__all__ = ["MapView"]

CLASS_COLOURS = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
]  # fmt: skip
CLASS_SYMBOLS = ["circle", "square", "diamond", "cross", "triangle-up", "x", "star", "hexagon"]


class MapView:
    """Builds and updates the map figure.

    Parameters
    ----------
    xy : ndarray of shape (n_samples, 2), float32
        Map coordinates.
    classes : sequence of str
        Class names (legend entries of the labeled overlays).
    projection : str
        Name of the projection, shown in the title and axis labels.
    """

    def __init__(self, xy: np.ndarray, classes: Sequence[str], projection: str = "PCA") -> None:
        self.classes = list(classes)
        self.xy = np.asarray(xy, dtype=np.float32)
        self.projection = projection
        traces = [
            go.Scattergl(
                mode="markers",
                name="pool (colour = uncertainty)",
                marker=dict(
                    colorscale="Viridis",
                    cmin=0.0,
                    cmax=1.0,
                    size=5,
                    opacity=0.75,
                    colorbar=dict(title=dict(text="uncertainty", side="right"), thickness=14),
                ),
                hoverinfo="skip",
            )
        ]
        for c, name in enumerate(self.classes):
            traces.append(
                go.Scatter(
                    x=[], y=[], mode="markers", name=f"labeled: {name}",
                    marker=dict(
                        color=CLASS_COLOURS[c % len(CLASS_COLOURS)],
                        symbol=CLASS_SYMBOLS[(c // len(CLASS_COLOURS)) % len(CLASS_SYMBOLS)],
                        size=9, line=dict(color="black", width=1),
                    ),
                    hovertemplate=f"labeled {name}<br>#%{{customdata}}<extra></extra>",
                )
            )  # fmt: skip
        traces.append(
            go.Scatter(
                x=[], y=[], mode="markers", name="current batch",
                marker=dict(symbol="circle-open", size=16, color="#e6194b", line=dict(width=3)),
                hovertemplate="batch #%{customdata}<extra></extra>",
            )
        )  # fmt: skip
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
            dragmode="pan",
            uirevision="alwidget",  # keep the user's zoom and pan across updates
            template="plotly_white",
        )
        self.fig = fig
        # Arrays in a FigureWidget's initial state do not reach the front end (plotly 7 +
        # anywidget); the same arrays sent as a restyle do, as binary buffers.
        self.set_xy(self.xy, projection)

    def _title(self, measure: str) -> str:
        return f"Embedding map ({self.projection}): colour = {measure}"

    def update(
        self,
        uncertainty: np.ndarray,
        labels: np.ndarray,
        batch: np.ndarray,
        measure: str,
    ) -> None:
        """Recolour the pool and redraw the overlays, in one message to the front end.

        Parameters
        ----------
        uncertainty : ndarray of shape (n_samples,)
            Values in [0, 1]; sent as float32.
        labels : ndarray of shape (n_samples,), int
            Label codes, -1 for unlabeled.
        batch : ndarray of shape (k,), int
            Pool indices of the current batch.
        measure : str
            Name of the uncertainty measure (colour bar title).
        """
        colour = np.ascontiguousarray(uncertainty, dtype=np.float32)
        labels = np.asarray(labels)
        batch = np.asarray(batch, dtype=np.int64)
        fig = self.fig
        k = len(self.classes)
        xs, ys, ids = [], [], []
        for c in range(k):
            idx = np.flatnonzero(labels == c)
            xs.append(self.xy[idx, 0])
            ys.append(self.xy[idx, 1])
            ids.append(idx.astype(np.int32))
        xs.append(self.xy[batch, 0])
        ys.append(self.xy[batch, 1])
        ids.append(batch.astype(np.int32))
        # Two messages, each setting the same properties on every trace it names: a
        # batch_update mixing traces sends "undefined" for the properties a trace lacks,
        # and the front end then drops that trace's x/y.
        with fig.batch_update():
            fig.data[0].marker.color = colour
            fig.data[0].marker.colorbar.title.text = measure.replace("_", " ")
            fig.layout.title.text = self._title(measure.replace("_", " "))
        fig.plotly_restyle({"x": xs, "y": ys, "customdata": ids}, list(range(1, k + 2)))

    def set_xy(self, xy: np.ndarray, projection: str) -> None:
        """Move every point to new coordinates (e.g. UMAP replacing PCA); overlays follow
        on the next :meth:`update`."""
        self.xy = np.asarray(xy, dtype=np.float32)
        self.projection = projection
        fig = self.fig
        with fig.batch_update():
            fig.data[0].x = np.ascontiguousarray(self.xy[:, 0])
            fig.data[0].y = np.ascontiguousarray(self.xy[:, 1])
            fig.layout.xaxis.title.text = f"{projection} 1"
            fig.layout.yaxis.title.text = f"{projection} 2"
            if fig.layout.uirevision != projection:
                fig.layout.uirevision = projection  # new coordinates: reset the view once
