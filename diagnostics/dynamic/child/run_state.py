"""The state of one execution of the checked source, and positions in it."""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass, field
from typing import Any

from deepeval_lsp.diagnostics import taxonomy as T
from deepeval_lsp.diagnostics.dynamic.child.meta_patches import site_of
from deepeval_lsp.diagnostics.dynamic.child.shape_fixes import CatDimFix, Proposal
from deepeval_lsp.diagnostics.dynamic.wire import ErrorRecord, OutputRecord, SummaryRecord

# The checker's own code (the diagnostics package's folder): frames there are not the program's.
CHECKER_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# the checked program runs as this module
MODULE_NAME = "__deepeval_model__"


@dataclass
class Run:
    """State of one execution of the (possibly already fixed) source."""

    source: str
    path: str
    lines: list[str]
    tree: ast.Module
    error: ErrorRecord | None = None
    proposal: Proposal | None = None
    alternatives: list[Proposal] = field(default_factory=list)  # offered after `proposal`
    tentative: list[CatDimFix] = field(default_factory=list)  # tried before giving up on a fix
    summary: SummaryRecord | None = None
    entry: str | None = None  # how the model was reached: "dl_model()", "model", "Unet(dim=64)"
    assumed: list[str] = field(default_factory=list)  # its arguments the check chose: "dim=64"
    # sizes the program computes from data the check does not load, which it chose instead:
    # "INPUT_DIM=64 (line 12)" (program_slice.Slice.sizes)
    assumed_sizes: list[str] = field(default_factory=list)
    framework: str | None = None
    notes: list[str] = field(default_factory=list)
    info: list[ErrorRecord] = field(default_factory=list)  # Not Checkable diagnostics
    model: Any = None
    input_note: str | None = None
    # while forward runs on an input the check guessed: how ("built with guessed input …")
    guess: str | None = None
    records: dict[int, dict[str, Any]] = field(default_factory=dict)  # forward hooks, by id
    undecided: bool = False  # built, but forward could not run (no input shape)
    input_dtypes: list[str] | None = None  # per input, when the task says (token ids are int64)
    producers: dict[int, Any] = field(default_factory=dict)  # id(output tensor) -> module
    inputs_of: dict[int, Any] = field(default_factory=dict)  # id(module) -> its last input
    alive: list[Any] = field(default_factory=list)
    # torch forward's output tensors, in order: their shapes and the layers that set their sizes
    outputs: list[OutputRecord] | None = None
    # a package of the project whose __init__ imports a module of its own that exists nowhere
    # (a generated `_version.py`, `api/`): (package, missing module, its __init__'s line)
    bare_retry: tuple[str, str, int] | None = None
    # how the project's README builds the file's classes (wire.UsageRecord)
    usages: list[Any] = field(default_factory=list)


def entry_line(run: Run) -> int:
    """The 0-based line defining the run's entry point (0 when not found)."""
    name = (run.entry or "").partition("(")[0]
    for node in run.tree.body:
        if isinstance(node, ast.ClassDef | ast.FunctionDef) and node.name == name:
            return node.lineno - 1
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            return node.lineno - 1
    return 0


def site_range(run: Run, obj: Any) -> list[int] | None:
    """Where `obj` was constructed in the file, as a wire range; None when not recorded."""
    site = site_of(obj)
    if site is None:
        return None
    line, end_line, col, end_col = site
    return [
        line - 1,
        char_col(run.lines, line, col),
        end_line - 1,
        char_col(run.lines, end_line, end_col),
    ]


def char_col(lines: list[str], line1: int, byte_col: int) -> int:
    """The character column of a UTF-8 byte column on a 1-based line."""
    text = lines[line1 - 1] if 0 < line1 <= len(lines) else ""
    if text.isascii():
        return byte_col
    return len(text.encode("utf-8")[:byte_col].decode("utf-8", errors="ignore"))


def not_checkable(line0: int, lines: list[str], message: str) -> ErrorRecord:
    """A Not Checkable finding on a whole line."""
    text = lines[line0] if 0 <= line0 < len(lines) else ""
    start = len(text) - len(text.lstrip())
    return {
        "code": T.NOT_CHECKABLE,
        "range": [line0, start, line0, len(text)],
        "message": message,
        "python_error": "",
        "related": [],
        "layer": None,
    }
