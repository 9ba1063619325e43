"""What a strategy did, round by round: coverage, outlier fixation, redundancy, balance,
learning dynamics, and a :class:`RoundHistory` that records all of it from a live session.

Every function works in feature space (the session's ``X``), not on the 2-D map.

References
----------
Sener, O. & Savarese, S. (2018). Active Learning for Convolutional Neural Networks: A Core-Set
Approach. ICLR. (coverage radius)
Karamcheti, S., Krishna, R., Fei-Fei, L. & Manning, C. (2021). Mind Your Outliers! Investigating
the Negative Impact of Outliers on Active Learning for Visual Question Answering. ACL.
(outlier fixation)
Toneva, M. et al. (2019). An Empirical Study of Example Forgetting during Deep Neural Network
Learning. ICLR. (forgetting events)
Bengar, J. Z., Raducanu, B., van de Weijer, J. et al. (2021). When Deep Learners Change Their
Mind: Learning Dynamics for Active Learning. CAIP. (label dispersion)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics.pairwise import euclidean_distances
from sklearn.neighbors import NearestNeighbors

from .evaluation import EvalSet, StoppingMonitor, StopStatus, flat_metrics
from .strategies import QueryContext, ScoreStrategy

__all__ = [
    "coverage",
    "knn_distance",
    "outlier_fixation",
    "batch_redundancy",
    "class_balance",
    "ForgettingTracker",
    "LabelDispersion",
    "PoolGeometry",
    "Round",
    "RoundHistory",
]


def coverage(X: np.ndarray, labeled: np.ndarray) -> tuple[float, float]:
    """Core-set coverage: distance from unlabeled items to their nearest labeled item.

    The maximum is the covering radius that core-set selection minimises (Sener & Savarese,
    2018); the mean says how well the labeled set covers the pool on average.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Pool features.
    labeled : ndarray of shape (n_samples,), bool
        True where an item is labeled.

    Returns
    -------
    mean, max : float
        Euclidean distances in feature units; ``(nan, nan)`` when nothing is labeled, ``(0, 0)``
        when everything is.
    """
    labeled = np.asarray(labeled, dtype=bool)
    if not labeled.any():
        return float("nan"), float("nan")
    if labeled.all():
        return 0.0, 0.0
    nn = NearestNeighbors(n_neighbors=1).fit(X[labeled])
    d = nn.kneighbors(X[~labeled], return_distance=True)[0][:, 0]
    return float(d.mean()), float(d.max())


def knn_distance(X: np.ndarray, k: int = 10) -> np.ndarray:
    """Mean distance of each item to its ``k`` nearest other items (inverse density).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    k : int, default=10
        Clipped to ``n_samples - 1``.

    Returns
    -------
    ndarray of shape (n_samples,), float64
        Larger = sparser neighbourhood. Cost: one kNN query over the pool
        (``O(n log n)`` with a tree in low dimension, ``O(n^2 d)`` brute force otherwise).
    """
    n = X.shape[0]
    k = max(1, min(int(k), n - 1))
    d, _ = NearestNeighbors(n_neighbors=k + 1).fit(X).kneighbors(X)
    return d[:, 1:].mean(axis=1)


def outlier_fixation(batch: np.ndarray, knn_dist: np.ndarray, quantile: float = 0.9) -> float:
    """Share of a batch in the pool's lowest-density decile.

    Uncertainty sampling tends to pick outliers: items the model cannot fit that sit far from
    everything else (Karamcheti et al., 2021). A random batch has about 0.1 here.

    Parameters
    ----------
    batch : ndarray of shape (k,), int
        Pool indices of the batch.
    knn_dist : ndarray of shape (n_samples,)
        :func:`knn_distance` of the pool.
    quantile : float, default=0.9
        Items with kNN distance at or above this quantile are the low-density part (0.9 =
        lowest-density decile).

    Returns
    -------
    float
        In [0, 1]; NaN for an empty batch.
    """
    batch = np.asarray(batch, dtype=np.int64)
    if batch.size == 0:
        return float("nan")
    cut = np.quantile(knn_dist, quantile)
    return float(np.mean(knn_dist[batch] >= cut))


def _mean_pairwise(Xb: np.ndarray) -> float:
    d = euclidean_distances(np.asarray(Xb, dtype=np.float64))
    iu = np.triu_indices(Xb.shape[0], 1)
    return float(d[iu].mean())


def random_pair_distance(X: np.ndarray, n_pairs: int = 4000, rng: Any = 0) -> float:
    """Expected distance between two distinct random pool items (Monte Carlo estimate).

    This is the expected mean pairwise distance of a uniformly random batch.

    Returns
    -------
    float
        In feature units.
    """
    rng = np.random.default_rng(rng)
    n = X.shape[0]
    a = rng.integers(0, n, n_pairs)
    b = (a + rng.integers(1, n, n_pairs)) % n
    return float(np.linalg.norm(X[a] - X[b], axis=1).mean())


def batch_redundancy(X: np.ndarray, batch: np.ndarray, reference: float | None = None) -> float:
    """Mean pairwise distance within a batch relative to a random batch.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    batch : ndarray of shape (k,), int
    reference : float, optional
        Expected pairwise distance of a random batch (:func:`random_pair_distance`);
        computed if omitted.

    Returns
    -------
    float
        About 1 for a random batch; **below 1 = redundant** (items closer to each other than
        chance, e.g. top-k uncertainty picking near-duplicates), above 1 = spread out (core-set).
        NaN for batches of fewer than two items.
    """
    batch = np.asarray(batch, dtype=np.int64)
    if batch.size < 2:
        return float("nan")
    ref = random_pair_distance(X) if reference is None else reference
    return _mean_pairwise(np.asarray(X[batch], dtype=np.float64)) / ref if ref > 0 else float("nan")


def class_balance(labels: np.ndarray, n_classes: int) -> tuple[np.ndarray, float]:
    """Class counts of the labeled set and their normalised entropy.

    Parameters
    ----------
    labels : ndarray of shape (n_samples,), int
        Label codes, -1 for unlabeled.
    n_classes : int

    Returns
    -------
    counts : ndarray of shape (n_classes,), int64
    balance : float
        Entropy of the class shares divided by ``log(n_classes)``: 1 = perfectly balanced,
        0 = one class only; NaN with no labels.
    """
    labels = np.asarray(labels)
    counts = np.bincount(labels[labels >= 0], minlength=n_classes).astype(np.int64)
    tot = counts.sum()
    if tot == 0:
        return counts, float("nan")
    p = counts[counts > 0] / tot
    return counts, float(-(p * np.log(p)).sum() / np.log(n_classes))


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


class PoolGeometry:
    """Per-pool quantities computed once: kNN density and the random-pair distance.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    k : int, default=10
        Neighbours for the density estimate.
    random_state : int, default=0
    """

    def __init__(self, X: np.ndarray, k: int = 10, random_state: int = 0) -> None:
        self.X = np.asarray(X, dtype=np.float64)
        self.knn_dist = knn_distance(self.X, k)
        self.pair_distance = random_pair_distance(self.X, rng=random_state)

    def diagnostics(
        self, batch: np.ndarray, labels: np.ndarray, n_classes: int
    ) -> dict[str, float]:
        """Coverage, outlier fixation, batch redundancy and class balance for one round.

        Parameters
        ----------
        batch : ndarray of shape (k,), int
            Items picked (and labeled) this round.
        labels : ndarray of shape (n_samples,), int
            Label codes after the round.

        Returns
        -------
        dict
            ``coverage_mean``, ``coverage_max`` (feature units), ``outlier_fixation`` (share),
            ``batch_redundancy`` (ratio to a random batch), ``class_balance`` (normalised
            entropy).
        """
        cmean, cmax = coverage(self.X, labels >= 0)
        _, bal = class_balance(labels, n_classes)
        return {
            "coverage_mean": cmean,
            "coverage_max": cmax,
            "outlier_fixation": outlier_fixation(batch, self.knn_dist),
            "batch_redundancy": batch_redundancy(self.X, batch, self.pair_distance),
            "class_balance": bal,
        }


@dataclass
class Round:
    """What happened in one round (one submit) of a session.

    Attributes
    ----------
    round : int
        1-based round number (submits so far).
    n_labels : int
        Labels after the round.
    picked : ndarray of shape (k,), int64
        Items labeled this round.
    strategy : str
        Strategy that picked the batch.
    uncertainty : ndarray of shape (n_samples,), float32, or None
        Uncertainty of the pool when the batch was picked (before this round's labels).
    predictions : ndarray of shape (n_samples,), int8/int16, or None
        Predicted codes of the model trained after this round (None at cold start).
    metrics : dict
        Held-out metrics (``accuracy``, ``macro_f1``, ``recall[<class>]``), NaN without an
        eval set or model.
    diagnostics : dict
        See :meth:`PoolGeometry.diagnostics`, plus ``forgetting_events`` and
        ``mean_dispersion``.
    stopping : list of StopStatus
    timings : dict
        Seconds: ``fit``, ``predict``, ``select`` (session timings), ``diagnostics``.
    """

    round: int
    n_labels: int
    picked: np.ndarray
    strategy: str
    uncertainty: np.ndarray | None
    predictions: np.ndarray | None
    metrics: dict[str, float]
    diagnostics: dict[str, float]
    stopping: list[StopStatus] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


class RoundHistory:
    """Records every round of a live :class:`~alwidget.Session` (subscribes with ``observe``).

    After each submit it stores the labeled batch, the uncertainty the strategy saw when it
    picked it (a float32 snapshot), the new model's predictions, held-out metrics, the
    diagnostics and the stopping criteria. An undo drops the last round.

    Parameters
    ----------
    session : Session
    y_true : array-like of shape (n_samples,), int, optional
        True codes of the pool (simulation, teaching): enables forgetting events.
    eval_set : EvalSet, optional
        Held-out set for the metrics.
    stopping : StoppingMonitor, "default" or None, default="default"
        Criteria run after each round.
    diagnostics : bool, default=True
        Compute coverage etc. (one kNN pass over the pool at construction, one
        nearest-labeled query per round).
    keep_snapshots : bool, default=True
        Keep uncertainty and predictions per round (``5 * n_samples`` bytes per round at
        most); needed for the round replay.

    Attributes
    ----------
    rounds : list of Round
    forgetting : ForgettingTracker or None
    dispersion : LabelDispersion
    listeners : list of callable
        Called with the new :class:`Round` (or None after an undo).
    """

    def __init__(
        self,
        session: Any,
        *,
        y_true: Any = None,
        eval_set: EvalSet | None = None,
        stopping: StoppingMonitor | str | None = "default",
        diagnostics: bool = True,
        keep_snapshots: bool = True,
    ) -> None:
        self.session = session
        n, k = session.n_samples, len(session.classes)
        self.y_true = None if y_true is None else np.asarray(y_true, dtype=np.int64)
        if self.y_true is not None and self.y_true.shape != (n,):
            raise ValueError(f"y_true must have shape ({n},); got {self.y_true.shape}")
        self.eval_set = eval_set
        if isinstance(stopping, str):
            if stopping != "default":
                raise ValueError(
                    f"stopping must be a StoppingMonitor, 'default' or None; got {stopping!r}"
                )
            stopping = StoppingMonitor.default(n)
        self.stopping: StoppingMonitor | None = stopping
        self.geometry = PoolGeometry(session.X) if diagnostics else None
        self.keep_snapshots = keep_snapshots
        self.forgetting = ForgettingTracker(self.y_true) if self.y_true is not None else None
        self.dispersion = LabelDispersion(n, k)
        self.rounds: list[Round] = []
        self.listeners: list[Any] = []
        self._snap()
        session.observe(self._on_event)

    def _snap(self) -> None:
        s = self.session
        self._y_before = s.y.copy()
        self._unc_before = np.array(s.uncertainty, dtype=np.float32)
        self._strategy_before = s.batch.strategy

    def _on_event(self, event: str) -> None:
        if event not in ("submit", "undo", "skip", "unsure", "strategy", "query", "import"):
            return  # model / fit events (possibly mid-submit, from the background): no round
        if event == "submit":
            self._record()
        elif event == "undo":
            while self.rounds and self.rounds[-1].round > self.session.round:
                self.rounds.pop()
            if self.stopping is not None:
                self.stopping.reset()
            for cb in list(self.listeners):
                cb(None)
        self._snap()

    def _record(self) -> None:
        s = self.session
        t0 = time.perf_counter()
        picked = np.flatnonzero((s.y >= 0) & (self._y_before < 0)).astype(np.int64)
        pred = None if s.proba is None else s.proba.argmax(axis=1)
        if self.forgetting is not None:
            self.forgetting.update(pred)
        self.dispersion.update(pred)
        k = len(s.classes)
        metrics = (
            self.eval_set.score(s.model)
            if self.eval_set is not None
            else {"accuracy": np.nan, "macro_f1": np.nan, "recall": np.full(k, np.nan)}
        )
        diag = self.geometry.diagnostics(picked, s.y, k) if self.geometry is not None else {}
        diag["forgetting_events"] = (
            float(self.forgetting.last_events) if self.forgetting else np.nan
        )
        unl = s.y < 0
        disp = self.dispersion.dispersion
        diag["mean_dispersion"] = float(disp[unl].mean()) if unl.any() else np.nan
        stop = self.stopping.update(s) if self.stopping is not None else []
        timings = {key: float(s.timings.get(key, np.nan)) for key in ("fit", "predict", "select")}
        timings["diagnostics"] = time.perf_counter() - t0
        small = np.int8 if k < 128 else np.int16
        r = Round(
            round=int(s.round),
            n_labels=int(s.n_labeled),
            picked=picked,
            strategy=str(self._strategy_before),
            uncertainty=self._unc_before if self.keep_snapshots else None,
            predictions=pred.astype(small) if (pred is not None and self.keep_snapshots) else None,
            metrics=flat_metrics(metrics, s.classes),
            diagnostics=diag,
            stopping=stop,
            timings=timings,
        )
        self.rounds.append(r)
        for cb in list(self.listeners):
            cb(r)

    def on_round(self, callback: Any) -> None:
        """Call ``callback(round)`` after each recorded round (``None`` after an undo)."""
        self.listeners.append(callback)

    def to_frame(self) -> pd.DataFrame:
        """One row per round: ``round``, ``n_labels``, ``strategy``, ``batch_size``, the
        metrics, the diagnostics, ``stop:<criterion>`` flags and ``time_*`` (seconds)."""
        rows = []
        for r in self.rounds:
            row: dict[str, Any] = {
                "round": r.round,
                "n_labels": r.n_labels,
                "strategy": r.strategy,
                "batch_size": int(r.picked.size),
            }
            row.update(r.metrics)
            row.update(r.diagnostics)
            for st in r.stopping:
                row[f"stop:{st.name}"] = st.fired
            row.update({f"time_{k}": v for k, v in r.timings.items()})
            rows.append(row)
        return pd.DataFrame(rows)
