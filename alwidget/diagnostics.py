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

The maths is split by topic: :mod:`alwidget.diagnostics_geometry` (coverage, outlier
fixation, redundancy, balance, :class:`PoolGeometry`) and :mod:`alwidget.diagnostics_dynamics`
(forgetting, label dispersion); every public name is importable from here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .diagnostics_dynamics import ForgettingTracker, LabelDispersion
from .diagnostics_geometry import (
    PoolGeometry,
    batch_redundancy,
    class_balance,
    coverage,
    distance_to_labels,
    far_outliers,
    knn_distance,
    outlier_fixation,
    random_pair_distance,
)
from .evaluation import EvalSet, StoppingMonitor, StopStatus, flat_metrics

__all__ = [
    "distance_to_labels",
    "coverage",
    "knn_distance",
    "outlier_fixation",
    "far_outliers",
    "random_pair_distance",
    "batch_redundancy",
    "class_balance",
    "ForgettingTracker",
    "LabelDispersion",
    "PoolGeometry",
    "Round",
    "RoundHistory",
]


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
    labels_before : ndarray of shape (n_samples,), int8/int16, or None
        Class codes in effect when the batch was picked (-1: unlabeled); with the snapshots.

    Examples
    --------
    The rounds a :class:`RoundHistory` recorded:

    >>> import numpy as np, alwidget
    >>> from sklearn.datasets import make_blobs
    >>> X, y = make_blobs(60, centers=2, random_state=0)
    >>> s = alwidget.Session(X, classes=["a", "b"], store=":memory:", batch_size=4, random_state=2)
    >>> history = RoundHistory(s)
    >>> for _ in range(3):
    ...     _ = s.submit({int(i): "ab"[y[i]] for i in s.query()})
    >>> r = history.rounds[-1]
    >>> r.round, r.n_labels, r.strategy, r.picked.shape, r.uncertainty.shape
    (3, 12, 'margin', (4,), (60,))
    >>> s.close()
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
    labels_before: np.ndarray | None = None


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
        Keep uncertainty, predictions and the labels in effect per round (``6 * n_samples``
        bytes per round with fewer than 128 classes); needed for the round replay.

    Attributes
    ----------
    rounds : list of Round
    forgetting : ForgettingTracker or None
    dispersion : LabelDispersion
    listeners : list of callable
        Called with the new :class:`Round` (or None after an undo).

    Raises
    ------
    ValueError
        If ``y_true`` does not have one code per pool item, or ``stopping`` is an unknown
        string.

    Examples
    --------
    A random cold start, then margin sampling, whose batches are more redundant (below 1):

    >>> import numpy as np, alwidget
    >>> from sklearn.datasets import make_blobs
    >>> X, y = make_blobs(60, centers=2, random_state=0)
    >>> s = alwidget.Session(X, classes=["a", "b"], store=":memory:", batch_size=4, random_state=2,
    ...                      cold_start="random")
    >>> history = RoundHistory(s, y_true=y)
    >>> for _ in range(3):
    ...     _ = s.submit({int(i): "ab"[y[i]] for i in s.query()})
    >>> df = history.to_frame()
    >>> df["strategy"].tolist(), df["batch_redundancy"].round(1).tolist()
    (['cold start (random)', 'margin', 'margin'], [1.4, 0.6, 0.4])
    >>> _ = s.undo(); len(history.rounds)  # an undo drops the last round
    2
    >>> s.close()
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
            labels_before=self._y_before.astype(small) if self.keep_snapshots else None,
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
