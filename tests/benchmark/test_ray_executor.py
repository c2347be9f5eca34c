"""`bench --executor ray` on real local Ray clusters (an in-process `ray.init(num_cpus=2)`, and a
`ray start --head` cluster with two worker nodes on 127.0.0.1, each started and stopped here):
the same rows as the local executor on built-in tasks, dynamic pass and repair rounds included;
an actor killed mid-run loses no sample and writes none twice; Ctrl+C of a driver leaves the
cluster free and the run resumable."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from deepeval_lsp.benchmark.selftest import mutants
from deepeval_lsp.diagnostics.tasks.suite import load_suite

from deepeval_lsp.cli import main

from .sqlite_rows import db_rows

# the optional extra (`pip install deepeval-lsp[ray]`; scripts/install.sh --tests installs it)
ray = pytest.importorskip("ray", reason="Ray is not installed (the `ray` extra)")

SUITE = load_suite("builtin")
TASKS = SUITE.tasks[:3]
PROMPTINGS = "zeroshot,zeroshot+repair-fixes:1"
SAMPLES = len(TASKS) * 3 * 2  # reference + 2 mutants per task, under both promptings
# what differs between two runs that scored the same programs the same way
_VOLATILE = {"id", "run_id", "created_at", "scoring_ms", "generation_ms", "sample_id"}


def _replay(folder: Path) -> Path:
    """A replay file: each task's reference, a static mistake (with a verified fix) and a
    mistake only running the model shows."""
    path = folder / "answers.jsonl"
    lines = []
    for task in TASKS:
        wrong = [m.source for m in mutants(task, ["hallucinated_member", "linear_in_features"])]
        for code in [task.reference, *wrong]:
            lines.append(json.dumps({"model": "m", "prompting": "zeroshot", "task": task.id,
                                     "code": code}))  # fmt: skip
    path.write_text("\n".join(lines) + "\n")
    return path


def _args(db: Path, replay: Path, *extra: str) -> list[str]:
    return [
        "bench",
        "--db",
        str(db),
        "--model",
        f"replay:{replay}",
        "--prompting",
        PROMPTINGS,
        "--samples",
        "3",
        "--workers",
        "2",
        "-q",
        *[a for t in TASKS for a in ("--task", t.id)],
        *extra,
    ]


def _key(r: dict) -> tuple:
    return (r["model"], r["prompting"], r["task_id"], r["sample_index"])


def _rows(db: Path) -> dict[str, dict]:
    """Every stored row of the database's one run, by sample key, without what varies."""

    def clean(r: dict) -> dict:
        return {k: v for k, v in r.items() if k not in _VOLATILE}

    samples = db_rows(db, "select * from samples")
    keys = {s["id"]: _key(s) for s in samples}
    out: dict[str, dict] = {
        "samples": {_key(s): clean(s) for s in samples},
        "findings": {},
        "scores": {},
        "rounds": {},
    }
    assert len(out["samples"]) == len(samples)
    for f in db_rows(db, "select * from findings order by id"):
        out["findings"].setdefault(keys[f["sample_id"]], []).append(clean(f))
    for s in db_rows(db, "select * from scores order by name"):
        out["scores"].setdefault(keys[s["sample_id"]], {})[s["name"]] = s["value"]
    for r in db_rows(db, "select * from rounds order by round"):
        out["rounds"].setdefault(_key(r), []).append(clean(r))
    return out


@pytest.fixture(scope="module")
def replay(tmp_path_factory) -> Path:
    return _replay(tmp_path_factory.mktemp("replay"))


@pytest.fixture(scope="module")
def local_rows(tmp_path_factory, replay) -> dict[str, dict]:
    """The local executor's rows, what every Ray run must store too."""
    db = tmp_path_factory.mktemp("local") / "local.db"
    assert main(_args(db, replay)) == 0
    rows = _rows(db)
    assert len(rows["samples"]) == SAMPLES
    outcomes = {s["outcome"] for s in rows["samples"].values()}
    assert {"executable", "failed"} <= outcomes  # the dynamic pass ran and decided
    assert any(r["kind"] == "fixes" for rs in rows["rounds"].values() for r in rs)
    return rows


