"""Render reports for people and machines: ruff-style text, JSON, and SARIF 2.1.0.

A notebook's findings are checked on the program of its code cells; given the notebook, each
position is shown in its cell: `nb.ipynb:cell 3:12:5:` in text, a `cell` field beside a
cell-relative range in JSON, and a cell-relative region with a `cell` property and a logical
location in SARIF. Cells are numbered from 1 and every cell counts, as Jupyter and VS Code count.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from deepeval_lsp.diagnostics.findings import Diagnostic, ModelSummary, Position, Range, Report
from deepeval_lsp.diagnostics.notebook import Notebook
from deepeval_lsp.diagnostics.taxonomy import CODES
from deepeval_lsp.diagnostics.text import SourceText

_FRAME_WIDTH = 120
_OFF = "not run: turned off"  # a pass's state when the options turned it off
_COLOURS = {"error": "31", "warning": "33", "information": "36", "hint": "2", "bold": "1"}


def _c(text: str, colour: str, enabled: bool) -> str:
    return f"\x1b[{_COLOURS[colour]}m{text}\x1b[0m" if enabled else text


def render_text(
    reports: Sequence[Report],
    sources: dict[str, str] | None = None,
    *,
    colour: bool = False,
    frames: bool = True,
    notebooks: Mapping[str, Notebook] | None = None,
) -> str:
    """Text like ruff's: `path:line:col: CODE message`, a code frame, the fix as a hint;
    `path:cell N:line:col:` in the notebooks given."""
    sources = sources or {}
    notebooks = notebooks or {}
    out: list[str] = []
    for report in reports:
        if report.error:
            out.append(f"{report.path}: {_c('cannot check', 'error', colour)}: {report.error}")
            continue
        lines = SourceText(sources.get(report.path, "")).plain_lines()
        for d in report.diagnostics:
            out.append(_diagnostic_text(report.path, d, lines, colour, frames, notebooks))
        start = Range(Position(0, 0), Position(0, 0))
        place, _, _ = _where(report.path, start, notebooks)  # a notebook's: its first code cell
        for note in shown_notes(report):  # about the whole file: placed at its start
            head = f"{_c(place, 'bold', colour)}:1:1:"
            out.append(f"{head} {_c('note', 'information', colour)}: {note}")
    return "\n".join(out)


def shown_notes(report: Report) -> list[str]:
    """The file's notes that the text output prints: all but those saying that a pass the user
    turned off did not run (the summary line says it once)."""
    off = {_off_note(p) for p in turned_off([report])}
    return [n for n in report.notes if n not in off]


def turned_off(reports: Sequence[Report]) -> list[str]:
    """The passes that the options turned off for each of `reports` (the checked ones) and
    whose note says so, in a stable order."""
    checked = [r for r in reports if not r.error]
    names = sorted({p for r in checked for p, state in r.passes.items() if state == _OFF})
    return [p for p in names if checked and all(_off_note(p) in r.notes for r in checked)]


def _off_note(pass_name: str) -> str:
    return f"{pass_name} checks did not run: turned off"  # as the checker words it


def _where(path: str, rng: Range, notebooks: Mapping[str, Notebook]) -> tuple[str, Range, int]:
    """`path` or `path:cell N`, the range there, and the cell's index (-1 outside notebooks)."""
    nb = notebooks.get(path)
    if nb is None:
        return path, rng, -1
    cell, local = nb.cell_range(rng)
    return f"{path}:cell {cell + 1}", local, cell


