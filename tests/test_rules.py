"""Labeling rules: votes, the per-rule table and majority vote, checked by hand."""

import numpy as np
import pytest

from alwidget.rules import (
    ABSTAIN,
    Rule,
    RuleSet,
    feature_rule,
    keyword_rule,
    majority_vote,
    regex_rule,
)

DOCS = [
    "I want a refund",  # 0 complaint (refund)
    "refund, but great staff",  # 1 complaint + praise: a conflict
    "great product",  # 2 praise
    "late and broken",  # 3 complaint (broken)
    "nothing to say",  # 4 none
    "REFUND NOW, broken",  # 5 complaint twice: an overlap without conflict
]
CLASSES = ["complaint", "praise"]


@pytest.fixture
def rules():
    return RuleSet(
        [
            keyword_rule("refund", "refund", "complaint"),
            keyword_rule("great", ["great", "excellent"], "praise"),
            regex_rule("broken", r"\bbroke(n)?\b", "complaint"),
        ],
        CLASSES,
    )


def test_votes_match_the_rules_by_hand(rules):
    V = rules.apply(DOCS)
    assert V.tolist() == [
        [0, -1, -1],
        [0, 1, -1],
        [-1, 1, -1],
        [-1, -1, 0],
        [-1, -1, -1],
        [0, -1, 0],
    ]


def test_table_counts_coverage_overlaps_conflicts_and_accuracy_on_human_labels(rules):
    V = rules.apply(DOCS)
    human = np.array([0, 1, 1, -1, -1, 0])  # item 1 was labeled praise by the user
    t = rules.table(V, human).set_index("rule")
    assert t.loc["refund", "n_covered"] == 3 and t.loc["refund", "coverage"] == pytest.approx(0.5)
    assert t.loc["refund", "overlaps"] == 2 and t.loc["refund", "conflicts"] == 1
    assert t.loc["refund", "n_labeled"] == 3 and t.loc["refund", "accuracy"] == pytest.approx(2 / 3)
    assert t.loc["great", "accuracy"] == 1.0 and t.loc["great", "label"] == "praise"
    assert t.loc["broken", "n_labeled"] == 1 and t.loc["broken", "conflicts"] == 0
    no_labels = rules.table(V)
    assert no_labels["accuracy"].isna().all() and (no_labels["n_labeled"] == 0).all()


def test_majority_vote_abstains_on_ties_and_uncovered_items(rules):
    labels = rules.labels(rules.apply(DOCS))
    assert labels.tolist() == [0, -1, 1, 0, -1, 0]
    V = np.array([[1, 1, 0], [2, 2, 2], [ABSTAIN] * 3, [0, 1, 2]])
    assert majority_vote(V, 3).tolist() == [1, 2, -1, -1]


def test_feature_rules_see_the_row():
    X = np.array([[4.0, 0.0], [1.0, 0.0]])
    rs = RuleSet([feature_rule("x0-high", lambda row: row[0] > 3, "b")], ["a", "b"])
    assert rs.apply([None, None], X).ravel().tolist() == [1, -1]


def test_clear_errors():
    with pytest.raises(ValueError, match="not a class of the session"):
        RuleSet([Rule("bad", lambda item, row: "cat")], CLASSES).apply(["x"])
    with pytest.raises(ValueError, match="letters, digits"):
        Rule("has space", lambda item, row: None)
    with pytest.raises(ValueError, match="invalid regular expression"):
        regex_rule("r", "(", "complaint")
    with pytest.raises(ValueError, match="unique"):
        RuleSet([keyword_rule("a", "x", "praise"), keyword_rule("a", "y", "praise")], CLASSES)
