"""The durable label store: files, resume, refusal, locks, damage, export, several annotators."""

import os
import sqlite3
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

import alwidget
from alwidget import (
    LabelStore,
    Session,
    StoreCorruptError,
    StoreLockedError,
    StoreMismatchError,
    StoreReadOnlyError,
)
from alwidget.store import default_annotator

from alw_helpers import oracle

CLASSES = ["a", "b", "c"]


def make(X, store, **kw):
    kw.setdefault("random_state", 0)
    kw.setdefault("batch_size", 5)
    return Session(X, classes=CLASSES, store=store, **kw)


truth = oracle  # label the open batch with the truth


def file_bytes(path):
    return open(path, "rb").read()


# -- where labels live ------------------------------------------------------------------------
def test_default_store_is_a_wal_file_named_after_the_session(data, tmp_path, monkeypatch):
    X, y = data
    monkeypatch.chdir(tmp_path)
    s = make(X, None, name="my run/1")
    s.submit(truth(s, y))
    path = tmp_path / "alwidget-my_run_1.sqlite"
    assert path.exists() and s.store.path == "alwidget-my_run_1.sqlite"
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert con.execute("SELECT COUNT(*) FROM events WHERE kind='label'").fetchone()[0] == 5
    con.close()
    # no name: derived from the data fingerprint; ":memory:" writes no file at all
    s2 = make(X[:50], None)
    assert s2.store.path == f"alwidget-{s2.fingerprint[:10]}.sqlite"
    before = set(os.listdir(tmp_path))
    make(X[:60], ":memory:").submit(truth(make(X[:60], ":memory:"), y))
    assert set(os.listdir(tmp_path)) == before


def test_submit_is_on_disk_before_the_next_batch_is_picked(data, tmp_path):
    X, y = data
    path = tmp_path / "l.sqlite"
    seen = []

    def spy(ctx):  # a strategy that looks at the file from another connection while selecting
        seen.append(int((LabelStore.read_events(path)["kind"] == "label").sum()))
        return ctx.rng.random(ctx.candidates.size)

    s = make(X, path, strategy=spy)
    for r in range(3):
        s.submit(truth(s, y))
        assert seen[-1] == 5 * (r + 1), "the labels were not on disk when the batch was picked"


def test_undo_and_skip_are_events_nothing_is_deleted(data, tmp_path):
    X, y = data
    s = make(X, tmp_path / "l.sqlite")
    s.submit(truth(s, y))
    s.skip(int(s.query()[0]))
    s.submit(truth(s, y))
    log0 = s.store.events()
    s.undo()
    log1 = s.store.events()
    pd.testing.assert_frame_equal(log1.iloc[: len(log0)], log0, check_dtype=False)  # untouched
    assert log1["kind"].tolist()[len(log0) :] == ["undo"]
    assert s.n_labeled == 5 and s.skipped.size == 1
    assert len(log1) == 5 + 1 + 4 + 1


def test_resume_continues_labels_round_strategy(data, tmp_path):
    X, y = data
    path = tmp_path / "l.sqlite"
    s = make(X, path, strategy="margin")
    s.submit(truth(s, y))
    s.submit(truth(s, y))
    s.skip(int(s.query()[0]))
    s.undo()
    s.submit(truth(s, y))
    lab, rnd, y0 = s.labels, s.round, s.y.copy()
    s.store.close()
    del s
    r = make(X, path)  # no strategy given: the saved one
    assert r.strategy.name == "margin" and r.round == rnd == 2
    np.testing.assert_array_equal(r.y, y0)
    pd.testing.assert_frame_equal(r.labels, lab)
    assert r.skipped.size == 1 and not r.cold and r.labels_trained_on == 10
    assert not set(r.query()) & set(lab["index"]), "resumed batch re-asks labeled items"
    r.submit(truth(r, y))
    assert r.round == 3 and r.n_labeled == 15


def test_store_for_other_data_is_refused_and_left_alone(data, tmp_path):
    X, y = data
    path = tmp_path / "l.sqlite"
    s = make(X, path)
    s.submit(truth(s, y))
    s.store.close()
    before = file_bytes(path)
    X2 = X.copy()
    X2[3, 1] += 1e-9  # one value differs
    with pytest.raises(StoreMismatchError, match="other data.*Use another store file"):
        make(X2, path)
    with pytest.raises(StoreMismatchError, match="other data"):
        make(X[:-1], path)
    with pytest.raises(StoreMismatchError, match="classes"):
        Session(X, classes=["a", "c", "b"], store=path)
    assert file_bytes(path) == before
    assert make(X, path).n_labeled == 5


