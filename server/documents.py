"""Documents split into lines the way LSP clients split them.

pygls splits a document with `str.splitlines`, which also breaks lines at form feeds, vertical
tabs, \\x1c-\\x1e, \\x85 and \\u2028/\\u2029. Editors (and Python's tokenizer) break lines
only at \\n, \\r\\n and \\r, so an incremental edit below such a character would land on the
wrong line and corrupt the server's copy of the text. These classes count lines as editors do.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pygls.workspace import TextDocument, Workspace

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def lsp_lines(text: str) -> tuple[str, ...]:
    """`text` cut after each \\n, \\r\\n or \\r (line ends kept), as LSP positions count lines."""
    return tuple(_LINE.findall(text))


class LspTextDocument(TextDocument):
    @property
    def lines(self) -> Sequence[str]:
        return lsp_lines(self.source)


class LspWorkspace(Workspace):
    """A pygls workspace whose text documents count lines as LSP clients do."""

    def _create_text_document(self, *args: Any, **kwargs: Any) -> TextDocument:
        doc = super()._create_text_document(*args, **kwargs)
        doc.__class__ = LspTextDocument  # same state, one property differs
        return doc
