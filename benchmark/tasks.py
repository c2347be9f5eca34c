"""Benchmark tasks and the suite loader.

Two layouts are read:

- our own format (the built-in PyTorch suite, `--suite builtin`, or any folder laid out the same
  way): `{easy,medium,hard}/<id>.toml` describing the task and `<id>.py` holding the reference
  `dl_model()`. The TOML keys: `id` (the file stem, snake_case), `difficulty` (the folder's
  level), `category` (one of CATEGORIES), `framework` ("torch"), `requirement` (what to build:
  dataset, input shape, structure, output), `tags` (structures the reference shows, e.g.
  "residual", "concat"), one `[[inputs]]` table per forward argument with `shape` (batch
  included), `dtype` ("float32", or "int64" with `high`, the exclusive upper bound of the ids),
  and `output_shape` (a list, or a list of lists when forward returns a tuple);
- the DeepEval study's layout: `{Easy,Medium,Hard}/<level>_task_<n>.yaml` (key `Requirement`)
  beside `<level>_task_<n>.py`, the Keras reference. Inputs and the output shape are read from
  the reference (`Input(shape=…)`, the final `Dense(units=…)`), batch 1, channels last.

A malformed file raises `TaskFormatError` whose one-line message names the file.
"""

from __future__ import annotations

import ast
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deepeval_lsp.benchmark.yaml_subset import YamlSubsetError, parse_mapping
from deepeval_lsp.diagnostics.datasets import DATASETS
from deepeval_lsp.diagnostics.text import callee_name, parse_python

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
BUILTIN_DIR = Path(__file__).resolve().parent / "suites" / "builtin"

_ID = re.compile(r"^[a-z][a-z0-9_]*$")
# Channels-last input shapes the study's requirements imply, for references that do not say.
_STUDY_DATASETS = tuple((n, d.image_hwc) for d in DATASETS for n in d.study_names if d.image_hwc)


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
    high: int | None = None

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

    def __iter__(self):
        return iter(self.tasks)


def load_suite(spec: str) -> Suite:
    """Load `"builtin"` or a folder in our format or in the study's layout."""
    if spec == "builtin":
        return _load_toml_suite(BUILTIN_DIR, "builtin")
    root = Path(spec).expanduser()
    if not root.exists():
        raise SuiteError(f"suite {spec!r}: no such folder (use 'builtin' or a suite folder)")
    if not root.is_dir():
        raise SuiteError(f"suite {spec!r}: not a folder")
    # A clone of the study's repository: the tasks live in benchmark/DeepEval.
    for nested in (root / "benchmark" / "DeepEval", root / "DeepEval" / "benchmark" / "DeepEval"):
        if _has_levels(nested, capitalized=True):
            root = nested
            break
    if _has_levels(root, capitalized=True) and any(root.glob("*/*.yaml")):
        return _load_study_suite(root)
    if _has_levels(root, capitalized=False) and any(root.glob("*/*.toml")):
        return _load_toml_suite(root, root.name)
    raise SuiteError(
        f"suite {spec!r}: no tasks found (expected easy/medium/hard/*.toml, or the study's "
        "Easy/Medium/Hard/*.yaml)"
    )


