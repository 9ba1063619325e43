"""Stream-based selective sampling vs pool-based margin on digits fed as a stream.

For each seed, digits is split (stratified) into a stream (75%, in a seeded random order) and a
held-out set. :func:`alwidget.stream.simulate_stream` runs variable uncertainty (Žliobaitė et
al., 2014) over the stream at a label budget; the pool-based loop (:func:`alwidget.simulate`,
margin and random, batch 10) runs on the same items and held-out set. Printed per budget,
means over seeds with 95% t-intervals of the paired differences:

- ``stream_labels`` and ``stream_acc``: labels the stream asked and its final held-out accuracy;
- ``margin_acc_same_labels``: the pool-based margin loop's accuracy at the stream's label count
  (linear interpolation of its curve); ``diff`` = margin - stream;
- ``margin_labels_to_stream_acc``: labels the pool-based loop needed to reach the stream's final
  accuracy (its budget if never) and the same for random.

A stream sees each item once and must decide at once; a pool-based loop sees the whole pool
at every round, so it is expected to need fewer labels: the table says how many.

Usage::

    python benchmarks/stream.py            # budgets 0.05, 0.1, 0.2; 10 seeds
    python benchmarks/stream.py --quick    # budget 0.1, 3 seeds (CI)
"""

from __future__ import annotations

import argparse
import os
import warnings

import numpy as np
from scipy import stats
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import alwidget
from alwidget.session import default_estimator
from alwidget.stream import VariableUncertainty, simulate_stream


def _ci(d: np.ndarray) -> str:
    if d.size < 2:
        return f"{d.mean():+.3f}"
    half = stats.t.ppf(0.975, d.size - 1) * d.std(ddof=1) / np.sqrt(d.size)
    return f"{d.mean():+.3f} [{d.mean() - half:+.3f}, {d.mean() + half:+.3f}]"


def _labels_to(curve, target: float, budget: int) -> float:
    reached = curve[curve["accuracy"] >= target]
    return float(reached["n_labels"].min()) if len(reached) else float(budget)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="budget 0.1, 3 seeds (CI)")
    ap.add_argument("--seeds", type=int, default=None)
    args = ap.parse_args()
    seeds = args.seeds or (3 if args.quick else 10)
    budgets = [0.1] if args.quick else [0.05, 0.1, 0.2]
    X, y = load_digits(return_X_y=True)
    print(
        f"# stream vs pool on digits: {seeds} seeds, {os.cpu_count()} cores, "
        f"load {os.getloadavg()[0]:.1f}; means with 95% t-intervals of paired differences"
    )
    print(
        "budget | stream_labels | stream_acc | margin_acc_same_labels | diff | "
        "margin_labels_to_stream_acc | random_labels_to_stream_acc"
    )
    for b in budgets:
        rows = []
        for seed in range(seeds):
            Xs, Xe, ys, ye = train_test_split(X, y, test_size=0.25, random_state=seed, stratify=y)
            order = np.random.default_rng(seed).permutation(ys.size)
            Xs, ys = Xs[order], ys[order]
            r = simulate_stream(
                Xs,
                ys,
                default_estimator(),
                X_eval=Xe,
                y_eval=ye,
                sampler=VariableUncertainty(budget=b, random_state=seed),
            )
            n_lab, acc = int(r.asked.size), float(r.curve["accuracy"].iloc[-1])
            pool_budget = int(1.5 * n_lab) + 10
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", alwidget.AlwidgetWarning)
                df = alwidget.simulate(
                    Xs,
                    ys,
                    strategies=["margin", "random"],
                    budget=pool_budget,
                    n_repeats=1,
                    random_state=seed,
                    X_eval=Xe,
                    y_eval=ye,
                    progress=False,
                )
            m = df[df["strategy"] == "margin"].sort_values("n_labels")
            rnd = df[df["strategy"] == "random"].sort_values("n_labels")
            rows.append(
                (
                    n_lab,
                    acc,
                    float(np.interp(n_lab, m["n_labels"], m["accuracy"])),
                    _labels_to(m, acc, pool_budget),
                    _labels_to(rnd, acc, pool_budget),
                )
            )
        a = np.asarray(rows)
        print(
            f"{b:g} | {a[:, 0].mean():.0f} | {a[:, 1].mean():.3f} | {a[:, 2].mean():.3f} | "
            f"{_ci(a[:, 2] - a[:, 1])} | {a[:, 3].mean():.0f} | {a[:, 4].mean():.0f}"
        )


if __name__ == "__main__":
    main()
