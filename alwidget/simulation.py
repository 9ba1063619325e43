"""Simulated active learning: an oracle that knows the labels drives the real Session loop.

:func:`simulate` runs several strategies over several repeats on the same held-out split per
repeat (paired comparison), and returns a tidy table; :func:`plot_learning_curves` draws mean
curves with a spread band; :func:`labels_to_target` says how many labels each strategy needed;
:func:`paired_difference` compares each strategy with random on the same repeats, with a 95 %
confidence interval.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from .diagnostics import RoundHistory
from .evaluation import EvalSet, holdout_split
from .plotting import STRATEGY_COLOURS, plot_learning_curves
from .session import Session
from .strategies import Strategy, get_strategy
from .validation import rows as _rows

__all__ = [
    "simulate",
    "plot_learning_curves",
    "labels_to_target",
    "paired_difference",
    "STRATEGY_COLOURS",
]


def simulate(
    X: Any,
    y: Any,
    *,
    strategies: Sequence[str | Strategy] = ("random", "entropy"),
    budget: int = 200,
    batch_size: int = 10,
    n_repeats: int = 3,
    random_state: int | np.random.Generator | None = 0,
    estimator: Any = None,
    test_size: float | int = 0.25,
    X_eval: Any = None,
    y_eval: Any = None,
    classes: Sequence[Any] | None = None,
    diagnostics: bool = False,
    progress: bool | None = None,
    blas_threads: int | None = 1,
    **session_kwargs: Any,
) -> pd.DataFrame:
    """Run the active-learning loop with an oracle and measure it on held-out data.

    For each repeat, the data is split once (stratified, seeded by ``random_state`` and the
    repeat number) into a pool and a held-out set; every strategy then starts from that same
    split and the same seed, so the first (cold-start) batch is identical across the
    strategies that need a model; ``"random"`` draws its own first batch, which is that same
    draw only with ``cold_start="random"`` (the default cold start is TypiClust).
    The loop is the product's own :class:`~alwidget.Session` (``store=":memory:"``), built on
    the pool only, so held-out items can never be queried.

    Parameters
    ----------
    X : ndarray or DataFrame of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
        True labels (names or codes).
    strategies : sequence of str or Strategy
        Registry names (:func:`alwidget.strategies.available_strategies`) or strategies.
    budget : int, default=200
        Labels per run; the last batch is truncated to hit it exactly.
    batch_size : int, default=10
    n_repeats : int, default=3
    random_state : int, Generator or None, default=0
        Seeds every repeat: each gets its own child of ``np.random.SeedSequence`` (spawned),
        used for its split and for every strategy's session (paired runs).
    estimator : classifier, optional
        Default: the Session's (logistic regression).
    test_size : float or int, default=0.25
        Held-out share (or count) when ``X_eval`` is not given.
    X_eval, y_eval : optional
        A fixed held-out set; then all of ``X`` is the pool and only the seed varies per repeat.
    classes : sequence, optional
        Class names; default the sorted unique values of ``y`` (and ``y_eval``).
    diagnostics : bool, default=False
        Also record coverage, outlier fixation, batch redundancy, class balance, forgetting
        events and label dispersion per round (costs a kNN pass per run).
    progress : bool or None
        tqdm progress bar; None = show it when the run has more than 50 rounds.
    blas_threads : int or None, default=1
        Limit BLAS/OpenMP threads during the run (``threadpoolctl``). On small models,
        multi-threaded BLAS is often 10x *slower* than one thread (a logistic regression on
        100 digits: 0.4 s with 2 threads on a busy 2-core machine, 0.02 s with one), and
        timings would measure thread contention. ``None`` leaves the limits alone.
    **session_kwargs
        Passed to :class:`~alwidget.Session` (e.g. ``cold_start="diverse"``).

    Returns
    -------
    DataFrame
        One row per (strategy, repeat, round): ``strategy``, ``repeat``, ``round``,
        ``n_labels``, ``accuracy``, ``macro_f1``, ``recall[<class>]``, diagnostics columns if
        asked, and timings in seconds ``time_select``, ``time_fit``, ``time_predict``,
        ``time_round`` (the whole oracle round: submit, retrain, select). Metrics are NaN
        while no model can be fitted (one class labeled).

    Raises
    ------
    ValueError
        On an unknown strategy name (before anything runs), a budget below 1, or mismatched
        lengths.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> import alwidget
    >>> X, y = load_digits(return_X_y=True)
    >>> df = alwidget.simulate(X, y, strategies=["random", "margin"], budget=60,
    ...                        n_repeats=2, progress=False)
    >>> sorted(df["strategy"].unique())
    ['margin', 'random']
    >>> int(df["n_labels"].max())
    60
    """
    y = np.asarray(y)
    n = y.shape[0]
    if len(X) != n:
        raise ValueError(f"X has {len(X)} rows but y has {n}")
    if int(budget) < 1:
        raise ValueError(f"budget must be at least 1; got {budget}")
    strats = [get_strategy(s) for s in strategies]  # fails early on unknown names
    names = [s.name for s in strats]
    if len(set(names)) != len(names):
        raise ValueError(f"strategies must have distinct names; got {names}")
    if classes is None:
        allv = y if y_eval is None else np.concatenate([y, np.asarray(y_eval)])
        classes = [str(c) for c in np.unique(allv)]
        lut = {str(c): i for i, c in enumerate(classes)}
        codes = np.array([lut[str(v)] for v in y], dtype=np.int64)
        codes_eval = None if y_eval is None else np.array([lut[str(v)] for v in y_eval])
    else:
        classes = [str(c) for c in classes]
        codes = _codes(y, classes)
        codes_eval = None if y_eval is None else _codes(y_eval, classes)
    k = len(classes)
    n_rounds_est = int(np.ceil(budget / batch_size)) * len(strats) * int(n_repeats)
    show = (n_rounds_est > 50) if progress is None else bool(progress)
    bar = _tqdm(total=n_rounds_est, disable=not show, desc="simulate", unit="round")
    frames = []
    limiter = threadpool_limits(limits=blas_threads) if blas_threads else None
    if isinstance(random_state, np.random.Generator):
        random_state = int(random_state.integers(2**63 - 1))
    children = np.random.SeedSequence(random_state).spawn(int(n_repeats))
    try:
        for rep in range(int(n_repeats)):
            seed = int(children[rep].generate_state(1)[0])
            if X_eval is None:
                tr, ev = holdout_split(codes, test_size=test_size, random_state=seed)
                Xp, yp = _rows(X, tr), codes[tr]
                es = EvalSet(_rows(X, ev), codes[ev], k)
            else:
                assert codes_eval is not None  # y_eval is given with X_eval
                Xp, yp, es = X, codes, EvalSet(X_eval, codes_eval, k)
            for strat, name in zip(strats, names, strict=True):
                bar.set_postfix_str(f"{name} #{rep}")
                s = Session(
                    Xp,
                    classes=classes,
                    estimator=estimator,
                    strategy=strat,
                    batch_size=batch_size,
                    random_state=seed,
                    store=":memory:",
                    **session_kwargs,
                )
                hist = RoundHistory(
                    s,
                    y_true=yp,
                    eval_set=es,
                    stopping=None,
                    diagnostics=diagnostics,
                    keep_snapshots=False,
                )
                round_times = []
                while s.n_labeled < budget:
                    batch = s.query()
                    if batch.size == 0:
                        break
                    batch = batch[: budget - s.n_labeled]
                    t0 = time.perf_counter()
                    s.submit({int(i): int(yp[i]) for i in batch})
                    round_times.append(time.perf_counter() - t0)
                    bar.update(1)
                df = hist.to_frame()
                df.insert(0, "repeat", rep)
                df["strategy"] = name
                df["time_round"] = round_times
                df = df.drop(columns=["time_diagnostics"], errors="ignore")
                if not diagnostics:
                    df = df.drop(columns=["forgetting_events", "mean_dispersion"], errors="ignore")
                frames.append(df)
    finally:
        bar.close()
        if limiter is not None:
            limiter.restore_original_limits()
    out = pd.concat(frames, ignore_index=True)
    first = ["strategy", "repeat", "round", "n_labels", "accuracy", "macro_f1"]
    return out[first + [c for c in out.columns if c not in first]]


def labels_to_target(df: pd.DataFrame, target: float, metric: str = "accuracy") -> pd.DataFrame:
    """How many labels each strategy needed to reach ``metric >= target``.

    Parameters
    ----------
    df : DataFrame
        Output of :func:`simulate`.
    target : float
        E.g. 0.9 for 90 % accuracy.
    metric : str, default="accuracy"

    Returns
    -------
    DataFrame
        Indexed by strategy, best (lowest median) first: ``median``, ``mean``, ``min``,
        ``max`` labels over the repeats that reached the target, ``reached`` ("k/n repeats"),
        and ``final`` (mean metric at the last round). A run that never reaches the target
        does not count in the statistics but shows in ``reached``; be wary of medians over
        few repeats.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> import alwidget
    >>> X, y = load_digits(return_X_y=True)
    >>> df = alwidget.simulate(X, y, strategies=["random", "margin"], budget=60,
    ...                        n_repeats=2, progress=False)
    >>> t = alwidget.labels_to_target(df, 0.8)
    >>> sorted(t.index), t["reached"].tolist()
    (['margin', 'random'], ['2/2', '2/2'])
    """
    rows = []
    for name, g in df.groupby("strategy", sort=False):
        per = []
        for _, r in g.groupby("repeat"):
            r = r.sort_values("n_labels")
            hit = r.loc[r[metric] >= target, "n_labels"]
            per.append(float(hit.iloc[0]) if len(hit) else np.nan)
        per_a = np.array(per)
        ok = per_a[np.isfinite(per_a)]
        last = g.sort_values("n_labels").groupby("repeat")[metric].last().mean()
        rows.append(
            {
                "strategy": name,
                "median": float(np.median(ok)) if ok.size else np.nan,
                "mean": float(ok.mean()) if ok.size else np.nan,
                "min": float(ok.min()) if ok.size else np.nan,
                "max": float(ok.max()) if ok.size else np.nan,
                "reached": f"{ok.size}/{per_a.size}",
                f"final {metric}": float(last),
            }
        )
    out = pd.DataFrame(rows).set_index("strategy")
    out.columns.name = f"labels to {metric} >= {target}"
    return out.sort_values("median", na_position="last")


def paired_difference(
    df: pd.DataFrame,
    metric: str = "accuracy",
    baseline: str = "random",
    labels: tuple[int, int] | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Each strategy against ``baseline`` on the same repeats: the paired difference in the
    mean of ``metric`` over a range of label counts (the area under the learning curve
    divided by its width), with a Student-t confidence interval.

    :func:`simulate` gives every strategy the same split and seed in a repeat, so the
    difference is taken per repeat and then averaged: its interval is much narrower than
    the two curves' spreads suggest.

    Parameters
    ----------
    df : DataFrame
        Output of :func:`simulate` (columns ``strategy``, ``repeat``, ``n_labels`` and
        ``metric``; a ``seed`` column, if present, also pairs the runs).
    metric : str, default="accuracy"
    baseline : str, default="random"
        The strategy every other one is compared with.
    labels : (int, int), optional
        Label counts to average over, inclusive (default: every round).
    confidence : float, default=0.95

    Returns
    -------
    DataFrame
        Indexed by strategy (the baseline first): ``mean`` (the metric averaged over the
        rounds in ``labels``, then over repeats), ``diff`` (mean paired difference to the
        baseline, in metric units), ``low`` and ``high`` (its confidence interval; NaN with
        fewer than two pairs) and ``pairs``.

    Raises
    ------
    ValueError
        If ``baseline`` is not a strategy of ``df`` or ``labels`` leaves no round.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> df = pd.DataFrame({"strategy": ["random"] * 4 + ["margin"] * 4,
    ...                    "repeat": [0, 0, 1, 1] * 2, "n_labels": [10, 20] * 4,
    ...                    "accuracy": [0.6, 0.7, 0.5, 0.8, 0.7, 0.8, 0.6, 0.9]})
    >>> t = paired_difference(df)
    >>> t.index.tolist(), t["diff"].round(3).tolist(), t["pairs"].tolist()
    (['random', 'margin'], [0.0, 0.1], [2, 2])
    """
    from scipy import stats

    if baseline not in set(df["strategy"]):
        raise ValueError(f"no strategy {baseline!r} in the table; have {sorted(set(df.strategy))}")
    d = df if labels is None else df[df["n_labels"].between(*labels)]
    if d.empty:
        raise ValueError(
            "no round to compare"
            + ("" if labels is None else f" with {labels[0]} to {labels[1]} labels")
        )
    keys = ["repeat"] + (["seed"] if "seed" in d.columns else [])
    per = d.groupby(["strategy", *keys])[metric].mean().unstack("strategy")
    order = [baseline] + [c for c in dict.fromkeys(d["strategy"]) if c != baseline]
    rows = []
    for name in order:
        diff = (per[name] - per[baseline]).dropna().to_numpy()
        n = diff.size
        half = (
            stats.t.ppf(0.5 + confidence / 2, n - 1) * diff.std(ddof=1) / np.sqrt(n)
            if n > 1
            else np.nan
        )
        m = float(diff.mean()) if n else np.nan
        rows.append(
            {
                "strategy": name,
                "mean": float(np.nanmean(per[name].to_numpy(dtype=float))),
                "diff": m,
                "low": m - half,
                "high": m + half,
                "pairs": n,
            }
        )
    out = pd.DataFrame(rows).set_index("strategy")
    span = "all rounds" if labels is None else f"{labels[0]}-{labels[1]} labels"
    out.columns.name = f"{metric} over {span} vs {baseline} (paired, {confidence:.0%} CI)"
    return out


def _codes(y: np.ndarray, classes: list[str]) -> np.ndarray:
    lut = {c: i for i, c in enumerate(classes)}
    out = []
    for v in np.asarray(y):
        key = str(v)
        if key in lut:
            out.append(lut[key])
        elif isinstance(v, (int, np.integer)) and 0 <= int(v) < len(classes):
            out.append(int(v))
        else:
            raise ValueError(f"label {v!r} is not one of the classes {classes}")
    return np.asarray(out, dtype=np.int64)


def _tqdm(**kw: Any) -> Any:
    from tqdm.auto import tqdm

    return tqdm(**kw)
