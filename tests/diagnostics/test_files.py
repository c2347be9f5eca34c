"""The files a front end checks: folder walking and reading sources as the interpreter does;
FIFOs, sockets and devices skipped unopened, symlink loops and broken symlinks named."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from deepeval_lsp.diagnostics import UncheckableFile, iter_files, read_source
from deepeval_lsp.diagnostics.files import NotRegularFile


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


def _read_in_thread(path: Path) -> BaseException | str | None:
    """read_source(path) with a deadline: a regression that opens a FIFO blocks waiting for a
    writer, which the test then supplies so that the thread ends."""
    out: list[BaseException | str] = []

    def target() -> None:
        try:
            out.append(read_source(path))
        except BaseException as e:
            out.append(e)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout=5)
    if thread.is_alive():
        with contextlib.suppress(OSError):
            os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
        thread.join(timeout=5)
        pytest.fail(f"read_source({path.name}) blocked")
    return out[0] if out else None


def test_a_fifo_socket_or_device_is_not_a_regular_file_and_never_opened(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.py"
    os.mkfifo(fifo)
    result = _read_in_thread(fifo)
    assert isinstance(result, NotRegularFile) and str(result) == "not a regular file (FIFO)"
    sock_path = tmp_path / "s.py"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(sock_path))
        with pytest.raises(NotRegularFile, match=r"not a regular file \(socket\)"):
            read_source(sock_path)
    with pytest.raises(NotRegularFile, match=r"not a regular file \(character device\)"):
        read_source("/dev/null")


def test_symlink_loops_and_broken_symlinks_say_so(tmp_path: Path) -> None:
    (tmp_path / "a.py").symlink_to("b.py")
    (tmp_path / "b.py").symlink_to("a.py")
    (tmp_path / "self.py").symlink_to("self.py")
    (tmp_path / "dangling.py").symlink_to("gone.py")
    (tmp_path / "real.py").write_text("x = 1\n")
    (tmp_path / "good.py").symlink_to("real.py")
    for name in ("a.py", "self.py"):
        with pytest.raises(UncheckableFile, match=r"^symlink loop$"):
            read_source(tmp_path / name)
    with pytest.raises(UncheckableFile, match=r"^broken symlink \(to gone.py"):
        read_source(tmp_path / "dangling.py")
    assert read_source(tmp_path / "good.py") == "x = 1\n"
    with pytest.raises(UncheckableFile, match=r"^no such file or directory$"):
        read_source(tmp_path / "missing.py")


def _check(*args: str) -> subprocess.CompletedProcess:
    """`deepeval-lsp check --no-dynamic …` in a process of its own, so that a hang fails."""
    return subprocess.run(
        [sys.executable, "-m", "deepeval_lsp", "check", "--no-dynamic", "--no-frames", *args],
        capture_output=True,
        text=True,
        timeout=20,
    )


def test_check_skips_a_fifo_in_a_folder_and_checks_the_files_around_it(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("model = nn.Linear(3, 4)\n")
    os.mkfifo(tmp_path / "b.py")
    (tmp_path / "c.py").write_text("layer = nn.Conv2d(1, 2, 3)\n")
    result = _check(str(tmp_path))
    out = result.stdout
    assert result.returncode == 1, result  # the two files' findings, not the FIFO
    assert "Traceback" not in result.stderr, result.stderr
    first = out.index(f"{tmp_path / 'a.py'}:1:9: DL101")
    note = out.index(f"{tmp_path / 'b.py'}: not a regular file (FIFO), skipped")
    last = out.index(f"{tmp_path / 'c.py'}:1:9: DL101")
    assert first < note < last  # each file's part printed in turn
    assert "2 files checked, 2 errors" in out


def test_check_given_a_fifo_notes_it_and_exits_clean(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.py"
    os.mkfifo(fifo)
    (tmp_path / "ok.py").write_text("import torch\n")
    result = _check(str(fifo), str(tmp_path / "ok.py"))
    assert result.returncode == 0, result
    assert f"{fifo}: not a regular file (FIFO), skipped" in result.stdout
    assert "1 file checked, 0 errors" in result.stdout
    # machine-readable output stays one document: the note goes to stderr
    result = _check("--format", "json", str(fifo), str(tmp_path / "ok.py"))
    assert result.returncode == 0, result
    assert [r["path"] for r in json.loads(result.stdout)] == [str(tmp_path / "ok.py")]
    assert "not a regular file (FIFO), skipped" in result.stderr


def test_check_names_symlink_loops_and_broken_symlinks(tmp_path: Path) -> None:
    (tmp_path / "loop.py").symlink_to("loop.py")
    (tmp_path / "dangling.py").symlink_to("gone.py")
    result = _check(str(tmp_path / "loop.py"), str(tmp_path))
    assert result.returncode == 1, result
    assert f"{tmp_path / 'loop.py'}: cannot check: symlink loop" in result.stdout
    assert f"{tmp_path / 'dangling.py'}: cannot check: broken symlink (to gone.py" in result.stdout
    assert "no such file" not in result.stdout


def test_a_fifo_in_a_folder_is_left_out_of_the_walk_with_a_note(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("")
    os.mkfifo(tmp_path / "b.py")
    (tmp_path / "c.py").symlink_to("gone.py")
    skipped: list[tuple[str, str]] = []
    found = list(iter_files([str(tmp_path)], on_skip=lambda p, why: skipped.append((p, why))))
    assert found == [str(tmp_path / "a.py"), str(tmp_path / "c.py")]
    assert skipped == [(str(tmp_path / "b.py"), "not a regular file (FIFO)")]
    assert list(iter_files([str(tmp_path / "b.py")])) == [str(tmp_path / "b.py")]
