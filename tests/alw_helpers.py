"""Small helpers shared by the tests (a module, not a conftest, so it can be imported)."""


def oracle(session, y):
    """Label the whole current batch with the truth: ``{pool index: true code}``."""
    return {int(i): int(y[i]) for i in session.query()}


def run_benchmark(script, *args, timeout=600):
    """Run ``benchmarks/<script>`` with this checkout on the path; return its stdout.

    Fails the test with the end of stderr when the script exits non-zero.
    """
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    r = subprocess.run(
        [sys.executable, str(root / "benchmarks" / script), *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout


def table_rows(stdout):
    """The first ``a | b | c`` table a benchmark printed: a list of {column: text} rows.

    The table ends at the first line that is not a row of as many columns as its header.
    """
    lines = [ln for ln in stdout.splitlines() if not ln.startswith("#")]
    start = next(i for i, ln in enumerate(lines) if " | " in ln)
    header = [c.strip() for c in lines[start].split("|")]
    rows = []
    for ln in lines[start + 1 :]:
        cells = [c.strip() for c in ln.split("|")]
        if " | " not in ln or len(cells) != len(header):
            break
        rows.append(dict(zip(header, cells, strict=True)))
    return rows
