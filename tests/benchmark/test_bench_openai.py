"""`deepeval-lsp bench` against a real scripted OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import json

import pytest
from deepeval_lsp.benchmark.extract import extract_code
from deepeval_lsp.diagnostics.tasks.suite import load_suite

from deepeval_lsp.cli import main

from .fake_openai import FakeOpenAI, Reply, completion, error
from .sqlite_rows import db_rows

SUITE = load_suite("builtin")
TASKS = SUITE.tasks[:7]
PLAIN, FENCED, LIMITED, BROKEN, MALFORMED, SLOW, REFUSED = TASKS


def _task_of(user: str):
    for t in TASKS:
        if t.requirement in user:
            return t
    raise AssertionError("a request for a task outside the run")


def script(user: str, n: int) -> Reply:
    task = _task_of(user)
    code = task.reference
    if task is PLAIN:
        return completion(code)
    if task is FENCED:
        return completion(f"Here is the model.\n\n```python\n{code}```\n\nIt uses ReLU.")
    if task is LIMITED and n == 0:
        return error(429, "slow down", {"Retry-After": "1"})
    if task is BROKEN and n == 0:
        return error(500, "upstream failure")
    if task is MALFORMED and n == 0:
        return Reply(raw=b'{"choices": [ this is not json')
    if task is SLOW:
        # the first answer comes after the client's timeout; later ones are slow but in time
        return Reply(body=completion(f"```python\n{code}```").body, delay=6.0 if n == 0 else 0.2)
    if task is REFUSED:
        return error(400, "this prompt is refused")
    return completion(f"```python\n{code}```")


def _bench(db, server, *extra: str) -> int:
    return main(
        [
            "bench",
            "--db",
            str(db),
            "--model",
            "openai:test-model",
            "--base-url",
            server.base_url,
            "--prompting",
            "zeroshot",
            "--samples",
            "2",
            "--retry-base-delay",
            "0.05",
            "--request-timeout",
            "3",
            "--no-dynamic",
            "-q",
            "--workers",
            "2",
            *[a for t in TASKS for a in ("--task", t.id)],
            *extra,
        ]
    )


def test_scripted_server_run_completes_with_the_right_rows_and_retries(tmp_path, capsys):
    db = tmp_path / "b.db"
    cache = tmp_path / "cache"
    with FakeOpenAI(script) as server:
        assert _bench(db, server, "--cache-dir", str(cache)) == 0
        samples = db_rows(db, "select * from samples order by task_id, sample_index")
        assert len(samples) == len(TASKS) * 2
        assert len({(s["task_id"], s["sample_index"]) for s in samples}) == len(samples)
        by_task: dict[str, list[dict]] = {}
        for s in samples:
            by_task.setdefault(s["task_id"], []).append(s)

        for task in (PLAIN, FENCED, LIMITED, BROKEN, MALFORMED, SLOW):
            for s in by_task[task.id]:
                assert s["outcome"] == "not_measured", (task.id, s["error"])
                assert s["valid"] == 1
                assert s["code"] == extract_code(task.reference)
                assert s["prompt_tokens"] == 11 and s["completion_tokens"] == 22
                assert json.loads(s["prompt"])[-1]["role"] == "user"
        assert all(
            s["outcome"] == "error" and "HTTP 400" in s["error"] for s in by_task[REFUSED.id]
        )
        fenced = by_task[FENCED.id][0]
        assert fenced["raw_answer"].startswith("Here is the model.")

        # each failure cost exactly one extra request, and the retried samples say so
        for task in (LIMITED, BROKEN, MALFORMED, SLOW):
            assert len(server.requests_for(task.requirement)) == 3, task.id
            assert sorted(s["attempts"] for s in by_task[task.id]) == [1, 2], task.id
        # the 429's Retry-After (1 s) held back the retry
        limited = server.requests_for(LIMITED.requirement)
        first_429 = next(r for r in limited if r.status == 429)
        retry = max(r.at for r in limited)  # the other sample's request came at once
        assert retry - first_429.at >= 0.95

        # sampling parameters as the study's defaults
        body = server.log[0].body
        assert body["temperature"] == 0.8 and body["top_p"] == 0.95
        assert body["model"] == "test-model"

        # a second run is served from the cache: no request reaches the server
        before = len(server.log)
        assert _bench(tmp_path / "c.db", server, "--cache-dir", str(cache)) == 0
        cached = db_rows(tmp_path / "c.db", "select cached, outcome from samples")
        assert len(server.log) - before == 2  # only the refused task is asked again
        assert sum(r["cached"] for r in cached) == 12
    out = capsys.readouterr()
    assert "12 samples scored" not in out.out  # the summary goes to stderr
    assert "retries" in out.err
    assert (
        "2 samples could not be generated or checked (most often: HTTP 400: this prompt "
        "is refused)" in out.err
    )


def test_resume_redoes_only_failed_generations(tmp_path):
    db = tmp_path / "b.db"
    refuse = {"on": True}

    def flaky(user: str, n: int) -> Reply:
        if refuse["on"] and REFUSED.requirement in user:
            return error(400, "not now")
        return completion(f"```python\n{_task_of(user).reference}```")

    with FakeOpenAI(flaky) as server:
        assert _bench(db, server, "--no-cache") == 0
        run_id = db_rows(db, "select id from runs")[0]["id"]
        assert len(db_rows(db, "select 1 from samples where outcome = 'error'")) == 2
        refuse["on"] = False
        before = len(server.log)
        assert (
            main(
                [
                    "bench",
                    "--db",
                    str(db),
                    "--resume",
                    run_id,
                    "-q",
                    "--no-cache",
                    "--base-url",
                    server.base_url,
                ]
            )
            == 0
        )
        assert len(server.log) - before == 2
    samples = db_rows(db, "select * from samples")
    assert len(samples) == len(TASKS) * 2
    assert not [s for s in samples if s["outcome"] == "error"]
    assert db_rows(db, "select status from runs")[0]["status"] == "finished"


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (error(401, "Incorrect API key provided"), "refused the API key (HTTP 401)"),
        (error(404, "The model `test-model` does not exist"), "unknown model 'test-model'"),
    ],
)
def test_fatal_server_answers_stop_the_run_with_one_line(tmp_path, capsys, reply, expected):
    with FakeOpenAI(lambda user, n: reply) as server:
        rc = _bench(tmp_path / "b.db", server, "--no-cache")
    err = capsys.readouterr().err
    assert rc == 1
    line = next(x for x in err.splitlines() if "error:" in x)
    assert expected in line
    assert "Traceback" not in err
    assert "--resume" in err
    assert db_rows(tmp_path / "b.db", "select status from runs")[0]["status"] == "failed"


def test_unreachable_endpoint_is_one_line(tmp_path, capsys):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    rc = main(
        [
            "bench",
            "--db",
            str(tmp_path / "b.db"),
            "--model",
            "openai:m",
            "--base-url",
            f"http://127.0.0.1:{port}/v1",
            "--task",
            PLAIN.id,
            "--samples",
            "1",
            "--prompting",
            "zeroshot",
            "--retry-base-delay",
            "0.01",
            "--no-cache",
            "-q",
        ]
    )
    err = capsys.readouterr().err
    assert rc == 1
    assert f"cannot reach http://127.0.0.1:{port}/v1" in err
    assert "Traceback" not in err


def test_missing_key_for_openai_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    rc = main(["bench", "--db", str(tmp_path / "b.db"), "--model", "openai:gpt-4o", "-q"])
    assert rc == 2
    assert "OPENAI_API_KEY is not set" in capsys.readouterr().err


def test_cost_from_the_server_or_from_prices(tmp_path):
    def with_cost(user: str, n: int) -> Reply:
        reply = completion(f"```python\n{_task_of(user).reference}```", 1000, 500)
        if PLAIN.requirement in user:
            reply.body["usage"]["cost"] = 0.0123
        return reply

    db = tmp_path / "c.db"
    with FakeOpenAI(with_cost) as server:
        assert (
            main(
                [
                    "bench",
                    "--db",
                    str(db),
                    "--model",
                    "openai:m",
                    "--base-url",
                    server.base_url,
                    "--prompting",
                    "zeroshot",
                    "--samples",
                    "1",
                    "--task",
                    PLAIN.id,
                    "--task",
                    FENCED.id,
                    "--no-dynamic",
                    "-q",
                    "--no-cache",
                    "--price-in",
                    "2",
                    "--price-out",
                    "10",
                ]
            )
            == 0
        )
    costs = {
        r["task_id"]: r["cost_usd"] for r in db_rows(db, "select task_id, cost_usd from samples")
    }
    assert costs[PLAIN.id] == pytest.approx(0.0123)  # the server's own figure wins
    assert costs[FENCED.id] == pytest.approx((1000 * 2 + 500 * 10) / 1e6)
