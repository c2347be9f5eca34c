"""The server end to end over stdio: diagnostics through a document's life, fixes, bursts."""

from __future__ import annotations

from pathlib import Path

from deepeval_lsp.diagnostics import CheckOptions, check
from lsprotocol import types as lsp
from pytest_lsp import LanguageClient

from .conftest import diagnostics_of, open_doc, replace_all, wait_final

GOOD = "import torch\n\nx = torch.zeros(2, 3)\n"
BROKEN = "import torch\n\nx = torch.zeros(2, 3\n"


async def test_diagnostics_follow_open_change_close(client: LanguageClient, tmp_path: Path):
    uri = open_doc(client, tmp_path / "model.py", BROKEN)
    status = await wait_final(client, uri, 1)
    diags = diagnostics_of(client, uri)
    assert [d.code for d in diags] == ["DL001"]
    d = diags[0]
    assert d.source == "deepeval"
    assert d.severity == lsp.DiagnosticSeverity.Error
    assert d.data["dl_error"] == "Syntax Error"
    assert d.data["python_error"] == "SyntaxError"
    assert d.data["root_cause"] == "Syntax"
    assert d.data["fixes"] == []
    assert status["state"] == "error" and status["text"].startswith("DL001 line ")
    assert client.publishes[-1].version == 1

    replace_all(client, uri, 2, GOOD)
    await wait_final(client, uri, 2)
    assert diagnostics_of(client, uri) == []
    assert client.publishes[-1].version == 2

    replace_all(client, uri, 3, BROKEN)
    await wait_final(client, uri, 3)
    assert [d.code for d in diagnostics_of(client, uri)] == ["DL001"]

    client.text_document_did_close(
        lsp.DidCloseTextDocumentParams(text_document=lsp.TextDocumentIdentifier(uri=uri))
    )
    await _until(lambda: client.publishes[-1].uri == uri and not client.publishes[-1].diagnostics)
    assert diagnostics_of(client, uri) == []


async def test_burst_of_changes_ends_with_the_last_version(client: LanguageClient, tmp_path: Path):
    uri = open_doc(client, tmp_path / "burst.py", GOOD)
    await wait_final(client, uri, 1)
    texts = {}
    for version in range(2, 52):
        # Every version has its syntax error on a different line.
        text = "".join(f"a{i} = {i}\n" for i in range(version)) + "b = (\n"
        texts[version] = text
        replace_all(client, uri, version, text)
    await wait_final(client, uri, 51)
    await _quiet(client)
    last = client.publishes[-1]
    assert last.version == 51
    expected = check(texts[51], str(tmp_path / "burst.py"), CheckOptions(dynamic=False))
    got = [(d.code, d.range.start.line, d.message) for d in diagnostics_of(client, uri)]
    want = [(d.code, d.range.start.line, d.message) for d in expected.diagnostics]
    assert got == want and got  # the error of version 51, on its own line
    assert all(p.version is None or p.version <= 51 for p in client.publishes)
    # Publishes never go back to an older version.
    versions = [p.version for p in client.publishes if p.uri == uri]
    assert versions == sorted(versions)


async def test_bad_setting_is_shown_and_server_keeps_working(
    client: LanguageClient, tmp_path: Path
):
    client.workspace_did_change_configuration(
        lsp.DidChangeConfigurationParams(
            settings={"deepeval": {"debounceMs": "soon", "framework": "jax"}}
        )
    )
    await _until(lambda: len(client.messages) >= 2)
    shown = " | ".join(m.message for m in client.messages)
    assert "deepeval.debounceMs" in shown and "deepeval.framework" in shown
    uri = open_doc(client, tmp_path / "after.py", BROKEN)
    await wait_final(client, uri, 1)
    assert [d.code for d in diagnostics_of(client, uri)] == ["DL001"]


async def test_server_info_reports_settings(client: LanguageClient):
    info = await client.workspace_execute_command_async(
        lsp.ExecuteCommandParams(command="deepeval.server.info", arguments=[])
    )
    assert info["settings"]["debounceMs"] == 50
    assert info["settings"]["dynamicChecks"] is False
    assert info["dynamic"]["enabled"] is False


async def _until(predicate, timeout: float = 10.0) -> None:
    from .conftest import wait_until

    await wait_until(predicate, "the server", timeout)


async def _quiet(client: LanguageClient, for_s: float = 0.3) -> None:
    """Wait until no publish arrived for `for_s` seconds (stale results would come by now)."""
    import asyncio

    n = -1
    while n != len(client.publishes):
        n = len(client.publishes)
        await asyncio.sleep(for_s)


async def test_check_workspace_publishes_for_closed_files(client: LanguageClient, tmp_path: Path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "closed.py").write_text(BROKEN)
    (tmp_path / "ok.py").write_text(GOOD)
    result = await client.workspace_execute_command_async(
        lsp.ExecuteCommandParams(command="deepeval.server.checkWorkspace", arguments=[])
    )
    assert result == {"files": 2, "diagnostics": 1}
    closed = (tmp_path / "pkg" / "closed.py").resolve().as_uri()
    assert [d.code for d in diagnostics_of(client, closed)] == ["DL001"]


async def test_model_summary_before_a_model_builds(client: LanguageClient, tmp_path: Path):
    uri = open_doc(client, tmp_path / "plain.py", GOOD)
    await wait_final(client, uri, 1)
    summary = await client.workspace_execute_command_async(
        lsp.ExecuteCommandParams(command="deepeval.server.modelSummary", arguments=[uri])
    )
    assert summary["model"] is None and summary["text"].startswith("No model summary")


async def test_incremental_edits_below_a_form_feed_land_on_the_editors_line(
    client: LanguageClient, tmp_path: Path
):
    # Form feeds are page breaks in some Python files; editors do not count them as line ends.
    text = "import torch\x0c  # page one\n\nx = torch.zeros(2, 3)\ny = 1\n"
    uri = open_doc(client, tmp_path / "pages.py", text)
    await wait_final(client, uri, 1)
    assert diagnostics_of(client, uri) == []
    # The editor's line 3 is `y = 1`: make it `y = (` (an unclosed parenthesis).
    client.text_document_did_change(
        lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[
                lsp.TextDocumentContentChangePartial(
                    range=lsp.Range(
                        start=lsp.Position(line=3, character=4),
                        end=lsp.Position(line=3, character=5),
                    ),
                    text="(",
                )
            ],
        )
    )
    await wait_final(client, uri, 2)
    expected = check(
        text.replace("y = 1", "y = ("), str(tmp_path / "pages.py"), CheckOptions(dynamic=False)
    )
    got = [
        (d.code, d.range.start.line, d.range.start.character, d.message)
        for d in diagnostics_of(client, uri)
    ]
    want = [
        (d.code, d.range.start.line, d.range.start.character, d.message)
        for d in expected.diagnostics
    ]
    assert got == want and got[0][1] == 3
