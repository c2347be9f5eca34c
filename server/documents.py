"""Documents split into lines the way LSP clients split them, cheaply enough for huge files.

pygls splits a document with `str.splitlines`, which also breaks lines at form feeds, vertical
tabs, \\x1c-\\x1e, \\x85 and \\u2028/\\u2029. Editors (and Python's tokenizer) break lines
only at \\n, \\r\\n and \\r, so an incremental edit below such a character would land on the
wrong line and corrupt the server's copy of the text. These classes count lines as editors do.

pygls also splits the whole text again for every position it converts and rewrites every line
for every edit: on a 5 MB document that is a third of a second on the event loop per keystroke
or hover. Here the lines are kept with the text they belong to, and an edit re-splits only the
lines it touches.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from lsprotocol import types as lsp
from pygls.workspace import TextDocument, Workspace

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def lsp_lines(text: str) -> tuple[str, ...]:
    """`text` cut after each \\n, \\r\\n or \\r (line ends kept), as LSP positions count lines."""
    if "\r" in text:
        return tuple(_LINE.findall(text))
    parts = text.split("\n")
    last = parts.pop()
    lines = [p + "\n" for p in parts]
    if last:
        lines.append(last)
    return tuple(lines)


class LspTextDocument(TextDocument):
    _lines_of: str | None = None
    _lines: tuple[str, ...] = ()

    @property
    def lines(self) -> Sequence[str]:
        source = self.source
        if self._lines_of is not source:
            self._lines = lsp_lines(source)
            self._lines_of = source
        return self._lines

    def _apply_incremental_change(self, change: lsp.TextDocumentContentChangeEvent) -> None:
        lines = self.lines
        rng = self._position_codec.range_from_client_units(lines, change.range)  # type: ignore[union-attr]
        sl, sc, el, ec = rng.start.line, rng.start.character, rng.end.line, rng.end.character
        if sl >= len(lines) or (el, ec) < (sl, sc):
            super()._apply_incremental_change(change)  # pygls's rules for the odd cases
            return
        # pygls's rules: columns slice the line (its line end included); an end past the last
        # line drops what follows the start.
        fragment = lines[sl][:sc] + change.text + (lines[el][ec:] if el < len(lines) else "")
        before, after = sl, min(el + 1, len(lines))
        if fragment and not fragment.endswith(("\n", "\r")) and after < len(lines):
            fragment += lines[after]  # the edit removed a line end: the next line joins
            after += 1
        if fragment.endswith("\r") and after < len(lines) and lines[after].startswith("\n"):
            fragment += lines[after]  # the edit joins a \r and a \n into one line end
            after += 1
        if before and fragment.startswith("\n") and lines[before - 1].endswith("\r"):
            before -= 1
            fragment = lines[before] + fragment
        old = self.source
        start, end = _offset(lines, before, len(old)), _offset(lines, after, len(old))
        source = old[:start] + fragment + old[end:]
        self._source = source
        self._lines = lines[:before] + lsp_lines(fragment) + lines[after:]
        self._lines_of = source


def _offset(lines: tuple[str, ...], row: int, total: int) -> int:
    """Where line `row` starts in the text, counted from the nearer end."""
    if row > len(lines) // 2:
        return total - sum(map(len, lines[row:]))
    return sum(map(len, lines[:row]))


class LspWorkspace(Workspace):
    """A pygls workspace whose text documents count lines as LSP clients do."""

    def _create_text_document(self, *args: Any, **kwargs: Any) -> TextDocument:
        doc = super()._create_text_document(*args, **kwargs)
        doc.__class__ = LspTextDocument  # same state, one property differs
        return doc
