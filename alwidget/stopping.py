"""Stopping criteria: when to stop labeling.

* :class:`StabilizingPredictions`: agreement (Cohen's kappa) between successive models on an
  unlabeled *stop set* (Bloodgood & Vijay-Shanker, 2009).
* :class:`MaxUncertaintyDrop`: the most uncertain unlabeled item is no longer very uncertain
  (the "max-confidence" criterion of Zhu, Wang & Hovy, 2008).
* :class:`Budget`: a fixed number of labels.

:class:`StoppingMonitor` runs several and remembers what each said per round.

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
from sklearn.metrics import cohen_kappa_score

__all__ = [
    "StopStatus",
    "StoppingCriterion",
    "StabilizingPredictions",
    "MaxUncertaintyDrop",
    "Budget",
    "StoppingMonitor",
]


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

    Examples
    --------
    >>> import numpy as np, alwidget
    >>> with alwidget.Session(np.eye(6), classes=["a", "b"], store=":memory:", batch_size=2) as s:
    ...     _ = s.submit({0: "a", 1: "b", 2: "a"}, source="map")
    ...     status = Budget(5).update(s)
    >>> status
    StopStatus(name='budget', fired=False, value=3.0, message='3 of 5 labels used')
    """

    name: str
    fired: bool
    value: float
    message: str


class StoppingCriterion:
    """Base class: :meth:`update` is called once per round with the session after retrain.

    A subclass sets ``name``, returns a :class:`StopStatus` from ``update(session)`` and, if it
    keeps a history, forgets it in :meth:`reset`.

    Examples
    --------
    Stop once every class has at least ``m`` labels:

    >>> import numpy as np, alwidget
    >>> class EachClass(StoppingCriterion):
    ...     name = "each class"
    ...     def __init__(self, m):
    ...         self.m = m
    ...     def update(self, session):
    ...         counts = np.bincount(session.y[session.y >= 0], minlength=len(session.classes))
    ...         fewest = int(counts.min())
    ...         return StopStatus(self.name, fewest >= self.m, float(fewest), f"{fewest} at least")
    >>> with alwidget.Session(np.eye(6), classes=["a", "b"], store=":memory:", batch_size=2) as s:
    ...     _ = s.submit({0: "a", 1: "b", 2: "a"}, source="map")
    ...     StoppingMonitor([EachClass(1), Budget(10)]).update(s)[0].fired
    True
    """

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

    Examples
    --------
    >>> import numpy as np, alwidget
    >>> X = np.random.default_rng(0).normal(size=(60, 2))
    >>> crit = StabilizingPredictions(stop_set=np.arange(40, 60), window=2)
    >>> with alwidget.Session(X, classes=["a", "b"], store=":memory:") as s:
    ...     _ = s.submit({i: "ab"[int(X[i, 0] > 0)] for i in range(20)}, source="map")
    ...     first = crit.update(s).fired  # one model: nothing to compare yet
    >>> first
    False
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

    Examples
    --------
    >>> import numpy as np, alwidget
    >>> with alwidget.Session(np.eye(6), classes=["a", "b"], store=":memory:", batch_size=2) as s:
    ...     MaxUncertaintyDrop().update(s).fired  # cold start: everything is uncertain
    False
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

    Examples
    --------
    >>> import numpy as np, alwidget
    >>> with alwidget.Session(np.eye(6), classes=["a", "b"], store=":memory:", batch_size=2) as s:
    ...     _ = s.submit({0: "a", 1: "b"}, source="map")
    ...     Budget(2).update(s).fired, Budget(3).update(s).fired
    (True, False)
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
        from .evaluation import eval_sample  # (evaluation re-exports this module)

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
