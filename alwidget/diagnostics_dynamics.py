"""Learning dynamics across rounds: forgetting events and label dispersion.

Part of :mod:`alwidget.diagnostics` (import the names from there).

References
----------
Toneva, M. et al. (2019). An Empirical Study of Example Forgetting during Deep Neural Network
Learning. ICLR. (forgetting events)
Bengar, J. Z., Raducanu, B., van de Weijer, J. et al. (2021). When Deep Learners Change Their
Mind: Learning Dynamics for Active Learning. CAIP. (label dispersion)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .strategies import QueryContext, ScoreStrategy

__all__ = ["ForgettingTracker", "LabelDispersion"]


class ForgettingTracker:
    """Forgetting events across retrains (Toneva et al., 2019), when truth is known.

    An item is *forgotten* when the model's prediction for it goes from correct (at one
    retrain) to wrong (at the next). Items forgotten often lie on a moving decision boundary.

    Parameters
    ----------
    y_true : ndarray of shape (n_samples,), int
        True class codes of the pool.

    Attributes
    ----------
    counts : ndarray of shape (n_samples,), int32
        Forgetting events per item so far.
    last_events : int
        Events at the last :meth:`update`.

    Examples
    --------
    >>> import numpy as np
    >>> tracker = ForgettingTracker(y_true=[0, 1, 1])
    >>> tracker.update(np.array([0, 1, 0]))  # first retrain: nothing to forget yet
    0
    >>> tracker.update(np.array([1, 1, 1]))  # item 0 was right, now it is wrong
    1
    >>> tracker.counts.tolist()
    [1, 0, 0]
    """

    def __init__(self, y_true: Any) -> None:
        self.y_true = np.asarray(y_true, dtype=np.int64)
        self.counts = np.zeros(self.y_true.shape[0], dtype=np.int32)
        self._prev_correct: np.ndarray | None = None
        self.last_events = 0

    def update(self, pred: np.ndarray | None) -> int:
        """Feed the predictions (shape (n_samples,), int codes) after a retrain.

        Returns
        -------
        int
            Number of forgetting events in this step.
        """
        if pred is None:
            self._prev_correct, self.last_events = None, 0
            return 0
        correct = np.asarray(pred) == self.y_true
        ev = (self._prev_correct & ~correct) if self._prev_correct is not None else None
        self._prev_correct = correct
        self.last_events = int(ev.sum()) if ev is not None else 0
        if ev is not None:
            self.counts += ev
        return self.last_events

    def score(self, ctx: QueryContext) -> np.ndarray:
        """Acquisition signal: forgetting count of each candidate, shape (n_candidates,)."""
        return self.counts[ctx.candidates].astype(np.float64)

    def as_strategy(self) -> ScoreStrategy:
        """A strategy that queries the most-forgotten items (simulation only: needs truth)."""
        return ScoreStrategy(self.score, name="forgetting", measure="entropy")


class LabelDispersion:
    """Label dispersion of predictions across rounds (Bengar et al., 2021).

    For each item, over the ``T`` retrains seen so far, dispersion is
    ``1 - f_mode / T`` where ``f_mode`` is how often its most frequent predicted label came
    up: 0 = the model always predicted the same label, near 1 = it keeps changing its mind.
    :attr:`flips` counts how often the predicted label changed between successive retrains.

    Parameters
    ----------
    n_samples : int
    n_classes : int

    Attributes
    ----------
    votes : ndarray of shape (n_samples, n_classes), int32
    flips : ndarray of shape (n_samples,), int32
    n_rounds : int

    Examples
    --------
    >>> import numpy as np
    >>> disp = LabelDispersion(n_samples=3, n_classes=2)
    >>> for pred in ([0, 1, 1], [0, 0, 1], [0, 1, 1], [0, 0, 1]):  # four retrains
    ...     disp.update(np.array(pred))
    >>> disp.dispersion.tolist(), disp.flips.tolist()  # item 1 keeps changing its label
    ([0.0, 0.5, 0.0], [0, 3, 0])
    """

    def __init__(self, n_samples: int, n_classes: int) -> None:
        self.votes = np.zeros((n_samples, n_classes), dtype=np.int32)
        self.flips = np.zeros(n_samples, dtype=np.int32)
        self.n_rounds = 0
        self._prev: np.ndarray | None = None

    def update(self, pred: np.ndarray | None) -> None:
        """Feed the predictions (shape (n_samples,), int codes) after a retrain."""
        if pred is None:
            return
        pred = np.asarray(pred, dtype=np.int64)
        self.votes[np.arange(pred.size), pred] += 1
        if self._prev is not None:
            self.flips += pred != self._prev
        self._prev = pred
        self.n_rounds += 1

    @property
    def dispersion(self) -> np.ndarray:
        """ndarray of shape (n_samples,), float32 in [0, 1); zeros before any round."""
        if self.n_rounds == 0:
            return np.zeros(self.votes.shape[0], dtype=np.float32)
        return (1.0 - self.votes.max(axis=1) / self.n_rounds).astype(np.float32)

    def score(self, ctx: QueryContext) -> np.ndarray:
        """Acquisition signal: dispersion of each candidate, shape (n_candidates,)."""
        return self.dispersion[ctx.candidates].astype(np.float64)

    def as_strategy(self) -> ScoreStrategy:
        """A strategy that queries the items whose predicted label changed most."""
        return ScoreStrategy(self.score, name="label_dispersion", measure="entropy")
