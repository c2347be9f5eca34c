"""Diagnostics-guided repair, a prompting method: its labels, its stopping rule, the follow-up
turn that shows a model our findings, and the round that applies our verified fixes instead.

Labels (`--prompting`, docs/benchmark.md): `X+repair[:N]` asks as the base method `X` does
(zeroshot, oneshot, oneshotcot, fewshot), checks the answer and, while it has errors, sends the
findings back in the same conversation, at most N times (2 by default); `X+repair-fixes[:N]`
applies our verified fixes to the program instead of asking the model, at most N times. `repair`
alone is `zeroshot+repair:2`, `repair-fixes` alone `zeroshot+repair-fixes:2`. A label is stored
in its canonical form, `fewshot+repair:3`, so the base method stays visible.

Round 0 is the base method's answer; round k (1..N) is the k-th repair. A program "has errors"
when the checkers that score it (static and dynamic passes) report an error-severity finding;
notes, warnings and the semantic pass's findings never start a round.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from deepeval_lsp.benchmark.prompting import PROMPTINGS
from deepeval_lsp.diagnostics.findings import Position, Range, Report, TextEdit
from deepeval_lsp.diagnostics.fixes import apply_fixes
from deepeval_lsp.diagnostics.render import render_text
from deepeval_lsp.diagnostics.taxonomy import Severity
from deepeval_lsp.diagnostics.text import SourceText, apply_edits

if TYPE_CHECKING:
    from deepeval_lsp.diagnostics.findings import Diagnostic

REPAIR = "repair"  # the model is asked again, shown the findings
REPAIR_FIXES = "repair-fixes"  # our verified fixes are applied, no model asked
METHODS = (REPAIR, REPAIR_FIXES)
DEFAULT_ROUNDS = 2
MAX_ROUNDS = 10
BLOCKING_PASSES = ("static", "dynamic")
PROGRAM_PATH = "program.py"  # the name the follow-up turn gives the model's program


@dataclass(frozen=True)
class RepairSpec:
    base: str  # the base prompting method of round 0
    method: str  # REPAIR or REPAIR_FIXES
    rounds: int  # at most this many repair rounds after round 0

    @property
    def label(self) -> str:
        return f"{self.base}+{self.method}:{self.rounds}"

    @property
    def asks_model(self) -> bool:
        return self.method == REPAIR


def parse_prompting(label: str) -> tuple[str, RepairSpec | None]:
    """The base method of a prompting label and its repair, if any; ValueError for a label
    that is not one of ours (one line for the user)."""
    text = label.strip()
    base, plus, tail = text.partition("+")
    if not plus:
        if base.split(":", 1)[0] in METHODS:
            base, tail = "zeroshot", text
        elif base in PROMPTINGS:
            return base, None
        else:
            raise ValueError(_unknown(label))
    if base not in PROMPTINGS:
        raise ValueError(_unknown(label))
    method, colon, count = tail.partition(":")
    if method not in METHODS:
        raise ValueError(_unknown(label))
    rounds = DEFAULT_ROUNDS
    if colon:
        if not count.isdigit() or not 1 <= int(count) <= MAX_ROUNDS:
            raise ValueError(
                f"prompting {label!r}: the rounds after ':' must be a whole number from 1 to "
                f"{MAX_ROUNDS}"
            )
        rounds = int(count)
    return base, RepairSpec(base, method, rounds)


def canonical_prompting(label: str) -> str:
    """The stored spelling of a prompting label: `repair` -> `zeroshot+repair:2`."""
    base, spec = parse_prompting(label)
    return spec.label if spec else base


def base_prompting(label: str) -> str:
    """The base method of a stored label (the label itself for anything not ours, e.g. none)."""
    try:
        return parse_prompting(label)[0]
    except ValueError:
        return label


def repair_of(label: str) -> RepairSpec | None:
    try:
        return parse_prompting(label)[1]
    except ValueError:
        return None


def _unknown(label: str) -> str:
    return (
        f"unknown prompting {label!r} (choose from {', '.join(PROMPTINGS)}, or add repair: "
        "X+repair[:ROUNDS], X+repair-fixes[:ROUNDS], repair)"
    )


def blocking(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """The findings that make a program fail: error severity, from the static or dynamic pass."""
    return [
        d for d in diagnostics if d.severity == Severity.ERROR and d.source_pass in BLOCKING_PASSES
    ]


def feedback_message(code: str, errors: list[Diagnostic]) -> str:
    """The follow-up turn: the errors rendered as `deepeval-lsp check` renders them, the
    verified fixes as hints, and the answer's contract again."""
    report = Report(path=PROGRAM_PATH, diagnostics=list(errors))
    parts = [
        f"I checked your program (as {PROGRAM_PATH}) and it fails. The checker reports:",
        render_text([report], {PROGRAM_PATH: code}),
    ]
    hints = fix_hints(code, errors)
    if hints:
        parts.append("Fixes that were verified to remove an error:\n" + "\n".join(hints))
    parts.append(
        "Correct the program and write the whole corrected program again in one ```python "
        "block, with the same `dl_model()` function."
    )
    return "\n\n".join(parts)


def fix_hints(code: str, errors: list[Diagnostic]) -> list[str]:
    """One line per distinct edit of the errors' verified fixes, as the lines it changes:
    "- at line 12, replace `nn.Linear(4096, 10)` with `nn.Linear(64 * 8 * 8, 10)`"."""
    src = SourceText(code)
    hints: list[str] = []
    seen: set[TextEdit] = set()
    for d in errors:
        fix = d.preferred_fix
        if fix is None:
            continue
        for edit in fix.edits:
            if edit not in seen:
                seen.add(edit)
                hints.append(_hint(src, edit, fix.title))
    return hints


def _hint(src: SourceText, edit: TextEdit, title: str) -> str:
    start, end = edit.range.start, edit.range.end
    line = start.line + 1
    added = edit.new_text.strip()
    if start == end and edit.new_text.endswith("\n") and "\n" not in added:
        return f"- at line {line}, insert the line `{added}`"  # a whole line (an import)
    # the lines the edit touches, before and after it
    first, last = start.line, max(start.line, end.line)
    old = "".join(src.lines[first : last + 1])
    local = TextEdit(
        Range(Position(0, start.character), Position(last - first, end.character)),
        edit.new_text,
    )
    before, after = old.strip(), apply_edits(old, [local]).strip()
    if "\n" in before or "\n" in after or not before:
        return f"- at line {line}: {title}"
    if not after:
        return f"- at line {line}, delete `{before}`"
    return f"- at line {line}, replace `{before}` with `{after}`"


def apply_verified_fixes(code: str, diagnostics: list[Diagnostic]) -> tuple[str, int]:
    """`code` with the verified fixes of its errors applied, as `check --fix` applies them (whole
    fixes, never two that overlap), and how many findings they fix."""
    fixed, chosen = apply_fixes(code, blocking(diagnostics))
    return fixed, len(chosen.fixed)