def _ray_pids() -> set[int]:
    """The live processes of Ray (raylet, gcs_server, ray::… agents and workers)."""
    pids = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                continue
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
            if b"ray::" in cmd or b"/ray/" in cmd or b"raylet" in cmd or b"gcs_server" in cmd:
                pids.add(int(entry.name))
    return pids


@pytest.fixture
def no_ray_left(request) -> None:
    """After the test, no Ray process it started is left (waiting a little for them to exit;
    any left is killed, by its pid, and fails the test)."""
    before = _ray_pids()

    def check() -> None:
        deadline = time.monotonic() + 20
        while (left := _ray_pids() - before) and time.monotonic() < deadline:
            time.sleep(0.2)
        for pid in left:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        assert not left, f"Ray processes left behind: {sorted(left)}"

    request.addfinalizer(check)


@pytest.fixture
def short_tmp(request) -> Path:
    """Ray's temp folder: short, for the unix socket paths under it."""
    path = Path(tempfile.mkdtemp(prefix="ray-", dir="/tmp"))
    request.addfinalizer(lambda: shutil.rmtree(path, ignore_errors=True))
    return path


def test_an_actor_killed_mid_run_loses_nothing_and_the_rows_are_the_local_ones(
    tmp_path, replay, local_rows, short_tmp, no_ray_left
):
    from deepeval_lsp.benchmark.executor import ScoringSettings
    from deepeval_lsp.benchmark.ray_executor import RayExecutor
    from deepeval_lsp.benchmark.runner import Runner
    from deepeval_lsp.benchmark.sources import parse_models
    from deepeval_lsp.benchmark.store import RunConfig, create_run, open_db, record_tasks

    ray.init(
        num_cpus=2,
        object_store_memory=200 * 1024**2,
        include_dashboard=False,
        _temp_dir=str(short_tmp),
        log_to_driver=False,
    )
    try:
        config = RunConfig(
            suite="builtin",
            models=[f"replay:{replay}"],
            promptings=PROMPTINGS.split(","),
            samples=3,
            temperature=0.8,
            top_p=0.95,
            max_tokens=0,
            base_url=None,
            task_ids=[t.id for t in TASKS],
        )
        db = open_db(tmp_path / "ray.db")
        run_id = create_run(db, config, "test")
        record_tasks(db, run_id, TASKS)
        executor = RayExecutor(ScoringSettings.of(config), TASKS)
        assert len(executor.actor_handles()) == 2
        runner = Runner(
            db, run_id, config, SUITE, TASKS, parse_models(config.models),
            client=None, executor=executor,
        )  # fmt: skip

        async def kill_one_actor_in_flight() -> None:
            while runner.stats.recorded < 2:
                await asyncio.sleep(0.05)
            assert runner.stats.recorded < SAMPLES - 4  # the actors still have work queued
            ray.kill(executor.actor_handles()[0])

        async def run() -> None:
            killer = asyncio.create_task(kill_one_actor_in_flight())
            await runner.run()
            await killer

        try:
            asyncio.run(run())
        finally:
            executor.close()
        assert executor.stats.lost == 1
        assert executor.stats.retried >= 1  # its calls in flight went to another actor
        assert runner.stats.recorded == SAMPLES  # each sample written once
        db.close()
        assert _rows(tmp_path / "ray.db") == local_rows
    finally:
        ray.shutdown()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ray_node(args: list[str], env: dict[str, str], request) -> None:
    """`ray start --block ARGS`: one node, stopped (SIGTERM: it stops what it started) when
    the test ends; returns once the node is up."""
    cmd = [sys.executable, "-c", "from ray.scripts.scripts import main; main()", "start"]
    proc = subprocess.Popen(
        [*cmd, "--block", "--node-ip-address=127.0.0.1", *args],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip

    def stop() -> None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    request.addfinalizer(stop)
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if "Ray runtime started" in line:
            return
    raise AssertionError("ray start failed:\n" + "".join(seen))


def _free_cpus(address: str, env: dict[str, str]) -> float:
    code = (
        f"import ray; ray.init(address={address!r}, logging_level='ERROR', log_to_driver=False); "
        "print(ray.available_resources().get('CPU', 0))"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


@pytest.fixture
def cluster(request, short_tmp, no_ray_left) -> tuple[str, dict[str, str]]:
    """A head node (no CPU of its own) and two worker nodes of one CPU each, on 127.0.0.1."""
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    env.pop("RAY_ADDRESS", None)
    port = _free_port()
    address = f"127.0.0.1:{port}"
    store = f"--object-store-memory={100 * 1024**2}"
    head = ["--head", f"--port={port}", "--num-cpus=0", "--include-dashboard=false"]
    _ray_node([*head, f"--temp-dir={short_tmp}", store, "--disable-usage-stats"], env, request)
    for _ in range(2):
        _ray_node([f"--address={address}", "--num-cpus=1", store], env, request)
    deadline = time.monotonic() + 30
    while _free_cpus(address, env) < 2:
        assert time.monotonic() < deadline, "the worker nodes did not join"
        time.sleep(0.5)
    return address, env


def test_ctrl_c_on_a_two_node_cluster_frees_it_and_the_resumed_run_has_the_local_rows(
    tmp_path, replay, local_rows, cluster
):
    address, env = cluster
    db = tmp_path / "cluster.db"
    cmd = [sys.executable, "-m", "deepeval_lsp", *_args(db, replay)]
    ray_args = ["--executor", "ray", "--ray-address", address]
    proc = subprocess.Popen([*cmd, *ray_args], env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not (db.exists() and db_rows(db, "select count(*) n from samples")[0]["n"] >= 2):
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() < deadline
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        err = proc.communicate(timeout=60)[1]
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "resume with" in err
    saved = db_rows(db, "select count(*) n from samples")[0]["n"]
    assert 2 <= saved < SAMPLES
    deadline = time.monotonic() + 30  # the interrupted driver's actors are gone
    while (free := _free_cpus(address, env)) < 2 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert free == 2

    run_id = db_rows(db, "select id from runs")[0]["id"]
    resume = [sys.executable, "-m", "deepeval_lsp", "bench", "--db", str(db), "--resume", run_id]
    done = subprocess.run(
        [*resume, "-q", *ray_args], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert f"{SAMPLES - saved} samples scored, {saved} already done" in done.stderr
    assert _rows(db) == local_rows


def test_without_ray_the_executor_is_refused_in_one_line(tmp_path, replay, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` fails as when not installed
    assert main(_args(tmp_path / "x.db", replay, "--executor", "ray")) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install 'deepeval-lsp[ray]'" in err
    assert (
        not (tmp_path / "x.db").exists() or db_rows(tmp_path / "x.db", "select * from runs") == []
    )
    assert main(_args(tmp_path / "y.db", replay, "--ray-address", "127.0.0.1:1")) == 2
    assert "need --executor ray" in capsys.readouterr().err


def test_a_cluster_that_is_not_there_is_refused_in_one_line_at_once(tmp_path, replay, capsys):
    address = f"127.0.0.1:{_free_port()}"
    t0 = time.monotonic()
    assert (
        main(_args(tmp_path / "x.db", replay, "--executor", "ray", "--ray-address", address)) == 2
    )
    assert time.monotonic() - t0 < 30
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"cannot reach the Ray cluster at {address}" in err
    assert db_rows(tmp_path / "x.db", "select * from runs") == []
