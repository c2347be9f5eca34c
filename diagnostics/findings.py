"""The data every pass produces and every front end consumes: diagnostics, fixes and reports.

Positions are 0-based lines and characters (UTF-16 code units are not used: characters are
Python string indices), ranges are end-exclusive, as in LSP. Everything converts to plain JSON
with `to_json()`; the JSON shape is the one `deepeval-lsp check --format json` prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from deepeval_lsp.diagnostics.taxonomy import CODES, Severity


@dataclass(frozen=True, order=True)
class Position:
    line: int
    character: int

    def to_json(self) -> dict[str, int]:
        return {"line": self.line, "character": self.character}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Position:
        return cls(int(d["line"]), int(d["character"]))


@dataclass(frozen=True, order=True)
class Range:
    start: Position
    end: Position

    @classmethod
    def of(cls, line: int, character: int, end_line: int, end_character: int) -> Range:
        return cls(Position(line, character), Position(end_line, end_character))

    def contains(self, other: Range) -> bool:
        return self.start <= other.start and other.end <= self.end

    def overlaps(self, other: Range) -> bool:
        return self.start < other.end and other.start < self.end

    def to_json(self) -> dict[str, Any]:
        return {"start": self.start.to_json(), "end": self.end.to_json()}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Range:
        return cls(Position.from_json(d["start"]), Position.from_json(d["end"]))


@dataclass(frozen=True)
class TextEdit:
    range: Range
    new_text: str

    def to_json(self) -> dict[str, Any]:
        return {"range": self.range.to_json(), "new_text": self.new_text}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> TextEdit:
        return cls(Range.from_json(d["range"]), d["new_text"])


@dataclass(frozen=True)
class Fix:
    """A suggested change. `verified` means re-checking the edited text showed the error gone;
    a fix that is not `preferred` (a literal written over the user's expression) is offered but
    never applied by `--fix` / fix-all."""

    title: str
    edits: tuple[TextEdit, ...]
    verified: bool = False
    preferred: bool = True

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "verified": self.verified,
            "preferred": self.preferred,
            "edits": [e.to_json() for e in self.edits],
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Fix:
        return cls(
            d["title"],
            tuple(TextEdit.from_json(e) for e in d["edits"]),
            bool(d["verified"]),
            bool(d.get("preferred", True)),
        )


@dataclass(frozen=True)
class Related:
    """Related information: another place that explains the finding (e.g. a layer's constructor)."""

    path: str
    range: Range
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "range": self.range.to_json(), "message": self.message}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Related:
        return cls(d["path"], Range.from_json(d["range"]), d["message"])


@dataclass(frozen=True)
class Diagnostic:
    code: str
    range: Range
    message: str
    severity: Severity | None = None
    python_error: str | None = None
    related: tuple[Related, ...] = ()
    fixes: tuple[Fix, ...] = ()
    source_pass: str = "static"
    layer: str | None = None

    def __post_init__(self) -> None:
        spec = CODES[self.code]  # KeyError for an unknown code is a programming error
        if self.severity is None:
            object.__setattr__(self, "severity", spec.severity)
        if self.python_error is None:
            object.__setattr__(self, "python_error", spec.python_error)

    @property
    def dl_error(self) -> str:
        return CODES[self.code].dl_error

    @property
    def root_cause(self) -> str:
        return str(CODES[self.code].root_cause)

    @property
    def preferred_fix(self) -> Fix | None:
        """The fix to apply with `--fix` / fix-all: the first verified preferred one, else none."""
        for fix in self.fixes:
            if fix.verified and fix.preferred:
                return fix
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": str(self.severity),
            "range": self.range.to_json(),
            "message": self.message,
            "python_error": self.python_error,
            "dl_error": self.dl_error,
            "root_cause": self.root_cause,
            "pass": self.source_pass,
            "layer": self.layer,
            "related": [r.to_json() for r in self.related],
            "fixes": [f.to_json() for f in self.fixes],
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Diagnostic:
        return cls(
            code=d["code"],
            range=Range.from_json(d["range"]),
            message=d["message"],
            severity=Severity(d["severity"]),
            python_error=d.get("python_error"),
            related=tuple(Related.from_json(r) for r in d.get("related", ())),
            fixes=tuple(Fix.from_json(f) for f in d.get("fixes", ())),
            source_pass=d.get("pass", "static"),
            layer=d.get("layer"),
        )


@dataclass(frozen=True)
class LayerSummary:
    """One row of the model summary (torchinfo style)."""

    name: str
    type: str
    output_shape: tuple[Any, ...] | None
    params: int
    input_shape: tuple[Any, ...] | None = None
    depth: int = 0
    range: Range | None = None  # where the layer is constructed in the user's file
    line: int | None = None  # a line in forward()/the functional graph that produced the output

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "input_shape": list(self.input_shape) if self.input_shape is not None else None,
            "output_shape": list(self.output_shape) if self.output_shape is not None else None,
            "params": self.params,
            "depth": self.depth,
            "range": self.range.to_json() if self.range else None,
            "line": self.line,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> LayerSummary:
        return cls(
            name=d["name"],
            type=d["type"],
            output_shape=_shape(d.get("output_shape")),
            params=int(d.get("params", 0)),
            input_shape=_shape(d.get("input_shape")),
            depth=int(d.get("depth", 0)),
            range=Range.from_json(d["range"]) if d.get("range") else None,
            line=d.get("line"),
        )


def _shape(v: Any) -> tuple[Any, ...] | None:
    if v is None:
        return None
    return tuple(tuple(x) if isinstance(x, list) else x for x in v)


@dataclass(frozen=True)
class ModelSummary:
    """What the dynamic pass learned about the model that built."""

    framework: str
    entry_point: str
    input_shapes: tuple[tuple[Any, ...], ...]
    output_shape: tuple[Any, ...] | None
    total_params: int
    trainable_params: int
    layers: tuple[LayerSummary, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "framework": self.framework,
            "entry_point": self.entry_point,
            "input_shapes": [list(s) for s in self.input_shapes],
            "output_shape": list(self.output_shape) if self.output_shape is not None else None,
            "total_params": self.total_params,
            "trainable_params": self.trainable_params,
            "layers": [layer.to_json() for layer in self.layers],
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ModelSummary:
        return cls(
            framework=d["framework"],
            entry_point=d["entry_point"],
            input_shapes=tuple(tuple(s) for s in d.get("input_shapes", ())),
            output_shape=_shape(d.get("output_shape")),
            total_params=int(d.get("total_params", 0)),
            trainable_params=int(d.get("trainable_params", 0)),
            layers=tuple(LayerSummary.from_json(x) for x in d.get("layers", ())),
        )


@dataclass
class Report:
    """Everything one check of one file found."""

    path: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    model: ModelSummary | None = None
    notes: list[str] = field(default_factory=list)  # e.g. "dynamic checks did not run: …"
    passes: dict[str, str] = field(default_factory=dict)  # pass name -> "ran" | reason it did not
    timings_ms: dict[str, float] = field(default_factory=dict)
    error: str | None = None  # the file could not be checked at all (unreadable, binary, …)
    # Did the model build (and run forward / summary / compile) in the dynamic pass?
    # None when the dynamic pass did not run or could not decide.
    executable: bool | None = None
    # Semantic pass scores against a reference, e.g. {"api_set_f1": 92.3, "api_seq_f1": 88.0, …}.
    semantic: dict[str, Any] | None = None

    def counts(self) -> dict[str, int]:
        out = {str(s): 0 for s in Severity}
        for d in self.diagnostics:
            out[str(d.severity)] += 1
        return out

    @property
    def has_errors(self) -> bool:
        return self.error is not None or any(d.severity == Severity.ERROR for d in self.diagnostics)

    def to_json(self) -> dict[str, Any]:
        counts = self.counts()
        return {
            "path": self.path,
            "diagnostics": [d.to_json() for d in self.diagnostics],
            "summary": {
                "errors": counts["error"],
                "warnings": counts["warning"],
                "information": counts["information"],
                "hints": counts["hint"],
                "fixable": sum(1 for d in self.diagnostics if d.preferred_fix),
                "passes": dict(self.passes),
                "notes": list(self.notes),
                "timings_ms": {k: round(v, 3) for k, v in self.timings_ms.items()},
                "error": self.error,
                "model": self.model.to_json() if self.model else None,
                "executable": self.executable,
                "semantic": self.semantic,
            },
        }
