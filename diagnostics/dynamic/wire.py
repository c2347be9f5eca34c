"""What the dynamic pass's parent and its sandboxed child send each other, as JSON.

The parent sends a `JobPayload`; the child (diagnostics/dynamic/child/job.py) answers with a
`JobResult`, whose findings are `ErrorRecord`s with their `FixRecord`s, and whose model is a
`SummaryRecord`. When the job does not answer (timeout, crash, sandbox refusal, an exception)
the worker pool answers for it with a `PoolOutcome`, and so does the parent for an answer it could
not trust (validate.py: status "untrusted"). The paper engine's child answers with a
`PaperVerdict`. Ranges are `[line, character, end line, end character]`, 0-based, end exclusive
(as in LSP). Every key is declared here; a key a reader does not find in these types is a bug.
"""

# No `from __future__ import annotations`: TypedDict reads Required/NotRequired only from
# evaluated annotations (Python 3.11).
from typing import Any, Literal, NotRequired, Required, TypedDict, TypeGuard

# [line, character, end line, end character], 0-based, end exclusive
WireRange = list[int]


class UsageRecord(TypedDict):
    """A call of one of the file's classes or functions in a README's Python block, as text."""

    file: str  # the README's path
    line: int  # 1-based, of the call
    callee: str
    call: str
    assignments: list[str]  # the block's simple assignments before it, in order
    part: bool  # a later call of the block takes what it builds (a part of the model)


class JobPayload(TypedDict, total=False):
    """The job the parent sends (diagnostics/dynamic/job.py `payload`)."""

    source: Required[str]
    path: Required[str]
    input_shape: list[int] | None  # the user's --input-shape, batch included
    inputs: list[list[Any]] | None  # a task's inputs: [shape, dtype, high] each
    framework: str | None
    # The folders its imports resolve from, in order (diagnostics/project.py): the program's
    # own modules import as they would in a user's run.
    import_roots: list[str]
    package: str  # its __package__ ("" outside a package): `from .parts import X` resolves there
    module: str  # its dotted name in that package (`models.detr`), for the notes
    requirement: str | None  # the task's words (a dataset named there gives the input shape)
    pre_edits: list[list[Any]]  # [line, col, end line, end col, text]: applied before the build
    max_errors: int  # 1 stops at the first error, as the study did
    # how the project's README builds the file's classes (dynamic/usages.py)
    usages: list[UsageRecord]


class EditRecord(TypedDict):
    range: WireRange
    new_text: str


class FixRecord(TypedDict):
    title: str
    edits: list[EditRecord]
    # False: a literal over the user's expression, offered but never applied (the child always
    # says; absent reads as True)
    preferred: NotRequired[bool]


class RelatedRecord(TypedDict):
    range: WireRange
    message: str


class ErrorRecord(TypedDict):
    """One finding of the child: an error of the run, or a Not Checkable note ("info")."""

    code: str
    range: WireRange
    message: str
    python_error: str | None
    layer: str | None  # the culprit layer, as the user would name it
    related: list[RelatedRecord]  # where the culprit is constructed, what its fix changes
    traceback: NotRequired[str]
    fix: NotRequired[FixRecord]
    more_fixes: NotRequired[list[FixRecord]]  # other fixes, in order of preference


class LayerRecord(TypedDict):
    name: str
    type: str
    input_shape: list[int | None] | None
    output_shape: list[int | None] | None
    params: int
    depth: int
    range: WireRange | None  # its construction site
    line: int | None  # the line that called it


class SummaryRecord(TypedDict):
    framework: str
    entry_point: str
    input_shapes: list[list[int | None]]
    output_shape: list[int | None] | None
    total_params: int
    trainable_params: int
    layers: list[LayerRecord]


class OutputRecord(TypedDict):
    """One output tensor of forward; the layer whose size argument set its size at `dim`."""

    shape: list[int]
    layer: NotRequired[str]
    type: NotRequired[str]
    param: NotRequired[str]
    dim: NotRequired[int]
    range: NotRequired[WireRange | None]


class JobResult(TypedDict):
    """The child's answer to a JobPayload."""

    status: Literal["ok"]
    errors: list[ErrorRecord]
    info: list[ErrorRecord]  # Not Checkable findings
    notes: list[str]
    # after errors, the model with their fixes applied (summary_after_fixes)
    summary: SummaryRecord | None
    summary_after_fixes: bool
    executable: bool | None
    entry: str | None  # `dl_model()`, `model`, `Net()`
    entry_line: int | None
    framework: str | None
    outputs: list[OutputRecord] | None  # only for a run without errors
    sandbox: NotRequired[dict[str, Any]]  # added by the worker pool


class FrameRecord(TypedDict, total=False):
    """A frame of a traceback the pool sends (and the paper engine's failing line)."""

    file: str
    line: int | None  # 1-based
    end_line: int | None
    col: int | None
    end_col: int | None
    function: str


class PoolOutcome(TypedDict, total=False):
    """The worker pool's answer when the job did not answer (or gave an answer that could not be
    trusted: "untrusted", its `detail` says why)."""

    status: Required[
        Literal["timeout", "crashed", "sandbox_violation", "error", "cancelled", "untrusted"]
    ]
    detail: str
    event: str  # the audit event refused
    exception: str  # the exception the job raised
    traceback: list[FrameRecord]
    output_tail: str  # the child's last stdout/stderr
    sandbox: dict[str, Any]


class PaperVerdict(TypedDict, total=False):
    """The paper engine's answer (diagnostics/paper/engine.py): the study's verdict."""

    status: Required[Literal["ok"]]
    executable: Required[bool]
    seconds: float  # set on every answer, after the verdict
    python_error: str
    message: str
    code: str
    dl_error: str
    root_cause: str
    line: int | None  # 1-based
    end_line: int | None
    col: int | None  # 0-based UTF-8 offsets
    end_col: int | None
    sandbox: dict[str, Any]


def is_job_result(raw: JobResult | PoolOutcome) -> TypeGuard[JobResult]:
    """Did the child answer (else the pool answered for it)?"""
    return raw.get("status") == "ok"
