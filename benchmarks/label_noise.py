"""How well the label-issue review finds the user's own mistakes (confident learning, cleanlab).

For each dataset and seed, every item gets its true label, then 5% of the labels are flipped to
another class at random (annotation noise). :func:`alwidget.label_issues.find_label_issues`
ranks the labeled items (5-fold out-of-fold probabilities of the default estimator, scaled
logistic regression); reviewing the top ``k`` of that ranking finds some of the flips:

- ``recall@k`` = flips among the top k / all flips, ``precision@k`` = flips among the top k / k,
  for k = 0.5, 1, 1.5 and 2 times the number of flips (the review curve);
- ``flagged`` = items cleanlab flags at all, with their precision and recall.

Then the cost of one call at 2,000 labels (make_classification, 20 features, 5 classes),
median of ``--repeats``.

Usage::

    python benchmarks/label_noise.py            # digits, wine, breast_cancer; 10 seeds
    python benchmarks/label_noise.py --quick    # digits and wine, 3 seeds (CI)
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits, load_wine, make_classification

from alwidget.label_issues import find_label_issues
from alwidget.session import default_estimator

DATASETS = {"digits": load_digits, "wine": load_wine, "breast_cancer": load_breast_cancer}
FRACTIONS = (0.5, 1.0, 1.5, 2.0)


def flip_labels(
    y: np.ndarray, rate: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Flip ``rate`` of the labels to another class, uniformly; return (noisy, flipped idx)."""
    n_classes = int(y.max()) + 1
    flipped = rng.choice(y.size, max(1, round(rate * y.size)), replace=False)
    noisy = y.copy()
    noisy[flipped] = (y[flipped] + rng.integers(1, n_classes, flipped.size)) % n_classes
    return noisy, flipped


def review_curve(ranked: np.ndarray, flipped: np.ndarray) -> dict[str, float]:
    """Recall and precision of reviewing the top k of ``ranked``, k relative to the flips."""
    out = {}
    for f in FRACTIONS:
        k = max(1, round(f * flipped.size))
        hits = np.isin(ranked[:k], flipped).sum()
        out[f"recall@{f:g}x"] = hits / flipped.size
        out[f"precision@{f:g}x"] = hits / k
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="two datasets, 3 seeds (CI)")
    ap.add_argument("--seeds", type=int, default=None)
    ap.add_argument("--rate", type=float, default=0.05, help="share of labels flipped")
    ap.add_argument("--repeats", type=int, default=5, help="timed calls at 2,000 labels")
    args = ap.parse_args()
    seeds = args.seeds or (3 if args.quick else 10)
    names = ["digits", "wine"] if args.quick else list(DATASETS)
    print(
        f"# label_noise: {args.rate:.0%} of labels flipped, {seeds} seeds; "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"load {os.getloadavg()[0]:.1f}"
    )
    cols = [f"{m}@{f:g}x" for f in FRACTIONS for m in ("recall", "precision")]
    print("dataset | n | flips | " + " | ".join(cols) + " | flagged | flagged_precision")
    for name in names:
        X, y = DATASETS[name](return_X_y=True)
        rows = []
        for seed in range(seeds):
            rng = np.random.default_rng(seed)
            noisy, flipped = flip_labels(y, args.rate, rng)
            issues = find_label_issues(
                X, noisy, default_estimator(), int(y.max()) + 1, random_state=seed
            )
            ranked = issues["index"].to_numpy()
            r = review_curve(ranked, flipped)
            r["flagged"] = float(ranked.size)
            r["flagged_precision"] = float(np.isin(ranked, flipped).mean()) if ranked.size else 0.0
            rows.append(r)
        mean = {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}
        n_flips = max(1, round(args.rate * y.size))
        print(
            f"{name} | {y.size} | {n_flips} | "
            + " | ".join(f"{mean[c]:.2f}" for c in cols)
            + f" | {mean['flagged']:.0f} | {mean['flagged_precision']:.2f}"
        )
    X, y = make_classification(2000, 20, n_informative=10, n_classes=5, random_state=0)
    noisy, _ = flip_labels(y, args.rate, np.random.default_rng(0))
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        find_label_issues(X, noisy, default_estimator(), 5)
        times.append(time.perf_counter() - t0)
    print(f"cost_at_2000_labels_ms | {1e3 * statistics.median(times):.0f}")


if __name__ == "__main__":
    main()
