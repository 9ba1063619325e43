"""Crash test: a labeling process is killed with SIGKILL mid-session; a new session on the same
store recovers every submitted label with its provenance, byte for byte in the exported table."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits

import alwidget
from alwidget import Session

ROOT = Path(alwidget.__file__).resolve().parents[1]

CHILD = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    from alwidget import UNSURE, Session

    store, out, mode = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    SLOW = {"on": False}

    class MaybeSlow(LogisticRegression):
        def fit(self, X, y):
            if SLOW["on"]:
                print("FITTING", flush=True)
                time.sleep(600)  # killed in here
            return super().fit(X, y)

    d = load_digits()
    s = Session(d.data, classes=[str(c) for c in range(10)], store=store, random_state=0,
                batch_size=8, annotator="crash-test", strategy="margin",
                estimator=MaybeSlow(max_iter=300))
    r = 0
    while True:
        b = s.query()
        answers = {int(i): int(d.target[i]) for i in b}
        if r % 3 == 2:
            answers[int(b[0])] = UNSURE
        if mode == "infit" and r == 4:
            SLOW["on"] = True
            print("ANSWERS " + json.dumps({str(k): str(v) for k, v in answers.items()}),
                  flush=True)
        s.submit(answers)
        r += 1
        if r == 2:
            s.skip(int(s.query()[0]))
        if r % 4 == 0 and mode != "busy":  # (an update moves its row to the end)
            s.submit({int(b[1]): (int(d.target[b[1]]) + 1) % 10}, source="map")  # an update
        s.export(out / f"after_{r:03d}.csv", include_skipped=True)
        print(f"submitted {r}", flush=True)
        if mode == "pause" and r == 5:
            print("READY", flush=True)
            time.sleep(600)  # killed while idle, mid-session
    """
)


def run_child(tmp_path, mode):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    store, out = tmp_path / "labels.sqlite", tmp_path / "out"
    out.mkdir()
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
    )
    proc = subprocess.Popen(
        [sys.executable, str(script), str(store), str(out), mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    return proc, store, out


def read_until(proc, predicate, timeout=60):
    lines, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise AssertionError(f"child exited early: {proc.stderr.read()[-3000:]}")
        lines.append(line.strip())
        if predicate(lines[-1]):
            return lines
    raise AssertionError(f"child too slow; last lines {lines[-5:]}")


def recover(store, tmp_path):
    d = load_digits()
    s = Session(d.data, classes=[str(c) for c in range(10)], store=store, random_state=1)
    return s, s.export(tmp_path / "recovered.csv", include_skipped=True).read_text()


def kill(proc):
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    assert proc.returncode == -signal.SIGKILL


def last_export(out):
    files = sorted(out.glob("after_*.csv"))
    assert files, "the child exported nothing"
    return files[-1].read_text()


def test_sigkill_while_idle_recovers_everything_byte_for_byte(tmp_path):
    proc, store, out = run_child(tmp_path, "pause")
    try:
        read_until(proc, lambda s: s == "READY")
    finally:
        kill(proc)
    s, text = recover(store, tmp_path)
    expected = (out / "after_005.csv").read_text()
    assert text == expected
    assert s.round == 5 + 1 and s.strategy.name == "margin"  # 5 batches + 1 map update
    lab = s.labels_table(include_unsure=True, include_skipped=True)
    assert (lab["annotator"] == "crash-test").all()
    assert lab["status"].value_counts().to_dict() == {"labeled": 38, "unsure": 1, "skipped": 1}
    assert lab["previous"].notna().sum() == 1
    assert not s.cold and s.labels_trained_on == 38


def test_sigkill_inside_a_retrain_keeps_the_submitted_batch(tmp_path):
    proc, store, out = run_child(tmp_path, "infit")
    try:
        lines = read_until(proc, lambda s: s == "FITTING")
    finally:
        kill(proc)
    answers = json.loads(next(x for x in lines if x.startswith("ANSWERS "))[8:])
    s, text = recover(store, tmp_path)
    before = last_export(out)
    assert before == (out / "after_004.csv").read_text()
    assert text.startswith(before), "rows committed before the crash changed"
    extra = text[len(before) :].splitlines()
    assert len(extra) == len(answers) == 8
    lab = s.labels_table(include_unsure=True).set_index("index")
    for k, v in answers.items():
        row = lab.loc[int(k)]
        if v == "unsure":
            assert row["status"] == "unsure"
        else:
            assert row["label"] == v and row["status"] == "labeled"
        assert row["round"] == 5 and row["strategy"] == "margin" and row["source"] == "batch"
    assert sorted(lab.loc[[int(k) for k in answers], "rank"].tolist()) == list(range(1, 9))


@pytest.mark.parametrize("seed", [0, 1])
def test_sigkill_at_a_random_moment_loses_no_reported_label(tmp_path, seed):
    proc, store, out = run_child(tmp_path, "busy")
    try:
        read_until(proc, lambda s: s == "submitted 3")
        time.sleep(float(np.random.default_rng(seed).uniform(0, 0.4)))  # seeded: reproducible
    finally:
        kill(proc)
    s, text = recover(store, tmp_path)
    before = last_export(out)
    assert text.startswith(before)
    n_before, n_after = len(before.splitlines()), len(text.splitlines())
    assert n_after - n_before in (0, 8), "at most the one batch in flight is extra"
    assert s.round >= 3


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_export_is_identical_after_reopening(tmp_path, suffix):
    d = load_digits()
    path = tmp_path / "l.sqlite"
    s = Session(d.data, classes=[str(c) for c in range(10)], store=path, random_state=0)
    s.submit({int(i): int(d.target[i]) for i in s.query()})
    a = s.export(tmp_path / f"a{suffix}").read_bytes()
    s.store.close()
    r = Session(d.data, classes=[str(c) for c in range(10)], store=path, random_state=5)
    assert r.export(tmp_path / f"b{suffix}").read_bytes() == a