def natural_key(text: str) -> tuple:
    """Sort key that orders 'task_2' before 'task_10'."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text))


def _has_levels(root: Path, capitalized: bool) -> bool:
    names = [d.capitalize() if capitalized else d for d in DIFFICULTIES]
    return any((root / n).is_dir() for n in names)


def _sorted(tasks: list[Task]) -> list[Task]:
    return sorted(tasks, key=lambda t: (DIFFICULTIES.index(t.difficulty), natural_key(t.id)))


def _listify(shape: tuple) -> list:
    return [_listify(s) if isinstance(s, tuple) else s for s in shape]


# --- our format -----------------------------------------------------------------------------


def _load_toml_suite(root: Path, name: str) -> Suite:
    tasks: list[Task] = []
    seen: dict[str, Path] = {}
    for level in DIFFICULTIES:
        folder = root / level
        if not folder.is_dir():
            continue
        for toml_path in sorted(folder.glob("*.toml")):
            task = _read_toml_task(toml_path, name, level)
            if task.id in seen:
                raise TaskFormatError(
                    f"{toml_path}: duplicate task id {task.id!r} (also in {seen[task.id]})"
                )
            seen[task.id] = toml_path
            tasks.append(task)
    if not tasks:
        raise SuiteError(f"suite {name!r} ({root}): no task files")
    return Suite(name=name, path=str(root), tasks=_sorted(tasks))


def _read_toml_task(path: Path, suite: str, level: str) -> Task:
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

    known = {
        "id",
        "difficulty",
        "category",
        "framework",
        "requirement",
        "tags",
        "inputs",
        "output_shape",
    }
    unknown = sorted(set(data) - known)
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
    inputs = _toml_inputs(data.get("inputs"), bad)
    output_shape = _toml_output_shape(data.get("output_shape"), bad)

    ref_path = path.with_suffix(".py")
    try:
        reference = ref_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise bad(f"reference {ref_path.name} is missing") from None
    except (OSError, UnicodeDecodeError) as e:
        raise bad(f"cannot read reference {ref_path.name}: {e}") from None
    return Task(
        id=task_id,
        suite=suite,
        difficulty=difficulty,
        framework=framework,
        category=category,
        requirement=requirement,
        reference=reference,
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


def _toml_inputs(raw: Any, bad) -> tuple[TensorSpec, ...]:
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


def _toml_output_shape(raw: Any, bad) -> tuple:
    single = _shape(raw)
    if single is not None:
        return single
    if isinstance(raw, list) and raw:
        many = [_shape(s) for s in raw]
        if all(s is not None for s in many):
            return tuple(many)  # type: ignore[arg-type]
    raise bad("'output_shape' must be a list of positive integers, or a list of such lists")


# --- the study's layout ---------------------------------------------------------------------


def _load_study_suite(root: Path) -> Suite:
    tasks: list[Task] = []
    for level in DIFFICULTIES:
        folder = root / level.capitalize()
        if not folder.is_dir():
            continue
        for yaml_path in sorted(folder.glob("*.yaml")):
            tasks.append(_read_study_task(yaml_path, root.name, level))
    return Suite(name=root.name, path=str(root), tasks=_sorted(tasks))


def _read_study_task(path: Path, suite: str, level: str) -> Task:
    def bad(msg: str) -> TaskFormatError:
        return TaskFormatError(f"{path}: {msg}")

    try:
        mapping = parse_mapping(path.read_text(encoding="utf-8"))
    except YamlSubsetError as e:
        raise bad(str(e)) from None
    except (OSError, UnicodeDecodeError) as e:
        raise bad(f"cannot read: {e}") from None
    requirement = mapping.get("Requirement")
    if requirement is None:
        raise bad("no 'Requirement' key")
    requirement = " ".join(requirement.split())
    if not requirement:
        raise bad("'Requirement' is empty")
    ref_path = path.with_suffix(".py")
    try:
        reference = ref_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise bad(f"reference {ref_path.name} is missing") from None
    except (OSError, UnicodeDecodeError) as e:
        raise bad(f"cannot read reference {ref_path.name}: {e}") from None
    tree = _parse_or_none(reference)
    input_shape = (_keras_input_shape(tree) if tree else None) or _requirement_shape(requirement)
    if input_shape is None:
        raise bad("cannot tell the input shape from the reference or the requirement")
    units = _keras_output_units(tree) if tree else None
    return Task(
        id=path.stem,
        suite=suite,
        difficulty=level,
        framework="keras",
        category="image_classification",
        requirement=requirement,
        reference=reference,
        reference_path=str(ref_path),
        inputs=(TensorSpec(shape=(1, *input_shape)),),
        output_shape=(1, units) if units is not None else None,
        tags=(),
    )


def _parse_or_none(source: str) -> ast.Module | None:
    try:
        return parse_python(source)
    except (SyntaxError, ValueError):
        return None


def _literal_shape(node: ast.AST) -> tuple[int, ...] | None:
    try:
        value = ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError):
        return None
    if (
        isinstance(value, (tuple, list))
        and value
        and all(isinstance(d, int) and d > 0 for d in value)
    ):
        return tuple(value)
    return None


def _keras_input_shape(tree: ast.Module) -> tuple[int, ...] | None:
    """The literal `shape=` of the first `Input(...)` call."""
    for node in ast.walk(tree):
        if callee_name(node) == "Input":
            for kw in node.keywords:  # type: ignore[attr-defined]
                if kw.arg == "shape":
                    return _literal_shape(kw.value)
            if node.args:  # type: ignore[attr-defined]
                return _literal_shape(node.args[0])  # type: ignore[attr-defined]
    return None


def _keras_output_units(tree: ast.Module) -> int | None:
    """Units of the Dense layer that produces the model's `outputs=`, when it is one."""
    assigned: dict[str, ast.AST] = {}
    outputs: ast.AST | None = None
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
        ):
            assigned[node.targets[0].id] = node.value
        if callee_name(node) in ("Model", "Functional"):
            for kw in node.keywords:  # type: ignore[attr-defined]
                if kw.arg == "outputs":
                    outputs = kw.value
            if outputs is None and len(node.args) >= 2:  # type: ignore[attr-defined]
                outputs = node.args[1]  # type: ignore[attr-defined]
    for _ in range(8):  # follow `output_layer = dense_3` aliases a few steps
        if isinstance(outputs, ast.Name) and outputs.id in assigned:
            outputs = assigned[outputs.id]
        else:
            break
    # `Dense(units=10, ...)(x)`: the outer call's func is the layer constructor.
    if isinstance(outputs, ast.Call) and callee_name(outputs.func) == "Dense":
        layer = outputs.func
        assert isinstance(layer, ast.Call)
        for kw in layer.keywords:
            if kw.arg == "units" and isinstance(kw.value, ast.Constant):
                return int(kw.value.value)
        if layer.args and isinstance(layer.args[0], ast.Constant):
            return int(layer.args[0].value)
    return None


def _requirement_shape(requirement: str) -> tuple[int, ...] | None:
    for name, shape in _STUDY_DATASETS:
        if name.lower() in requirement.lower():
            return shape
    m = re.search(r"\(\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*\)", requirement) or re.search(
        r"(\d+)\s*[x×]\s*(\d+)\s*[x×]\s*(\d+)", requirement
    )
    return tuple(int(g) for g in m.groups()) if m else None
