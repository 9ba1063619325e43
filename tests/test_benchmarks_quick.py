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
    if script == "loop_latency.py":
        _check_loop_latency_tables(r.stdout)


def _numbers(line):
    import math

    vals = [float(x) for x in line.split()]
    assert all(math.isfinite(v) and v >= 0 for v in vals), line
    return vals


def _check_loop_latency_tables(out):
    """The stage table, the log-growth table and the refit-by-labels table parse."""
    stages, growth_and_fit = out.split("\nlog growth")
    growth, fit = growth_and_fit.split("\nrefit time by labels")
    rows = [ln for ln in stages.splitlines() if ln.strip()[:1].isdigit()]
    assert {ln.split()[1] for ln in rows} >= {"entropy", "margin", "coreset", "badge"}, rows
    for ln in rows:
        n, vals = int(ln.split()[0]), _numbers(" ".join(ln.split()[2:]))
        assert n in (2_000, 20_000) and len(vals) == 12, ln  # median and p95 of six stages
        assert vals[10] >= vals[2] and vals[10] >= vals[6], ln  # total >= fit, select
    events = [_numbers(ln) for ln in growth.splitlines() if ln.strip()[:1].isdigit()]
    assert [int(r[0]) for r in events] == [1_000, 10_000] and all(len(r) == 5 for r in events)
    fits = [_numbers(ln) for ln in fit.splitlines() if ln.strip()[:1].isdigit()]
    assert [int(r[0]) for r in fits] == [1_000, 4_999, 5_000], fits
    assert all(r[1] > 0 and r[2] >= 1 for r in fits), fits
    assert "peak resident memory" in out


def test_store_replay_quick_table_parses():
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    args = [sys.executable, str(ROOT / "benchmarks" / "store_replay.py"), "--quick"]
    r = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    rows = [ln for ln in r.stdout.splitlines() if ln.startswith("| ") and ln[2:3].isdigit()]
    table = [_numbers(ln.replace("|", " ")) for ln in rows]
    assert [int(t[0]) for t in table] == [1_000, 10_000] and all(len(t) == 7 for t in table)


def _check_query_speed_tables(out):
    """Both tables, the density agreement and the targets parse; every figure is sane."""
    import math
    import re

    assert "## full query" in out and "## scoring only" in out and "## targets" in out
    load = re.search(r"load ([0-9.]+)", out)
    assert load and math.isfinite(float(load.group(1)))
    full, rest = out.split("## scoring only")
    scoring, tail = rest.split("## targets")
    for part, expected, peers_expected in (
        (full, {"least_confidence", "margin", "entropy", "vote_entropy", "coreset", "badge"}, 1),
        (scoring, {"least_confidence", "margin", "entropy"}, 1),
    ):
        rows = [ln for ln in part.splitlines() if re.match(r"^\|\s+\d+ \|", ln)]
        names = {ln.split("|")[2].strip() for ln in rows}
        assert expected <= names, names
        for ln in rows:
            ours_ms, ours_mb = float(ln.split("|")[3]), float(ln.split("|")[4])
            assert math.isfinite(ours_ms) and 0 <= ours_ms < 60_000, ln
            assert math.isfinite(ours_mb) and ours_mb >= 0, ln
            ratios = [float(x) for x in re.findall(r"\(([0-9.]+)x,", ln)]
            if ln.split("|")[2].strip() in expected:
                # the shared strategies are compared with at least one installed peer
                assert len(ratios) >= peers_expected, ln
            for ratio in ratios:
                assert math.isfinite(ratio) and 0 < ratio < 10_000, ln
    if "spearman density" in out:
        rhos = [float(x) for x in re.findall(r"spearman [a-z x]+ (-?[0-9.]+)", out)]
        assert len(rhos) == 2 and all(-1 <= r <= 1 for r in rhos), rhos
    targets = re.findall(
        r"^- (full|scoring) (\w+) n=\d+ vs [\w-]+: ([0-9.]+)x \(target ([0-9.]+)x\) (met|NOT MET)$",
        tail,
        flags=re.M,
    )
    assert targets, tail
    for _, _, ratio, target, verdict in targets:
        assert math.isfinite(float(ratio)) and float(ratio) > 0
        assert (verdict == "met") == (float(ratio) >= float(target))


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
