"""Held-out split, metrics and stopping criteria."""

import numpy as np
import pytest

from alwidget import Session
from alwidget.evaluation import (
    Budget,
    EvalSet,
    MaxUncertaintyDrop,
    StabilizingPredictions,
    StoppingMonitor,
    classification_metrics,
    eval_sample,
    holdout_split,
)

from alw_helpers import oracle


def test_holdout_split_is_disjoint_stratified_and_seeded():
    y = np.repeat([0, 1, 2], [60, 30, 10])
    tr, ev = holdout_split(y, test_size=0.2, random_state=3)
    assert np.intersect1d(tr, ev).size == 0
    assert np.union1d(tr, ev).size == y.size
    assert ev.size == 20
    assert np.bincount(y[ev]).tolist() == [12, 6, 2]  # class shares kept
    tr2, ev2 = holdout_split(y, test_size=0.2, random_state=3)
    assert np.array_equal(ev, ev2)
    assert not np.array_equal(ev, holdout_split(y, test_size=0.2, random_state=4)[1])


def test_holdout_split_falls_back_when_a_class_is_a_singleton():
    y = np.array([0] * 20 + [1])
    tr, ev = holdout_split(y, test_size=5, random_state=0)
    assert ev.size == 5 and tr.size == 16


def test_eval_sample_unique_sorted_clipped():
    s = eval_sample(30, 50, random_state=0)
    assert s.tolist() == list(range(30))
    s = eval_sample(1000, 40, random_state=1)
    assert s.size == 40 and np.all(np.diff(s) > 0)


def test_metrics_by_hand():
    y_true = np.array([0, 0, 1, 1, 2, 2])
    y_pred = np.array([0, 1, 1, 1, 0, 0])
    m = classification_metrics(y_true, y_pred, 4)
    assert m["accuracy"] == pytest.approx(0.5)
    assert m["recall"][:3].tolist() == [0.5, 1.0, 0.0]
    assert np.isnan(m["recall"][3])  # class absent from the truth
    # F1: class0 p=1/3 r=1/2 -> 0.4; class1 p=2/3 r=1 -> 0.8; class2 0 -> mean 0.4
    assert m["macro_f1"] == pytest.approx(0.4)


def test_evalset_cold_is_nan_and_validates():
    es = EvalSet(np.zeros((3, 2)), [0, 1, 1], 2)
    assert np.isnan(es.score(None)["accuracy"])
    with pytest.raises(ValueError, match="class codes"):
        EvalSet(np.zeros((2, 2)), [0, 5], 2)
    with pytest.raises(ValueError, match="rows"):
        EvalSet(np.zeros((2, 2)), [0], 2)


def test_evalset_scores_a_session_model(blobs):
    X, y = blobs
    tr, ev = holdout_split(y, random_state=0)
    s = Session(X[tr], classes=["a", "b", "c"], random_state=0, store=":memory:")
    es = EvalSet(X[ev], y[ev], 3)
    for _ in range(3):
        s.submit(oracle(s, y[tr]))
    assert es.score(s.model)["accuracy"] > 0.9  # blobs are easy


class _FakeSession:
    def __init__(self, proba, n_labeled=0):
        self.proba = proba
        self.n_labeled = n_labeled
        self.y = np.full(len(proba), -1)
        self.skipped = np.zeros(len(proba), bool)

    @property
    def uncertainty(self):
        return (1 - self.proba.max(1)) * 2


def test_stabilizing_predictions_fires_only_after_window_of_agreement():
    rng = np.random.default_rng(0)
    crit = StabilizingPredictions(np.arange(100), threshold=0.99, window=2)
    changing = [rng.dirichlet([1, 1], 100) for _ in range(3)]
    for p in changing:
        st = crit.update(_FakeSession(p))
    assert not st.fired and st.value < 0.5
    stable = changing[-1]
    st1 = crit.update(_FakeSession(stable))
    assert not st1.fired  # window still holds a disagreement
    st2 = crit.update(_FakeSession(stable))
    assert st2.fired and st2.value == pytest.approx(1.0)
    assert "stable" in st2.message


def test_max_uncertainty_and_budget():
    p = np.array([[0.5, 0.5], [0.9, 0.1]])
    assert not MaxUncertaintyDrop(0.1).update(_FakeSession(p)).fired
    p2 = np.array([[0.99, 0.01], [0.97, 0.03]])
    st = MaxUncertaintyDrop(0.1).update(_FakeSession(p2))
    assert st.fired and st.value == pytest.approx(0.06)
    assert not Budget(10).update(_FakeSession(p, 9)).fired
    assert Budget(10).update(_FakeSession(p, 10)).fired


def test_monitor_on_a_live_session_reports_budget(blobs):
    X, y = blobs
    s = Session(X, classes=["a", "b", "c"], random_state=0, store=":memory:", batch_size=20)
    mon = StoppingMonitor.default(s.n_samples, budget=40, stop_set_size=100)
    for _ in range(2):
        s.submit(oracle(s, y))
        mon.update(s)
    assert [st.name for st in mon.fired] == ["budget"]
    assert len(mon.history) == 2
