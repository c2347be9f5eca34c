"""A real deepeval-lsp server process driven by a pytest-lsp client over stdio."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

SERVER = [sys.executable, "-m", "deepeval_lsp", "serve", "--stdio"]
STATUS = "deepeval/status"
TIMEOUT = 60.0  # generous: a loaded CI machine imports torch slowly


def make_client() -> LanguageClient:
    """pytest-lsp's test client that also records every publish (with its version) and status."""
    from pygls.protocol import default_converter
    from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

    client = LanguageClient(converter_factory=default_converter)
    client.statuses = []  # type: ignore[attr-defined]
    client.publishes = []  # type: ignore[attr-defined]

    def publish(ls: LanguageClient, params: lsp.PublishDiagnosticsParams) -> None:
        ls.publishes.append(params)  # type: ignore[attr-defined]
        ls.diagnostics[params.uri] = params.diagnostics

    def status(ls: LanguageClient, params: Any) -> None:
        ls.statuses.append(_plain(params))  # type: ignore[attr-defined]

    client.hint_refreshes = 0  # type: ignore[attr-defined]

    def hint_refresh(ls: LanguageClient, params: Any) -> None:
        ls.hint_refreshes += 1  # type: ignore[attr-defined]

    register_lsp_features(
        client,
        {
            **DEFAULT_CLIENT_FEATURES,
            lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS: publish,
            STATUS: status,
            lsp.WORKSPACE_INLAY_HINT_REFRESH: hint_refresh,
        },
    )
    return client


def _plain(obj: Any) -> Any:
    """pygls hands unknown notifications' params over as attribute objects; make them dicts."""
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if hasattr(obj, "_asdict"):
        return {k: _plain(v) for k, v in obj._asdict().items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if hasattr(obj, "__dict__") and not isinstance(obj, type):
        return {k: _plain(v) for k, v in vars(obj).items()}
    return obj


async def wait_until(predicate, what: str, timeout: float = TIMEOUT) -> None:
    """Poll `predicate` until it holds; fail with `what` after `timeout` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(0.01)


async def wait_final(client: LanguageClient, uri: str, version: int) -> dict[str, Any]:
    """Wait for the last report of `uri` at `version` (the full check, or static when off)."""

    def found() -> dict[str, Any] | None:
        for s in reversed(client.statuses):  # type: ignore[attr-defined]
            if s.get("uri") == uri and s.get("version") == version and s.get("final"):
                return s
        return None

    await wait_until(lambda: found() is not None, f"the final status of {uri} v{version}")
    return found()  # type: ignore[return-value]


def diagnostics_of(client: LanguageClient, uri: str) -> list[lsp.Diagnostic]:
    return list(client.diagnostics.get(uri, ()))


def open_doc(client: LanguageClient, path: Path, text: str, version: int = 1) -> str:
    uri = path.as_uri()
    client.text_document_did_open(
        lsp.DidOpenTextDocumentParams(
            text_document=lsp.TextDocumentItem(
                uri=uri, language_id="python", version=version, text=text
            )
        )
    )
    return uri


def replace_all(client: LanguageClient, uri: str, version: int, text: str) -> None:
    client.text_document_did_change(
        lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )


async def start(lsp_client: LanguageClient, root: Path, settings: dict[str, Any]) -> None:
    capabilities = client_capabilities("visual-studio-code")
    # VS Code re-asks for inlay hints when told to; pytest-lsp's copy of its capabilities lacks it.
    capabilities.workspace.inlay_hint = lsp.InlayHintWorkspaceClientCapabilities(
        refresh_support=True
    )
    # and syncs notebooks (LSP 3.17), which that copy predates.
    capabilities.notebook_document = lsp.NotebookDocumentClientCapabilities(
        synchronization=lsp.NotebookDocumentSyncClientCapabilities()
    )
    await lsp_client.initialize_session(
        lsp.InitializeParams(
            capabilities=capabilities,
            root_uri=root.as_uri(),
            workspace_folders=[lsp.WorkspaceFolder(uri=root.as_uri(), name="ws")],
            initialization_options={"settings": settings},
        )
    )


CONFIG = ClientServerConfig(server_command=SERVER, client_factory=make_client)
STATIC = {"dynamicChecks": False, "debounceMs": 50}
DYNAMIC = {"dynamicChecks": True, "debounceMs": 50}


@pytest_lsp.fixture(config=CONFIG)
async def client(lsp_client: LanguageClient, tmp_path: Path):
    """A server running the static pass only (no worker pool to warm)."""
    lsp_client.set_configuration(STATIC, section="deepeval")
    await start(lsp_client, tmp_path, STATIC)
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=CONFIG)
async def dynamic_client(lsp_client: LanguageClient, tmp_path: Path):
    """A server with dynamic checks on (models built in the sandboxed worker), short debounce."""
    lsp_client.set_configuration(DYNAMIC, section="deepeval")
    await start(lsp_client, tmp_path, DYNAMIC)
    yield
    await lsp_client.shutdown_session()


def apply_workspace_edit(text: str, uri: str, edit: lsp.WorkspaceEdit) -> str:
    """The text after the edits of `edit` on `uri` (ASCII documents: columns are characters)."""
    from deepeval_lsp.diagnostics.findings import Range, TextEdit
    from deepeval_lsp.diagnostics.text import apply_edits

    edits = []
    for change in edit.document_changes or []:
        assert isinstance(change, lsp.TextDocumentEdit)
        assert change.text_document.uri == uri
        for e in change.edits:
            r = e.range
            edits.append(
                TextEdit(
                    Range.of(r.start.line, r.start.character, r.end.line, r.end.character),
                    e.new_text,
                )
            )
    return apply_edits(text, edits)
