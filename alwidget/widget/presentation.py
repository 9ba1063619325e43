"""The teaching lab's presentation layout (``teach(..., presentation=True)``): for a projector,
the map first, beside the teaching controls, learning curve and diagnostics, the cards below
it, and every text at 16 px or more."""

from __future__ import annotations

from typing import Any

import anywidget
import ipywidgets as W
import traitlets

__all__ = ["PRESENTATION_CSS", "ColumnWidths", "presentation_body"]

#: Text sizes of the presentation layout (px): at least 16 everywhere.
PRESENTATION_CSS = """
<style>
.alw-present, .alw-present .alw-cards, .alw-present .alw-status, .alw-present .alw-notice,
.alw-present .alw-text, .alw-present .alw-class, .alw-present .alw-btn,
.alw-present .alw-diag table, .alw-present .alw-stop, .alw-present .widget-label,
.alw-present .widget-html-content, .alw-present .widget-button, .alw-present .widget-toggle-button,
.alw-present select, .alw-present .widget-readout { font-size: 16px !important; }
.alw-present .alw-caption, .alw-present .alw-why, .alw-present .alw-badge,
.alw-present .alw-keyhint, .alw-present .alw-selection-info { font-size: 16px !important; }
.alw-present .alw-teach h4 { font-size: 18px; }
.alw-present .widget-button, .alw-present .widget-toggle-button { width: auto !important;
  min-width: fit-content; padding: 0 10px; }
.alw-present .widget-label { width: auto !important; min-width: fit-content; }
.alw-present .widget-dropdown > select { max-width: 340px; }
.alw-present .alw-diag { overflow-x: auto; }
</style>
"""


class ColumnWidths(anywidget.AnyWidget):
    """Reports the widths of the presentation layout's two columns (px), whenever they
    change (e.g. the file browser hidden), so the lab can size its figures to fit: plotly's
    widgets keep the width they were first drawn with."""

    _esm = """
    export default { render({ model, el }) {
      let timer; const measure = () => { const root = el.closest(".alw-present"); if (!root) return;
        const w = (sel) => { const e = root.querySelector(sel);
          return e ? Math.floor(e.getBoundingClientRect().width) : 0; };
        model.set("widths", [w(".alw-root"), w(".alw-teach")]); model.save_changes(); };
      const ro = new ResizeObserver(() => { clearTimeout(timer); timer = setTimeout(measure, 150); });
      requestAnimationFrame(() => { const root = el.closest(".alw-present");
        if (root) { ro.observe(root); measure(); } });
      return () => ro.disconnect();
    } }"""
    widths = traitlets.List([0, 0]).tag(sync=True)


def presentation_body(widget: Any, panel: Any, widths: ColumnWidths) -> list[Any]:
    """The children of a presentation-layout lab: its style, the width reporter and one row
    of the labeling widget (map first, then its cards) and the teaching panel.

    The widget's own parts are only reordered in its VBox; the figures get larger fonts.
    """
    maps = [c for c in widget.children if "alw-maprow" in c._dom_classes]
    widget.children = [widget.children[0], *maps] + [
        c for c in widget.children[1:] if c not in maps
    ]
    widget.layout = W.Layout(flex="3 1 0", min_width="0")
    panel.layout = W.Layout(flex="2 1 0", min_width="0")
    for fig in (widget.map.fig, panel.curve):
        fig.update_layout(font=dict(size=16), title_font_size=18, legend_font_size=16)
    # larger text: the map's legend moves down, clear of its x-axis title
    widget.map.fig.update_layout(legend_y=-0.19, margin_b=150, height=620)
    row = W.HBox([widget, panel], layout=W.Layout(width="100%", align_items="flex-start"))
    return [W.HTML(PRESENTATION_CSS), widths, row]
