"""Find the reference program and requirement of a benchmark task, and read task pragmas.

The semantic pass compares a file with the reference program of the task it answers. A file
names its task with `--task ID --suite PATH` on the command line, or with a comment line

    # deepeval: task=easy_task_1

(the suite then comes from the settings; `builtin` by default). Two suite layouts are read:

- the DeepEval study's: `<suite>/{Easy,Medium,Hard}/<id>.py` (the reference) beside
  `<id>.yaml` (key `Requirement`);
- ours (the built-in suite and any folder laid out the same way):
  `<suite>/{easy,medium,hard}/<id>.py` beside `<id>.toml` (key `requirement`).

This module reads files only; it never imports the benchmark package (DESIGN.md §1).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from deepeval_lsp.diagnostics.pragmas import parse_pragmas

# The built-in suite ships as package data of deepeval_lsp.benchmark. This file lives in
# deepeval_lsp/diagnostics (the `diagnostics/` folder of the checkout, or the installed
# package), and the benchmark package is its sibling in both, so the suite is found on disk
# without importing the benchmark package.
BUILTIN_SUITE = Path(__file__).resolve().parents[2] / "benchmark" / "suites" / "builtin"

_LEVELS = ("easy", "medium", "hard")
_TASK_ID_PREFIX = re.compile(r"[A-Za-z0-9_.\-]+")
_TASK_ID = re.compile(r"^[A-Za-z0-9_.\-]+$")


class ReferenceNotFound(LookupError):
    """The task or its suite cannot be found or read; the message is one line for the user."""


def parse_task_pragma(source: str) -> str | None:
    """The task id named by a `# deepeval: task=ID` comment, or None."""
    task = _TASK_ID_PREFIX.match(parse_pragmas(source).get("task", ""))
    return task.group() if task else None


def suite_path(suite: str | Path | None) -> Path:
    """The folder of a suite: `builtin` (or None) is ours, anything else a path."""
    if suite is None or str(suite) == "builtin":
        return BUILTIN_SUITE
    return Path(suite).expanduser()


def find_task_reference(task_id: str, suite: str | Path | None = "builtin") -> tuple[str, str]:
    """Return (reference_source, requirement) of `task_id` in `suite`.

    Raises ReferenceNotFound with a one-line reason when the suite, the task or its files are
    missing or unreadable.
    """
    if not _TASK_ID.match(task_id):
        raise ReferenceNotFound(f"not a task id: {task_id!r}")
    root = suite_path(suite)
    if not root.is_dir():
        raise ReferenceNotFound(f"suite folder not found: {root}")
    for level in _LEVELS:
        for folder in (root / level, root / level.capitalize()):
            reference = folder / f"{task_id}.py"
            if not reference.is_file():
                continue
            source = _read(reference)
            for meta, reader in (
                (folder / f"{task_id}.toml", _toml_requirement),
                (folder / f"{task_id}.yaml", _yaml_requirement),
                (folder / f"{task_id}.yml", _yaml_requirement),
            ):
                if meta.is_file():
                    return source, reader(meta)
            return source, ""
    raise ReferenceNotFound(f"no task {task_id!r} in the suite at {root}")


def find_task_output_shape(task_id: str, suite: str | Path | None = "builtin") -> tuple | None:
    """The `output_shape` of `task_id` in a suite of our layout (a tuple of ints, or of such
    tuples), or None when the task, its TOML file or the key is missing or malformed."""
    if not _TASK_ID.match(task_id):
        return None
    root = suite_path(suite)
    for level in _LEVELS:
        meta = root / level / f"{task_id}.toml"
        if not meta.is_file():
            continue
        try:
            raw = tomllib.loads(_read(meta)).get("output_shape")
        except (ReferenceNotFound, tomllib.TOMLDecodeError):
            return None
        single = _shape(raw)
        if single is not None or not isinstance(raw, list) or not raw:
            return single
        many = [_shape(s) for s in raw]  # forward returns a tuple
        return tuple(many) if all(s is not None for s in many) else None
    return None


def _shape(raw: object) -> tuple[int, ...] | None:
    if (
        isinstance(raw, list)
        and raw
        and all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in raw)
    ):
        return tuple(raw)
    return None


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ReferenceNotFound(f"cannot read {path}: {e}") from None


def _toml_requirement(path: Path) -> str:
    try:
        data = tomllib.loads(_read(path))
    except tomllib.TOMLDecodeError as e:
        raise ReferenceNotFound(f"{path}: malformed TOML: {e}") from None
    value = data.get("requirement", "")
    return value.strip() if isinstance(value, str) else ""


def _yaml_requirement(path: Path) -> str:
    """The `Requirement` value of a study task file: a plain or quoted, possibly folded scalar."""
    lines = _read(path).splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"^Requirement\s*:\s*(.*)$", line)
        if not m:
            continue
        parts = [m.group(1).strip()]
        for cont in lines[i + 1 :]:
            if cont and not cont[0].isspace():
                break  # the next top-level key
            parts.append(cont.strip())
        text = " ".join(p for p in parts if p)
        if text[:1] in "|>":
            text = text[1:].strip()
        if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
            text = text[1:-1]
        return re.sub(r"\s+", " ", text).strip()
    return ""
