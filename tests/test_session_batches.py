"""What you see is what you label, in the core: versioned batches, cards in place, stale
actions refused, background models that never swap the batch, the queue, close."""

import time

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.linear_model import LogisticRegression

import alwidget
from alwidget import Session, SessionClosedError, StaleBatchError


class SlowLR(LogisticRegression):
    """A classifier whose fit takes ``delay`` seconds (a slow model, as users have)."""

    def __init__(self, delay=0.6, max_iter=200):
        super().__init__(max_iter=max_iter)
        self.delay = delay

    def fit(self, X, y, sample_weight=None):
        time.sleep(self.delay)
        return super().fit(X, y, sample_weight)


@pytest.fixture
def data():
    X, y = make_blobs(n_samples=200, centers=3, n_features=4, random_state=0)
    return X, y


def make(X, **kw):
    kw.setdefault("store", ":memory:")
    kw.setdefault("random_state", 0)
    return Session(X, classes=["a", "b", "c"], **kw)


def truth(s, y, idx):
    return {int(i): "abc"[y[int(i)]] for i in idx}


def test_batch_ids_increase_and_a_stale_submit_records_nothing(data):
    X, y = data
    s = make(X)
    b1 = s.batch
    s.submit(truth(s, y, b1.indices[:3]), batch_id=b1.id)
    b2 = s.batch
    assert b2.id > b1.id
    n = s.n_labeled
    with pytest.raises(StaleBatchError, match="no longer the current batch"):
        s.submit(truth(s, y, b2.indices[:2]), batch_id=b1.id)
    with pytest.raises(StaleBatchError):
        s.skip(int(b2.indices[0]), batch_id=b1.id)
    with pytest.raises(StaleBatchError):
        s.mark_unsure(int(b2.indices[0]), batch_id=b1.id)
    assert s.n_labeled == n and len(s.store.events()) == 3, "nothing recorded"
    with pytest.raises(ValueError, match="not a card"):
        s.check_action(b2.id, int(b1.indices[0]))
    s.check_action(b2.id, int(b2.indices[0]))  # current: fine


def test_skip_and_unsure_keep_cards_in_place(data):
    X, y = data
    s = make(X, batch_size=4)
    b = s.batch
    cards = b.indices.copy()
    s.skip(int(cards[1]), batch_id=b.id)
    s.mark_unsure(int(cards[2]), batch_id=b.id)
    assert s.batch is b and np.array_equal(s.batch.indices, cards), "cards did not move"
    assert s.batch.state.tolist() == [0, alwidget.SKIPPED, alwidget.UNSURE_STATUS, 0]
    assert s.query().tolist() == [cards[0], cards[3]]
    with pytest.raises(ValueError, match="already skipped"):
        s.submit({int(cards[1]): "a"}, batch_id=b.id)
    # the provenance keeps rank and score of the card
    table = s.labels_table(include_unsure=True, include_skipped=True).set_index("index")
    assert table.loc[int(cards[2]), "rank"] == 3 and table.loc[int(cards[1]), "rank"] == 2
    # answering the last open cards by skip/unsure picks a new batch
    s.skip(int(cards[0]))
    s.mark_unsure(int(cards[3]))
    assert s.batch.id != b.id and not set(s.batch.indices) & set(cards.tolist())


def test_a_late_model_never_swaps_the_batch_and_picks_the_next(data):
    X, y = data
    s = make(X, estimator=SlowLR(delay=0.6))
    events = []
    s.observe(events.append, names=["model"])
    b = s.batch
    s.submit(truth(s, y, b.indices), batch_id=b.id, retrain="background", wait=0.05)
    shown = s.batch
    cards = shown.indices.copy()
    assert s.cold and s.trainer.busy, "the fit is still running: batch from the cold rule"
    assert s.trainer.wait(10)
    assert events == ["model"] and not s.cold
    assert s.batch is shown and np.array_equal(s.batch.indices, cards), "cards unchanged"
    assert s.newer_model
    # a choice on any card of the batch the user saw is stored for exactly that item
    pick = {int(cards[3]): "b", int(cards[7]): "c"}
    s.submit(pick, batch_id=shown.id, retrain="background", wait=5)
    lab = s.labels.set_index("index")["label"]
    assert lab[int(cards[3])] == "b" and lab[int(cards[7])] == "c"
    assert s.batch.model_version == 12 and not s.newer_model, "picked by the newest model"
    s.close()


def test_background_fit_failure_keeps_labels_and_says_why(data):
    X, y = data

    class Broken(LogisticRegression):
        def fit(self, X, y, sample_weight=None):
            raise RuntimeError("out of memory")

    s = make(X, estimator=Broken())
    errs = []
    s.observe(errs.append, names="fit_error")
    s.submit(truth(s, y, s.query()), retrain="background", wait=5)
    assert s.trainer.wait(5) and errs == ["fit_error"]
    assert s.n_labeled == 10 and "out of memory" in s.last_error


