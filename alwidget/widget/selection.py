"""Labeling from the map, for :class:`~alwidget.LabelingWidget`: a clicked point's card beside
the map, bulk labeling of a box / lasso selection (unlabeled items only unless asked), and
"label these next" (the selection queued in strategy order, served batch after batch).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import ipywidgets as W
import numpy as np
import traitlets

from ..session import SessionClosedError
from ..store import StoreError

__all__ = ["MapLabeling", "as_selection"]

_HINT = "Select points on the map (lasso or box) to label them in one go, or click one."


def as_selection(value: Any, n_samples: int) -> np.ndarray:
    """Pool indices as a selection: int64, sorted, unique, read-only.

    Raises
    ------
    traitlets.TraitError
        If ``value`` is not integers in ``0..n_samples-1``.
    """
    try:
        a = np.unique(np.asarray(value, dtype=np.int64).reshape(-1))
    except (TypeError, ValueError) as exc:
        raise traitlets.TraitError(f"selection must be pool indices (ints): {exc}") from None
    if a.size and (a[0] < 0 or a[-1] >= n_samples):
        raise traitlets.TraitError(f"selection must be pool indices in 0..{n_samples - 1}")
    a.setflags(write=False)
    return a


class MapLabeling(W.VBox):
    """The selection bar under the map and labeling from the map, for one
    :class:`~alwidget.LabelingWidget` (a component: it reaches the session, the map and the
    cards only through ``widget``).

    The widget owns the selection (its observable ``selection`` trait, set by the map's
    box / lasso events); this bar shows it (:meth:`show_selection`) and acts on it.

    Parameters
    ----------
    widget : LabelingWidget

    Attributes
    ----------
    selection_info : ipywidgets.HTML
    bulk_class : ipywidgets.Dropdown
        The class "Label selection" gives.
    include_labeled : ipywidgets.Checkbox
        Also relabel labeled items.
    bulk_button, next_button : ipywidgets.Button
        "Label selection" (asks first) and "Label these next".
    confirm_box : ipywidgets.VBox
        The confirmation question of a bulk label.
    counts : tuple of int
        ``(selected, unlabeled, labeled)`` items of the selection, as shown.
    """

    def __init__(self, widget: Any) -> None:
        super().__init__()
        self.w = widget
        self.counts = (0, 0, 0)
        self.children = self._build_selection_bar()

    def _build_selection_bar(self) -> list[W.Widget]:
        s = self.w.session
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
        self.include_labeled.observe(lambda _: self.show_selection(), names="value")
        self._row = W.HBox(
            [self.bulk_class, self.bulk_button],
            layout=W.Layout(flex_flow="row wrap", align_items="center"),
        )
        return [
            self.selection_info,
            self._row,
            self.include_labeled,
            self.next_button,
            self.confirm_box,
        ]

    def close(self) -> None:
        """Close the bar and every control in it."""
        self._clear_confirm()
        for w in (*self.children, self.bulk_class, self.bulk_button):
            w.close()
        super().close()

    # -- one point ---------------------------------------------------------------------------
    def show_point(self, index: int) -> None:
        """Show one pool item as a card beside the map, with class buttons (a map click)."""
        from .renderers import card_content

        with self.w.lock:
            s, idx = self.w.session, int(index)
            state = "unlabeled"
            if s.y[idx] >= 0:
                state = f"labeled {s.classes[int(s.y[idx])]}"
            cap = f"#{idx} from the map · {state} · uncertainty {float(s.uncertainty[idx]):.2f}"
            card = {"index": idx, "rank": 0, "caption": cap}
            card.update(card_content(self.w.items[idx], self.w.renderer))
            mark: dict[str, Any] = {"state": "open", "choice": None}
            if s.y[idx] >= 0:
                mark = {"state": "chosen", "choice": int(s.y[idx])}
            with self.w.point_view.hold_sync():
                self.w.point_view.batch_id = self.w.point_view.batch_id + 1
                self.w.point_view.cards = [card]
                self.w.point_view.marks = [mark]
                self.w.point_view.enabled = {"choose": self.w.live}
                self.w.point_view.error = ""

    def close_point(self) -> None:
        """Close the card of the clicked point."""
        with self.w.point_view.hold_sync():
            self.w.point_view.batch_id = self.w.point_view.batch_id + 1
            self.w.point_view.cards = []
            self.w.point_view.marks = []

    def on_point_action(self, msg: dict[str, Any]) -> bool:
        if msg.get("action") == "close":
            self.close_point()
            return True
        idx, code = msg.get("index"), msg.get("code")
        cards = self.w.point_view.cards
        if msg.get("action") != "label" or not cards or cards[0]["index"] != idx:
            self.w.point_view.error = "Not recorded: this card is no longer shown."
            return False
        if not isinstance(code, int) or not 0 <= code < len(self.w.session.classes):
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
        with self.w.actions.acting_on():
            s = self.w.session
            code = s.code_of(label)
            labels = {int(i): code for i in indices}
            if not labels:
                return False
            touched = bool(self.w.choices) or bool(np.asarray(s.batch.state).any())
            retrain: Any = "background" if self.w.background else True
            try:
                s.submit(
                    labels, source="map", retrain=retrain, keep_batch=touched, wait=self.w.sync_wait
                )
            except (ValueError, StoreError, SessionClosedError) as exc:
                self.w.say_error(str(exc))
                return False
            self.w.actions.last = np.fromiter(labels, dtype=np.int64)
            self.w.say_error("")
            self.w.refresh()
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
        sel = self.w.selection
        if not include_labeled:
            sel = sel[self.w.session.y[sel] < 0]
        n = len(sel)
        if n and not self.label_many(sel.tolist(), label):
            return 0
        self._set_selection(np.empty(0, dtype=np.int64))
        self.w.map.clear_selection()
        return n

    def label_selection_next(self) -> int:
        """Queue the unlabeled items of the map selection (in strategy order): the first
        batch of them is on the cards at once, the rest follow batch after batch.

        Returns
        -------
        int
            How many items were queued (0 if the selection holds no unlabeled item).
        """
        with self.w.actions.acting_on():
            s = self.w.session
            todo = [int(i) for i in self.w.selection if s.y[int(i)] < 0 and s.status[int(i)] == 0]
            if not todo:
                self.w.say_error("The selection holds no unlabeled items.")
                return 0
            try:
                s.set_batch(todo)
            except (ValueError, SessionClosedError) as exc:
                self.w.say_error(str(exc))
                return 0
            self._set_selection(np.empty(0, dtype=np.int64))
            self.w.map.clear_selection()
            self.w.say_error("")
            self.w.refresh()
            k = len(s.batch.indices)
            self.w.view.notice = (
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
        yes.on_click(lambda _: self._confirmed(cls))
        no.on_click(lambda _: self._clear_confirm())
        self.confirm_box.children = [
            W.HTML(f"Label {what} as <b>{html.escape(str(cls))}</b>?"),
            W.HBox([yes, no]),
        ]

    def _confirmed(self, cls: Any) -> None:
        self._clear_confirm()
        self.label_selection(cls)

    def _clear_confirm(self) -> None:
        for w in self.confirm_box.children:
            w.close()
        self.confirm_box.children = []

    def _selection_counts(self) -> tuple[int, int]:
        y = self.w.session.y[self.w.selection]
        return int((y < 0).sum()), int((y >= 0).sum())

    def _set_selection(self, indices: np.ndarray) -> None:
        self.w.selection = indices

    def show_selection(self) -> None:
        """Show the widget's selection: counts, button texts, and no pending confirmation."""
        n = len(self.w.selection)
        self._clear_confirm()
        n_new, n_old = self._selection_counts()
        include = bool(self.include_labeled.value)
        k = n_new + (n_old if include else 0)
        self.counts = (n, n_new, n_old)
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
