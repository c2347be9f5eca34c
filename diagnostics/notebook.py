"""Jupyter notebooks (nbformat 4) as one program: their code cells in order, IPython's own syntax
blanked, and an exact map from each program line back to its cell.

The checkers see the program; a front end shows each position in its cell. Cells are numbered as
Jupyter and VS Code number them: every cell counts (markdown and raw ones too), 1-based in the
output. Magics and shell lines (`%matplotlib inline`, `!pip install x`, `x = !ls`, `obj?`) become
`pass` (or `x = None`) at their indentation, so lines do not shift and a block stays a block;
`%time stmt` and `%timeit stmt` keep their statement. A `%%time`, `%%timeit`, `%%capture` or
`%%prun` cell keeps its Python body; any other cell magic (`%%bash`, `%%writefile`, …) blanks its
cell. A fix is written back cell-exactly: only the edited cells' `source` values change in the
file; every other byte (outputs, metadata, ids, key order, indentation) stays as it was.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from deepeval_lsp.diagnostics import taxonomy as T
from deepeval_lsp.diagnostics.files import MAX_FILE_BYTES, UncheckableFile, read_source, too_large
from deepeval_lsp.diagnostics.findings import Diagnostic, Position, Range, Report, TextEdit
from deepeval_lsp.diagnostics.options import CheckOptions

if TYPE_CHECKING:
    from deepeval_lsp.diagnostics.text import SourceText

NOTEBOOK_SUFFIX = ".ipynb"
# a notebook's file holds its outputs too (images, tables): its code is what the usual limit is on
MAX_NOTEBOOK_BYTES = 50_000_000
# cell magics whose body is Python that IPython runs as written
PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun"})
# names IPython defines in a notebook's namespace: no "is not defined" for them
IPYTHON_NAMES = frozenset(
    {"get_ipython", "display", "In", "Out", "_", "__", "___", "_i", "_ii", "_iii", "_oh", "_dh"}
)
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
_SHIFTED_MAGIC = re.compile(r"%(?:time|timeit)[ \t]+(?=[^-\s])")
_ASSIGNED_MAGIC = re.compile(r"([A-Za-z_][\w.,\[\] \t]*?)[ \t]*=[ \t]*[!%]")


def is_notebook(path: str | Path) -> bool:
    return str(path).endswith(NOTEBOOK_SUFFIX)


@dataclass(frozen=True)
class Cell:
    """One cell: its position among all cells, its type, its text, and where its `source`
    value lies in the file's text (character offsets)."""

    index: int
    cell_type: str
    text: str
    span: tuple[int, int]


@dataclass(frozen=True)
class ProgramLine:
    """Where a program line comes from: cell, line in that cell, and the characters left out at
    the line's indentation (`%time ` before a kept statement)."""

    cell: int
    line: int
    indent: int = 0
    shift: int = 0


