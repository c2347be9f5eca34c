"""Smaller pieces of the bench CLI: progress line, cache keys, Retry-After, --help."""

from __future__ import annotations

import io
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from deepeval_lsp.benchmark.generation import GenerationCache, Sampling, _retry_after
from deepeval_lsp.benchmark.progress import Progress, format_duration


def test_progress_prints_rate_eta_and_tally_in_tenths_when_not_a_terminal():
    stream = io.StringIO()
    p = Progress(20, stream=stream)
    for i in range(20):
        p.advance("executable" if i % 2 else "failed")
    p.finish()
    lines = stream.getvalue().splitlines()
    assert 10 <= len(lines) <= 12  # one per tenth, not one per sample
    last = lines[-1]
    assert "20/20 100%" in last and "/s ETA" in last
    assert "executable 10 failed 10" in last


def test_progress_can_be_silenced():
    stream = io.StringIO()
    p = Progress(3, stream=stream, enabled=False)
    p.advance("x")
    p.finish()
    assert stream.getvalue() == ""


def test_durations():
    assert format_duration(5) == "0:05"
    assert format_duration(125) == "2:05"
    assert format_duration(3725) == "1:02:05"


def test_cache_key_covers_everything_that_shapes_an_answer(tmp_path):
    msgs = [{"role": "user", "content": "hi"}]
    s = Sampling(0.8, 0.95, 2048)
    base = GenerationCache.key("m", "http://x/v1", msgs, s, 0)
    variants = [
        GenerationCache.key("m2", "http://x/v1", msgs, s, 0),
        GenerationCache.key("m", "http://y/v1", msgs, s, 0),
        GenerationCache.key("m", "http://x/v1", [{"role": "user", "content": "ho"}], s, 0),
        GenerationCache.key("m", "http://x/v1", msgs, Sampling(0.7, 0.95, 2048), 0),
        GenerationCache.key("m", "http://x/v1", msgs, Sampling(0.8, 0.9, 2048), 0),
        GenerationCache.key("m", "http://x/v1", msgs, Sampling(0.8, 0.95, 100), 0),
        GenerationCache.key("m", "http://x/v1", msgs, s, 1),
    ]
    assert len({base, *variants}) == 1 + len(variants)
    assert GenerationCache.key("m", "http://x/v1/", msgs, s, 0) == base  # trailing slash
    cache = GenerationCache(tmp_path)
    assert cache.get(base) is None
    cache.put(base, {"text": "answer"})
    assert cache.get(base) == {"text": "answer"}
    assert GenerationCache(None).get(base) is None


def test_retry_after_in_seconds_milliseconds_and_http_dates():
    assert _retry_after({"retry-after": "3"}) == 3.0
    assert _retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 <= _retry_after({"retry-after": when}) <= 31
    assert _retry_after({"retry-after": "soon"}) is None
    assert _retry_after({}) is None


@pytest.mark.parametrize("command", ["bench", "runs", "report"])
def test_help_of_each_command(command):
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "deepeval_lsp", command, "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "--db" in out
    if command == "bench":
        assert "--suite builtin --model reference" in out and "offline" in out
    # the subcommand's heavy imports (openai, torch, sqlite-utils) wait for run()
    assert time.perf_counter() - t0 < 30


def test_help_imports_nothing_heavy():
    code = (
        "import sys, argparse\nfrom deepeval_lsp.benchmark.cli import bench, runs, report\n"
        "for m in (bench, runs, report):\n"
        "    m.add_arguments(argparse.ArgumentParser())\n"
        "heavy = [m for m in ('openai', 'torch', 'sqlite_utils', 'keras')\n"
        "         if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == ""
