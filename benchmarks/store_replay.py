"""Label-store costs per submit at 1k / 10k / 50k events: incremental replay vs a full one.

For each log size a store is filled with submits of labels (and an undo every 20 submits),
then, each timed as the median of ``--repeats`` runs:

- ``append_ms``: one submit of 10 labels, committed with fsync, WAL checkpointed into the
  named file and the last-seq sidecar fsynced (what :meth:`LabelStore.append` does);
- ``append_no_ckpt_ms``: the same without the checkpoint and the sidecar (their cost is the
  difference);
- ``incremental_ms``: ``changed_since`` + ``effective_for`` of the 10 items just submitted;
- ``n_submits_ms``: the round count after one more submit (incremental);
- ``n_submits_cold_ms``: the first round count of a new connection (counts the whole log);
- ``full_replay_ms``: ``effective_arrays`` (every item's state; what a session does at open).

Usage::

    python benchmarks/store_replay.py            # 1k, 10k, 50k events, 15 repeats
    python benchmarks/store_replay.py --quick    # 1k and 10k events, 5 repeats (CI)
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable

import numpy as np

from alwidget.store import LabelEvent, LabelStore

POOL = 100_000
CLASSES = [f"c{i}" for i in range(5)]


def _labels(idx: np.ndarray, rng: np.random.Generator) -> list[LabelEvent]:
    return [LabelEvent(idx=int(i), label=int(rng.integers(5))) for i in idx]


def _fill(store: LabelStore, n_events: int, rng: np.random.Generator) -> None:
    """Append submits of 250 labels (and an undo every 20 submits) until ``n_events``."""
    s = 0
    while store.max_seq() < n_events:
        k = min(250, n_events - store.max_seq())
        store.append(_labels(rng.choice(POOL, k, replace=False), rng), "bench", session_id="b")
        s += 1
        if s % 20 == 0 and store.max_seq() < n_events:
            store.undo_last(session_id="b")


def _median_ms(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times)


def measure(n_events: int, repeats: int, tmp: str) -> dict[str, float]:
    rng = np.random.default_rng(0)
    path = os.path.join(tmp, f"replay-{n_events}.sqlite")
    store = LabelStore(path)
    store.bind("0" * 64, POOL, CLASSES)
    _fill(store, n_events, rng)
    store.n_submits()
    out: dict[str, float] = {"events": float(store.max_seq())}

    def submit() -> None:
        store.append(_labels(rng.choice(POOL, 10, replace=False), rng), "bench", session_id="b")

    out["append_ms"] = _median_ms(submit, repeats)
    plain = LabelStore(path)
    plain.bind("0" * 64, POOL, CLASSES)
    plain._after_commit = lambda: None  # type: ignore[method-assign]  # no checkpoint/sidecar
    out["append_no_ckpt_ms"] = _median_ms(
        lambda: plain.append(_labels(rng.choice(POOL, 10, replace=False), rng), "bench"), repeats
    )
    plain.close()

    inc, rounds = [], []
    for _ in range(repeats):
        mark = store.max_seq()
        store.n_submits()
        submit()
        t0 = time.perf_counter()
        _, touched = store.changed_since(mark)
        store.effective_for(touched)
        t1 = time.perf_counter()
        store.n_submits()
        t2 = time.perf_counter()
        assert touched.size == 10
        inc.append(t1 - t0)
        rounds.append(t2 - t1)
    out["incremental_ms"] = 1e3 * statistics.median(inc)
    out["n_submits_ms"] = 1e3 * statistics.median(rounds)

    def cold_count() -> None:
        fresh = LabelStore(path)
        fresh.n_submits()
        fresh.close()

    out["n_submits_cold_ms"] = _median_ms(cold_count, max(3, repeats // 3))
    out["full_replay_ms"] = _median_ms(store.effective_arrays, max(3, repeats // 3))
    store.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1k and 10k events, 5 repeats")
    ap.add_argument("--repeats", type=int, default=None)
    args = ap.parse_args()
    sizes = [1_000, 10_000] if args.quick else [1_000, 10_000, 50_000]
    repeats = args.repeats or (5 if args.quick else 15)
    print(
        f"# store replay: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"SQLite on {tempfile.gettempdir()}, medians of {repeats}"
    )
    cols = [
        "events",
        "append_ms",
        "append_no_ckpt_ms",
        "incremental_ms",
        "n_submits_ms",
        "n_submits_cold_ms",
        "full_replay_ms",
    ]
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            r = measure(n, repeats, tmp)
            print(
                "| "
                + " | ".join(f"{int(r[c]):d}" if c == "events" else f"{r[c]:.2f}" for c in cols)
                + " |",
                flush=True,
            )


if __name__ == "__main__":
    main()
