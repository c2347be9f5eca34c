"""Turn the checkers' Report into LSP shapes: diagnostics, code actions, hovers, inlay hints.

The checkers count columns in Python characters; the client counts them in the negotiated
position encoding (UTF-16 unless it offers another), so every range passes through a `Columns`
converter built from the document's lines.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from deepeval_lsp.diagnostics import (
    Diagnostic,
    ModelSummary,
    Range,
    Report,
    Severity,
    TextEdit,
    choose_fixes,
)
from deepeval_lsp.diagnostics.findings import LayerSummary, Position
from deepeval_lsp.diagnostics.render import format_shape
from lsprotocol import types as lsp
from pygls.uris import from_fs_path, to_fs_path
from pygls.workspace.position_codec import PositionCodec

SOURCE = "deepeval"
FIX_ALL_KIND = f"{lsp.CodeActionKind.SourceFixAll.value}.{SOURCE}"

_SEVERITY = {
    Severity.ERROR: lsp.DiagnosticSeverity.Error,
    Severity.WARNING: lsp.DiagnosticSeverity.Warning,
    Severity.INFORMATION: lsp.DiagnosticSeverity.Information,
    Severity.HINT: lsp.DiagnosticSeverity.Hint,
}


class Columns:
    """Converts character columns of one document's text to the client's position encoding."""

    def __init__(self, lines: Sequence[str], codec: PositionCodec | None = None) -> None:
        self.lines = lines  # the document's own (cached) lines: no copy of a huge file
        self.codec = codec or PositionCodec()

    def position(self, pos: Position) -> lsp.Position:
        if pos.line >= len(self.lines):
            return lsp.Position(line=pos.line, character=pos.character)
        # A column past the end of the line means the end of the line (never its line break).
        text = self.lines[pos.line].rstrip("\r\n")
        return lsp.Position(
            line=pos.line, character=self.codec.client_num_units(text[: pos.character])
        )

    def range(self, rng: Range) -> lsp.Range:
        return lsp.Range(start=self.position(rng.start), end=self.position(rng.end))

    def from_client(self, pos: lsp.Position) -> Position:
        p = self.codec.position_from_client_units(
            self.lines, lsp.Position(line=pos.line, character=pos.character)
        )
        return Position(p.line, p.character)


def path_to_uri(path: str, doc_path: str, doc_uri: str) -> str:
    """The URI of a path named in a diagnostic (the document itself keeps its own URI)."""
    if path == doc_path:
        return doc_uri
    return from_fs_path(str(Path(path).resolve())) or doc_uri


def uri_to_path(uri: str) -> str:
    """A file system path for a document URI (untitled documents keep their URI as a name)."""
    return to_fs_path(uri) or uri


def diagnostic_data(d: Diagnostic) -> dict[str, Any]:
    return {
        "dl_error": d.dl_error,
        "python_error": d.python_error,
        "root_cause": d.root_cause,
        "fixes": [f.to_json() for f in d.fixes],
    }


def to_lsp_diagnostic(d: Diagnostic, cols: Columns, doc_path: str, doc_uri: str) -> lsp.Diagnostic:
    related = [
        lsp.DiagnosticRelatedInformation(
            location=lsp.Location(
                uri=path_to_uri(r.path, doc_path, doc_uri),
                range=cols.range(r.range) if r.path == doc_path else plain_range(r.range),
            ),
            message=r.message,
        )
        for r in d.related
    ]
    return lsp.Diagnostic(
        range=cols.range(d.range),
        message=d.message,
        severity=_SEVERITY[Severity(d.severity)],
        code=d.code,
        source=SOURCE,
        related_information=related or None,
        data=diagnostic_data(d),
    )


def notice(message: str) -> lsp.Diagnostic:
    """An information diagnostic on the first line: the document as a whole was not checked."""
    start = lsp.Position(line=0, character=0)
    return lsp.Diagnostic(
        range=lsp.Range(start=start, end=start),
        message=message,
        severity=lsp.DiagnosticSeverity.Information,
        source=SOURCE,
    )


def plain_range(rng: Range) -> lsp.Range:
    return lsp.Range(
        start=lsp.Position(line=rng.start.line, character=rng.start.character),
        end=lsp.Position(line=rng.end.line, character=rng.end.character),
    )


def to_lsp_diagnostics(report: Report, cols: Columns, doc_uri: str) -> list[lsp.Diagnostic]:
    return [to_lsp_diagnostic(d, cols, report.path, doc_uri) for d in report.diagnostics]


def _workspace_edit(
    uri: str, version: int | None, edits: Iterable[TextEdit], cols: Columns
) -> lsp.WorkspaceEdit:
    return lsp.WorkspaceEdit(
        document_changes=[
            lsp.TextDocumentEdit(
                text_document=lsp.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version),
                edits=[lsp.TextEdit(range=cols.range(e.range), new_text=e.new_text) for e in edits],
            )
        ]
    )


def code_actions(
    report: Report,
    uri: str,
    version: int | None,
    cols: Columns,
    wanted: Range,
    only: Sequence[str] | None,
    *,
    edit_of: Callable[[Sequence[TextEdit]], lsp.WorkspaceEdit | None] | None = None,
    diagnostic_of: Callable[[Diagnostic], lsp.Diagnostic] | None = None,
) -> list[lsp.CodeAction]:
    """Quick fixes for the diagnostics touching `wanted`, and the file's fix-all action.

    `edit_of` makes a fix's edits a workspace edit (None: they cannot be made, and the fix is not
    offered) and `diagnostic_of` shows a finding, where the report's text is not one document
    (a notebook's program); by default both are in the document `uri`."""
    if edit_of is None:
        edit_of = lambda edits: _workspace_edit(uri, version, edits, cols)  # noqa: E731
    if diagnostic_of is None:
        diagnostic_of = lambda d: to_lsp_diagnostic(d, cols, report.path, uri)  # noqa: E731
    actions: list[lsp.CodeAction] = []
    want_quickfix = not only or any(
        lsp.CodeActionKind.QuickFix.value.startswith(k) or k.startswith("quickfix") for k in only
    )
    want_fix_all = not only or any(FIX_ALL_KIND.startswith(k) for k in only)
    if want_quickfix:
        for d in report.diagnostics:
            if not (
                d.range.overlaps(wanted) or d.range.contains(wanted) or wanted.contains(d.range)
            ):
                continue
            preferred = d.preferred_fix
            # Verified fixes first: they are the ones re-checking showed to work.
            for fix in sorted(d.fixes, key=lambda f: not f.verified):
                edit = edit_of(fix.edits)
                if edit is None:
                    continue
                title = fix.title if fix.verified else f"{fix.title} (unverified)"
                actions.append(
                    lsp.CodeAction(
                        title=f"{title} ({d.code})",
                        kind=lsp.CodeActionKind.QuickFix,
                        diagnostics=[diagnostic_of(d)],
                        is_preferred=fix is preferred,
                        edit=edit,
                    )
                )
    if want_fix_all:
        makeable = [
            d
            for d in report.diagnostics
            if d.preferred_fix is None or edit_of(d.preferred_fix.edits) is not None
        ]
        chosen = choose_fixes(makeable)
        edit = edit_of(chosen.edits) if chosen.fixes else None
        if edit is not None:
            n = len(chosen.fixes)
            actions.append(
                lsp.CodeAction(
                    title=f"deepeval: apply {n} verified fix{'es' if n != 1 else ''}",
                    kind=FIX_ALL_KIND,
                    edit=edit,
                )
            )
    return actions


def fmt_shape(shape: Any) -> str:
    return format_shape(shape, missing="?")


def fmt_params(n: int) -> str:
    if n >= 1_000_000_000:
        return f"{n / 1e9:.1f} G params"
    if n >= 1_000_000:
        return f"{n / 1e6:.1f} M params"
    if n >= 1_000:
        return f"{n / 1e3:.1f} k params"
    return f"{n} param{'s' if n != 1 else ''}"


def status(report: Report | None, static_only_reason: str | None = None) -> dict[str, Any]:
    """The `deepeval/status` notification's params (less uri and version)."""
    if report is None:
        return {"state": "idle", "text": "deepeval: idle"}
    if report.error:
        return {"state": "error", "text": f"cannot check: {report.error}"}
    errors = [d for d in report.diagnostics if d.severity == Severity.ERROR]
    if errors:
        d = errors[0]
        more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
        text = f"{d.code} line {d.range.start.line + 1}: {d.message}{more}"
        return {"state": "error", "text": text, "code": d.code}
    if report.model is not None:
        m = report.model
        text = f"model builds: {fmt_params(m.total_params)}, output {fmt_shape(m.output_shape)}"
        return {"state": "ok", "text": text, "model": m.to_json()}
    reason = static_only_reason or report.passes.get("dynamic", "")
    text = "no problems found (static checks)"
    if reason and not reason.startswith("ran"):
        text += f"; dynamic: {reason}"
    return {"state": "ok", "text": text}


def _layer_line(layer: LayerSummary) -> int | None:
    if layer.line is not None:
        return layer.line
    return layer.range.end.line if layer.range is not None else None


def hover(model: ModelSummary | None, pos: Position) -> str | None:
    """Markdown for the layer constructed at `pos`, or the shape produced on `pos`'s line."""
    if model is None:
        return None
    for layer in model.layers:
        if layer.range is not None and layer.range.start <= pos <= layer.range.end:
            return _layer_markdown(layer)
    for layer in model.layers:
        if layer.line == pos.line:
            return _layer_markdown(layer)
    return None


def model_hover(model: ModelSummary | None, semantic: dict[str, Any] | None) -> str | None:
    """Markdown for the model itself (hovering its entry point): size, output, and how close
    its structure is to the task's reference when one is known."""
    parts = []
    if model is not None:
        parts.append(
            f"**{model.entry_point or 'model'}**: {fmt_params(model.total_params)}, "
            f"output `{fmt_shape(model.output_shape)}`"
        )
    if semantic and "api_set_f1" in semantic:
        task = f" (task `{semantic['task']}`)" if semantic.get("task") else ""
        parts.append(
            f"structure vs the reference{task}: API-set F1 {semantic['api_set_f1']:.1f}, "
            f"API-sequence F1 {semantic['api_seq_f1']:.1f}"
        )
    return "\n\n".join(parts) or None


def _layer_markdown(layer: LayerSummary) -> str:
    return (
        f"**{layer.name}**: `{layer.type}`\n\n"
        f"| input | output | params |\n|---|---|---|\n"
        f"| `{fmt_shape(layer.input_shape)}` | `{fmt_shape(layer.output_shape)}` "
        f"| {layer.params:,} |"
    )


def inlay_hints(
    model: ModelSummary | None, cols: Columns, first: int, last: int
) -> list[lsp.InlayHint]:
    """One hint at the end of each line that produces a layer's output: `→ (1, 10)`."""
    if model is None:
        return []
    by_line: dict[int, LayerSummary] = {}
    for layer in model.layers:
        line = _layer_line(layer)
        if line is not None and first <= line <= last and layer.output_shape is not None:
            by_line[line] = layer  # the last layer on a line gives the line's output
    hints = []
    for line, layer in sorted(by_line.items()):
        text = cols.lines[line].rstrip("\r\n") if line < len(cols.lines) else ""
        end = cols.position(Position(line, len(text)))
        hints.append(
            lsp.InlayHint(
                position=end,
                label=f"→ {fmt_shape(layer.output_shape)}",
                kind=lsp.InlayHintKind.Type,
                padding_left=True,
                tooltip=f"{layer.name} ({layer.type}): {layer.params:,} params",
            )
        )
    return hints
