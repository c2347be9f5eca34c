"""Sandbox limits: their JSON round trip, and the disk usage the zygote watches."""

from __future__ import annotations

import json
from pathlib import Path

from deepeval_lsp.diagnostics.sandbox.limits import SandboxLimits, disk_usage


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
