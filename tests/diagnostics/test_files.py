"""The files a front end checks: folder walking and reading sources as the interpreter does."""

from __future__ import annotations

from pathlib import Path

import pytest
from deepeval_lsp.diagnostics import UncheckableFile, iter_files, read_source


def test_folders_become_their_python_files_sorted_and_others_pass_through(tmp_path: Path) -> None:
    for name in ("b.py", "a.py", "notes.txt", "sub/c.pyi", ".hidden/d.py", "node_modules/e.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    missing = str(tmp_path / "missing.py")
    found = list(iter_files([str(tmp_path), missing]))
    assert found == [str(tmp_path / n) for n in ("a.py", "b.py", "sub/c.pyi")] + [missing]


def test_read_source_follows_the_encoding_declaration(tmp_path: Path) -> None:
    f = tmp_path / "latin1.py"
    f.write_bytes("# -*- coding: latin-1 -*-\nx = 'caf\xe9'\n".encode("latin-1"))
    assert read_source(f).endswith("x = 'caf\xe9'\n")


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "no such file"), (b"\x00import torch", "binary file"), (b"x = '\xe9'\n", "not valid")],
)
def test_unreadable_files_say_why_in_one_line(
    tmp_path: Path, content: bytes | None, message: str
) -> None:
    f = tmp_path / "m.py"
    if content is not None:
        f.write_bytes(content)
    with pytest.raises(UncheckableFile, match=message):
        read_source(f)
