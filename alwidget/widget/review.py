"""Review suspicious labels: the user's own slips, found by cleanlab, relabeled as cards.

Human labels are not ground truth: fatigue and ambiguity flip some. :class:`ReviewPanel`
asks :meth:`alwidget.Session.label_issues` (confident learning on out-of-fold probabilities,
plus items where annotators disagree) and shows the suspicious items as a batch of cards of
their own, beside the labeling cards. A class picked on a review card is recorded as an
**update** of that item's label (``source="review"``, the previous answer kept in the log);
Skip keeps the label as it is. The labeling batch on screen is never replaced by a review.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as W
import numpy as np
import pandas as pd

from ..errors import SessionClosedError
from ..store import StoreError
from .cards import BatchCards
from .renderers import card_content

__all__ = ["ReviewPanel"]

REVIEW_HELP = "0-9 pick the right class · s keep the label · ←/→ move · Enter record"


class ReviewPanel(W.VBox):
    """ "Review N suspicious labels": likely label mistakes as a batch of relabel cards.

    Parameters
    ----------
    widget : LabelingWidget
        The labeling widget whose session, items and renderer are used.
    max_items : int, default=20
        Cards shown at most (most suspicious first).
    cv : int, default=5
        Folds of the out-of-fold probabilities (see :func:`alwidget.label_issues.find_label_issues`).

    Attributes
    ----------
    issues : pandas.DataFrame
        The last check (:meth:`alwidget.Session.label_issues`): ``index``, ``given``,
        ``suggested``, ``score``, ``issue``, ``source``.
    cards : BatchCards
        The review cards (hidden until a check finds something).
    button : ipywidgets.Button
        "Review N suspicious labels" (runs the check, then shows the cards).

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> import alwidget
    >>> from alwidget.widget.review import ReviewPanel
    >>> X, y = load_digits(return_X_y=True)
    >>> w = alwidget.label(X[:400], classes=[str(c) for c in range(10)], store=":memory:")
    >>> answers = {i: str(y[i]) for i in range(300)}
    >>> answers[7] = str((y[7] + 1) % 10)  # a slip
    >>> _ = w.session.submit(answers, source="map")
    >>> review = ReviewPanel(w)
    >>> 7 in review.check().tolist()
    True
    >>> review.cards.send_action("choose", index=7, code=int(y[7]))
    True
    >>> review.cards.send_action("submit"), bool(w.session.y[7] == y[7])
    (True, True)
    >>> w.close()
    """

    def __init__(self, widget: Any, *, max_items: int = 20, cv: int = 5) -> None:
        super().__init__()
        self.widget = widget
        self.session = widget.session
        self.max_items = int(max_items)
        self.cv = int(cv)
        self.issues = pd.DataFrame(columns=["index", "given", "suggested", "score", "issue"])
        self.button = W.Button(description="Review suspicious labels", icon="search")
        self.button.layout = W.Layout(width="auto", flex="0 0 auto")
        self.button.on_click(lambda _b: self.check())
        self.summary = W.HTML()
        self.cards = BatchCards(
            self._on_action,
            columns=int(widget.view.columns),
            classes=[str(c) for c in self.session.classes],
        )
        self.cards.help = REVIEW_HELP
        self.cards.layout.display = "none"
        self._review_id = 0
        self._shown = np.empty(0, dtype=np.int64)
        self._choices: dict[int, int] = {}
        self._kept: set[int] = set()
        self._done: dict[int, int] = {}
        self.children = [W.HBox([self.button, self.summary]), self.cards]

    # -- the check ------------------------------------------------------------------------
    def check(self) -> np.ndarray:
        """Run the check on the labels in effect and show the suspicious items as cards.

        Returns
        -------
        ndarray of shape (m,), int64
            Pool indices on the review cards, most suspicious first (``m <= max_items``).
        """
        self.issues = self.session.label_issues(cv=self.cv)
        shown = self.issues["index"].to_numpy(dtype=np.int64)[: self.max_items]
        self._review_id += 1
        self._shown = shown
        self._choices, self._kept, self._done = {}, set(), {}
        n_labels = int(self.session.n_labeled)
        n = len(shown)
        self.button.description = f"Review {n} suspicious labels" if n else "Check labels again"
        self.summary.value = (
            f"<span>{n} suspicious of {n_labels} labels (confident learning, {self.cv}-fold "
            "out-of-fold probabilities; annotator disagreements last). Pick the right class; "
            "Skip keeps the label.</span>"
            if n
            else f"<span>No suspicious labels among {n_labels} (too few labels, or none found).</span>"
        )
        self.cards.cards = [self._card(rank, int(i)) for rank, i in enumerate(shown)]
        self.cards.batch_id = self._review_id
        self.cards.cursor = 0
        self.cards.error = ""
        self._paint()
        self.cards.layout.display = "" if n else "none"
        return shown.copy()

    def _card(self, rank: int, idx: int) -> dict[str, Any]:
        row = self.issues.iloc[rank]
        if row["issue"] == "label":
            why = (
                f"given {row['given']} · suggested {row['suggested']} · quality {row['score']:.2f}"
            )
        else:
            why = "annotators disagree"
        card = {"index": idx, "rank": rank + 1, "caption": f"#{idx} · {why}"}
        card.update(card_content(self.widget.items[idx], self.widget.renderer))
        return card

    def _paint(self) -> None:
        names = [str(c) for c in self.session.classes]
        marks = []
        for i in self._shown.tolist():
            if i in self._done:
                marks.append(
                    {
                        "state": "labeled",
                        "choice": self._done[i],
                        "note": f"recorded: {names[self._done[i]]}",
                    }
                )
            elif i in self._kept:
                marks.append({"state": "skipped", "choice": None, "note": "kept"})
            elif i in self._choices:
                marks.append({"state": "chosen", "choice": self._choices[i]})
            else:
                marks.append({"state": "open", "choice": None})
        self.cards.marks = marks
        open_left = any(m["state"] in ("open", "chosen") for m in marks)
        self.cards.enabled = {
            "choose": open_left,
            "skip": open_left,
            "unsure": False,
            "submit": bool(self._choices),
            "undo": False,
        }
        self.cards.status = (
            f"Review · {len(self._done)} corrected or confirmed · {len(self._kept)} kept · "
            f"{sum(m['state'] in ('open', 'chosen') for m in marks)} open"
        )

    # -- actions from the cards -----------------------------------------------------------
    def _on_action(self, msg: dict[str, Any]) -> bool:
        if msg.get("batch_id") != self._review_id:
            self.cards.error = "This review is out of date: nothing was recorded."
            return False
        action = msg.get("action")
        idx = msg.get("index")
        if action == "cursor":
            self.cards.cursor = int(idx or 0)
            return True
        if action == "submit":
            return self._record()
        if not isinstance(idx, int) or idx not in set(self._shown.tolist()):
            return False
        if idx in self._done or idx in self._kept:
            return False
        if action == "choose":
            code = msg.get("code")
            if not isinstance(code, int) or not 0 <= code < len(self.session.classes):
                return False
            self._choices[idx] = code
        elif action == "clear":
            self._choices.pop(idx, None)
        elif action == "skip":
            self._choices.pop(idx, None)
            self._kept.add(idx)
        else:
            return False
        self.cards.error = ""
        self._paint()
        return True

    def _record(self) -> bool:
        if not self._choices:
            self.cards.error = "Pick a class on at least one card (Skip keeps a label)."
            return False
        classes = list(self.session.classes)
        labels = {i: classes[c] for i, c in self._choices.items()}
        retrain: Any = "background" if self.widget.background else True
        try:
            self.session.submit(labels, source="review", retrain=retrain, keep_batch=True, wait=0.0)
        except (ValueError, StoreError, SessionClosedError) as exc:
            self.cards.error = str(exc)
            return False
        self._done.update(self._choices)
        self._choices = {}
        self.cards.error = ""
        self._paint()
        self.widget.refresh()
        return True
