"""The store keeps labels right, shareable and safe (issue 11 items 1-6, issues 12 and 17).

Copies and backups hold every label; undo is scoped to a session; every failed write is a
StoreError with the answers in ``pending``; damaged content is named by row; a refused store
is not changed; a lost log tail is reported; one definition of "the answer in effect" is
shared by every read path, incremental replay agrees with a full one, and its cost does not
grow with the log.
"""

import json
import random
import shutil
import sqlite3
import warnings

import numpy as np
import pandas as pd
import pytest

from alwidget import LabelStore, Session, StoreCorruptError, StoreMismatchError
from alwidget.store import (
    KIND_CODES,
    SCHEMA_VERSION,
    LabelEvent,
    StoreError,
    StoreWarning,
    StoreWriteError,
    fingerprint,
)

from alw_helpers import oracle

CLASSES = ["a", "b", "c"]


def make(X, store, **kw):
    kw.setdefault("random_state", 0)
    kw.setdefault("batch_size", 10)
    return Session(X, classes=CLASSES, store=store, **kw)


truth = oracle  # label the open batch with the truth


def bound(path, n=100, k=3):
    store = LabelStore(path)
    store.bind("f" * 64, n, [f"c{j}" for j in range(k)])
    return store


def labels(idx, label=0, **kw):
    return [LabelEvent(idx=int(i), label=label, **kw) for i in idx]


# -- 1. copies and backups --------------------------------------------------------------------
def test_a_plain_copy_of_the_store_file_holds_every_label(data, tmp_path):
    X, y = data
    path = tmp_path / "r2.sqlite"
    s = make(X, path)
    for _ in range(3):
        s.submit(truth(s, y))
    copy = tmp_path / "copy.sqlite"
    shutil.copy(path, copy)  # the main file only (no -wal), while the session is open
    ev = LabelStore.read_events(copy)
    assert (ev["kind"] == "label").sum() == 30
    r = make(X, copy)  # a session on the copy has them all
    np.testing.assert_array_equal(r.y, s.y)


def test_backup_is_one_consistent_self_contained_file(data, tmp_path):
    X, y = data
    path = tmp_path / "l.sqlite"
    s = make(X, path)
    for _ in range(3):
        s.submit(truth(s, y))
    s.undo()
    out = s.store.backup(tmp_path / "shared" / "backup.sqlite")
    assert out.exists() and [p.name for p in out.parent.iterdir()] == ["backup.sqlite"]
    con = sqlite3.connect(out)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    con.close()
    ev = LabelStore.read_events(out)
    assert (ev["kind"] == "label").sum() == 30 and (ev["kind"] == "undo").sum() == 1
    emailed = tmp_path / "emailed.sqlite"  # the backup alone, copied again
    shutil.copy(out, emailed)
    r = make(X, emailed)
    np.testing.assert_array_equal(r.y, s.y)
    assert r.n_labeled == 20
    with pytest.raises(ValueError, match="another file"):
        s.store.backup(path)


def test_read_events_on_an_old_schema_copy(tmp_path):
    path = tmp_path / "old.sqlite"
    _schema_1_store(path, fp="x" * 64, n=10)
    ev = LabelStore.read_events(path)
    assert len(ev) == 6 and ev["session_id"].isna().all() and ev["prev_kind"].isna().all()


# -- 2. undo scope ----------------------------------------------------------------------------
def test_undo_takes_back_only_the_sessions_own_submit(tmp_path):
    store = bound(tmp_path / "l.sqlite")
    a = store.append(labels([1, 2]), "me", session_id="A")
    b = store.append(labels([3, 4], label=1), "me", session_id="B")  # same annotator
    assert store.undo_last("me", session_id="A") == a  # not b, the newest
    idx, kind, _ = store.effective_for([1, 2, 3, 4])
    assert kind.tolist() == [-1, -1, 0, 0]
    assert store.undo_last("me", session_id="A") is None  # nothing more of A's
    assert store.undo_last(session_id="C") is None
    ev = store.events()
    assert ev["session_id"].tolist() == ["A", "A", "B", "B", "A"]
    assert store.undo_last("me") == b  # no session given: anyone's newest
    other = LabelStore(tmp_path / "l.sqlite")  # another process/connection, same rule
    other.bind("f" * 64, 100, ["c0", "c1", "c2"])
    other.append(labels([5]), "me", session_id="B")
    assert store.undo_last(session_id="A") is None


