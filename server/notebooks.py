"""Jupyter notebooks open in the editor: checked as one program, answered cell by cell.

The client syncs a notebook (LSP 3.17 notebook documents) with one text document per Python code
cell. The server checks the program those cells make in order (`diagnostics.notebook`, the same
program and line map as `check` on an .ipynb file), built from the cells' current texts, not from
the file on disk. Every position goes through the line map: a finding is published on the URI of
the cell it lies in, at its line there, and related information in another cell points at that
cell; a request on a cell (code action, hover, inlay hint) is asked of the program and answered in
cell coordinates. A fix is offered only where it can be made within cells.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import unquote

from deepeval_lsp.diagnostics import Diagnostic, ModelSummary, Range, Report, TextEdit
from deepeval_lsp.diagnostics.files import UncheckableFile
from deepeval_lsp.diagnostics.findings import Position
from deepeval_lsp.diagnostics.notebook import Notebook, notebook_of_cells
from deepeval_lsp.server import convert
from deepeval_lsp.server.documents import lsp_lines
from lsprotocol import types as lsp
from pygls.workspace import Workspace

NOTEBOOK_TYPE = "jupyter-notebook"
CELL_LANGUAGE = "python"
NOTEBOOK_SYNC = lsp.NotebookDocumentSyncOptions(
    notebook_selector=[
        lsp.NotebookDocumentFilterWithCells(
            notebook=NOTEBOOK_TYPE, cells=[lsp.NotebookCellLanguage(language=CELL_LANGUAGE)]
        )
    ],
    save=True,
)


@dataclass(frozen=True)
class NotebookView:
    """One version of an open notebook: the program of its code cells and each cell's document
    (URI, version), indexed as the program's cells are."""

    uri: str
    version: int
    path: str
    notebook: Notebook
    cells: tuple[str, ...]
    cell_versions: tuple[int | None, ...]

    def cell_of(self, uri: str) -> int | None:
        try:
            return self.cells.index(uri)
        except ValueError:
            return None


def read_view(workspace: Workspace, uri: str) -> NotebookView:
    """The open notebook `uri` as the client has it now, or UncheckableFile saying why not."""
    nb = workspace.get_notebook_document(notebook_uri=uri)
    if nb is None:
        raise UncheckableFile("the notebook is not open")
    uris: list[str] = []
    versions: list[int | None] = []
    sources: list[str] = []
    for cell in nb.cells:
        if cell.kind != lsp.NotebookCellKind.Code:
            continue
        doc = workspace.text_documents.get(unquote(cell.document))
        if doc is None:
            raise UncheckableFile(f"the client did not send the text of cell {cell.document}")
        if doc.language_id not in (None, CELL_LANGUAGE):
            continue
        uris.append(cell.document)
        versions.append(doc.version)
        sources.append(doc.source)
    path = convert.uri_to_path(uri)
    return NotebookView(
        uri, nb.version, path, notebook_of_cells(sources, path), tuple(uris), tuple(versions)
    )


class CellColumns:
    """The `Columns` of each cell document of a view (the client's position encoding)."""

    def __init__(self, workspace: Workspace, view: NotebookView) -> None:
        self._workspace = workspace
        self._view = view
        self._cols: dict[int, convert.Columns] = {}

    def __call__(self, cell: int) -> convert.Columns:
        cols = self._cols.get(cell)
        if cols is None:
            doc = self._workspace.text_documents.get(unquote(self._view.cells[cell]))
            lines = doc.lines if doc is not None else ()
            cols = self._cols[cell] = convert.Columns(lines, self._workspace.position_codec)
        return cols

    def range(self, rng: Range) -> tuple[str, lsp.Range]:
        """A program range as (cell URI, range in that cell)."""
        cell, local = self._view.notebook.cell_range(rng)
        return self._view.cells[cell], self(cell).range(local)


