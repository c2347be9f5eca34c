"""Verified fixes: a fix is marked `verified` only if re-checking the edited text shows that the
error it targets is gone (and that it breaks nothing the check can see).

`verify(source, diagnostics, recheck)` is shared by the passes: the static pass re-runs itself,
the dynamic pass re-runs the sandboxed build.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable

from deepeval_lsp.diagnostics.findings import Diagnostic, Fix
from deepeval_lsp.diagnostics.taxonomy import Severity
from deepeval_lsp.diagnostics.text import apply_edits

MAX_VERIFIED_PER_CHECK = 40


def _key(d: Diagnostic) -> tuple[str, str]:
    return d.code, d.message


def verify(
    source: str,
    diagnostics: list[Diagnostic],
    recheck: Callable[[str], list[Diagnostic] | None],
    *,
    limit: int = MAX_VERIFIED_PER_CHECK,
) -> list[Diagnostic]:
    """Return `diagnostics` with each fix's `verified` flag set by re-checking the fixed text.

    `recheck(text)` returns the diagnostics of the edited text, or None if it does not parse.
    A fix is verified when the edited text has fewer findings like the one fixed (same code and
    message) and no more errors than before. At most `limit` distinct fixes are re-checked.
    """
    before = Counter(_key(d) for d in diagnostics)
    errors_before = sum(1 for d in diagnostics if d.severity == Severity.ERROR)
    memo: dict[tuple, list[Diagnostic] | None] = {}
    out: list[Diagnostic] = []
    for d in diagnostics:
        if not d.fixes:
            out.append(d)
            continue
        fixes: list[Fix] = []
        for fix in d.fixes:
            key = tuple(fix.edits)
            if key not in memo:
                if len(memo) >= limit:
                    fixes.append(fix)
                    continue
                memo[key] = recheck(apply_edits(source, fix.edits))
            after = memo[key]
            ok = after is not None and (
                Counter(_key(x) for x in after)[_key(d)] < before[_key(d)]
                and sum(1 for x in after if x.severity == Severity.ERROR) <= errors_before
            )
            fixes.append(dataclasses.replace(fix, verified=ok))
        out.append(dataclasses.replace(d, fixes=tuple(fixes)))
    return out