@dataclass(frozen=True)
class Notebook:
    """A notebook's file text, its cells, and the program its code cells make."""

    path: str
    text: str
    cells: tuple[Cell, ...]
    program: str
    lines: tuple[ProgramLine, ...]
    blanked: frozenset[int]  # program lines that stand for IPython syntax

    # -- positions ---------------------------------------------------------------------------

    def to_cell(self, pos: Position) -> tuple[int, Position]:
        """A program position as (cell index, position in the cell)."""
        if not self.lines:
            return 0, Position(0, 0)
        if pos.line >= len(self.lines):  # past the end: the end of the last code cell
            last = self.lines[-1]
            return last.cell, Position(last.line, len(_lines(self.cells[last.cell].text)[-1]))
        at = self.lines[pos.line]
        col = pos.character + at.shift if pos.character >= at.indent else pos.character
        return at.cell, Position(at.line, col)

    def from_cell(self, cell: int, pos: Position) -> Position | None:
        """A position in a cell as a program position; None where the cell is not in the
        program (not a code cell, or past its last line)."""
        for n, at in enumerate(self.lines):
            if at.cell == cell and at.line == pos.line:
                col = pos.character
                if at.shift and col >= at.indent + at.shift:
                    col -= at.shift
                elif at.shift and col > at.indent:
                    col = at.indent
                return Position(n, col)
        return None

    def cell_range(self, rng: Range) -> tuple[int, Range]:
        """A program range in the cell of its start; an end in a later cell is clamped to the end
        of that cell."""
        cell, start = self.to_cell(rng.start)
        end_cell, end = self.to_cell(rng.end)
        if end_cell != cell:
            end = _end_of(self.cells[cell].text)
        return cell, Range(start, end)

    def said_in_cells(self, message: str) -> str:
        """`message` with each "(line N)" of the checked program (a variable's binding, a
        call) said where it is in the notebook: "(cell C, line L)"."""

        def in_cell(m: re.Match[str]) -> str:
            cell, pos = self.to_cell(Position(int(m.group(1)) - 1, 0))
            return f"(cell {cell + 1}, line {pos.line + 1})"

        return _PROGRAM_LINE.sub(in_cell, message)

    def cell_line(self, cell: int, line: int) -> str:
        """A line of a cell, without its line break."""
        lines = _lines(self.cells[cell].text)
        return lines[line].rstrip("\r\n") if 0 <= line < len(lines) else ""

    # -- cells that are not Python -------------------------------------------------------------

    @cached_property
    def broken(self) -> tuple[tuple[int, Diagnostic], ...]:
        """The code cells that do not parse, each with its syntax finding (program positions).
        IPython compiles each cell on its own, so one cell's error says nothing of the others."""
        from deepeval_lsp.diagnostics.static.run import parse

        if parse(self.program, self.path)[0] is not None:
            return ()
        program = _lines(self.program)
        out = []
        for cell in sorted({at.cell for at in self.lines}):
            # the cell alone, at its own lines: the finding's positions are the program's
            alone = "".join(
                x if at.cell == cell else "\n" for x, at in zip(program, self.lines, strict=True)
            )
            tree, syntax, _ = parse(alone, self.path)
            if tree is None and syntax is not None:
                out.append((cell, syntax))
        return tuple(out)

    def note_parsed(self) -> None:
        """Say that the program parsed as a whole (a checker parsed it): no cell is left out,
        and `broken` does not parse it again."""
        self.__dict__.setdefault("broken", ())

    @cached_property
    def checked_program(self) -> str:
        """The program the checkers see: the cells that do not parse left out (their lines
        blank), so that the others are still checked."""
        if not self.broken:
            return self.program
        left_out = {cell for cell, _ in self.broken}
        program = _lines(self.program)
        return "".join(
            "\n" if at.cell in left_out else x for x, at in zip(program, self.lines, strict=True)
        )

    def text_of(self, rng: Range) -> str:
        """The checked program's text in a range on one line."""
        return self._line_table.line(rng.start.line)[rng.start.character : rng.end.character]

    @cached_property
    def _line_table(self) -> SourceText:  # only when a finding asks for it: it costs
        from deepeval_lsp.diagnostics.text import SourceText

        return SourceText(self.checked_program)

    # -- edits -------------------------------------------------------------------------------

    def cell_edits(self, edits: tuple[TextEdit, ...]) -> dict[int, list[TextEdit]] | None:
        """Program edits as edits of cells, or None when one of them cannot be made in one cell
        (it spans cells or changes IPython syntax, which the program does not hold)."""
        out: dict[int, list[TextEdit]] = {}
        for e in edits:
            cell, start = self.to_cell(e.range.start)
            end_cell, end = self.to_cell(e.range.end)
            new_text = e.new_text
            if end_cell != cell:
                # an edit that takes a cell's last line with the break between cells ends at
                # the start of the next code cell: it ends with its own cell
                if end != Position(0, 0) or end_cell not in self._next_code(cell):
                    return None
                end = _end_of(self.cells[cell].text)
                if not self.cells[cell].text.endswith(("\n", "\r")) and new_text.endswith("\n"):
                    new_text = new_text[:-1]
            touched = range(e.range.start.line, e.range.end.line + 1)
            at_start = e.range.start == e.range.end and e.range.start.character == 0
            if not at_start and any(i in self.blanked for i in touched):
                return None
            out.setdefault(cell, []).append(TextEdit(Range(start, end), new_text))
        return out

    def _next_code(self, cell: int) -> tuple[int, ...]:
        later = [c.index for c in self.cells[cell + 1 :] if c.cell_type == "code" and c.text]
        return tuple(later[:1])

    def with_sources(self, sources: dict[int, str]) -> Notebook:
        """This notebook with these cells' sources replaced, the rest of the file as it was."""
        text = self.text
        for index in sorted(sources, reverse=True):  # from the end: earlier spans stay put
            cell = self.cells[index]
            start, end = cell.span
            text = text[:start] + _source_value(text, cell, sources[index]) + text[end:]
        return parse_notebook(text, self.path)


