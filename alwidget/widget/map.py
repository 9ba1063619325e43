"""The embedding map: one plotly FigureWidget, built once, updated in place, owned by MapView.

Trace 0 is the pool (``scattergl``) coloured by uncertainty, a float32 array on a fixed 0..1
scale sent as a binary buffer. Above a display cap it shows a seeded sample of the pool;
labeled, unsure and batch items are always drawn, as small overlay traces on top: one per
class for the labeled items, then "unsure", "last labeled" and "current batch".

:class:`MapView` is the only code that touches the figure. Other panels (the teaching panel's
"would pick" points, replay picks, decision regions, colour by dispersion) draw through its
overlay API: :meth:`MapView.add_overlay` / :meth:`MapView.set_overlay` (points given as pool
indices), :meth:`MapView.add_regions` / :meth:`MapView.set_regions` (a class-coloured grid)
and :meth:`MapView.recolour` (one value per pool item; the map picks the displayed sample).

Clicks and box / lasso selections reach Python through ONE channel, :meth:`MapView.handle_event`
(why: see :mod:`alwidget.widget.events`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from .events import Listeners, MapPoints
from .figure import (
    CLASS_COLOURS,
    Overlay,
    SyncedFigureWidget,
    build_map_figure,
    clear_selection,
    escape_plotly,
    f32,
    overlay_trace,
    regions_trace,
    score_contour_trace,
)

__all__ = [
    "CLASS_COLOURS",
    "DEFAULT_MAX_POINTS",
    "MapView",
    "Overlay",
    "SyncedFigureWidget",
    "escape_plotly",
]

DEFAULT_MAX_POINTS = 50_000

_EMPTY = np.empty(0, dtype=np.int64)


class MapView(MapPoints):
    """The map: builds the figure and is the only code that changes it.

    Parameters
    ----------
    xy : ndarray of shape (n_samples, 2)
        Map coordinates (stored as float32).
    classes : sequence of str
        Class names (legend entries of the labeled overlays; shown escaped).
    projection : str, default="PCA"
        Name of the projection, shown in the title and axis labels.
    hover_text : sequence of str, optional
        One short text per pool item, shown on hover (escaped: markup shows as typed). Sent
        once, never on updates.
    max_points : int, default=50_000
        Display cap for the pool trace: above it a seeded random sample of the pool is drawn
        (labeled, unsure and batch items are always drawn by their overlays).
    random_state : int, default=0
        Seed of that sample.
    shown : array-like of int, optional
        The pool items trace 0 draws, instead of the seeded sample (a Dask pool's map holds
        a sample: :class:`alwidget.dask_map.DaskProjection`; its other items get coordinates
        through :meth:`place`).

    Attributes
    ----------
    fig : plotly.graph_objects.FigureWidget
        The figure to display. Change it only through this class.
    xy : ndarray of shape (n_samples, 2), float32
        Current coordinates.
    shown : ndarray of shape (n_shown,), int64
        Pool indices drawn by trace 0, sorted (all of them up to ``max_points``).
    class_overlays : list of Overlay
        The labeled items of each class; then ``unsure_overlay``, ``last_overlay`` and
        ``batch_overlay``.

    Examples
    --------
    >>> import numpy as np
    >>> m = MapView(np.random.default_rng(0).normal(size=(100, 2)), ["cat", "dog"])
    >>> picks = m.add_overlay("entropy's pick", symbol="x", size=11, color="#2ca02c")
    >>> m.set_overlay(picks, [3, 14, 15])
    >>> m.pool_indices(picks.trace, [1]).tolist()
    [14]
    >>> m.recolour(np.linspace(0, 1, 100), "label dispersion")
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
        shown: Any = None,
    ) -> None:
        self.classes = [str(c) for c in classes]
        self.xy = np.asarray(xy, dtype=np.float32)
        if self.xy.ndim != 2 or self.xy.shape[1] != 2:
            raise ValueError(f"xy must have shape (n_samples, 2); got {self.xy.shape}")
        self.projection = projection
        self.max_points = int(max_points)
        n = self.n_samples = len(self.xy)
        if shown is not None:  # seam: the items of a sampled map (alwidget.dask_map)
            self.shown = np.unique(np.asarray(shown, dtype=np.int64))
        elif n > max_points:
            rng = np.random.default_rng(random_state)
            self.shown = np.sort(rng.choice(n, size=max_points, replace=False)).astype(np.int64)
        else:
            self.shown = np.arange(n, dtype=np.int64)
        self._points: dict[int, np.ndarray] = {}  # trace -> pool indices drawn by it
        self._overlays: dict[int, Overlay] = {}
        self._point_cbs: Listeners[[int]] = Listeners()
        self._select_cbs: Listeners[[np.ndarray]] = Listeners()

        fig, handles = build_map_figure(
            self.classes, projection, self._title("uncertainty"), hover_text=hover_text is not None
        )
        self.fig = fig
        for h in handles:
            self._register(h)
        k = len(self.classes)
        self.class_overlays = handles[:k]
        self.unsure_overlay, self.last_overlay, self.batch_overlay = handles[k:]
        # Arrays in a FigureWidget's initial state do not reach a front end that is already
        # connected (plotly 7 + anywidget); the same arrays sent as a restyle do, as binary
        # buffers.
        self.set_xy(self.xy, projection)
        if hover_text is not None:
            text = [escape_plotly(hover_text[int(i)]) for i in self.shown]
            fig.plotly_restyle({"text": [text]}, [0])

    # -- building --------------------------------------------------------------------------
    def _register(self, overlay: Overlay) -> Overlay:
        self._overlays[overlay.trace] = overlay
        if overlay.kind == "points":
            self._points[overlay.trace] = _EMPTY
        return overlay

    @property
    def n_overlays(self) -> int:
        """Number of built-in overlay traces (labeled per class, unsure, last, batch)."""
        return len(self.classes) + 3

    @property
    def overlays(self) -> list[Overlay]:
        """Every overlay of the map (built-in first), in trace order."""
        return [self._overlays[t] for t in sorted(self._overlays)]

    def _title(self, measure: str) -> str:
        return escape_plotly(f"Embedding map ({self.projection}): colour = {measure}")

    def add_overlay(self, name: str, *, hover: str | None = None, **marker: Any) -> Overlay:
        """Add an empty layer of points on top of the map.

        Parameters
        ----------
        name : str
            Legend entry (escaped).
        hover : str, optional
            Hover label after the item number (escaped); default ``name``.
        **marker
            Plotly marker properties (``symbol``, ``size``, ``color``, ``line`` ...).

        Returns
        -------
        Overlay
            Pass it to :meth:`set_overlay`. Clicks and selections on its points come back as
            pool indices through :meth:`on_point` / :meth:`on_select`.
        """
        trace = len(self.fig.data)
        self.fig.add_trace(overlay_trace(name, name if hover is None else hover, marker))
        return self._register(Overlay(str(name), trace))

    def add_regions(
        self, name: str, colours: Sequence[str] = (), *, opacity: float = 0.22, lines: bool = False
    ) -> Overlay:
        """Add an empty layer of coloured regions under the points (e.g. the model's decision
        regions on 2-D data), or with ``lines`` of score contours in [0, 1] (e.g. the
        acquisition score); filled by :meth:`set_regions`.

        Parameters
        ----------
        name : str
            Legend entry (escaped).
        colours : sequence of str
            One colour per class code ``0..k-1``.
        opacity : float, default=0.22

        Returns
        -------
        Overlay
            ``kind="regions"``; events on it give no pool indices.
        """
        trace = len(self.fig.data)
        self.fig.add_trace(
            score_contour_trace(name) if lines else regions_trace(name, colours, opacity)
        )
        return self._register(Overlay(str(name), trace, "regions"))

    def set_shapes(self, shapes: Sequence[dict]) -> None:
        """Replace the figure's shapes (plotly layout shapes, e.g. the covering-radius ring of
        :func:`alwidget.widget.colours.show_coverage`); ``[]`` removes them."""
        self.fig.layout.shapes = [dict(sh) for sh in shapes]

    def set_heading(self, text: str) -> None:
        """Set the figure title (escaped); :meth:`recolour` and :meth:`update` reset it."""
        self.fig.layout.title.text = escape_plotly(text)

    def _check(self, overlay: Overlay, kind: str) -> None:
        if self._overlays.get(overlay.trace) != overlay or overlay.kind != kind:
            raise ValueError(f"{overlay!r} is not a {kind} overlay of this map")

    # -- updates ---------------------------------------------------------------------------
    def set_overlay(self, overlay: Overlay, pool_indices: Iterable[int] | np.ndarray) -> None:
        """Draw the given pool items (and only those) on an overlay.

        Parameters
        ----------
        overlay : Overlay
            From :meth:`add_overlay` (or a built-in one).
        pool_indices : array-like of shape (m,), int
            Any pool items, whether or not the pool trace shows them.

        Raises
        ------
        ValueError
            If an index is outside ``0..n_samples-1`` or the overlay is not a point overlay of
            this map.
        """
        self.set_overlays({overlay: pool_indices})

    def set_overlays(self, groups: Mapping[Overlay, Iterable[int] | np.ndarray]) -> None:
        """Like :meth:`set_overlay` for several overlays at once (one message to the browser)."""
        if not groups:
            return
        traces, xs, ys, ids = [], [], [], []
        for overlay, idx in groups.items():
            self._check(overlay, "points")
            g = np.asarray(list(idx) if not isinstance(idx, np.ndarray) else idx, dtype=np.int64)
            g = g.reshape(-1)
            if g.size and (g.min() < 0 or g.max() >= self.n_samples):
                raise ValueError(
                    f"pool indices must be in 0..{self.n_samples - 1}; got {g.min()}..{g.max()}"
                )
            self._points[overlay.trace] = g
            traces.append(overlay.trace)
            xs.append(np.ascontiguousarray(self.xy[g, 0]))
            ys.append(np.ascontiguousarray(self.xy[g, 1]))
            ids.append(g.astype(np.int32))
        # one message setting the same properties on every trace it names: a batch_update
        # mixing traces sends "undefined" for the properties a trace lacks, and the front end
        # then drops that trace's x/y
        self.fig.plotly_restyle({"x": xs, "y": ys, "customdata": ids}, traces)

    def set_regions(
        self,
        overlay: Overlay,
        x: np.ndarray | None,
        y: np.ndarray | None = None,
        z: np.ndarray | None = None,
    ) -> None:
        """Fill (or with ``x=None`` clear) a regions overlay.

        Parameters
        ----------
        overlay : Overlay
            From :meth:`add_regions`.
        x : ndarray of shape (g,), float
            Grid columns in map coordinates.
        y : ndarray of shape (h,), float
            Grid rows.
        z : array-like of shape (h, g)
            Class code of each grid cell (int), or a score (float, for ``lines``).
        """
        self._check(overlay, "regions")
        if x is None:
            self.fig.plotly_restyle({"x": [[]], "y": [[]], "z": [[]]}, [overlay.trace])
            return
        z = np.asarray(z)
        zz = (z.astype(np.int8) if z.dtype.kind in "iub" else z.astype(np.float32)).tolist()
        self.fig.plotly_restyle({"x": [f32(x)], "y": [f32(y)], "z": [zz]}, [overlay.trace])

    def _colour(self, values: np.ndarray) -> np.ndarray:
        colour = np.asarray(values, dtype=np.float32).reshape(-1)
        if len(colour) == self.n_samples:
            colour = colour[self.shown]
        elif len(colour) != len(self.shown):
            raise ValueError(f"need one value per pool item ({self.n_samples}); got {len(colour)}")
        return np.ascontiguousarray(colour)

    def recolour(self, values: np.ndarray, title: str, *, heading: str | None = None) -> None:
        """Colour the pool points by any per-item value.

        Parameters
        ----------
        values : ndarray of shape (n_samples,)
            One value per pool item on the colour bar's fixed 0..1 scale; the map picks the
            displayed sample itself (above ``max_points``), so colours stay on their items.
        title : str
            Colour bar title; the figure title becomes "Embedding map (...): colour = title".
        heading : str, optional
            A different figure title (e.g. "Replay of round 3 ...").

        Raises
        ------
        ValueError
            If ``values`` does not hold one value per pool item.
        """
        colour = self._colour(values)
        label = str(title)
        with self.fig.batch_update():
            self.fig.data[0].marker.color = colour
            self.fig.data[0].marker.colorbar.title.text = escape_plotly(label)
            self.fig.layout.title.text = (
                self._title(label) if heading is None else escape_plotly(heading)
            )

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
        """Recolour the pool by uncertainty and redraw the built-in overlays.

        Parameters
        ----------
        uncertainty : ndarray of shape (n_samples,)
            Values in [0, 1]; sent as float32 (only the displayed sample above the cap).
        labels : ndarray of shape (n_samples,), int
            Label codes, -1 for unlabeled.
        batch : ndarray of shape (k,), int
            Pool indices of the current batch.
        measure : str
            Colour-bar title: what the colour shows and its direction (see
            :mod:`alwidget.widget.colours`).
        unsure : ndarray of shape (m,), int, optional
            Pool indices answered "unsure".
        last : ndarray of shape (j,), int, optional
            Pool indices labeled by the last submit.
        """
        self.recolour(uncertainty, str(measure))
        labels = np.asarray(labels)
        groups: dict[Overlay, np.ndarray] = {
            h: np.flatnonzero(labels == c) for c, h in enumerate(self.class_overlays)
        }
        for h, extra in (
            (self.unsure_overlay, unsure),
            (self.last_overlay, last),
            (self.batch_overlay, batch),
        ):
            groups[h] = _EMPTY if extra is None else np.asarray(extra, np.int64)
        self.set_overlays(groups)

    def set_xy(self, xy: np.ndarray, projection: str) -> None:
        """Move every point to new coordinates (e.g. UMAP replacing PCA); every point overlay
        follows at once."""
        xy = np.asarray(xy, dtype=np.float32)
        if xy.shape != (self.n_samples, 2):
            raise ValueError(f"xy must have shape ({self.n_samples}, 2); got {xy.shape}")
        self.xy = xy
        self.projection = projection
        fig = self.fig
        shown = self.xy[self.shown]
        with fig.batch_update():
            fig.data[0].x = np.ascontiguousarray(shown[:, 0])
            fig.data[0].y = np.ascontiguousarray(shown[:, 1])
            fig.data[0].customdata = self.shown.astype(np.int32)
            fig.layout.xaxis.title.text = escape_plotly(f"{projection} 1")
            fig.layout.yaxis.title.text = escape_plotly(f"{projection} 2")
            # the data itself: one unit is as long on both axes (distances and rings true)
            fig.layout.yaxis.scaleanchor = "x" if projection == "feature" else None
            if fig.layout.uirevision != projection:
                fig.layout.uirevision = projection  # new coordinates: reset the view once
        drawn = {self._overlays[t]: g for t, g in self._points.items() if g.size}
        self.set_overlays(drawn)

    def place(self, indices: np.ndarray, xy: np.ndarray) -> None:
        """Set the coordinates of some pool items (on a map that holds a sample, the items
        placed as they are answered or batched); overlays drawn after this use them, trace 0
        is not resent."""
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        self.xy[idx] = np.asarray(xy, dtype=np.float32).reshape(-1, 2)

    def grow(self, xy: np.ndarray, hover_text: Sequence[str] | None = None) -> None:
        """Take new pool items (appended to the pool): ``xy`` holds every item's coordinates,
        the new ones last; new items are drawn while the map is under ``max_points``."""
        xy = np.asarray(xy, dtype=np.float32)
        n_old, n = self.n_samples, len(xy)
        if xy.ndim != 2 or xy.shape[1] != 2 or n < n_old:
            raise ValueError(f"xy must have shape (n >= {n_old}, 2); got {xy.shape}")
        room = max(0, self.max_points - len(self.shown))
        self.shown = np.concatenate([self.shown, np.arange(n_old, n_old + min(room, n - n_old))])
        self.n_samples = n
        self.xy = xy
        self.set_xy(xy, self.projection)
        if hover_text is not None:
            text = [escape_plotly(hover_text[int(i)]) for i in self.shown]
            self.fig.plotly_restyle({"text": [text]}, [0])

    def clear_selection(self) -> None:
        """Drop the box / lasso selection shown on the map (see
        :func:`alwidget.widget.figure.clear_selection`)."""
        clear_selection(self.fig)
