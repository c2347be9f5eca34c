"""Report -> LSP: columns in the client's encoding, status lines, hovers and hints."""

from __future__ import annotations

from deepeval_lsp.diagnostics import Diagnostic, Fix, LayerSummary, ModelSummary, Report, TextEdit
from deepeval_lsp.diagnostics.findings import Position, Range
from deepeval_lsp.server import convert
from lsprotocol import types as lsp
from pygls.workspace.position_codec import PositionCodec


def _summary() -> ModelSummary:
    layers = (
        LayerSummary(
            "conv", "Conv2d", (1, 8, 26, 26), 80, (1, 1, 28, 28), 1, Range.of(3, 20, 3, 38), 7
        ),
        LayerSummary("fc", "Linear", (1, 10), 1_200_000, (1, 5408), 1, Range.of(4, 18, 4, 40), 9),
    )
    return ModelSummary("torch", "Net", ((1, 1, 28, 28),), (1, 10), 1_200_080, 1_200_080, layers)


def test_columns_are_utf16_for_the_client():
    lines = ["s = '😀😀'; x = y\n"]
    d = Diagnostic("DL004", Range.of(0, 12, 0, 13), "undefined name `y`")
    cols = convert.Columns(lines, PositionCodec(lsp.PositionEncodingKind.Utf16))
    out = convert.to_lsp_diagnostic(d, cols, "/p.py", "file:///p.py")
    assert (out.range.start.character, out.range.end.character) == (14, 15)
    assert out.code == "DL004" and out.source == "deepeval"
    assert out.data["python_error"] == "NameError"
    back = cols.from_client(out.range.start)
    assert back == Position(0, 12)


def test_status_lines():
    ok = Report(path="/p.py", model=_summary())
    assert convert.status(ok)["text"] == "model builds: 1.2 M params, output (1, 10)"
    bad = Report(
        path="/p.py",
        diagnostics=[
            Diagnostic("DL301", Range.of(9, 4, 9, 10), "shapes cannot be multiplied"),
            Diagnostic("DL104", Range.of(2, 0, 2, 3), "no member"),
        ],
    )
    s = convert.status(bad)
    assert (
        s["state"] == "error"
        and s["text"] == "DL301 line 10: shapes cannot be multiplied (+1 more)"
    )
    assert convert.fmt_params(999) == "999 params" and convert.fmt_params(61_706) == "61.7 k params"


def test_hover_and_inlay_hints_from_the_summary():
    m = _summary()
    assert "**fc**" in convert.hover(m, Position(4, 25))
    assert "(1, 8, 26, 26)" in convert.hover(m, Position(7, 0))  # the forward line of conv
    assert convert.hover(m, Position(0, 0)) is None
    lines = [f"line {i}\n" for i in range(12)]
    hints = convert.inlay_hints(m, convert.Columns(lines), 0, 11)
    assert [(h.position.line, h.position.character, h.label) for h in hints] == [
        (7, 6, "→ (1, 8, 26, 26)"),
        (9, 6, "→ (1, 10)"),
    ]
    assert convert.inlay_hints(m, convert.Columns(lines), 8, 8) == []


def test_fix_all_skips_overlapping_fixes():
    edit = TextEdit(Range.of(1, 0, 1, 5), "x")
    d1 = Diagnostic("DL104", Range.of(1, 0, 1, 5), "a", fixes=(Fix("one", (edit,), True),))
    d2 = Diagnostic("DL104", Range.of(1, 0, 1, 5), "b", fixes=(Fix("two", (edit,), True),))
    d3 = Diagnostic("DL104", Range.of(2, 0, 2, 5), "c", fixes=(Fix("three", (edit,), False),))
    report = Report(path="/p.py", diagnostics=[d1, d2, d3])
    cols = convert.Columns(["aaaaa\n"] * 3)
    actions = convert.code_actions(report, "file:///p.py", 3, cols, Range.of(0, 0, 3, 0), None)
    kinds = [a.kind for a in actions]
    assert kinds.count(lsp.CodeActionKind.QuickFix) == 3
    (fix_all,) = [a for a in actions if a.kind == convert.FIX_ALL_KIND]
    assert fix_all.title == "deepeval: apply 1 verified fix"
    assert fix_all.edit.document_changes[0].text_document.version == 3
    unverified = [a for a in actions if "(unverified)" in a.title]
    assert len(unverified) == 1 and not unverified[0].is_preferred


def test_lines_are_counted_as_editors_count_them():
    from deepeval_lsp.server.documents import LspTextDocument, lsp_lines
    from pygls.workspace import TextDocument

    text = "a = 1\x0c # page\nb = 2\u2028\r\nc = 3\rd"
    assert lsp_lines(text) == ("a = 1\x0c # page\n", "b = 2\u2028\r\n", "c = 3\r", "d")
    assert lsp_lines("") == () and lsp_lines("x\n") == ("x\n",)
    doc = TextDocument("file:///t.py", text)
    doc.__class__ = LspTextDocument
    # The editor's line 1 is `b = 2…`: replace its `2`.
    doc.apply_change(
        lsp.TextDocumentContentChangePartial(
            range=lsp.Range(
                start=lsp.Position(line=1, character=4), end=lsp.Position(line=1, character=5)
            ),
            text="9",
        )
    )
    assert doc.source == text.replace("b = 2", "b = 9")