def _diagnostic_text(
    path: str,
    d: Diagnostic,
    lines: list[str],
    colour: bool,
    frames: bool,
    notebooks: Mapping[str, Notebook],
) -> str:
    place, rng, cell = _where(path, d.range, notebooks)
    if cell >= 0:
        nb = notebooks[path]
        lines = [nb.cell_line(cell, i) for i in range(rng.start.line + 1)]
    line, col = rng.start.line + 1, rng.start.character + 1
    head = (
        f"{_c(place, 'bold', colour)}:{line}:{col}: "
        f"{_c(d.code, str(d.severity), colour)} {d.message} [{d.dl_error}]"
    )
    parts = [head]
    if frames and 0 <= rng.start.line < len(lines):
        src = lines[rng.start.line].expandtabs(1)
        gutter = len(str(line))
        start = rng.start.character
        end = rng.end.character if rng.end.line == rng.start.line else len(src)
        if len(src) > _FRAME_WIDTH:  # show a window around the range of a very long line
            left = max(0, min(start - 20, len(src) - _FRAME_WIDTH))
            src = src[left : left + _FRAME_WIDTH]
            start, end = start - left, min(end - left, len(src))
        width = max(1, min(end, len(src)) - start)
        parts.append(f"{' ' * gutter} |")
        parts.append(f"{line} | {src}")
        parts.append(f"{' ' * gutter} | {' ' * start}{_c('^' * width, str(d.severity), colour)}")
    for r in d.related:
        at, where, _ = _where(r.path, r.range, notebooks)
        parts.append(
            f"  = note: {at}:{where.start.line + 1}:{where.start.character + 1}: {r.message}"
        )
    for fix in d.fixes:
        mark = "verified" if fix.verified else "unverified"
        parts.append(f"  = help: {fix.title} ({mark})")
    return "\n".join(parts) + ("\n" if frames else "")


def render_summary_line(reports: Sequence[Report], *, fixed: int = 0) -> str:
    errors = sum(r.counts()["error"] for r in reports)
    warnings = sum(r.counts()["warning"] for r in reports)
    # a note is an information or hint finding, or a note about the whole file: what was printed
    other = sum(
        r.counts()["information"] + r.counts()["hint"] + len(shown_notes(r)) for r in reports
    )
    unreadable = sum(1 for r in reports if r.error)
    fixable = sum(1 for r in reports for d in r.diagnostics if d.preferred_fix)
    parts = [f"{len(reports)} file{'s' if len(reports) != 1 else ''} checked"]
    parts.append(f"{errors} error{'s' if errors != 1 else ''}")
    parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    if other:
        parts.append(f"{other} note{'s' if other != 1 else ''}")
    if unreadable:
        parts.append(f"{unreadable} could not be checked")
    if fixed:
        parts.append(f"{fixed} fixed")
    if fixable:
        parts.append(f"{fixable} fixable with --fix")
    parts.extend(f"{p} checks turned off" for p in turned_off(reports))
    return ", ".join(parts) + "."


def render_model_summary(summary: ModelSummary) -> str:
    """A torchinfo-style table of the model that built."""
    rows = [("Layer (type)", "Input Shape", "Output Shape", "Param #")]
    for layer in summary.layers:
        indent = "  " * layer.depth
        rows.append(
            (
                f"{indent}{layer.name} ({layer.type})",
                format_shape(layer.input_shape),
                format_shape(layer.output_shape),
                f"{layer.params:,}",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    rule = "=" * (sum(widths) + 6)
    lines = [rule]
    for i, r in enumerate(rows):
        lines.append(
            f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]:>{widths[3]}}"
        )
        if i == 0:
            lines.append(rule)
    lines.append(rule)
    lines.append(f"Total params: {summary.total_params:,}")
    lines.append(f"Trainable params: {summary.trainable_params:,}")
    lines.append(f"Non-trainable params: {summary.total_params - summary.trainable_params:,}")
    lines.append(f"Input shape(s): {', '.join(format_shape(s) for s in summary.input_shapes)}")
    lines.append(f"Output shape: {format_shape(summary.output_shape)}")
    lines.append(rule)
    return "\n".join(lines)


def format_shape(shape: Any, missing: str = "--") -> str:
    """`(1, 3, 32, 32)`; several shapes (a multi-output layer) are joined with commas."""
    if shape is None:
        return missing
    if isinstance(shape, tuple | list):
        if shape and all(isinstance(s, tuple | list) for s in shape):
            return ", ".join(format_shape(s, missing) for s in shape)
        return "(" + ", ".join(str(x) for x in shape) + ")"
    return str(shape)


def render_json(reports: Sequence[Report], notebooks: Mapping[str, Notebook] | None = None) -> str:
    """The reports' JSON; in a notebook every range is its cell's, beside a 1-based `cell`."""
    notebooks = notebooks or {}
    out = []
    for r in reports:
        doc = r.to_json()
        nb = notebooks.get(r.path)
        if nb is not None and not r.error:
            _json_in_cells(doc, r.path, nb, notebooks)
        out.append(doc)
    return json.dumps(out, indent=2)


