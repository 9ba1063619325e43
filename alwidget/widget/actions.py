"""The batch cards of :class:`~alwidget.LabelingWidget`: what they show (cards, marks, cursor,
status) and what their actions do (choose, skip, unsure, submit, undo, keys), each checked
against the batch it was made on.

Every action from the browser carries the batch id (and pool index) it was made on. The
session checks it (:meth:`alwidget.Session.check_action`); a stale or wrong one is refused with
a message in the error line and stores nothing. Store errors keep the choices on the cards.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ..explain import PickExplainer
from ..session import SessionClosedError
from ..store import StoreError
from .view_state import card_dict, card_marks, enabled_actions, status_facts, status_html

__all__ = ["CardsController"]


class CardsController:
    """The batch cards of one :class:`~alwidget.LabelingWidget` (its ``widget.actions``).

    It owns the cards' state between submits: the chosen classes, the cursor, the items
    labeled last, and whether an action of the widget's own is running (events it causes
    are then not redrawn twice). It reaches the widget only through its public members
    (``session``, ``view``, ``point_view``, ``items``, ``renderer``, ``projection``,
    ``lock``, ``live``, ``background``, ``sync_wait``, ``refresh``).

    Parameters
    ----------
    widget : LabelingWidget

    Attributes
    ----------
    choices : dict of int to int
        Chosen (not yet submitted) class codes by pool index.
    cursor : int
        Position of the highlighted card.
    last : ndarray of shape (m,), int64
        Items of the last submit or map label ("last labeled" on the map).
    acting : int
        Depth of the widget's own actions in progress.
    explainer : PickExplainer
        Why each card was picked (the line under its caption, the rest on hover); set its
        ``compare`` to add other strategies' ranks.
    """

    def __init__(self, widget: Any) -> None:
        self.w = widget
        self.explainer = PickExplainer(widget.session)
        self.choices: dict[int, int] = {}
        self.cursor = 0
        self.acting = 0
        self.last = np.empty(0, dtype=np.int64)
        self.shown_id: int | None = None

    @property
    def session(self) -> Any:
        return self.w.session

    @property
    def view(self) -> Any:
        return self.w.view

    # -- public (scripts and tests: the same paths as the browser's messages) ---------------
    def choose(self, index: int, label: Any) -> None:
        """Pick a class for one card of the batch on screen (a click on its class button).

        Raises
        ------
        ValueError
            If ``label`` is not a class, or ``index`` is not an open card of the batch.
        """
        code = self.session.code_of(label)
        with self.w.lock:
            self._check_open(int(index))
            self._set_choice(int(index), code)

    def submit(self) -> bool:
        """Submit the chosen labels (the "Submit batch" button); True if they were stored."""
        return self._submit(self.session.batch.id)

    def skip(self, index: int) -> bool:
        """Skip one card: it stays in place, dimmed, until the next batch."""
        return self._mark(int(index), "skip", self.session.batch.id)

    def unsure(self, index: int) -> bool:
        """Answer "unsure" for one card (recorded, never trained on); the card stays dimmed."""
        return self._mark(int(index), "unsure", self.session.batch.id)

    def undo(self) -> bool:
        """Take back this session's last submit; its answers come back chosen on the cards."""
        with self.acting_on():
            s = self.session
            try:
                back = s.undo(retrain=self.retrain_mode(), wait=self.w.sync_wait)
            except (StoreError, SessionClosedError) as exc:
                self.say_error(str(exc))
                return False
            if back is None:
                self.say_error("Nothing to undo.")
                return False
            back = [int(i) for i in np.asarray(back).tolist()]
            # the answers taken back, from the undone submit itself (not the whole labels
            # table, whose cost grows with the log)
            before = {
                i: s.classes[c] for i, c in s.batch.prefill.items() if 0 <= c < len(s.classes)
            }
            said = ", ".join(f"#{i} ({before[i]})" if i in before else f"#{i}" for i in back[:6])
            more = f" and {len(back) - 6} more" if len(back) > 6 else ""
            self.say_error("")
            self.w.refresh()
            self.view.notice = (
                f"Undid your last submit: {len(back)} answers taken back "
                f"({said}{more}); they are chosen again on the cards."
            )
            return True

    def press(self, key: str) -> bool:
        """Act as a key press inside the cards (what the browser does for that key).

        Raises
        ------
        ValueError
            If ``key`` is not a shortcut.
        """
        cards = self.view.cards
        n = len(cards)
        idx = int(cards[self.cursor]["index"]) if n else -1
        if key.isdigit() and len(key) == 1:
            if n and int(key) < len(self.session.classes):
                return self.view.send_action("choose", index=idx, code=int(key), advance=True)
            return False
        if key == "Enter":
            return self.view.send_action("submit")
        if key in ("ArrowLeft", "ArrowRight"):
            step = 1 if key == "ArrowRight" else -1
            return self.view.send_action("cursor", index=max(0, min(n - 1, self.cursor + step)))
        if key in ("s", "?"):
            return bool(n) and self.view.send_action("skip" if key == "s" else "unsure", index=idx)
        if key in ("u", "Backspace"):
            return self.view.send_action("undo")
        raise ValueError(f"{key!r} is not a shortcut: 0-9, Enter, arrows, s, ?, u, Backspace")

    def on_strategy(self, change: dict[str, Any]) -> None:
        with self.acting_on():
            try:
                self.session.set_strategy(change["new"])  # a new batch: the user asked for it
            except (ValueError, TypeError, ImportError, SessionClosedError) as exc:
                self.say_error(str(exc))  # the previous strategy and batch stay
                return
            self.w.refresh()

    # -- the browser's messages -------------------------------------------------------------
    def on_action(self, msg: dict[str, Any]) -> bool:
        action = msg.get("action")
        if not self.w.live:
            self.say_error("This widget is no longer live: its session was closed.")
            return False
        bid = msg.get("batch_id")
        idx = msg.get("index")
        if action == "undo":
            return self.undo()
        if action == "submit":
            return self._submit(bid)
        if action == "cursor":
            with self.w.lock:
                if bid != self.session.batch.id or not isinstance(idx, int):
                    return False
                self.cursor = max(0, min(idx, len(self.view.cards) - 1))
                self.view.cursor = self.cursor
                return True
        if not isinstance(idx, int) or isinstance(idx, bool):
            self.say_error(f"refused {action!r}: no card index")
            return False
        if action in ("skip", "unsure"):
            return self._mark(idx, action, bid)
        with self.w.lock:
            try:
                self.session.check_action(bid, idx)
                self._check_open(idx)
                if action == "clear":
                    self._set_choice(idx, None)
                    return True
                code = msg.get("code")
                if not isinstance(code, int) or not 0 <= code < len(self.session.classes):
                    raise ValueError(f"no class with code {code!r}")
                self._set_choice(idx, code, advance=bool(msg.get("advance")))
                return True
            except ValueError as exc:  # stale batch, not a card, not open: nothing stored
                self._refuse(str(exc))
                return False

    # -- internals ---------------------------------------------------------------------------
    def acting_on(self) -> Any:
        """A context for one of the widget's own actions: holds the widget's lock and counts
        the action (session events it causes are redrawn once, when it is done)."""
        ctl = self

        class _Acting:
            def __enter__(self) -> None:
                ctl.w.lock.acquire()
                ctl.acting += 1

            def __exit__(self, *exc: object) -> None:
                ctl.acting -= 1
                ctl.w.lock.release()

        return _Acting()

    def retrain_mode(self) -> Any:
        return "background" if self.w.background else True

    def _check_open(self, idx: int) -> None:
        b = self.session.batch
        pos = np.flatnonzero(b.indices == idx)
        if pos.size == 0:
            raise ValueError(f"item #{idx} is not a card of the batch on screen")
        if int(np.asarray(b.state)[pos[0]]) != 0:
            raise ValueError(f"card #{idx} is already answered (skipped, unsure or labeled)")

    def _set_choice(self, idx: int, code: int | None, *, advance: bool = False) -> None:
        if code is None:
            self.choices.pop(idx, None)
        else:
            self.choices[idx] = int(code)
        if advance:
            pos = int(np.flatnonzero(self.session.batch.indices == idx)[0])
            self.cursor = min(pos + 1, len(self.session.batch.indices) - 1)
        self.say_error("")
        with self.view.hold_sync():
            self.view.marks = self.marks()
            self.view.cursor = self.cursor

    def _refuse(self, why: str) -> None:
        self.say_error(f"Not recorded: {why}")
        self.view.marks = self.marks()  # the browser drops its optimistic mark on the ack

    def _mark(self, idx: int, what: str, batch_id: Any) -> bool:
        with self.acting_on():
            s = self.session
            try:
                s.check_action(batch_id, idx)
                self._check_open(idx)
                if what == "skip":
                    s.skip(idx, batch_id=batch_id)
                else:
                    s.mark_unsure(idx, batch_id=batch_id)
            except ValueError as exc:
                self._refuse(str(exc))
                return False
            except (StoreError, SessionClosedError) as exc:
                self.say_error(str(exc))
                return False
            self.choices.pop(idx, None)
            self.say_error("")
            self.w.refresh()
            return True

    def _submit(self, batch_id: Any) -> bool:
        with self.acting_on():
            s = self.session
            try:
                s.check_action(batch_id)
            except ValueError as exc:
                self._refuse(str(exc))
                return False
            if not self.choices:
                self.say_error("Pick a class on at least one card before submitting.")
                return False
            labels = dict(self.choices)
            try:
                s.submit(
                    labels, retrain=self.retrain_mode(), batch_id=batch_id, wait=self.w.sync_wait
                )
            except (
                ValueError,
                StoreError,
                SessionClosedError,
            ) as exc:  # nothing recorded; the choices stay
                self.say_error(str(exc))
                return False
            self.last = np.fromiter(labels, dtype=np.int64)
            self.choices.clear()
            self.say_error("")
            self.view.notice = ""
            self.w.refresh()
            return True

    # -- what the cards show ---------------------------------------------------------------
    def say_error(self, msg: str) -> None:
        """Show ``msg`` in the error line (empty: no error)."""
        self.view.error = msg

    def marks(self) -> list[dict[str, Any]]:
        """Per-card marks of the batch on screen (see :func:`.view_state.card_marks`)."""
        return card_marks(self.session, self.choices)

    def explain_batch(self) -> dict[int, Any]:
        """:class:`~alwidget.explain.Why` of each card of the batch, by pool index; empty if
        it cannot be computed (the cards never wait on, or fail because of, the readout)."""
        try:
            return {w.index: w for w in self.explainer.explain()}
        except Exception:  # noqa: BLE001 - an auxiliary readout must not block labeling
            return {}

    def render_cards(self) -> None:
        """Draw the batch: new cards only for a new batch (undo's answers come back chosen),
        else the marks and the cursor."""
        s, v = self.session, self.view
        b = s.batch
        if b.id != self.shown_id:
            self.shown_id = int(b.id)
            self.choices = {int(i): int(c) for i, c in getattr(b, "prefill", {}).items()}
            open_pos = np.flatnonzero(np.asarray(b.state) == 0)
            self.cursor = int(open_pos[0]) if open_pos.size else 0
            w = self.w
            whys = self.explain_batch()
            cards = [
                card_dict(s, rank, int(idx), w.items[int(idx)], w.renderer, whys.get(int(idx)))
                for rank, idx in enumerate(b.indices.tolist())
            ]
            with v.hold_sync():
                v.batch_id = int(b.id)
                v.cards = cards
                v.marks = self.marks()
                v.cursor = self.cursor
        else:
            still_open = set(b.open_indices().tolist())
            self.choices = {i: c for i, c in self.choices.items() if i in still_open}
            with v.hold_sync():
                v.marks = self.marks()
                v.cursor = self.cursor

    def update_status(self) -> None:
        """Status and notice lines, the retraining timer and which actions are on."""
        s, v = self.session, self.view
        facts = status_facts(s)
        status, notice = status_html(facts, self.w.projection.status)
        live = self.w.live
        with v.hold_sync():
            v.status = status
            v.notice = notice
            v.busy_since = time.time() - facts["retraining_for"] if facts["retraining"] else 0.0
            v.live = live
            v.enabled = enabled_actions(s, live)
            if s.last_error:
                v.error = s.last_error

    def show_closed(self) -> None:
        """The session is closed: say so and turn every action off (reads nothing from the
        closed store)."""
        v = self.view
        with v.hold_sync():
            v.live = False
            v.busy_since = 0.0
            v.enabled = {k: False for k in ("choose", "skip", "unsure", "submit", "undo")}
            v.notice = (
                "This widget is no longer live: its session was closed (did the same cell run "
                "again?). Use the newest widget; your labels are in the store."
            )
        self.w.point_view.enabled = {"choose": False}
