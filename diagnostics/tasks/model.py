"""The task model: a benchmark task, its input specs, a suite of tasks, the suite errors, and
reading the reference program beside a task file.

A task is what a program answers: a requirement, a reference program, the inputs its model
takes (`TensorSpec`, batch included) and what forward returns. The suite loader
(`deepeval_lsp.diagnostics.tasks.suite`) builds these from task files; the checkers and the
benchmark runner both use them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DIFFICULTIES = ("easy", "medium", "hard")
CATEGORIES = (
    "image_classification",
    "sequence",
    "text",
    "autoencoder",
    "segmentation",
    "gan",
    "tabular",
    "multi_io",
)
FRAMEWORKS = ("torch", "keras")
DTYPES = ("float32", "int64")


class SuiteError(Exception):
    """A suite cannot be loaded (missing folder, unknown layout, malformed task)."""


class TaskFormatError(SuiteError):
    """A task file is malformed; the message names the file."""


class UnknownTaskError(SuiteError, LookupError):
    """A task id is not in the suite."""


@dataclass(frozen=True)
class TensorSpec:
    """One model input: its shape (batch included), dtype and, for integer ids, the bound."""

    shape: tuple[int, ...]
    dtype: str = "float32"
    high: int | None = None  # the exclusive upper bound of integer inputs such as token ids

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"shape": list(self.shape), "dtype": self.dtype}
        if self.high is not None:
            d["high"] = self.high
        return d


@dataclass(frozen=True)
class Task:
    id: str
    suite: str
    difficulty: str
    framework: str
    category: str
    requirement: str
    reference: str
    reference_path: str
    inputs: tuple[TensorSpec, ...]
    output_shape: tuple | None
    tags: tuple[str, ...] = ()

    @property
    def multi_output(self) -> bool:
        return bool(self.output_shape) and isinstance(self.output_shape[0], tuple)

    def to_json(self) -> dict[str, Any]:
        """The task's description (the reference source left out; its path is kept)."""
        out = self.output_shape
        return {
            "id": self.id,
            "suite": self.suite,
            "difficulty": self.difficulty,
            "framework": self.framework,
            "category": self.category,
            "requirement": self.requirement,
            "reference_path": self.reference_path,
            "inputs": [s.to_json() for s in self.inputs],
            "output_shape": _listify(out) if out is not None else None,
            "tags": list(self.tags),
        }


@dataclass
class Suite:
    name: str
    path: str
    tasks: list[Task] = field(default_factory=list)

    def get(self, task_id: str) -> Task:
        for t in self.tasks:
            if t.id == task_id:
                return t
        raise UnknownTaskError(f"no task {task_id!r} in suite {self.name!r} ({self.path})")

    def ids(self) -> list[str]:
        return [t.id for t in self.tasks]

    def __len__(self) -> int:
        return len(self.tasks)

    def __iter__(self) -> Iterator[Task]:
        return iter(self.tasks)


def natural_key(text: str) -> tuple:
    """Sort key that orders 'task_2' before 'task_10'."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text))


def read_reference(path: Path, bad: Callable[[str], TaskFormatError]) -> str:
    """The reference program beside a task file; `bad` makes the error that names the file."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise bad(f"reference {path.name} is missing") from None
    except (OSError, UnicodeDecodeError) as e:
        raise bad(f"cannot read reference {path.name}: {e}") from None


def _listify(shape: tuple) -> list:
    return [_listify(s) if isinstance(s, tuple) else s for s in shape]
