"""Bad input and faults: a clear error before any state changes, and no label ever lost."""

import os
import re
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

import alwidget
from alwidget import UNSURE, AlwidgetWarning, Session
from alwidget.session import LABELED, SKIPPED, UNLABELED, UNSURE_STATUS

CLASSES = ["a", "b", "c"]


@pytest.fixture
def data():
    from sklearn.datasets import make_blobs

    X, y = make_blobs(n_samples=150, centers=3, n_features=4, random_state=2)
    return X, y


def make(X, **kw):
    kw.setdefault("random_state", 0)
    kw.setdefault("batch_size", 5)
    kw.setdefault("store", ":memory:")
    kw.setdefault("classes", CLASSES)
    return Session(X, **kw)


def truth(s, y):
    return {int(i): int(y[i]) for i in s.query()}


def n_events(s):
    return len(s.store.events())


# -- bad input: refused before anything exists ------------------------------------------------
def _bad_inputs():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 3))
    nan, inf = X.copy(), X.copy()
    nan[4, 1] = np.nan
    inf[7, 2] = -np.inf
    return [
        ("nan", dict(X=nan), ValueError, "NaN or infinite.*impute"),
        ("inf", dict(X=inf), ValueError, "NaN or infinite.*first: \\[7\\]"),
        ("one item", dict(X=X[:1]), ValueError, "at least 2 items"),
        ("no items", dict(X=X[:0]), ValueError, "at least 2 items"),
        ("1-D X", dict(X=X[:, 0]), ValueError, "shape \\(n_samples, n_features\\)"),
        ("text X", dict(X=[["a"], ["b"]]), ValueError, "numeric features"),
        ("batch 0", dict(X=X, batch_size=0), ValueError, "batch_size must be at least 1"),
        ("batch -3", dict(X=X, batch_size=-3), ValueError, "batch_size must be at least 1"),
        ("batch 2.5", dict(X=X, batch_size=2.5), ValueError, "whole number"),
        ("one class", dict(X=X, classes=["a"]), ValueError, "at least 2 classes"),
        ("same class twice", dict(X=X, classes=["a", "a"]), ValueError, "unique"),
        (
            "regressor",
            dict(X=X, estimator=__import__("sklearn.linear_model").linear_model.LinearRegression()),
            TypeError,
            "neither predict_proba nor decision_function",
        ),
        ("policy", dict(X=X, label_policy="vote"), ValueError, "label_policy"),
    ]


@pytest.mark.parametrize("case", _bad_inputs(), ids=lambda c: c[0])
def test_bad_constructor_input_refused_before_any_file_exists(case, tmp_path):
    _, kw, exc, match = case
    path = tmp_path / "l.sqlite"
    with pytest.raises(exc, match=match):
        make(store=path, **kw)
    assert not path.exists(), "a refused session must not create its store"


def test_batch_larger_than_pool_is_clipped_with_a_warning():
    X = np.random.default_rng(1).normal(size=(12, 2))
    with pytest.warns(AlwidgetWarning, match="larger than the pool \\(12\\); using 12"):
        s = make(X, batch_size=40)
    assert s.batch_size == 12 and sorted(s.query()) == list(range(12))


def test_items_of_a_different_length_are_refused(data):
    X, _ = data
    from alwidget import LabelingWidget

    s = make(X)
    with pytest.raises(ValueError, match="items has 149 entries but the pool X has 150 rows"):
        LabelingWidget(s, [str(i) for i in range(149)])


@pytest.mark.parametrize(
    "answers, match",
    [
        (lambda b, o: {b[0]: "zebra"}, "unknown class 'zebra'"),
        (lambda b, o: {b[0]: 3}, "unknown class 3"),
        (lambda b, o: {b[0]: float("nan")}, "unknown class nan"),
        (lambda b, o: {b[0]: None}, "unknown class None"),
        (lambda b, o: {b[0]: "a", o: "b"}, "not in the current batch"),
        (lambda b, o: {b[0]: "a", 150: "b"}, "out of range"),
        (lambda b, o: {-1: "b"}, "out of range"),
        (lambda b, o: {2.5: "b"}, "must be an integer"),
        (lambda b, o: {True: "b"}, "must be an integer"),
        (lambda b, o: {"7": "b"}, "must be an integer"),
        (lambda b, o: {}, "no labels"),
        (lambda b, o: [(b[0], "a")], "mapping"),
    ],
    ids=[
        "class",
        "code",
        "nan",
        "none",
        "not-in-batch",
        "range",
        "negative",
        "float",
        "bool",
        "str-index",
        "empty",
        "list",
    ],
)
def test_bad_submit_changes_nothing(data, answers, match):
    X, _ = data
    s = make(X)
    b = [int(i) for i in s.query()]
    other = int(np.setdiff1d(np.arange(150), b)[0])
    with pytest.raises(ValueError, match=match):
        s.submit(answers(b, other))
    assert n_events(s) == 0 and s.n_labeled == 0 and s.query().tolist() == b
    assert s.labels_version == 0


