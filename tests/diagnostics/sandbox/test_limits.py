"""Sandbox limits: their JSON round trip, the disk usage the zygote watches (folder and deleted
files still open), and the memory status line."""

from __future__ import annotations

import json
import os
from pathlib import Path

from deepeval_lsp.diagnostics.sandbox.limits import (
    SandboxLimits,
    disk_usage,
    memory_status,
    unlinked_bytes,
)


def test_limits_round_trip() -> None:
    limits = SandboxLimits(address_space_bytes=123 << 20, file_size_bytes=5)
    assert SandboxLimits.from_json(json.loads(json.dumps(limits.to_json()))) == limits


def test_disk_usage_counts_nested_files_and_stops_past_the_entry_cap(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "data.bin").write_bytes(b"x" * 10_000)
    (tmp_path / "a.txt").write_text("a")
    used, entries = disk_usage(str(tmp_path), 100)
    assert entries == 3 and used >= 10_000
    for i in range(20):
        (tmp_path / f"f{i}").touch()
    # the top folder's 22 entries are counted whole; the cap then spares the walk into sub/
    assert disk_usage(str(tmp_path), 5)[1] == 22


def test_unlinked_bytes_counts_deleted_open_files_only(tmp_path: Path) -> None:
    before = unlinked_bytes(os.getpid())
    named = tmp_path / "named.bin"
    named.write_bytes(b"x" * 100_000)
    with open(named, "rb"), open(tmp_path / "gone.bin", "wb") as gone:
        gone.write(b"y" * 1_000_000)
        gone.flush()
        os.fsync(gone.fileno())
        assert unlinked_bytes(os.getpid()) == before  # both still have a name
        os.unlink(tmp_path / "gone.bin")
        assert unlinked_bytes(os.getpid()) - before >= 1_000_000
        assert disk_usage(str(tmp_path), 100)[0] < 1_000_000  # the walk no longer sees it
    assert unlinked_bytes(os.getpid()) == before
    assert unlinked_bytes(2**22 + 12345) == 0  # no such process


def test_memory_status_names_its_bound() -> None:
    assert memory_status().startswith("address space (RLIMIT_AS); cgroup: ")
