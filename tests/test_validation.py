"""Input a user passes: class names (numeric too), classes of the wrong type, features."""

import numpy as np
import pandas as pd
import pytest

from alwidget import Session
from alwidget.training import ThreadChooser


def X_(n=40, d=3, dtype=np.float64):
    return np.random.default_rng(0).normal(size=(n, d)).astype(dtype)


def test_numeric_class_names_match_answers_by_value():
    s = Session(X_(), classes=[0.5, 1.5], store=":memory:", random_state=0)
    b = s.query()
    s.submit({int(b[0]): 0.5, int(b[1]): np.float64(1.5)})
    assert s.labels.set_index("index").loc[[int(b[0]), int(b[1])], "label"].tolist() == [
        "0.5",
        "1.5",
    ]
    s.submit({int(s.query()[0]): "1.5"})
    assert s.n_labeled == 3


def test_import_a_float_series_with_gaps_for_integer_classes():
    # the README's import recipe with numeric labels: a float column with NaN gaps
    X = X_()
    y = pd.Series(np.r_[[0, 1, 0], [np.nan] * 37], dtype=float)
    s = Session(X, classes=[0, 1], store=":memory:", random_state=0)
    assert s.import_labels(y) == 3
    assert s.labels["label"].tolist() == ["0", "1", "0"]
    assert s.code_of(0) == s.code_of(0.0) == s.code_of("0") == 0


def test_ambiguous_numeric_classes_are_refused():
    with pytest.raises(ValueError, match="same number"):
        Session(X_(), classes=["1", "1.0"], store=":memory:")


@pytest.mark.parametrize(
    "classes, exc, match",
    [
        ("spam", TypeError, "not the string"),
        ({"a", "b"}, TypeError, "set has no fixed order"),
        (["a"], ValueError, "at least 2 classes"),
        (["a", "a"], ValueError, "unique"),
    ],
)
def test_bad_classes_are_refused_clearly(classes, exc, match):
    with pytest.raises(exc, match=match):
        Session(X_(), classes=classes, store=":memory:")


def test_features_without_columns_are_refused():
    with pytest.raises(ValueError, match="no feature columns"):
        Session(np.empty((10, 0)), classes=["a", "b"], store=":memory:")


def test_sparse_tfidf_pool_trains_as_is_and_uses_a_dense_embedding_for_geometry(tmp_path):
    from sklearn.feature_extraction.text import TfidfVectorizer

    docs = [f"refund please {i}" for i in range(30)] + [f"great product {i}" for i in range(30)]
    y = np.r_[np.zeros(30, int), np.ones(30, int)]
    X = TfidfVectorizer().fit_transform(docs)
    path = tmp_path / "t.sqlite"
    s = Session(X, classes=["complaint", "praise"], strategy="coreset", store=path, random_state=0)
    assert s.X_fit is not None and hasattr(s.X_fit, "nnz"), "the estimator sees TF-IDF as is"
    assert s.X.shape[0] == 60 and s.X.dtype == np.float32, "geometry: a dense embedding"
    for _ in range(3):
        b = s.query()
        s.submit({int(i): int(y[i]) for i in b})
    assert not s.cold and s.proba.shape == (60, 2)
    s.close()
    again = Session(X, classes=["complaint", "praise"], store=path)  # resume: same fingerprint
    assert again.n_labeled == 30
    with pytest.raises(ValueError, match="one row per item"):
        Session(X, classes=["a", "b"], store=":memory:", embedding=np.zeros((5, 2)))


def test_float32_pool_is_kept_float32():
    X = X_(dtype=np.float32)
    s = Session(X, classes=["a", "b"], store=":memory:", random_state=0)
    assert s.X.dtype == np.float32 and np.shares_memory(s.X, X), "no float64 copy"


def test_random_state_accepts_a_generator():
    a = Session(X_(), classes=["a", "b"], store=":memory:", random_state=np.random.default_rng(3))
    b = Session(X_(), classes=["a", "b"], store=":memory:", random_state=np.random.default_rng(3))
    assert a.query().tolist() == b.query().tolist()


def test_thread_chooser_measures_and_keeps_the_faster():
    t = ThreadChooser(max_threads=2, retry=1000)
    assert t.choose(100) == 1, "small fits: one thread, no trial"
    tried = []
    for _ in range(4):  # trials alternate until both have two measurements
        k = t.choose(5000)
        tried.append(k)
        t.record(5000, k, 0.5 if k == 2 else 0.05)
    assert sorted(tried) == [1, 1, 2, 2]
    assert t.choose(5000) == 1, "one thread was faster here"
    for _ in range(4):
        k = t.choose(20000)
        t.record(20000, k, 0.1 if k == 2 else 0.4)
    assert t.choose(20000) == 2, "more threads were faster for bigger fits"
