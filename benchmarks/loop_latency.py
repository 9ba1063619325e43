"""Submit-to-next-batch latency of alwidget's loop, per stage, at 2k / 20k / 200k items.

Each round: labels stored (SQLite, fsync), model refit, pool rescored, batch selected, and the
map's colour array and overlays computed and handed to the FigureWidget (what is sent to the
browser). LogisticRegression, 50 features, 5 classes, batch 10, an oracle answering.

With superintendent installed (it needs ``sqlmodel<=0.0.44``), its acquisition path (retrain
+ re-rank by entropy through its ``ClassLabeller``) is timed on the same data for a ratio.

Usage::

    python benchmarks/loop_latency.py            # 2k, 20k, 200k; 30 submits each
    python benchmarks/loop_latency.py --quick    # 2k and 20k, 8 submits (CI)
    python benchmarks/loop_latency.py --million  # only: a 1M x 50 float32 session (entropy)
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time

import numpy as np

os.environ.setdefault("ALWIDGET_PROJECTION", "pca")


def make_pool(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import make_classification

    X, y = make_classification(
        n_samples=n,
        n_features=50,
        n_informative=20,
        n_classes=5,
        n_clusters_per_class=2,
        random_state=seed,
    )
    return X, y


def time_alwidget(n: int, submits: int, strategy: str = "entropy") -> dict[str, list[float]]:
    from alwidget import Session
    from alwidget.projection import pca_2d
    from alwidget.widget.map import MapView

    X, y = make_pool(n)
    classes = [f"c{i}" for i in range(5)]
    with tempfile.TemporaryDirectory() as tmp:
        s = Session(
            X,
            classes=classes,
            strategy=strategy,
            batch_size=10,
            random_state=0,
            store=os.path.join(tmp, "bench.sqlite"),
        )
        m = MapView(pca_2d(X), classes)
        # warm up past the cold start with 3 rounds
        for _ in range(3):
            s.submit({int(i): int(y[i]) for i in s.query()})
        stages: dict[str, list[float]] = {
            k: [] for k in ["store", "fit", "predict", "select", "plot", "total"]
        }
        for _ in range(submits):
            labels = {int(i): int(y[i]) for i in s.query()}
            t0 = time.perf_counter()
            s.submit(labels)
            t1 = time.perf_counter()
            m.update(
                s.uncertainty, s.y, s.batch.indices, s.strategy.measure, last=np.array(list(labels))
            )
            t2 = time.perf_counter()
            for k in ("store", "fit", "predict", "select"):
                stages[k].append(s.timings.get(k, 0.0))
            stages["plot"].append(t2 - t1)
            stages["total"].append(t2 - t0)
        return stages


def rss_mb() -> float:
    """Resident memory of this process now (MB), from /proc (Linux)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def time_million(n: int = 1_000_000, submits: int = 10) -> dict[str, float]:
    """A float32 pool of ``n`` x 50, entropy, batch 10: median / p95 submit (store, fit,
    predict, select) and the session's peak memory above the pool itself (MB)."""
    import threading

    from alwidget import Session

    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, 50), dtype=np.float32)  # made in float32: no float64 copy
    W = rng.standard_normal((50, 5)).astype(np.float32)
    y = np.argmax(X @ W, axis=1)
    base = rss_mb()
    peak = [base]
    stop = threading.Event()

    def watch() -> None:  # the peak of resident memory while the session works
        while not stop.wait(0.005):
            peak[0] = max(peak[0], rss_mb())

    t = threading.Thread(target=watch, daemon=True)
    t.start()
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        s = Session(
            X,
            classes=[f"c{i}" for i in range(5)],
            strategy="entropy",
            batch_size=10,
            random_state=0,
            store=os.path.join(tmp, "bench.sqlite"),
        )
        same = s.X is X or np.shares_memory(s.X, X)
        for r in range(3 + submits):
            labels = {int(i): int(y[i]) for i in s.query()}
            t0 = time.perf_counter()
            s.submit(labels)
            if r >= 3:  # past the cold start
                times.append(time.perf_counter() - t0)
        s.close()
    stop.set()
    t.join()
    return {
        "median_ms": 1000 * float(np.median(times)),
        "p95_ms": 1000 * float(np.percentile(times, 95)),
        "pool_mb": X.nbytes / 2**20,
        "peak_above_pool_mb": peak[0] - base,
        "peak_total_mb": peak[0],
        "pool_shared": float(same),
    }


