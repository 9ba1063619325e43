"""The batch cards and their controls as one anywidget (JS and CSS in ``static/``).

:class:`BatchCards` holds the whole state the browser draws (batch id, cards, marks, cursor,
status, error, enabled actions) in synced traits and turns the browser's action messages into
calls of one Python callback. It knows nothing of sessions: :class:`~alwidget.LabelingWidget`
fills its state and checks every action.

Message protocol (browser -> Python), each a custom message::

    {"type": "action", "action": A, "batch_id": int, "seq": int, "index": int, "code": int,
     "advance": bool}

with ``A`` one of ``"choose"`` (index, code; ``advance`` when made by a number key),
``"clear"`` (index: take a choice back), ``"skip"`` (index), ``"unsure"`` (index),
``"submit"``, ``"undo"``, ``"cursor"`` (index = card position), and in point mode ``"label"``
(index, code) and ``"close"``. Python answers every action with ``{"type": "ack", "seq": int,
"action": A, "ok": bool}`` after updating the state, so the browser drops its optimistic mark.
"""

from __future__ import annotations

import pathlib
from collections.abc import Callable
from typing import Any

import anywidget
import traitlets

__all__ = ["BatchCards", "ACTIONS", "KEY_HELP"]

STATIC = pathlib.Path(__file__).parent / "static"
ACTIONS = ("choose", "clear", "skip", "unsure", "submit", "undo", "cursor", "label", "close")
KEY_HELP = "0-9 label · ←/→ move · s skip · ? unsure · Enter submit · u undo"


class BatchCards(anywidget.AnyWidget):
    """Cards of one batch with class buttons, Skip / Unsure, Submit and Undo, status and error
    lines, and keyboard shortcuts inside its own element.

    Attributes
    ----------
    mode : {"batch", "point"}
        ``"batch"``: the batch with Submit / Undo and keys; ``"point"``: one card of a point
        clicked on the map, labeled at once (``"label"`` action) or closed.
    batch_id : int
        Id of the batch the cards show; every action carries it back.
    cards : list of dict
        One per card: ``index`` (pool index), ``rank`` (1-based), ``caption``, and the item
        as :func:`~alwidget.widget.renderers.card_content` gives it.
    classes : list of str
        Class names (button labels, in code order).
    marks : list of dict
        Per card: ``state`` ("open", "chosen", "skipped", "unsure", "labeled"), ``choice``
        (class code or None), optional ``note`` (shown on a dimmed card).
    cursor : int
        Position of the highlighted card (number keys label it).
    status : str
        Status line as HTML built by Python (every user string escaped).
    notice, error : str
        Plain-text lines (never parsed as HTML).
    enabled : dict of str to bool
        Which actions are on: ``choose``, ``skip``, ``unsure``, ``submit``, ``undo``.
    live : bool
        False once the session is closed: every action is off.
    busy_since : float
        Unix time (s) a background fit started, 0 when none runs (the browser counts the
        seconds in the status line's ``.alw-fit-timer``).
    """

    _esm = STATIC / "cards.js"
    _css = STATIC / "cards.css"

    mode = traitlets.Unicode("batch").tag(sync=True)
    columns = traitlets.Int(5).tag(sync=True)
    batch_id = traitlets.Int(0).tag(sync=True)
    cards = traitlets.List(traitlets.Dict()).tag(sync=True)
    classes = traitlets.List(traitlets.Unicode()).tag(sync=True)
    marks = traitlets.List(traitlets.Dict()).tag(sync=True)
    cursor = traitlets.Int(0).tag(sync=True)
    status = traitlets.Unicode("").tag(sync=True)
    notice = traitlets.Unicode("").tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)
    enabled = traitlets.Dict().tag(sync=True)
    live = traitlets.Bool(True).tag(sync=True)
    busy_since = traitlets.Float(0.0).tag(sync=True)
    help = traitlets.Unicode(KEY_HELP).tag(sync=True)

    def __init__(self, on_action: Callable[[dict[str, Any]], bool], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._on_action = on_action
        self.on_msg(self._handle)

    def send_action(self, action: str, **fields: Any) -> bool:
        """Act as the browser would (scripts and tests): the same message, the same checks.

        Parameters
        ----------
        action : str
            One of :data:`ACTIONS`.
        **fields
            ``batch_id`` (default: the batch on screen), ``index``, ``code``, ``advance``.

        Returns
        -------
        bool
            True if Python accepted the action.
        """
        msg = {"type": "action", "action": action, "batch_id": self.batch_id, "seq": 0}
        msg.update(fields)
        return self._dispatch(msg)

    def _handle(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "action":
            self._dispatch(content)

    def _dispatch(self, content: dict[str, Any]) -> bool:
        action = content.get("action")
        if action not in ACTIONS:
            return False
        ok = False
        try:
            ok = bool(self._on_action(content))
        finally:
            seq = content.get("seq")
            if isinstance(seq, int) and seq > 0:
                self.send({"type": "ack", "seq": seq, "action": action, "ok": ok})
        return ok
