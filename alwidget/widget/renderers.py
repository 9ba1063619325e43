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

__all__ = ["render_item", "card_content", "image_png", "guess_renderer", "item_summary"]


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
        Force a renderer. A callable ``item -> value`` may return a str, an array, PNG bytes,
        a mapping (see :func:`card_content`) or an ipywidgets widget (used as is). ``None``
        guesses from the item's type.

    Returns
    -------
    ipywidgets.Widget
        An ``Image`` (PNG) for an image, an ``HTML`` text block or two-column table otherwise.

    Raises
    ------
    ValueError
        If ``kind`` is an unknown name, or an image item is not 2-D or 3-D with 1, 3 or 4
        channels.

    Examples
    --------
    >>> import numpy as np
    >>> img = render_item(np.eye(8))  # a 2-D array: a PNG, scaled up to 96 px
    >>> type(img).__name__, img.format, img.layout.width
    ('Image', 'png', '96px')
    >>> render_item("a <b>bold</b> claim").value  # text is escaped, never run as HTML
    '<div class="alw-text">a &lt;b&gt;bold&lt;/b&gt; claim</div>'
    >>> render_item(np.eye(8), kind=lambda a: f"{a.shape[0]}x{a.shape[1]} identity").value
    '<div class="alw-text">8x8 identity</div>'
    """
    if callable(kind):
        out = kind(item)
        if isinstance(out, W.Widget):
            return out
        if isinstance(out, (bytes, bytearray)):
            return W.Image(value=bytes(out), format="png")
        return render_item(out)
    if kind is None:
        return guess_renderer(item)(item)
    table = {"image": _image, "text": _text, "row": _row}
    if kind not in table:
        raise ValueError(f"unknown renderer {kind!r}; use 'image', 'text', 'row' or a callable")
    return table[kind](item)


def item_summary(item: Any, limit: int = 80) -> str:
    """A short plain-text description of an item (for hover text and captions)."""
    if isinstance(item, str):
        s = " ".join(item[: 4 * limit + 16].split())  # a 1 MB text is not split whole
    elif isinstance(item, (pd.Series, Mapping)):
        pairs = item.items() if isinstance(item, Mapping) else item.items()
        s = ", ".join(f"{k}={_fmt(v)}" for k, v in pairs)
    elif isinstance(item, np.ndarray) and item.ndim >= 2:
        s = f"image {item.shape[0]}x{item.shape[1]}"
    else:
        s = str(item)
    return s if len(s) <= limit else s[: limit - 1] + "…"


#: Characters of a text item sent to the browser for its card (the rest is counted, not sent).
TEXT_CAP = 2000
#: Characters of one table-row value sent to the browser.
VALUE_CAP = 300
#: Characters after which a text card is folded behind "show more".
TEXT_FOLD = 400


def card_content(item: Any, kind: str | Callable[[Any], Any] | None = None) -> dict[str, Any]:
    """What a card shows for one item, as plain data for the browser (no HTML).

    Parameters
    ----------
    item : array, str, pandas Series or mapping
        What a human looks at.
    kind : {"image", "text", "row"}, callable, or None
        Force a renderer. A callable ``item -> value`` may return a string (text), an array
        (image), PNG ``bytes``, or a mapping / Series (table row). ``None`` guesses from the
        item's type.

    Returns
    -------
    dict
        ``{"kind": "image", "src": data URL of a PNG, "width", "height" (px),
        "pixelated": bool}``, ``{"kind": "text", "text": str (at most TEXT_CAP characters,
        with a note of how many more there are), "long": bool}`` or
        ``{"kind": "row", "rows": [[name, value], ...]}`` (values capped at VALUE_CAP).

    Raises
    ------
    ValueError
        If ``kind`` is an unknown name.
    TypeError
        If a callable renderer returns something that is none of the above (e.g. an
        ipywidgets widget: cards are drawn in the browser from data).
    """
    if callable(kind):
        out = kind(item)
        if isinstance(out, W.Widget):
            raise TypeError(
                "a renderer function must return what the card shows: a str (text), an array "
                "(image), PNG bytes, or a dict / pandas Series (table row); got an ipywidgets "
                f"{type(out).__name__}"
            )
        if isinstance(out, (bytes, bytearray)):
            return _png_payload(bytes(out), None)
        return card_content(out, None)
    if kind is None:
        r = guess_renderer(item)
        kind = "image" if r is _image else "row" if r is _row else "text"
    if kind == "image":
        a = np.asarray(item)
        return _png_payload(image_png(a), a.shape[:2])
    if kind == "row":
        pairs = item.items() if isinstance(item, Mapping) else pd.Series(item).items()
        return {"kind": "row", "rows": [[str(k), _cap(_fmt(v), VALUE_CAP)] for k, v in pairs]}
    if kind == "text":
        text = str(item)
        shown = text[:TEXT_CAP]
        if len(text) > TEXT_CAP:
            shown += f"… ({len(text) - TEXT_CAP:,} more characters not shown)"
        return {"kind": "text", "text": shown, "long": len(shown) > TEXT_FOLD}
    raise ValueError(f"unknown renderer {kind!r}; use 'image', 'text', 'row' or a callable")


def _png_payload(png: bytes, shape: tuple[int, ...] | None) -> dict[str, Any]:
    import base64

    out: dict[str, Any] = {
        "kind": "image",
        "src": "data:image/png;base64," + base64.b64encode(png).decode("ascii"),
        "pixelated": False,
    }
    if shape is not None:
        h, w = int(shape[0]), int(shape[1])
        scale = max(1, 96 // max(h, w))
        out.update(width=w * scale, height=h * scale, pixelated=scale > 1)
    return out


def _cap(s: str, n: int) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"
