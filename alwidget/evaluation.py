"""Honest evaluation: a held-out set the strategies never query, metrics, stopping criteria.

The held-out set is either a random split of data whose truth is known (simulation, teaching)
or a small random sample that the user labels as an evaluation set (real labeling). In both
cases its items must be kept out of the pool the strategy can query: build the
:class:`~alwidget.Session` on the training part only (:func:`holdout_split`).

Stopping criteria (in :mod:`alwidget.stopping`, importable from here too) follow the
active-learning literature:

* :class:`StabilizingPredictions`: agreement (Cohen's kappa) between successive models on an
  unlabeled *stop set* (Bloodgood & Vijay-Shanker, 2009).
* :class:`MaxUncertaintyDrop`: the most uncertain unlabeled item is no longer very uncertain
  (the "max-confidence" criterion of Zhu, Wang & Hovy, 2008).
* :class:`Budget`: a fixed number of labels.

References
----------
Bloodgood, M. & Vijay-Shanker, K. (2009). A Method for Stopping Active Learning Based on
Stabilizing Predictions and the Need for User-Adjustable Stopping. CoNLL.
Zhu, J., Wang, H. & Hovy, E. (2008). Multi-Criteria-Based Strategy to Stop Active Learning for
Data Annotation. COLING.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, f1_score, recall_score
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state

from .stopping import (
    Budget,
    MaxUncertaintyDrop,
    StabilizingPredictions,
    StoppingCriterion,
    StoppingMonitor,
    StopStatus,
)

__all__ = [
    "holdout_split",
    "eval_sample",
    "classification_metrics",
    "EvalSet",
    "StopStatus",
    "StoppingCriterion",
    "StabilizingPredictions",
    "MaxUncertaintyDrop",
    "Budget",
    "StoppingMonitor",
]


def holdout_split(
    y: Any,
    *,
    test_size: float | int = 0.25,
    random_state: Any = None,
    stratify: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Random split of the pool into a training pool and a held-out evaluation set.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        True labels (any hashable values); used for stratification and the sample count.
    test_size : float or int, default=0.25
        Fraction (0 < f < 1) or number of items held out.
    random_state : int, RandomState, Generator or None
        Seed of the split.
    stratify : bool, default=True
        Keep class proportions in both parts (falls back to a plain random split when a class
        has fewer than two items).

    Returns
    -------
    train_idx : ndarray of shape (n_train,), int64
        Sorted indices of the pool the strategy may query.
    eval_idx : ndarray of shape (n_eval,), int64
        Sorted indices of the held-out set; disjoint from ``train_idx``.

    Raises
    ------
    ValueError
        If ``test_size`` leaves either part empty.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.repeat([0, 1, 2], 20)
    >>> pool, held_out = holdout_split(y, test_size=0.25, random_state=0)
    >>> pool.shape, held_out.shape, np.bincount(y[held_out]).tolist()
    ((45,), (15,), [5, 5, 5])
    """
    y = np.asarray(y)
    n = y.shape[0]
    seed = _seed(random_state)
    idx = np.arange(n)
    strat = None
    if stratify:
        _, counts = np.unique(y, return_counts=True)
        if counts.min() >= 2:
            strat = y
    try:
        tr, ev = train_test_split(idx, test_size=test_size, random_state=seed, stratify=strat)
    except ValueError:
        if strat is None:
            raise
        tr, ev = train_test_split(idx, test_size=test_size, random_state=seed)
    return np.sort(tr).astype(np.int64), np.sort(ev).astype(np.int64)


def eval_sample(n_samples: int, size: int = 50, random_state: Any = None) -> np.ndarray:
    """A uniform random sample of pool indices for the user to label as an evaluation set.

    In real labeling no truth is known; a small *random* sample (not one picked by a
    strategy) gives unbiased estimates of accuracy. Keep these items out of the query pool.

    Parameters
    ----------
    n_samples : int
        Pool size.
    size : int, default=50
        Sample size; clipped to ``n_samples``.
    random_state : int, Generator or None
        Seed.

    Returns
    -------
    ndarray of shape (size,), int64
        Sorted, unique indices.

    Examples
    --------
    >>> import numpy as np
    >>> idx = eval_sample(1000, 5, random_state=0)
    >>> idx.size, bool(np.all(np.diff(idx) > 0)), bool(idx.max() < 1000)
    (5, True, True)
    """
    rng = np.random.default_rng(_seed(random_state))
    size = min(int(size), int(n_samples))
    return np.sort(rng.choice(int(n_samples), size=size, replace=False)).astype(np.int64)


