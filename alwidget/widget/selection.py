"""Labeling from the map, for :class:`~alwidget.LabelingWidget`: a clicked point's card beside
the map, bulk labeling of a box / lasso selection (unlabeled items only unless asked), and
"label these next" (the selection queued in strategy order, served batch after batch).
"""

from __future__ import annotations

import html
import threading
from collections.abc import Sequence
from typing import Any

import ipywidgets as W
import numpy as np

from ..session import SessionClosedError
from ..store import StoreError

__all__ = ["SelectionMixin"]

_HINT = "Select points on the map (lasso or box) to label them in one go, or click one."


class SelectionMixin:
    """Mixin of :class:`~alwidget.LabelingWidget` (uses its session, map and views)."""

    session: Any
    map: Any
    view: Any
    point_view: Any
    background: bool
    sync_wait: float
    _lock: threading.RLock
    _choices: dict[int, int]
    _selection: np.ndarray
    _last: np.ndarray

    def _build_selection_bar(self) -> W.VBox:
        s = self.session
        self.selection_info = W.HTML(_HINT).add_class("alw-selection-info")
        self.bulk_class = W.Dropdown(
            options=s.classes, description="as", layout=W.Layout(width="150px")
        )
        self.include_labeled = W.Checkbox(
            value=False,
            description="also relabel labeled items",
            indent=False,
            layout=W.Layout(width="auto"),
        )
        self.bulk_button = W.Button(
            description="Label selection", icon="tags", disabled=True, layout=W.Layout(width="auto")
        )
        self.next_button = W.Button(
            description="Label these next",
            icon="list",
            disabled=True,
            tooltip="Queue the selected unlabeled items: they are the next batches",
            layout=W.Layout(width="auto"),
        )
        self.confirm_box = W.VBox()
        self.bulk_button.on_click(lambda _: self._ask_bulk())
        self.next_button.on_click(lambda _: self.label_selection_next())
        self.include_labeled.observe(lambda _: self._set_selection(self._selection), names="value")
        return W.VBox(
            [
                self.selection_info,
                W.HBox(
                    [self.bulk_class, self.bulk_button],
                    layout=W.Layout(flex_flow="row wrap", align_items="center"),
                ),
                self.include_labeled,
                self.next_button,
                self.confirm_box,
            ]
        )

    def _selection_widgets(self) -> list[W.Widget]:
        return [
            self.selection_info,
            self.bulk_class,
            self.include_labeled,
            self.bulk_button,
            self.next_button,
            self.confirm_box,
        ]

    @property
    def selection(self) -> np.ndarray:
        """Pool indices selected on the map (box or lasso), int64 of shape (m,), sorted."""
        return self._selection.copy()

    # -- one point ---------------------------------------------------------------------------
    def show_point(self, index: int) -> None:
        """Show one pool item as a card beside the map, with class buttons (a map click)."""
        from .renderers import card_content

        with self._lock:
            s, idx = self.session, int(index)
            state = "unlabeled"
            if s.y[idx] >= 0:
                state = f"labeled {s.classes[int(s.y[idx])]}"
            cap = f"#{idx} from the map · {state} · uncertainty {float(s.uncertainty[idx]):.2f}"
            card = {"index": idx, "rank": 0, "caption": cap}
            card.update(card_content(self.items[idx], self.renderer))
            mark = {"state": "open", "choice": None}
            if s.y[idx] >= 0:
                mark = {"state": "chosen", "choice": int(s.y[idx])}
            with self.point_view.hold_sync():
                self.point_view.batch_id = self.point_view.batch_id + 1
                self.point_view.cards = [card]
                self.point_view.marks = [mark]
                self.point_view.enabled = {"choose": self.live}
                self.point_view.error = ""

    def close_point(self) -> None:
        """Close the card of the clicked point."""
        with self.point_view.hold_sync():
            self.point_view.batch_id = self.point_view.batch_id + 1
            self.point_view.cards = []
            self.point_view.marks = []

    def _on_point_action(self, msg: dict[str, Any]) -> bool:
        if msg.get("action") == "close":
            self.close_point()
            return True
        idx, code = msg.get("index"), msg.get("code")
        cards = self.point_view.cards
        if msg.get("action") != "label" or not cards or cards[0]["index"] != idx:
            self.point_view.error = "Not recorded: this card is no longer shown."
            return False
        if not isinstance(code, int) or not 0 <= code < len(self.session.classes):
            return False
        return self.label_from_map(int(idx), code)

    def label_from_map(self, index: int, label: Any) -> bool:
        """Label one item picked on the map (recorded with source "map")."""
        ok = self.label_many([int(index)], label)
        if ok:
            self.close_point()
        return ok

    # -- many points -------------------------------------------------------------------------
    def label_many(self, indices: Sequence[int], label: Any) -> bool:
        """Give the same label to several pool items (source "map"), then retrain.

        The batch on screen stays (its cards labeled here are shown as labeled) while any
        card of it is chosen or answered; an untouched batch is re-picked.

        Returns
        -------
        bool
            True if the labels were stored.
        """
        with self._acting_on():
            s = self.session
            code = s.code_of(label)
            labels = {int(i): code for i in indices}
            if not labels:
                return False
            touched = bool(self._choices) or bool(np.asarray(s.batch.state).any())
            retrain: Any = "background" if self.background else True
            try:
                s.submit(
                    labels, source="map", retrain=retrain, keep_batch=touched, wait=self.sync_wait
                )
            except (ValueError, StoreError, SessionClosedError) as exc:
                self._say_error(str(exc))
                return False
            self._last = np.fromiter(labels, dtype=np.int64)
            self._say_error("")
            self.refresh()
            return True

    def label_selection(self, label: Any, include_labeled: bool | None = None) -> int:
        """Label the items of the map selection with ``label`` (no confirmation).

        Parameters
        ----------
        label : class name or code
        include_labeled : bool, optional
            Also relabel items that already have a label (recorded as updates). Default:
            the "also relabel labeled items" checkbox (off: unlabeled items only).

        Returns
        -------
        int
            How many items were labeled.
        """
        if include_labeled is None:
            include_labeled = bool(self.include_labeled.value)
        sel = self._selection
        if not include_labeled:
            sel = sel[self.session.y[sel] < 0]
        n = len(sel)
        if n and not self.label_many(sel.tolist(), label):
            return 0
        self._set_selection(np.empty(0, dtype=np.int64))
        self.map.clear_selection()
        return n

    def label_selection_next(self) -> int:
        """Queue the unlabeled items of the map selection (in strategy order): the first
        batch of them is on the cards at once, the rest follow batch after batch.

        Returns
        -------
        int
            How many items were queued (0 if the selection holds no unlabeled item).
        """
        with self._acting_on():
            s = self.session
            todo = [int(i) for i in self._selection if s.y[int(i)] < 0 and s.status[int(i)] == 0]
            if not todo:
                self._say_error("The selection holds no unlabeled items.")
                return 0
            try:
                s.set_batch(todo)
            except (ValueError, SessionClosedError) as exc:
                self._say_error(str(exc))
                return 0
            self._set_selection(np.empty(0, dtype=np.int64))
            self.map.clear_selection()
            self._say_error("")
            self.refresh()
            k = len(s.batch.indices)
            self.view.notice = (
                f"{len(todo)} items queued from the map: {k} on the cards now, "
                f"{len(todo) - k} follow batch after batch."
            )
            return len(todo)

    def _ask_bulk(self) -> None:
        n_new, n_old = self._selection_counts()
        include = bool(self.include_labeled.value)
        cls = self.bulk_class.value
        n = n_new + (n_old if include else 0)
        what = f"<b>{n_new}</b> unlabeled items"
        if include and n_old:
            what += f" and relabel <b>{n_old}</b> labeled ones"
        elif n_old:
            what += f" (the {n_old} labeled ones keep their labels)"
        yes = W.Button(
            description=f"Yes, label {n}", button_style="warning", layout=W.Layout(width="auto")
        )
        no = W.Button(description="Cancel", layout=W.Layout(width="auto"))
        yes.on_click(lambda _: (self._clear_confirm(), self.label_selection(cls)))
        no.on_click(lambda _: self._clear_confirm())
        self.confirm_box.children = [
            W.HTML(f"Label {what} as <b>{html.escape(str(cls))}</b>?"),
            W.HBox([yes, no]),
        ]

    def _clear_confirm(self) -> None:
        for w in self.confirm_box.children:
            w.close()
        self.confirm_box.children = []

    def _selection_counts(self) -> tuple[int, int]:
        y = self.session.y[self._selection]
        return int((y < 0).sum()), int((y >= 0).sum())

    def _set_selection(self, indices: np.ndarray) -> None:
        self._selection = np.asarray(indices, dtype=np.int64)
        n = len(self._selection)
        self._clear_confirm()
        n_new, n_old = self._selection_counts()
        include = bool(self.include_labeled.value)
        k = n_new + (n_old if include else 0)
        if n:
            self.selection_info.value = (
                f"<b>{n}</b> selected on the map: <b>{n_new}</b> unlabeled, {n_old} labeled "
                f"({'relabeled too' if include else 'kept as they are'})."
            )
        else:
            self.selection_info.value = _HINT
        self.bulk_button.disabled = k == 0
        self.bulk_button.description = f"Label {k} selected" if n else "Label selection"
        self.bulk_button.tooltip = self.bulk_button.description
        self.next_button.disabled = n_new == 0
        self.next_button.description = f"Label these {n_new} next" if n_new else "Label these next"

    # provided by LabelingWidget / ActionsMixin
    items: Any
    renderer: Any

    @property
    def live(self) -> bool:  # pragma: no cover - overridden
        raise NotImplementedError

    def refresh(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _say_error(self, msg: str) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _acting_on(self) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError
