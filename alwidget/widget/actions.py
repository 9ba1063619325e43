"""The labeling actions of :class:`~alwidget.LabelingWidget`: choose, skip, unsure, submit,
undo and keys, each checked against the batch it was made on.

Every action from the browser carries the batch id (and pool index) it was made on. The
session checks it (:meth:`alwidget.Session.check_action`); a stale or wrong one is refused with
a message in the error line and stores nothing. Store errors keep the choices on the cards.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from ..session import SessionClosedError
from ..store import StoreError

__all__ = ["ActionsMixin"]


class ActionsMixin:
    """Mixin of :class:`~alwidget.LabelingWidget` (uses its session, view and state)."""

    session: Any
    view: Any
    background: bool
    sync_wait: float
    _lock: threading.RLock
    _choices: dict[int, int]
    _cursor: int
    _acting: int
    _last: np.ndarray

    # -- public (scripts and tests: the same paths as the browser's messages) ---------------
    def choose(self, index: int, label: Any) -> None:
        """Pick a class for one card of the batch on screen (a click on its class button).

        Raises
        ------
        ValueError
            If ``label`` is not a class, or ``index`` is not an open card of the batch.
        """
        code = self.session.code_of(label)
        with self._lock:
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
        with self._acting_on():
            s = self.session
            before = s.labels.set_index("index")["label"].to_dict() if len(s.labels) else {}
            try:
                back = s.undo(retrain=self._retrain_mode(), wait=self.sync_wait)
            except (StoreError, SessionClosedError) as exc:
                self._say_error(str(exc))
                return False
            if back is None:
                self._say_error("Nothing to undo.")
                return False
            back = [int(i) for i in np.asarray(back).tolist()]
            said = ", ".join(f"#{i} ({before[i]})" if i in before else f"#{i}" for i in back[:6])
            more = f" and {len(back) - 6} more" if len(back) > 6 else ""
            self._say_error("")
            self.refresh()
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
        idx = int(cards[self._cursor]["index"]) if n else -1
        if key.isdigit() and len(key) == 1:
            if n and int(key) < len(self.session.classes):
                return self.view.send_action("choose", index=idx, code=int(key), advance=True)
            return False
        if key == "Enter":
            return self.view.send_action("submit")
        if key in ("ArrowLeft", "ArrowRight"):
            step = 1 if key == "ArrowRight" else -1
            return self.view.send_action("cursor", index=max(0, min(n - 1, self._cursor + step)))
        if key in ("s", "?"):
            return bool(n) and self.view.send_action("skip" if key == "s" else "unsure", index=idx)
        if key in ("u", "Backspace"):
            return self.view.send_action("undo")
        raise ValueError(f"{key!r} is not a shortcut: 0-9, Enter, arrows, s, ?, u, Backspace")

    def _on_strategy(self, change: dict[str, Any]) -> None:
        with self._acting_on():
            try:
                self.session.set_strategy(change["new"])  # a new batch: the user asked for it
            except (ValueError, TypeError, ImportError, SessionClosedError) as exc:
                self._say_error(str(exc))  # the previous strategy and batch stay
                return
            self.refresh()

    # -- the browser's messages -------------------------------------------------------------
    def _on_action(self, msg: dict[str, Any]) -> bool:
        action = msg.get("action")
        if not self.live:
            self._say_error("This widget is no longer live: its session was closed.")
            return False
        bid = msg.get("batch_id")
        idx = msg.get("index")
        if action == "undo":
            return self.undo()
        if action == "submit":
            return self._submit(bid)
        if action == "cursor":
            with self._lock:
                if bid != self.session.batch.id or not isinstance(idx, int):
                    return False
                self._cursor = max(0, min(idx, len(self.view.cards) - 1))
                self.view.cursor = self._cursor
                return True
        if not isinstance(idx, int) or isinstance(idx, bool):
            self._say_error(f"refused {action!r}: no card index")
            return False
        if action in ("skip", "unsure"):
            return self._mark(idx, action, bid)
        with self._lock:
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
    def _acting_on(self) -> Any:
        widget = self

        class _Acting:
            def __enter__(self) -> None:
                widget._lock.acquire()
                widget._acting += 1

            def __exit__(self, *exc: object) -> None:
                widget._acting -= 1
                widget._lock.release()

        return _Acting()

    def _retrain_mode(self) -> Any:
        return "background" if self.background else True

    def _check_open(self, idx: int) -> None:
        b = self.session.batch
        pos = np.flatnonzero(b.indices == idx)
        if pos.size == 0:
            raise ValueError(f"item #{idx} is not a card of the batch on screen")
        if int(np.asarray(b.state)[pos[0]]) != 0:
            raise ValueError(f"card #{idx} is already answered (skipped, unsure or labeled)")

    def _set_choice(self, idx: int, code: int | None, *, advance: bool = False) -> None:
        if code is None:
            self._choices.pop(idx, None)
        else:
            self._choices[idx] = int(code)
        if advance:
            pos = int(np.flatnonzero(self.session.batch.indices == idx)[0])
            self._cursor = min(pos + 1, len(self.session.batch.indices) - 1)
        self._say_error("")
        with self.view.hold_sync():
            self.view.marks = self._marks()
            self.view.cursor = self._cursor

    def _refuse(self, why: str) -> None:
        self._say_error(f"Not recorded: {why}")
        self.view.marks = self._marks()  # the browser drops its optimistic mark on the ack

    def _mark(self, idx: int, what: str, batch_id: Any) -> bool:
        with self._acting_on():
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
                self._say_error(str(exc))
                return False
            self._choices.pop(idx, None)
            self._say_error("")
            self.refresh()
            return True

    def _submit(self, batch_id: Any) -> bool:
        with self._acting_on():
            s = self.session
            try:
                s.check_action(batch_id)
            except ValueError as exc:
                self._refuse(str(exc))
                return False
            if not self._choices:
                self._say_error("Pick a class on at least one card before submitting.")
                return False
            labels = dict(self._choices)
            try:
                s.submit(
                    labels, retrain=self._retrain_mode(), batch_id=batch_id, wait=self.sync_wait
                )
            except (
                ValueError,
                StoreError,
                SessionClosedError,
            ) as exc:  # nothing recorded; the choices stay
                self._say_error(str(exc))
                return False
            self._last = np.fromiter(labels, dtype=np.int64)
            self._choices.clear()
            self._say_error("")
            self.view.notice = ""
            self.refresh()
            return True

    # provided by LabelingWidget
    @property
    def live(self) -> bool:  # pragma: no cover - overridden
        raise NotImplementedError

    def refresh(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _marks(self) -> list[dict[str, Any]]:  # pragma: no cover - overridden
        raise NotImplementedError

    def _say_error(self, msg: str) -> None:  # pragma: no cover - overridden
        raise NotImplementedError
