"""Two real `deepeval-lsp bench` processes on one database file: different runs both finish,
the same run is written by one of them only, and a write lock held too long ends a run with
one line, exit status 2 and nothing half-written."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

from deepeval_lsp.diagnostics.tasks.suite import load_suite

from .fake_openai import FakeOpenAI, Reply, completion

TASKS = load_suite("builtin").tasks[:7]
PROMPTINGS = ("zeroshot", "oneshot")
SAMPLES = 5
PLANNED = len(TASKS) * len(PROMPTINGS) * SAMPLES
ENV = {**os.environ, "OPENAI_API_KEY": "sk-test"}


class Gated:
    """Answers every request with its task's reference; while `closed`, requests wait."""

    def __init__(self, closed: bool = False) -> None:
        self.gate = threading.Event()
        if not closed:
            self.gate.set()

    def __call__(self, user: str, n: int) -> Reply:
        self.gate.wait(timeout=60)
        task = next(t for t in TASKS if t.requirement in user)
        return completion(f"```python\n{task.reference}```")


def _bench(db: Path, server: FakeOpenAI, *args: str, env: dict | None = None) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "deepeval_lsp", "bench", "--db", str(db), "-q", *args]
    if "--resume" not in args:
        cmd += [
            "--model",
            "openai:test-model",
            "--base-url",
            server.base_url,
            "--samples",
            str(SAMPLES),
            "--concurrency",
            "4",
            "--no-dynamic",
            "--no-cache",
            *[a for p in PROMPTINGS for a in ("--prompting", p)],
            *[a for t in TASKS for a in ("--task", t.id)],
        ]
    return subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env or ENV
    )


def _query(db: Path, sql: str, params: tuple = ()) -> list[tuple]:
    con = sqlite3.connect(db, timeout=30)
    try:
        return con.execute(sql, params).fetchall()
    except sqlite3.OperationalError:
        return []  # not migrated yet
    finally:
        con.close()


def _wait(predicate, procs: list[subprocess.Popen], limit: float = 60) -> None:
    end = time.monotonic() + limit
    while not predicate():
        for p in procs:
            assert p.poll() is None, p.communicate()
        assert time.monotonic() < end, "no progress"
        time.sleep(0.05)


def _keys(db: Path, run_id: str) -> list[tuple]:
    return _query(
        db,
        "select model, prompting, task_id, sample_index from samples where run_id = ?",
        (run_id,),
    )


def _nothing_orphaned(db: Path) -> None:
    for table in ("findings", "scores"):
        orphans = _query(
            db, f"select count(*) from {table} where sample_id not in (select id from samples)"
        )
        assert orphans == [(0,)], table


def test_three_runs_on_one_new_database_all_finish(tmp_path: Path) -> None:
    db = tmp_path / "b.db"
    with FakeOpenAI(Gated()) as server:
        procs = [_bench(db, server) for _ in range(3)]
        results = [p.communicate(timeout=300) for p in procs]
    for p, (_out, err) in zip(procs, results, strict=True):
        assert p.returncode == 0, err
        assert "Traceback" not in err and "locked" not in err, err
    runs = [r for (r,) in _query(db, "select id from runs order by id")]
    assert len(runs) == 3
    for run_id in runs:
        keys = _keys(db, run_id)
        assert len(keys) == PLANNED and len(set(keys)) == PLANNED
    assert _query(db, "select status from runs") == [("finished",)] * 3
    assert _query(db, "select count(*) from run_leases") == [(0,)]
    _nothing_orphaned(db)


def test_a_run_being_written_is_refused_to_a_second_process(tmp_path: Path) -> None:
    db = tmp_path / "b.db"
    script = Gated(closed=True)
    with FakeOpenAI(script) as server:
        first = _bench(db, server)
        _wait(lambda: _query(db, "select run_id, pid from run_leases"), [first])
        ((run_id, pid),) = _query(db, "select run_id, pid from run_leases")
        assert pid == first.pid
        second = subprocess.run(
            [sys.executable, "-m", "deepeval_lsp", "bench", "--db", str(db), "--resume", run_id],
            capture_output=True,
            text=True,
            timeout=60,
            env=ENV,
        )
        assert second.returncode == 2, second.stderr
        assert second.stderr.count("\n") == 1, second.stderr
        assert f"run {run_id} is being written by another process (pid {first.pid}" in (
            second.stderr
        )
        script.gate.set()
        _out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    keys = _keys(db, run_id)
    assert len(keys) == PLANNED and len(set(keys)) == PLANNED
    assert _query(db, "select count(*) from run_leases") == [(0,)]


def test_two_resumes_of_one_run_write_each_sample_once(tmp_path: Path) -> None:
    db = tmp_path / "b.db"
    script = Gated(closed=True)
    with FakeOpenAI(script) as server:
        # a run that stopped half-way (its process killed: the lease it left is stale)
        first = _bench(db, server)
        _wait(lambda: _query(db, "select run_id from run_leases"), [first])
        first.kill()
        first.communicate()
        ((run_id,),) = _query(db, "select id from runs")
        script.gate.set()
        resumes = [_bench(db, server, "--resume", run_id) for _ in range(2)]
        results = [p.communicate(timeout=300) for p in resumes]
    codes = sorted(p.returncode for p in resumes)
    errors = [err for _out, err in results]
    assert all("Traceback" not in e and "locked" not in e for e in errors), errors
    # one resume finished the run; the other was refused or, started after it, found it done
    assert codes in ([0, 0], [0, 2]), errors
    if codes == [0, 2]:
        assert any("is being written by another process" in e for e in errors), errors
    keys = _keys(db, run_id)
    assert len(keys) == PLANNED and len(set(keys)) == PLANNED
    assert _query(db, "select status from runs") == [("finished",)]


def test_a_write_lock_held_past_the_timeout_ends_the_run_cleanly(tmp_path: Path) -> None:
    db = tmp_path / "b.db"
    env = {**ENV, "DEEPEVAL_DB_TIMEOUT": "1"}
    script = Gated(closed=True)
    with FakeOpenAI(script) as server:
        proc = _bench(db, server, env=env)
        _wait(lambda: _query(db, "select run_id from run_leases"), [proc])
        holder = sqlite3.connect(db, timeout=30)
        holder.execute("BEGIN IMMEDIATE")  # another program keeps the write lock
        try:
            script.gate.set()
            _out, err = proc.communicate(timeout=120)
            # a new run cannot even start while the lock is held
            late = _bench(db, server, env=env)
            _late_out, late_err = late.communicate(timeout=120)
        finally:
            holder.rollback()
            holder.close()
        assert proc.returncode == 2, err
        assert "Traceback" not in err, err
        assert "is busy: another process held its write lock for more than 1 s" in err, err
        ((run_id,),) = _query(db, "select id from runs")
        assert f"--resume {run_id}" in err, err
        assert late.returncode == 2 and late_err.count("\n") == 1, late_err
        assert "is busy" in late_err and "Traceback" not in late_err, late_err
        assert len(_query(db, "select id from runs")) == 1
        _nothing_orphaned(db)
        # the run resumes once the lock is gone, and every sample is written once
        resumed = _bench(db, server, "--resume", run_id)
        _out, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err
    keys = _keys(db, run_id)
    assert len(keys) == PLANNED and len(set(keys)) == PLANNED
