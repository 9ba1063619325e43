"""Labeling rules in the widget: coverage, conflicts and accuracy in a table, on the map,
and accepted in bulk with provenance ``source="rule:<name>"``.

:class:`RulesPanel` applies a :class:`alwidget.rules.RuleSet` to the pool, shows one table row
per rule (coverage, overlaps, conflicts, accuracy on **human** labels only) and draws the
items a chosen rule covers (and the items where rules conflict) on the map. "Accept" records
the rule's votes for the unlabeled items it covers as weak labels (``source="rule:<name>"``;
"majority vote" records the aggregate as ``source="rule:majority"``). Weak labels are kept
apart from human labels: they never judge a rule and are not rounds.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import ipywidgets as W
import numpy as np
import pandas as pd

from ..errors import SessionClosedError
from ..rules import ABSTAIN, Rule, RuleSet
from ..store import StoreError

__all__ = ["RulesPanel", "MAJORITY"]

#: Name of the majority-vote choice (recorded as ``source="rule:majority"``).
MAJORITY = "majority"


class RulesPanel(W.VBox):
    """Your labeling rules over the pool: a table, a map layer, bulk accept.

    Parameters
    ----------
    widget : LabelingWidget
        The labeling widget (its session, items and map).
    rules : RuleSet or sequence of Rule
        The rules; a sequence is wrapped with the session's classes.

    Attributes
    ----------
    votes : ndarray of shape (n_samples, n_rules), int64
        Class codes per item and rule, -1 where a rule abstains.
    table : pandas.DataFrame
        The per-rule table as shown (see :meth:`alwidget.rules.RuleSet.table`), plus a row
        ``majority`` for the majority vote.
    choice : ipywidgets.Dropdown
        The rule drawn on the map and accepted by :meth:`accept` (or ``"majority"``).

    Raises
    ------
    ValueError
        If a rule votes a class the session does not have (the message names the rule).

    Examples
    --------
    >>> import numpy as np, alwidget
    >>> from alwidget.rules import feature_rule
    >>> from alwidget.widget.rules_panel import RulesPanel
    >>> X = np.array([[0.0], [1.0], [4.0], [5.0]])
    >>> w = alwidget.label(X, classes=["a", "b"], store=":memory:", batch_size=1)
    >>> panel = RulesPanel(w, [feature_rule("big", lambda row: row[0] > 3, "b")])
    >>> row = panel.table.iloc[0]
    >>> row["rule"], int(row["n_covered"]), float(row["coverage"])
    ('big', 2, 0.5)
    >>> panel.choice.value = "big"
    >>> panel.accept()
    2
    >>> sorted(w.session.labels_table()["source"].unique().tolist())
    ['rule:big']
    >>> w.close()
    """

    def __init__(self, widget: Any, rules: RuleSet | Sequence[Rule]) -> None:
        super().__init__()
        self.widget = widget
        self.session = widget.session
        self.rules = rules if isinstance(rules, RuleSet) else RuleSet(rules, self.session.classes)
        self.votes = self.rules.apply(widget.items, self.session.X)
        self.majority = self.rules.labels(self.votes)
        names = [r.name for r in self.rules.rules]
        self.choice = W.Dropdown(
            options=[*names, MAJORITY], value=names[0] if names else MAJORITY, description="Rule"
        )
        self.choice.observe(lambda _c: self.refresh(), names="value")
        self.accept_button = W.Button(description="Accept", icon="check")
        self.accept_button.layout = W.Layout(width="auto", flex="0 0 auto")
        self.accept_button.on_click(lambda _b: self.accept())
        self.message = W.HTML()
        self.html = W.HTML()
        m = widget.map
        self.covered_layer = m.add_overlay(
            "rule covers (unlabeled)",
            symbol="diamond-open",
            size=9,
            color="#7b3294",
            line={"width": 1.5, "color": "#7b3294"},
        )
        self.conflict_layer = m.add_overlay(
            "rules conflict",
            symbol="x-thin-open",
            size=10,
            color="#e66101",
            line={"width": 2, "color": "#e66101"},
        )
        self.table = pd.DataFrame()
        self.children = [
            W.HBox([self.choice, self.accept_button, self.message]),
            self.html,
        ]
        widget.on_refresh(self.refresh)
        self.refresh()

    # -- what is shown --------------------------------------------------------------------
    def human_labels(self) -> np.ndarray:
        """Class codes of human answers in effect (weak ``rule:`` labels as -1), shape
        (n_samples,), int64: what a rule is judged on."""
        y = np.asarray(self.session.y, dtype=np.int64).copy()
        t = self.session.labels_table()
        if len(t):
            weak = t["source"].astype(str).str.startswith("rule:").to_numpy()
            y[t["index"].to_numpy(dtype=np.int64)[weak]] = -1
        return y

    def proposal(self, name: str | None = None) -> dict[int, Any]:
        """The weak labels :meth:`accept` would record: ``{pool index: class}`` for every
        unlabeled item the rule (or the majority vote) covers."""
        name = self.choice.value if name is None else name
        if name == MAJORITY:
            codes = self.majority
        else:
            names = [r.name for r in self.rules.rules]
            if name not in names:
                raise ValueError(f"unknown rule {name!r}; choose one of {[*names, MAJORITY]}")
            codes = self.votes[:, names.index(name)]
        unlabeled = np.asarray(self.session.y) < 0
        idx = np.flatnonzero((codes != ABSTAIN) & unlabeled)
        classes = list(self.session.classes)
        return {int(i): classes[int(codes[i])] for i in idx}

    def refresh(self) -> None:
        """Recompute the table (accuracy on the human labels in effect) and the map layers."""
        y = self.human_labels()
        table = self.rules.table(self.votes, labels=y)
        cov = self.majority != ABSTAIN
        judged = cov & (y >= 0)
        table.loc[len(table)] = {
            "rule": MAJORITY,
            "label": "",
            "n_covered": int(cov.sum()),
            "coverage": float(cov.mean()) if len(cov) else 0.0,
            "overlaps": 0,
            "conflicts": 0,
            "n_labeled": int(judged.sum()),
            "accuracy": float((self.majority[judged] == y[judged]).mean())
            if judged.any()
            else float("nan"),
        }
        self.table = table
        self.html.value = _table_html(table)
        todo = self.proposal()
        self.accept_button.description = f"Accept {len(todo)} labels from {self.choice.value}"
        self.accept_button.disabled = not todo
        covered = np.asarray(sorted(todo), dtype=np.int64)
        V = self.votes
        voted = np.where(V != ABSTAIN, V, -2)
        lo = np.where(V != ABSTAIN, V, np.iinfo(np.int64).max).min(
            axis=1, initial=np.iinfo(np.int64).max
        )
        conflict = np.flatnonzero(
            (V != ABSTAIN).any(axis=1) & (voted.max(axis=1, initial=-2) != lo)
        )
        self.widget.map.set_overlays({self.covered_layer: covered, self.conflict_layer: conflict})

    # -- the action -----------------------------------------------------------------------
    def accept(self) -> int:
        """Record the chosen rule's labels for the unlabeled items it covers (weak labels,
        ``source="rule:<name>"``; one undoable submit, not a round).

        Returns
        -------
        int
            Labels recorded (0 if there was nothing to accept or the store refused: the
            panel's message says why).
        """
        todo = self.proposal()
        if not todo:
            self.message.value = "<span>Nothing to accept: every covered item is labeled.</span>"
            return 0
        name = str(self.choice.value)
        retrain: Any = "background" if self.widget.background else True
        try:
            self.session.submit(
                todo, source=f"rule:{name}", retrain=retrain, keep_batch=True, wait=0.0
            )
        except (ValueError, StoreError, SessionClosedError) as exc:
            self.message.value = f"<span style='color:#b00'>{html.escape(str(exc))}</span>"
            return 0
        self.message.value = (
            f"<span>Recorded {len(todo)} weak labels as <code>rule:{html.escape(name)}</code> "
            "(Undo in the cards takes them back).</span>"
        )
        self.widget.refresh()
        return len(todo)


def _table_html(table: pd.DataFrame) -> str:
    """The rule table as escaped HTML with units (shares as %, accuracy on human labels)."""
    show = pd.DataFrame(
        {
            "rule": table["rule"],
            "votes": table["label"],
            "covers": table["n_covered"],
            "coverage (% of pool)": (100 * table["coverage"]).map("{:.1f}".format),
            "overlaps": table["overlaps"],
            "conflicts": table["conflicts"],
            "human labels covered": table["n_labeled"],
            "accuracy on human labels": table["accuracy"].map(
                lambda a: "–" if pd.isna(a) else f"{a:.2f}"
            ),
        }
    )
    cell = "padding:2px 10px;text-align:right;border-bottom:1px solid #ddd"
    out = show.to_html(index=False, escape=True, border=0, classes="alw-rules")
    out = out.replace("<th>", f'<th style="{cell};font-weight:600">')
    out = out.replace("<td>", f'<td style="{cell}">')
    return out.replace(
        '<table class="dataframe alw-rules">',
        '<table class="alw-rules" style="border-collapse:collapse">',
    )
