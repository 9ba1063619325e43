"""Stream-based active learning (selective sampling): ask or let pass, under a label budget.

Items arrive one by one or in chunks; for each, the query strategy decides at once whether to
ask the oracle (the user) for its label or to let it pass with the model's prediction. The
strategy here is **variable uncertainty** (Žliobaitė, Bifet, Pfahringer & Holmes, 2014): ask
when the model's confidence (the largest class probability) is below a threshold that adapts:
it shrinks after each question (ask only more uncertain items next) and grows after each pass
(ask more when everything looks certain), so the labeling rate follows the data; a budget
caps the share of items asked, estimated over a sliding window of recent items. The
randomized variant multiplies the threshold by a random factor, so items the model is sure
about are sometimes asked too (it then also notices a change of the data it is sure about).

References
----------
Žliobaitė, I., Bifet, A., Pfahringer, B. & Holmes, G. (2014). Active learning with drifting
streaming data. IEEE Transactions on Neural Networks and Learning Systems 25(1), 27-39.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

__all__ = ["VariableUncertainty", "StreamResult", "simulate_stream"]


class VariableUncertainty:
    """Variable-uncertainty selective sampling with a label budget (Žliobaitė et al., 2014).

    Parameters
    ----------
    budget : float, default=0.1
        Largest share of items to ask, in (0, 1], estimated over the last ``window`` items.
    step : float, default=0.01
        Threshold adjustment ``s``: ``theta *= 1 - s`` after a question, ``*= 1 + s`` after a pass.
    threshold : float, default=1.0
        Initial confidence threshold ``theta``; an item is asked when its largest class
        probability is below it (1.0 asks the first items).
    randomized : bool, default=False
        Multiply the threshold by ``eta ~ N(1, delta)`` per item (the paper's "random
        variable uncertainty").
    delta : float, default=1.0
        Standard deviation of ``eta``.
    window : int, default=100
        Items of the sliding window that estimates the spent budget.
    random_state : int, Generator or None

    Attributes
    ----------
    theta : float
        The current threshold.
    n_seen, n_asked : int
        Items decided so far and items asked.

    Examples
    --------
    Half the stream is confident, half unsure, mixed: about a fifth of the items are asked,
    nearly all of them unsure ones.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> unsure = rng.permutation(2000) < 1000
    >>> proba = np.where(unsure[:, None], [0.55, 0.45], [0.99, 0.01])
    >>> ask = VariableUncertainty(budget=0.2).decide(proba)
    >>> round(float(ask.mean()), 2), round(float(ask[unsure].mean()), 2), round(float(ask[~unsure].mean()), 2)
    (0.21, 0.41, 0.01)
    """

    def __init__(
        self,
        budget: float = 0.1,
        step: float = 0.01,
        threshold: float = 1.0,
        randomized: bool = False,
        delta: float = 1.0,
        window: int = 100,
        random_state: int | np.random.Generator | None = None,
    ) -> None:
        if not 0 < budget <= 1:
            raise ValueError(f"budget is a share of the items in (0, 1]; got {budget!r}")
        if not 0 < step < 1:
            raise ValueError(f"step must be in (0, 1); got {step!r}")
        if window < 1:
            raise ValueError(f"window must be a positive number of items; got {window!r}")
        self.budget, self.step, self.theta = float(budget), float(step), float(threshold)
        self.randomized, self.delta, self.window = bool(randomized), float(delta), int(window)
        self.rng = np.random.default_rng(random_state)
        self.n_seen = self.n_asked = 0
        self._spent = 0.0  # u: labels in the (exponentially forgetting) window

    @property
    def spent(self) -> float:
        """Estimated share of recent items that were asked (``u / window``)."""
        return self._spent / self.window

    def decide(self, proba: Any) -> np.ndarray:
        """Decide, item by item in arrival order, which items to ask.

        Parameters
        ----------
        proba : array-like of shape (m, n_classes)
            The current model's class probabilities of the arriving items.

        Returns
        -------
        ask : ndarray of shape (m,), bool
            True where the item's label should be asked; the others pass with the model's
            prediction.

        Raises
        ------
        ValueError
            If ``proba`` is not 2-D.
        """
        P = np.asarray(proba, dtype=np.float64)
        if P.ndim != 2:
            raise ValueError(f"proba must have shape (m, n_classes); got {P.shape}")
        confidence = P.max(axis=1)
        ask = np.zeros(P.shape[0], dtype=bool)
        forget = (self.window - 1) / self.window
        for i, c in enumerate(confidence):
            self.n_seen += 1
            asked = False
            if self.spent < self.budget:
                theta = (
                    self.theta * self.rng.normal(1.0, self.delta) if self.randomized else self.theta
                )
                if c < theta:
                    asked = True
                    self.theta *= 1 - self.step
                else:
                    self.theta *= 1 + self.step
            self._spent = self._spent * forget + asked
            ask[i] = asked
        self.n_asked += int(ask.sum())
        return ask


@dataclass
class StreamResult:
    """What a simulated stream did.

    Attributes
    ----------
    curve : DataFrame
        One row per chunk: ``n_seen``, ``n_labels`` (asked so far), ``accuracy`` (held out).
    asked : ndarray of shape (n_labels,), int64
        Stream positions whose labels were asked, in order.
    predicted : ndarray of shape (n_stream,), int64
        The label each item kept: the true one if asked, else the model's prediction when it
        arrived (-1 before the first model).

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from sklearn.linear_model import LogisticRegression
    >>> X, y = make_blobs(400, centers=2, random_state=0)
    >>> r = simulate_stream(X[:300], y[:300], LogisticRegression(), X_eval=X[300:], y_eval=y[300:])
    >>> r.curve.columns.tolist(), int(r.curve["n_seen"].iloc[-1])
    (['n_seen', 'n_labels', 'accuracy'], 300)
    >>> r.asked[:10].tolist()  # the first items are asked, to fit a first model
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
    >>> r.predicted.shape, bool((r.predicted == y[:300]).mean() > 0.9)
    ((300,), True)
    """

    curve: pd.DataFrame
    asked: np.ndarray
    predicted: np.ndarray = field(repr=False)


def simulate_stream(
    X: Any,
    y: Any,
    estimator: Any,
    *,
    X_eval: Any,
    y_eval: Any,
    sampler: VariableUncertainty | None = None,
    chunk: int = 50,
    n_initial: int = 10,
) -> StreamResult:
    """Run selective sampling over ``X`` in arrival order with an oracle ``y``.

    The first ``n_initial`` items (and more until two classes are seen) are asked to get a
    first model; then each chunk is scored by the current model, the sampler decides per item,
    the asked labels are added, and the model is refitted after the chunk.

    Parameters
    ----------
    X : ndarray of shape (n_stream, n_features)
        Items in arrival order.
    y : array-like of shape (n_stream,), int
        True class codes (the oracle).
    estimator : scikit-learn classifier
        Cloned and refitted after each chunk on every label asked so far.
    X_eval, y_eval : held-out features and class codes for the accuracy curve.
    sampler : VariableUncertainty, optional
        Default ``VariableUncertainty(budget=0.1, random_state=0)``.
    chunk : int, default=50
        Items between refits.
    n_initial : int, default=10

    Returns
    -------
    StreamResult

    Raises
    ------
    ValueError
        If the whole stream holds a single class.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.linear_model import LogisticRegression
    >>> X, y = load_digits(return_X_y=True)
    >>> r = simulate_stream(X[:1500], y[:1500], LogisticRegression(max_iter=1000),
    ...                     X_eval=X[1500:], y_eval=y[1500:],
    ...                     sampler=VariableUncertainty(budget=0.15, random_state=0))
    >>> bool(r.asked.size <= 0.2 * 1500), bool(r.curve["accuracy"].iloc[-1] > 0.8)
    (True, True)
    """
    X = np.asarray(X)
    y = np.asarray(y, dtype=np.int64)
    sampler = sampler or VariableUncertainty(budget=0.1, random_state=0)
    n = X.shape[0]
    asked: list[int] = []
    predicted = np.full(n, -1, dtype=np.int64)
    pos = 0
    while pos < n and (pos < n_initial or np.unique(y[asked]).size < 2):
        asked.append(pos)
        predicted[pos] = y[pos]
        pos += 1
    if np.unique(y[asked]).size < 2:
        raise ValueError("the stream holds a single class: there is nothing to learn")
    model = clone(estimator).fit(X[asked], y[asked])
    rows = [(pos, len(asked), _accuracy(model, X_eval, y_eval))]
    while pos < n:
        stop = min(pos + chunk, n)
        block = np.arange(pos, stop)
        proba = model.predict_proba(X[block])
        ask = sampler.decide(proba)
        predicted[block] = np.asarray(model.classes_)[proba.argmax(axis=1)]
        predicted[block[ask]] = y[block[ask]]
        asked.extend(block[ask].tolist())
        if ask.any():
            model = clone(estimator).fit(X[asked], y[asked])
        pos = stop
        rows.append((pos, len(asked), _accuracy(model, X_eval, y_eval)))
    curve = pd.DataFrame(rows, columns=["n_seen", "n_labels", "accuracy"])
    return StreamResult(curve, np.asarray(asked, dtype=np.int64), predicted)


def _accuracy(model: Any, X: Any, y: Any) -> float:
    return float((model.predict(X) == np.asarray(y)).mean())
