"""Median time per query: alwidget's strategies beside scikit-activeml's, modAL's and small-text's.

Pool: n items x 50 features, 5 classes, a LogisticRegression fitted on 100 labeled items,
batch 10. Peers run in the same process on the same fitted model, calls interleaved; the ratio
is peer / ours (> 1: ours is faster). Two tables:

1. **Full query** (what a user waits for): ours includes the prediction of the pool for every
   strategy that needs a model, as the peers predict inside their query. Ours predicts as the
   session does (``alwidget.training.predict_proba_full``: for a logistic regression the
   class-major fast path of :mod:`alwidget.linear_proba`, same values as ``predict_proba``);
   the peers call the model's ``predict_proba``. For the uncertainty strategies a second row,
   ``[sklearn predict]``, times ours with the model's own ``predict_proba`` too (the figure
   for a model outside the fast path); the targets are checked on the first row. small-text (least confidence, breaking ties
   = margin, prediction entropy) predicts its whole dataset, as its strategies do. Committee strategies:
   scikit-activeml refits its committee inside the query (fit_ensemble=True), modAL's committee
   is built (its ActiveLearners fit on construction) inside the timed call, and ours fits its
   committee inside the query (bootstrap members), so all sides include fitting 5 members.
2. **Scoring only** (least confidence, margin, entropy): both sides get the same probabilities;
   ours = the score function, scikit-activeml = ``skactiveml.pool.uncertainty_scores``, modAL =
   its private ``_proba_*`` helpers (modAL has no public function that scores given
   probabilities).

Then the Spearman rank correlation of our cosine information density with modAL's (they are
different formulas, see :func:`density_agreement`) and one line per strategy and peer with the
ratio against issue 17's targets (full query >= 1.0x, scoring >= 2.0x), "NOT MET" when missed.
Calls are interleaved round by round after one warm-up round.

Peak memory is the tracemalloc peak of one call (numpy allocations are traced). The machine's
load is printed with the tables. Run: ``python benchmarks/query_speed.py [--quick]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alwidget.strategies import EER, QueryContext, get_strategy  # noqa: E402
from alwidget.training import predict_proba_full  # noqa: E402


def peak_mb(fn):
    """tracemalloc peak of one call, MB (numpy allocations are traced)."""
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def measure(fn, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), peak_mb(fn)


def measure_interleaved(fns, repeat, warmup=True):
    """Median seconds and peak MB of each callable, calls interleaved round by round.

    One warm-up round first (imports, caches), then ``repeat`` rounds calling every function
    once in turn, so a load change on the shared machine hits all sides alike.
    """
    if warmup:
        for fn in fns:
            fn()
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            t = time.perf_counter()
            fn()
            times[i].append(time.perf_counter() - t)
    return [(statistics.median(ts), peak_mb(fn)) for ts, fn in zip(times, fns, strict=True)]


def peers(X, labels, clf_sk, members, k):
    """Peer implementations keyed by our strategy name (None when the package is missing)."""
    out = {}
    try:
        import skactiveml.classifier as skc
        import skactiveml.pool as sp

        def us(m):
            return lambda: sp.UncertaintySampling(method=m, missing_label=-1, random_state=0).query(
                X, labels, clf_sk, fit_clf=False, batch_size=k
            )

        out["least_confidence"] = [("scikit-activeml", us("least_confident"))]
        out["margin"] = [("scikit-activeml", us("margin_sampling"))]
        out["entropy"] = [("scikit-activeml", us("entropy"))]
        out["coreset"] = [
            (
                "scikit-activeml",
                lambda: sp.CoreSet(missing_label=-1, random_state=0).query(X, labels, batch_size=k),
            )
        ]
        out["badge"] = [
            (
                "scikit-activeml",
                lambda: sp.Badge(missing_label=-1, random_state=0).query(
                    X, labels, clf_sk, fit_clf=False, batch_size=k
                ),
            )
        ]
        ens = [
            skc.SklearnClassifier(
                LogisticRegression(max_iter=300), classes=np.arange(5), missing_label=-1
            )
            for _ in members
        ]

        def qbc(method):
            return lambda: sp.QueryByCommittee(
                method=method, missing_label=-1, random_state=0
            ).query(X, labels, ens, fit_ensemble=True, batch_size=k)

        out["vote_entropy"] = [("scikit-activeml", qbc("vote_entropy"))]
        out["kl_divergence"] = [("scikit-activeml", qbc("KL_divergence"))]
        disc = skc.SklearnClassifier(
            LogisticRegression(class_weight="balanced", max_iter=500), classes=[0, 1]
        )
        out["dal"] = [
            (
                "scikit-activeml",
                lambda: sp.DiscriminativeAL(missing_label=-1, random_state=0).query(
                    X, labels, disc, batch_size=k
                ),
            )
        ]
    except ImportError:
        pass
    try:
        from modAL.models import ActiveLearner, Committee
        from modAL.uncertainty import entropy_sampling, margin_sampling, uncertainty_sampling

        lab = labels >= 0
        unl = np.flatnonzero(~lab)
        learner = ActiveLearner(
            LogisticRegression(max_iter=500), X_training=X[lab], y_training=labels[lab]
        )
        for name, f in [
            ("least_confidence", uncertainty_sampling),
            ("margin", margin_sampling),
            ("entropy", entropy_sampling),
        ]:
            out.setdefault(name, []).append(
                ("modAL", lambda f=f: f(learner, X[unl], n_instances=k))
            )
        from modAL.disagreement import max_disagreement_sampling, vote_entropy_sampling

        def committee():
            # built inside the timed call: ActiveLearner fits its member on construction, so
            # modAL fits its committee in the query as ours and scikit-activeml's do
            return Committee(
                [
                    ActiveLearner(
                        LogisticRegression(max_iter=300),
                        X_training=X[lab],
                        y_training=labels[lab],
                    )
                    for _ in members
                ]
            )

        out.setdefault("vote_entropy", []).append(
            ("modAL", lambda: vote_entropy_sampling(committee(), X[unl], n_instances=k))
        )
        out.setdefault("kl_divergence", []).append(
            ("modAL", lambda: max_disagreement_sampling(committee(), X[unl], n_instances=k))
        )
    except ImportError:
        pass
    try:
        from small_text import SklearnClassifier, SklearnDataset
        from small_text.query_strategies import BreakingTies, LeastConfidence, PredictionEntropy

        lab = np.flatnonzero(labels >= 0)
        unl = np.flatnonzero(labels < 0)
        classes = np.arange(5)
        clf_st = SklearnClassifier(LogisticRegression(max_iter=1000), 5).fit(
            SklearnDataset(X[lab], labels[lab], target_labels=classes)
        )
        # the pool as small-text holds it (its strategies predict the whole dataset)
        ds = SklearnDataset(X, np.where(labels >= 0, labels, 0), target_labels=classes)
        for name, q in [
            ("least_confidence", LeastConfidence),
            ("margin", BreakingTies),
            ("entropy", PredictionEntropy),
        ]:
            out.setdefault(name, []).append(
                (
                    "small-text",
                    lambda q=q: q().query(clf_st, ds, unl, lab, labels[lab], n=k),
                )
            )
    except ImportError:
        pass
    return out


def run(n, repeat, names, with_peers=True, quick=False):
    X, y = make_classification(n, 50, n_informative=20, n_classes=5, random_state=0)
    rng = np.random.default_rng(0)
    labels = np.full(n, -1)
    lab = rng.choice(n, 100, replace=False)
    labels[lab] = y[lab]
    model = LogisticRegression(max_iter=1000).fit(X[lab], y[lab])
    proba = model.predict_proba(X)
    cand = np.flatnonzero(labels < 0)
    k = 10

    def ctx():
        return QueryContext(
            X,
            labels,
            cand,
            proba,
            model,
            LogisticRegression(max_iter=300),
            5,
            np.random.default_rng(0),
        )

    peer = {}
    if with_peers:
        try:
            import skactiveml.classifier as skc

            clf_sk = skc.SklearnClassifier(
                LogisticRegression(max_iter=1000), classes=np.arange(5), missing_label=-1
            ).fit(X, labels)
        except ImportError:
            clf_sk = None
        peer = peers(X, labels, clf_sk, range(5), k)
    rows = []
    for name in names:
        strat = (
            (EER(n_candidates=5, n_eval=50) if quick else EER())
            if name == "eer"
            else get_strategy(name)
        )

        def full(strat=strat):
            P = predict_proba_full(model, X, 5) if strat.needs_model else None
            c = ctx()
            c.proba = P
            return strat.query(c, k)

        def full_sklearn(strat=strat):  # ours, but predicting with the model's predict_proba
            c = ctx()
            c.proba = model.predict_proba(X)
            return strat.query(c, k)

        others = peer.get(name, [])
        slow = name in SLOW
        ours = [full] + ([full_sklearn] if name in UNCERTAINTY else [])
        res = measure_interleaved(
            ours + [fn for _, fn in others], 1 if slow else repeat, warmup=not slow
        )
        peer_res = res[len(ours) :]
        for j, (t, mem) in enumerate(res[: len(ours)]):
            label = name if j == 0 else f"{name} [sklearn predict]"
            row = {"n": n, "strategy": label, "ours_s": t, "ours_mb": mem, "peers": []}
            for (pname, _), (pt, pmem) in zip(others, peer_res, strict=True):
                row["peers"].append((pname, pt, pmem))
            rows.append(row)
            print_row(row, flush=True)
    return rows


def run_scoring(n, repeat):
    """Scoring only: the same probabilities to both sides.

    scikit-activeml: ``skactiveml.pool.uncertainty_scores`` (public). modAL: its module-level
    ``_proba_uncertainty`` / ``_proba_margin`` / ``_proba_entropy`` (private helpers that its
    public samplers call on ``predict_proba``'s output; there is no public equivalent).
    """
    from alwidget.strategies import uncertainty as u

    P = np.random.default_rng(0).dirichlet(np.ones(5), n)
    sides: dict[str, list] = {"least_confidence": [], "margin": [], "entropy": []}
    try:
        from skactiveml.pool import uncertainty_scores

        for name, method in [
            ("least_confidence", "least_confident"),
            ("margin", "margin_sampling"),
            ("entropy", "entropy"),
        ]:
            sides[name].append(
                ("scikit-activeml", lambda m=method: uncertainty_scores(P, method=m))
            )
    except ImportError:
        pass
    try:
        from modAL import uncertainty as mu

        sides["least_confidence"].append(("modAL", lambda: mu._proba_uncertainty(P)))
        sides["margin"].append(("modAL", lambda: mu._proba_margin(P)))
        sides["entropy"].append(("modAL", lambda: mu._proba_entropy(P)))
    except ImportError:
        pass
    rows = []
    for name, others in sides.items():
        fn = getattr(u, name)
        res = measure_interleaved([lambda fn=fn: fn(P)] + [f for _, f in others], repeat)
        (t, mem), peer_res = res[0], res[1:]
        row = {"n": n, "strategy": name, "ours_s": t, "ours_mb": mem, "peers": []}
        for (pname, _), (pt, pmem) in zip(others, peer_res, strict=True):
            row["peers"].append((pname, pt, pmem))
        rows.append(row)
        print_row(row, flush=True)
    return rows


def density_agreement(n_sample=2000):
    """Spearman rank correlation of our cosine density with modAL's, on one sample.

    Ours (Settles & Craven, 2008): the mean cosine *similarity* of x to the pool,
    ``<x/|x|, mean_u u/|u|>`` (clipped at 0). modAL's ``information_density(X, "cosine")``:
    the mean of ``1 / (1 + cosine distance)``, a different (monotone per pair, not per mean)
    transform. Returns (rho of the densities, rho of the information-density scores with
    entropy as the base measure), or None when modAL or scipy is missing.
    """
    try:
        from modAL.density import information_density as modal_density
        from scipy.stats import spearmanr
    except ImportError:
        return None
    from alwidget.strategies.density import pool_similarity
    from alwidget.strategies.uncertainty import entropy

    X, y = make_classification(n_sample, 50, n_informative=20, n_classes=5, random_state=0)
    ours = pool_similarity(X, metric="cosine")
    theirs = modal_density(X, metric="cosine")
    rng = np.random.default_rng(0)
    lab = rng.choice(n_sample, 100, replace=False)
    H = entropy(LogisticRegression(max_iter=1000).fit(X[lab], y[lab]).predict_proba(X))
    return float(spearmanr(ours, theirs)[0]), float(spearmanr(H * ours, H * theirs)[0])


def print_targets(full_rows, scoring_rows):
    """One line per (strategy, peer): the ratio and whether it meets issue 17's target."""
    print("\n## targets (full query >= 1.0x every peer, scoring >= 2.0x)\n")
    for title, rows, target in (("full", full_rows, 1.0), ("scoring", scoring_rows, 2.0)):
        for r in rows:
            if "[" in r["strategy"]:  # the variant with scikit-learn's predict: for reading
                continue
            for p, t, _ in r["peers"]:
                ratio = round(t / r["ours_s"], 2)  # the verdict agrees with the printed figure
                verdict = "met" if ratio >= target else "NOT MET"
                print(
                    f"- {title} {r['strategy']} n={r['n']} vs {p}: {ratio:.2f}x "
                    f"(target {target:.1f}x) {verdict}"
                )


def print_row(r, flush=False):
    peers_txt = (
        "; ".join(
            f"{p} {t * 1e3:.0f} ms ({t / r['ours_s']:.1f}x, {m:.0f} MB)" for p, t, m in r["peers"]
        )
        or "-"
    )
    print(
        f"| {r['n']:>6} | {r['strategy']:<20} | {r['ours_s'] * 1e3:8.1f} | "
        f"{r['ours_mb']:7.1f} | {peers_txt} |",
        flush=flush,
    )


UNCERTAINTY = {"least_confidence", "margin", "entropy"}

# one call each, no warm-up (seconds per call, and the peers' versions are slower still)
SLOW = {"eer", "cluster_batch"}

ALL = [
    "random",
    "least_confidence",
    "margin",
    "entropy",
    "vote_entropy",
    "kl_divergence",
    "bald",
    "egl",
    "eer",
    "information_density",
    "coreset",
    "badge",
    "cluster_batch",
    "cal",
    "dal",
]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="2k items, 1 repeat (CI smoke run)")
    ap.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--strategies", nargs="*", default=ALL)
    a = ap.parse_args(argv)
    sizes, repeat = ([2000], 1) if a.quick else (a.sizes, a.repeat)
    print(
        f"# query_speed: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; medians of "
        f"{repeat}; ratio = peer / ours (> 1: ours is faster)"
    )
    header = "| n | strategy | ours ms (median) | ours peak MB | peers: ms (peer/ours), peak MB |"
    print("\n## full query (predict + score + select on both sides)\n")
    print(header)
    print("|---:|---|---:|---:|---|")
    full_rows, scoring_rows = [], []
    for n in sizes:
        full_rows += run(n, repeat, a.strategies, with_peers=True, quick=a.quick)
    print("\n## scoring only (the same probabilities to both sides)\n")
    print(header)
    print("|---:|---|---:|---:|---|")
    for n in sizes:
        scoring_rows += run_scoring(n, max(3 * repeat, 3))  # cheap: more rounds, less noise
    rho = density_agreement(500 if a.quick else 2000)
    if rho is not None:
        print(
            "\n## information density: ours (mean cosine similarity) vs modAL "
            "(mean 1 / (1 + cosine distance))\n"
        )
        print(f"spearman density {rho[0]:.3f}; spearman entropy x density {rho[1]:.3f}")
    print_targets(full_rows, scoring_rows)
    print(f"\n# load at the end: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
