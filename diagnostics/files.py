"""The files a front end checks: folders walked into their Python files, each file read as the
interpreter would read it, or refused in one line for the user."""

from __future__ import annotations

import io
import os
import tokenize
from collections.abc import Iterator
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


def read_source(path: str | Path) -> str:
    """Read a Python file as the interpreter would (PEP 263), or raise UncheckableFile."""
    p = Path(path)
    if not p.exists():
        raise UncheckableFile("no such file or directory")
    if p.is_dir():
        raise UncheckableFile("is a directory")
    try:
        data = p.read_bytes()
    except OSError as e:
        raise UncheckableFile(f"cannot read: {e.strerror or e}") from None
    if len(data) > MAX_FILE_BYTES:
        raise UncheckableFile(
            f"file too large to check ({len(data) / 1e6:.1f} MB; the limit is "
            f"{MAX_FILE_BYTES / 1e6:.0f} MB)"
        )
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


def iter_files(paths: list[str]) -> Iterator[str]:
    """Expand folders into their .py files (sorted); files and missing paths pass through."""
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
                for f in sorted(files):
                    if f.endswith((".py", ".pyi")):
                        yield str(Path(root) / f)
        else:
            yield raw