# -- bad files --------------------------------------------------------------------------------
def test_corrupt_store_is_refused_with_a_clear_error(tmp_path, data):
    X, _ = data
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a database, it is a CSV file,\n" * 200)
    before = file_bytes(junk)
    with pytest.raises(
        StoreCorruptError, match="not an alwidget label store or is damaged.*Move the file aside"
    ):
        make(X, junk)
    assert file_bytes(junk) == before, "a refused file must not be changed"

    other = tmp_path / "other.sqlite"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE customers (id INTEGER, name TEXT)")
    con.commit()
    con.close()
    before = file_bytes(other)
    with pytest.raises(StoreCorruptError, match="other tables"):
        make(X, other)
    assert file_bytes(other) == before


def test_damaged_store_pages_are_detected(data, tmp_path):
    X, y = data
    path = tmp_path / "l.sqlite"
    s = make(X, path, batch_size=40)
    for _ in range(3):
        s.submit(truth(s, y))
    s.store.close()
    con = sqlite3.connect(path)  # fold the WAL into the main file, then damage its pages
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.execute("PRAGMA journal_mode=DELETE")
    con.close()
    raw = bytearray(file_bytes(path))
    page = int.from_bytes(raw[16:18], "big")
    assert len(raw) >= 3 * page
    raw[page + 8 : 3 * page] = os.urandom(2 * page - 8)  # pages 2-3 are garbage
    path.write_bytes(bytes(raw))
    with pytest.raises(StoreCorruptError, match="damaged"):
        make(X, path)


def test_read_only_store_is_refused_but_readable(data, tmp_path):
    X, y = data
    path = tmp_path / "l.sqlite"
    s = make(X, path)
    s.submit(truth(s, y))
    s.store.close()
    os.chmod(path, 0o444)
    try:
        with pytest.raises(StoreReadOnlyError, match="cannot write.*chmod u\\+w.*read_events"):
            make(X, path)
        ev = LabelStore.read_events(path)
        assert (ev["kind"] == "label").sum() == 5
    finally:
        os.chmod(path, 0o644)
    assert make(X, path).n_labeled == 5


def test_store_path_that_is_a_folder(tmp_path, data):
    X, _ = data
    with pytest.raises(StoreCorruptError, match="is a folder"):
        make(X, tmp_path)


HOLD_LOCK = textwrap.dedent(
    """
    import sqlite3, sys, time
    con = sqlite3.connect(sys.argv[1], isolation_level=None)
    con.execute("BEGIN EXCLUSIVE")
    print("locked", flush=True)
    sys.stdin.readline()  # hold the write lock until told
    con.execute("COMMIT")
    """
)


def test_store_locked_by_another_process(data, tmp_path):
    X, y = data
    path = tmp_path / "l.sqlite"
    s = make(X, LabelStore(path, timeout=1.0))
    s.submit(truth(s, y))
    batch, y0, log0 = s.query(), s.y.copy(), s.store.events()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        answers = truth(s, y)
        # the wait is bounded by the store's timeout (1 s), and the message says so
        with pytest.raises(
            StoreLockedError, match=r"locked by another process \(waited 1 s.*submit again"
        ) as ei:
            s.submit(answers)
        assert ei.value.pending == answers, "the pending labels are handed back for a retry"
        # nothing changed
        np.testing.assert_array_equal(s.y, y0)
        np.testing.assert_array_equal(s.query(), batch)
        with pytest.raises(StoreLockedError):
            s.undo()
        assert s.n_labeled == 5
    finally:
        holder.stdin.write("\n")
        holder.stdin.flush()
        holder.wait(timeout=10)
    pd.testing.assert_frame_equal(s.store.events(), log0)
    s.submit(ei.value.pending)  # the retry works once the other process is done
    assert s.n_labeled == 10