def time_superintendent(n: int, submits: int) -> list[float] | None:
    """Median retrain + re-rank through superintendent 0.6 (fit, 3-fold CV score, predict on
    the unlabeled pool, entropy re-ordering written to its SQLite queue)."""
    try:
        import ipywidgets as W
        from sklearn.linear_model import LogisticRegression
        from superintendent import Superintendent
    except Exception:
        return None

    class Input(W.VBox):  # the smallest labelling widget superintendent accepts
        def on_submit(self, cb):
            self._cb = cb

        def display(self, x):
            pass

    X, y = make_pool(n)
    with tempfile.TemporaryDirectory() as tmp:
        widget = Superintendent(
            features=X,
            labelling_widget=Input(),
            model=LogisticRegression(max_iter=1000),
            acquisition_function="entropy",
            shuffle_prop=0.0,
            database_url=f"sqlite:///{tmp}/sup.db",
        )
        q = widget.queue
        q.undo()  # the widget popped one item for display

        def label(k: int) -> None:  # the next k items of its queue, answered by the oracle
            for _ in range(k):
                id_, x = q.pop()
                j = int(id_) - 1  # ids follow insertion order from 1
                assert np.allclose(x, X[j])
                q.submit(id_, str(y[j]))

        label(30)
        times = []
        for _ in range(submits):
            label(10)
            t0 = time.perf_counter()
            widget.retrain()
            times.append(time.perf_counter() - t0)
        return times


def time_log_growth(events: int, submits: int) -> dict[str, float]:
    """Median ms per submit of storing + replaying 10 answers into a log that already holds
    ``events`` events (fit, predict and select aside: they do not depend on the log), of an
    undo of such a submit (as the widget's Undo button does it), and of importing 1,000
    labels into that log."""
    from alwidget import Session

    n = max(2 * events + 2_000, 4_000)
    X, y = make_pool(n)
    with tempfile.TemporaryDirectory() as tmp:
        s = Session(
            X,
            classes=[f"c{i}" for i in range(5)],
            batch_size=10,
            random_state=0,
            store=os.path.join(tmp, "log.sqlite"),
        )
        s.import_labels({i: int(y[i]) for i in range(events)}, retrain=False)
        free = np.arange(events, n - 1_000)
        store, replay, undo = [], [], []
        for r in range(submits):
            chunk = free[r * 10 : (r + 1) * 10]
            s.submit({int(i): int(y[i]) for i in chunk}, source="map", retrain=False)
            store.append(s.timings["store"])
            replay.append(s.timings["replay"])
            t0 = time.perf_counter()
            back = s.undo(retrain=False)
            names = {int(i): s.classes[c] for i, c in s.batch.prefill.items()}  # the widget's
            undo.append(time.perf_counter() - t0)
            assert back is not None and len(names) == len(chunk)
            s.submit({int(i): int(y[i]) for i in chunk}, source="map", retrain=False)
        t0 = time.perf_counter()
        s.import_labels({int(i): int(y[i]) for i in range(n - 1_000, n)}, retrain=False)
        imp = time.perf_counter() - t0
        s.close()
    return {
        "store": 1000 * float(np.median(store)),
        "replay": 1000 * float(np.median(replay)),
        "undo": 1000 * float(np.median(undo)),
        "import_1000": 1000 * imp,
    }


