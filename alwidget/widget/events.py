"""Map events for the labeling widget: clicks and box / lasso selections on the plotly map
(a tiny anywidget, no build step). Keys are handled by the cards themselves
(:mod:`alwidget.widget.cards`).

Clicks and selections are forwarded from plotly's own ``plotly_click`` / ``plotly_selected`` /
``plotly_deselect`` events of the map inside the same labeling widget, as custom messages
``{"type": "click" | "selected" | "deselect", "traces": [int], "points": [int]}`` (never as
trait updates: ipywidgets coalesces trait updates while a message is in flight, so a selection
made while the pointer hovers could be lost), and passed to the callbacks of
:meth:`BrowserEvents.on_map_event` (the widget passes them to
:meth:`alwidget.widget.map.MapView.handle_event`, which :func:`dispatch_map_event` turns into
pool indices for the map's listeners).

Why custom messages
-------------------
Clicks and box / lasso selections reach Python through ONE documented channel,
:meth:`~alwidget.widget.map.MapView.handle_event` (``kind``, plotly ``curveNumber`` s, ``pointNumber`` s), fed today
by :class:`~alwidget.widget.events.BrowserEvents` as custom messages. Plotly's own
FigureWidget callbacks (``trace.on_click`` / ``on_selection``) are not used: its front end
sends hover, unhover, click and selection events through one synced trait
(``_js2py_pointsCallback``) on every pointer move, whether or not Python listens, and
ipywidgets keeps only the newest value of a trait while an earlier update of the widget is
still waiting for the kernel. So a lasso followed by the pointer moving on over points (what a
user's hand does) can be overwritten by the hovers before it reaches Python. Measured in
JupyterLab 4.6 + Chromium (``tests/browser/test_map_events_lab.py``, plotly 7.1, ipywidgets
8.1, ipykernel 7.4): plotly's callbacks missed the lasso in 3 of 6 runs with an idle kernel
and one of 4 clicks in 1 of 4 runs during a busy cell; the custom-message channel delivered
every click and lasso, in order, in all runs (after the busy cell ended). Custom messages are
queued one by one and never merged.
"""

from __future__ import annotations

import pathlib
from collections.abc import Callable, Sequence
from typing import Any, Generic, ParamSpec

import anywidget
import numpy as np

__all__ = ["BrowserEvents", "Listeners", "MapPoints", "dispatch_map_event"]

P = ParamSpec("P")


class Listeners(Generic[P]):
    """A removable list of callbacks, called in the order they were registered.

    ``register(cb)`` adds ``cb`` (once: registering it again does nothing),
    ``register(cb, remove=True)`` removes it, as ipywidgets' ``on_click(cb, remove=True)``.
    Unlike :class:`ipywidgets.CallbackDispatcher`, an exception in a callback propagates (a
    broken listener is an error the caller sees, not a log line).

    Examples
    --------
    >>> seen = []
    >>> on_pick = Listeners()
    >>> on_pick.register(seen.append)
    >>> on_pick(3)
    >>> on_pick.register(seen.append, remove=True)
    >>> on_pick(4)
    >>> seen, len(on_pick)
    ([3], 0)
    """

    def __init__(self) -> None:
        self._callbacks: list[Callable[P, Any]] = []

    def register(self, callback: Callable[P, Any], remove: bool = False) -> None:
        """Add ``callback`` (or with ``remove=True`` remove it; removing an unknown one does
        nothing)."""
        if remove:
            self._callbacks = [cb for cb in self._callbacks if cb != callback]
        elif callback not in self._callbacks:
            self._callbacks.append(callback)

    def __len__(self) -> int:
        return len(self._callbacks)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> None:
        for cb in list(self._callbacks):
            cb(*args, **kwargs)


def dispatch_map_event(
    pool_indices: Callable[[int, Sequence[int]], np.ndarray],
    on_point: Callable[[int], None],
    on_select: Callable[[np.ndarray], None],
    event: str,
    trace_indexes: Sequence[int],
    point_indexes: Sequence[int],
) -> None:
    """Turn one map event into pool indices: ``on_point(pool_index)`` for the first clicked
    point that is a pool item, ``on_select(pool_indices)`` (int64, sorted, unique) for a
    selection, ``on_select(empty)`` when it is cleared.

    ``pool_indices(trace, point_numbers)`` maps a trace's points to pool indices (empty for a
    layer without pool items); see :meth:`alwidget.widget.map.MapView.pool_indices`.
    """
    traces = list(trace_indexes)
    points = list(point_indexes)
    if event == "click":
        for t, p in zip(traces, points, strict=False):
            hit = pool_indices(int(t), [p])
            if hit.size:
                on_point(int(hit[0]))
                return
    elif event == "selected":
        ts = np.asarray(traces, dtype=np.int64)
        got = [
            pool_indices(int(t), [p for p, tt in zip(points, traces, strict=False) if tt == t])
            for t in np.unique(ts)
        ]
        sel = np.unique(np.concatenate(got)) if got else np.empty(0, np.int64)
        on_select(sel.astype(np.int64))
    elif event == "deselect":
        on_select(np.empty(0, np.int64))


