"""The fast class-probability path for (scaled) logistic regression equals scikit-learn's."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from alwidget import Session
from alwidget.linear_proba import linear_proba
from alwidget.training import predict_proba_full


@pytest.fixture
def pool():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3_000, 8)) * [1, 5, 0.1, 1, 2, 1, 1, 30] + 7  # unscaled, offset
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    y = np.argmax(Z[:, :4] @ rng.standard_normal((4, 4)), axis=1)
    assert np.bincount(y).min() > 300  # four classes, none rare
    return X, y


@pytest.mark.parametrize("n_classes", [2, 4])
@pytest.mark.parametrize(
    "make",
    [
        lambda: LogisticRegression(max_iter=500),
        lambda: make_pipeline(StandardScaler(), LogisticRegression(C=0.3)),
        lambda: make_pipeline(StandardScaler(with_mean=False), LogisticRegression()),
        lambda: make_pipeline(StandardScaler(with_std=False), LogisticRegression(max_iter=2000)),
    ],
)
def test_equals_predict_proba_in_float64_and_float32(pool, make, n_classes):
    X, y = pool
    y = y % n_classes
    model = make().fit(X[:300], y[:300])
    ref = model.predict_proba(X)
    got = linear_proba(model, X)
    assert got.dtype == np.float64 and got.shape == ref.shape
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12)
    X32 = X.astype(np.float32)
    got32 = linear_proba(model, X32)
    assert got32.dtype == np.float32
    np.testing.assert_allclose(got32, model.predict_proba(X32), rtol=0, atol=2e-5)
    np.testing.assert_allclose(got32.sum(axis=1), 1, atol=1e-5)


def test_other_models_and_inputs_are_left_to_predict_proba(pool):
    X, y = pool
    lr = make_pipeline(StandardScaler(), LogisticRegression()).fit(X[:300], y[:300])
    assert linear_proba(lr, sp.csr_matrix(X)) is None
    assert linear_proba(lr, pd.DataFrame(X)) is None
    assert linear_proba(lr, X.astype(np.int64)) is None
    assert linear_proba(lr, X[:, :5]) is None  # wrong width: scikit-learn says why
    assert linear_proba(SVC(probability=True).fit(X[:300], y[:300]), X) is None
    pca = make_pipeline(PCA(3), LogisticRegression()).fit(X[:300], y[:300])
    assert linear_proba(pca, X) is None

    class Tweaked(LogisticRegression):  # a subclass may change predict_proba: not touched
        pass

    assert linear_proba(Tweaked().fit(X[:300], y[:300]), X) is None


def test_classes_not_seen_yet_get_zero_columns(pool):
    X, y = pool
    rows = np.flatnonzero(y != 1)[:200]
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X[rows], y[rows])
    p = predict_proba_full(model, X.astype(np.float32), 4)
    assert p.dtype == np.float32 and p.shape == (len(X), 4)
    assert np.all(p[:, 1] == 0)
    np.testing.assert_allclose(p[:, [0, 2, 3]], model.predict_proba(X), atol=2e-5)


def test_a_float32_session_scores_in_float32_with_sklearns_values(pool):
    X, y = pool
    X32 = np.ascontiguousarray(X, dtype=np.float32)
    with Session(X32, classes=list("abcd"), store=":memory:", random_state=0) as s:
        for _ in range(3):
            s.submit({int(i): int(y[i]) for i in s.query()})
        s.retrain()
        assert s.X.dtype == np.float32 and np.shares_memory(s.X, X32)
        assert s.proba.dtype == np.float32
        seen = s.model.classes_
        np.testing.assert_allclose(s.proba[:, seen], s.model.predict_proba(X32), atol=2e-5)


@pytest.mark.parametrize("measure", ["least_confidence", "margin", "entropy"])
def test_scores_do_not_depend_on_the_layout_or_the_share_of_candidates(measure):
    from alwidget.strategies import QueryContext, get_strategy
    from alwidget.strategies import uncertainty as u

    rng = np.random.default_rng(1)
    P = rng.dirichlet(np.ones(4), 5_000).astype(np.float32)
    P[:50] = np.eye(4, dtype=np.float32)[rng.integers(4, size=50)]  # certain rows: 0 log 0
    fn = getattr(u, measure)
    np.testing.assert_allclose(fn(np.asfortranarray(P)), fn(P), rtol=1e-6, atol=1e-7)
    for cand in (np.arange(10, 5_000), np.arange(0, 5_000, 7)):  # most of the pool, or few
        ctx = QueryContext(
            np.zeros((5_000, 1)),
            np.full(5_000, -1),
            cand,
            np.asfortranarray(P),
            None,
            None,
            4,
            np.random.default_rng(0),
        )
        idx, scores = get_strategy(measure).query(ctx, 5)
        np.testing.assert_allclose(scores, fn(P)[idx], rtol=1e-6)  # pool indices
        assert set(idx.tolist()) <= set(cand.tolist())
        assert np.all(scores >= np.sort(fn(P[cand]))[-5] - 1e-6)  # the five best candidates