def time_fit_by_labels(
    X: np.ndarray, y: np.ndarray, labels: int, repeats: int
) -> tuple[float, int]:
    """Median ms of a refit on the first ``labels`` rows of one pool and the BLAS threads the
    session chose (the same data for every count, so a step is the fit's, not the data's)."""
    from alwidget import Session

    s = Session(X, classes=[f"c{i}" for i in range(5)], random_state=0, store=":memory:")
    s.import_labels({i: int(y[i]) for i in range(labels)}, retrain=False)
    times, threads = [], []
    for _ in range(repeats):
        s.label_state.labels_version += 1  # force a refit on the same labels
        s.retrain()
        times.append(s.timings["fit"])
        threads.append(s.timings.get("fit_threads", 0))
    s.close()
    half = max(1, repeats // 2)
    return 1000 * float(np.median(times[-half:])), int(np.median(threads[-half:]))


def fmt(v: list[float]) -> str:
    a = np.asarray(v) * 1000
    return f"{np.median(a):8.1f} {np.percentile(a, 95):8.1f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, few submits (CI)")
    ap.add_argument("--strategies", default="entropy,margin,coreset,badge")
    ap.add_argument("--million", action="store_true", help="only the 1M x 50 float32 session")
    args = ap.parse_args(argv)
    if args.million:
        m = time_million()
        print(f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}")
        print(
            "1M x 50 float32 pool, entropy, batch 10, 10 submits past the cold start: "
            f"submit median {m['median_ms']:.1f} ms, p95 {m['p95_ms']:.1f} ms; "
            f"pool {m['pool_mb']:.0f} MB (used in place: {bool(m['pool_shared'])}); "
            f"peak resident memory {m['peak_total_mb']:.0f} MB, "
            f"{m['peak_above_pool_mb']:.0f} MB above the process with the pool"
        )
        return 0
    sizes = [2_000, 20_000] if args.quick else [2_000, 20_000, 200_000]
    submits = 8 if args.quick else 30
    from alwidget.strategies import available_strategies

    strategies = [s for s in args.strategies.split(",") if s in available_strategies()]
    print(f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}")
    print("median / p95 in ms per submit (store, fit, predict, select+score, plot, total)")
    print(
        f"{'n':>8} {'strategy':>17} "
        + " ".join(f"{k:>17}" for k in ["store", "fit", "predict", "select", "plot", "total"])
    )
    for n in sizes:
        for strat in strategies:
            st = time_alwidget(n, submits, strat)
            print(f"{n:>8} {strat:>17} " + " ".join(f"{fmt(st[k]):>17}" for k in st), flush=True)
        sup = time_superintendent(n, max(3, submits // 4)) if n <= 20_000 else None
        if sup is not None:
            ours = np.median(time_alwidget(n, submits, "entropy")["total"])
            print(
                f"{n:>8} superintendent retrain+rerank median {np.median(sup) * 1000:.1f} ms;"
                f" ratio superintendent / alwidget = {np.median(sup) / ours:.1f}x"
            )
    print(
        "\nlog growth: ms per submit of 10 answers (store+fsync+checkpoint, replay), per undo"
        " of it, and for importing 1,000 labels"
    )
    print(f"{'events':>8} {'store':>8} {'replay':>8} {'undo':>8} {'import':>8}")
    for ev in [1_000, 10_000] if args.quick else [1_000, 10_000, 50_000]:
        g = time_log_growth(ev, 5 if args.quick else 20)
        print(
            f"{ev:>8} {g['store']:8.1f} {g['replay']:8.1f} {g['undo']:8.1f}"
            f" {g['import_1000']:8.1f}",
            flush=True,
        )
    print("\nrefit time by labels (scaled logistic regression, 50 features, 5 classes)")
    print(f"{'labels':>8} {'fit_ms':>8} {'threads':>8}")
    counts = [1_000, 4_999, 5_000] if args.quick else [1_000, 4_999, 5_000, 10_000, 50_000]
    Xf, yf = make_pool(max(counts) + 1_000)
    for lab in counts:
        ms, k = time_fit_by_labels(Xf, yf, lab, 4 if args.quick else 8)
        print(f"{lab:>8} {ms:8.1f} {k:>8}", flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory of this process: {peak:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