def _json_in_cells(
    doc: dict[str, Any], path: str, nb: Notebook, notebooks: Mapping[str, Notebook]
) -> None:
    def place(item: dict[str, Any], owner: Notebook | None) -> None:
        if owner is None or not item.get("range"):
            return
        cell, rng = owner.cell_range(Range.from_json(item["range"]))
        item["cell"] = cell + 1
        item["range"] = rng.to_json()

    for d in doc["diagnostics"]:
        place(d, nb)
        for rel in d["related"]:
            place(rel, notebooks.get(rel["path"]))
        for fix in d["fixes"]:
            for edit in fix["edits"]:
                place(edit, nb)
    model = doc["summary"].get("model")
    for layer in model["layers"] if model else ():
        place(layer, nb)
        if layer.get("line") is not None:
            cell, pos = nb.to_cell(Range.of(layer["line"], 0, layer["line"], 0).start)
            layer["line"], layer["line_cell"] = pos.line, cell + 1


_SARIF_LEVEL = {"error": "error", "warning": "warning", "information": "note", "hint": "note"}


def render_sarif(
    reports: Sequence[Report], tool_version: str, notebooks: Mapping[str, Notebook] | None = None
) -> str:
    """SARIF 2.1.0, one run; columns are 1-based as SARIF requires. In a notebook a region's
    lines are its cell's; the location names the cell (a `cell` property, 1-based, and a
    logical location `cell N`)."""
    notebooks = notebooks or {}

    def location(path: str, rng: Range) -> dict[str, Any]:
        _, local, cell = _where(path, rng, notebooks)
        loc = _sarif_location(path, local)
        if cell >= 0:
            loc["logicalLocations"] = [{"name": f"cell {cell + 1}"}]
            loc["properties"] = {"cell": cell + 1}
        return loc

    def region(path: str, rng: Range) -> dict[str, Any]:
        _, local, cell = _where(path, rng, notebooks)
        out: dict[str, Any] = _sarif_region(local)
        if cell >= 0:
            out["properties"] = {"cell": cell + 1}
        return out

    used = sorted({d.code for r in reports for d in r.diagnostics})
    rules = [
        {
            "id": code,
            "name": CODES[code].dl_error.replace(" ", ""),
            "shortDescription": {"text": CODES[code].dl_error},
            "helpUri": f"docs/diagnostics.md#{code.lower()}",
            "properties": {
                "python_error": CODES[code].python_error,
                "root_cause": str(CODES[code].root_cause),
            },
        }
        for code in used
    ]
    results: list[dict[str, Any]] = []
    for r in reports:
        for d in r.diagnostics:
            res: dict[str, Any] = {
                "ruleId": d.code,
                "ruleIndex": used.index(d.code),
                "level": _SARIF_LEVEL[str(d.severity)],
                "message": {"text": d.message},
                "locations": [location(r.path, d.range)],
                "properties": {"dl_error": d.dl_error, "root_cause": d.root_cause},
            }
            if d.related:
                res["relatedLocations"] = [
                    {**location(x.path, x.range), "message": {"text": x.message}} for x in d.related
                ]
            if d.fixes:
                res["fixes"] = [
                    {
                        "description": {"text": f.title},
                        "artifactChanges": [
                            {
                                "artifactLocation": {"uri": r.path},
                                "replacements": [
                                    {
                                        "deletedRegion": region(r.path, e.range),
                                        "insertedContent": {"text": e.new_text},
                                    }
                                    for e in f.edits
                                ],
                            }
                        ],
                    }
                    for f in d.fixes
                ]
            results.append(res)
    notifications = [
        {"level": "error", "message": {"text": f"{r.path}: {r.error}"}} for r in reports if r.error
    ]
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "deepeval-lsp",
                        "version": tool_version,
                        "informationUri": "https://pypi.org/project/deepeval-lsp/",
                        "rules": rules,
                    }
                },
                "results": results,
                "invocations": [
                    {
                        "executionSuccessful": not notifications,
                        "toolExecutionNotifications": notifications,
                    }
                ],
            }
        ],
    }
    return json.dumps(doc, indent=2)


def _sarif_region(rng: Any) -> dict[str, Any]:
    return {
        "startLine": rng.start.line + 1,
        "startColumn": rng.start.character + 1,
        "endLine": rng.end.line + 1,
        "endColumn": rng.end.character + 1,
    }


def _sarif_location(path: str, rng: Any) -> dict[str, Any]:
    return {"physicalLocation": {"artifactLocation": {"uri": path}, "region": _sarif_region(rng)}}