def test_bad_source_is_refused(data):
    X, _ = data
    s = make(X)
    with pytest.raises(ValueError, match="source must be one of"):
        s.submit({int(s.query()[0]): "a"}, source="oracle")
    assert n_events(s) == 0


def test_whole_float_indices_and_numpy_ints_are_accepted(data):
    X, _ = data
    s = make(X)
    b = s.query()
    s.submit({np.int64(b[0]): np.int64(1), float(b[1]): "c"})
    assert s.labels.set_index("index").loc[[int(b[0]), int(b[1])], "label"].tolist() == ["b", "c"]


# -- double clicks and concurrency ------------------------------------------------------------
def test_second_submit_of_the_same_batch_is_refused_and_recorded_once(data):
    X, y = data
    s = make(X)
    answers = truth(s, y)
    s.submit(answers)
    with pytest.raises(ValueError, match="already submitted .*second click"):
        s.submit(answers)
    assert n_events(s) == 5 and s.n_labeled == 5 and s.round == 1


@pytest.fixture
def widget(data):
    X, _ = data
    return alwidget.LabelingWidget(make(X), [f"item {i}" for i in range(len(X))])


def test_double_click_on_submit_records_the_batch_once(widget, data):
    _, y = data
    w, s = widget, widget.session
    for i in w.batch:
        w.choose(int(i), int(y[i]))
    w.submit_button.click()
    w.submit_button.click()
    assert n_events(s) == 5 and s.round == 1
    assert "Pick a class" in w.error.value


