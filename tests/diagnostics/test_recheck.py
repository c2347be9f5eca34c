"""The one fix rule (recheck.fixes_targets) and its application to a pass's findings (verify)."""

from __future__ import annotations

from collections.abc import Sequence

from deepeval_lsp.diagnostics import taxonomy as T
from deepeval_lsp.diagnostics.findings import Diagnostic, Fix, Range, TextEdit
from deepeval_lsp.diagnostics.recheck import fixes_targets, static_identity, verify


def _d(code: str, line: int, message: str = "m", fixes: tuple[Fix, ...] = ()) -> Diagnostic:
    return Diagnostic(code, Range.of(line, 0, line, 1), message, fixes=fixes)


def _line(d: Diagnostic) -> tuple[str, int]:
    return d.code, d.range.start.line


SHAPE = _d(T.SHAPE_MISMATCH, 3)
OTHER = _d(T.SHAPE_MISMATCH, 7)


def test_the_target_gone_and_nothing_new_is_a_fix() -> None:
    assert fixes_targets([SHAPE, OTHER], [SHAPE], [OTHER], _line)


def test_the_target_still_there_is_no_fix() -> None:
    assert not fixes_targets([SHAPE, OTHER], [SHAPE], [SHAPE, OTHER], _line)


def test_a_text_the_check_could_not_read_is_no_fix() -> None:
    assert not fixes_targets([SHAPE], [SHAPE], None, _line)


def test_the_error_moved_elsewhere_is_no_fix() -> None:
    moved = _d(T.SHAPE_MISMATCH, 9)
    assert not fixes_targets([SHAPE, OTHER], [SHAPE], [OTHER, moved], _line)


def test_a_name_finding_may_uncover_the_errors_it_hid() -> None:
    missing = _d(T.MISSING_IMPORT, 0, "`nn` is used but never imported")
    uncovered = _d(T.NONEXISTENT_ATTRIBUTE, 5, "no member `Conv2D`")
    assert fixes_targets([missing], [missing], [uncovered], static_identity)
    assert not fixes_targets([missing], [missing], [uncovered, OTHER], static_identity)


def test_fewer_findings_like_the_target_is_the_target_gone() -> None:
    """Two uses of one hallucinated member: fixing one leaves the other's identical finding."""
    a = _d(T.NONEXISTENT_ATTRIBUTE, 2, "no member `Conv2D`")
    b = _d(T.NONEXISTENT_ATTRIBUTE, 4, "no member `Conv2D`")
    assert fixes_targets([a, b], [a], [b], static_identity)


def test_a_target_the_original_check_did_not_report_counts_among_its_findings() -> None:
    assert fixes_targets([OTHER], [SHAPE], [OTHER], _line)
    assert not fixes_targets([OTHER], [SHAPE], [OTHER, SHAPE], _line)


def test_a_warning_target_needs_no_fewer_errors() -> None:
    warning = _d(T.OUTPUT_SHAPE_MISMATCH, 8)
    assert fixes_targets([warning, OTHER], [warning], [OTHER], lambda d: d.code)


def _edit(line: int, text: str) -> TextEdit:
    return TextEdit(Range.of(line, 0, line, 1), text)


def test_verify_marks_only_the_fix_whose_recheck_shows_the_error_gone() -> None:
    good, bad = Fix("good", (_edit(0, "g"),)), Fix("bad", (_edit(0, "b"),))
    d = _d(T.SHAPE_MISMATCH, 0, fixes=(bad, good))

    def recheck(text: str, edits: Sequence[TextEdit]) -> list[Diagnostic]:
        return [] if text.startswith("g") else [d]

    (out,) = verify("x = 1\n", [d], recheck, identity=_line)
    assert [(f.title, f.verified) for f in out.fixes] == [("bad", False), ("good", True)]
    assert out.preferred_fix is not None and out.preferred_fix.title == "good"


def test_verify_stops_rechecking_at_the_limit() -> None:
    fixes = tuple(Fix(str(i), (_edit(0, str(i)),)) for i in range(3))
    d = _d(T.SHAPE_MISMATCH, 0, fixes=fixes)
    texts: list[str] = []

    def recheck(text: str, edits: Sequence[TextEdit]) -> list[Diagnostic]:
        texts.append(text)
        return []

    (out,) = verify("x = 1\n", [d], recheck, identity=_line, limit=2)
    assert len(texts) == 2
    assert [f.verified for f in out.fixes] == [True, True, False]


def test_verify_together_verifies_all_first_fixes_with_one_recheck() -> None:
    a = _d(T.SHAPE_MISMATCH, 0, fixes=(Fix("a", (_edit(0, "a"),)),))
    b = _d(T.SHAPE_MISMATCH, 1, fixes=(Fix("b", (_edit(1, "b"),)),))
    texts: list[str] = []

    def recheck(text: str, edits: Sequence[TextEdit]) -> list[Diagnostic]:
        texts.append(text)
        return []

    out = verify("x\ny\n", [a, b], recheck, identity=_line, together=True)
    assert texts == ["a\nb\n"]
    assert all(d.fixes[0].verified for d in out)


def test_the_target_moved_to_another_finding_of_its_code_is_no_fix() -> None:
    """`nn.Conv2D` turned into `nn.Conv2DD`: a new message, the same mistake."""
    before = _d(T.NONEXISTENT_ATTRIBUTE, 2, "no member `Conv2D`")
    after = _d(T.NONEXISTENT_ATTRIBUTE, 2, "no member `Conv2DD`")
    assert not fixes_targets([before], [before], [after], static_identity)
