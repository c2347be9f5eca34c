"""Our task format: `{easy,medium,hard}/<id>.toml` describing a task beside its `<id>.py`.

The built-in PyTorch suite (`--suite builtin`) and any folder laid out the same way use it. The
TOML keys: `id` (the file stem, snake_case), `difficulty` (the folder's level), `category` (one
of CATEGORIES), `framework` ("torch"), `requirement` (what to build: dataset, input shape,
structure, output), `tags` (structures the reference shows, e.g. "residual", "concat"), one
`[[inputs]]` table per forward argument with `shape` (batch included), `dtype` ("float32", or
"int64" with `high`, the exclusive upper bound of the ids), and `output_shape` (a list, or a
list of lists when forward returns a tuple). `<id>.py` holds the reference `dl_model()`.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from deepeval_lsp.diagnostics.tasks.model import (
    CATEGORIES,
    DIFFICULTIES,
    DTYPES,
    FRAMEWORKS,
    Task,
    TaskFormatError,
    TensorSpec,
    read_reference,
)

_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_KEYS = frozenset(
    {"id", "difficulty", "category", "framework", "requirement", "tags", "inputs", "output_shape"}
)


def read_toml_task(path: Path, suite: str, level: str) -> Task:
    """The task described by `path`, found in the `level` folder of `suite`."""

    def bad(msg: str) -> TaskFormatError:
        return TaskFormatError(f"{path}: {msg}")

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise bad(f"invalid TOML: {e}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise bad(f"cannot read: {e}") from None

    def text(key: str) -> str:
        v = data.get(key)
        if not isinstance(v, str) or not v.strip():
            raise bad(f"'{key}' must be a non-empty string")
        return v.strip()

    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise bad(f"unknown key(s): {', '.join(unknown)}")
    task_id = text("id")
    if not _ID.match(task_id):
        raise bad(f"id {task_id!r} must be snake_case (a-z, 0-9, _)")
    if task_id != path.stem:
        raise bad(f"id {task_id!r} differs from the file name {path.stem!r}")
    difficulty = text("difficulty")
    if difficulty not in DIFFICULTIES:
        raise bad(f"difficulty {difficulty!r} is not one of {', '.join(DIFFICULTIES)}")
    if difficulty != level:
        raise bad(f"difficulty {difficulty!r} but the file is in the {level!r} folder")
    category = text("category")
    if category not in CATEGORIES:
        raise bad(f"category {category!r} is not one of {', '.join(CATEGORIES)}")
    framework = text("framework")
    if framework not in FRAMEWORKS:
        raise bad(f"framework {framework!r} is not one of {', '.join(FRAMEWORKS)}")
    requirement = " ".join(text("requirement").split())
    tags = data.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) and t for t in tags):
        raise bad("'tags' must be a list of strings")
    inputs = _inputs(data.get("inputs"), bad)
    output_shape = _output_shape(data.get("output_shape"), bad)
    ref_path = path.with_suffix(".py")
    return Task(
        id=task_id,
        suite=suite,
        difficulty=difficulty,
        framework=framework,
        category=category,
        requirement=requirement,
        reference=read_reference(ref_path, bad),
        reference_path=str(ref_path),
        inputs=inputs,
        output_shape=output_shape,
        tags=tuple(tags),
    )


def _shape(v: Any) -> tuple[int, ...] | None:
    if (
        isinstance(v, list)
        and v
        and all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in v)
    ):
        return tuple(v)
    return None


def _inputs(raw: Any, bad: Callable[[str], TaskFormatError]) -> tuple[TensorSpec, ...]:
    if not isinstance(raw, list) or not raw:
        raise bad("'inputs' must be one or more [[inputs]] tables")
    specs = []
    for k, item in enumerate(raw, 1):
        if not isinstance(item, dict):
            raise bad(f"input {k} must be a table")
        extra = sorted(set(item) - {"shape", "dtype", "high"})
        if extra:
            raise bad(f"input {k}: unknown key(s): {', '.join(extra)}")
        shape = _shape(item.get("shape"))
        if shape is None:
            raise bad(f"input {k}: 'shape' must be a list of positive integers")
        dtype = item.get("dtype", "float32")
        if dtype not in DTYPES:
            raise bad(f"input {k}: dtype {dtype!r} is not one of {', '.join(DTYPES)}")
        high = item.get("high")
        if dtype == "int64" and (not isinstance(high, int) or isinstance(high, bool) or high < 1):
            raise bad(f"input {k}: an int64 input needs 'high' (the vocabulary size), >= 1")
        if dtype == "float32" and high is not None:
            raise bad(f"input {k}: 'high' only applies to int64 inputs")
        specs.append(TensorSpec(shape=shape, dtype=dtype, high=high))
    return tuple(specs)


def _output_shape(raw: Any, bad: Callable[[str], TaskFormatError]) -> tuple:
    single = _shape(raw)
    if single is not None:
        return single
    if isinstance(raw, list) and raw:
        many = [_shape(s) for s in raw]
        if all(s is not None for s in many):
            return tuple(many)  # type: ignore[arg-type]
    raise bad("'output_shape' must be a list of positive integers, or a list of such lists")
