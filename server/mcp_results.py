"""The shapes of the MCP tools' results (server/mcp_server.py): typed dicts, from which the
server publishes each tool's output schema and against which the SDK validates every result.

Positions are 1-based lines and columns; `cell` (1-based) only in a notebook's results.
"""

from __future__ import annotations

from typing import Any, NotRequired

from typing_extensions import TypedDict

Shape = list[Any] | None  # a tensor shape (batch included), or several for several outputs


class Place(TypedDict):
    line: int
    column: int
    end_line: int
    end_column: int
    cell: NotRequired[int]


class Taxonomy(TypedDict):
    dl_error: str
    python_error: str | None
    root_cause: str


class Edit(Place):
    new_text: str


class FixOut(TypedDict):
    title: str
    verified: bool  # re-checking the edited code showed the error gone
    applied_by_fix_code: bool
    edits: list[Edit]


class RelatedOut(Place):
    path: str
    message: str


# functional form: `pass` is a keyword
Finding = TypedDict(
    "Finding",
    {
        "code": str,
        "severity": str,
        "line": int,
        "column": int,
        "end_line": int,
        "end_column": int,
        "cell": NotRequired[int],
        "message": str,
        "taxonomy": Taxonomy,
        "pass": str,
        "layer": str | None,
        "related": list[RelatedOut],
        "fixes": list[FixOut],
    },
)


class Layer(TypedDict):
    name: str
    type: str
    depth: int
    input_shape: Shape
    output_shape: Shape
    params: int
    line: int | None  # where the layer is constructed


class Model(TypedDict):
    framework: str
    entry_point: str
    input_shapes: list[Shape]
    output_shape: Shape
    total_params: int
    trainable_params: int
    layers: list[Layer]


class CheckResult(TypedDict):
    verdict: str
    builds: bool | None
    errors: int
    warnings: int
    findings: list[Finding]
    model: Model | None
    notes: list[str]
    passes: dict[str, str]
    timings_ms: dict[str, float]


class FileResult(CheckResult):
    path: str


class FixResult(CheckResult):
    code: str
    fixed: int
    diff: str


class SummaryResult(TypedDict):
    verdict: str
    builds: bool | None
    model: Model | None
    table: str | None
    why_not: str | None


class ExplainResult(TypedDict):
    code: str
    severity: str
    taxonomy: Taxonomy
    documentation: str | None
