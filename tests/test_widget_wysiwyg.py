"""What you see is what you label: with a model slower than ``sync_wait``, the cards on screen
never change when the model lands, and every stored label is the one clicked on that card.

Driven through the same custom messages the browser sends (batch id and pool index included).
"""

import time

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

import alwidget


class SlowFit(LogisticRegression):
    """A model whose fit takes ``delay`` seconds (a slow model, as users have)."""

    def __init__(self, delay=0.6, max_iter=300):
        super().__init__(max_iter=max_iter)
        self.delay = delay

    def fit(self, X, y):
        time.sleep(self.delay)
        return super().fit(X, y)


def act(w, action, batch_id=None, **fields):
    msg = {
        "type": "action",
        "action": action,
        "seq": 1,
        "batch_id": w.view.batch_id if batch_id is None else batch_id,
    }
    msg.update(fields)
    w.view._handle(w.view, msg, [])


def shown(w):
    return [c["index"] for c in w.view.cards]


def chosen(w):
    """{pool index: class code} of the cards shown as chosen."""
    return {
        c["index"]: m["choice"]
        for c, m in zip(w.view.cards, w.view.marks, strict=True)
        if m["state"] == "chosen"
    }


def labels_in_effect(s):
    lab = s.labels
    return dict(zip(lab["index"].tolist(), lab["code"].tolist(), strict=True))


@pytest.fixture
def slow(digits, classes10):
    w = alwidget.label(
        digits.data,
        items=digits.images,
        classes=classes10,
        random_state=0,
        store=":memory:",
        estimator=SlowFit(1.5),
        sync_wait=0.3,
    )
    yield w
    w.close()


def _label_batch(w, truth):
    for i in shown(w):
        act(w, "choose", index=i, code=int(truth[i]))
    act(w, "submit")


def test_cards_stay_when_a_slow_model_lands(slow, digits):
    w, s = slow, slow.session
    _label_batch(w, digits.target)  # cold start: the first model (1.5 s) lands late
    w.wait_for_model(10)
    _label_batch(w, digits.target)
    assert s.trainer.busy, (
        "the fit (1.5 s: far more than a loaded machine adds) outlasts sync_wait (0.3 s)"
    )
    assert w.status_facts["retraining"] and w.status_facts["labels_behind"] == 10
    assert w.view.busy_since > 0
    cards, bid = shown(w), w.view.batch_id
    act(w, "choose", index=cards[4], code=7)
    assert w.wait_for_model(10)
    assert shown(w) == cards and w.view.batch_id == bid, "the cards did not change"
    assert s.batch.id == bid and s.query().tolist() == cards
    assert "newer model (20 labels) is ready" in w.view.notice
    assert not w.status_facts["retraining"] and w.view.busy_since == 0
    # a choice on any card of that batch is stored for exactly that item
    act(w, "choose", index=cards[9], code=2)
    act(w, "submit")
    lab = labels_in_effect(s)
    assert lab[cards[4]] == 7 and lab[cards[9]] == 2
    assert len(lab) == 22


def test_a_click_while_the_model_lands_is_stored_for_the_item_on_that_card(slow, digits):
    w, s = slow, slow.session
    for _ in range(2):
        _label_batch(w, digits.target)
    # the model for 20 labels is still fitting: click every card of the batch on screen
    cards, mv = shown(w), s.labels_trained_on
    assert s.trainer.busy
    for k, i in enumerate(cards):
        act(w, "choose", index=i, code=k % 10)
        time.sleep(0.25)  # a model (1.5 s per fit) lands in the middle of the clicks
    assert s.labels_trained_on != mv, "a model landed during the clicks"
    assert shown(w) == cards
    act(w, "submit")
    lab = labels_in_effect(s)
    assert {i: lab[i] for i in cards} == {i: k % 10 for k, i in enumerate(cards)}