@pytest.mark.parametrize("version", [1, 2])
def test_old_stores_migrate_and_undo_by_session_still_works(tmp_path, version):
    path = tmp_path / "old.sqlite"
    _schema_1_store(path, fp="f" * 64, n=100, with_prev=version == 2, classes=("c0", "c1", "c2"))
    store = bound(path)
    assert store.get_meta("schema_version") == str(SCHEMA_VERSION)
    assert store.undo_last(session_id="new") is None, "old events belong to no session"
    store.append(labels([50]), "me", session_id="new")
    assert store.undo_last(session_id="new") == 2
    assert store.undo_last() == 1
    assert store.effective_for(range(7))[1].tolist() == [-1] * 7


# -- 3. every write failure is a StoreError with pending --------------------------------------
def _fill_disk(store):
    """Make the store's file unable to grow (as a full disk does): SQLITE_FULL on growth."""
    pages = store._con.execute("PRAGMA page_count").fetchone()[0]
    store._con.execute(f"PRAGMA max_page_count = {pages}")


def test_disk_full_is_a_store_error_with_the_answers_kept(data, tmp_path):
    X, y = data
    s = make(X, tmp_path / "l.sqlite")
    s.submit(truth(s, y))
    log0, y0, batch = s.store.events(), s.y.copy(), s.query().copy()
    _fill_disk(s.store)
    answers = {i: int(y[i]) for i in range(len(X)) if s.y[i] < 0}  # a big map submit
    with pytest.raises(
        StoreWriteError, match="disk is full.*answers are kept in error.pending"
    ) as ei:
        s.submit(answers, source="map")
    assert isinstance(ei.value, StoreError) and ei.value.pending == answers
    assert len(s.store.events()) == len(log0)
    np.testing.assert_array_equal(s.y, y0)
    np.testing.assert_array_equal(s.query(), batch)
    with pytest.raises(StoreWriteError, match="disk is full") as em:
        s.store.set_meta("note", "x" * 100_000)
    assert em.value.pending == {"note": "x" * 100_000}
    s.store._con.execute("PRAGMA max_page_count = 1000000")  # space freed: the retry works
    s.submit(ei.value.pending, source="map")
    assert s.n_labeled == len(X)


def test_no_raw_sqlite_error_escapes_a_write(tmp_path):
    store = bound(tmp_path / "l.sqlite")
    for i in range(300):
        store.append(labels([i % 100]), "me", session_id="A")
    _fill_disk(store)
    caught = []
    for call in (
        lambda: [store.append(labels(range(100)), "me", pending="P") for _ in range(50)],
        lambda: [store.undo_last() for _ in range(300)],
        lambda: store.set_meta("k", "v" * 50_000),
    ):
        with pytest.raises(StoreError) as ei:
            call()
        caught.append(ei.value)
    assert all(isinstance(e, StoreWriteError) for e in caught)
    assert caught[0].pending == "P"
    store.close()
    with pytest.raises(StoreError, match="closed") as ei:
        store.append(labels([1]), "me", pending={1: "a"})
    assert ei.value.pending == {1: "a"}


# -- 4. damaged or hand-edited content --------------------------------------------------------
def _edit(path, sql, args=()):
    con = sqlite3.connect(path)
    con.execute(sql, args)
    con.commit()
    con.close()


@pytest.mark.parametrize(
    "sql, match",
    [
        ("UPDATE events SET idx = 10000 WHERE seq = 3", r"seq=3 .*item 10000, outside .*0\.\.119"),
        ("UPDATE events SET idx = -1 WHERE seq = 4", r"seq=4 .*item -1, outside"),
        ("UPDATE events SET idx = 'abc' WHERE seq = 4", r"seq=4 .*item 'abc'"),
        ("UPDATE events SET label = 7 WHERE seq = 5", r"seq=5 .*class code 7, outside .*0\.\.2"),
        ("UPDATE events SET label = NULL WHERE seq = 5", r"seq=5 .*class code None"),
        ("UPDATE events SET kind = 'lable' WHERE seq = 2", r"seq=2 .*unknown kind"),
        (
            "UPDATE meta SET value = '[\"a\", \"b\"' WHERE key = 'classes'",
            r"meta row 'classes'.*not valid JSON",
        ),
        (
            "UPDATE meta SET value = '{\"a\": 1}' WHERE key = 'classes'",
            r"meta row 'classes'.*not a list",
        ),
        ("INSERT INTO meta VALUES ('excluded', '[1, 2')", r"meta row 'excluded'.*not valid JSON"),
        ("INSERT INTO meta VALUES ('excluded', '[1, 5000]')", r"meta row 'excluded'.*0\.\.119"),
    ],
)
def test_hand_edited_content_is_refused_naming_the_row(data, tmp_path, sql, match):
    X, y = data
    path = tmp_path / "l.sqlite"
    s = make(X, path)
    s.submit(truth(s, y))
    s.store.close()
    _edit(path, sql)
    before = path.read_bytes()
    with pytest.raises(StoreCorruptError, match=match):
        make(X, path)
    assert path.read_bytes() == before, "a refused store is not changed"


