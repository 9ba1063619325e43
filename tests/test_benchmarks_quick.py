"""The benchmark scripts run end to end in their --quick mode (CI smoke test, not timed)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "script",
    [
        "query_speed.py",
        "learning_curves.py",
        "loop_latency.py",
        "browser_update.py",
        "deep_strategies.py",
    ],
)
def test_benchmark_quick_runs(script, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    args = [sys.executable, str(ROOT / "benchmarks" / script), "--quick"]
    if script == "learning_curves.py":
        args += ["--out", str(tmp_path / "curves.png")]
    if script == "deep_strategies.py":
        pytest.importorskip("torch")
    if script == "browser_update.py" and not Path("/usr/bin/chromium").exists():
        if os.environ.get("CI"):
            pytest.fail("CI must install chromium for the browser benchmark")
        pytest.skip("no /usr/bin/chromium")
    r = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    table_marker = {"loop_latency.py": "total", "browser_update.py": "first_map_s"}
    assert table_marker.get(script, "| ") in r.stdout
    if script == "query_speed.py":
        _check_query_speed_tables(r.stdout)


def _check_query_speed_tables(out):
    """Both tables are there; every time and every peer ratio parses and is sane."""
    import re

    assert "## full query" in out and "## scoring only" in out
    full, scoring = out.split("## scoring only")
    for part, expected in (
        (full, {"margin", "entropy", "coreset", "badge"}),
        (scoring, {"margin"}),
    ):
        rows = [ln for ln in part.splitlines() if re.match(r"^\|\s+\d+ \|", ln)]
        names = {ln.split("|")[2].strip() for ln in rows}
        assert expected <= names, names
        for ln in rows:
            ours_ms = float(ln.split("|")[3])
            assert 0 <= ours_ms < 60_000
            for ratio in re.findall(r"\(([0-9.]+)x,", ln):
                assert 0 < float(ratio) < 10_000


def test_distance_kernels_quick_table_parses():
    import math

    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    args = [sys.executable, str(ROOT / "benchmarks" / "distance_kernels.py"), "--quick"]
    r = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    rows = [
        [c.strip() for c in line.strip("|").split("|")]
        for line in r.stdout.splitlines()
        if line.startswith("| ") and not line.startswith("| kernel")
    ]
    kernels = {row[0] for row in rows}
    assert {"core-set", "k-center radius", "BADGE", "information density", "contrastive"} <= kernels
    for row in rows:
        sec, mb = float(row[3]), float(row[4])
        assert math.isfinite(sec) and sec > 0 and math.isfinite(mb) and mb > 0, row