def classification_metrics(y_true: Any, y_pred: Any, n_classes: int) -> dict[str, Any]:
    """Accuracy, macro F1 and per-class recall.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n,), int
        Class codes ``0..n_classes-1``.
    n_classes : int
        Number of classes: macro F1 and recall are over all of them, so a class the model
        never predicts counts with recall 0 (F1 is averaged over classes present in
        ``y_true`` or ``y_pred``, as scikit-learn does with ``labels``).

    Returns
    -------
    dict
        ``accuracy`` (float), ``macro_f1`` (float) and ``recall`` (ndarray of shape
        (n_classes,), float64; NaN for a class absent from ``y_true``).

    Examples
    --------
    >>> m = classification_metrics([0, 1, 1, 2], [0, 1, 2, 2], n_classes=3)
    >>> m["accuracy"], m["recall"].tolist()
    (0.75, [1.0, 0.5, 1.0])
    """
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(y_pred, dtype=np.int64)
    present = np.unique(y_true)
    labels = np.arange(n_classes)
    recall = np.full(n_classes, np.nan)
    recall[present] = recall_score(y_true, y_pred, labels=present, average=None, zero_division=0)
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(
            f1_score(
                y_true,
                y_pred,
                labels=labels[np.isin(labels, np.union1d(present, y_pred))],
                average="macro",
                zero_division=0,
            )
        ),
        "recall": recall,
    }


@dataclass
class EvalSet:
    """A held-out evaluation set: features and true class codes, never queried.

    Parameters
    ----------
    X : ndarray or DataFrame of shape (n_eval, n_features)
        Features, in the same form the session's estimator is fitted on.
    y : array-like of shape (n_eval,), int
        True class codes ``0..n_classes-1``.
    n_classes : int
        Number of classes of the session.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = np.random.default_rng(0).normal(size=(40, 2)); y = (X[:, 0] > 0).astype(int)
    >>> es = EvalSet(X[30:], y[30:], n_classes=2)
    >>> model = LogisticRegression().fit(X[:30], y[:30])
    >>> len(es), round(es.score(model)["accuracy"], 2)
    (10, 0.8)
    """

    X: Any
    y: np.ndarray
    n_classes: int

    def __post_init__(self) -> None:
        self.y = np.asarray(self.y, dtype=np.int64)
        if len(self.X) != self.y.shape[0]:
            raise ValueError(f"EvalSet: X has {len(self.X)} rows but y has {self.y.shape[0]}")
        if self.y.size and (self.y.min() < 0 or self.y.max() >= self.n_classes):
            raise ValueError(f"EvalSet: y must hold class codes 0..{self.n_classes - 1}")

    def __len__(self) -> int:
        return int(self.y.shape[0])

    def score(self, model: Any) -> dict[str, Any]:
        """Metrics of a fitted model (its classes are session codes) on this set.

        Returns
        -------
        dict
            As :func:`classification_metrics`; all NaN when ``model`` is None (cold start:
            no model yet) or the set is empty.
        """
        if model is None or len(self) == 0:
            return {
                "accuracy": np.nan,
                "macro_f1": np.nan,
                "recall": np.full(self.n_classes, np.nan),
            }
        pred = np.asarray(model.predict(self.X), dtype=np.int64)
        return classification_metrics(self.y, pred, self.n_classes)


def flat_metrics(m: dict[str, Any], classes: Sequence[str]) -> dict[str, float]:
    """``{"accuracy", "macro_f1", "recall[<class>]"...}`` as plain floats (for a table row)."""
    out = {"accuracy": float(m["accuracy"]), "macro_f1": float(m["macro_f1"])}
    for c, r in zip(classes, m["recall"], strict=True):
        out[f"recall[{c}]"] = float(r)
    return out


# -- stopping criteria ------------------------------------------------------------------------
def _seed(random_state: Any) -> int:
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(2**31 - 1))
    return int(check_random_state(random_state).randint(2**31 - 1))
