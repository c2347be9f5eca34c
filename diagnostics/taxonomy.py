"""The diagnostic codes and the study's three-level error taxonomy.

Every finding is labelled with a DL error category, the Python error it would raise at run time,
and a root-cause level, using the exact strings of the DeepEval study (DESIGN.md §3). Each code
maps to one category; the codes are what users select, ignore and look up in docs/diagnostics.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class RootCause(StrEnum):
    IMPORT = "Import"
    ATTRIBUTE = "Attribute"
    SYNTAX = "Syntax"
    SINGLE_API_CALL = "Single API Call"
    API_CALL_SEQUENCE = "APIs Call Sequence"
    CHECKER = "Checker"


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFORMATION = "information"
    HINT = "hint"


@dataclass(frozen=True)
class Code:
    """One diagnostic code: its name, taxonomy labels and default severity."""

    code: str
    dl_error: str
    python_error: str
    root_cause: RootCause
    severity: Severity = Severity.ERROR


_CODES = [
    # Syntax-level
    Code("DL001", "Syntax Error", "SyntaxError", RootCause.SYNTAX),
    Code("DL002", "Invalid Return Statement", "SyntaxError", RootCause.SYNTAX),
    Code("DL003", "Unassigned Variable Reference", "UnboundLocalError", RootCause.SYNTAX),
    Code("DL004", "Undefined Variable", "NameError", RootCause.SYNTAX),
    # Imports and attributes
    Code("DL101", "Missing API Import", "NameError", RootCause.IMPORT),
    Code("DL102", "Non-Existent Module Import", "ModuleNotFoundError", RootCause.IMPORT),
    Code("DL103", "Non-Existent API Import", "ImportError", RootCause.IMPORT),
    Code("DL104", "Non-Existent API Attribute Access", "AttributeError", RootCause.ATTRIBUTE),
    # Single API call (intra-layer)
    Code("DL201", "Invalid API Argument Value", "ValueError", RootCause.SINGLE_API_CALL),
    Code("DL202", "Invalid API Argument Type", "TypeError", RootCause.SINGLE_API_CALL),
    Code("DL203", "Missing API Argument", "TypeError", RootCause.SINGLE_API_CALL),
    Code("DL204", "Unexpected API Argument", "TypeError", RootCause.SINGLE_API_CALL),
    Code("DL205", "Invalid API Argument Shape", "TypeError", RootCause.SINGLE_API_CALL),
    Code("DL206", "Invalid Input Tensor Type", "TypeError", RootCause.SINGLE_API_CALL),
    # APIs call sequence (inter-layer)
    Code("DL301", "Input Tensor Shape Mismatch", "ValueError", RootCause.API_CALL_SEQUENCE),
    Code("DL302", "Input Tensor Numbers Mismatch", "ValueError", RootCause.API_CALL_SEQUENCE),
    Code("DL303", "InputTensor-API Argument Mismatch", "ValueError", RootCause.API_CALL_SEQUENCE),
    Code("DL304", "Graph Disconnection", "ValueError", RootCause.API_CALL_SEQUENCE),
    # the model runs, but its output is not the shape its task asks for
    Code("DL305", "Output Shape Mismatch", "", RootCause.API_CALL_SEQUENCE, Severity.WARNING),
    # Checker outcomes
    Code("DL401", "Not Checkable", "", RootCause.CHECKER, Severity.INFORMATION),
    Code("DL402", "Sandbox Violation", "", RootCause.CHECKER, Severity.ERROR),
    Code("DL403", "Timeout", "", RootCause.CHECKER, Severity.INFORMATION),
    Code("DL404", "Runtime Error", "", RootCause.CHECKER, Severity.ERROR),
    # Semantic pass (structure against a reference or requirement)
    Code("DL501", "Missing Structure", "", RootCause.API_CALL_SEQUENCE, Severity.INFORMATION),
    Code("DL502", "Extra Structure", "", RootCause.API_CALL_SEQUENCE, Severity.INFORMATION),
]

CODES: dict[str, Code] = {c.code: c for c in _CODES}

# The DL error categories of the study, in the order of its table (DESIGN.md §3).
STUDY_DL_ERRORS = (
    "Input Tensor Shape Mismatch",
    "Missing API Import",
    "Invalid API Argument Value",
    "Invalid API Argument Type",
    "Input Tensor Numbers Mismatch",
    "Non-Existent API Import",
    "InputTensor-API Argument Mismatch",
    "Non-Existent API Attribute Access",
    "Non-Existent Module Import",
    "Missing API Argument",
    "Invalid Input Tensor Type",
    "Graph Disconnection",
    "Unassigned Variable Reference",
    "Unexpected API Argument",
    "Invalid API Argument Shape",
    "Invalid Return Statement",
)

# Named codes for use in code, so a typo is an AttributeError rather than a silent mismatch.
SYNTAX_ERROR = "DL001"
INVALID_RETURN = "DL002"
UNASSIGNED_VARIABLE = "DL003"
UNDEFINED_VARIABLE = "DL004"
MISSING_IMPORT = "DL101"
NONEXISTENT_MODULE = "DL102"
NONEXISTENT_API_IMPORT = "DL103"
NONEXISTENT_ATTRIBUTE = "DL104"
INVALID_ARGUMENT_VALUE = "DL201"
INVALID_ARGUMENT_TYPE = "DL202"
MISSING_ARGUMENT = "DL203"
UNEXPECTED_ARGUMENT = "DL204"
INVALID_ARGUMENT_SHAPE = "DL205"
INVALID_INPUT_TYPE = "DL206"
SHAPE_MISMATCH = "DL301"
TENSOR_NUMBERS_MISMATCH = "DL302"
INPUT_ARGUMENT_MISMATCH = "DL303"
GRAPH_DISCONNECTION = "DL304"
OUTPUT_SHAPE_MISMATCH = "DL305"
NOT_CHECKABLE = "DL401"
SANDBOX_VIOLATION = "DL402"
TIMEOUT = "DL403"
RUNTIME_ERROR = "DL404"
MISSING_STRUCTURE = "DL501"
EXTRA_STRUCTURE = "DL502"


def expand_selection(selectors: list[str] | None) -> frozenset[str] | None:
    """Expand `--select/--ignore` items (`DL104`, `DL1`, `DL`) into a set of codes.

    Raises ValueError for an item that matches no code, so the CLI can report a usage error.
    """
    if selectors is None:
        return None
    out: set[str] = set()
    for raw in selectors:
        item = raw.strip().upper()
        if not item:
            continue
        matched = {c for c in CODES if c.startswith(item)}
        if not matched:
            raise ValueError(f"unknown diagnostic code or prefix: {raw!r}")
        out |= matched
    return frozenset(out)
