"""The server's copy of a document after incremental edits: the same text as pygls's own
algorithm gives, and the same lines as splitting that text afresh (the cached line table)."""

from __future__ import annotations

from deepeval_lsp.server.documents import _LINE, LspTextDocument, lsp_lines
from hypothesis import given, settings
from hypothesis import strategies as st
from lsprotocol import types as lsp
from pygls.workspace import TextDocument

PIECES = st.sampled_from(["a", "bc", "\n", "\r", "\r\n", "é", "😀", "", "x\ny", "\x0c", "\u2028"])


def _doc(text: str) -> LspTextDocument:
    doc = TextDocument("file:///t.py", text)
    doc.__class__ = LspTextDocument
    return doc


@settings(max_examples=400, deadline=None)
@given(
    text=st.lists(PIECES, max_size=12).map("".join),
    edits=st.lists(
        st.tuples(
            st.integers(0, 6), st.integers(0, 4), st.integers(0, 6), st.integers(0, 4), PIECES
        ),
        min_size=1,
        max_size=5,
    ),
)
def test_incremental_edits_match_pygls_and_a_fresh_split(text, edits):
    doc = _doc(text)
    for sl, sc, el, ec, new in edits:
        change = lsp.TextDocumentContentChangePartial(
            range=lsp.Range(
                start=lsp.Position(line=sl, character=sc), end=lsp.Position(line=el, character=ec)
            ),
            text=new,
        )
        reference = _doc(doc.source)
        TextDocument._apply_incremental_change(reference, change)  # pygls's line-by-line rewrite
        doc.apply_change(change)
        assert doc.source == reference.source
        assert doc.lines == lsp_lines(doc.source)


@given(st.lists(PIECES.filter(lambda p: "\r" not in p), max_size=12).map("".join))
def test_lsp_lines_without_carriage_returns_agree_with_the_pattern(text):
    """Texts without \\r take a faster path than the pattern: the same lines."""
    assert lsp_lines(text) == tuple(_LINE.findall(text))
