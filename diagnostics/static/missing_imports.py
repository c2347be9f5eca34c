"""Missing imports: which import a name conventionally comes from, and the edit that adds it.

`nn` is `import torch.nn as nn`, `F` is `import torch.nn.functional as F`, `layers` is
`from keras import layers` (or `from tensorflow.keras import layers` in a file that uses
tf.keras), `Conv2D` is a member of keras.layers, `math` is a standard-library module. When the
file already imports from the same module (`from keras.layers import Dense`), the fix extends
that statement instead of adding a line.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass

from deepeval_lsp.diagnostics import framework as fw
from deepeval_lsp.diagnostics.findings import Position, Range, TextEdit
from deepeval_lsp.diagnostics.text import SourceText

# name -> (module, attribute or None for `import module as name`)
_CONVENTIONAL_TORCH = {
    "torch": ("torch", None),
    "nn": ("torch.nn", None),
    "F": ("torch.nn.functional", None),
    "optim": ("torch.optim", None),
    "init": ("torch.nn.init", None),
    "Tensor": ("torch", "Tensor"),
    "DataLoader": ("torch.utils.data", "DataLoader"),
    "Dataset": ("torch.utils.data", "Dataset"),
    "TensorDataset": ("torch.utils.data", "TensorDataset"),
}
_CONVENTIONAL_OTHER = {
    "np": ("numpy", None),
    "tf": ("tensorflow", None),
    "plt": ("matplotlib.pyplot", None),
    "pd": ("pandas", None),
}
_KERAS_MODULES = (
    "layers",
    "models",
    "optimizers",
    "losses",
    "metrics",
    "callbacks",
    "utils",
    "regularizers",
    "initializers",
    "activations",
    "datasets",
    "backend",
    "ops",
    "applications",
)
# Where a bare keras name is looked for, in order.
_KERAS_MEMBER_HOMES = (
    "layers",
    "models",
    "optimizers",
    "losses",
    "callbacks",
    "utils",
    "regularizers",
    "initializers",
    "datasets",
)
_TORCH_MEMBER_HOMES = ("torch.nn", "torch.optim", "torch.utils.data")


@dataclass(frozen=True)
class ImportContext:
    """What the file already imports, which decides the conventional spelling of a fix."""

    uses_torch: bool
    uses_keras: bool
    keras_prefix: str  # "keras" or "tensorflow.keras"
    from_imports: dict[str, ast.ImportFrom]  # module -> last top-level `from module import …`
    insert_line: int  # 0-based line where a new import line goes

    @classmethod
    def of(cls, tree: ast.Module) -> ImportContext:
        uses_torch = uses_keras = uses_tf_keras = uses_tf = False
        from_imports: dict[str, ast.ImportFrom] = {}
        insert_after = 0
        body = tree.body
        for i, stmt in enumerate(body):
            if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                insert_after = stmt.end_lineno or stmt.lineno
                mods = (
                    [a.name for a in stmt.names]
                    if isinstance(stmt, ast.Import)
                    else [stmt.module or ""]
                )
                if (
                    isinstance(stmt, ast.ImportFrom)
                    and stmt.module
                    and not stmt.level
                    and all(a.name != "*" for a in stmt.names)
                ):
                    from_imports[stmt.module] = stmt
                for m in mods:
                    top = m.split(".")[0]
                    uses_torch |= top == "torch"
                    uses_keras |= top == "keras"
                    uses_tf |= top == "tensorflow"
                    uses_tf_keras |= m.startswith("tensorflow.keras") or (
                        isinstance(stmt, ast.ImportFrom)
                        and m == "tensorflow"
                        and any(a.name == "keras" for a in stmt.names)
                    )
            elif i == 0 and isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
                insert_after = stmt.end_lineno or stmt.lineno  # module docstring
            elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                break
        prefix = "tensorflow.keras" if (uses_tf_keras or (uses_tf and not uses_keras)) else "keras"
        return cls(uses_torch, uses_keras or uses_tf, prefix, from_imports, insert_after)


@dataclass(frozen=True)
class ImportSuggestion:
    module: str
    attribute: str | None
    alias: str

    @property
    def statement(self) -> str:
        if self.attribute is None:
            if self.module == self.alias:
                return f"import {self.module}"
            return f"import {self.module} as {self.alias}"
        if self.attribute == self.alias:
            return f"from {self.module} import {self.attribute}"
        return f"from {self.module} import {self.attribute} as {self.alias}"


def suggest_import(name: str, ctx: ImportContext) -> ImportSuggestion | None:
    """The conventional import that defines `name`, if there is one."""
    keras_first = ctx.uses_keras and not ctx.uses_torch
    if name in _CONVENTIONAL_TORCH and not (keras_first and name in {"Tensor", "init"}):
        mod, attr = _CONVENTIONAL_TORCH[name]
        return ImportSuggestion(mod, attr, name)
    if name in _CONVENTIONAL_OTHER:
        mod, attr = _CONVENTIONAL_OTHER[name]
        return ImportSuggestion(mod, attr, name)
    if name == "keras":
        if ctx.keras_prefix == "tensorflow.keras":
            return ImportSuggestion("tensorflow", "keras", "keras")
        return ImportSuggestion("keras", None, "keras")
    if name in _KERAS_MODULES and (ctx.uses_keras or not ctx.uses_torch):
        return ImportSuggestion(ctx.keras_prefix, name, name)
    if name == "K":
        return ImportSuggestion(ctx.keras_prefix, "backend", "K")
    if name in sys.stdlib_module_names and not name.startswith("_"):
        return ImportSuggestion(name, None, name)
    homes: list[str] = []
    keras_homes = [f"keras.{m}" for m in _KERAS_MEMBER_HOMES]
    if keras_first:
        homes = keras_homes + list(_TORCH_MEMBER_HOMES)
    elif ctx.uses_torch:
        homes = list(_TORCH_MEMBER_HOMES) + (keras_homes if ctx.uses_keras else [])
    else:
        homes = keras_homes + list(_TORCH_MEMBER_HOMES)
    for home in homes:
        if name in fw.public_names(home):
            module = (
                home.replace("keras", ctx.keras_prefix, 1) if home.startswith("keras") else home
            )
            return ImportSuggestion(module, name, name)
    return None


def import_edit(s: ImportSuggestion, ctx: ImportContext, text: SourceText) -> TextEdit:
    """The edit that adds `s`: extend an existing `from module import …`, else a new line."""
    if s.attribute is not None and s.attribute == s.alias and s.module in ctx.from_imports:
        stmt = ctx.from_imports[s.module]
        last = stmt.names[-1]
        line = (last.end_lineno or stmt.lineno) - 1
        col = text.char_col(line, last.end_col_offset or 0)
        pos = Position(line, col)
        return TextEdit(Range(pos, pos), f", {s.alias}")
    line = ctx.insert_line
    if line > 0 and not text.lines[min(line, len(text.lines)) - 1].endswith("\n"):
        end = text.line_end(line - 1)  # the file ends on the import line without a newline
        return TextEdit(Range(end, end), "\n" + s.statement)
    pos = Position(line, 0)
    return TextEdit(Range(pos, pos), s.statement + "\n")