def _lines(text: str) -> list[str]:
    return _LINE.findall(text) or [""]


def _end_of(text: str) -> Position:
    lines = _LINE.findall(text)
    if not lines:
        return Position(0, 0)
    if lines[-1].endswith(("\n", "\r")):
        return Position(len(lines), 0)
    return Position(len(lines) - 1, len(lines[-1]))


# -- reading -----------------------------------------------------------------------------------


def read_notebook(path: str | Path) -> Notebook:
    """Read a notebook file, or raise UncheckableFile with one line for the user."""
    return checkable_notebook(read_source(path, MAX_NOTEBOOK_BYTES), str(path))


def checkable_notebook(text: str, path: str = "") -> Notebook:
    """The notebook in `text`, or UncheckableFile when it is no notebook or its code is over the
    size a file may have (its outputs do not count)."""
    notebook = parse_notebook(text, path)
    size = len(notebook.program.encode("utf-8", "surrogatepass"))
    if size > MAX_FILE_BYTES:
        raise too_large(size, MAX_FILE_BYTES, "the notebook's code is")
    return notebook


def parse_notebook(text: str, path: str = "") -> Notebook:
    """The notebook in `text` (nbformat 4 JSON), or UncheckableFile saying what is wrong."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise UncheckableFile(
            f"not a valid notebook: invalid JSON at line {e.lineno} column {e.colno}: {e.msg}"
        ) from None
    except RecursionError:
        raise UncheckableFile("not a valid notebook: JSON nested too deeply") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("cells"), list):
        raise UncheckableFile("not a valid notebook: no list of cells (nbformat 4 expected)")
    major = doc.get("nbformat")
    if major is not None and major != 4:
        raise UncheckableFile(f"unsupported notebook format {major} (nbformat 4 expected)")
    spans = _source_spans(text)
    cells: list[Cell] = []
    for i, raw in enumerate(doc["cells"]):
        if not isinstance(raw, dict) or not isinstance(raw.get("cell_type"), str):
            raise UncheckableFile(f"not a valid notebook: cell {i + 1} has no cell_type")
        source = raw.get("source", "")
        if isinstance(source, list) and all(isinstance(s, str) for s in source):
            source = "".join(source)
        if not isinstance(source, str):
            raise UncheckableFile(
                f"not a valid notebook: the source of cell {i + 1} is not text or a list of lines"
            )
        cells.append(Cell(i, raw["cell_type"], source, spans.get(i, (-1, -1))))
    program, lines, blanked = _program(cells)
    return Notebook(path, text, tuple(cells), program, lines, blanked)


def notebook_of_cells(sources: list[str], path: str = "") -> Notebook:
    """The notebook of these code cells' texts, in order, with no file behind it (an editor's
    open notebook): its program and line map; cells are numbered as given."""
    cells = [Cell(i, "code", text, (-1, -1)) for i, text in enumerate(sources)]
    program, lines, blanked = _program(cells)
    return Notebook(path, "", tuple(cells), program, lines, blanked)


# -- the program -------------------------------------------------------------------------------


def _program(cells: list[Cell]) -> tuple[str, tuple[ProgramLine, ...], frozenset[int]]:
    parts: list[str] = []
    where: list[ProgramLine] = []
    blanked: set[int] = set()
    for cell in cells:
        if cell.cell_type != "code" or not cell.text:
            continue
        for n, (line, origin, is_blank) in enumerate(_cell_program(cell.text)):
            if is_blank:
                blanked.add(len(where))
            where.append(ProgramLine(cell.index, n, *origin))
            parts.append(line)
        if not parts[-1].endswith(("\n", "\r")):
            parts[-1] += "\n"  # the next cell starts on a line of its own
    return "".join(parts), tuple(where), frozenset(blanked)


def _cell_program(text: str) -> list[tuple[str, tuple[int, int], bool]]:
    """Each line of a cell as the program holds it: (text, (indent, shift), blanked)."""
    lines = _LINE.findall(text)
    out: list[tuple[str, tuple[int, int], bool]] = []
    first = next((i for i, x in enumerate(lines) if x.strip()), None)
    start = 0
    if first is not None and lines[first].lstrip().startswith("%%"):
        name = lines[first].lstrip()[2:].split(maxsplit=1)
        whole = not name or name[0] not in PYTHON_CELL_MAGICS
        stop = len(lines) if whole else first + 1
        out = [(_ending(x), (0, 0), bool(x.strip())) for x in lines[:stop]]
        start = stop
    quote: str | None = None
    depth = 0
    continued = magic_continues = False
    for raw in lines[start:]:
        body = raw.rstrip("\r\n")
        ending = raw[len(body) :]
        if magic_continues:  # a magic's backslash-continued line is the magic's
            magic_continues = body.endswith("\\")
            out.append((" " * _indent(body) + "pass" + ending, (0, 0), True))
            continue
        if quote is None and depth == 0 and not continued:
            blank = _ipython_line(body)
            if blank is not None:
                out.append((blank[0] + ending, blank[1], blank[1] == (0, 0)))
                magic_continues = body.endswith("\\")
                continue
        quote, depth, continued, _ = _scan(body, quote, depth)
        out.append((raw, (0, 0), False))
    return out


def _ending(line: str) -> str:
    return line[len(line.rstrip("\r\n")) :]


def _indent(body: str) -> int:
    return len(body) - len(body.lstrip(" \t"))


def _ipython_line(body: str) -> tuple[str, tuple[int, int]] | None:
    """The Python that stands for a logical line of IPython syntax, and its (indent, shift);
    None for a line of Python."""
    n = _indent(body)
    indent, stripped = body[:n], body[n:]
    if stripped.startswith(("%", "!")):
        kept = _SHIFTED_MAGIC.match(stripped)
        if kept:
            return indent + stripped[kept.end() :], (n, kept.end())
        return indent + "pass", (0, 0)
    if "?" in stripped:  # help syntax: `?obj`, `obj?` (the line scanned only when it may be)
        _, _, _, comment = _scan(body, None, 0)
        if stripped.startswith("?") or body[:comment].rstrip().endswith("?"):
            return indent + "pass", (0, 0)
    assigned = ("!" in stripped or "%" in stripped) and _ASSIGNED_MAGIC.match(stripped)
    if assigned:
        return f"{indent}{assigned.group(1)} = None", (0, 0)
    return None


# the characters that change the lexical state, outside a string and within one
_OUTSIDE_STRING = re.compile(r"[#\"'()\[\]{}]")
_IN_STRING = {q: re.compile(r"\\|" + re.escape(q)) for q in ('"', "'", '"""', "'''")}


