"""The DeepEval study's task format: `{Easy,Medium,Hard}/<level>_task_<n>.yaml` beside `.py`.

Each YAML file is a mapping whose key `Requirement` holds the task's text; the `.py` beside it
is the Keras reference. Inputs and the output shape are read from the reference
(`Input(shape=…)`, the final `Dense(units=…)`), batch 1, channels last.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import yaml
from deepeval_lsp.diagnostics.datasets import DATASETS
from deepeval_lsp.diagnostics.tasks.model import Task, TaskFormatError, TensorSpec, read_reference
from deepeval_lsp.diagnostics.text import callee_name, parse_python

# Channels-last input shapes the study's requirements imply, for references that do not say.
_STUDY_DATASETS = tuple((n, d.image_hwc) for d in DATASETS for n in d.study_names if d.image_hwc)


def read_study_task(path: Path, suite: str, level: str) -> Task:
    """The task described by `path`, found in the `level` folder of `suite`."""

    def bad(msg: str) -> TaskFormatError:
        return TaskFormatError(f"{path}: {msg}")

    try:
        mapping = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise bad(_yaml_problem(e)) from None
    except (OSError, UnicodeDecodeError) as e:
        raise bad(f"cannot read: {e}") from None
    if mapping is None:
        mapping = {}
    if not isinstance(mapping, dict):
        raise bad(f"expected 'Requirement: …' at the top level, not a {type(mapping).__name__}")
    if "Requirement" not in mapping:
        raise bad("no 'Requirement' key")
    requirement = mapping["Requirement"]
    if requirement is None:  # `Requirement:` with no value
        requirement = ""
    if not isinstance(requirement, str):
        kind = type(requirement).__name__
        raise bad(f"'Requirement' is a {kind}: only string scalars are supported")
    requirement = " ".join(requirement.split())
    if not requirement:
        raise bad("'Requirement' is empty")
    ref_path = path.with_suffix(".py")
    reference = read_reference(ref_path, bad)
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


def _yaml_problem(e: yaml.YAMLError) -> str:
    """PyYAML's error on one line: what went wrong, where, and what it was reading."""
    if isinstance(e, yaml.MarkedYAMLError) and e.problem:
        where = f" at line {e.problem_mark.line + 1}" if e.problem_mark else ""
        context = f" ({e.context})" if e.context else ""
        return f"invalid YAML{where}: {e.problem}{context}"
    return "invalid YAML: " + " ".join(str(e).split())


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
