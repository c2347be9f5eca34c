"""The SQLite store: migrations, WAL, one transaction per sample, the unique sample key,
and a database that sqlite-utils' own tooling opens as it is."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import sqlite_utils
from deepeval_lsp.benchmark.ids import ulid
from deepeval_lsp.benchmark.migrations import MIGRATIONS
from deepeval_lsp.benchmark.store import (
    RunConfig,
    StoreError,
    create_run,
    done_keys,
    load_run,
    open_db,
    record_mutant,
    record_sample,
)
from sqlite_utils.migrations import Migrations

from deepeval_lsp.cli import main

CONFIG = RunConfig(
    suite="builtin",
    models=["reference"],
    promptings=["zeroshot"],
    samples=1,
    temperature=0.8,
    top_p=0.95,
    max_tokens=2048,
    base_url=None,
)


def _sample(run_id: str, task: str, index: int = 0, outcome: str = "not_measured") -> dict:
    return {
        "run_id": run_id,
        "model": "m",
        "prompting": "zeroshot",
        "task_id": task,
        "sample_index": index,
        "outcome": outcome,
        "valid": 1,
        "code": "x = 1\n",
    }


def test_migrations_are_recorded_once_and_the_journal_is_wal(tmp_path):
    path = tmp_path / "d.db"
    db = open_db(path)
    names = [m.name for m in MIGRATIONS.applied(db)]
    assert names == [
        "m001_initial",
        "m002_selftest",
        "m003_selftest_mutants",
        "m004_run_leases",
        "m005_repair_rounds",
    ]
    assert MIGRATIONS.pending(db) == []
    db.close()
    db = open_db(path)  # a second open applies nothing
    assert db.execute("select count(*) from _sqlite_migrations").fetchone()[0] == len(names)
    assert db.execute("pragma journal_mode").fetchone()[0] == "wal"


def test_a_sample_key_is_recorded_once_and_retry_outcomes_are_replaced(tmp_path):
    db = open_db(tmp_path / "d.db")
    run_id = create_run(db, CONFIG, "test")
    record_sample(db, _sample(run_id, "t1", outcome="error"), [], {})
    assert done_keys(db, run_id) == set()  # an error is done again on resume
    record_sample(
        db,
        _sample(run_id, "t1"),
        [
            {
                "code": "DL101",
                "severity": "error",
                "pass": "static",
                "dl_error": "Missing API Import",
                "message": "m",
            }
        ],
        {"api_set_f1": 50.0},
    )
    assert done_keys(db, run_id) == {("m", "zeroshot", "t1", 0)}
    assert db["samples"].count == 1
    assert db["findings"].count == 1 and db["scores"].count == 1
    # the unique index refuses a second row for the same key, whoever writes it
    with pytest.raises(sqlite3.IntegrityError):
        db["samples"].insert({**_sample(run_id, "t1"), "id": ulid()})


def test_runs_are_resumable_from_their_stored_config(tmp_path):
    db = open_db(tmp_path / "d.db")
    run_id = create_run(db, CONFIG, "test")
    row, config = load_run(db, run_id)
    assert config == CONFIG
    assert json.loads(row["models"]) == ["reference"]
    with pytest.raises(StoreError, match="no run 'nope'"):
        load_run(db, "nope")


def test_ulids_sort_by_creation_time():
    ids = [ulid(now_ms=t) for t in (1, 2, 1000, 10**12)]
    assert ids == sorted(ids)
    assert all(len(i) == 26 for i in ids)


def test_not_a_database_is_one_line(tmp_path, capsys):
    bad = tmp_path / "x.db"
    bad.write_text("this is not sqlite " * 100)
    assert main(["runs", "--db", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "not a usable SQLite database" in err and "Traceback" not in err
    assert main(["runs", "--db", str(tmp_path / "none.db")]) == 2
    assert "no such database" in capsys.readouterr().err


def test_a_bench_database_opens_with_sqlite_utils_tooling_as_it_is(tmp_path, capsys):
    path = tmp_path / "b.db"
    assert main(["bench", "--db", str(path), "--no-dynamic", "--limit", "3", "-q"]) == 0
    capsys.readouterr()
    tables = set(sqlite_utils.Database(path).table_names())
    assert {"runs", "tasks", "samples", "findings", "scores", Migrations.migrations_table} <= tables
    cli = Path(sys.executable).with_name("sqlite-utils")
    out = subprocess.run(
        [str(cli), "tables", str(path), "--counts"], capture_output=True, text=True, check=True
    ).stdout
    counts = {t["table"]: t["count"] for t in json.loads(out)}
    assert counts["samples"] == 3 and counts["tasks"] == 3 and counts["runs"] == 1
    # foreign keys are declared, so Datasette links samples to runs and findings to samples
    fks = {
        (fk.column, fk.other_table) for fk in sqlite_utils.Database(path)["findings"].foreign_keys
    }
    assert ("sample_id", "samples") in fks
    # and Datasette's own inspect reads it as it is
    datasette = Path(sys.executable).with_name("datasette")
    out = subprocess.run(
        [str(datasette), "inspect", str(path)], capture_output=True, text=True, check=True
    ).stdout
    inspected = json.loads(out)["b"]["tables"]
    assert inspected["samples"]["count"] == 3 and inspected["runs"]["count"] == 1


def test_runs_lists_runs_newest_first(tmp_path, capsys):
    path = tmp_path / "b.db"
    for _ in range(2):
        assert main(["bench", "--db", str(path), "--no-dynamic", "--limit", "1", "-q"]) == 0
    capsys.readouterr()
    assert main(["runs", "--db", str(path), "--json"]) == 0
    runs = json.loads(capsys.readouterr().out)
    assert len(runs) == 2 and runs[0]["id"] > runs[1]["id"]
    assert runs[0]["status"] == "finished" and runs[0]["samples"] == 1
    assert main(["runs", "--db", str(path)]) == 0
    assert runs[0]["id"] in capsys.readouterr().out


def test_a_mutant_is_written_with_its_kind_or_not_at_all(tmp_path):
    db = open_db(tmp_path / "d.db")
    run_id = create_run(db, CONFIG, "test")
    sample_id = record_mutant(db, _sample(run_id, "t1"), {"detected": 1.0}, "embed_dim")
    assert list(db["selftest_mutants"].rows) == [{"sample_id": sample_id, "kind": "embed_dim"}]
    db.execute(
        "create trigger refuse before insert on selftest_mutants "
        "begin select raise(abort, 'refused'); end"
    )
    with pytest.raises(sqlite3.IntegrityError):
        record_mutant(db, _sample(run_id, "t2"), {"detected": 1.0}, "embed_dim")
    assert [r["task_id"] for r in db["samples"].rows] == ["t1"]
    assert db.execute("select count(*) from scores").fetchone()[0] == 1
    db.execute("drop trigger refuse")
    # a replaced sample takes its kind along
    record_sample(db, _sample(run_id, "t1", outcome="error"), [], {})
    assert db.execute("select count(*) from selftest_mutants").fetchone()[0] == 0


def _foreign(path: Path) -> bytes:
    """Another program's SQLite database, in rollback-journal mode; its bytes."""
    con = sqlite3.connect(path)
    with con:
        con.execute("create table notes (id integer primary key, body text)")
        con.execute("insert into notes (body) values ('keep me')")
    con.close()
    return path.read_bytes()


