"""The teaching panel's offer to label a random evaluation sample (when no held-out set was
given): honest accuracy needs items no strategy picked."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as W
import numpy as np

from ..evaluation import EvalSet, eval_sample
from .renderers import render_item

__all__ = ["EvalSampler"]


class EvalSampler(W.VBox):
    """Draw a random sample of unlabeled pool items, label them on cards, use them as the
    evaluation set.

    Parameters
    ----------
    widget : LabelingWidget
        Its session (the sampled items are excluded from its batches) and its items and
        renderer (the cards).
    on_use : callable
        ``on_use(eval_set)`` with the :class:`~alwidget.evaluation.EvalSet` of the labeled
        cards, when the user presses "Use as evaluation set".
    random_state : int, default=0
        Seed of the sample.

    Attributes
    ----------
    size : ipywidgets.BoundedIntText
        Sample size.
    draw_button, use_button : ipywidgets.Button
    cards : list of ipywidgets.VBox
        One card per sampled item; its last child is the class toggle.
    indices : ndarray of shape (m,), int64 or None
        The sampled pool items (None before the first draw).
    """

    def __init__(
        self, widget: Any, on_use: Callable[[EvalSet], None], *, random_state: int = 0
    ) -> None:
        super().__init__()
        self.widget = widget
        self.session = s = widget.session
        self.on_use = on_use
        self.random_state = int(random_state)
        self.indices: np.ndarray | None = None
        self.choices: dict[int, int] = {}
        self.cards: list[W.VBox] = []
        self.size = W.BoundedIntText(
            value=min(40, s.n_samples // 4),
            min=5,
            max=max(5, s.n_samples // 2),
            description="sample size",
            layout=W.Layout(width="200px"),
        )
        self.draw_button = W.Button(
            description="Draw a random evaluation sample",
            icon="random",
            layout=W.Layout(width="280px"),
        )
        self.use_button = W.Button(
            description="Use as evaluation set", icon="check", button_style="success", disabled=True
        )
        self.message = W.HTML(
            "Honest accuracy needs items no strategy picked: label a small "
            "<b>random</b> sample here. Those items leave the query pool."
        )
        self.grid = W.GridBox(
            layout=W.Layout(grid_template_columns="repeat(5, minmax(150px, 1fr))", grid_gap="8px")
        )
        self.draw_button.on_click(lambda _: self.draw())
        self.use_button.on_click(lambda _: self.use())
        self.children = [
            W.HTML("<h4>Evaluation set</h4>"),
            self.message,
            W.HBox([self.size, self.draw_button, self.use_button]),
            self.grid,
        ]

    def draw(self) -> np.ndarray:
        """Draw ``size.value`` unlabeled pool items, exclude them from the session's batches
        (:meth:`Session.exclude`, saved in the store) and show them as cards.

        Returns
        -------
        ndarray of shape (m,), int64
        """
        s = self.session
        free = np.flatnonzero((s.y < 0) & ~s.skipped & ~s.excluded)
        pick = eval_sample(free.size, self.size.value, self.random_state)
        self.indices = idx = free[pick]
        self.choices = {}
        self.exclude()
        cards = []
        for i in idx.tolist():
            tb = W.ToggleButtons(
                options=s.classes, value=None, style=W.ToggleButtonsStyle(button_width="auto")
            )
            tb.observe(lambda ch, i=i: self._choose(i, ch["new"]), names="value")
            caption = W.HTML(f"<div class='alw-caption'>eval #{i}</div>")
            item = render_item(self.widget.items[i], self.widget.renderer)
            cards.append(W.VBox([caption, item, tb]).add_class("alw-card"))
        self.cards = cards
        self.grid.children = cards
        self.use_button.disabled = False
        if np.isin(s.batch.indices, idx).any():
            s.requery()
            self.widget.refresh()
        return idx

    def _choose(self, index: int, name: Any) -> None:
        if name is None:
            self.choices.pop(index, None)
        else:
            self.choices[index] = self.session.classes.index(name)

    def exclude(self) -> None:
        """(Again) exclude the sampled items from the session's batches (after an undo the
        session rebuilds its exclusions from the store)."""
        if self.indices is not None:
            self.session.exclude(self.indices.tolist())

    def use(self) -> EvalSet | None:
        """Pass the labeled cards to ``on_use`` as an :class:`EvalSet`; None (and a message)
        when no card is labeled yet."""
        if self.indices is None or not self.choices:
            self.message.value = "Label at least one evaluation card first."
            return None
        s = self.session
        idx = np.array(sorted(self.choices), dtype=np.int64)
        y = np.array([self.choices[i] for i in idx.tolist()], dtype=np.int64)
        Xf = s.X_fit.iloc[idx] if hasattr(s.X_fit, "iloc") else np.asarray(s.X_fit)[idx]
        es = EvalSet(Xf, y, len(s.classes))
        self.on_use(es)
        self.message.value = (
            f"Evaluation set: {idx.size} items. Metrics appear from the next retrain on."
        )
        return es
