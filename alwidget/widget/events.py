"""Map events for the labeling widget: clicks and box / lasso selections on the plotly map
(a tiny anywidget, no build step). Keys are handled by the cards themselves
(:mod:`alwidget.widget.cards`).

Clicks and selections are forwarded from plotly's own ``plotly_click`` / ``plotly_selected`` /
``plotly_deselect`` events of the map inside the same labeling widget, as custom messages
``{"type": "click" | "selected" | "deselect", "traces": [int], "points": [int]}`` (never as
trait updates: ipywidgets coalesces trait updates while a message is in flight, so a selection
made while the pointer hovers could be lost), and passed to the callbacks of
:meth:`BrowserEvents.on_map_event` (the widget passes them to
:meth:`alwidget.widget.map.MapView.handle_event`).
"""

from __future__ import annotations

import pathlib
from collections.abc import Callable

import anywidget

__all__ = ["BrowserEvents"]


class BrowserEvents(anywidget.AnyWidget):
    """Forwards clicks and selections on the map of the same labeling widget to Python."""

    _esm = pathlib.Path(__file__).parent / "static" / "map_events.js"

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._map_callbacks: list[Callable[[str, list[int], list[int]], None]] = []
        self.on_msg(self._on_msg)

    def on_map_event(self, callback: Callable[[str, list[int], list[int]], None]) -> None:
        """Call ``callback(kind, trace_indexes, point_indexes)`` for a map click
        (``kind="click"``), a box / lasso selection (``"selected"``) or its clearing
        (``"deselect"``)."""
        self._map_callbacks.append(callback)

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
            for cb in list(self._map_callbacks):
                cb(kind, traces, points)