def test_stale_actions_after_a_model_landed_are_refused(slow, digits):
    w, s = slow, slow.session
    old = w.view.batch_id
    _label_batch(w, digits.target)
    assert w.view.batch_id != old
    w.wait_for_model(10)
    n = len(s.labels)
    act(w, "choose", batch_id=old, index=shown(w)[0], code=1)
    assert "Not recorded" in w.error.value and "batch #" in w.error.value
    act(w, "submit", batch_id=old)
    assert len(s.labels) == n and not w.choices


@pytest.mark.parametrize("seed", [0, 1])
def test_randomized_interleavings_never_store_a_label_for_another_item(digits, classes10, seed):
    """200 random steps per seed: clicks (some on stale batches or dimmed cards),
    key presses, submits, skips, unsures, undos and model landings, with a model that lands at
    random moments. The store must hold exactly what was clicked and submitted."""
    rng = np.random.default_rng(seed)
    n = 400
    w = alwidget.label(
        digits.data[:n],
        items=digits.images[:n],
        classes=classes10,
        random_state=seed,
        store=":memory:",
        estimator=SlowFit(0.03),
        sync_wait=0.0,
        batch_size=6,
    )
    s = w.session
    expected: dict[int, int] = {}  # what the user submitted, in effect
    unsure: set[int] = set()
    history: list[tuple[str, dict[int, int]]] = []  # undoable submits, newest last
    clicked: dict[int, int] = {}  # the user's open choices on the batch on screen
    seen_ids: list[int] = []
    try:
        for _ in range(200):
            if not seen_ids or seen_ids[-1] != w.view.batch_id:
                seen_ids.append(w.view.batch_id)
                clicked = chosen(w)  # a new batch (after undo: the answers taken back)
            cards, marks = shown(w), w.view.marks
            open_pos = [p for p, m in enumerate(marks) if m["state"] in ("open", "chosen")]
            r = rng.random()
            if r < 0.40 and open_pos:  # a class click on an open card
                i, code = cards[int(rng.choice(open_pos))], int(rng.integers(10))
                act(w, "choose", index=i, code=code)
                assert w.error.value == ""
                clicked[i] = code
            elif r < 0.45 and open_pos:  # a number key on the highlighted card
                pos = w.view.cursor
                if marks[pos]["state"] in ("open", "chosen"):
                    code = int(rng.integers(10))
                    w.press(str(code))
                    clicked[cards[pos]] = code
                else:
                    w.press("ArrowRight")
            elif r < 0.52 and len(seen_ids) > 1:  # a click made on an older batch
                act(w, "choose", batch_id=seen_ids[-2], index=int(rng.choice(cards)), code=3)
                assert "Not recorded" in w.error.value
            elif r < 0.56 and len(cards) > len(open_pos):  # a click on a dimmed card
                done = [p for p, m in enumerate(marks) if m["state"] not in ("open", "chosen")]
                act(w, "choose", index=cards[int(rng.choice(done))], code=1)
                assert "Not recorded" in w.error.value
            elif r < 0.64 and open_pos:
                i = cards[int(rng.choice(open_pos))]
                act(w, "skip", index=i)
                clicked.pop(i, None)
            elif r < 0.70 and open_pos:
                i = cards[int(rng.choice(open_pos))]
                act(w, "unsure", index=i)
                clicked.pop(i, None)
                unsure.add(i)
                history.append(("unsure", {i: -1}))
            elif r < 0.85:
                before = dict(clicked)
                act(w, "submit")
                if before:
                    expected.update(before)
                    history.append(("submit", before))
                    clicked = {}
                else:
                    assert "Pick a class" in w.error.value
            elif r < 0.92:
                act(w, "undo")
                if history:
                    kind, undone = history.pop()
                    for i in undone:
                        expected.pop(i, None)
                        unsure.discard(i)
                else:
                    assert "Nothing to undo" in w.error.value
            else:
                w.wait_for_model(10)  # a model landing
            # the invariant, after every step
            assert labels_in_effect(s) == expected
            assert set(s.unsure.tolist()) == unsure
            if w.view.batch_id == seen_ids[-1]:  # the cards show exactly what was clicked
                assert chosen(w) == clicked
        assert len(expected) >= 5 and len(seen_ids) > 10, "the run did label and move on"
        assert s.round >= 5
    finally:
        w.close()
