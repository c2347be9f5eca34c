"""What the syntax tree alone says about the program: its model entry point and its frameworks."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from deepeval_lsp.diagnostics.dynamic.child.program_slice import model_classes, slice_program


@dataclass(frozen=True)
class Plan:
    # "dl_model" (the study's contract), "variable" (a module-level model), "class", or None
    entry_kind: str | None
    slice_vars: list[str]  # the module-level model variables the slice keeps
    classes: list[str]  # model classes, the outermost first
    uses_keras: bool
    uses_torch: bool
    blocked: dict[str, int]  # variables the slice drops (data loading, training): their line
    imports: set[str]  # the top-level packages imported


def make_plan(tree: ast.Module) -> Plan:
    """The plan of a program, from its syntax tree."""
    sl = slice_program(tree)
    has_dl_model = any(isinstance(s, ast.FunctionDef) and s.name == "dl_model" for s in tree.body)
    classes = _model_class_defs(tree)
    kind = (
        "dl_model"
        if has_dl_model
        else "variable"
        if sl.model_vars or sl.model_calls
        else ("class" if classes else None)
    )
    imports = _imported_tops(sl.module)
    uses_keras = bool(imports & {"keras", "tensorflow"})
    uses_torch = "torch" in imports
    return Plan(
        entry_kind=kind,
        slice_vars=sl.model_vars,
        classes=classes,
        uses_keras=uses_keras,
        uses_torch=uses_torch or not uses_keras,
        blocked=sl.blocked,
        imports=imports,
    )


def _imported_tops(module: ast.Module) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(module):
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            out.add(node.module.split(".")[0])
    return out


def _model_class_defs(tree: ast.Module) -> list[str]:
    """Model classes, the ones no other class uses first (the outermost model is the entry)."""
    names = model_classes(tree)
    ordered = [s for s in tree.body if isinstance(s, ast.ClassDef) and s.name in names]
    used: set[str] = set()
    for s in ordered:
        for n in ast.walk(s):
            if isinstance(n, ast.Name) and n.id in names and n.id != s.name:
                used.add(n.id)
    top = [s.name for s in ordered if s.name not in used]
    return top + [s.name for s in ordered if s.name in used]