def _scan(body: str, quote: str | None, depth: int) -> tuple[str | None, int, bool, int]:
    """Python's lexical state after a line: the open string's quote, the bracket depth, whether
    a backslash continues the line, and where a comment starts (or the line's length)."""
    i, comment = 0, len(body)
    while i < len(body):
        if quote is not None:  # to the string's end, past escaped characters
            m = _IN_STRING[quote].search(body, i)
            if m is None:
                break
            i = m.start() + 2 if m.group() == "\\" else m.end()
            if m.group() == quote:
                quote = None
            continue
        m = _OUTSIDE_STRING.search(body, i)
        if m is None:
            break
        i, ch = m.start(), m.group()
        if ch == "#":
            comment = i
            break
        if ch in "\"'":
            quote = body[i : i + 3] if body[i : i + 3] in ('"""', "'''") else ch
            i += len(quote)
            continue
        if ch in "([{":
            depth += 1
        else:
            depth = max(0, depth - 1)
        i += 1
    continued = comment == len(body) and body.endswith("\\")
    if quote in ("'", '"') and not body.endswith("\\"):
        quote = None  # an unclosed one-line string ends with its line (a syntax error)
    return quote, depth, continued, comment


# -- where the cells' sources lie in the file ------------------------------------------------------

_WS = re.compile(r"[ \t\n\r]*")
_SCAN = json.JSONDecoder().scan_once