def test_content_damaged_while_open_is_reported_on_read(data, tmp_path):
    X, y = data
    path = tmp_path / "l.sqlite"
    s = make(X, path)
    s.submit(truth(s, y))
    seq = int(s.store.events()["seq"].iloc[-1])
    _edit(path, "UPDATE events SET label = 9 WHERE seq = ?", (seq,))
    for read in (
        s.store.effective_arrays,
        s.store.current,
        s.store.answers,
        lambda: s.store.effective_for(s.store.events()["idx"]),
    ):
        with pytest.raises(StoreCorruptError, match=f"seq={seq} .*class code 9"):
            read()


# -- 5. a refused store is not changed --------------------------------------------------------
def _schema_1_store(path, fp, n, with_prev=False, classes=("a", "b", "c")):
    con = sqlite3.connect(path)
    prev = ", prev_kind TEXT, prev_label INTEGER" if with_prev else ""
    con.executescript(
        f"""
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL,
          submit INTEGER NOT NULL, idx INTEGER, label INTEGER, annotator TEXT, ts TEXT NOT NULL,
          round INTEGER, strategy TEXT, score REAL, rank INTEGER, model_version INTEGER,
          source TEXT{prev});
        CREATE INDEX events_submit ON events(submit);
        """
    )
    con.executemany(
        "INSERT INTO meta VALUES (?, ?)",
        [
            ("schema_version", "2" if with_prev else "1"),
            ("fingerprint", fp),
            ("n_samples", str(n)),
            ("classes", json.dumps(list(classes))),
        ],
    )
    con.executemany(
        "INSERT INTO events(kind, submit, idx, label, annotator, ts, round, source) "
        "VALUES ('label', 1, ?, ?, 'old', '2024-01-01T00:00:00+00:00', 0, 'batch')",
        [(i, i % 3) for i in range(6)],
    )
    con.commit()
    con.close()


def _state(path):
    con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    mode = con.execute("PRAGMA journal_mode").fetchone()[0]
    version = con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0]
    cols = [r[1] for r in con.execute("PRAGMA table_info(events)")]
    con.close()
    return path.read_bytes(), mode, version, cols


@pytest.mark.parametrize("with_prev", [False, True])
def test_refused_old_store_is_not_migrated_nor_switched_to_wal(data, tmp_path, with_prev):
    X, _ = data
    path = tmp_path / "old.sqlite"
    _schema_1_store(path, fingerprint(np.asarray(X, dtype=np.float64)), len(X), with_prev)
    before = _state(path)
    assert before[1] == "delete"
    with pytest.raises(StoreMismatchError, match="other data"):
        make(X[:-1], path)
    with pytest.raises(StoreMismatchError, match="classes"):
        Session(X, classes=["a", "c", "b"], store=path)
    assert _state(path) == before
    assert not (tmp_path / "old.sqlite-wal").exists()
    s = make(X, path)  # the right data: now it is upgraded
    _, mode, version, cols = _state(path)
    assert (mode, version, cols[-1]) == ("wal", str(SCHEMA_VERSION), "session_id")
    assert s.n_labeled == 6


# -- 6. a lost tail of the log is reported ----------------------------------------------------
def _drop_last_commit(wal):
    """Truncate a -wal file just before its last transaction (https://sqlite.org/fileformat.html)."""
    raw = wal.read_bytes()
    page = int.from_bytes(raw[8:12], "big")
    salts = raw[16:24]
    ends, off = [], 32
    while off + 24 + page <= len(raw) and raw[off + 8 : off + 16] == salts:
        if int.from_bytes(raw[off + 4 : off + 8], "big"):  # a commit frame
            ends.append(off + 24 + page)
        off += 24 + page
    assert len(ends) >= 2, "the test needs two transactions in the -wal"
    wal.write_bytes(raw[: ends[-2]])


