"""The checkers of deepeval-lsp: a pure library (no LSP, no SQLite, no network).

`check(source, path, options)` runs the static pass in-process and, when enabled, the dynamic pass
in a sandboxed worker and the semantic pass against a known reference, and returns a `Report`.
A front end checks through one `Checker`, which owns the worker pools and picks each program's
engine.
"""

from deepeval_lsp.diagnostics.check import check
from deepeval_lsp.diagnostics.checker import Cancellation, Checker
from deepeval_lsp.diagnostics.files import UncheckableFile, iter_files, read_source
from deepeval_lsp.diagnostics.findings import (
    Diagnostic,
    Fix,
    LayerSummary,
    ModelSummary,
    Position,
    Range,
    Related,
    Report,
    TextEdit,
)
from deepeval_lsp.diagnostics.fixes import ChosenFixes, apply_fixes, choose_fixes
from deepeval_lsp.diagnostics.options import CheckOptions
from deepeval_lsp.diagnostics.taxonomy import CODES, Severity

__all__ = [
    "CODES",
    "Cancellation",
    "CheckOptions",
    "Checker",
    "ChosenFixes",
    "Diagnostic",
    "Fix",
    "LayerSummary",
    "ModelSummary",
    "Position",
    "Range",
    "Related",
    "Report",
    "Severity",
    "TextEdit",
    "UncheckableFile",
    "apply_fixes",
    "check",
    "choose_fixes",
    "iter_files",
    "read_source",
]
