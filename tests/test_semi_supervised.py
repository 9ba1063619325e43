"""Semi-supervised estimators: pseudo-labels kept apart, better with the pool, clear errors."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits, make_moons
from sklearn.linear_model import LogisticRegression

from alwidget.semi_supervised import LabelSpreadingClassifier, SelfTraining


@pytest.fixture(scope="module")
def moons():
    return make_moons(400, noise=0.05, random_state=0)


@pytest.mark.parametrize(
    "make", [lambda: SelfTraining(threshold=0.75), LabelSpreadingClassifier], ids=["st", "ls"]
)
def test_pseudo_labels_kept_apart(moons, make):
    X, y = moons
    lab = np.r_[np.flatnonzero(y == 0)[:3], np.flatnonzero(y == 1)[:3]]
    rest = np.setdiff1d(np.arange(len(y)), lab)
    y_in = y[lab].copy()
    clf = make().fit(X[lab], y_in, X_unlabeled=X[rest])
    np.testing.assert_array_equal(y_in, y[lab])  # the human labels are not modified
    assert clf.pseudo_labels_.shape == (rest.size,)
    assert clf.pseudo_mask_.dtype == bool and clf.pseudo_mask_.any()
    assert set(np.unique(clf.pseudo_labels_[clf.pseudo_mask_])) <= {0, 1}
    P = clf.predict_proba(X)
    assert P.shape == (len(X), 2)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    assert clone(clf).get_params() == clf.get_params()


def test_label_spreading_beats_supervised_on_moons(moons):
    X, y = moons
    lab = np.r_[np.flatnonzero(y == 0)[:3], np.flatnonzero(y == 1)[:3]]
    rest = np.setdiff1d(np.arange(len(y)), lab)
    sup = LogisticRegression().fit(X[lab], y[lab]).score(X[rest], y[rest])
    semi = LabelSpreadingClassifier().fit(X[lab], y[lab], X_unlabeled=X[rest])
    assert semi.score(X[rest], y[rest]) > max(sup, 0.95)


def test_self_training_uses_pool_on_digits():
    X, y = load_digits(return_X_y=True)
    rng = np.random.default_rng(0)
    lab = np.concatenate([rng.choice(np.flatnonzero(y == c), 3, replace=False) for c in range(10)])
    rest = np.setdiff1d(np.arange(len(y)), lab)
    clf = SelfTraining(threshold=0.9).fit(X[lab], y[lab], X_unlabeled=X[rest])
    assert clf.pseudo_mask_.sum() > 100
    # most confident pseudo-labels are right
    m = clf.pseudo_mask_
    assert (clf.pseudo_labels_[m] == y[rest][m]).mean() > 0.8
    # without a pool it is plain supervised learning: no pseudo-labels
    assert SelfTraining().fit(X[lab], y[lab]).pseudo_labels_.shape == (0,)


@pytest.mark.parametrize("cls", [SelfTraining, LabelSpreadingClassifier])
def test_errors(moons, cls):
    X, y = moons
    with pytest.raises(ValueError, match="integer class codes"):
        cls().fit(X[:4], np.array(["a", "b", "a", "b"]))
    with pytest.raises(ValueError, match="X_unlabeled must have shape"):
        cls().fit(X[:4], y[:4], X_unlabeled=np.zeros((3, 5)))
    with pytest.raises(ValueError, match="no labeled rows"):
        cls().fit(X[:4], np.full(4, -1))
