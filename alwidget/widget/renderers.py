"""Renderers: one item of the pool -> one ipywidget for its card.

Images (2-D grey or 3-D RGB/RGBA arrays) become PNGs, text is escaped and shown as text (never
interpreted as HTML), table rows (pandas Series / dict) become a small two-column table.
"""

from __future__ import annotations

import html
import io
from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as W
import numpy as np
import pandas as pd

__all__ = ["render_item", "image_png", "guess_renderer", "item_summary"]


def image_png(img: np.ndarray) -> bytes:
    """Encode a 2-D (grey) or 3-D (RGB/RGBA) array as PNG bytes, scaling values to 0..255.

    Raises
    ------
    ValueError
        If the array is not 2-D or 3-D with 1, 3 or 4 channels.
    """
    from PIL import Image

    a = np.asarray(img)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if not (a.ndim == 2 or (a.ndim == 3 and a.shape[2] in (3, 4))):
        raise ValueError(f"an image item must be (h, w), (h, w, 3) or (h, w, 4); got {a.shape}")
    if a.dtype != np.uint8:
        a = a.astype(np.float64)
        lo, hi = float(np.nanmin(a)), float(np.nanmax(a))
        a = np.zeros_like(a) if hi <= lo else (a - lo) / (hi - lo)
        a = (255 * a).round().astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="PNG")
    return buf.getvalue()


def _image(item: Any) -> W.Widget:
    a = np.asarray(item)
    h, w = a.shape[:2]
    scale = max(1, 96 // max(h, w))
    return W.Image(
        value=image_png(a),
        format="png",
        layout=W.Layout(width=f"{w * scale}px", height=f"{h * scale}px"),
    ).add_class("alw-pixelated")


def _text(item: Any) -> W.Widget:
    text = str(item)
    return W.HTML(f'<div class="alw-text">{html.escape(text)}</div>', layout=W.Layout(width="100%"))


def _row(item: Any) -> W.Widget:
    pairs = item.items() if isinstance(item, Mapping) else pd.Series(item).items()
    rows = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(_fmt(v))}</td></tr>" for k, v in pairs
    )
    return W.HTML(f'<table class="alw-row">{rows}</table>')


def _fmt(v: Any) -> str:
    if isinstance(v, (float, np.floating)):
        return f"{v:.4g}"
    return str(v)


def guess_renderer(item: Any) -> Callable[[Any], W.Widget]:
    """Pick a renderer from an item's type: image for 2-D/3-D arrays, table for rows and
    mappings, text for strings and anything else."""
    if isinstance(item, (pd.Series, Mapping)):
        return _row
    if (
        isinstance(item, np.ndarray)
        and item.ndim in (2, 3)
        and np.issubdtype(item.dtype, np.number)
    ):
        return _image
    if isinstance(item, np.ndarray) and item.ndim == 1:
        return _row
    return _text


def render_item(item: Any, kind: str | Callable[[Any], W.Widget] | None = None) -> W.Widget:
    """Render one item as a widget.

    Parameters
    ----------
    item : array, str, pandas Series or mapping
        What a human looks at.
    kind : {"image", "text", "row"}, callable, or None
        Force a renderer; a callable ``item -> ipywidgets.Widget`` is used as is. ``None``
        guesses from the item's type.
    """
    if callable(kind):
        return kind(item)
    if kind is None:
        return guess_renderer(item)(item)
    table = {"image": _image, "text": _text, "row": _row}
    if kind not in table:
        raise ValueError(f"unknown renderer {kind!r}; use 'image', 'text', 'row' or a callable")
    return table[kind](item)


def item_summary(item: Any, limit: int = 80) -> str:
    """A short plain-text description of an item (for hover text and captions)."""
    if isinstance(item, str):
        s = " ".join(item.split())
    elif isinstance(item, (pd.Series, Mapping)):
        pairs = item.items() if isinstance(item, Mapping) else item.items()
        s = ", ".join(f"{k}={_fmt(v)}" for k, v in pairs)
    elif isinstance(item, np.ndarray) and item.ndim >= 2:
        s = f"image {item.shape[0]}x{item.shape[1]}"
    else:
        s = str(item)
    return s if len(s) <= limit else s[: limit - 1] + "…"
