"""Jupyter notebooks in the editor: checked as one program, published on each cell's URI."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types as lsp
from pytest_lsp import LanguageClient

from .conftest import apply_workspace_edit, diagnostics_of, wait_final, wait_until

IMPORTS = "import torch\nimport torch.nn as nn\n\nfc = nn.Linear(100, 10)\n"
CONV = "%matplotlib inline\nconv = nn.Conv2D(1, 8, 3)\n"
APPLY = "x = torch.randn(1, 50)  # deepeval: input=(1, 50)\ny = fc(x)\n"


def cell_uri(path: Path, i: int) -> str:
    # as VS Code names cells: the notebook's path and a (percent-encoded) fragment
    return f"vscode-notebook-cell:{path}#W{i}sZmlsZQ%3D%3D"


def open_notebook(client: LanguageClient, path: Path, cells: list[str]) -> tuple[str, list[str]]:
    uri = path.as_uri()
    uris = [cell_uri(path, i) for i in range(len(cells))]
    client.notebook_document_did_open(
        lsp.DidOpenNotebookDocumentParams(
            notebook_document=lsp.NotebookDocument(
                uri=uri,
                notebook_type="jupyter-notebook",
                version=1,
                cells=[lsp.NotebookCell(kind=lsp.NotebookCellKind.Code, document=u) for u in uris],
            ),
            cell_text_documents=[
                lsp.TextDocumentItem(uri=u, language_id="python", version=1, text=text)
                for u, text in zip(uris, cells, strict=True)
            ],
        )
    )
    return uri, uris


def change_cell(
    client: LanguageClient, uri: str, version: int, cell: str, cell_version: int, text: str
) -> None:
    client.notebook_document_did_change(
        lsp.DidChangeNotebookDocumentParams(
            notebook_document=lsp.VersionedNotebookDocumentIdentifier(version=version, uri=uri),
            change=lsp.NotebookDocumentChangeEvent(
                cells=lsp.NotebookDocumentCellChanges(
                    text_content=[
                        lsp.NotebookDocumentCellContentChanges(
                            document=lsp.VersionedTextDocumentIdentifier(
                                uri=cell, version=cell_version
                            ),
                            changes=[lsp.TextDocumentContentChangeWholeDocument(text=text)],
                        )
                    ]
                )
            ),
        )
    )


def close_notebook(client: LanguageClient, uri: str, cells: list[str]) -> None:
    client.notebook_document_did_close(
        lsp.DidCloseNotebookDocumentParams(
            notebook_document=lsp.NotebookDocumentIdentifier(uri=uri),
            cell_text_documents=[lsp.TextDocumentIdentifier(uri=u) for u in cells],
        )
    )


async def actions_on(client: LanguageClient, uri: str, d: lsp.Diagnostic) -> list[lsp.CodeAction]:
    return await client.text_document_code_action_async(
        lsp.CodeActionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            range=d.range,
            context=lsp.CodeActionContext(diagnostics=[d]),
        )
    )


def codes(client: LanguageClient, uris: list[str]) -> list[list[str]]:
    return [[d.code for d in diagnostics_of(client, u)] for u in uris]


async def test_static_findings_land_in_their_cells(client: LanguageClient, tmp_path: Path):
    uri, cells = open_notebook(client, tmp_path / "nb.ipynb", [IMPORTS, CONV, APPLY])
    status = await wait_final(client, uri, 1)
    assert status["code"] == "DL104"
    # Cell 2's own line 2 (the magic above it is not Python, and not a finding); `torch`, `nn`
    # and `fc` come from cell 1, so no "is not defined" in cells 2 and 3.
    assert codes(client, cells) == [[], ["DL104"], []]
    (d,) = diagnostics_of(client, cells[1])
    assert (d.range.start.line, d.range.start.character) == (1, 10)
    assert (d.range.end.line, d.range.end.character) == (1, 16)
    published = {p.uri for p in client.publishes}
    assert set(cells) <= published and uri not in published

    (fix,) = [a for a in await actions_on(client, cells[1], d) if a.is_preferred]
    (change,) = fix.edit.document_changes
    assert change.text_document.uri == cells[1]
    fixed = apply_workspace_edit(CONV, cells[1], fix.edit)
    assert fixed == CONV.replace("Conv2D", "Conv2d")

    change_cell(client, uri, 2, cells[1], 2, fixed)
    await wait_final(client, uri, 2)
    assert codes(client, cells) == [[], [], []]
    # An edit of cell 1 re-checks the cells after it: without `nn` and `fc` they do not run.
    change_cell(client, uri, 3, cells[0], 2, "import torch\n")
    await wait_final(client, uri, 3)
    assert codes(client, cells) == [[], ["DL101"], ["DL004"]]
    (d,) = diagnostics_of(client, cells[2])
    assert d.range.start == lsp.Position(line=1, character=4)

    close_notebook(client, uri, cells)
    await wait_until(lambda: codes(client, cells) == [[], [], []], "the cells cleared")


async def test_a_cell_alone_is_not_its_notebook(client: LanguageClient, tmp_path: Path):
    # The same cell as the only one: `fc` and `torch` are not defined (the test above is no
    # accident of a checker that never reports names).
    uri, cells = open_notebook(client, tmp_path / "alone.ipynb", [APPLY])
    await wait_final(client, uri, 1)
    assert codes(client, cells) == [["DL101", "DL004"]]


async def test_an_unreadable_notebook_gets_no_diagnostics(client: LanguageClient, tmp_path: Path):
    path = tmp_path / "broken.ipynb"
    uri = path.as_uri()
    # a cell whose text the client never sent
    client.notebook_document_did_open(
        lsp.DidOpenNotebookDocumentParams(
            notebook_document=lsp.NotebookDocument(
                uri=uri,
                notebook_type="jupyter-notebook",
                version=1,
                cells=[
                    lsp.NotebookCell(kind=lsp.NotebookCellKind.Code, document=cell_uri(path, 0))
                ],
            ),
            cell_text_documents=[],
        )
    )
    # the server is still up and answers; a good notebook opened afterwards is checked
    good, cells = open_notebook(client, tmp_path / "good.ipynb", [IMPORTS, CONV])
    await wait_final(client, good, 1)
    assert codes(client, cells) == [[], ["DL104"]]
    assert not [s for s in client.statuses if s["uri"] == uri]
    assert cell_uri(path, 0) not in client.diagnostics


async def test_a_shape_error_across_cells(dynamic_client: LanguageClient, tmp_path: Path):
    client = dynamic_client
    uri, cells = open_notebook(client, tmp_path / "shapes.ipynb", [IMPORTS, CONV, APPLY])
    status = await wait_final(client, uri, 1)
    assert status["state"] == "error"
    assert codes(client, cells) == [[], ["DL104"], ["DL301"]]
    (d,) = diagnostics_of(client, cells[2])
    assert d.range == lsp.Range(
        start=lsp.Position(line=1, character=4), end=lsp.Position(line=1, character=9)
    )
    # the layer was made in cell 1, line 4
    (rel,) = d.related_information
    assert rel.location.uri == cells[0] and rel.location.range.start.line == 3

    # The fix, asked for on cell 3, edits cell 1.
    (fix,) = [a for a in await actions_on(client, cells[2], d) if a.is_preferred]
    (change,) = fix.edit.document_changes
    assert change.text_document.uri == cells[0]
    fixed = apply_workspace_edit(IMPORTS, cells[0], fix.edit)
    assert "nn.Linear(50, 10)" in fixed
    fix_all = [
        a for a in await actions_on(client, cells[2], d) if a.kind == "source.fixAll.deepeval"
    ]
    (fix_all,) = fix_all
    assert {c.text_document.uri for c in fix_all.edit.document_changes} == {cells[0], cells[1]}

    change_cell(client, uri, 2, cells[0], 2, fixed)
    status = await wait_final(client, uri, 2)
    assert codes(client, cells) == [[], ["DL104"], []]

    hover = await client.text_document_hover_async(
        lsp.HoverParams(
            text_document=lsp.TextDocumentIdentifier(uri=cells[0]),
            position=lsp.Position(line=3, character=10),
        )
    )
    assert hover is not None and "Linear" in hover.contents.value
    close_notebook(client, uri, cells)
    await wait_until(lambda: codes(client, cells) == [[], [], []], "the cells cleared")


NET = """\
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(20, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        x = torch.relu(self.fc1(x))
        return self.fc2(x)
"""
BUILD = "model = Net()\nx = torch.randn(1, 20)  # deepeval: input=(1, 20)\n"


async def test_shape_hints_in_the_cell_of_the_forward(
    dynamic_client: LanguageClient, tmp_path: Path
):
    client = dynamic_client
    uri, cells = open_notebook(client, tmp_path / "hints.ipynb", ["%load_ext foo\n", NET, BUILD])
    status = await wait_final(client, uri, 1)
    assert status["state"] == "ok" and "output (1, 10)" in status["text"], status

    async def hints(cell: str) -> dict[int, tuple[str, int]]:
        found = await client.text_document_inlay_hint_async(
            lsp.InlayHintParams(
                text_document=lsp.TextDocumentIdentifier(uri=cell),
                range=lsp.Range(
                    start=lsp.Position(line=0, character=0), end=lsp.Position(line=20, character=0)
                ),
            )
        )
        return {h.position.line: (h.label, h.position.character) for h in found}

    line = NET.splitlines()[11]
    assert (await hints(cells[1]))[11] == ("→ (1, 64)", len(line))
    assert (await hints(cells[1]))[12][0] == "→ (1, 10)"
    # the model itself, made on cell 3's first line
    assert await hints(cells[2]) == {0: ("→ (1, 10)", len("model = Net()"))}
    hover = await client.text_document_hover_async(
        lsp.HoverParams(
            text_document=lsp.TextDocumentIdentifier(uri=cells[1]),
            position=lsp.Position(line=7, character=22),
        )
    )
    assert hover is not None and "fc1" in hover.contents.value


async def test_a_cell_that_does_not_parse_leaves_the_others_checked(
    dynamic_client: LanguageClient, tmp_path: Path
):
    client = dynamic_client
    broken = "width = (3,\nconv = nn.Conv2D(1, 8, 3)\n"  # never closed
    uri, cells = open_notebook(client, tmp_path / "syntax.ipynb", [IMPORTS, broken, APPLY])
    await wait_final(client, uri, 1)
    # the broken cell at its error, cell 3 checked statically only: no shape error from a
    # program that lacks a cell
    assert codes(client, cells) == [[], ["DL001"], []]
    (d,) = diagnostics_of(client, cells[1])
    assert d.range.start == lsp.Position(line=0, character=8)
    change_cell(client, uri, 2, cells[1], 2, CONV)
    await wait_final(client, uri, 2)
    assert codes(client, cells) == [[], ["DL104"], ["DL301"]]
