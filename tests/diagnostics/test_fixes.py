"""Applying several findings' fixes at once: whole fixes only, shared edits once."""

from __future__ import annotations

from deepeval_lsp.diagnostics import Diagnostic, Fix, TextEdit, apply_fixes, choose_fixes
from deepeval_lsp.diagnostics import taxonomy as T
from deepeval_lsp.diagnostics.findings import Range

SOURCE = "aaaa\nbbbb\ncccc\n"


def _edit(line: int, start: int, end: int, text: str) -> TextEdit:
    return TextEdit(Range.of(line, start, line, end), text)


def _d(*fixes: Fix, line: int = 0) -> Diagnostic:
    return Diagnostic(T.SHAPE_MISMATCH, Range.of(line, 0, line, 1), "m", fixes=fixes)


def test_a_multi_edit_fix_overlapping_a_chosen_fix_is_never_half_applied() -> None:
    first = Fix("first", (_edit(0, 0, 2, "X"),), verified=True)
    both = Fix("both", (_edit(0, 1, 3, "Y"), _edit(2, 0, 4, "Z")), verified=True)
    text, chosen = apply_fixes(SOURCE, [_d(first), _d(both, line=2)])
    assert text == "Xaa\nbbbb\ncccc\n"  # not "Xaa\nbbbb\nZ\n": `both` is skipped whole
    assert chosen.fixes == (first,)
    assert [d.fixes for d in chosen.fixed] == [(first,)]


def test_fixes_that_do_not_overlap_all_apply() -> None:
    one = Fix("one", (_edit(0, 0, 4, "A"),), verified=True)
    two = Fix("two", (_edit(1, 0, 4, "B"), _edit(2, 0, 4, "C")), verified=True)
    text, chosen = apply_fixes(SOURCE, [_d(one), _d(two, line=1)])
    assert text == "A\nB\nC\n"
    assert chosen.fixes == (one, two)


def test_only_verified_fixes_unless_asked() -> None:
    guess = Fix("guess", (_edit(0, 0, 4, "G"),))
    assert apply_fixes(SOURCE, [_d(guess)]) == (SOURCE, choose_fixes([]))
    text, chosen = apply_fixes(SOURCE, [_d(guess)], only_verified=False)
    assert text == "G\nbbbb\ncccc\n" and chosen.fixes == (guess,)


def test_a_shared_edit_is_applied_once_and_fixes_every_finding_that_shares_it() -> None:
    """One missing import, many uses: each use's finding offers the same import."""
    imp = _edit(0, 0, 0, "import torch.nn as nn\n")
    uses = [_d(Fix("Add the import", (imp,), verified=True), line=i) for i in range(3)]
    other = Fix("Add F", (_edit(0, 0, 0, "import torch.nn.functional as F\n"),), verified=True)
    text, chosen = apply_fixes(SOURCE, [*uses, _d(other)])
    assert text == "import torch.nn as nn\nimport torch.nn.functional as F\n" + SOURCE
    assert len(chosen.fixes) == 2 and len(chosen.fixed) == 4
    assert chosen.edits == (imp, other.edits[0])


def test_a_fix_sharing_one_edit_and_adding_another_applies_the_shared_one_once() -> None:
    imp = _edit(0, 0, 0, "import x\n")
    a = Fix("a", (imp, _edit(1, 0, 4, "A")), verified=True)
    b = Fix("b", (imp, _edit(2, 0, 4, "B")), verified=True)
    text, chosen = apply_fixes(SOURCE, [_d(a), _d(b, line=2)])
    assert text == "import x\naaaa\nA\nB\n"
    assert chosen.fixes == (a, b) and len(chosen.edits) == 3
