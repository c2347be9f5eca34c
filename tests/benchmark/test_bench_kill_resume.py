"""Kill a real `deepeval-lsp bench` process mid-run (SIGKILL, then Ctrl-C; and SIGKILL in the
middle of repair conversations) and resume it."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time

from deepeval_lsp.benchmark.selftest import mutants
from deepeval_lsp.diagnostics.tasks.suite import load_suite

from .fake_openai import FakeOpenAI, completion
from .repair_script import RepairScript, tokens, turn_of

TASKS = load_suite("builtin").tasks[:7]
SAMPLES = 3
PLANNED = len(TASKS) * SAMPLES


class Gated:
    """Answers the first `open_for` requests at once; the rest wait until `release()`, so
    the run is surely still going when the test interrupts it."""

    def __init__(self, open_for: int) -> None:
        self.open_for = open_for
        self.gate = threading.Event()
        self.lock = threading.Lock()
        self.seen = 0

    def __call__(self, user: str, n: int):
        with self.lock:
            self.seen += 1
            wait = self.seen > self.open_for
        if wait:
            self.gate.wait(timeout=60)
        task = next(t for t in TASKS if t.requirement in user)
        return completion(f"```python\n{task.reference}```")

    def release(self) -> None:
        self.gate.set()


def _cmd(db, *args: str) -> list[str]:
    return [sys.executable, "-m", "deepeval_lsp", "bench", "--db", str(db), *args]


def _start(db, server, cache) -> subprocess.Popen:
    args = [
        "--model",
        "openai:test-model",
        "--base-url",
        server.base_url,
        "--prompting",
        "zeroshot",
        "--samples",
        str(SAMPLES),
        "--concurrency",
        "2",
        "--no-dynamic",
        "--cache-dir",
        str(cache),
        *[a for t in TASKS for a in ("--task", t.id)],
    ]
    return subprocess.Popen(
        _cmd(db, *args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "OPENAI_API_KEY": "sk-test"},
    )


def _count(db) -> int:
    if not db.exists():
        return 0
    con = sqlite3.connect(db, timeout=5)
    try:
        return con.execute("select count(*) from samples").fetchone()[0]
    except sqlite3.OperationalError:
        return 0  # not migrated yet
    finally:
        con.close()


def _wait_for(db, n: int, proc: subprocess.Popen, limit: float = 60) -> None:
    end = time.monotonic() + limit
    while _count(db) < n:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < end, "the run made no progress"
        time.sleep(0.05)


def _keys(db) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return con.execute("select model, prompting, task_id, sample_index from samples").fetchall()
    finally:
        con.close()


def _run_id(db) -> str:
    con = sqlite3.connect(db)
    try:
        return con.execute("select id from runs").fetchone()[0]
    finally:
        con.close()


def test_sigkill_mid_run_then_resume_scores_every_sample_exactly_once(tmp_path):
    db = tmp_path / "b.db"
    script = Gated(open_for=5)
    with FakeOpenAI(script) as server:
        proc = _start(db, server, tmp_path / "cache")
        _wait_for(db, 4, proc)
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        kept = _keys(db)
        assert 4 <= len(kept) <= 5, len(kept)
        script.release()

        resumed = subprocess.run(
            _cmd(db, "--resume", _run_id(db), "-q"),
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "OPENAI_API_KEY": "sk-test"},
        )
        assert resumed.returncode == 0, resumed.stderr
        asked = len(server.log)
    keys = _keys(db)
    assert len(keys) == PLANNED
    assert len(set(keys)) == PLANNED
    assert set(kept) <= set(keys)
    # the answers received before the kill came from the cache: only the (at most two)
    # requests held at the gate were asked again
    assert PLANNED <= asked <= PLANNED + 2, (asked, len(kept))
    assert f"{PLANNED - len(kept)} samples scored, {len(kept)} already done" in resumed.stderr, (
        resumed.stderr
    )


def test_ctrl_c_saves_what_is_scored_and_prints_the_resume_command(tmp_path):
    db = tmp_path / "b.db"
    script = Gated(open_for=3)
    with FakeOpenAI(script) as server:
        proc = _start(db, server, tmp_path / "cache")
        _wait_for(db, 3, proc)
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=60)
        script.release()
    assert proc.returncode == 130, err
    run_id = _run_id(db)
    assert f"resume with: deepeval-lsp bench --db {db} --resume {run_id}" in err
    assert "Traceback" not in err, err
    assert _count(db) == 3, err
    con = sqlite3.connect(db)
    try:
        assert con.execute("select status from runs").fetchone()[0] == "interrupted"
    finally:
        con.close()


class GatedTurns:
    """A stubborn repair model (tests/benchmark/repair_script.py) whose turns from `hold_from`
    on wait until `release()`: the run is killed with those rounds in flight."""

    def __init__(self, tasks, broken: dict[str, str], hold_from: int) -> None:
        self.script = RepairScript(tasks, broken)
        self.hold_from = hold_from
        self.gate = threading.Event()

    def __call__(self, body: dict, n: int):
        if turn_of(body) >= self.hold_from:
            self.gate.wait(timeout=60)
        return self.script(body, n)

    def release(self) -> None:
        self.gate.set()


def _rounds_stored(db, round_index: int) -> int:
    try:
        con = sqlite3.connect(db, timeout=5)
    except sqlite3.Error:
        return 0
    try:
        return con.execute("select count(*) from rounds where round = ?", [round_index]).fetchone()[
            0
        ]
    except sqlite3.OperationalError:
        return 0  # not migrated yet
    finally:
        con.close()


def test_sigkill_mid_conversation_then_resume_asks_no_stored_round_again(tmp_path):
    """Three conversations of a model that never fixes its static error: killed once rounds 0
    and 1 are stored and round 2 is in flight, the resumed run asks only round 2 (no cache:
    a repeated round would reach the server)."""
    tasks = [t for t in load_suite("builtin").tasks if mutants(t, ["hallucinated_member"])][:3]
    broken = {t.id: mutants(t, ["hallucinated_member"])[0].source for t in tasks}
    script = GatedTurns(tasks, broken, hold_from=2)
    db = tmp_path / "b.db"
    args = ["--model", "openai:stubborn", "--prompting", "repair", "--samples", "1"]
    args += ["--concurrency", "2", "--no-dynamic", "--no-cache", "-q"]
    args += [a for t in tasks for a in ("--task", t.id)]
    env = {**os.environ, "OPENAI_API_KEY": "sk-test"}
    with FakeOpenAI(script, by_request=True) as server:
        proc = subprocess.Popen(
            _cmd(db, *args, "--base-url", server.base_url),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        end = time.monotonic() + 60
        while _rounds_stored(db, 1) < len(tasks):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < end, "the run made no progress"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        assert _count(db) == 0  # no conversation finished
        assert _rounds_stored(db, 2) == 0
        script.release()
        resumed = subprocess.run(
            _cmd(db, "--resume", _run_id(db), "-q"),
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )
        assert resumed.returncode == 0, resumed.stderr
        asked = [(script.script.task_of(e.body).id, turn_of(e.body)) for e in server.log]
    for t in tasks:
        # every stored round was asked once; only the rounds in flight at the kill twice
        assert asked.count((t.id, 0)) == 1 and asked.count((t.id, 1)) == 1, asked
        assert 1 <= asked.count((t.id, 2)) <= 2, asked
    assert _count(db) == len(tasks)
    con = sqlite3.connect(db)
    try:
        rows = con.execute(
            "select s.task_id, count(r.round), s.prompt_tokens, s.completion_tokens "
            "from samples s join rounds r on r.sample_id = s.id group by s.id"
        ).fetchall()
    finally:
        con.close()
    sums = (sum(tokens(k)[0] for k in range(3)), sum(tokens(k)[1] for k in range(3)))
    assert sorted(rows) == sorted((t.id, 3, *sums) for t in tasks)
