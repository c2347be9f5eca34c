"""Options shared by every front end that runs the checkers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from deepeval_lsp.diagnostics.tasks.model import TensorSpec


@dataclass(frozen=True)
class CheckOptions:
    """What to check and how. Front ends build one from their flags or settings."""

    dynamic: bool = True
    semantic: bool = True
    framework: str = "auto"  # auto | torch | keras
    input_shape: tuple[int, ...] | None = None  # the default input shape (batch included)
    # Every input of a multi-input model, when known (a task's spec). Overrides input_shape.
    inputs: tuple[TensorSpec, ...] | None = None
    timeout_ms: int = 10_000
    verify_fixes: bool = True
    # Build the model with the static findings' verified fixes applied, to find the shape
    # mistakes behind them in the same run (then the program as written gets no verdict).
    # Scoring turns it off: executability is about the program as written.
    fix_static_first: bool = True
    select: frozenset[str] | None = None
    ignore: frozenset[str] = frozenset()
    workspace_root: str | None = None
    task_id: str | None = None  # semantic pass: the task this file answers
    suite: str | None = None  # semantic pass: the suite that holds the task ("builtin" or a path)
    reference_source: str | None = None  # semantic pass: the reference program, when known
    requirement: str | None = None  # the task's requirement text, when known
    # What forward returns for the task's inputs, batch included: a shape, or a tuple of shapes
    # when it returns several tensors. The dynamic pass warns when the model's output differs.
    output_shape: tuple | None = None
    paper_compat: bool = False

    def wants(self, code: str) -> bool:
        if code in self.ignore:
            return False
        return self.select is None or code in self.select
