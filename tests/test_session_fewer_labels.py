"""Cold start by typicality and semi-supervised estimators, through the Session."""

import numpy as np
import pytest
from sklearn.datasets import load_digits

import alwidget
from alwidget.semi_supervised import LabelSpreadingClassifier


@pytest.fixture(scope="module")
def digits():
    return load_digits(return_X_y=True)


def test_typiclust_cold_start_covers_more_classes_than_random(digits):
    X, y = digits
    seen = {}
    for rule in ("random", "typiclust"):
        counts = []
        for seed in range(3):
            s = alwidget.Session(
                X, classes=list(range(10)), store=":memory:", cold_start=rule, random_state=seed
            )
            counts.append(np.unique(y[s.query()]).size)
            s.close()
        seen[rule] = np.mean(counts)
    assert seen["typiclust"] >= 9 and seen["typiclust"] > seen["random"]


def test_unknown_cold_start_names_the_choices(digits):
    with pytest.raises(ValueError, match="typiclust"):
        alwidget.Session(digits[0], classes=list(range(10)), store=":memory:", cold_start="x")


def test_a_semi_supervised_estimator_sees_the_pool_and_its_pseudo_labels_stay_off_the_store(
    digits,
):
    X, y = digits
    s = alwidget.Session(
        X,
        classes=list(range(10)),
        store=":memory:",
        estimator=LabelSpreadingClassifier(),
        cold_start="typiclust",
        random_state=0,
    )
    for _ in range(2):
        s.submit({int(i): int(y[i]) for i in s.query()})
    model = s.models.model
    assert model.pseudo_labels_.shape == (X.shape[0] - 20,)  # every unlabeled item
    assert len(s.store.events()) == 20  # only the human answers are recorded
    assert (model.predict(X) == y).mean() > 0.8
    s.close()