def _skip(text: str, i: int) -> int:
    return _WS.match(text, i).end()  # type: ignore[union-attr]


def _members(text: str, i: int):
    """(key, value start, value end) of the JSON object at `i` (the text is valid JSON)."""
    i = _skip(text, i + 1)
    if text[i] == "}":
        return
    while True:
        key, i = _SCAN(text, i)
        i = _skip(text, _skip(text, i) + 1)  # past the colon
        start = i
        end = _value_end(text, i)
        yield key, start, end
        i = _skip(text, end)
        if text[i] == "}":
            return
        i = _skip(text, i + 1)


def _value_end(text: str, i: int) -> int:
    return _SCAN(text, i)[1]


def _source_spans(text: str) -> dict[int, tuple[int, int]]:
    """Where each cell's `source` value lies (the last one, as json.loads takes the last)."""
    spans: dict[int, tuple[int, int]] = {}
    for key, start, _ in _members(text, _skip(text, 0)):
        if key != "cells":
            continue
        spans = {}
        i = _skip(text, start + 1)
        index = 0
        while text[i] != "]":
            for cell_key, s, e in _members(text, i):
                if cell_key == "source":
                    spans[index] = (s, e)
            i = _skip(text, _value_end(text, i))
            index += 1
            if text[i] == ",":
                i = _skip(text, i + 1)
    return spans


def _source_value(text: str, cell: Cell, source: str) -> str:
    """The JSON for a cell's new source, written as its old one was (a string, or a list of
    lines laid out as the old list was)."""
    start, end = cell.span
    old = text[start:end]
    ascii_only = text.isascii() and "\\u" in text

    def dump(s: str) -> str:
        return json.dumps(s, ensure_ascii=ascii_only)

    if not old.startswith("["):
        return dump(source)
    lines = source.splitlines(keepends=True)  # as nbformat splits a cell's source
    if not lines:
        return "[]"
    inner = old[1:-1]
    if inner.strip():
        before = inner[: len(inner) - len(inner.lstrip())]
        after = inner[len(inner.rstrip()) :]
    else:  # an empty list: lay it out one level deeper than the "source" key
        line_start = text.rfind("\n", 0, start) + 1
        key_indent = _indent(text[line_start:start])
        cell_start = text.rfind("{", 0, start)
        cell_line = text.rfind("\n", 0, cell_start) + 1
        step = max(1, key_indent - _indent(text[cell_line:cell_start]))
        newline = "\r\n" if "\r\n" in text else "\n"
        before = newline + " " * (key_indent + step)
        after = newline + " " * key_indent
    return "[" + before + ("," + before).join(dump(x) for x in lines) + after + "]"


