"""Labeling rules (weak supervision): your own heuristics as votes, with coverage and accuracy.

A user often knows rules ("contains 'refund' -> complaint", "x0 > 3 -> b"). A :class:`Rule`
maps one item (and its feature row) to a class or abstains (``None``). :class:`RuleSet` applies
rules to the pool as a vote matrix, reports each rule's coverage, overlaps, conflicts and,
where human labels exist, its accuracy on them (:meth:`RuleSet.table`), and aggregates
overlapping rules by **majority vote** (:func:`majority_vote`: the class most rules vote for;
a tie, or no vote, abstains). Rule labels are weak: they are recorded with provenance
``source="rule:<name>"`` and kept apart from human labels, never used as ground truth for
evaluation. A learned label model (Snorkel's generative model, Ratner et al., 2017) weighs
rules by estimated accuracy; it is out of scope here because no maintained library fits a
notebook loop; majority vote is its usual, transparent baseline.

References
----------
Ratner, A. et al. (2017). Snorkel: rapid training data creation with weak supervision. VLDB.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "ABSTAIN",
    "Rule",
    "keyword_rule",
    "regex_rule",
    "feature_rule",
    "RuleSet",
    "majority_vote",
]

#: Vote code of a rule that does not apply to an item.
ABSTAIN = -1


@dataclass(frozen=True)
class Rule:
    """One labeling rule: ``fn(item, row) -> class name or None`` (abstain).

    Parameters
    ----------
    name : str
        Shown in tables and recorded as ``source="rule:<name>"``; letters, digits, ``_-.``.
    fn : callable
        Called with the item (text, image, table row...) and its feature row (ndarray of
        shape (n_features,)); returns a class of the session or None.

    Examples
    --------
    >>> r = Rule("long", lambda item, row: "spam" if len(item) > 20 else None)
    >>> r.fn("a very long message indeed", None), r.fn("hi", None)
    ('spam', None)
    """

    name: str
    fn: Callable[[Any, Any], Any]

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Za-z0-9_.\-]+", self.name or ""):
            raise ValueError(
                f"a rule name uses letters, digits and _-. only (it is stored as "
                f"source='rule:<name>'); got {self.name!r}"
            )


def keyword_rule(
    name: str, keywords: str | Sequence[str], label: Any, *, case: bool = False
) -> Rule:
    """A rule voting ``label`` for text items containing any of ``keywords`` (whole words).

    Examples
    --------
    >>> r = keyword_rule("refund", ["refund", "money back"], "complaint")
    >>> r.fn("I want a Refund now", None), r.fn("refunded?", None)
    ('complaint', None)
    """
    words = [keywords] if isinstance(keywords, str) else list(keywords)
    if not words:
        raise ValueError("keyword_rule needs at least one keyword")
    pattern = r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b"
    return regex_rule(name, pattern, label, case=case)


def regex_rule(name: str, pattern: str, label: Any, *, case: bool = False) -> Rule:
    """A rule voting ``label`` for text items where the regular expression ``pattern`` matches.

    Raises
    ------
    ValueError
        If ``pattern`` is not a valid regular expression (the message quotes ``re``'s error).

    Examples
    --------
    >>> regex_rule("order-no", r"#\\d{5}", "order").fn("where is #12345?", None)
    'order'
    """
    try:
        rx = re.compile(pattern, 0 if case else re.IGNORECASE)
    except re.error as e:
        raise ValueError(f"rule {name!r}: invalid regular expression {pattern!r}: {e}") from e
    return Rule(name, lambda item, row: label if rx.search(str(item)) else None)


def feature_rule(name: str, condition: Callable[[np.ndarray], bool], label: Any) -> Rule:
    """A rule voting ``label`` where ``condition(row)`` holds on the item's feature row.

    Examples
    --------
    >>> import numpy as np
    >>> feature_rule("x0-high", lambda row: row[0] > 3, "b").fn(None, np.array([4.0, 0.0]))
    'b'
    """
    return Rule(name, lambda item, row: label if condition(row) else None)


def majority_vote(votes: np.ndarray, n_classes: int) -> np.ndarray:
    """Aggregate rule votes per item: the class most rules vote for; ties and no votes abstain.

    Parameters
    ----------
    votes : ndarray of shape (n_samples, n_rules), int
        Class codes, :data:`ABSTAIN` (-1) where a rule does not apply.
    n_classes : int

    Returns
    -------
    labels : ndarray of shape (n_samples,), int64
        Class code, or -1.

    Examples
    --------
    >>> import numpy as np
    >>> majority_vote(np.array([[0, 0, 1], [1, -1, -1], [0, 1, -1], [-1, -1, -1]]), 2).tolist()
    [0, 1, -1, -1]
    """
    V = np.asarray(votes, dtype=np.int64)
    n = V.shape[0]
    counts = np.zeros((n, n_classes + 1), dtype=np.int64)
    rows = np.repeat(np.arange(n), V.shape[1])
    np.add.at(counts, (rows, V.ravel() + 1), 1)  # column 0 counts abstentions
    counts = counts[:, 1:]
    best = counts.max(axis=1)
    winner = counts.argmax(axis=1)
    tie = (counts == best[:, None]).sum(axis=1) > 1
    return np.where((best > 0) & ~tie, winner, ABSTAIN).astype(np.int64)


class RuleSet:
    """Rules applied to a pool: votes, a per-rule table, and majority-vote labels.

    Parameters
    ----------
    rules : sequence of Rule
        Names must be unique.
    classes : sequence
        The session's class names (a rule's label is matched by value).

    Examples
    --------
    >>> import numpy as np
    >>> docs = ["refund please", "great service", "refund and great", "late delivery"]
    >>> rs = RuleSet([keyword_rule("refund", "refund", "complaint"),
    ...               keyword_rule("great", "great", "praise")], classes=["complaint", "praise"])
    >>> votes = rs.apply(docs)
    >>> votes.tolist()
    [[0, -1], [-1, 1], [0, 1], [-1, -1]]
    >>> rs.table(votes, labels=np.array([0, 1, -1, -1]))[["rule", "coverage", "conflicts", "accuracy"]]
         rule  coverage  conflicts  accuracy
    0  refund       0.5          1       1.0
    1   great       0.5          1       1.0
    """

    def __init__(self, rules: Sequence[Rule], classes: Sequence[Any]) -> None:
        self.rules = list(rules)
        names = [r.name for r in self.rules]
        if len(set(names)) != len(names):
            raise ValueError(f"rule names must be unique; got {names}")
        self.classes = list(classes)

    def _code(self, rule: Rule, label: Any) -> int:
        for i, c in enumerate(self.classes):
            if c == label:
                return i
        raise ValueError(
            f"rule {rule.name!r} voted {label!r}, which is not a class of the session "
            f"{self.classes}; return one of them or None to abstain"
        )

    def apply(self, items: Sequence[Any], X: Any = None) -> np.ndarray:
        """Vote matrix of every rule on every item.

        Parameters
        ----------
        items : sequence of length n_samples
            The items (texts, images, rows) as the rules expect them.
        X : ndarray of shape (n_samples, n_features), optional
            Feature rows, passed to the rules as their second argument (None if omitted).

        Returns
        -------
        votes : ndarray of shape (n_samples, n_rules), int64
            Class codes, -1 where a rule abstains.

        Raises
        ------
        ValueError
            If a rule returns something that is not a class (the message names the rule).
        """
        n = len(items)
        votes = np.full((n, len(self.rules)), ABSTAIN, dtype=np.int64)
        for j, rule in enumerate(self.rules):
            for i in range(n):
                lab = rule.fn(items[i], None if X is None else X[i])
                if lab is not None:
                    votes[i, j] = self._code(rule, lab)
        return votes

    def table(self, votes: np.ndarray, labels: np.ndarray | None = None) -> pd.DataFrame:
        """Per-rule coverage, overlaps, conflicts and accuracy on human labels.

        Parameters
        ----------
        votes : ndarray of shape (n_samples, n_rules), int
            From :meth:`apply`.
        labels : ndarray of shape (n_samples,), int, optional
            Human labels as class codes, -1 for unlabeled (rule labels must not be passed here:
            a rule is judged on human answers only).

        Returns
        -------
        DataFrame
            One row per rule: ``rule``, ``label`` (the classes it votes), ``n_covered``,
            ``coverage`` (share of the pool), ``overlaps`` (covered items another rule covers
            too), ``conflicts`` (covered items another rule votes differently for),
            ``n_labeled`` (covered items with a human label) and ``accuracy`` on them (NaN
            without any).
        """
        V = np.asarray(votes, dtype=np.int64)
        n = V.shape[0]
        rows = []
        for j, rule in enumerate(self.rules):
            cov = V[:, j] != ABSTAIN
            others = np.delete(V, j, axis=1)
            other_cov = (others != ABSTAIN).any(axis=1)
            conflict = ((others != ABSTAIN) & (others != V[:, j : j + 1])).any(axis=1) & cov
            voted = sorted({self.classes[c] for c in np.unique(V[cov, j])}, key=str)
            n_lab, acc = 0, float("nan")
            if labels is not None:
                lab = np.asarray(labels)
                judged = cov & (lab >= 0)
                n_lab = int(judged.sum())
                if n_lab:
                    acc = float((V[judged, j] == lab[judged]).mean())
            rows.append(
                {
                    "rule": rule.name,
                    "label": ", ".join(map(str, voted)),
                    "n_covered": int(cov.sum()),
                    "coverage": float(cov.mean()) if n else 0.0,
                    "overlaps": int((cov & other_cov).sum()),
                    "conflicts": int(conflict.sum()),
                    "n_labeled": n_lab,
                    "accuracy": acc,
                }
            )
        return pd.DataFrame(rows)

    def labels(self, votes: np.ndarray) -> np.ndarray:
        """Majority-vote class code per item (-1: no rule applies, or a tie); see :func:`majority_vote`."""
        return majority_vote(votes, len(self.classes))