class BrowserEvents(anywidget.AnyWidget):
    """Forwards clicks and selections on the map of the same labeling widget to Python."""

    _esm = pathlib.Path(__file__).parent / "static" / "map_events.js"

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._map_callbacks: Listeners[[str, list[int], list[int]]] = Listeners()
        self.on_msg(self._on_msg)

    def on_map_event(
        self, callback: Callable[[str, list[int], list[int]], None], remove: bool = False
    ) -> None:
        """Call ``callback(kind, trace_indexes, point_indexes)`` for a map click
        (``kind="click"``), a box / lasso selection (``"selected"``) or its clearing
        (``"deselect"``); ``remove=True`` stops calling it."""
        self._map_callbacks.register(callback, remove=remove)

    def send_map_event(self, kind: str, traces: list[int], points: list[int]) -> None:
        """Act as the browser would for a map event (scripts and tests)."""
        self._on_msg(self, {"type": kind, "traces": traces, "points": points}, [])

    def _on_msg(self, _widget: object, content: dict, _buffers: object) -> None:
        if not isinstance(content, dict):
            return
        kind = content.get("type")
        if kind in ("click", "selected", "deselect"):
            traces = [int(t) for t in content.get("traces") or []]
            points = [int(p) for p in content.get("points") or []]
            self._map_callbacks(kind, traces, points)


class MapPoints:
    """Which pool items the map's traces hold, and the map's click / selection listeners:
    the base of :class:`~alwidget.widget.map.MapView`.

    Attributes
    ----------
    shown : ndarray of shape (n_shown,), int64
        Pool indices drawn by trace 0 (the pool).
    _points : dict of int to ndarray
        Pool indices drawn by each point overlay, by trace number.
    """

    shown: np.ndarray
    _points: dict[int, np.ndarray]
    _point_cbs: Listeners[[int]]
    _select_cbs: Listeners[[np.ndarray]]

    # -- events ----------------------------------------------------------------------------
    def on_point(self, callback: Callable[[int], None], remove: bool = False) -> None:
        """Call ``callback(pool_index)`` when the user clicks a point of any point layer
        (``remove=True``: stop calling it, as ipywidgets' ``on_click``)."""
        self._point_cbs.register(callback, remove=remove)

    def on_select(self, callback: Callable[[np.ndarray], None], remove: bool = False) -> None:
        """Call ``callback(pool_indices)`` (int64, sorted, unique) after a box / lasso
        selection, and with an empty array when the selection is cleared (``remove=True``:
        stop calling it)."""
        self._select_cbs.register(callback, remove=remove)

    def pool_indices(self, trace_index: int, point_inds: Sequence[int] | np.ndarray) -> np.ndarray:
        """Map a trace's point indices back to pool indices.

        Parameters
        ----------
        trace_index : int
            Plotly's ``curveNumber``.
        point_inds : sequence of int
            Plotly's ``pointNumber`` s on that trace.

        Returns
        -------
        ndarray of shape (m,), int64
            Empty for a trace that holds no pool items (regions, a trace the map does not
            know); point numbers the trace does not have (a stale event) are dropped.
        """
        src = self.shown if int(trace_index) == 0 else self._points.get(int(trace_index))
        try:
            pts = np.asarray(point_inds, dtype=np.int64).reshape(-1)
        except (TypeError, ValueError):  # e.g. [row, col] pairs of a grid trace
            return np.empty(0, dtype=np.int64)
        if src is None or pts.size == 0:
            return np.empty(0, dtype=np.int64)
        return src[pts[(pts >= 0) & (pts < len(src))]]

    def handle_event(
        self, event: str, trace_indexes: Sequence[int], point_indexes: Sequence[int]
    ) -> None:
        """Dispatch a map event from the browser to :meth:`on_point` / :meth:`on_select`.

        This is the map's one event channel (see :mod:`alwidget.widget.events` for why
        plotly's own FigureWidget callbacks are not used).

        Parameters
        ----------
        event : {"click", "selected", "deselect"}
        trace_indexes, point_indexes : sequences of int, same length
            Plotly's ``curveNumber`` and ``pointNumber`` of each point of the event. Points on
            layers without pool items are ignored; a click only on such points does nothing.
        """
        dispatch_map_event(
            self.pool_indices,
            self._point_cbs,
            self._select_cbs,
            event,
            trace_indexes,
            point_indexes,
        )
