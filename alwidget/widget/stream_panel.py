"""Stream mode: items arrive in chunks and a selective-sampling rule asks or lets them pass.

:class:`StreamPanel` feeds pool items to a :class:`alwidget.stream.VariableUncertainty` rule
(Žliobaitė et al., 2014) in arrival order, a chunk per click of "Next N items arrive". Items
the rule asks become the labeling batch (the cards; the user's own click changes them), and
only they: the other items are held back from batches while stream mode is on
(:meth:`alwidget.batches.Batches.hold`); the items it lets pass keep the current model's
prediction, listed in :attr:`StreamPanel.passed`
and drawn on the map. The rule's label budget (a share of the items seen) is shown with what
was spent.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as W
import numpy as np
import pandas as pd

from ..stream import VariableUncertainty

__all__ = ["StreamPanel"]


class StreamPanel(W.VBox):
    """Stream-based selective sampling in the labeling widget.

    Parameters
    ----------
    widget : LabelingWidget
        The labeling widget; asked items become its batch.
    arrival : array-like of shape (m,), int, optional
        Pool indices in the order they arrive; default every pool item in index order.
        Items labeled before they arrive are skipped.
    chunk_size : int, default=20
        Items per "Next N items arrive".
    rule : VariableUncertainty, optional
        The selective-sampling rule; default ``VariableUncertainty(budget=0.1)``.

    Attributes
    ----------
    passed : pandas.DataFrame
        One row per item let pass: ``index``, ``prediction`` (class name of the model at
        arrival, None before any model), ``confidence`` (its largest class probability).
    asked : ndarray of shape (a,), int64
        Pool indices the rule asked, in arrival order.

    Raises
    ------
    ValueError
        If ``arrival`` has indices outside the pool or ``chunk_size`` < 1.

    Examples
    --------
    >>> import numpy as np, alwidget
    >>> from sklearn.datasets import make_blobs
    >>> from alwidget.widget.stream_panel import StreamPanel
    >>> X, y = make_blobs(300, centers=2, random_state=0)
    >>> w = alwidget.label(X, classes=["a", "b"], store=":memory:", batch_size=5)
    >>> stream = StreamPanel(w, chunk_size=50)
    >>> asked = stream.next_chunk()  # no model yet: the first items are asked
    >>> bool(np.array_equal(w.batch, asked[: w.session.batch_size]))
    True
    >>> w.close()
    """

    def __init__(
        self,
        widget: Any,
        *,
        arrival: Any = None,
        chunk_size: int = 20,
        rule: VariableUncertainty | None = None,
    ) -> None:
        super().__init__()
        self.widget = widget
        self.session = s = widget.session
        order = np.arange(s.n_samples) if arrival is None else np.asarray(arrival, dtype=np.int64)
        if order.ndim != 1 or (order.size and (order.min() < 0 or order.max() >= s.n_samples)):
            raise ValueError(f"arrival must be pool indices in 0..{s.n_samples - 1}")
        if int(chunk_size) < 1:
            raise ValueError(f"chunk_size must be at least 1; got {chunk_size!r}")
        self.order = order
        self.chunk_size = int(chunk_size)
        self.rule = rule if rule is not None else VariableUncertainty(budget=0.1)
        self.position = 0
        self.asked = np.empty(0, dtype=np.int64)
        self.passed = pd.DataFrame(
            {
                "index": pd.Series(dtype="int64"),
                "prediction": pd.Series(dtype="object"),
                "confidence": pd.Series(dtype="float64"),
            }
        )
        self.button = W.Button(description=f"Next {self.chunk_size} items arrive", icon="forward")
        self.button.layout = W.Layout(width="auto", flex="0 0 auto")
        self.button.on_click(lambda _b: self.next_chunk())
        self.message = W.HTML()
        self.passed_layer = widget.map.add_overlay(
            "passed",
            hover="passed: the model's prediction is kept",
            symbol="circle-open",
            size=7,
            color="#8c8c8c",
            line={"width": 1, "color": "#8c8c8c"},
        )
        self.stop_button = W.Button(description="End stream mode", icon="stop")
        self.stop_button.layout = W.Layout(width="auto", flex="0 0 auto")
        self.stop_button.on_click(lambda _b: self.stop())
        self.children = [W.HBox([self.button, self.stop_button, self.message])]
        # only asked items reach the cards: everything else is held back until it arrives
        s.batches.hold(np.ones(s.n_samples, dtype=bool))
        self._say()

    def stop(self) -> None:
        """End stream mode: the strategy picks batches from the whole pool again."""
        s = self.session
        s.batches.hold(np.zeros(s.n_samples, dtype=bool))
        if s.query().size == 0:  # every asked card answered: the next batch, from the pool
            s.requery()
            self.widget.refresh()
        self.button.disabled = True
        self._say("Stream mode ended: batches come from the whole pool again.")

    def next_chunk(self) -> np.ndarray:
        """Let the next chunk of items arrive; the rule asks some, the rest pass.

        Asked items become the labeling batch (the first ``batch_size`` at once, the rest
        queued as "label these next"). Refused, with a message, while the batch on screen
        has answers not yet submitted.

        Returns
        -------
        ndarray of shape (a,), int64
            The items asked from this chunk (may be empty).
        """
        if self.widget.choices:
            self.message.value = (
                "<span style='color:#b00'>Submit (or clear) the answers on the cards first: "
                "new arrivals would replace the batch.</span>"
            )
            return np.empty(0, dtype=np.int64)
        s = self.session
        y = np.asarray(s.y)
        chunk: list[int] = []
        while self.position < len(self.order) and len(chunk) < self.chunk_size:
            i = int(self.order[self.position])
            self.position += 1
            if y[i] < 0:
                chunk.append(i)
        idx = np.asarray(chunk, dtype=np.int64)
        if idx.size == 0:
            self._say("The stream has ended: every item has arrived.")
            return idx
        proba = s.proba
        n_classes = len(s.classes)
        P = np.full((idx.size, n_classes), 1.0 / n_classes) if proba is None else proba[idx]
        ask = self.rule.decide(P)
        asked, passed = idx[ask], idx[~ask]
        self.asked = np.concatenate([self.asked, asked])
        classes = list(s.classes)
        rows = pd.DataFrame(
            {
                "index": passed,
                "prediction": [
                    None if proba is None else classes[int(k)] for k in P[~ask].argmax(1)
                ],
                "confidence": P[~ask].max(axis=1),
            }
        )
        self.passed = (
            rows if self.passed.empty else pd.concat([self.passed, rows], ignore_index=True)
        )
        if asked.size:
            held = s.batches.held.copy()
            held[asked] = False
            s.batches.hold(held)
            s.set_batch(asked)
            self.widget.refresh()
        self.widget.map.set_overlay(self.passed_layer, self.passed["index"].to_numpy(np.int64))
        self._say(f"{asked.size} of {idx.size} new items asked.")
        return asked

    def arrive(self, X_new: Any, items: Any = None) -> np.ndarray:
        """New items arrive from outside the pool: add them (:meth:`LabelingWidget.add_items`,
        marked "new" on the map), then let them through the rule at once.

        Parameters
        ----------
        X_new : ndarray or DataFrame of shape (m, n_features)
        items : sequence of length m, optional
            What a human looks at (needed when the widget shows items of its own).

        Returns
        -------
        ndarray of shape (a,), int64
            The new items the rule asked.
        """
        new = self.widget.add_items(X_new, items)
        held = self.session.batches.held.copy()
        held[new] = True  # they arrive through the rule, not through the strategy
        self.session.batches.hold(held)
        rest = self.order[self.position :]
        self.order = np.concatenate([self.order[: self.position], new, rest])
        size, self.chunk_size = self.chunk_size, len(new)
        try:
            return self.next_chunk()
        finally:
            self.chunk_size = size

    def _say(self, news: str = "") -> None:
        seen = self.rule.n_seen
        share = self.rule.n_asked / seen if seen else 0.0
        self.message.value = (
            f"<span>{html.escape(news)} Stream: {self.position} of {len(self.order)} arrived · "
            f"asked {self.rule.n_asked} ({100 * share:.1f}%; budget {100 * self.rule.budget:.0f}%, "
            f"recent spend {100 * self.rule.spent:.1f}%) · passed {len(self.passed)} keep the "
            f"model's prediction · threshold θ = {self.rule.theta:.2f}</span>"
        )