def test_simultaneous_submits_from_two_threads_record_once(widget, data):
    _, y = data
    w, s = widget, widget.session
    for i in w.batch:
        w.choose(int(i), int(y[i]))
    go = threading.Barrier(2)

    def click():
        go.wait()
        w.submit()

    ts = [threading.Thread(target=click) for _ in range(2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(30)
    assert n_events(s) == 5 and s.n_labeled == 5 and s.round == 1


class SlowLR(LogisticRegression):
    """Fits slowly, to overlap a retrain with the next submit."""

    def fit(self, X, y):
        time.sleep(0.3)
        return super().fit(X, y)


def test_retrain_in_the_background_while_the_next_submit_arrives(data):
    X, y = data
    s = make(X, estimator=SlowLR(max_iter=200))
    s.submit(truth(s, y))  # model on 5 labels
    s.submit(truth(s, y), retrain=False)
    assert s.labels_trained_on == 5 and s.models_behind == 5
    snap = s.fit_snapshot()  # 10 labels
    out = {}

    def background():
        out["fit"] = s.fit_model(snap)  # pure: no session state changes

    t = threading.Thread(target=background)
    t.start()
    s.submit(truth(s, y), retrain=False)  # arrives while the fit runs
    s.submit(truth(s, y), retrain=False)
    assert s.models_behind == 15
    t.join(30)
    model, proba = out["fit"]
    assert s.install_model(snap, model, proba)
    assert s.labels_trained_on == 10 and s.models_behind == 10
    # a newer fit wins; an older result arriving afterwards does not replace it
    newer = s.fit_snapshot()
    assert s.install_model(newer, *s.fit_model(newer))
    assert s.labels_trained_on == 20 and s.models_behind == 0
    assert not s.install_model(snap, model, proba)
    assert s.labels_trained_on == 20
    # no label lost or duplicated
    ev = s.store.events()
    assert len(ev) == 20 and ev["idx"].is_unique and s.n_labeled == 20


def test_concurrent_submits_and_installs_lose_nothing(data):
    X, y = data
    s = make(X, batch_size=3)
    s.submit(truth(s, y))
    s.submit(truth(s, y))
    stop = threading.Event()
    installs = []

    def retrainer():
        # until the submits are over and at least one result was newer than the model
        for _ in range(200):
            if stop.is_set() and any(installs):
                break
            snap = s.fit_snapshot()
            installs.append(s.install_model(snap, *s.fit_model(snap)))

    t = threading.Thread(target=retrainer)
    t.start()
    try:
        for _ in range(15):
            s.submit(truth(s, y), retrain=False)
    finally:
        stop.set()
        t.join(30)
    assert s.n_labeled == 51 and s.store.events()["idx"].is_unique
    assert any(installs)
    s.retrain()
    assert s.models_behind == 0 and s.labels_trained_on == 51


def test_submit_without_retrain_and_models_behind_counts_changes(data):
    X, y = data
    s = make(X)
    s.submit(truth(s, y))
    s.submit(truth(s, y))
    v = s.labels_trained_on
    b = s.query()
    s.submit(truth(s, y), retrain=False)
    assert s.labels_trained_on == v and s.models_behind == 5
    assert not set(s.query()) & set(b), "the next batch is picked (by the stale model)"
    assert s.batch.model_version == v
    s.submit({int(b[0]): (int(y[b[0]]) + 1) % 3}, source="map", retrain=False)  # a change
    assert s.models_behind == 5  # same items, one changed label: still 5 differ
    s.retrain()
    assert s.models_behind == 0
    s.undo()
    assert s.models_behind == 0  # undo retrains
    assert s.labels_version > 0


# -- failing models ---------------------------------------------------------------------------
class Flaky(LogisticRegression):
    """Fails whenever the flag says so."""

    fail = {"on": False}

    def fit(self, X, y):
        if Flaky.fail["on"]:
            raise RuntimeError("out of memory in fit")
        return super().fit(X, y)


def test_failing_fit_keeps_labels_shows_error_and_labeling_goes_on(data):
    X, y = data
    Flaky.fail["on"] = False
    w = alwidget.LabelingWidget(make(X, estimator=Flaky()), [str(i) for i in range(150)])
    s = w.session
    for i in w.batch:
        w.choose(int(i), int(y[i]))
    w.submit()
    for i in w.batch:
        w.choose(int(i), int(y[i]))
    w.submit()
    assert s.labels_trained_on == 10 and w.error.value == ""
    Flaky.fail["on"] = True
    try:
        for _ in range(2):
            for i in w.batch:
                w.choose(int(i), int(y[i]))
            w.submit()
            assert "retrain failed, labels kept" in w.error.value
            assert "out of memory in fit" in w.error.value
            assert len(w.cards) == 5, "a next batch is shown"
        assert s.n_labeled == 20 and len(s.labels) == 20
        assert s.labels_trained_on == 10 and s.batch.model_version == 10, "last good model selects"
        assert not s.batch.cold_start
    finally:
        Flaky.fail["on"] = False
    for i in w.batch:
        w.choose(int(i), int(y[i]))
    w.submit()
    assert s.labels_trained_on == 25 and w.error.value == "" and s.last_error is None


def test_failing_fit_from_the_start_falls_back_to_cold_start(data):
    X, y = data
    Flaky.fail["on"] = True
    try:
        s = make(X, estimator=Flaky())
        for _ in range(3):
            s.submit(truth(s, y))
            assert s.batch.cold_start and len(s.query()) == 5
        assert s.n_labeled == 15 and "out of memory" in s.last_error and s.cold
        assert s.models_behind == 15
    finally:
        Flaky.fail["on"] = False
    assert s.retrain() and s.models_behind == 0


def test_fit_model_raises_what_fit_raises_and_changes_nothing(data):
    X, y = data
    s = make(X, estimator=Flaky())
    s.submit(truth(s, y))
    s.submit(truth(s, y))
    snap = s.fit_snapshot()
    Flaky.fail["on"] = True
    try:
        with pytest.raises(RuntimeError, match="out of memory"):
            s.fit_model(snap)
    finally:
        Flaky.fail["on"] = False
    assert s.labels_trained_on == 10


def test_failing_predict_proba_keeps_labels(data):
    X, y = data

    class BadProba(LogisticRegression):
        def predict_proba(self, X):
            raise ValueError("cannot predict")

    s = make(X, estimator=BadProba())
    s.submit(truth(s, y))
    s.submit(truth(s, y))
    assert s.n_labeled == 10 and "cannot predict" in s.last_error and s.cold


@pytest.mark.parametrize("n_classes", [2, 3])
def test_estimator_without_predict_proba_uses_softmax_of_decision_function(data, n_classes):
    X, y = data
    keep = y < n_classes
    X, y = X[keep], y[keep]
    s = make(X, classes=CLASSES[:n_classes], estimator=LinearSVC())
    s.submit(truth(s, y))
    s.submit(truth(s, y))
    assert not s.cold and s.proba.shape == (len(X), n_classes)
    np.testing.assert_allclose(s.proba.sum(axis=1), 1.0)
    assert ((s.proba >= 0) & (s.proba <= 1)).all()
    d = s.model.decision_function(X)
    pred = (d > 0).astype(int) if d.ndim == 1 else d.argmax(axis=1)
    np.testing.assert_array_equal(s.proba.argmax(axis=1), pred)
    assert s.batch.strategy == "margin" and np.isfinite(s.batch.scores).all()


# -- the end of the pool ----------------------------------------------------------------------
def test_empty_pool_says_so_and_offers_export(tmp_path):
    X = np.random.default_rng(3).normal(size=(12, 2))
    y = (X[:, 0] > 0).astype(int)
    s = make(X, classes=["neg", "pos"], store=tmp_path / "l.sqlite", batch_size=4)
    w = alwidget.LabelingWidget(s, [str(i) for i in range(12)])
    w.skip(int(w.batch[0]))
    s.mark_unsure(int(s.query()[0]))
    w.refresh()
    while len(w.batch):
        for i in w.batch:
            w.choose(int(i), int(y[i]))
        w.submit()
    assert len(w.cards) == 0 and s.query().size == 0
    assert "nothing left to label" in w.status.value
    assert "session.export(" in w.status.value and "l.sqlite" in w.status.value
    with pytest.raises(ValueError, match="no labels"):
        s.submit({})
    out = s.export(tmp_path / "all.csv")
    assert out.exists() and s.n_labeled == 10
    assert sorted(s.status.tolist()) == [LABELED] * 10 + [SKIPPED, UNSURE_STATUS]


# -- unsure -----------------------------------------------------------------------------------
def test_unsure_is_recorded_excluded_from_training_and_not_asked_again(data):
    X, y = data
    s = make(X, batch_size=5, unsure_neighbours=4)
    s.submit(truth(s, y))
    b = s.query()
    u = int(b[0])
    s.submit({u: UNSURE, int(b[1]): int(y[b[1]])})
    assert s.unsure.tolist() == [u] and s.unsure.dtype == np.int64
    assert s.y[u] == -1 and s.status[u] == UNSURE_STATUS and s.status.dtype == np.int8
    assert s.labels_trained_on == 6, "unsure is not a training label"
    assert s.n_labeled == 6 and u not in s.labels["index"].tolist()
    tab = s.labels_table(include_unsure=True).set_index("index")
    assert tab.loc[u, "status"] == "unsure" and tab.loc[u, "code"] == -1
    assert tab.loc[u, "strategy"] == "margin" and tab.loc[u, "rank"] == 1
    # neither it nor its 4 nearest neighbours are asked again while other items remain
    d = np.linalg.norm(X - X[u], axis=1)
    near = set(np.argsort(d)[:5].tolist())
    seen = set()
    for _ in range(8):
        seen |= set(s.query().tolist())
        s.submit(truth(s, y))
    assert not seen & near
    # with the option off, neighbours are asked (the unsure item itself still is not)
    s.avoid_unsure_neighbours = False
    assert set(s._candidates().tolist()) & (near - {u})
    assert u not in s._candidates()


def test_unsure_neighbours_are_asked_when_nothing_else_is_left():
    X = np.arange(12, dtype=float).reshape(6, 2)
    s = make(X, classes=["a", "b"], batch_size=2, unsure_neighbours=10)
    s.submit({int(s.query()[0]): UNSURE})
    assert s.query().size == 2 and not set(s.query()) & set(s.unsure)


def test_relabel_of_an_unsure_item_is_recorded_as_such(data, tmp_path):
    X, y = data
    s = make(X, store=tmp_path / "l.sqlite")
    u = int(s.query()[0])
    s.mark_unsure(u)
    assert u not in s.query()
    s.submit({u: "b"}, source="map")
    row = s.labels.set_index("index").loc[u]
    assert row["label"] == "b" and row["previous"] == "unsure" and row["source"] == "map"
    assert s.status[u] == LABELED and s.unsure.size == 0
    assert [k for k in s.store.events()["kind"]] == ["unsure", "label"]
    s.undo()
    assert s.status[u] == UNSURE_STATUS
    s.undo()
    assert s.status[u] == UNLABELED and s.undo() is None


def test_unsure_string_and_a_class_named_unsure():
    X = np.random.default_rng(0).normal(size=(20, 2))
    s = make(X, classes=["yes", "no"])
    s.submit({int(s.query()[0]): "unsure"})
    assert s.unsure.size == 1
    t = make(X, classes=["yes", "unsure"])  # then the plain string is that class
    t.submit({int(t.query()[0]): "unsure", int(t.query()[1]): UNSURE})
    assert t.n_labeled == 1 and t.unsure.size == 1
    assert repr(UNSURE) == "alwidget.UNSURE" and UNSURE == "unsure"


def test_status_array_for_the_map(data):
    X, y = data
    s = make(X)
    b = s.query()
    s.skip(int(b[0]))
    s.submit({int(b[1]): "a", int(b[2]): UNSURE})
    st = s.status
    assert st.shape == (150,) and st.dtype == np.int8
    assert (st[int(b[0])], st[int(b[1])], st[int(b[2])]) == (SKIPPED, LABELED, UNSURE_STATUS)
    assert (st == UNLABELED).sum() == 147
    assert alwidget.STATUS_NAMES[st[int(b[2])]] == "unsure"


def test_nothing_loaded_from_a_store_can_run_code(data, tmp_path):
    """The store holds plain values; a label text that looks like code stays text."""
    X, y = data
    path = tmp_path / "l.sqlite"
    s = make(X, store=path, annotator="x'); DROP TABLE events; --")
    s.submit(truth(s, y))
    again = make(X, store=path)
    assert again.n_labeled == 5 and again.labels["annotator"].iloc[0].startswith("x');")
    con_types = {t for (t,) in again.store._read("SELECT DISTINCT typeof(value) FROM meta")}
    assert con_types == {"text"}
    ev_types = {
        t
        for (t,) in again.store._read(
            "SELECT DISTINCT typeof(label) FROM events UNION SELECT typeof(score) FROM events"
        )
    }
    assert ev_types <= {"integer", "real", "null"}, "no blobs (pickles) in the store"
    # no code path that could unpickle or evaluate what a user loads
    pkg = Path(alwidget.__file__).parent
    for f in pkg.rglob("*.py"):
        src = f.read_text()
        for bad in (
            r"pickle\.load",
            r"allow_pickle=True",
            r"joblib\.load",
            r"(?<![\w.])eval\(",
            r"(?<![\w.])exec\(",
            r"marshal\.load",
            r"shelve\.",
        ):
            assert not re.search(bad, src), f"{bad} in {f.name}"
    assert os.path.getsize(path) > 0


def test_mark_unsure_keeps_the_rest_of_the_batch(data):
    X, y = data
    s = make(X)
    s.submit(truth(s, y))
    b = s.query()
    v = s.labels_trained_on
    rest = s.mark_unsure(int(b[2]))
    assert rest.tolist() == [int(i) for i in b if i != b[2]]
    assert s.labels_trained_on == v and s.models_behind == 0
    row = s.labels_table(include_unsure=True).set_index("index").loc[int(b[2])]
    assert (row["status"], row["source"], row["rank"]) == ("unsure", "batch", 3)
    # a labeled item turned unsure from the map: the model is one label behind
    lab = int(s.labels["index"].iloc[0])
    s.mark_unsure(lab)
    assert s.models_behind == 1 and s.y[lab] == -1
    row = s.labels_table(include_unsure=True).set_index("index").loc[lab]
    assert row["source"] == "map" and row["previous"] == CLASSES[int(y[lab])]
    for i in rest:
        s.mark_unsure(int(i))
    assert s.query().size == 5 and not set(s.query()) & set(b)
