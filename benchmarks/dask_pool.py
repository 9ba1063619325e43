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
It assumes chunks spread evenly and no network limit: an estimate, not a measurement. A second
table measures one chunk's work on a materialised chunk (what a worker does when the pool is
persisted in the cluster's memory, as a team would keep a 10M pool on 8 workers: ~2 GB each)
and gives the same model from it: margin = one pass + one round trip; core-set, 10 picks =
10 passes (the labeled centres, then one update per pick but the last) and 10 round trips;
BADGE, 10 picks = the factors pass + 9 updates and 11 round trips (one per pick: the drawn
row, the update with it and the chunk sums travel in one graph; then the last row).

``--session`` times the loop a user sees instead: ``Session(X, client=...)`` on the pool with
200 imported labels, then ``submit(one batch of 10 answers)`` -> the next batch (a refit on the
labeled rows plus the query on the workers), for margin, core-set and BADGE (median of
``--repeats`` submits on the 2M pool; on the 10M lazy pool margin is measured once and core-set
and BADGE, one pass over the pool per pick, are extrapolated as 10 passes of the measured
margin pass (core-set: the labeled centres, then one update per pick but the last; BADGE: the
factors, then the same), said so in the table), and the client process's peak memory.

Usage::

    python benchmarks/dask_pool.py            # 2M x 64 and 10M x 384 (slow: minutes)
    python benchmarks/dask_pool.py --quick    # 200k x 16 only (CI)
    python benchmarks/dask_pool.py --session  # submit -> next batch through the Session
    python benchmarks/dask_pool.py --costs    # only the per-chunk times and the 8-worker model
    python benchmarks/dask_pool.py --equal    # a 200k Dask pool picks the numpy pool's batches
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import resource
import statistics
import time
from collections.abc import Callable, Iterator
from typing import Any

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
    """Peak resident memory of this process (VmHWM; ru_maxrss would include a parent's peak
    across exec, e.g. pytest's when the benchmark runs from a test)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
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
        "model8_coreset_10_s": 10
        * (math.ceil(n_chunks / 8) * (pass_s * n_workers / n_chunks) + round_trip),
    }


@contextlib.contextmanager
def _local_client() -> Iterator[Any]:
    """A client of a LocalCluster of 2 worker processes x 1 thread (this machine's cores)."""
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
        yield client


def _oracle(rows: np.ndarray) -> np.ndarray:
    return (rows[:, 0] + 0.5 * rows[:, 1] > 0).astype(int) + (rows[:, 2] > 1).astype(int)


def run_session(client, n: int, d: int, chunk_rows: int, persist: bool, repeats: int) -> list:
    """Submit -> next batch through ``Session`` on a Dask pool, per strategy (see the notes)."""
    import dask.array as da

    import alwidget

    X = da.random.default_rng(0).standard_normal((n, d), dtype=np.float32, chunks=(chunk_rows, d))
    if persist:
        X = client.persist(X)
        from distributed import wait

        wait(X)
    lab = np.sort(np.random.default_rng(1).choice(n, 200, replace=False))
    rows_out = []
    margin_pass = float("nan")
    for strategy in ("margin", "coreset", "badge"):
        measured = persist or strategy == "margin"
        if not measured:  # one pass over the lazy pool per pick but the last, plus the first
            rows_out.append(
                {
                    "pool": f"{n / 1e6:g}M x {d}",
                    "strategy": strategy,
                    "submit_to_next_batch_s": 10 * margin_pass,
                    "how": "extrapolated: 10 passes of the margin pass",
                    "query_s": float("nan"),
                    "session_setup_s": float("nan"),
                    "client_peak_mb": _peak_mb(),
                }
            )
            continue
        t0 = time.perf_counter()
        s = alwidget.Session(
            X,
            classes=["a", "b", "c"],
            client=client,
            store=":memory:",
            strategy="random",  # the 200 imported labels are the start, not a query
            random_state=0,
        )
        s.import_labels(
            dict(zip(lab.tolist(), _oracle(s.dask.pool.take(lab)).tolist(), strict=True))
        )
        s.set_strategy(strategy)
        setup_s = time.perf_counter() - t0
        times, query_s = [], []
        for _ in range(repeats if persist else 1):
            b = s.query()
            answers = dict(zip(b.tolist(), _oracle(s.dask.pool.take(b)).tolist(), strict=True))
            t0 = time.perf_counter()
            s.submit(answers)
            times.append(time.perf_counter() - t0)
            query_s.append(s.timings.get("select", float("nan")))
        if strategy == "margin":
            margin_pass = statistics.median(query_s) if query_s else float("nan")
        s.close()
        submit_s, how = statistics.median(times), "measured"
        rows_out.append(
            {
                "pool": f"{n / 1e6:g}M x {d}",
                "strategy": strategy,
                "submit_to_next_batch_s": submit_s,
                "how": how,
                "query_s": statistics.median(query_s) if query_s else float("nan"),
                "session_setup_s": setup_s,
                "client_peak_mb": _peak_mb(),
            }
        )
    if persist:
        client.cancel(X)
    return rows_out


def session_main(args: argparse.Namespace) -> None:
    pools = (
        [(200_000, 16, 50_000, True)]
        if args.quick
        else [(2_000_000, 64, 250_000, True), (10_000_000, 384, 100_000, False)]
    )
    with _local_client() as client:
        print(
            f"# dask_pool --session: Session(X, client=...) on a LocalCluster of 2 workers x 1 "
            f"thread, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f} (a shared machine); "
            f"200 imported labels, batch 10, logistic regression; medians of {args.repeats}"
        )
        cols = [
            "pool",
            "strategy",
            "submit_to_next_batch_s",
            "how",
            "query_s",
            "session_setup_s",
            "client_peak_mb",
        ]
        print(" | ".join(cols))
        for n, d, rows, persist in pools:
            for r in run_session(client, n, d, rows, persist, args.repeats):
                print(
                    " | ".join(
                        f"{r[c]:.3f}" if isinstance(r[c], float) else str(r[c]) for c in cols
                    )
                )


def chunk_costs(n: int, d: int, rows: int, repeats: int) -> dict:
    """One chunk's work on one worker, on a materialised chunk (a pool persisted in the
    cluster's memory), and the cost model for W = 8 workers from it."""
    from alwidget.dask_pool import (
        _block_argmax,
        _block_top_k,
        _proba_block,
        _score_block,
        _update_min,
    )

    rng = np.random.default_rng(0)
    Xc = rng.standard_normal((rows, d), dtype=np.float32)
    lab = rng.standard_normal((200, d), dtype=np.float32)
    y = (lab[:, 0] > 0).astype(int) + (lab[:, 1] > 1).astype(int)
    model = LogisticRegression(max_iter=1000).fit(lab, y)
    excluded = np.arange(0, rows, 1000, dtype=np.int64)

    def margin_chunk() -> None:
        _block_top_k(_score_block(_proba_block(Xc, model, 3), "margin"), excluded, 10)

    dmin = np.full((rows, 1), np.inf)
    c = Xc[0].astype(np.float64)

    def pick_chunk() -> None:
        _block_argmax(_update_min(Xc, dmin, c), excluded)

    from alwidget.dask_badge import _factors_block, _update_block

    F = _factors_block(Xc, model, 3, False)
    bmind = np.full((rows, 1), np.inf)
    bpick = np.r_[0.0, 0.0, F[0, 4], F[0, :3], Xc[0].astype(np.float64)]  # a row as _row gives

    def badge_chunk() -> None:
        u = _update_block(Xc, F, bmind, bpick)
        float(u.sum())

    m = _median_s(margin_chunk, repeats)
    p = _median_s(pick_chunk, repeats)
    b = _median_s(badge_chunk, repeats)
    chunks = math.ceil(n / rows)
    per_worker = math.ceil(chunks / 8)
    rt = 0.05  # a scheduler round trip on a LAN: an assumption, said in the table
    return {
        "pool": f"{n / 1e6:g}M x {d}",
        "chunk_rows": rows,
        "margin_chunk_s": m,
        "coreset_pick_chunk_s": p,
        "model8_margin_s": per_worker * m + rt,
        # one pass to the labeled centres, then one update per pick but the last: 10 passes
        "model8_coreset_10_s": 10 * (per_worker * p + rt),
        "badge_pick_chunk_s": b,
        # the factors (a margin-like pass) and the largest norm; then per later pick one round
        # trip (the drawn row, the update with it, the chunk sums): 9 updates for 10 picks;
        # then the last pick's row
        "model8_badge_10_s": per_worker * m + rt + 9 * (per_worker * b + rt) + rt,
    }


def check_equal(n: int = 200_000, d: int = 16, submits: int = 3) -> None:
    """Print whether a Session on a Dask array picks the same batches as one on the numpy
    array (same data, seed and oracle), per strategy, on Dask's local scheduler."""
    import dask.array as da

    from alwidget import Session

    X = np.random.default_rng(0).standard_normal((n, d), dtype=np.float32)
    for strategy in ("margin", "coreset", "badge"):
        picks = []
        for pool in (X, da.from_array(X, chunks=(n // 8, d))):
            with Session(
                pool,
                classes=["a", "b", "c"],
                strategy=strategy,
                random_state=0,
                store=":memory:",
                cold_start="random",
            ) as s:
                got = []
                for _ in range(submits + 1):
                    b = s.query()
                    got.append(b.tolist())
                    s.submit(dict(zip(b.tolist(), _oracle(X[b]).tolist(), strict=True)))
                picks.append(got)
        print(
            f"{n:,} x {d} float32, {strategy}: batches over {submits + 1} rounds identical to "
            f"the numpy pool: {picks[0] == picks[1]}",
            flush=True,
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="200k x 16 only (CI)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--session", action="store_true", help="submit -> next batch via Session")
    ap.add_argument("--costs", action="store_true", help="only the per-chunk cost model")
    ap.add_argument("--equal", action="store_true", help="batches equal the numpy pool's")
    args = ap.parse_args()
    if args.equal:
        check_equal()
        return
    if args.session:
        session_main(args)
        return
    if not args.costs:
        pool_main(args)
    costs_main(args)


def pool_main(args: argparse.Namespace) -> None:
    with _local_client() as client:
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


def costs_main(args: argparse.Namespace) -> None:
    print()
    print(
        "# per chunk in one worker process, chunk materialised (a pool persisted in cluster "
        "memory); "
        "model8 = that x ceil(chunks / 8) + 0.05 s round trip per pass (assumed): an estimate"
    )
    cols2 = [
        "pool",
        "chunk_rows",
        "margin_chunk_s",
        "coreset_pick_chunk_s",
        "model8_margin_s",
        "model8_coreset_10_s",
        "badge_pick_chunk_s",
        "model8_badge_10_s",
    ]
    print(" | ".join(cols2))
    sizes = (
        [(200_000, 16, 50_000)]
        if args.quick
        else [(2_000_000, 64, 250_000), (10_000_000, 384, 100_000)]
    )
    # measured inside a worker process: its nanny's environment (MALLOC_TRIM_THRESHOLD_ among
    # it) makes every fresh large temporary an mmap with page faults, which this process
    # would not pay (margin per chunk: 16 ms here, 39 ms there, at 250k x 64)
    from distributed import Client, LocalCluster

    with (
        LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=":0") as cluster,
        Client(cluster) as client,
    ):
        for n, d, rows in sizes:
            r = client.submit(chunk_costs, n, d, rows, args.repeats, pure=False).result()
            print(
                " | ".join(f"{r[c]:.3f}" if isinstance(r[c], float) else str(r[c]) for c in cols2)
            )


if __name__ == "__main__":
    main()
