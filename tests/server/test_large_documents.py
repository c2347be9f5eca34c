"""A document over the size limit gets one information diagnostic instead of a check, and the
server goes on answering on it (hover) and checking it once it is small again."""

from __future__ import annotations

from pathlib import Path

import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import LanguageClient

from .conftest import CONFIG, diagnostics_of, open_doc, replace_all, start, wait_final

LIMIT = 20_000
SETTINGS = {"dynamicChecks": False, "debounceMs": 50, "maxDocumentBytes": LIMIT}
BROKEN = "import torch\n\nx = torch.zeros(2, 3\n"


@pytest_lsp.fixture(config=CONFIG)
async def small_limit(lsp_client: LanguageClient, tmp_path: Path):
    lsp_client.set_configuration(SETTINGS, section="deepeval")
    await start(lsp_client, tmp_path, SETTINGS)
    yield
    await lsp_client.shutdown_session()


def _big(text: str, size: int) -> str:
    filler = "".join(f"def f{i}(x):\n    return x + {i}\n\n\n" for i in range(size // 25))
    return text + filler


async def test_too_large_document_gets_a_notice_and_hover_answers(
    small_limit: LanguageClient, tmp_path: Path
):
    client = small_limit
    text = _big(BROKEN, 3 * LIMIT)  # a syntax error a check would report: it is not checked
    uri = open_doc(client, tmp_path / "big.py", text)
    await wait_final(client, uri, 1)
    diags = diagnostics_of(client, uri)
    assert len(diags) == 1, diags
    (d,) = diags
    assert d.severity == lsp.DiagnosticSeverity.Information
    assert "too large for deepeval-lsp to check" in d.message and "MB >" in d.message

    hover = await client.text_document_hover_async(
        lsp.HoverParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            position=lsp.Position(line=2, character=4),
        )
    )
    assert hover is None
    actions = await client.text_document_code_action_async(
        lsp.CodeActionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            range=lsp.Range(
                start=lsp.Position(line=0, character=0), end=lsp.Position(line=3, character=0)
            ),
            context=lsp.CodeActionContext(diagnostics=diags),
        )
    )
    assert not actions

    replace_all(client, uri, 2, BROKEN)  # small again: checked again
    await wait_final(client, uri, 2)
    assert [d.code for d in diagnostics_of(client, uri)] == ["DL001"]


async def test_a_document_under_the_limit_is_checked(small_limit: LanguageClient, tmp_path: Path):
    uri = open_doc(small_limit, tmp_path / "m.py", _big(BROKEN, LIMIT // 2))
    await wait_final(small_limit, uri, 1)
    assert [d.code for d in diagnostics_of(small_limit, uri)] == ["DL001"]
