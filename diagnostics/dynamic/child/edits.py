"""Edits of the run's copy of the source, and positions mapped back to the source as written.

An edit is a tuple (line, column, end line, end column, new text), 0-based, in the coordinates
of the text it applies to. The fix loop applies fixes to its copy of the source and maps each
later finding back through the edits applied before it.
"""

from __future__ import annotations

from typing import Any

from deepeval_lsp.diagnostics.dynamic.wire import EditRecord, ErrorRecord


def edit_json(e: tuple[int, int, int, int, str]) -> EditRecord:
    """An edit tuple as the wire's EditRecord."""
    return {"range": [e[0], e[1], e[2], e[3]], "new_text": e[4]}


def overlaps(edits: list[Any], history: list[Any]) -> bool:
    """Does any of `edits` touch the text of an edit in `history` (same line, columns meet)?"""
    for e in edits:
        for h in history:
            if e[0] == h[0] and e[1] < max(h[3], h[1] + 1) and h[1] < max(e[3], e[1] + 1):
                return True
    return False


def apply_tuple_edits(source: str, edits: list[tuple[int, int, int, int, str]]) -> str:
    """`source` with `edits` applied (all in its coordinates)."""
    lines = source.splitlines(keepends=True)
    offsets = [0]
    for ln in lines:
        offsets.append(offsets[-1] + len(ln))

    def off(line: int, col: int) -> int:
        return offsets[min(line, len(lines))] + col

    out = source
    for e in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        out = out[: off(e[0], e[1])] + e[4] + out[off(e[2], e[3]) :]
    return out


def map_pos_back(
    line: int, col: int, applied: list[tuple[int, int, int, int, str]]
) -> tuple[int, int]:
    """A position after the single-line `applied` edits, in the source before them."""
    for e in reversed(applied):
        if e[0] != line or e[0] != e[2]:
            continue
        new_end = e[1] + len(e[4])
        if col >= new_end:
            col -= len(e[4]) - (e[3] - e[1])
        elif col > e[1]:
            col = e[1]
    return line, col


def map_edit_back(
    e: tuple[int, int, int, int, str], applied: list[Any]
) -> tuple[int, int, int, int, str] | None:
    """An edit in the edited source's coordinates, in the source's before `applied`."""
    l0, c0 = map_pos_back(e[0], e[1], applied)
    l1, c1 = map_pos_back(e[2], e[3], applied)
    return (l0, c0, l1, c1, e[4])


def map_error_back(err: ErrorRecord, applied: list[Any]) -> ErrorRecord:
    """The error with its range and its related ranges in the source before `applied`."""
    if not applied:
        return err

    def rng(r: list[int]) -> list[int]:
        a = map_pos_back(r[0], r[1], applied)
        b = map_pos_back(r[2], r[3], applied)
        return [a[0], a[1], b[0], b[1]]

    return {
        **err,
        "range": rng(err["range"]),
        "related": [{**r, "range": rng(r["range"])} for r in err["related"]],
    }