def test_label_these_next_queues_everything_in_order(data):
    X, y = data
    s = make(X)
    s.submit(truth(s, y, s.query()))
    todo = [i for i in range(200) if s.y[i] < 0][:30]
    s.set_batch(todo)
    served = []
    for _ in range(3):
        assert s.batch.strategy == "map selection"
        served += s.query().tolist()
        s.submit(truth(s, y, s.query()), batch_id=s.batch.id)
    assert sorted(served) == sorted(todo) and s.queue.size == 0
    assert s.batch.strategy == s.strategy.name, "then the strategy picks again"
    # queue order follows the strategy: most uncertain first
    more = [i for i in range(200) if s.y[i] < 0][:25]
    s.enqueue(more)
    u = s.uncertainty[s.queue]
    assert np.all(np.diff(u) <= 1e-6)
    s.clear_queue()
    assert s.queue.size == 0


def test_undo_brings_back_the_answers_as_prefill(data):
    X, y = data
    s = make(X)
    b = s.query()
    s.submit({int(b[0]): "a", int(b[1]): "c"})
    back = s.undo()
    assert sorted(back.tolist()) == sorted([int(b[0]), int(b[1])])
    assert s.batch.prefill == {int(b[0]): 0, int(b[1]): 2}


def test_close_and_the_same_cell_run_twice(data, tmp_path):
    X, y = data
    path = tmp_path / "l.sqlite"
    first = make(X, store=path)
    seen = []
    first.observe(seen.append)
    first.submit(truth(first, y, first.query()[:2]))
    second = make(X, store=path)  # the same cell run again
    assert first.closed and seen[-1] == "closed" and not second.closed
    with pytest.raises(SessionClosedError, match="newer session"):
        first.submit(truth(first, y, first.query()[:1]))
    assert second.n_labeled == 2
    other = make(X, store=path, annotator="bob")  # another annotator: both live
    assert not second.closed and not other.closed
    with second:
        second.submit(truth(second, y, second.query()[:1]))
    assert second.closed
    assert make(X, store=path).n_labeled == 3


def test_trainer_is_a_daemon_and_close_does_not_wait(data):
    X, y = data
    s = make(X, estimator=SlowLR(delay=5))
    s.submit(truth(s, y, s.query()), retrain="background", wait=0)
    assert s.trainer.busy
    worker = s.trainer._thread  # this session's worker (other tests' fits may run too)
    assert worker.name == "alwidget-fit"
    assert worker.daemon, "a fit in progress never keeps the kernel from exiting"
    s.close()
    assert worker.is_alive(), "close returned without waiting for the 5 s fit"
    with pytest.raises(SessionClosedError):
        s.trainer  # noqa: B018


def test_observe_names_and_unobserve(data):
    X, y = data
    s = make(X)
    got = []

    def cb(e):
        got.append(e)

    s.observe(cb, names=["skip"])
    s.skip(int(s.query()[0]))
    s.submit(truth(s, y, s.query()[:1]))
    s.unobserve(cb)
    s.skip(int(s.query()[0]))
    assert got == ["skip"]


def test_random_interleavings_never_store_a_label_for_another_item(data):
    """200 seeded random actions made on the current or an older batch (as a browser that has
    not caught up would send), with background models landing at any time: an action on an
    older batch is refused, and the store ends up holding exactly the answers accepted."""
    X, y = data
    rng = np.random.default_rng(7)
    s = make(X, estimator=SlowLR(delay=0.02), batch_size=5)
    seen = [(s.batch.id, s.batch.indices.copy())]
    expected: dict[int, str] = {}
    refused = accepted = 0
    for _ in range(200):
        bid, cards = seen[int(rng.integers(max(0, len(seen) - 3), len(seen)))]
        i = int(cards[int(rng.integers(len(cards)))])
        current = s.batch.id
        act = rng.choice(["submit", "skip", "unsure", "undo"], p=[0.6, 0.15, 0.15, 0.1])
        lab = "abc"[int(rng.integers(3))]
        try:
            if act == "submit":
                s.submit({i: lab}, batch_id=bid, retrain="background", wait=rng.random() * 0.03)
                expected[i] = lab
            elif act == "skip":
                s.skip(i, batch_id=bid)
            elif act == "unsure":
                s.mark_unsure(i, batch_id=bid)
                expected[i] = "unsure"
            else:
                for j in s.undo(retrain="background", wait=0) or []:
                    expected.pop(int(j), None)
        except StaleBatchError:
            assert bid != current, "an action on the current batch was refused"
            refused += 1
        except ValueError:
            pass  # a card already skipped / answered
        else:
            if act != "undo":
                assert bid == current, "an action on an older batch was accepted"
                accepted += 1
        if s.batch.id != seen[-1][0]:
            seen.append((s.batch.id, s.batch.indices.copy()))
    assert s.trainer.wait(10)
    table = s.labels_table(include_unsure=True)
    stored = {
        int(r["index"]): (r["label"] if r["status"] == "labeled" else "unsure")
        for _, r in table.iterrows()
    }
    assert stored == expected
    assert refused > 10 and accepted > 50, (refused, accepted)
    s.close()


