"""Learning curves of the strategies against random on scikit-learn's small datasets.

For each dataset (digits, breast_cancer, wine) and seed: a stratified 70/30 split, features
standardised on the pool, 20 random starting labels, batches of 10 up to 300 labels (or the
pool size), an oracle answering with the truth, LogisticRegression(max_iter=1000) refitted
after every batch. Prints, per dataset and strategy: area under the accuracy curve (mean
accuracy over the label budget), final accuracy, and labels needed to reach 95% of the
full-data accuracy (mean over the seeds that reach it, and how many do). Writes a PNG.

Run: ``python benchmarks/learning_curves.py [--quick] [--out docs/img/learning_curves.png]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_digits, load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alwidget.strategies import QueryContext, get_strategy  # noqa: E402

DATASETS = {"digits": load_digits, "breast_cancer": load_breast_cancer, "wine": load_wine}
STRATEGIES = [
    "random",
    "least_confidence",
    "margin",
    "entropy",
    "vote_entropy",
    "bald",
    "egl",
    "information_density",
    "coreset",
    "badge",
    "cluster_batch",
    "cal",
    "dal",
]


def curve(X, y, Xt, yt, n_classes, strategy, seed, start, batch, budget):
    rng = np.random.default_rng(seed)
    est = LogisticRegression(max_iter=1000)
    labels = np.full(len(y), -1)
    # random start with at least two classes
    first = rng.choice(len(y), start, replace=False)
    labels[first] = y[first]
    strat = get_strategy(strategy)
    sizes, accs = [], []
    while True:
        lab = labels >= 0
        model = clone(est).fit(X[lab], labels[lab])
        sizes.append(int(lab.sum()))
        accs.append(float(model.score(Xt, yt)))
        cand = np.flatnonzero(~lab)
        if lab.sum() >= budget or cand.size == 0:
            break
        proba = np.zeros((len(y), n_classes))
        proba[:, model.classes_] = model.predict_proba(X)
        ctx = QueryContext(X, labels, cand, proba, model, est, n_classes, rng)
        idx, _ = strat.query(ctx, min(batch, budget - int(lab.sum()), cand.size))
        labels[idx] = y[idx]
    return np.array(sizes), np.array(accs)


def labels_to_reach(sizes, accs, target):
    hit = np.flatnonzero(accs >= target)
    return int(sizes[hit[0]]) if hit.size else None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="digits, 2 seeds, to 60 labels")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--budget", type=int, default=300)
    ap.add_argument("--strategies", nargs="*", default=STRATEGIES)
    ap.add_argument("--datasets", nargs="*", default=list(DATASETS))
    ap.add_argument("--out", default="docs/img/learning_curves.png")
    a = ap.parse_args(argv)
    if a.quick:
        a.seeds, a.budget, a.datasets = 2, 60, ["digits"]
        a.strategies = ["random", "margin", "badge"]
        a.out = str(Path(a.out).with_name("learning_curves_quick.png"))
    results = {}
    t0 = time.perf_counter()
    print(
        "| dataset | strategy | AUC (mean acc) | final acc | labels to 95% of full "
        "(mean, seeds reaching) |"
    )
    print("|---|---|---:|---:|---:|")
    with threadpool_limits(limits=1, user_api="blas"):
        for dname in a.datasets:
            data = DATASETS[dname]()
            n_classes = int(data.target.max()) + 1
            full_accs, runs = [], {}
            for seed in range(a.seeds):
                X, Xt, y, yt = train_test_split(
                    data.data, data.target, test_size=0.3, stratify=data.target, random_state=seed
                )
                sc = StandardScaler().fit(X)
                X, Xt = sc.transform(X), sc.transform(Xt)
                full_accs.append(LogisticRegression(max_iter=1000).fit(X, y).score(Xt, yt))
                for s in a.strategies:
                    runs.setdefault(s, []).append(
                        curve(X, y, Xt, yt, n_classes, s, seed, 20, 10, a.budget)
                    )
            full = float(np.mean(full_accs))
            results[dname] = (full, runs)
            for s in a.strategies:
                accs = np.array([r[1] for r in runs[s]])
                sizes = runs[s][0][0]
                reach = [labels_to_reach(sz, ac, 0.95 * full) for sz, ac in runs[s]]
                got = [r for r in reach if r is not None]
                need = (
                    f"{np.mean(got):.0f} ({len(got)}/{len(reach)})"
                    if got
                    else f"> {sizes[-1]} (0/{len(reach)})"
                )
                print(
                    f"| {dname} (full {full:.3f}) | {s} | {accs.mean():.3f} | "
                    f"{accs[:, -1].mean():.3f} | {need} |",
                    flush=True,
                )
    print(f"\n{time.perf_counter() - t0:.0f} s")
    plot(results, a.out)
    return 0


def plot(results, out):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(6 * len(results), 4.5), squeeze=False)
    for ax, (dname, (full, runs)) in zip(axes[0], results.items(), strict=True):
        for s, rs in runs.items():
            acc = np.mean([r[1] for r in rs], axis=0)
            style = dict(color="black", lw=2.5, ls="--") if s == "random" else dict(lw=1.3)
            ax.plot(rs[0][0], acc, label=s, **style)
        ax.axhline(0.95 * full, color="grey", lw=0.8, ls=":")
        ax.set_title(f"{dname} (95% of full-data accuracy dotted)")
        ax.set_xlabel("labels")
        ax.set_ylabel("test accuracy")
    axes[0][-1].legend(fontsize=7, ncol=2, loc="lower right")
    fig.tight_layout()
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=90)
    print(f"wrote {out}")


if __name__ == "__main__":
    sys.exit(main())
