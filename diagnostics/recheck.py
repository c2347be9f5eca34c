"""Verified fixes: the one rule by which every pass decides whether a fix works.

A fix is `verified` only if re-checking the text with the fix applied shows:

1. a text the check could read: it parses, and (dynamic pass) the sandboxed run finished;
2. the targeted finding gone, not moved: fewer findings with its identity, and fewer with its
   code, than the original check had (a fix turning `nn.Conv2D` into `nn.Conv2DD` has moved the
   error, not fixed it). The identity is what survives the edit, and the pass says what that is:
   the static pass's is (code, message), since an added import moves every line below it; the
   dynamic pass's is (code, line, culprit layer), since its edits keep the lines and its messages
   change with the shapes;
3. nothing new that the check can see: no more errors than before, apart from the targets' own.
   A finding about a name (a syntax, name, import or attribute finding: DL0xx and DL1xx) hides
   the checks of whatever uses that name, so the errors its fix uncovers are not new: for such
   a target the re-check may show as many errors as before, for any other it must show fewer.

`fixes_targets` is the rule; `verify` applies it to every fix of a pass's findings, given the
pass's own `recheck` (the static pass re-runs itself, the dynamic pass re-runs the sandboxed
build). Argument fixes, guesses at a missing value, apply the same rule with a stricter reading
of the original check: the model must then build and run with no error at all.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Hashable, Sequence

from deepeval_lsp.diagnostics.findings import Diagnostic, Fix, TextEdit
from deepeval_lsp.diagnostics.taxonomy import INVALID_ARGUMENT_VALUE, Severity
from deepeval_lsp.diagnostics.text import apply_edits

MAX_RECHECKS = 40

Identity = Callable[[Diagnostic], Hashable]
# The findings of the edited text (given with the edits that made it), or None if the check
# could not read it.
Recheck = Callable[[str, Sequence[TextEdit]], Sequence[Diagnostic] | None]


def static_identity(d: Diagnostic) -> tuple[str, str]:
    """A static finding across an edit that may move lines: its code and message."""
    return d.code, d.message


def _errors(ds: Sequence[Diagnostic]) -> int:
    return sum(1 for d in ds if d.severity == Severity.ERROR)


def _hides_others(d: Diagnostic) -> bool:
    return d.code < INVALID_ARGUMENT_VALUE


def fixes_targets(
    before: Sequence[Diagnostic],
    targets: Sequence[Diagnostic],
    after: Sequence[Diagnostic] | None,
    identity: Identity,
) -> bool:
    """The rule of this module: `after` (the findings of the edited text, None if it could not be
    checked) shows every one of `targets` gone, not moved, and nothing new, compared with
    `before` (the findings of the original text; the targets count among them)."""
    if after is None:
        return False
    before = [*before, *(t for t in targets if t not in before)]
    count_before = Counter(map(identity, before))
    count_after = Counter(map(identity, after))
    codes_before = Counter(d.code for d in before)
    codes_after = Counter(d.code for d in after)
    allowed = _errors(before)
    for key, t in {identity(t): t for t in targets}.items():
        if count_after[key] >= count_before[key] or codes_after[t.code] >= codes_before[t.code]:
            return False
        if t.severity == Severity.ERROR and not _hides_others(t):
            allowed -= count_before[key] - count_after[key]
    return _errors(after) <= allowed


def verify(
    source: str,
    diagnostics: list[Diagnostic],
    recheck: Recheck,
    *,
    identity: Identity = static_identity,
    limit: int | None = MAX_RECHECKS,
    together: bool = False,
) -> list[Diagnostic]:
    """Return `diagnostics` with each fix's `verified` flag set by `fixes_targets`.

    At most `limit` distinct edited texts are re-checked; the fixes past it keep their flag.
    With `together`, the first fixes of all findings are first re-checked at once: when that
    one re-check verifies them all, the other fixes are not re-checked.
    """
    memo: dict[str, Sequence[Diagnostic] | None] = {}

    def after(edits: Sequence[TextEdit], text: str | None = None) -> Sequence[Diagnostic] | None:
        text = apply_edits(source, edits) if text is None else text
        if text not in memo:
            memo[text] = recheck(text, edits)
        return memo[text]

    fixed = [d for d in diagnostics if d.fixes]
    if together and len(fixed) > 1:
        first = [e for d in fixed for e in d.fixes[0].edits]
        if fixes_targets(diagnostics, fixed, after(first), identity):
            return [
                dataclasses.replace(d, fixes=(_verified(d.fixes[0], True), *d.fixes[1:]))
                if d.fixes
                else d
                for d in diagnostics
            ]
    out: list[Diagnostic] = []
    for d in diagnostics:
        if not d.fixes:
            out.append(d)
            continue
        fixes: list[Fix] = []
        for fix in d.fixes:
            text = apply_edits(source, fix.edits)
            if limit is not None and len(memo) >= limit and text not in memo:
                fixes.append(fix)
                continue
            ok = fixes_targets(diagnostics, [d], after(fix.edits, text), identity)
            fixes.append(_verified(fix, ok))
        out.append(dataclasses.replace(d, fixes=tuple(fixes)))
    return out


def _verified(fix: Fix, ok: bool) -> Fix:
    return dataclasses.replace(fix, verified=ok)