def test_undo_takes_back_this_sessions_own_last_submit(data, tmp_path):
    from alwidget import LabelStore

    X, y = data
    path = tmp_path / "shared.sqlite"
    # two sessions on one store with the same (default) annotator, e.g. two processes
    a = make(X, store=LabelStore(path))
    b = make(X, store=LabelStore(path))
    ia = a.query()[:2]
    a.submit(truth(a, y, ia))
    free = [i for i in range(200) if a.y[i] < 0 and i not in ia][:3]
    b.submit(truth(b, y, free), source="map")
    back = a.undo()
    assert sorted(back.tolist()) == sorted(ia.tolist()), "a's own submit, not b's"
    fresh = make(X, store=LabelStore(path))
    assert sorted(fresh.labels["index"].tolist()) == sorted(free)


def test_incremental_replay_equals_a_full_replay_with_another_writer(data, tmp_path):
    from alwidget import LabelStore

    X, y = data
    path = tmp_path / "l.sqlite"
    a = make(X, store=LabelStore(path))
    b = make(X, store=LabelStore(path), annotator="bob")
    rng = np.random.default_rng(1)
    for step in range(40):
        s = a if rng.random() < 0.6 else b
        op = rng.choice(["submit", "map", "skip", "unsure", "undo"])
        try:
            if op == "submit":
                s.submit(truth(s, y, s.query()[:3]))
            elif op == "map":
                i = int(rng.integers(200))
                s.submit({i: "abc"[int(rng.integers(3))]}, source="map", retrain=False)
            elif op == "skip":
                s.skip(int(s.query()[0]))
            elif op == "unsure":
                s.mark_unsure(int(rng.integers(200)))
            else:
                s.undo(retrain=False)
        except ValueError:
            pass
        a.label_state.replay()  # picks up b's writes incrementally
        full = make(X, store=LabelStore(path))
        np.testing.assert_array_equal(a.y, full.y, err_msg=f"step {step} {op}")
        np.testing.assert_array_equal(a.status, full.status, err_msg=f"step {step} {op}")


def test_backup_is_a_self_contained_copy(data, tmp_path):
    from alwidget import LabelStore

    X, y = data
    s = make(X, store=tmp_path / "l.sqlite")
    for _ in range(3):
        s.submit(truth(s, y, s.query()))
    out = s.backup(tmp_path / "copy.sqlite")
    assert len(LabelStore.read_events(out)) == 30


def test_fit_progress_of_estimators_that_report_it(data):
    from sklearn.base import BaseEstimator, ClassifierMixin

    class Epochs(ClassifierMixin, BaseEstimator):
        def __init__(self, epochs=3, progress=None):
            self.epochs, self.progress = epochs, progress

        def fit(self, X, y):
            self._lr = LogisticRegression().fit(X, y)
            self.classes_ = self._lr.classes_
            for e in range(self.epochs):
                if self.progress is not None:
                    self.progress(e + 1, self.epochs, 0.0)
            return self

        def predict_proba(self, X):
            return self._lr.predict_proba(X)

    X, y = data
    own = []
    user_est = Epochs(progress=lambda *a: own.append(a[0]))
    s = make(X, estimator=user_est)
    seen = []
    s.observe(lambda e: seen.append(s.fit_progress), names="fit_progress")
    s.submit(truth(s, y, s.query()))
    assert seen == [(1, 3), (2, 3), (3, 3)] and own == [1, 2, 3]
    assert user_est.progress is not None and user_est.get_params()["epochs"] == 3


def test_a_strategy_that_cannot_run_leaves_the_old_one_and_its_batch(data):
    X, y = data
    s = make(X)
    s.submit(truth(s, y, s.query()))
    before = s.batch

    def broken(ctx):
        raise TypeError("needs MC samples: use MCDropoutClassifier")

    with pytest.raises(TypeError, match="MCDropoutClassifier"):
        s.set_strategy(broken)
    assert s.strategy.name == "margin" and s.batch is before