def test_schema_1_store_is_upgraded_in_place(data, tmp_path):
    X, y = data
    path = tmp_path / "old.sqlite"
    fp = alwidget.store.fingerprint(np.asarray(X, dtype=np.float64))
    con = sqlite3.connect(path)
    con.executescript(
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL,
          submit INTEGER NOT NULL, idx INTEGER, label INTEGER, annotator TEXT, ts TEXT NOT NULL,
          round INTEGER, strategy TEXT, score REAL, rank INTEGER, model_version INTEGER,
          source TEXT);
        """
    )
    con.executemany(
        "INSERT INTO meta VALUES (?, ?)",
        [
            ("schema_version", "1"),
            ("fingerprint", fp),
            ("n_samples", str(len(X))),
            ("classes", '["a", "b", "c"]'),
        ],
    )
    con.executemany(
        "INSERT INTO events(kind, submit, idx, label, annotator, ts, round, source) "
        "VALUES ('label', 1, ?, ?, 'old', '2024-01-01T00:00:00+00:00', 0, 'batch')",
        [(int(i), int(y[i])) for i in range(6)],
    )
    con.commit()
    con.close()
    s = make(X, path)
    assert s.n_labeled == 6 and s.labels["annotator"].eq("old").all()
    assert s.store.get_meta("schema_version") == str(alwidget.store.SCHEMA_VERSION)
    s.submit({int(s.query()[0]): "a"})
    assert s.n_labeled == 7


# -- provenance and export --------------------------------------------------------------------
def test_provenance_of_every_label(data, tmp_path):
    X, y = data
    s = make(X, tmp_path / "l.sqlite")
    s.submit(truth(s, y))
    b = s.query()
    scores = s.batch.scores.copy()
    s.submit({int(b[1]): "c"})
    other = int(np.setdiff1d(np.flatnonzero(s.y < 0), s.query())[0])
    s.submit({other: "b"}, source="map")
    lab = s.labels.set_index("index")
    assert (lab["annotator"] == default_annotator()).all()
    assert str(lab["timestamp"].dt.tz) == "UTC"
    assert (pd.Timestamp.now(tz="UTC") - lab["timestamp"]).max() < pd.Timedelta(minutes=5)
    row = lab.loc[int(b[1])]
    assert (row["round"], row["strategy"], row["rank"], row["model_version"], row["source"]) == (
        1,
        "margin",
        2,
        5,
        "batch",
    )
    assert row["score"] == pytest.approx(scores[1])
    m = lab.loc[other]
    assert m["source"] == "map" and pd.isna(m["rank"]) and m["model_version"] == 6
    assert lab["strategy"].iloc[:5].str.startswith("cold start").all()


def test_export_csv_parquet_dataframe(data, tmp_path):
    X, y = data
    s = make(X, tmp_path / "l.sqlite", annotator="ann")
    s.submit(truth(s, y))
    s.mark_unsure(int(s.query()[0]))
    csv = s.export(tmp_path / "labels.csv")
    pq = s.export(tmp_path / "labels.parquet")
    df = s.labels_table(include_unsure=True)
    assert len(df) == 6 and df["status"].value_counts().to_dict() == {"labeled": 5, "unsure": 1}
    back = pd.read_csv(csv)
    assert back["index"].tolist() == df["index"].tolist()
    assert back["label"].fillna("?").tolist() == df["label"].fillna("?").tolist()
    assert set(back.columns) >= {
        "timestamp",
        "round",
        "strategy",
        "score",
        "rank",
        "model_version",
        "annotator",
        "source",
        "status",
    }
    pq_back = pd.read_parquet(pq)
    pd.testing.assert_frame_equal(pq_back, df, check_dtype=False)
    assert not list(tmp_path.glob(".*tmp")), "no temporary files left behind"
    with pytest.raises(ValueError, match=".csv or .parquet"):
        s.export(tmp_path / "labels.xlsx")


# -- several annotators -----------------------------------------------------------------------
def test_several_annotators_keep_all_answers_policy_and_disagreements(data, tmp_path):
    X, y = data
    path = tmp_path / "shared.sqlite"
    ann = {a: make(X, path, annotator=a) for a in ("ann", "bob", "cy")}
    i = int(ann["ann"].query()[0])
    ann["ann"].submit({i: "a"}, source="map")
    ann["bob"].submit({i: "b"}, source="map")
    ann["cy"].submit({i: "a"}, source="map")
    j = int(np.setdiff1d(np.arange(len(X)), [i])[0])
    ann["ann"].submit({j: "c"}, source="map")
    ann["bob"].submit({j: "b"}, source="map")

    latest = make(X, path, annotator="ann")
    assert latest.label_policy == "latest"
    assert latest.labels.set_index("index").loc[[i, j], "label"].tolist() == ["a", "b"]
    majority = make(X, path, label_policy="majority")
    # i: a, b, a -> "a"; j: c, b tie -> the most recent ("b")
    assert majority.labels.set_index("index").loc[[i, j], "label"].tolist() == ["a", "b"]
    bob_changes = ann["bob"]
    bob_changes.submit({i: "a"}, source="map")  # bob agrees now
    d = make(X, path).disagreements()
    assert d["index"].tolist() == [j]
    assert d.iloc[0]["answers"] == {"ann": "c", "bob": "b"}
    ans = make(X, path).answers
    assert len(ans) == 6 and set(ans["annotator"]) == {"ann", "bob", "cy"}
    # majority flips when more annotators agree
    ann["cy"].submit({j: "c"}, source="map")
    assert make(X, path, label_policy="majority").labels.set_index("index").loc[j, "label"] == "c"
    # undo takes back only the undoer's own answer
    ann["cy"].undo()
    m = make(X, path, label_policy="majority")
    assert m.labels.set_index("index").loc[j, "label"] == "b"
    assert len(m.answers) == 6
    with pytest.raises(ValueError, match="label_policy"):
        make(X, path, label_policy="loudest")


def test_update_of_a_labeled_item_is_recorded_as_such(data, tmp_path):
    X, y = data
    s = make(X, tmp_path / "l.sqlite")
    b = s.query()
    s.submit({int(b[0]): "a", int(b[1]): "b"})
    s.submit({int(b[0]): "c"}, source="map")
    lab = s.labels.set_index("index")
    assert lab.loc[int(b[0]), "label"] == "c" and lab.loc[int(b[0]), "previous"] == "a"
    assert pd.isna(lab.loc[int(b[1]), "previous"])
    assert len(s.answers) == 3 and s.n_labeled == 2
    s.undo()  # back to "a"
    assert s.labels.set_index("index").loc[int(b[0]), "label"] == "a"


# -- import -----------------------------------------------------------------------------------
def test_import_a_dataframe_column_as_seed_set(data, tmp_path):
    X, y = data
    path = tmp_path / "l.sqlite"
    col = pd.Series([CLASSES[v] for v in y], dtype=object)
    col[10:] = np.nan  # only the first 10 are known
    df = pd.DataFrame({"label": col})
    s = make(X, path)
    assert s.import_labels(df["label"]) == 10
    assert s.n_labeled == 10 and s.round == 0 and not s.cold
    lab = s.labels
    assert (lab["source"] == "import").all() and lab["index"].tolist() == list(range(10))
    assert lab["label"].tolist() == [CLASSES[v] for v in y[:10]]
    assert not set(s.query()) & set(range(10))
    # running the same notebook cell again records nothing new
    s = make(X, path)  # the cell run again: the new session replaces the old one
    assert s.import_labels(df["label"]) == 0
    # a dict, and bad input: nothing recorded
    with pytest.raises(ValueError, match="unknown class"):
        s.import_labels({20: "a", 21: "zebra"})
    with pytest.raises(ValueError, match="one entry per row"):
        s.import_labels(["a", "b"])
    with pytest.raises(ValueError, match="out of range"):
        s.import_labels({10_000: "a"})
    assert s.n_labeled == 10
    assert s.import_labels({20: "a", 21: 2}) == 2
    assert s.n_labeled == 12


def test_widget_keeps_the_chosen_labels_while_the_store_is_locked(data, tmp_path):
    X, y = data
    path = tmp_path / "l.sqlite"
    w = alwidget.LabelingWidget(
        make(X, LabelStore(path, timeout=0.5)), [str(i) for i in range(len(X))]
    )
    batch = w.batch
    for i in batch:
        w.choose(int(i), int(y[i]))
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        w.submit_button.click()
        assert "locked by another process" in w.error.value
        assert w.session.n_labeled == 0 and list(w.batch) == list(batch)
        assert not w.submit_button.disabled
    finally:
        holder.stdin.write("\n")
        holder.stdin.flush()
        holder.wait(timeout=10)
    w.submit_button.click()  # the same choices, still on the cards
    assert w.session.n_labeled == 5 and w.error.value == ""
    assert w.session.labels["code"].tolist() == [int(y[i]) for i in batch]


def test_widget_shows_disk_full_and_keeps_the_chosen_labels(data, tmp_path):
    X, y = data
    path = tmp_path / "l.sqlite"
    w = alwidget.LabelingWidget(make(X, path, batch_size=len(X)), [str(i) for i in range(len(X))])
    batch = w.batch
    for i in batch:
        w.choose(int(i), int(y[i]))
    con = w.session.store._con  # the store's file cannot grow, as on a full disk
    con.execute(f"PRAGMA max_page_count = {con.execute('PRAGMA page_count').fetchone()[0]}")
    w.submit_button.click()
    assert "disk is full" in w.error.value
    assert w.session.n_labeled == 0 and list(w.batch) == list(batch)
    assert not w.submit_button.disabled
    con.execute("PRAGMA max_page_count = 1000000")  # space freed
    w.submit_button.click()  # the same choices, still on the cards
    assert w.session.n_labeled == len(X) and w.error.value == ""


def test_fingerprint_by_blocks_equals_the_whole_array_digest():
    """Stores made by earlier versions (digest of the whole float64 array) still bind: the
    fingerprint is hashed by row blocks now, without a float64 copy of the pool."""
    import hashlib
    import json

    from alwidget.store import fingerprint

    X = np.random.default_rng(0).normal(size=(90_001, 50)).astype(np.float32)  # > one block
    whole = hashlib.sha256(json.dumps(list(X.shape)).encode())
    whole.update(np.ascontiguousarray(X, dtype=np.float64).tobytes())
    assert fingerprint(X) == whole.hexdigest()
    assert fingerprint(np.asfortranarray(X)) == whole.hexdigest()
