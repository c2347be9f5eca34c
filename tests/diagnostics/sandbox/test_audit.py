"""The audit hook on its own: writes and deletions outside the temp dir, and what it refuses."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from deepeval_lsp.diagnostics.sandbox.audit import AuditHook, SandboxViolation


def test_audit_hook_refuses_outside_writes_and_allows_the_rest(tmp_path: Path) -> None:
    hook = AuditHook(str(tmp_path))
    hook("open", (str(tmp_path / "a.txt"), "w", os.O_WRONLY | os.O_CREAT))
    hook("open", ("/etc/hostname", "r", os.O_RDONLY))
    hook("open", (os.devnull, "w", os.O_WRONLY))
    hook("open", (3, "w", os.O_WRONLY))  # an already open descriptor
    hook("os.remove", (str(tmp_path / "a.txt"), -1))
    hook("import", ("json", None, sys.path, sys.meta_path, sys.path_hooks))
    refusals = [
        ("open", ("/tmp/elsewhere.txt", "w", os.O_WRONLY | os.O_CREAT)),
        ("open", ("/tmp/elsewhere.txt", None, os.O_RDWR)),  # os.open
        ("open", (str(tmp_path / ".." / "escape"), "a", os.O_APPEND)),
        ("os.remove", ("/etc/hostname", -1)),
        ("os.rename", (str(tmp_path / "a"), "/tmp/b", -1, -1)),
        ("shutil.rmtree", ("/work", None)),
        ("os.system", (b"ls",)),
        ("subprocess.Popen", ("ls", ["ls"], None, None)),
        ("socket.connect", (None, ("127.0.0.1", 80))),
        ("ctypes.dlopen", ("libc.so.6",)),
    ]
    for event, args in refusals:
        with pytest.raises(SandboxViolation) as info:
            hook(event, args)
        assert info.value.event == event
        assert isinstance(info.value, PermissionError)
        assert "sandbox" in str(info.value)


def test_a_symlink_out_of_the_temp_dir_counts_as_outside(tmp_path: Path) -> None:
    (tmp_path / "link").symlink_to("/etc")
    with pytest.raises(SandboxViolation):
        AuditHook(str(tmp_path))("open", (str(tmp_path / "link" / "passwd"), "w", os.O_WRONLY))