def test_truncated_wal_is_detected_with_the_count_kept(tmp_path):
    path = tmp_path / "l.sqlite"
    store = bound(path)
    store.append(labels(range(10)), "me")
    reader = sqlite3.connect(path, isolation_level=None)  # a reader in another process holds
    reader.execute("BEGIN")  # back the checkpoint: the next submits stay in the -wal only
    reader.execute("SELECT COUNT(*) FROM events").fetchone()
    store.append(labels(range(10, 20)), "me")
    store.append(labels(range(20, 30)), "me")
    crash = tmp_path / "crash"
    crash.mkdir()
    for suffix in ("", "-wal", "-seq"):
        shutil.copy(f"{path}{suffix}", f"{crash / 'l.sqlite'}{suffix}")
    reader.execute("ROLLBACK")
    reader.close()
    _drop_last_commit(crash / "l.sqlite-wal")
    with pytest.warns(
        StoreWarning,
        match=r"ends at event 20.*up to 30.*last 10 events are missing.*20 events kept",
    ):
        again = LabelStore(crash / "l.sqlite")
    again.bind("f" * 64, 100, ["c0", "c1", "c2"])
    assert (again.events()["kind"] == "label").sum() == 20
    again.close()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # warned once: the kept events are now the store
        LabelStore(crash / "l.sqlite").close()
        LabelStore(path).close()  # the intact store does not warn


# -- 7-9. one definition of the answer in effect; incremental replay; rounds ------------------
def _reference(events, undone, n):
    """Pure-Python replay: state per item, live answer seqs, and the round count."""
    live = [e for e in events if e["kind"] != "undo" and e["submit"] not in undone]
    state = {}
    for e in live:  # oldest first: newer answers win; a skip only where there is no answer
        if e["kind"] in ("label", "unsure"):
            state[e["idx"]] = (KIND_CODES[e["kind"]], e["label"] if e["kind"] == "label" else -1)
        elif state.get(e["idx"], (2, -1))[0] == 2:
            state[e["idx"]] = (2, -1)
    answers = [e["seq"] for e in live if e["kind"] in ("label", "unsure")]
    rounds = len({e["submit"] for e in live if e["kind"] == "label" and e["source"] != "import"})
    return state, answers, rounds


def _as_dict(idx, kind, label):
    return {
        int(i): (int(k), int(lab)) for i, k, lab in zip(idx, kind, label, strict=True) if k >= 0
    }


def _check_frames(store, state, answers, prev, case):
    """The pandas paths: current("latest"), answers(), and prev_kind/prev_label of the log."""
    cur = store.current("latest")
    got = {
        int(i): (KIND_CODES[kd], int(lab) if kd == "label" else -1)
        for i, kd, lab in zip(cur["idx"], cur["kind"], cur["label"], strict=True)
    }
    assert got == state, case
    assert store.answers()["seq"].tolist() == answers, case
    ev = store.events()
    ev = ev[ev["kind"] != "undo"]
    for sq, kd, lab in zip(ev["seq"], ev["prev_kind"], ev["prev_label"], strict=True):
        p = prev[int(sq)]
        if p is None:
            assert pd.isna(kd), case
        else:
            assert (KIND_CODES[kd], int(lab) if kd == "label" else -1) == p, case


