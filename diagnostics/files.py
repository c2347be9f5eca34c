"""The files a front end checks: folders walked into their Python files (and, when asked, their
Jupyter notebooks), each file read as the interpreter would read it, or refused in one line for
the user; FIFOs, sockets and devices are never opened."""

from __future__ import annotations

import errno
import io
import os
import stat
import tokenize
from collections.abc import Callable, Iterator
from pathlib import Path

SKIP_DIRS = {
    ".git",
    ".hg",
    ".venv",
    "venv",
    "__pycache__",
    "node_modules",
    ".tox",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    "build",
    "dist",
    "site-packages",
}
MAX_FILE_BYTES = 2_000_000


class UncheckableFile(Exception):
    """The file cannot be checked at all; the message is one line for the user."""


class NotRegularFile(UncheckableFile):
    """A FIFO, socket or device: not source to check, and never opened (reading a FIFO would
    wait for a writer forever); front ends skip it with a note."""


_KINDS = (
    (stat.S_ISFIFO, "FIFO"),
    (stat.S_ISSOCK, "socket"),
    (stat.S_ISCHR, "character device"),
    (stat.S_ISBLK, "block device"),
)


def _not_regular(mode: int) -> NotRegularFile:
    kind = next((name for test, name in _KINDS if test(mode)), "special file")
    return NotRegularFile(f"not a regular file ({kind})")


def _unreachable(path: str, e: OSError) -> UncheckableFile:
    """Why a path cannot be opened, in the user's words."""
    if e.errno == errno.ELOOP:
        return UncheckableFile("symlink loop")
    if e.errno == errno.ENOENT and os.path.islink(path):
        return UncheckableFile(f"broken symlink (to {os.readlink(path)}, which does not exist)")
    if e.errno in (errno.ENOENT, errno.ENOTDIR):
        return UncheckableFile("no such file or directory")
    return UncheckableFile(f"cannot read: {e.strerror or e}")


def read_source(path: str | Path, limit: int = MAX_FILE_BYTES) -> str:
    """Read a Python file as the interpreter would (PEP 263), or raise UncheckableFile
    (NotRegularFile for a FIFO, socket or device, which is looked at but never opened; a file
    over `limit` bytes is too large)."""
    p = os.fspath(path)
    try:
        st = os.stat(p)
    except OSError as e:
        raise _unreachable(p, e) from None
    if stat.S_ISDIR(st.st_mode):
        raise UncheckableFile("is a directory")
    if not stat.S_ISREG(st.st_mode):
        raise _not_regular(st.st_mode)
    try:
        # O_NONBLOCK: should the path have become a FIFO since the stat, opening it does not
        # wait for a writer, and the fstat below refuses it
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as e:
        raise _unreachable(p, e) from None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise _not_regular(st.st_mode)
        if st.st_size > limit:
            raise too_large(st.st_size, limit)
        try:
            data = f.read(limit + 1)
        except OSError as e:
            raise UncheckableFile(f"cannot read: {e.strerror or e}") from None
    if len(data) > limit:
        raise too_large(len(data), limit)
    return _decode(data)


def decode_source(data: bytes, limit: int = MAX_FILE_BYTES) -> str:
    """The text of a program read as bytes (standard input's), as the interpreter decodes it
    (PEP 263), or UncheckableFile when it is over `limit` bytes, binary or not text."""
    if len(data) > limit:
        raise too_large(len(data), limit)
    return _decode(data)


def too_large(size: int, limit: int = MAX_FILE_BYTES, what: str = "file") -> UncheckableFile:
    return UncheckableFile(
        f"{what} too large to check ({size / 1e6:.1f} MB; the limit is {limit / 1e6:.0f} MB)"
    )


def _decode(data: bytes) -> str:
    if b"\x00" in data:
        raise UncheckableFile("binary file (contains NUL bytes), not Python source")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as e:
        if "encoding problem" in str(e) or "unknown encoding" in str(e):
            raise UncheckableFile(f"bad encoding declaration: {e}") from None
        encoding = "utf-8"  # no declaration and not UTF-8: the decode below says where
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as e:
        where = f" at byte {e.start}" if isinstance(e, UnicodeDecodeError) else ""
        raise UncheckableFile(f"not valid {encoding} text{where}") from None


def iter_files(
    paths: list[str],
    on_skip: Callable[[str, str], None] | None = None,
    *,
    notebooks: bool = False,
) -> Iterator[str]:
    """Expand folders into their .py files, and their .ipynb notebooks with `notebooks` (sorted);
    files and missing paths pass through.

    Nothing is opened here. A FIFO, socket or device found in a folder is left out, and
    `on_skip(path, why)` is told; one named directly passes through for `read_source` to
    refuse, as do symlinks that lead nowhere, so that the user hears why.
    """
    suffixes = (".py", ".pyi", ".ipynb") if notebooks else (".py", ".pyi")
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
                for f in sorted(files):
                    if not f.endswith(suffixes):
                        continue
                    path = str(Path(root) / f)
                    try:
                        mode = os.stat(path).st_mode
                    except OSError:
                        yield path  # a broken symlink or a loop: read_source names it
                        continue
                    if stat.S_ISREG(mode):
                        yield path
                    elif on_skip is not None:
                        on_skip(path, str(_not_regular(mode)))
        else:
            yield raw
