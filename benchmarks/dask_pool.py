"""Query time on a pool held as a Dask array on a LocalCluster, and an 8-worker cost model.

Pools (float32, standard normal, rows in chunks):

- ``2M x 64`` generated and persisted on the workers (it fits: 0.5 GB);
- ``10M x 384`` generated lazily, chunk by chunk, at every pass (15 GB: it does not fit in this
  machine's memory, and is never materialised).

For each pool, a logistic regression is fitted on 200 labeled rows (fetched with
``DaskPool.take``) and timed, as the median of ``--repeats``:

- ``margin_s``: one margin query of 10 (``predict_proba`` + score per chunk, per-chunk top 10,
  global top 10 on the client);
- ``coreset_pass_s``: one k-center greedy pick (a pass over every chunk + one round trip),
  and ``coreset_10_s`` = initial distance pass + 10 picks, measured on the 2M pool and
  extrapolated from passes on the 10M pool (said so in the table);
- ``chunk_s``: one chunk's work on one worker (from the margin pass: wall time x workers /
  chunks), the input of the cost model;
- ``client_peak_mb``: the client process's peak resident memory (the workers are other
  processes).

Cost model for W workers: ``passes x ceil(chunks / W) x chunk_s + passes x round_trip_s``.
It assumes chunks spread evenly and no network limit: an estimate, not a measurement.

Usage::

    python benchmarks/dask_pool.py            # 2M x 64 and 10M x 384 (slow: minutes)
    python benchmarks/dask_pool.py --quick    # 200k x 16 only (CI)
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import statistics
import time
from collections.abc import Callable

import numpy as np
from sklearn.linear_model import LogisticRegression

from alwidget.dask_pool import DaskPool


def _median_s(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_pool(
    client, n: int, d: int, chunk_rows: int, persist: bool, repeats: int, full_coreset: bool
) -> dict:
    import dask.array as da

    X = da.random.default_rng(0).standard_normal((n, d), dtype=np.float32, chunks=(chunk_rows, d))
    if persist:
        X = client.persist(X)
        from distributed import wait

        wait(X)
    pool = DaskPool(X, client=client)
    rng = np.random.default_rng(1)
    lab = np.sort(rng.choice(n, 200, replace=False))
    Xl = pool.take(lab)
    y = (Xl[:, 0] + 0.5 * Xl[:, 1] > 0).astype(int) + (Xl[:, 2] > 1).astype(int)
    model = LogisticRegression(max_iter=1000).fit(Xl, y)
    n_workers = len(client.scheduler_info()["workers"])
    n_chunks = len(X.chunks[0])
    margin_s = _median_s(
        lambda: pool.uncertainty_top_k(model, 3, "margin", 10, exclude=lab), repeats
    )
    pool.k_center_greedy(1, lab)  # warm-up
    one_pick = _median_s(lambda: pool.k_center_greedy(1, lab), 1 if n > 5e6 else repeats)
    three = _median_s(lambda: pool.k_center_greedy(3, lab), 1 if n > 5e6 else repeats)
    pass_s = max((three - one_pick) / 2, 1e-3)  # one more pick = one more pass over the chunks
    if full_coreset:
        coreset_10 = _median_s(lambda: pool.k_center_greedy(10, lab), repeats)
        how = "measured"
    else:
        coreset_10 = one_pick + 9 * pass_s
        how = "extrapolated from 1 and 3 picks"
    t0 = time.perf_counter()
    pool.take([0])
    round_trip = time.perf_counter() - t0
    chunk_s = margin_s * n_workers / n_chunks
    return {
        "pool": f"{n / 1e6:g}M x {d}",
        "chunks": n_chunks,
        "workers": n_workers,
        "margin_s": margin_s,
        "coreset_pass_s": pass_s,
        "coreset_10_s": coreset_10,
        "coreset_how": how,
        "chunk_s": chunk_s,
        "round_trip_s": round_trip,
        "client_peak_mb": _peak_mb(),
        "model8_margin_s": math.ceil(n_chunks / 8) * chunk_s + round_trip,
        "model8_coreset_10_s": 11
        * (math.ceil(n_chunks / 8) * (pass_s * n_workers / n_chunks) + round_trip),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="200k x 16 only (CI)")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            memory_limit="6GiB",
        ) as cluster,
        Client(cluster) as client,
    ):
        pools = (
            [(200_000, 16, 50_000, True, True)]
            if args.quick
            else [
                (2_000_000, 64, 250_000, True, True),
                (10_000_000, 384, 100_000, False, False),
            ]
        )
        print(
            f"# dask_pool: LocalCluster 2 workers x 1 thread, {os.cpu_count()} cores, "
            f"load {os.getloadavg()[0]:.1f}; medians of {args.repeats}; model8 = cost model for 8 "
            "workers from the measured chunk times (an estimate, not a measurement)"
        )
        cols = [
            "pool",
            "chunks",
            "workers",
            "margin_s",
            "coreset_pass_s",
            "coreset_10_s",
            "coreset_how",
            "chunk_s",
            "round_trip_s",
            "client_peak_mb",
            "model8_margin_s",
            "model8_coreset_10_s",
        ]
        print(" | ".join(cols))
        for n, d, rows, persist, full in pools:
            r = run_pool(client, n, d, rows, persist, args.repeats, full)
            print(" | ".join(f"{r[c]:.3f}" if isinstance(r[c], float) else str(r[c]) for c in cols))
            if persist:
                client.cancel(list(client.futures))


if __name__ == "__main__":
    main()