def test_every_read_path_agrees_on_random_logs():
    """200 random logs (several annotators and sessions, undos, skips, imports): every read
    path equals a pure-Python replay after every step, and so does incremental replay
    (``changed_since`` + ``effective_for``, ``n_submits``) over one or several steps."""
    n, k = 12, 3
    for case in range(200):
        rng = random.Random(case)
        store = LabelStore(":memory:")
        store.bind("f" * 64, n, [f"c{j}" for j in range(k)])
        events, undone, seq, submit, prev = [], set(), 0, 0, {}
        seen, inc = 0, {}
        n_ops = rng.randint(1, 25)
        for op in range(n_ops):
            ann, sess = rng.choice(["ann", "bob", "cy"]), rng.choice(["s1", "s2", "s3"])
            if rng.random() < 0.25:  # undo, scoped or not
                by_ann = rng.random() < 0.5
                by_sess = rng.random() < 0.5
                cand = [
                    e["submit"]
                    for e in events
                    if e["kind"] in ("label", "unsure")
                    and e["submit"] not in undone
                    and (not by_ann or e["annotator"] == ann)
                    and (not by_sess or e["session"] == sess)
                ]
                want = max(cand) if cand else None
                got = store.undo_last(ann if by_ann else None, session_id=sess if by_sess else None)
                assert got == want, case
                if want is not None:
                    seq += 1
                    undone.add(want)
                    events.append(
                        dict(
                            seq=seq,
                            kind="undo",
                            submit=want,
                            idx=None,
                            label=None,
                            annotator=ann,
                            session=sess,
                            source=None,
                        )
                    )
            else:
                source = "import" if rng.random() < 0.1 else rng.choice(["batch", "map"])
                batch = []
                for i in rng.sample(range(n), rng.randint(1, 4)):
                    kind = rng.choice(["label", "label", "unsure", "skip"])
                    batch.append(
                        LabelEvent(
                            idx=i,
                            label=rng.randrange(k) if kind == "label" else None,
                            kind=kind,
                            source=source,
                        )
                    )
                state, _, _ = _reference(events, undone, n)
                submit += 1
                assert store.append(batch, ann, session_id=sess) == submit
                for e in batch:
                    seq += 1
                    p = state.get(e.idx) if e.kind != "skip" else None
                    prev[seq] = None if p is None or p[0] == 2 else p
                    events.append(
                        dict(
                            seq=seq,
                            kind=e.kind,
                            submit=submit,
                            idx=e.idx,
                            label=e.label,
                            annotator=ann,
                            session=sess,
                            source=source,
                        )
                    )
            state, answers, rounds = _reference(events, undone, n)
            assert _as_dict(*store.effective_arrays()) == state, case
            assert _as_dict(*store.effective_for(range(n))) == state, case
            if op % 4 == 3 or op == n_ops - 1:
                _check_frames(store, state, answers, prev, case)
            if rng.random() < 0.5 and op < n_ops - 1:
                continue  # the incremental reads below then span several operations
            assert store.n_submits() == rounds, case
            seen, touched = store.changed_since(seen)  # incremental replay
            for i in touched:
                inc.pop(int(i), None)
            inc.update(_as_dict(*store.effective_for(touched)))
            assert inc == state, case
            assert seen == store.max_seq() == seq, case
        assert LabelStore(":memory:").n_submits() == 0


def test_changed_since_includes_the_items_of_undone_submits(tmp_path):
    store = bound(tmp_path / "l.sqlite")
    store.append(labels([1, 2, 3]), "me")
    mark = store.max_seq()
    store.append(labels([7]), "me")
    assert store.changed_since(mark)[1].tolist() == [7]
    mark = store.max_seq()
    store.undo_last()
    store.undo_last()
    top, touched = store.changed_since(mark)
    assert touched.tolist() == [1, 2, 3, 7] and top == store.max_seq()
    assert store.changed_since(top)[1].size == 0
    with pytest.raises(ValueError, match="0..99"):
        store.effective_for([100])


def test_a_round_needs_a_class_label(tmp_path):
    store = bound(tmp_path / "l.sqlite")
    store.append([LabelEvent(idx=1, label=None, kind="unsure")], "me")
    store.append([LabelEvent(idx=2, label=None, kind="skip")], "me")
    store.append(labels([3, 4], source="import"), "me")
    assert store.n_submits() == 0
    store.append([LabelEvent(idx=5, label=None, kind="unsure"), *labels([6])], "me")
    store.append(labels([7]), "me")
    assert store.n_submits() == 2
    store.undo_last()
    assert store.n_submits() == 1
    assert LabelStore(tmp_path / "l.sqlite").n_submits() == 1  # another connection agrees


def _vm_steps(store, fn):
    """SQLite virtual-machine steps (in units of 10) run by ``fn``: a deterministic cost."""
    steps = [0]

    def count():
        steps[0] += 1
        return 0

    store._con.set_progress_handler(count, 10)
    try:
        fn()
    finally:
        store._con.set_progress_handler(None, 10)
    return steps[0]


def test_incremental_reads_cost_the_same_at_any_log_size(tmp_path):
    costs = []
    for n_events in (1_000, 20_000):
        store = bound(tmp_path / f"l{n_events}.sqlite", n=100_000)
        rng = np.random.default_rng(0)
        for s in range(n_events // 500):
            store.append(labels(rng.choice(100_000, 500, replace=False)), "me")
            if s % 5 == 0:
                store.undo_last()
        store.n_submits()
        mark = store.max_seq()
        store.append(labels(range(10)), "me")
        store.undo_last()
        store.append(labels(range(5, 15), label=1), "me")

        def step(store=store, mark=mark):
            _, touched = store.changed_since(mark)
            store.effective_for(touched)
            store.n_submits()

        costs.append(_vm_steps(store, step))
    assert costs[1] < 1.5 * costs[0] + 50, f"cost grew with the log: {costs}"