def to_cell_diagnostics(
    report: Report, view: NotebookView, cols: CellColumns
) -> dict[str, list[lsp.Diagnostic]]:
    """The report's findings by cell URI (every cell of the view has an entry)."""
    out: dict[str, list[lsp.Diagnostic]] = {uri: [] for uri in view.cells}
    for d in report.diagnostics:
        uri, diagnostic = to_cell_diagnostic(d, report.path, view, cols)
        out[uri].append(diagnostic)
    return out


def to_cell_diagnostic(
    d: Diagnostic, path: str, view: NotebookView, cols: CellColumns
) -> tuple[str, lsp.Diagnostic]:
    """One finding in its cell: its cell URI and the LSP diagnostic there."""
    cell, local = view.notebook.cell_range(d.range)
    uri = view.cells[cell]
    # convert's own shape; the related places are the notebook's cells or other files
    out = convert.to_lsp_diagnostic(
        dataclasses.replace(d, range=local, related=()), cols(cell), path, uri
    )
    related = []
    for r in d.related:
        if r.path == path:
            r_uri, r_range = cols.range(r.range)
            location = lsp.Location(uri=r_uri, range=r_range)
        else:
            location = lsp.Location(
                uri=convert.path_to_uri(r.path, path, view.uri), range=convert.plain_range(r.range)
            )
        related.append(lsp.DiagnosticRelatedInformation(location=location, message=r.message))
    out.related_information = related or None
    return uri, out


def to_program(view: NotebookView, cols: CellColumns, cell: int, pos: lsp.Position) -> Position:
    """A client position in a cell as a program position (a line past the cell's end: the
    program's position after its last line, where nothing is found)."""
    local = cols(cell).from_client(pos)
    at = view.notebook.from_cell(cell, local)
    return at if at is not None else Position(len(view.notebook.lines), 0)


def cell_edit(
    view: NotebookView, cols: CellColumns, edits: Sequence[TextEdit]
) -> lsp.WorkspaceEdit | None:
    """Program edits as a workspace edit of the cells they fall in; None when one of them cannot
    be made within one cell."""
    by_cell = view.notebook.cell_edits(tuple(edits))
    if by_cell is None:
        return None
    return lsp.WorkspaceEdit(
        document_changes=[
            lsp.TextDocumentEdit(
                text_document=lsp.OptionalVersionedTextDocumentIdentifier(
                    uri=view.cells[cell], version=view.cell_versions[cell]
                ),
                edits=[
                    lsp.TextEdit(range=cols(cell).range(e.range), new_text=e.new_text)
                    for e in cell_edits
                ],
            )
            for cell, cell_edits in sorted(by_cell.items())
        ]
    )


def code_actions(
    report: Report,
    view: NotebookView,
    cols: CellColumns,
    cell: int,
    rng: lsp.Range,
    only: Sequence[str] | None,
) -> list[lsp.CodeAction]:
    """The code actions asked for on a range of a cell, with edits on the cells' URIs."""
    wanted = Range(to_program(view, cols, cell, rng.start), to_program(view, cols, cell, rng.end))
    return convert.code_actions(
        report,
        view.uri,
        view.version,
        cols(cell),
        wanted,
        only,
        edit_of=lambda edits: cell_edit(view, cols, edits),
        diagnostic_of=lambda d: to_cell_diagnostic(d, report.path, view, cols)[1],
    )


def inlay_hints(
    model: ModelSummary | None, view: NotebookView, cols: CellColumns, cell: int, rng: lsp.Range
) -> list[lsp.InlayHint]:
    """The shape hints of a cell's lines in `rng`, at the ends of those lines in the cell."""
    program_lines = [
        n
        for n, at in enumerate(view.notebook.lines)
        if at.cell == cell and rng.start.line <= at.line <= rng.end.line
    ]
    if model is None or not program_lines:
        return []
    program = convert.Columns(lsp_lines(view.notebook.program))
    hints = convert.inlay_hints(model, program, program_lines[0], program_lines[-1])
    for hint in hints:
        at = view.notebook.lines[hint.position.line]
        end = len(view.notebook.cell_line(cell, at.line))
        hint.position = cols(cell).position(Position(at.line, end))
    return hints
