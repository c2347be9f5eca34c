"""The checkers of deepeval-lsp: a pure library (no LSP, no SQLite, no network).

`check(source, path, options)` runs the static pass in-process and, when enabled, the dynamic pass
in a sandboxed worker and the semantic pass against a known reference, and returns a `Report`.
"""

from deepeval_lsp.diagnostics.check import check, check_path
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
from deepeval_lsp.diagnostics.options import CheckOptions
from deepeval_lsp.diagnostics.taxonomy import CODES, Severity

__all__ = [
    "CODES",
    "CheckOptions",
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
    "check",
    "check_path",
]