def _journal_mode(path: Path) -> str:
    con = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        return con.execute("pragma journal_mode").fetchone()[0]
    finally:
        con.close()


@pytest.mark.parametrize(
    "argv",
    [["runs"], ["runs", "--json"], ["report"], ["bench", "--no-dynamic", "--limit", "1", "-q"]],
)
def test_a_database_of_another_program_is_refused_untouched(tmp_path, capsys, argv):
    path = tmp_path / "theirs.db"
    before = _foreign(path)
    assert main([*argv, "--db", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert "not a deepeval-lsp database (it holds other tables: notes)" in err, err
    assert path.read_bytes() == before
    assert _journal_mode(path) == "delete"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["theirs.db"]  # no -wal, no -shm


def test_another_sqlite_utils_app_is_not_ours_and_an_empty_sqlite_file_is(tmp_path):
    theirs = tmp_path / "theirs.db"
    db = sqlite_utils.Database(theirs)
    Migrations("someone-else").ensure_migrations_table(db)
    db["_sqlite_migrations"].insert({"migration_set": "someone-else", "name": "m1"})
    db.close()
    before = theirs.read_bytes()
    with pytest.raises(StoreError, match="not a deepeval-lsp database"):
        open_db(theirs)
    assert theirs.read_bytes() == before
    blank = tmp_path / "blank.db"
    sqlite3.connect(blank).execute("vacuum").connection.close()  # SQLite, no table at all
    assert blank.stat().st_size > 0
    open_db(blank).close()
    assert MIGRATIONS.pending(sqlite_utils.Database(blank)) == []


def test_a_file_that_is_not_sqlite_is_refused_by_bench_untouched(tmp_path, capsys):
    path = tmp_path / "notes.db"
    path.write_text("just some notes, not a database\n")
    assert main(["bench", "--db", str(path), "--no-dynamic", "--limit", "1", "-q"]) == 2
    err = capsys.readouterr().err
    assert "not a usable SQLite database (the file is not SQLite)" in err, err
    assert err.count("\n") == 1
    assert path.read_text() == "just some notes, not a database\n"


def _drop_file_permission_override() -> None:
    """In the child: root loses the capabilities that let it write read-only files, so the
    modes below mean for it what they mean for anyone."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, dropped from the bounding set
        if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def _cli(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "deepeval_lsp", *argv],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_drop_file_permission_override if os.geteuid() == 0 else None,
    )


@pytest.fixture
def bench_db(tmp_path) -> Path:
    folder = tmp_path / "ro"
    folder.mkdir()
    path = folder / "b.db"
    assert main(["bench", "--db", str(path), "--no-dynamic", "--limit", "2", "-q"]) == 0
    return path


@pytest.mark.parametrize("what", ["file", "folder"])
def test_a_read_only_database_is_refused_by_bench_and_read_by_runs_and_report(bench_db, what):
    before = bench_db.read_bytes()
    files = sorted(p.name for p in bench_db.parent.iterdir())
    bench_db.chmod(0o444)
    if what == "folder":
        bench_db.parent.chmod(0o555)
    try:
        bench = _cli("bench", "--db", str(bench_db), "--no-dynamic", "--limit", "1", "-q")
        runs = _cli("runs", "--db", str(bench_db), "--json")
        report = _cli("report", "--db", str(bench_db), "--format", "json")
    finally:
        bench_db.parent.chmod(0o755)
        bench_db.chmod(0o644)
    assert bench.returncode == 2, bench.stderr
    assert bench.stderr.count("\n") == 1 and "Traceback" not in bench.stderr, bench.stderr
    reason = "the file is read-only" if what == "file" else "is read-only"
    assert f"{bench_db}: cannot write to it (" in bench.stderr and reason in bench.stderr
    assert runs.returncode == 0, runs.stderr
    assert [r["samples"] for r in json.loads(runs.stdout)] == [2]
    assert report.returncode == 0, report.stderr
    assert json.loads(report.stdout)
    assert bench_db.read_bytes() == before
    if what == "folder":
        assert sorted(p.name for p in bench_db.parent.iterdir()) == files


def test_an_outdated_read_only_database_says_so(tmp_path):
    path = tmp_path / "old.sqlite"
    shutil.copy(Path(__file__).parent / "data" / "release-0.1.0.sqlite", path)
    before = path.read_bytes()
    path.chmod(0o444)
    try:
        result = _cli("report", "--db", str(path))
    finally:
        path.chmod(0o644)
    assert result.returncode == 2, result.stderr
    assert "made by an older deepeval-lsp" in result.stderr, result.stderr
    assert "read-only here (the file is read-only)" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1
    assert path.read_bytes() == before


def test_a_fifo_or_a_symlink_loop_as_the_database_is_refused_without_waiting(tmp_path):
    fifo = tmp_path / "pipe.db"
    os.mkfifo(fifo)
    loop = tmp_path / "loop.db"
    loop.symlink_to(loop)
    for path, why in ((fifo, "not a regular file"), (loop, "symlink loop")):
        for argv in (["runs"], ["bench", "--no-dynamic", "--limit", "1", "-q"]):
            result = subprocess.run(
                [sys.executable, "-m", "deepeval_lsp", *argv, "--db", str(path)],
                capture_output=True,
                text=True,
                timeout=20,  # opening the FIFO would wait for a writer forever
            )
            assert result.returncode == 2, result.stderr
            assert why in result.stderr and result.stderr.count("\n") == 1, result.stderr


def test_ulids_made_in_one_millisecond_keep_their_order():
    ids = [ulid() for _ in range(2000)]  # many of them share a millisecond
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
