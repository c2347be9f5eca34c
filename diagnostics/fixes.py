"""Applying several findings' fixes at once (`check --fix`, the editor's fix-all), whole fixes only.

Each finding offers its preferred fix (the first verified one). The fixes are taken in the order
of the findings; a fix any of whose edits overlaps an edit already taken is skipped whole, so a
fix of several edits is never half-applied. An edit identical to one already taken is that edit
(one missing import, many uses: the import is added once, and every use's finding is fixed).
Insertions at the same place do not overlap: they go in in the order of their findings.

In a notebook the edits, made on the program of its code cells, are made in the cells: a fix
that cannot be made within cells (an edit across two cells, or of a magic's line) is not taken,
and only the edited cells' sources change in the file.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from deepeval_lsp.diagnostics.findings import Diagnostic, Fix, TextEdit
from deepeval_lsp.diagnostics.notebook import Notebook
from deepeval_lsp.diagnostics.text import apply_edits


@dataclass(frozen=True)
class ChosenFixes:
    """The fixes to apply together, their edits (each once), and the findings they fix."""

    fixes: tuple[Fix, ...] = ()
    edits: tuple[TextEdit, ...] = ()
    fixed: tuple[Diagnostic, ...] = ()


def _conflict(a: TextEdit, b: TextEdit) -> bool:
    return a.range.overlaps(b.range) or (a.range == b.range and a.range.start != a.range.end)


def choose_fixes(diagnostics: Iterable[Diagnostic], *, only_verified: bool = True) -> ChosenFixes:
    """The whole fixes of `diagnostics` that can be applied together (see the module docstring);
    with `only_verified` False a finding with no verified fix offers its first fix."""
    fixes: list[Fix] = []
    edits: list[TextEdit] = []
    fixed: list[Diagnostic] = []
    for d in diagnostics:
        fix = d.preferred_fix or (d.fixes[0] if d.fixes and not only_verified else None)
        if fix is None:
            continue
        new = [e for e in dict.fromkeys(fix.edits) if e not in edits]
        if any(_conflict(e, taken) for e in new for taken in edits):
            continue
        if new:
            fixes.append(fix)
            edits.extend(new)
        fixed.append(d)
    return ChosenFixes(tuple(fixes), tuple(edits), tuple(fixed))


def apply_fixes(
    source: str, diagnostics: Iterable[Diagnostic], *, only_verified: bool = True
) -> tuple[str, ChosenFixes]:
    """`source` with the fixes `choose_fixes` picks applied, and those fixes."""
    chosen = choose_fixes(diagnostics, only_verified=only_verified)
    return apply_edits(source, chosen.edits), chosen


def apply_notebook_fixes(
    notebook: Notebook, diagnostics: Iterable[Diagnostic], *, only_verified: bool = True
) -> tuple[Notebook, ChosenFixes]:
    """`notebook` with the fixes `choose_fixes` picks made in its cells, and those fixes."""

    def fits(d: Diagnostic) -> bool:
        fix = d.preferred_fix or (d.fixes[0] if d.fixes and not only_verified else None)
        return fix is None or notebook.cell_edits(fix.edits) is not None

    chosen = choose_fixes([d for d in diagnostics if fits(d)], only_verified=only_verified)
    by_cell = notebook.cell_edits(chosen.edits) or {}
    changed = {}
    for cell, edits in by_cell.items():
        text = apply_edits(notebook.cells[cell].text, edits)
        if text != notebook.cells[cell].text:
            changed[cell] = text
    return (notebook.with_sources(changed) if changed else notebook), chosen
