"""What the unconfined zygote reads of a child's folder: the tail of its captured output (a plain
file, a bounded read, never a symlink, FIFO or device) and the disk walk (nothing followed,
nothing but folders opened). The child may leave anything there."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from deepeval_lsp.diagnostics.dynamic.worker_pool import WorkerPool
from deepeval_lsp.diagnostics.dynamic.zygote import _output_tail
from deepeval_lsp.diagnostics.sandbox.confine import OUTPUT_FILE
from deepeval_lsp.diagnostics.sandbox.limits import disk_usage

REPO = Path(__file__).resolve().parents[3]
JOBS = "tests.diagnostics.sandbox_jobs:"


@pytest.fixture
def folder(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """A child's folder and the zygote's descriptor of it."""
    job = tmp_path / "job"
    job.mkdir()
    fd = os.open(job, os.O_RDONLY | os.O_DIRECTORY)
    yield job, fd
    os.close(fd)


def test_the_tail_of_a_plain_file_is_its_last_bytes_and_no_more(folder):
    job, fd = folder
    (job / OUTPUT_FILE).write_bytes(b"a" * 10_000 + b"the end")
    tail = _output_tail(fd, limit=100)
    assert len(tail) == 100 and tail.endswith("the end")
    (job / OUTPUT_FILE).write_bytes(b"short")
    assert _output_tail(fd) == "short"


@pytest.mark.parametrize("target", ["/dev/zero", "/dev/urandom", "secret"])
def test_a_symlink_in_place_of_the_output_is_not_followed(folder, tmp_path, target):
    job, fd = folder
    secret = tmp_path / "secret"
    secret.write_text("the secret")
    os.symlink(secret if target == "secret" else target, job / OUTPUT_FILE)
    assert _output_tail(fd) == ""


def test_a_fifo_socket_or_hard_link_in_place_of_the_output_is_not_read(folder, tmp_path):
    job, fd = folder
    out = job / OUTPUT_FILE
    os.mkfifo(out)  # no writer: a blocking open would wait for ever
    t0 = time.monotonic()
    assert _output_tail(fd) == ""
    assert time.monotonic() - t0 < 1
    out.unlink()
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(out))
        assert _output_tail(fd) == ""
    out.unlink()
    secret = tmp_path / "secret"
    secret.write_text("the secret")
    os.link(secret, out)
    assert _output_tail(fd) == ""


def test_the_folder_read_is_the_one_created_even_when_its_name_is_replaced(folder, tmp_path):
    job, fd = folder
    (job / OUTPUT_FILE).write_text("the child's own output")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / OUTPUT_FILE).write_text("the secret")
    job.rename(tmp_path / "moved")
    os.symlink(elsewhere, job)
    assert _output_tail(fd) == "the child's own output"
    assert disk_usage(str(job), 100) == (0, 0)  # a symlink given by name is not walked either


def test_the_disk_walk_follows_no_symlink_and_opens_no_fifo(folder, tmp_path):
    job, fd = folder
    big = tmp_path / "big"
    big.mkdir()
    for i in range(50):
        (big / f"f{i}").write_bytes(b"x" * 8192)
    os.symlink(big, job / "link")
    os.mkfifo(job / "fifo")
    (job / "d").mkdir()
    (job / "d" / "f").write_bytes(b"x" * 8192)
    used, entries = disk_usage(fd, 1000)
    assert entries == 4  # link, fifo, d, d/f: nothing of `big`
    assert used < 50 * 8192
    assert disk_usage(str(job), 1000)[1] == 4


def test_a_tree_too_deep_to_walk_counts_as_too_many_entries(folder):
    job, fd = folder
    deep = job
    for _ in range(70):
        deep = deep / "d"
    deep.mkdir(parents=True)
    assert disk_usage(fd, 10_000)[1] > 10_000
    assert disk_usage(fd, 10)[1] > 10


# -- through a real pool: the child itself plants these ---------------------------------------


@pytest.fixture(scope="module")
def pool() -> Iterator[WorkerPool]:
    p = WorkerPool(env={"PYTHONPATH": str(REPO)})
    yield p
    p.close()


def test_the_zygote_reads_the_output_tail_of_a_failed_job(pool):
    """The baseline of the tests below: an honest failure carries its output's tail."""
    raw = pool.run(JOBS + "replaces_output", {"keep": True}, timeout_s=20)
    assert raw["status"] == "error"
    assert raw["output_tail"] == "the real output\n"


@pytest.mark.parametrize("target", ["/dev/zero", "secret", None])
def test_a_child_that_replaces_its_output_leaves_the_zygote_unharmed(pool, tmp_path, target):
    secret = tmp_path / "secret"
    secret.write_text("the secret only the zygote could read")
    zygotes = pool.zygote_pids
    t0 = time.monotonic()
    payload = {"target": str(secret) if target == "secret" else target}
    raw = pool.run(JOBS + "replaces_output", payload, timeout_s=20)
    assert time.monotonic() - t0 < 10  # neither a FIFO nor /dev/zero holds it up
    assert raw["status"] == "error" and "failed after replacing" in raw["detail"]
    assert "secret" not in raw.get("output_tail", "")
    assert pool.zygote_pids == zygotes
    assert pool.run(JOBS + "echo", {"n": 2}, timeout_s=20)["echo"] == {"n": 2}


def test_fifos_and_symlinks_in_the_folder_leave_the_disk_walk_unharmed(pool):
    zygotes = pool.zygote_pids
    raw = pool.run(JOBS + "plants_in_folder", {"seconds": 0.8}, timeout_s=20)
    assert raw["status"] == "ok", raw
    assert {"fifo", "root", "d", "d.old"} <= set(raw["entries"])
    assert pool.zygote_pids == zygotes
