"""Deep strategies: learning curves on digits, wall time per query, agreement with baal.

Needs the ``deep`` extra (torch 2.13.0 CPU). Three parts:

1. Learning curves on digits (:func:`alwidget.simulate`, the product's own loop) with the same
   MC-dropout network for every strategy, paired against random on the same split and seed:
   labels needed to reach 90% / 95% of the accuracy of the network trained on the whole pool,
   mean paired difference vs random with a 95% t-interval over the seeds.
2. Wall time per query (select only, the model already fitted) at 10k and 100k items.
3. ``baal`` (the reference Bayesian AL library), if installed: its BALD on the very same MC
   samples (agreement of scores and top-k picks), and the speed ratio in one run.

Usage: ``python benchmarks/deep_strategies.py [--quick] [--seeds N] [--budget N]``.
Timings depend on the machine's load (shared 2-core machines vary by 2x).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import sys
import time
import warnings

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.datasets import load_digits

from alwidget import simulate
from alwidget.evaluation import holdout_split
from alwidget.models import MCDropoutClassifier
from alwidget.strategies import QueryContext, get_strategy
from alwidget.strategies.deep import mutual_information

STRATS = ["random", "mc_bald", "batchbald", "mc_entropy", "variation_ratios", "mean_std", "vaal"]


def labels_to_target(df: pd.DataFrame, target: float) -> float:
    """Fewest labels at which accuracy reaches ``target`` (NaN if never within the budget)."""
    hit = df.loc[df["accuracy"] >= target, "n_labels"]
    return float(hit.min()) if len(hit) else np.nan


def ci95(d: np.ndarray) -> str:
    d = d[np.isfinite(d)]
    if d.size < 2:
        return "n/a"
    m, h = d.mean(), stats.t.ppf(0.975, d.size - 1) * d.std(ddof=1) / np.sqrt(d.size)
    return f"{m:+6.1f} [{m - h:+6.1f}, {m + h:+6.1f}]"


def curves(args: argparse.Namespace, est: MCDropoutClassifier) -> None:
    X, y = load_digits(return_X_y=True)
    strategies = args.strategies.split(",") if args.strategies else STRATS
    if args.quick:
        strategies = ["random", "mc_bald", "batchbald", "vaal"]
    if args.quick:
        X, y = X[:600], y[:600]
    t0, c0 = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = simulate(
            X,
            y,
            strategies=strategies,
            budget=args.budget,
            batch_size=args.batch,
            n_repeats=args.seeds,
            estimator=est,
            random_state=0,
            progress=False,
            cold_start="random",
        )
    cpu = time.process_time() - c0
    print(
        f"\n## Learning curves: digits ({len(X)} items, 25% held out), MCDropoutClassifier, "
        f"batch {args.batch}, budget {args.budget}, {args.seeds} seeds "
        f"({time.perf_counter() - t0:.0f} s wall, {cpu:.0f} s CPU)"
    )
    full = []
    for rep in range(args.seeds):  # the network on the whole pool, same split as simulate
        tr, ev = holdout_split(y, test_size=0.25, random_state=1000 * rep)
        m = MCDropoutClassifier(**{**est.get_params(), "random_state": rep}).fit(X[tr], y[tr])
        full.append((m.predict(X[ev]) == y[ev]).mean())
    print(f"full-pool accuracy: {np.mean(full):.3f} (mean of {args.seeds} splits)")
    grid = sorted(df["n_labels"].unique())
    marks = [g for g in grid if g in {grid[0], *grid[len(grid) // 4 :: len(grid) // 4]}]
    mean = df.pivot_table(index="strategy", columns="n_labels", values="accuracy")[marks]
    print("\nmean accuracy at n labels")
    print("| strategy | " + " | ".join(str(int(g)) for g in marks) + " |")
    print("|---" * (len(marks) + 1) + "|")
    for s in strategies:
        print(f"| {s} | " + " | ".join(f"{v:.3f}" for v in mean.loc[s]) + " |")
    print(
        "\nlabels to reach a fraction of full-pool accuracy; paired difference vs random "
        "(negative = fewer labels), mean [95% CI] over seeds; 'miss' = runs not reaching it"
    )
    print("| strategy | labels to 90% | vs random | miss | labels to 95% | vs random | miss |")
    print("|---|---|---|---|---|---|---|")
    need = {}
    for s in strategies:
        for frac in (0.9, 0.95):
            need[s, frac] = np.array(
                [
                    labels_to_target(df[(df.strategy == s) & (df.repeat == r)], frac * full[r])
                    for r in range(args.seeds)
                ]
            )
    for s in strategies:
        cells = []
        for frac in (0.9, 0.95):
            a, b = need[s, frac], need["random", frac]
            cells += [
                f"{np.nanmean(a):.0f}" if np.isfinite(a).any() else "-",
                "-" if s == "random" else ci95(a - b),
                str(int(np.isnan(a).sum())),
            ]
        print(f"| {s} | " + " | ".join(cells) + " |")
    per = df.groupby("strategy")[["time_fit", "time_select"]].median()
    print(
        "\nmedian seconds per round: "
        + ", ".join(
            f"{s} fit {per.loc[s, 'time_fit']:.2f} select {per.loc[s, 'time_select']:.2f}"
            for s in strategies
        )
    )
    if args.csv:
        df.to_csv(args.csv, index=False)


def speed(args: argparse.Namespace, est: MCDropoutClassifier) -> None:
    sizes = [2_000] if args.quick else [10_000, 100_000]
    strategies = ["mc_bald", "mc_entropy", "batchbald", "vaal"]
    print(
        "\n## Wall time per query (select only; model fitted on 200 labels; 64 features, "
        f"10 classes, T={est.n_samples}, batch 10); wall (CPU) seconds"
    )
    print("| n | " + " | ".join(strategies) + " |")
    print("|---" * (len(strategies) + 1) + "|")
    rng = np.random.default_rng(0)
    for n in sizes:
        centers = rng.normal(size=(10, 64)) * 3
        y = rng.integers(0, 10, n)
        X = centers[y] + rng.normal(size=(n, 64)) * 2.5
        labels = np.full(n, -1)
        lab = rng.choice(n, 200, replace=False)
        labels[lab] = y[lab]
        model = MCDropoutClassifier(**{**est.get_params(), "random_state": 0}).fit(X[lab], y[lab])
        row = []
        for name in strategies:
            ctx = QueryContext(
                X=X,
                labels=labels,
                candidates=np.flatnonzero(labels < 0),
                proba=None,
                model=model,
                estimator=est,
                n_classes=10,
                rng=np.random.default_rng(0),
            )
            t0, c0 = time.perf_counter(), time.process_time()
            get_strategy(name).query(ctx, 10)
            row.append(f"{time.perf_counter() - t0:.2f} s ({time.process_time() - c0:.2f} s)")
        print(f"| {n:,} | " + " | ".join(row) + " |")


def versus_baal(args: argparse.Namespace, est: MCDropoutClassifier) -> None:
    print("\n## baal (reference Bayesian AL library): BALD on the same MC-dropout samples")
    try:
        from baal.active.heuristics import BALD as BaalBALD
    except ImportError as e:
        print(
            f"baal not installed ({e}); `pip install baal --no-deps structlog torchmetrics "
            "lightning-utilities` adds it without pulling CUDA"
        )
        return
    X, y = load_digits(return_X_y=True)
    model = MCDropoutClassifier(**{**est.get_params(), "random_state": 0}).fit(X[:300], y[:300])
    n = 1_497 if args.quick else 50_000
    Xp = np.tile(X[300:], (int(np.ceil(n / 1497)), 1))[:n]
    S = model.predict_proba_samples(Xp, 20, random_state=0).astype(np.float64)  # (T, n, C)
    P = np.ascontiguousarray(np.transpose(S, (1, 2, 0)))  # baal: (n, C, T)
    ours = mutual_information(S)
    theirs = BaalBALD().get_uncertainties(P)
    k = 100
    top_o, top_t = set(np.argsort(-ours)[:k]), set(np.argsort(-theirs)[:k])
    rt = min(_timeit(lambda: BaalBALD().get_uncertainties(P)) for _ in range(3))
    ro = min(_timeit(lambda: mutual_information(S)) for _ in range(3))
    print(
        f"baal {importlib.metadata.version('baal')}: {n:,} items x 20 samples x 10 classes; "
        f"max |score difference| {np.abs(ours - theirs).max():.2e} nats; "
        f"top-{k} overlap {len(top_o & top_t)}/{k}; time ours {ro * 1000:.0f} ms, "
        f"baal {rt * 1000:.0f} ms (baal/ours = {rt / ro:.2f})"
    )


def _timeit(fn) -> float:  # noqa: ANN001
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, 2 seeds (CI smoke test)")
    ap.add_argument("--seeds", type=int, default=None)
    ap.add_argument("--budget", type=int, default=None)
    ap.add_argument("--batch", type=int, default=10)
    ap.add_argument("--csv", default=None, help="write the learning-curve rows here")
    ap.add_argument("--parts", default="curves,speed,baal")
    ap.add_argument("--strategies", default=None, help="comma-separated; 'random' first")
    args = ap.parse_args(argv)
    args.seeds = args.seeds or (2 if args.quick else 10)
    args.budget = args.budget or (40 if args.quick else 300)
    import torch

    print(
        f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}, torch "
        f"{torch.__version__}, load average {os.getloadavg()[0]:.1f}"
    )
    est = MCDropoutClassifier(random_state=0)
    parts = args.parts.split(",")
    if "baal" in parts:
        versus_baal(args, est)
    if "speed" in parts:
        speed(args, est)
    if "curves" in parts:
        curves(args, est)
    return 0


if __name__ == "__main__":
    sys.exit(main())
