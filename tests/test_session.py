"""The headless loop, driven through Session alone."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import alwidget
import alwidget.session
from alwidget import AlwidgetWarning, Session

from alw_helpers import oracle


def make(X, classes, **kw):
    kw.setdefault("store", ":memory:")
    kw.setdefault("random_state", 0)
    return Session(X, classes=classes, **kw)


def test_full_loop_several_rounds(digits, classes10):
    s = make(digits.data, classes10, batch_size=10)
    assert s.cold and s.batch.cold_start
    seen = set()
    for r in range(4):
        batch = s.query()
        assert batch.shape == (10,) and batch.dtype == np.int64
        assert len(set(batch.tolist())) == 10
        assert not seen & set(batch.tolist()), "an item was queried twice"
        seen |= set(batch.tolist())
        before = s.uncertainty.copy()
        s.submit(oracle(s, digits.target))
        assert s.n_labeled == 10 * (r + 1)
        assert s.round == r + 1
        assert not s.cold and s.labels_trained_on == s.n_labeled
        assert s.uncertainty.dtype == np.float32 and s.uncertainty.shape == (1797,)
        assert not np.array_equal(before, s.uncertainty)
    assert s.batch.strategy == "margin" and not s.batch.cold_start
    # margin (the default) picks the most uncertain unlabeled items
    cand = np.flatnonzero(s.y < 0)
    top = cand[np.argsort(-s.uncertainty[cand])][:10]
    assert set(s.query()) == set(top)


def test_labels_frame_has_provenance(digits, classes10):
    s = make(digits.data, classes10)
    first = s.query()
    s.submit(oracle(s, digits.target))
    second = s.query()
    scores = s.batch.scores.copy()
    s.submit({int(second[0]): "7", int(second[1]): 3})
    lab = s.labels
    assert isinstance(lab, pd.DataFrame)
    for col in ["index", "label", "timestamp", "round", "strategy", "score", "rank"]:
        assert col in lab.columns
    assert len(lab) == 12
    row = lab.set_index("index").loc[int(second[0])]
    assert row["label"] == "7" and row["round"] == 1 and row["strategy"] == "margin"
    assert row["rank"] == 1 and row["score"] == pytest.approx(scores[0])
    assert lab.set_index("index").loc[int(second[1]), "label"] == "3"
    assert (lab.set_index("index").loc[first.tolist(), "strategy"].str.startswith("cold")).all()


def test_undo_takes_back_last_submit(digits, classes10):
    s = make(digits.data, classes10)
    s.submit(oracle(s, digits.target))
    batch2 = s.query()
    s.submit(oracle(s, digits.target))
    assert s.n_labeled == 20
    back = s.undo()
    assert set(back) == set(batch2)
    assert s.n_labeled == 10 and s.round == 1
    assert set(s.query()) == set(batch2), "undone items come back as the batch"
    assert not set(batch2) & set(s.labels["index"])
    s.undo()
    assert s.n_labeled == 0 and s.cold
    assert s.undo() is None


def test_skip_removes_from_batch_and_future_batches(digits, classes10):
    s = make(digits.data, classes10, batch_size=3)
    b = s.query()
    s.skip(int(b[0]))
    assert list(s.query()) == list(b[1:])
    s.skip(int(b[1]))
    s.skip(int(b[2]))
    nb = s.query()
    assert len(nb) == 3 and not set(nb) & set(b)
    with pytest.raises(ValueError, match="not in the current batch"):
        s.skip(int(b[0]))


def test_cold_start_until_two_classes(blobs):
    X, y = blobs
    s = make(X, ["a", "b", "c"], batch_size=5)
    b = s.query()
    s.submit({int(i): "a" for i in b})  # one class only: still cold
    assert s.cold and s.batch.cold_start and s.proba is None
    assert np.all(s.uncertainty == 1.0)
    s.submit({int(s.query()[0]): "b"})
    assert not s.cold and s.proba.shape == (300, 3)
    # the unseen class gets probability 0, every row still sums to 1
    np.testing.assert_allclose(s.proba.sum(axis=1), 1.0)
    assert np.all(s.proba[:, 2] == 0)


def test_diverse_cold_start_spreads_over_clusters(blobs):
    X, y = blobs
    s = make(X, ["a", "b", "c"], batch_size=3, cold_start="diverse")
    assert len(set(y[s.query()])) == 3


def test_estimator_is_cloned_not_fitted(digits, classes10):
    est = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    s = make(digits.data, classes10, estimator=est)
    s.submit(oracle(s, digits.target))
    s.submit(oracle(s, digits.target))
    assert not hasattr(est[-1], "coef_"), "the user's estimator must not be fitted in place"
    assert hasattr(s.model[-1], "coef_")


def test_dataframe_input_is_not_mutated(blobs):
    X, y = blobs
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(5)])
    copy = df.copy()
    s = make(df, ["a", "b", "c"])
    s.submit(oracle(s, y))
    pd.testing.assert_frame_equal(df, copy)
    assert not s.cold


def test_strategy_switch_changes_next_batch(digits, classes10):
    s = make(digits.data, classes10)
    s.submit(oracle(s, digits.target))
    s.set_strategy("least_confidence")
    assert s.batch.strategy == "least_confidence"
    cand = np.flatnonzero(s.y < 0)
    lc = 1 - s.proba[cand].max(axis=1)
    assert set(s.query()) == set(cand[np.argsort(-lc)][:10])
    s.strategy = "random"
    assert s.batch.strategy == "random"
    with pytest.raises(ValueError, match="unknown strategy"):
        s.set_strategy("nope")


def test_bad_submits_change_nothing(digits, classes10):
    s = make(digits.data, classes10)
    b = s.query()
    with pytest.raises(ValueError, match="unknown class"):
        s.submit({int(b[0]): "eleven"})
    with pytest.raises(ValueError, match="not in the current batch"):
        s.submit({int(np.setdiff1d(np.arange(1797), b)[0]): "1"})
    with pytest.raises(ValueError, match="out of range"):
        s.submit({5000: "1"})
    with pytest.raises(ValueError, match="no labels"):
        s.submit({})
    assert s.n_labeled == 0 and s.labels.empty and list(s.query()) == list(b)


def test_bad_constructor_input():
    X = np.random.default_rng(0).normal(size=(20, 3))
    with pytest.raises(ValueError, match="NaN or infinite"):
        make(np.where(np.eye(20, 3) > 0, np.nan, X), ["a", "b"])
    with pytest.raises(ValueError, match="at least 2 items"):
        make(X[:1], ["a", "b"])
    with pytest.raises(ValueError, match="at least 2 classes"):
        make(X, ["a"])
    with pytest.raises(ValueError, match="batch_size"):
        make(X, ["a", "b"], batch_size=0)
    with pytest.warns(AlwidgetWarning, match="larger than the pool"):
        s = make(X, ["a", "b"], batch_size=50)
    assert len(s.query()) == 20
    with pytest.raises(TypeError, match="predict_proba"):
        from sklearn.linear_model import LinearRegression  # a regressor: no class scores

        make(X, ["a", "b"], estimator=LinearRegression())


def test_failing_fit_keeps_labels_and_reports(digits, classes10):
    class Flaky(LogisticRegression):
        def fit(self, X, y):
            if len(y) > 10:
                raise RuntimeError("boom")
            return super().fit(X, y)

    s = make(digits.data, classes10, estimator=Flaky(max_iter=300))
    s.submit(oracle(s, digits.target))
    assert not s.cold
    s.submit(oracle(s, digits.target))
    assert s.n_labeled == 20 and len(s.labels) == 20
    assert "boom" in s.last_error
    assert s.labels_trained_on == 10, "the last good model stays in place"
    assert len(s.query()) == 10


def test_model_clone_used_each_round(blobs):
    X, y = blobs
    est = LogisticRegression()
    s = make(X, ["a", "b", "c"], estimator=est)
    s.submit(oracle(s, y))
    m1 = s.model
    s.submit(oracle(s, y))
    assert s.model is not m1 and s.model is not est
    assert type(clone(est)) is type(s.model)


def test_skipped_and_unsure_are_sorted_index_arrays(digits, classes10):
    s = make(digits.data, classes10, batch_size=4)
    b = s.query()
    s.skip(int(b[2]))
    s.skip(int(b[0]))
    s.mark_unsure(int(b[3]))
    s.mark_unsure(int(b[1]))
    for arr, want in ((s.skipped, [b[0], b[2]]), (s.unsure, [b[1], b[3]])):
        assert arr.dtype == np.int64 and arr.tolist() == sorted(int(i) for i in want)
    assert np.array_equal(np.flatnonzero(s.status == alwidget.SKIPPED), s.skipped)
    assert s.n_labeled == 0 and not np.isin(s.query(), b).any()


def test_model_version_is_a_deprecated_alias_of_labels_trained_on(blobs, monkeypatch):
    X, y = blobs
    s = make(X, ["a", "b", "c"])
    s.submit(oracle(s, y))
    # the warning is given once per process: forget an earlier one (e.g. from another test)
    monkeypatch.setattr(alwidget.session_views, "_warned_model_version", False)
    with pytest.warns(FutureWarning, match="labels_trained_on"):
        assert s.model_version == s.labels_trained_on == 10
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert s.model_version == 10, "warned once, not on every read"


def test_observers_can_be_removed_and_unknown_events_are_refused(blobs):
    X, _ = blobs

    class Listener:
        def __init__(self):
            self.seen = []

        def on(self, event):
            self.seen.append(event)

    s, ear = make(X, ["a", "b", "c"], batch_size=3), Listener()
    s.observe(ear.on, ["skip", "unsure"])
    s.skip(int(s.query()[0]))
    s.unobserve(ear.on)  # a bound method: a new object on every attribute access
    s.mark_unsure(int(s.query()[0]))
    assert ear.seen == ["skip"]
    with pytest.raises(ValueError, match="unknown event"):
        s.observe(ear.on, "submitted")


def test_unknown_strategy_is_refused_before_the_store_file_is_created(blobs, tmp_path):
    X, _ = blobs
    path = tmp_path / "labels.sqlite"
    with pytest.raises(ValueError, match="unknown strategy"):
        Session(X, classes=["a", "b", "c"], store=path, strategy="nope")
    assert not path.exists()
