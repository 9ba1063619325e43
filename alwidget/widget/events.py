"""Browser events for the labeling widget: keyboard shortcuts and map selections (a tiny
anywidget, no build step).

Keys: the listener sits on the widget's root element (class ``alw-root``), so keys are only
taken while focus is inside the widget; the notebook keeps its own shortcuts everywhere else. A
handled key is stopped from reaching JupyterLab (which would, e.g., turn a cell into a heading
on "1").

Map: clicks and box / lasso selections on the plotly map are forwarded from plotly's own
``plotly_click`` / ``plotly_selected`` events. Everything goes as custom messages, never as trait
updates: ipywidgets coalesces trait updates while a message is in flight, so a selection made
while the pointer hovers (plotly sends hover events through the same trait) could be lost.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import anywidget
import traitlets

__all__ = ["BrowserEvents", "HANDLED_KEYS"]

HANDLED_KEYS = [str(d) for d in range(10)] + [
    "Enter", "ArrowLeft", "ArrowRight", "s", "?", "u", "Backspace",
]  # fmt: skip

_ESM = """
const HANDLED = new Set(__KEYS__);
function render({ model, el }) {
  const hint = document.createElement("div");
  hint.className = "alw-keyhint";
  el.appendChild(hint);
  let root = null;
  const setHint = () => {
    const active = root && root.contains(document.activeElement);
    hint.textContent = active
      ? "⌨ keys on: " + model.get("help")
      : "⌨ click inside the widget to use keys: " + model.get("help");
    hint.classList.toggle("alw-keys-on", !!active);
  };
  const onKey = (e) => {
    const t = e.target;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.isContentEditable)) return;
    if (!HANDLED.has(e.key)) return;
    e.preventDefault();
    e.stopPropagation();
    // a custom message, not a trait: ipywidgets coalesces trait updates while the kernel is
    // busy, which would drop keys typed quickly
    model.send({ type: "key", key: e.key });
  };
  const attach = () => {
    root = el.closest(".alw-root");
    if (!root) { requestAnimationFrame(attach); return; }
    if (!root.hasAttribute("tabindex")) root.setAttribute("tabindex", "0");
    root.setAttribute("data-lm-suppress-shortcuts", "true");
    root.addEventListener("keydown", onKey);
    root.addEventListener("focusin", setHint);
    root.addEventListener("focusout", () => setTimeout(setHint, 0));
  };
  const hookPlot = (tries) => {
    const gd = root && root.querySelector(".js-plotly-plot");
    if (!gd || !gd.on) {
      if (tries > 0) setTimeout(() => hookPlot(tries - 1), 250);
      return;
    }
    if (gd.__alwHooked) return;
    gd.__alwHooked = true;
    const send = (type, e) => {
      const pts = (e && e.points) || [];
      model.send({ type, traces: pts.map((p) => p.curveNumber),
                   points: pts.map((p) => p.pointNumber) });
    };
    gd.on("plotly_selected", (e) => { if (e) send("selected", e); });
    gd.on("plotly_click", (e) => send("click", e));
    gd.on("plotly_deselect", () => send("deselect", null));
  };
  attach();
  setHint();
  hookPlot(240);
  model.on("change:help", setHint);
  return () => { if (root) root.removeEventListener("keydown", onKey); };
}
export default { render };
""".replace("__KEYS__", json.dumps(HANDLED_KEYS))


class BrowserEvents(anywidget.AnyWidget):
    """Forwards key presses inside the widget's root element, and clicks and selections on
    its map, to Python.

    Each handled key press arrives as a custom message ``{"type": "key", "key": str}`` and is
    passed to the callbacks registered with :meth:`on_key`; :meth:`press` does the same from
    Python (tests, scripts).

    Attributes
    ----------
    help : str
        The shortcut summary shown to the user.
    """

    _esm = _ESM
    _css = """
    .alw-keyhint { font-size: 12px; color: var(--jp-ui-font-color2, #666); padding: 2px 0; }
    .alw-keyhint.alw-keys-on { color: var(--jp-brand-color1, #1976d2); }
    """
    help = traitlets.Unicode("").tag(sync=True)

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._callbacks: list[Callable[[str], None]] = []
        self._map_callbacks: list[Callable[[str, list[int], list[int]], None]] = []
        self.on_msg(self._on_msg)

    def on_map_event(self, callback: Callable[[str, list[int], list[int]], None]) -> None:
        """Call ``callback(kind, trace_indexes, point_indexes)`` for a map click
        (``kind="click"``), a box / lasso selection (``"selected"``) or its clearing
        (``"deselect"``)."""
        self._map_callbacks.append(callback)

    def on_key(self, callback: Callable[[str], None]) -> None:
        """Call ``callback(key)`` for every handled key press (``key`` as in ``KeyboardEvent.key``)."""
        self._callbacks.append(callback)

    def press(self, key: str) -> None:
        """Act as if ``key`` was pressed inside the widget.

        Raises
        ------
        ValueError
            If ``key`` is not one of :data:`HANDLED_KEYS`.
        """
        if key not in HANDLED_KEYS:
            raise ValueError(f"{key!r} is not a shortcut; the keys are {HANDLED_KEYS}")
        for cb in list(self._callbacks):
            cb(key)

    def _on_msg(self, _widget: object, content: dict, _buffers: object) -> None:
        if not isinstance(content, dict):
            return
        kind = content.get("type")
        if kind == "key":
            key = content.get("key")
            if key in HANDLED_KEYS:
                self.press(key)
        elif kind in ("click", "selected", "deselect"):
            traces = [int(t) for t in content.get("traces") or []]
            points = [int(p) for p in content.get("points") or []]
            for cb in list(self._map_callbacks):
                cb(kind, traces, points)
