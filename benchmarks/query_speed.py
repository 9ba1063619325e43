"""Median time per query: alwidget's strategies beside scikit-activeml's and modAL's, like for like.

Pool: n items x 50 features, 5 classes, a LogisticRegression fitted on 100 labeled items,
batch 10. Peers run in the same process on the same fitted model, calls interleaved; the ratio
is peer / ours (> 1: ours is faster). Two tables:

1. **Full query** (what a user waits for): ours includes ``predict_proba`` of the pool for every
   strategy that needs a model, as the peers predict inside their query. Committee strategies:
   the peers refit their committee inside the query (fit_ensemble=True), ours fits its committee
   inside the query too (bootstrap members), so both include fitting.
2. **Scoring only** (least confidence, margin, entropy): both sides get the same probabilities;
   ours = the score function, scikit-activeml = ``skactiveml.pool.uncertainty_scores``
   (modAL has no public function that scores given probabilities).

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


def measure(fn, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return statistics.median(times), peak / 2**20


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

        com = Committee(
            [
                ActiveLearner(
                    LogisticRegression(max_iter=300), X_training=X[lab], y_training=labels[lab]
                )
                for _ in members
            ]
        )
        out.setdefault("vote_entropy", []).append(
            ("modAL", lambda: vote_entropy_sampling(com, X[unl], n_instances=k))
        )
        out.setdefault("kl_divergence", []).append(
            ("modAL", lambda: max_disagreement_sampling(com, X[unl], n_instances=k))
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
            P = model.predict_proba(X) if strat.needs_model else None
            c = ctx()
            c.proba = P
            return strat.query(c, k)

        t, mem = measure(full, repeat if name != "eer" else 1)
        row = {"n": n, "strategy": name, "ours_s": t, "ours_mb": mem, "peers": []}
        for pname, fn in peer.get(name, []):
            pt, pmem = measure(fn, max(1, repeat // 2))
            row["peers"].append((pname, pt, pmem))
        rows.append(row)
        print_row(row, flush=True)
    return rows


def run_scoring(n, repeat):
    """Scoring only: the same probabilities to both sides."""
    from alwidget.strategies import uncertainty as u

    P = np.random.default_rng(0).dirichlet(np.ones(5), n)
    try:
        from skactiveml.pool import uncertainty_scores
    except ImportError:
        uncertainty_scores = None
    rows = []
    for name, method in [
        ("least_confidence", "least_confident"),
        ("margin", "margin_sampling"),
        ("entropy", "entropy"),
    ]:
        fn = getattr(u, name)
        t, mem = measure(lambda fn=fn: fn(P), repeat)
        row = {"n": n, "strategy": name, "ours_s": t, "ours_mb": mem, "peers": []}
        if uncertainty_scores is not None:
            pt, pmem = measure(lambda m=method: uncertainty_scores(P, method=m), repeat)
            row["peers"].append(("scikit-activeml", pt, pmem))
        rows.append(row)
        print_row(row, flush=True)
    return rows


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
    for n in sizes:
        run(n, repeat, a.strategies, with_peers=True, quick=a.quick)
    print("\n## scoring only (the same probabilities to both sides)\n")
    print(header)
    print("|---:|---|---:|---:|---|")
    for n in sizes:
        run_scoring(n, max(repeat, 3))
    return 0


if __name__ == "__main__":
    sys.exit(main())
