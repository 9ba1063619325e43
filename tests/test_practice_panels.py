"""The widget's practice panels, driven without a browser: review suspicious labels,
labeling rules, stream mode (issue 18)."""

import numpy as np
import pytest

import alwidget
from alwidget.rules import feature_rule, keyword_rule
from alwidget.stream import VariableUncertainty
from alwidget.widget.review import ReviewPanel
from alwidget.widget.rules_panel import RulesPanel
from alwidget.widget.stream_panel import StreamPanel


@pytest.fixture
def slipped(digits):
    """A widget on 600 digits with 400 labels, 20 of them flipped (the user's slips)."""
    X, y = digits.data[:600], digits.target[:600]
    w = alwidget.label(X, classes=[str(c) for c in range(10)], store=":memory:", batch_size=5)
    rng = np.random.default_rng(0)
    flips = np.sort(rng.choice(400, 20, replace=False))
    answers = {i: str(y[i]) for i in range(400)}
    for i in flips:
        answers[int(i)] = str((y[i] + 1 + rng.integers(9)) % 10)
    w.session.submit(answers, source="map")
    yield w, y, flips
    w.close()


def test_review_finds_slips_and_records_corrections_as_updates(slipped):
    w, y, flips = slipped
    s = w.session
    batch_before, id_before, rounds_before = w.batch.copy(), s.batch.id, s.round
    review = ReviewPanel(w, max_items=20)
    shown = review.check()
    found = np.intersect1d(shown, flips)
    assert found.size >= 10, f"review shows {found.size} of 20 slips in its 20 cards"
    assert review.button.description == f"Review {shown.size} suspicious labels"
    # correct every slip on the cards, keep one non-slip as it is
    for i in found:
        assert review.cards.send_action("choose", index=int(i), code=int(y[i]))
    kept = np.setdiff1d(shown, flips)
    if kept.size:
        assert review.cards.send_action("skip", index=int(kept[0]))
    assert review.cards.send_action("submit")
    assert np.array_equal(s.y[found], y[found])
    table = s.labels_table().set_index("index")
    assert (table.loc[found, "source"] == "review").all()
    assert table.loc[found, "previous"].notna().all()  # the slip is kept in the log
    if kept.size:
        assert table.loc[int(kept[0]), "source"] == "map"  # Skip kept the label
    # the labeling cards did not change under the user, and a review is not a round
    assert np.array_equal(w.batch, batch_before) and s.batch.id == id_before
    assert s.round == rounds_before
    marks = {
        c["index"]: m["state"] for c, m in zip(review.cards.cards, review.cards.marks, strict=True)
    }
    assert all(marks[int(i)] == "labeled" for i in found)


def test_review_refuses_a_stale_card_action(slipped):
    w, y, _ = slipped
    review = ReviewPanel(w)
    first = int(review.check()[0])
    old = review.cards.batch_id
    review.check()  # a new check: the cards are a new review
    ok = review.cards.send_action("choose", batch_id=old, index=first, code=0)
    assert not ok and "out of date" in review.cards.error
    assert not review.cards.send_action("submit")  # nothing chosen: refused with a reason
    assert "Pick a class" in review.cards.error


def test_rules_panel_table_map_and_bulk_accept_with_provenance():
    docs = ["refund now", "great food", "refund please", "lovely, great", "late", "refund great"]
    X = np.arange(12, dtype=float).reshape(6, 2)
    w = alwidget.label(
        X, items=docs, classes=["complaint", "praise"], store=":memory:", batch_size=1
    )
    s = w.session
    rules = [
        keyword_rule("refund", "refund", "complaint"),
        keyword_rule("great", "great", "praise"),
    ]
    panel = RulesPanel(w, rules)
    t = panel.table.set_index("rule")
    assert t.loc["refund", "n_covered"] == 3 and t.loc["great", "n_covered"] == 3
    assert t.loc["refund", "conflicts"] == 1  # "refund great"
    # the map draws the covered unlabeled items and the conflict
    assert sorted(w.map._points[panel.covered_layer.trace].tolist()) == [0, 2, 5]
    assert w.map._points[panel.conflict_layer.trace].tolist() == [5]
    # a human label, then accept the rule: weak labels for the unlabeled items it covers only
    s.submit({0: "praise"}, source="map")  # the human says otherwise for item 0
    panel.refresh()
    assert panel.table.set_index("rule").loc["refund", "accuracy"] == 0.0
    rounds = s.round
    panel.choice.value = "refund"
    assert panel.accept_button.description == "Accept 2 labels from refund"
    assert panel.accept() == 2
    table = s.labels_table().set_index("index")
    assert table.loc[0, "label"] == "praise" and table.loc[0, "source"] == "map"
    assert (table.loc[[2, 5], "source"] == "rule:refund").all()
    assert s.round == rounds  # weak labels are not rounds
    # weak labels never judge a rule: accuracy is still on the one human label
    t = panel.table.set_index("rule")
    assert t.loc["refund", "n_labeled"] == 1 and t.loc["refund", "accuracy"] == 0.0
    w.close()


def test_rules_panel_majority_vote_abstains_on_ties():
    X = np.array([[0.0], [1.0], [5.0], [6.0]])
    w = alwidget.label(X, classes=["a", "b"], store=":memory:", batch_size=1)
    rules = [
        feature_rule("low", lambda r: r[0] < 2, "a"),
        feature_rule("mid", lambda r: r[0] > 0.5, "b"),
    ]
    panel = RulesPanel(w, rules)
    assert panel.proposal("majority") == {0: "a", 2: "b", 3: "b"}  # item 1 is a tie
    with pytest.raises(ValueError, match="unknown rule"):
        panel.proposal("nope")
    w.close()


def test_stream_mode_asks_within_budget_and_keeps_predictions(digits):
    X, y = digits.data[:900], digits.target[:900]
    w = alwidget.label(
        X, classes=[str(c) for c in range(10)], store=":memory:", batch_size=200, background=False
    )
    s = w.session
    stream = StreamPanel(w, chunk_size=50, rule=VariableUncertainty(budget=0.1, random_state=0))
    while stream.position < 900:
        asked = stream.next_chunk()
        if asked.size:
            assert set(asked.tolist()) >= set(w.batch.tolist())  # the asked items are the cards
            labels = {int(i): str(y[i]) for i in s.query()}
            s.submit(labels, keep_batch=False)
            assert s.query().size == 0  # only asked items reach the cards in stream mode
    seen = stream.rule.n_seen
    assert seen == 900
    assert stream.asked.size / seen <= 0.1 + 0.03  # the budget holds
    passed = stream.passed
    assert len(passed) + stream.asked.size == 900
    late = passed.iloc[-200:]
    assert late["prediction"].notna().all()
    accuracy = (late["prediction"].astype(int).to_numpy() == y[late["index"].to_numpy()]).mean()
    assert accuracy > 0.8  # passed items keep a useful model prediction
    stream.stop()  # the strategy picks from the whole pool again
    assert w.session.query().size > 0
    w.close()


def test_stream_mode_refuses_to_replace_cards_with_answers_on_them(blobs):
    X, _ = blobs
    w = alwidget.label(X, classes=["a", "b", "c"], store=":memory:", batch_size=3)
    stream = StreamPanel(w, chunk_size=10)
    stream.next_chunk()
    w.choose(int(w.batch[0]), "a")
    batch = w.batch.copy()
    assert stream.next_chunk().size == 0
    assert np.array_equal(w.batch, batch) and "Submit" in stream.message.value
    with pytest.raises(ValueError, match="arrival"):
        StreamPanel(w, arrival=[0, 10_000])
    w.close()
