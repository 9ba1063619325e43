"""benchmarks/store_replay.py runs in --quick mode and prints a table of sane figures."""

import math
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_store_replay_benchmark_prints_a_parsable_table():
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    r = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "store_replay.py"), "--quick", "--repeats", "3"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("|") and "---" not in ln]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    rows = [
        dict(zip(header, map(float, ln.strip("|").split("|")), strict=True)) for ln in lines[1:]
    ]
    assert header == [
        "events",
        "append_ms",
        "append_no_ckpt_ms",
        "incremental_ms",
        "n_submits_ms",
        "n_submits_cold_ms",
        "full_replay_ms",
    ]
    assert [int(row["events"]) for row in rows] == [1_000, 10_000]
    for row in rows:
        times = {k: v for k, v in row.items() if k != "events"}
        assert all(math.isfinite(v) and v >= 0 for v in times.values()), row
        # every operation takes some time, and none is absurd (a minute: a hang, not a figure)
        assert all(0 < v < 60_000 for k, v in times.items() if k != "n_submits_ms"), row
