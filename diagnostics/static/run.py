"""The static pass: everything that can be found without running the program (DESIGN.md §5).

Parse errors, undefined names and missing imports, imports and members that do not exist in the
installed frameworks, calls that do not bind to the real signatures, and argument values that are
wrong on their face. It reports every such mistake in one run, in-process, in milliseconds.
"""

from __future__ import annotations

import ast
import dataclasses
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

from deepeval_lsp.diagnostics import taxonomy as T
from deepeval_lsp.diagnostics.findings import Diagnostic, Position, Range, TextEdit
from deepeval_lsp.diagnostics.options import CheckOptions
from deepeval_lsp.diagnostics.recheck import verify
from deepeval_lsp.diagnostics.static.checks import run_checks
from deepeval_lsp.diagnostics.text import SourceText, parse_python


@dataclass
class StaticResult:
    diagnostics: list[Diagnostic] = field(default_factory=list)
    tree: ast.Module | None = None
    fatal: str | None = None  # the file could not be analysed at all
    fixes_verified: bool = False  # each fix's `verified` flag has been decided
    elapsed_ms: float = 0.0


def parse(source: str, path: str) -> tuple[ast.Module | None, Diagnostic | None, str | None]:
    """Parse and compile `source`; return (tree, syntax diagnostic, fatal message)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # Errors the compiler finds after parsing (`return` outside a function, `break`
            # outside a loop) are found by the scope analysis, which is cheaper than compiling;
            # the rarer ones surface when the dynamic pass compiles the file.
            # Not the real path: CPython would read the saved file to describe a syntax error,
            # which differs from an unsaved buffer.
            tree = parse_python(source, "<document>")
    except SyntaxError as e:
        return None, _syntax_diagnostic(source, e), None
    except (RecursionError, MemoryError):
        return None, None, "expressions nested too deeply to analyse"
    except ValueError as e:  # e.g. source with NUL characters passed as text
        return None, None, f"cannot parse: {e}"
    return tree, None, None


def _syntax_diagnostic(source: str, e: SyntaxError) -> Diagnostic:
    text = SourceText(source)
    line = max((e.lineno or 1) - 1, 0)
    # SyntaxError offsets are 1-based character offsets (not bytes) in the decoded line.
    col = max((e.offset or 1) - 1, 0)
    end_line = (e.end_lineno - 1) if e.end_lineno else line
    end_col = (e.end_offset - 1) if e.end_offset else col + 1
    if (end_line, end_col) <= (line, col):
        end_line, end_col = line, col + 1
    col = min(col, len(text.line(line)))
    msg = e.msg or "invalid syntax"
    code = T.INVALID_RETURN if "'return'" in msg or "'yield'" in msg else T.SYNTAX_ERROR
    return Diagnostic(code, Range(Position(line, col), Position(end_line, end_col)), msg)


def run_static(source: str, path: str, options: CheckOptions) -> StaticResult:
    """Run every static check on `source` (and verify the fixes if the options say so)."""
    t0 = time.perf_counter()
    tree, syntax, fatal = parse(source, path)
    if tree is None:
        result = StaticResult([syntax] if syntax else [], None, fatal, fixes_verified=True)
    else:
        result = StaticResult(tree=tree)
        try:
            result.diagnostics.extend(run_checks(tree, source, path, options))
        except RecursionError:
            result.fatal = "expressions nested too deeply to analyse"
            result.fixes_verified = True
    if options.verify_fixes and not result.fixes_verified:
        verify_static(result, source, path, options)
    result.elapsed_ms = (time.perf_counter() - t0) * 1000
    return result


def verify_static(result: StaticResult, source: str, path: str, options: CheckOptions) -> None:
    """Decide each fix's `verified` flag by re-running the static pass on the fixed text.

    Separate from the analysis so that an editor can publish findings at once and verify their
    fixes a moment later, off the keystroke path."""
    if any(d.fixes for d in result.diagnostics):
        unverified = dataclasses.replace(options, verify_fixes=False)

        def recheck(text: str, edits: Sequence[TextEdit]) -> list[Diagnostic] | None:
            again = run_static(text, path, unverified)
            return None if again.tree is None else again.diagnostics

        result.diagnostics = verify(source, result.diagnostics, recheck)
    result.fixes_verified = True
