"""Distance kernels before/after (issue 17 cost 4): time and peak memory at 100k x 50.

Times core-set (k-center greedy with the labeled items as centres), the k-center covering
radius, BADGE seeding, euclidean information density and contrastive (CAL) scores, each with
20 / 200 / 2000 labels, for the code at git ``--before`` (default ``dd29a9a^``: the
hand-written kernels before issue 12's scikit-learn ones; extracted to a temporary package
with ``git show``) and for this checkout ("after"), plus scikit-activeml's ``CoreSet``
and the ratio of core-set to it. Peak memory is the ``tracemalloc`` peak of the call (numpy
allocations are traced). The machine may be shared: figures include other processes' load.

Run ``python benchmarks/distance_kernels.py`` (``--quick``: 5,000 x 50, for tests).
Prints one markdown table; columns: kernel, labels, variant, seconds, peak_MB.
"""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MODULES = ["base", "_utils", "uncertainty", "diversity", "density", "gradient", "contrastive"]


def _main_strategies(ref: str):
    """The strategy modules at git ``ref`` as package ``alw_main`` (None if unavailable)."""
    tmp = Path(tempfile.mkdtemp(prefix="alw-main-"))
    pkg = tmp / "alw_main"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    for m in MODULES:
        r = subprocess.run(
            ["git", "show", f"{ref}:alwidget/strategies/{m}.py"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        if r.returncode != 0:
            return None
        (pkg / f"{m}.py").write_text(r.stdout)
    sys.path.insert(0, str(tmp))
    return {m: importlib.import_module(f"alw_main.{m}") for m in MODULES}


def _after():
    return {m: importlib.import_module(f"alwidget.strategies.{m}") for m in MODULES}


def _measure(fn):
    tracemalloc.start()
    t = time.perf_counter()
    fn()
    dt = time.perf_counter() - t
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return dt, peak / 2**20


def _kernels(mods, X, lab, cand, P, batch):
    div, den, gra, con = mods["diversity"], mods["density"], mods["gradient"], mods["contrastive"]
    Xc, XL = X[cand], X[lab]
    return {
        "core-set": lambda: div.k_center_greedy(Xc, batch, XL, 0),
        "k-center radius": lambda: div.covering_radius(X, XL),
        "BADGE": lambda: gra.badge_select(P[cand], Xc, batch, 0),
        "information density": lambda: den.pool_similarity(
            Xc, metric="euclidean", X_ref=X, n_reference=2000, rng=0
        ),
        "contrastive": lambda: con.cal_scores(P[cand], Xc, P[lab], XL),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="5,000 x 50 (for tests)")
    ap.add_argument("--before", default="dd29a9a^", help="git revision timed as 'before'")
    args = ap.parse_args()
    n, d, batch = (5_000, 50, 10) if args.quick else (100_000, 50, 10)
    label_counts = [20, 200] if args.quick else [20, 200, 2000]
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, d)).astype(np.float32)
    P = rng.dirichlet(np.ones(5), n)
    variants = {"after": _after()}
    before = _main_strategies(args.before)
    if before is not None:
        variants = {"before": before, **variants}
    try:
        from skactiveml.pool import CoreSet
    except ImportError:  # optional reference
        CoreSet = None
    print(f"pool {n} x {d} float32, batch {batch}")
    print("| kernel | labels | variant | seconds | peak_MB |")
    print("|---|---|---|---|---|")
    ratios = []
    for n_lab in label_counts:
        lab = rng.choice(n, n_lab, replace=False)
        cand = np.setdiff1d(np.arange(n), lab)
        res = {}
        for vname, mods in variants.items():
            for kname, fn in _kernels(mods, X, lab, cand, P, batch).items():
                res[(kname, vname)] = _measure(fn)
        if CoreSet is not None:
            y = np.full(n, -1.0)
            y[lab] = 0
            cs = CoreSet(missing_label=-1, random_state=0)
            res[("core-set", "scikit-activeml")] = _measure(
                lambda cs=cs, y=y: cs.query(X, y, batch_size=batch)
            )
        for (kname, vname), (sec, mb) in res.items():
            print(f"| {kname} | {n_lab} | {vname} | {sec:.4f} | {mb:.1f} |")
        if CoreSet is not None:
            ours, ref = res[("core-set", "after")], res[("core-set", "scikit-activeml")]
            ratios.append((n_lab, ref[0] / ours[0], ref[1] / ours[1]))
    for n_lab, tr, mr in ratios:
        print(
            f"core-set vs scikit-activeml CoreSet, {n_lab} labels: "
            f"{tr:.2f}x faster, {mr:.2f}x less peak memory"
        )


if __name__ == "__main__":
    main()
