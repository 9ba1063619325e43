"""Honest evaluation: a held-out set the strategies never query, metrics, stopping criteria.

The held-out set is either a random split of data whose truth is known (simulation, teaching)
or a small random sample that the user labels as an evaluation set (real labeling). In both
cases its items must be kept out of the pool the strategy can query: build the
:class:`~alwidget.Session` on the training part only (:func:`holdout_split`).

Stopping criteria follow the active-learning literature:

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
from sklearn.metrics import accuracy_score, cohen_kappa_score, f1_score, recall_score
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state

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
@dataclass
class StopStatus:
    """The state of one stopping criterion after a round.

    Attributes
    ----------
    name : str
        Criterion name.
    fired : bool
        True once the criterion says "stop".
    value : float
        The monitored quantity (kappa, max uncertainty, labels); NaN when not yet defined.
    message : str
        A sentence for the user.
    """

    name: str
    fired: bool
    value: float
    message: str


class StoppingCriterion:
    """Base class: :meth:`update` is called once per round with the session after retrain."""

    name = "criterion"

    def update(self, session: Any) -> StopStatus:  # pragma: no cover - interface
        raise NotImplementedError

    def reset(self) -> None:
        """Forget the history (e.g. after an undo)."""


class StabilizingPredictions(StoppingCriterion):
    """Stop when successive models agree on a stop set (Bloodgood & Vijay-Shanker, 2009).

    After each retrain, the model's predictions on the stop set (unlabeled pool items; no
    truth needed) are compared with the previous model's by Cohen's kappa; the criterion fires
    when the mean kappa over the last ``window`` comparisons reaches ``threshold``.

    Parameters
    ----------
    stop_set : ndarray of shape (m,), int
        Pool indices of the stop set (e.g. :func:`eval_sample` of the pool, 500-2000 items).
    threshold : float, default=0.99
        Kappa level (the paper's default).
    window : int, default=3
        Number of successive agreements averaged (the paper's default).
    """

    name = "stabilizing predictions"

    def __init__(self, stop_set: Any, threshold: float = 0.99, window: int = 3) -> None:
        self.stop_set = np.asarray(stop_set, dtype=np.int64)
        self.threshold = float(threshold)
        self.window = int(window)
        self.reset()

    def reset(self) -> None:
        self._prev: np.ndarray | None = None
        self.kappas: list[float] = []

    def update(self, session: Any) -> StopStatus:
        if session.proba is None or self.stop_set.size == 0:
            self._prev = None
            return StopStatus(self.name, False, np.nan, "no model yet")
        pred = session.proba[self.stop_set].argmax(axis=1)
        if self._prev is not None:
            if np.array_equal(pred, self._prev):
                k = 1.0
            else:
                k = float(cohen_kappa_score(self._prev, pred))
            self.kappas.append(k if np.isfinite(k) else 0.0)
        self._prev = pred
        if len(self.kappas) < self.window:
            return StopStatus(
                self.name, False, np.nan, f"needs {self.window} successive models to compare"
            )
        mean = float(np.mean(self.kappas[-self.window :]))
        fired = mean >= self.threshold
        msg = (
            f"predictions on the {self.stop_set.size}-item stop set are stable: mean kappa "
            f"{mean:.3f} >= {self.threshold} over the last {self.window} retrains"
        )
        if not fired:
            msg = f"kappa between successive models {mean:.3f} (stops at {self.threshold})"
        return StopStatus(self.name, fired, mean, msg)


class MaxUncertaintyDrop(StoppingCriterion):
    """Stop when the most uncertain unlabeled item falls below a threshold (Zhu et al., 2008).

    The monitored value is the maximum of ``session.uncertainty`` (in [0, 1], by the current
    strategy's measure) over unlabeled, unskipped items.

    Parameters
    ----------
    threshold : float, default=0.1
        Fires when the maximum uncertainty is at most this.
    """

    name = "max uncertainty"

    def __init__(self, threshold: float = 0.1) -> None:
        self.threshold = float(threshold)

    def update(self, session: Any) -> StopStatus:
        if session.proba is None:
            return StopStatus(self.name, False, np.nan, "no model yet")
        cand = session.y < 0
        cand[session.skipped] = False  # skipped: pool indices
        if not cand.any():
            return StopStatus(self.name, True, 0.0, "no unlabeled items left")
        m = float(np.max(session.uncertainty[cand]))
        fired = m <= self.threshold
        msg = (
            f"the most uncertain unlabeled item has uncertainty {m:.3f} "
            f"{'<=' if fired else '>'} {self.threshold}"
        )
        return StopStatus(self.name, fired, m, msg)


class Budget(StoppingCriterion):
    """Stop after ``budget`` labels.

    Parameters
    ----------
    budget : int
        Number of labels the user can afford.
    """

    name = "budget"

    def __init__(self, budget: int) -> None:
        self.budget = int(budget)

    def update(self, session: Any) -> StopStatus:
        n = int(session.n_labeled)
        fired = n >= self.budget
        return StopStatus(self.name, fired, float(n), f"{n} of {self.budget} labels used")


class StoppingMonitor:
    """Runs several criteria after each round and keeps their history.

    Parameters
    ----------
    criteria : sequence of StoppingCriterion

    Attributes
    ----------
    history : list of list of StopStatus
        One list per :meth:`update` call.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from alwidget import Session
    >>> X, y = load_digits(return_X_y=True)
    >>> s = Session(X, classes=list(range(10)), store=":memory:", random_state=0)
    >>> monitor = StoppingMonitor([Budget(20)])
    >>> for _ in range(2):
    ...     batch = s.query()
    ...     _ = s.submit({int(i): int(y[i]) for i in batch})
    ...     status = monitor.update(s)
    >>> [(st.name, st.fired, st.message) for st in monitor.fired]
    [('budget', True, '20 of 20 labels used')]
    """

    def __init__(self, criteria: Sequence[StoppingCriterion]) -> None:
        self.criteria = list(criteria)
        self.history: list[list[StopStatus]] = []

    @classmethod
    def default(
        cls,
        n_samples: int,
        *,
        budget: int | None = None,
        random_state: Any = 0,
        stop_set_size: int = 1000,
    ) -> StoppingMonitor:
        """Stabilizing predictions on a random stop set, max-uncertainty drop, and a budget."""
        crit: list[StoppingCriterion] = [
            StabilizingPredictions(eval_sample(n_samples, stop_set_size, random_state)),
            MaxUncertaintyDrop(),
        ]
        if budget is not None:
            crit.append(Budget(budget))
        return cls(crit)

    def update(self, session: Any) -> list[StopStatus]:
        st = [c.update(session) for c in self.criteria]
        self.history.append(st)
        return st

    def reset(self) -> None:
        for c in self.criteria:
            c.reset()
        self.history.clear()

    @property
    def fired(self) -> list[StopStatus]:
        """Criteria that fired at the last update."""
        return [s for s in (self.history[-1] if self.history else []) if s.fired]


def _seed(random_state: Any) -> int:
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(2**31 - 1))
    return int(check_random_state(random_state).randint(2**31 - 1))