# -- findings ----------------------------------------------------------------------------------


def drop_ipython_names(report: Report, notebook: Notebook) -> Report:
    """The report without "is not defined" for the names IPython defines in every notebook, nor
    "no module named" for IPython itself, which runs every notebook."""

    def ipython_name(d: Diagnostic) -> bool:
        if d.code not in ("DL004", "DL102") or d.range.start.line != d.range.end.line:
            return False
        name = notebook.text_of(d.range)
        if d.code == "DL102" and d.source_pass == "static":
            return name.split(".")[0] == "IPython"
        return d.code == "DL004" and name in IPYTHON_NAMES

    report.diagnostics = [d for d in report.diagnostics if not ipython_name(d)]
    return report


def _in_cells(d: Diagnostic, notebook: Notebook) -> Diagnostic:
    """`d` with the program lines its messages name said as cells and lines."""
    message = notebook.said_in_cells(d.message)
    related = tuple(
        dataclasses.replace(r, message=notebook.said_in_cells(r.message))
        if r.path == notebook.path
        else r
        for r in d.related
    )
    if message == d.message and related == d.related:
        return d
    return dataclasses.replace(d, message=message, related=related)


def checked_options(notebook: Notebook, options: CheckOptions) -> CheckOptions:
    """The options for a notebook's checked program: without a cell that does not parse, the
    program is not the notebook's, so only the static pass runs on it."""
    if not notebook.broken:
        return options
    return dataclasses.replace(options, dynamic=False, semantic=False)


def notebook_report(
    report: Report, notebook: Notebook, options: CheckOptions | None = None
) -> Report:
    """The report of a notebook's checked program made the notebook's: IPython's names defined,
    each cell that does not parse reported at its error, a name such a cell may define used in
    a later cell only noted (nothing can tell whether the cell defines it), and the passes that
    did not run because of it saying why."""
    drop_ipython_names(report, notebook)
    report.diagnostics = [_in_cells(d, notebook) for d in report.diagnostics]
    report.notes = [notebook.said_in_cells(n) for n in report.notes]
    if not notebook.broken:
        return report
    cells = [cell for cell, _ in notebook.broken]
    one = len(cells) == 1
    which = ("cell " if one else "cells ") + ", ".join(str(c + 1) for c in cells)
    reason = f"{which} {'has a syntax error' if one else 'have syntax errors'}"
    does_not, defines = ("does not", "defines") if one else ("do not", "define")
    first_line = min(n for n, at in enumerate(notebook.lines) if at.cell in cells)
    names = set(_NAME.findall("".join(notebook.cells[c].text for c in cells)))
    out = [d for _, d in notebook.broken if options is None or options.wants(d.code)]
    for d in report.diagnostics:
        r = d.range
        if (
            d.code == T.UNDEFINED_VARIABLE
            and r.start.line > first_line
            and r.start.line == r.end.line
            and notebook.text_of(r) in names
        ):
            d = dataclasses.replace(
                d,
                severity=T.Severity.INFORMATION,
                message=f"{d.message} (unless {which}, which {does_not} parse, {defines} it)",
            )
        out.append(d)
    report.diagnostics = sorted(out, key=lambda d: (d.range.start, d.code))
    report.passes["dynamic"] = f"not run: {reason}"
    report.notes = [n for n in report.notes if not n.startswith("dynamic checks did not run")]
    report.notes.append(f"dynamic checks did not run: {reason}")
    if options is not None and options.semantic:
        report.passes["semantic"] = f"not run: {reason}"
    return report


_NAME = re.compile(r"[A-Za-z_]\w*")
_PROGRAM_LINE = re.compile(r"\(line (\d+)\)")
