"""The headless active-learning loop: query, submit, retrain, undo, skip.

:class:`Session` knows nothing about widgets; :class:`alwidget.LabelingWidget` renders it.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.utils import check_random_state

from .store import LabelEvent, LabelStore, default_annotator, fingerprint
from .strategies import QueryContext, Strategy, available_strategies, get_strategy

__all__ = ["Session", "AlwidgetWarning"]


class AlwidgetWarning(UserWarning):
    """Warnings raised by alwidget (turned into errors in its own test suite)."""


@dataclass
class Batch:
    """The current acquisition batch.

    Attributes
    ----------
    indices : ndarray of shape (k,), int64
        Pool indices, most informative first.
    scores : ndarray of shape (k,), float64
        Strategy score of each item at selection time.
    strategy : str
        Strategy (or cold-start rule) that picked it.
    round : int
        Round number (submits so far) when picked.
    model_version : int
        Number of labels the selecting model was trained on (0 at cold start).
    cold_start : bool
        True if picked by the cold-start rule because no model could be fitted yet.
    """

    indices: np.ndarray
    scores: np.ndarray
    strategy: str
    round: int
    model_version: int
    cold_start: bool

    def rank_of(self, idx: int) -> int:
        return int(np.flatnonzero(self.indices == idx)[0]) + 1

    def score_of(self, idx: int) -> float:
        return float(self.scores[self.rank_of(idx) - 1])


class Session:
    """An active-learning session over a pool of items.

    Parameters
    ----------
    X : ndarray or DataFrame of shape (n_samples, n_features)
        Numeric features of the pool. Never modified.
    classes : sequence of str
        Label names, shown on the buttons; labels are stored as codes ``0..n_classes-1``.
    estimator : classifier, optional
        Any scikit-learn classifier with ``predict_proba`` (a Pipeline too). It is cloned
        before each fit, never fitted in place. Default: ``LogisticRegression(max_iter=1000)``.
    strategy : str, Strategy, callable or None
        Query strategy: a name from :func:`alwidget.strategies.available_strategies`, a
        :class:`~alwidget.strategies.Strategy`, or a score function ``f(ctx) -> scores``.
        ``None`` (default) resumes the strategy saved in the store, else ``"entropy"``.
    batch_size : int, default=10
        Items per batch. Clipped to the pool size with a warning.
    random_state : int, Generator or None
        Seed for every random choice (cold start, tie-breaking, random strategy).
    store : str, Path, LabelStore or None
        Where labels live. A path to an SQLite file (resumed if it exists), ``":memory:"``
        for labels that die with the kernel, or ``None`` for
        ``alwidget-<name or data fingerprint>.sqlite`` in the working directory.
    name : str, optional
        Session name, used for the default store file name.
    cold_start : {"random", "diverse"}, default="random"
        How to pick batches until two classes are labeled: uniformly at random, or spread
        over the feature space (k-center greedy from a random start).
    annotator : str, optional
        Recorded with every label; default the operating-system user.

    Raises
    ------
    ValueError
        On NaN/inf in X, fewer than 2 items or classes, or a bad batch size.
    StoreMismatchError
        If ``store`` holds labels for other data.
    """

    def __init__(
        self,
        X: Any,
        *,
        classes: Sequence[Any],
        estimator: Any = None,
        strategy: str | Strategy | Callable | None = None,
        batch_size: int = 10,
        random_state: int | np.random.Generator | None = None,
        store: Any = None,
        name: str | None = None,
        cold_start: str = "random",
        annotator: str | None = None,
    ) -> None:
        self.X_fit = X  # what the estimator sees (DataFrame kept as is for Pipelines)
        self.X = _as_features(X)
        n = self.X.shape[0]
        if n < 2:
            raise ValueError(f"the pool needs at least 2 items; X has {n}")
        self.classes = [str(c) for c in classes]
        if len(self.classes) < 2:
            raise ValueError(f"need at least 2 classes to learn; got {self.classes}")
        if len(set(self.classes)) != len(self.classes):
            raise ValueError(f"class names must be unique; got {self.classes}")
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be at least 1; got {batch_size}")
        if batch_size > n:
            warnings.warn(
                f"batch_size={batch_size} is larger than the pool ({n}); using {n}",
                AlwidgetWarning,
                stacklevel=2,
            )
            batch_size = n
        if cold_start not in ("random", "diverse"):
            raise ValueError(f"cold_start must be 'random' or 'diverse'; got {cold_start!r}")
        if estimator is None:
            estimator = LogisticRegression(max_iter=1000)
        if not hasattr(estimator, "predict_proba"):
            raise TypeError(
                f"{type(estimator).__name__} has no predict_proba; pass a probabilistic "
                "classifier (for SVC use probability=True, or wrap it in "
                "sklearn.calibration.CalibratedClassifierCV)"
            )
        self.estimator = estimator
        self.batch_size = int(batch_size)
        self.cold_start = cold_start
        self.annotator = annotator or default_annotator()
        self._rng = check_random_state(random_state)
        self.rng = np.random.default_rng(self._rng.randint(2**31 - 1))

        self.fingerprint = fingerprint(self.X)
        if isinstance(store, LabelStore):
            self.store = store
        else:
            if store is None:
                store = f"alwidget-{name or self.fingerprint[:10]}.sqlite"
            self.store = LabelStore(store)
        self.store.bind(self.fingerprint, n, self.classes)

        if strategy is None:
            saved = self.store.get_meta("strategy")
            strategy = saved if saved in available_strategies() else "entropy"
        self._strategy = get_strategy(strategy)
        self.y = np.full(n, -1, dtype=np.int64)
        self.skipped = np.zeros(n, dtype=bool)
        self.model: Any = None
        self.model_version = 0
        self.proba: np.ndarray | None = None
        self.last_error: str | None = None
        self.timings: dict[str, float] = {}
        self._listeners: list[Callable[[str], None]] = []
        self._replay()
        self.retrain()
        self.batch = self._select()

    # -- public state ---------------------------------------------------------------------
    @property
    def n_samples(self) -> int:
        return self.X.shape[0]

    @property
    def n_labeled(self) -> int:
        return int((self.y >= 0).sum())

    @property
    def round(self) -> int:
        """Number of label submits in effect (undone ones do not count)."""
        return self.store.n_submits()

    @property
    def strategy(self) -> Strategy:
        return self._strategy

    @strategy.setter
    def strategy(self, value: str | Strategy | Callable) -> None:
        self.set_strategy(value)

    @property
    def cold(self) -> bool:
        """True while no model can be fitted (fewer than two classes labeled)."""
        return self.model is None

    @property
    def uncertainty(self) -> np.ndarray:
        """Uncertainty of every pool item under the current model.

        Returns
        -------
        ndarray of shape (n_samples,), float32
            In [0, 1] by the current strategy's measure (:attr:`Strategy.measure`); all
            ones at cold start (nothing is known yet).
        """
        if self.proba is None:
            return np.ones(self.n_samples, dtype=np.float32)
        return self._strategy.uncertainty(self.proba)

    @property
    def labels(self) -> pd.DataFrame:
        """What was labeled, one row per labeled item, oldest first.

        Columns: ``index`` (pool index), ``label`` (class name), ``code``, ``timestamp``
        (UTC), ``round``, ``strategy``, ``score`` and ``rank`` at selection time,
        ``model_version``, ``annotator``, ``source``.
        """
        cur = self.store.current()
        cols = ["index", "label", "code", "timestamp", "round", "strategy", "score", "rank",
                "model_version", "annotator", "source"]  # fmt: skip
        if cur.empty:
            return pd.DataFrame(columns=cols)
        cur = cur[cur["kind"] == "label"]
        out = pd.DataFrame(
            {
                "index": cur["idx"].astype("int64").to_numpy(),
                "label": [self.classes[int(c)] for c in cur["label"]],
                "code": cur["label"].astype("int64").to_numpy(),
                "timestamp": pd.to_datetime(cur["ts"], utc=True).to_numpy(),
                "round": cur["round"].to_numpy(),
                "strategy": cur["strategy"].to_numpy(),
                "score": cur["score"].astype("float64").to_numpy(),
                "rank": cur["rank"].to_numpy(),
                "model_version": cur["model_version"].to_numpy(),
                "annotator": cur["annotator"].to_numpy(),
                "source": cur["source"].to_numpy(),
            }
        )
        return out[cols]

    def observe(self, callback: Callable[[str], None]) -> None:
        """Call ``callback(event)`` after each change (``"submit"``, ``"undo"``, ``"skip"``,
        ``"strategy"``, ``"query"``)."""
        self._listeners.append(callback)

    # -- the loop -------------------------------------------------------------------------
    def query(self) -> np.ndarray:
        """The current batch as pool indices, shape (k,), int64, most informative first."""
        return self.batch.indices.copy()

    def requery(self) -> np.ndarray:
        """Pick a fresh batch with the current model and strategy (no retrain)."""
        self.batch = self._select()
        self._emit("query")
        return self.query()

    def set_batch(self, indices: Sequence[int]) -> np.ndarray:
        """Make chosen pool items the current batch ("label these next", e.g. from the map).

        Parameters
        ----------
        indices : sequence of int
            Pool indices; already labeled ones are dropped.

        Returns
        -------
        ndarray of shape (k,), int64
            The new batch (recorded as strategy ``"map selection"``).

        Raises
        ------
        ValueError
            If an index is out of range or none of them is unlabeled.
        """
        idx = [self._check_index(i) for i in indices]
        idx = list(dict.fromkeys(i for i in idx if self.y[i] < 0))
        if not idx:
            raise ValueError("none of these items is unlabeled; nothing to put in the batch")
        self.batch = Batch(
            indices=np.asarray(idx, dtype=np.int64), scores=np.full(len(idx), np.nan),
            strategy="map selection", round=self.round, model_version=self.model_version,
            cold_start=False,
        )  # fmt: skip
        self._emit("query")
        return self.query()

    def submit(self, labels: Mapping[int, Any], *, source: str = "batch") -> np.ndarray:
        """Record labels, retrain, and pick the next batch.

        The labels are committed to the store before the model is refitted. If the refit
        fails, the labels are kept, :attr:`last_error` says why, and the next batch comes from
        the last good model (or the cold-start rule).

        Parameters
        ----------
        labels : mapping of int to class name or code
            ``{pool index: label}``. Indices must be in the current batch when
            ``source="batch"``; any unlabeled-or-labeled pool index otherwise.
        source : {"batch", "map", "import"}
            Recorded in the provenance.

        Returns
        -------
        ndarray of shape (k,), int64
            The next batch.

        Raises
        ------
        ValueError
            If ``labels`` is empty, names an unknown class, or an index outside the batch
            (or the pool). Nothing is recorded then.
        """
        if not labels:
            raise ValueError("no labels to submit: pick a class for at least one item")
        events = []
        batch_set = set(self.batch.indices.tolist())
        for raw_idx, raw_label in labels.items():
            idx = self._check_index(raw_idx)
            if source == "batch" and idx not in batch_set:
                raise ValueError(
                    f"index {idx} is not in the current batch {sorted(batch_set)}; "
                    "use source='map' to label items outside the batch"
                )
            code = self.code_of(raw_label)
            in_batch = idx in batch_set
            events.append(
                LabelEvent(
                    idx=idx,
                    label=code,
                    round=self.batch.round,
                    strategy=self.batch.strategy if in_batch else None,
                    score=self.batch.score_of(idx) if in_batch else None,
                    rank=self.batch.rank_of(idx) if in_batch else None,
                    model_version=self.batch.model_version,
                    source=source,
                )
            )
        t0 = time.perf_counter()
        self.store.append(events, self.annotator)
        self.timings["store"] = time.perf_counter() - t0
        for e in events:
            self.y[e.idx] = e.label
            self.skipped[e.idx] = False
        self.retrain()
        self.batch = self._select()
        self._emit("submit")
        return self.query()

    def undo(self) -> np.ndarray | None:
        """Take back the last submitted labels; their items become the current batch again.

        Returns
        -------
        ndarray of shape (k,), int64, or None
            The items whose labels were taken back, or None if there was nothing to undo.
        """
        sid = self.store.undo_last(self.annotator)
        if sid is None:
            return None
        undone = self.store.submit_events(sid)
        self._replay()
        self.retrain()
        idx = undone["idx"].astype("int64").to_numpy()
        self.batch = Batch(
            indices=idx,
            scores=undone["score"].fillna(np.nan).astype("float64").to_numpy(),
            strategy=str(undone["strategy"].iloc[0] or self._strategy.name),
            round=self.round,
            model_version=self.model_version,
            cold_start=self.cold,
        )
        self._emit("undo")
        return idx

    def skip(self, index: int) -> np.ndarray:
        """Drop an item from the current batch without labeling it (recorded as a skip).

        Skipped items are not queried again in this session unless labeled from the map.
        When the batch becomes empty, a new one is picked.

        Returns
        -------
        ndarray of shape (k,), int64
            The current batch after the skip.

        Raises
        ------
        ValueError
            If ``index`` is not in the current batch.
        """
        idx = self._check_index(index)
        if idx not in set(self.batch.indices.tolist()):
            raise ValueError(f"index {idx} is not in the current batch; cannot skip it")
        self.store.append(
            [LabelEvent(idx=idx, label=None, kind="skip", round=self.batch.round,
                        strategy=self.batch.strategy, score=self.batch.score_of(idx),
                        rank=self.batch.rank_of(idx), model_version=self.batch.model_version)],
            self.annotator,
        )  # fmt: skip
        self.skipped[idx] = True
        keep = self.batch.indices != idx
        self.batch.indices, self.batch.scores = self.batch.indices[keep], self.batch.scores[keep]
        if self.batch.indices.size == 0:
            self.batch = self._select()
        self._emit("skip")
        return self.query()

    def set_strategy(self, strategy: str | Strategy | Callable, *, requery: bool = True) -> None:
        """Switch the query strategy; with ``requery`` the current batch is re-picked now."""
        self._strategy = get_strategy(strategy)
        self.store.set_meta("strategy", self._strategy.name)
        if requery:
            self.batch = self._select()
        self._emit("strategy")

    def retrain(self) -> bool:
        """Refit a clone of the estimator on all labels and rescore the pool.

        Returns
        -------
        bool
            True if a model is in place after the call. On a fit error the previous model is
            kept and :attr:`last_error` holds the message.
        """
        labeled = np.flatnonzero(self.y >= 0)
        if np.unique(self.y[labeled]).size < 2:
            self.model, self.proba, self.model_version = None, None, 0
            self.last_error = None
            return False
        t0 = time.perf_counter()
        try:
            model = clone(self.estimator)
            model.fit(_rows(self.X_fit, labeled), self.y[labeled])
            t1 = time.perf_counter()
            proba = self._predict_full(model)
        except Exception as exc:  # a user's estimator can fail in any way; keep the labels
            self.last_error = f"retrain failed, labels kept: {type(exc).__name__}: {exc}"
            return self.model is not None
        self.timings["fit"] = t1 - t0
        self.timings["predict"] = time.perf_counter() - t1
        self.model, self.proba, self.model_version = model, proba, int(labeled.size)
        self.last_error = None
        return True

    def code_of(self, label: Any) -> int:
        """Class code of a class name or code.

        Raises
        ------
        ValueError
            If ``label`` is not one of :attr:`classes` (nor a valid code).
        """
        if isinstance(label, (int, np.integer)) and not isinstance(label, bool):
            if 0 <= int(label) < len(self.classes) and str(label) not in self.classes:
                return int(label)
        s = str(label)
        if s in self.classes:
            return self.classes.index(s)
        raise ValueError(f"unknown class {label!r}; the classes are {self.classes}")

    # -- internals ------------------------------------------------------------------------
    def _emit(self, event: str) -> None:
        for cb in list(self._listeners):
            cb(event)

    def _check_index(self, raw: Any) -> int:
        try:
            idx = int(raw)
        except (TypeError, ValueError):
            raise ValueError(f"pool index must be an integer; got {raw!r}") from None
        if not 0 <= idx < self.n_samples:
            raise ValueError(f"index {idx} is out of range for a pool of {self.n_samples} items")
        return idx

    def _replay(self) -> None:
        """Rebuild labels and skips from the store."""
        self.y[:] = -1
        self.skipped[:] = False
        cur = self.store.current()
        if cur.empty:
            return
        lab = cur[cur["kind"] == "label"]
        self.y[lab["idx"].astype("int64").to_numpy()] = lab["label"].astype("int64").to_numpy()
        sk = cur[cur["kind"] == "skip"]
        self.skipped[sk["idx"].astype("int64").to_numpy()] = True

    def _predict_full(self, model: Any) -> np.ndarray:
        p = model.predict_proba(self.X_fit)
        cols = np.asarray(model.classes_, dtype=np.int64)
        if cols.size == len(self.classes) and np.array_equal(cols, np.arange(cols.size)):
            return np.asarray(p, dtype=np.float64)
        full = np.zeros((self.n_samples, len(self.classes)))
        full[:, cols] = p
        return full

    def _candidates(self) -> np.ndarray:
        return np.flatnonzero((self.y < 0) & ~self.skipped)

    def _select(self) -> Batch:
        t0 = time.perf_counter()
        cand = self._candidates()
        ctx = QueryContext(
            X=self.X, labels=self.y, candidates=cand, proba=self.proba, model=self.model,
            estimator=self.estimator, n_classes=len(self.classes), rng=self.rng,
        )  # fmt: skip
        k = min(self.batch_size, cand.size)
        if k == 0:
            idx, scores, name, cold = np.empty(0, np.int64), np.empty(0), self._strategy.name, False
        elif self.model is None and self._strategy.needs_model:
            idx, name, cold = self._cold_start(ctx, k), f"cold start ({self.cold_start})", True
            scores = np.zeros(idx.size)
        else:
            idx, scores = self._strategy.query(ctx, k)
            name, cold = self._strategy.name, False
        self.timings["select"] = time.perf_counter() - t0
        return Batch(np.asarray(idx, np.int64), np.asarray(scores, np.float64), name,
                     self.round, self.model_version, cold)  # fmt: skip

    def _cold_start(self, ctx: QueryContext, k: int) -> np.ndarray:
        if self.cold_start == "random":
            return ctx.rng.choice(ctx.candidates, size=k, replace=False).astype(np.int64)
        from .strategies.diversity import k_center_greedy

        return k_center_greedy(self.X[ctx.candidates], k, rng=ctx.rng)[0].astype(np.int64)


def _as_features(X: Any) -> np.ndarray:
    try:
        arr = np.asarray(X.to_numpy() if isinstance(X, pd.DataFrame) else X, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            "X must be numeric features of shape (n_samples, n_features); encode text or "
            "categories first (e.g. TF-IDF + TruncatedSVD, or one-hot encoding)"
        ) from None
    if arr.ndim != 2:
        raise ValueError(
            f"X must have shape (n_samples, n_features); got shape {arr.shape}. "
            "Flatten images with X.reshape(len(X), -1)."
        )
    bad = ~np.isfinite(arr)
    if bad.any():
        rows = np.flatnonzero(bad.any(axis=1))
        raise ValueError(
            f"X has NaN or infinite values in {rows.size} rows (first: {rows[:5].tolist()}); "
            "impute them (sklearn.impute.SimpleImputer) or drop those rows"
        )
    return arr


def _rows(X: Any, idx: np.ndarray) -> Any:
    return X.iloc[idx] if isinstance(X, (pd.DataFrame, pd.Series)) else np.asarray(X)[idx]
