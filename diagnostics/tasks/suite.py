"""Loading a suite of tasks: the built-in one, a folder in our format, or the study's layout.

`load_suite` reads every task of a suite (the benchmark runs them all); `find_task` gives one
task to the checkers (a file names its task with `--task` or a `# deepeval: task=ID` line) and
reads the suite again only when its files change. Two layouts are read:

- our own format (the built-in PyTorch suite, `builtin`, shipped as package data beside this
  module, or any folder laid out the same way): `{easy,medium,hard}/<id>.toml` beside `<id>.py`
  (`deepeval_lsp.diagnostics.tasks.toml_tasks`);
- the DeepEval study's layout: `DeepEval/{Easy,Medium,Hard}/<level>_task_<n>.yaml` beside
  `<level>_task_<n>.py` (`deepeval_lsp.diagnostics.tasks.study_tasks`). A clone of the study's
  repository (or its parent folder) is accepted too: its tasks live in `benchmark/DeepEval`.

A malformed file raises `TaskFormatError` whose one-line message names the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from deepeval_lsp.diagnostics.tasks.model import (
    DIFFICULTIES,
    Suite,
    SuiteError,
    Task,
    TaskFormatError,
    UnknownTaskError,
    natural_key,
)
from deepeval_lsp.diagnostics.tasks.study_tasks import read_study_task
from deepeval_lsp.diagnostics.tasks.toml_tasks import read_toml_task

BUILTIN_SUITE = Path(__file__).resolve().parent / "suites" / "builtin"

_TASK_ID = re.compile(r"^[A-Za-z0-9_.\-]+$")


@dataclass(frozen=True)
class _Layout:
    """Where a suite's task files are and how to read one."""

    root: Path
    name: str
    study: bool  # the study's layout (Easy/*.yaml), else ours (easy/*.toml)

    @property
    def folders(self) -> list[tuple[str, Path]]:
        return [(d, self.root / (d.capitalize() if self.study else d)) for d in DIFFICULTIES]

    def read(self, path: Path, level: str) -> Task:
        reader = read_study_task if self.study else read_toml_task
        return reader(path, self.name, level)


# A suite the checkers looked a task up in, with the (path, mtime, size) of its files then.
_found: dict[_Layout, tuple[tuple[tuple[str, int, int], ...], Suite]] = {}


def load_suite(spec: str) -> Suite:
    """Load `"builtin"` or a folder in our format or in the study's layout."""
    return _load(_layout(spec))


def find_task(task_id: str, suite: str | Path | None = None) -> Task:
    """The task `task_id` of `suite` (`builtin` when None).

    Raises SuiteError with a one-line message when the suite cannot be loaded, and
    UnknownTaskError when `task_id` is not one of its tasks.
    """
    if not _TASK_ID.match(task_id):
        raise UnknownTaskError(f"not a task id: {task_id!r}")
    layout = _layout("builtin" if suite is None else str(suite))
    stamp = _stamp(layout)
    cached = _found.get(layout)
    if cached is None or cached[0] != stamp:
        cached = _found[layout] = (stamp, _load(layout))
    return cached[1].get(task_id)


def _layout(spec: str) -> _Layout:
    if spec == "builtin":
        return _Layout(BUILTIN_SUITE, "builtin", study=False)
    root = Path(spec).expanduser()
    if not root.exists():
        raise SuiteError(f"suite {spec!r}: no such folder (use 'builtin' or a suite folder)")
    if not root.is_dir():
        raise SuiteError(f"suite {spec!r}: not a folder")
    for nested in (root / "benchmark" / "DeepEval", root / "DeepEval" / "benchmark" / "DeepEval"):
        if _has_levels(nested, capitalized=True):
            root = nested
            break
    if _has_levels(root, capitalized=True) and any(root.glob("*/*.yaml")):
        return _Layout(root, root.name, study=True)
    if _has_levels(root, capitalized=False) and any(root.glob("*/*.toml")):
        return _Layout(root, root.name, study=False)
    raise SuiteError(
        f"suite {spec!r}: no tasks found (expected easy/medium/hard/*.toml, or the study's "
        "Easy/Medium/Hard/*.yaml)"
    )


def _has_levels(root: Path, capitalized: bool) -> bool:
    names = [d.capitalize() if capitalized else d for d in DIFFICULTIES]
    return any((root / n).is_dir() for n in names)


def _load(layout: _Layout) -> Suite:
    tasks: list[Task] = []
    seen: dict[str, Path] = {}
    for level, folder in layout.folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.yaml" if layout.study else "*.toml")):
            task = layout.read(path, level)
            if task.id in seen:
                raise TaskFormatError(
                    f"{path}: duplicate task id {task.id!r} (also in {seen[task.id]})"
                )
            seen[task.id] = path
            tasks.append(task)
    if not tasks:
        raise SuiteError(f"suite {layout.name!r} ({layout.root}): no task files")
    tasks.sort(key=lambda t: (DIFFICULTIES.index(t.difficulty), natural_key(t.id)))
    return Suite(name=layout.name, path=str(layout.root), tasks=tasks)


def _stamp(layout: _Layout) -> tuple[tuple[str, int, int], ...]:
    """The files of a suite's level folders, each with its mtime and size."""
    out = []
    for _, folder in layout.folders:
        try:
            entries = sorted(folder.iterdir())
        except OSError:
            continue
        for path in entries:
            try:
                st = path.stat()
            except OSError:
                continue
            out.append((str(path), st.st_mtime_ns, st.st_size))
    return tuple(out)
