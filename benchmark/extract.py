"""Pull the program out of a chat answer: fenced blocks, several blocks, or code in prose.

Models answer in many shapes: one ```python fence; a fence per step that together form the
program; a fence with a stray language tag or none; an unterminated fence at the end of a
truncated answer; bare code with a sentence before and after; or a Jupyter notebook (its JSON
document, bare or in a fence). The rules, in order:

0. A notebook (nbformat 4 JSON: the whole answer, a fenced block, or a `{…}` between prose
   lines) stands for the program of its code cells, in order, IPython's own syntax blanked as
   `check` reads an .ipynb file; a fenced notebook is one Python block among the others.
1. Fenced blocks (``` or ~~~, any info string). Blocks tagged as another language (bash, json,
   text, …) are dropped. Of the rest, when one block defines the entry point (`def dl_model`,
   an `nn.Module`/`keras.Model` subclass, a `Model(`/`Sequential(` construction), the answer is
   that block plus the earlier blocks it builds on (imports, helpers); otherwise the longest
   block that parses. Blocks that are only usage examples after the definition are left out.
2. No fence: the longest run of lines that parses as Python and contains a statement, with
   leading and trailing prose lines trimmed.
3. Nothing that looks like Python: the empty string (the sample is "empty", not valid).
"""

from __future__ import annotations

import ast
import re

from deepeval_lsp.diagnostics.files import UncheckableFile
from deepeval_lsp.diagnostics.notebook import parse_notebook
from deepeval_lsp.diagnostics.text import parse_python

_FENCE = re.compile(r"^(?P<indent>[ \t]{0,3})(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\n`]*)$")
_PY_TAGS = {"", "python", "py", "python3", "py3", "ipython", "python3.10", "python3.11", "pycon"}
_ENTRY = re.compile(
    r"^\s*def\s+dl_model\s*\(|^\s*class\s+\w+\s*\([^)]*(Module|Model|Layer)\b"
    r"|\b(Model|Sequential)\s*\(",
    re.M,
)
# the tags a fenced notebook comes with
_NOTEBOOK_TAGS = {"", "json", "ipynb", "jupyter", "notebook"}
_USAGE_ONLY = re.compile(r"^\s*(model\s*=\s*dl_model\(\)|print\(|model\.summary\(\))", re.M)


def extract_code(answer: str | None) -> str:
    """The program in `answer` (a chat model's reply); '' when there is none."""
    if not answer or not answer.strip():
        return ""
    text = answer.replace("\r\n", "\n").replace("\r", "\n")
    program = _notebook_program(text)
    if program is not None:
        return _tidy(program)
    blocks = _fenced_blocks(text)
    if blocks is not None:
        blocks = [_as_python(info, body) for info, body in blocks]
        code = _choose_blocks(blocks)
        return _tidy(code)
    return _tidy(_code_in_prose(text))


def _notebook_program(text: str) -> str | None:
    """The program of the notebook the text is (or holds between prose lines); None when it
    holds none."""
    lines = text.split("\n")
    starts = [i for i, line in enumerate(lines) if line.startswith("{")]
    ends = [i for i, line in enumerate(lines) if line.rstrip().endswith("}")]
    if not starts or not ends or '"cells"' not in text:
        return None
    candidate = "\n".join(lines[starts[0] : ends[-1] + 1]).strip()
    try:
        return parse_notebook(candidate).program
    except UncheckableFile:
        return None


def _as_python(info: str, body: str) -> tuple[str, str]:
    """A fenced notebook as the Python block of its program; any other block as it is."""
    if info in _NOTEBOOK_TAGS and body.lstrip().startswith("{"):
        program = _notebook_program(body)
        if program is not None:
            return "python", program
    return info, body


def _fenced_blocks(text: str) -> list[tuple[str, str]] | None:
    """[(info, body)] of every fenced block; None when the text has no fence at all."""
    lines = text.split("\n")
    blocks: list[tuple[str, str]] = []
    i = 0
    seen_fence = False
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        seen_fence = True
        fence, info = m.group("fence"), m.group("info").strip().lower()
        body: list[str] = []
        i += 1
        while i < len(lines):
            close = _FENCE.match(lines[i])
            if (
                close
                and close.group("fence")[0] == fence[0]
                and len(close.group("fence")) >= len(fence)
                and not close.group("info").strip()
            ):
                break
            body.append(lines[i])
            i += 1
        # an unterminated fence (a truncated answer) runs to the end of the text
        blocks.append((info.split()[0] if info else "", "\n".join(body)))
        i += 1
    return blocks if seen_fence else None


def _choose_blocks(blocks: list[tuple[str, str]]) -> str:
    py = [body for info, body in blocks if info in _PY_TAGS and body.strip()]
    if not py:
        return ""
    parsed = [body for body in py if _parses(body)] or py
    entry_idx = [i for i, body in enumerate(parsed) if _ENTRY.search(body)]
    if not entry_idx:
        return max(parsed, key=len)
    last = entry_idx[-1]
    chosen = [parsed[last]]
    # earlier blocks the entry block builds on: imports and definitions it does not repeat
    for body in reversed(parsed[:last]):
        if _is_support(body) and body.strip() not in parsed[last]:
            chosen.insert(0, body)
    return "\n\n".join(chosen)


def _is_support(body: str) -> bool:
    """A block of imports, definitions and constants, not a usage example."""
    try:
        tree = parse_python(body)
    except SyntaxError:
        return False
    allowed = (
        ast.Import,
        ast.ImportFrom,
        ast.FunctionDef,
        ast.ClassDef,
        ast.Assign,
        ast.AnnAssign,
        ast.AsyncFunctionDef,
    )
    return (
        bool(tree.body)
        and all(isinstance(s, allowed) for s in tree.body)
        and not (
            _USAGE_ONLY.search(body)
            and not any(isinstance(s, ast.FunctionDef | ast.ClassDef) for s in tree.body)
        )
    )


def _parses(code: str) -> bool:
    try:
        parse_python(code)
    except (SyntaxError, ValueError):
        return False
    return True


def _looks_like_code(line: str) -> bool:
    s = line.strip()
    if not s:
        return False
    if s.startswith(
        (
            "#",
            "import ",
            "from ",
            "def ",
            "class ",
            "return",
            "@",
            "if ",
            "for ",
            "with ",
            "try:",
            "except",
            "else:",
            "elif ",
            "while ",
            ")",
            "]",
            "}",
        )
    ):
        return True
    return (
        bool(re.match(r"^[\w.\[\], ]+\s*[+\-*/]?=[^=]", s))
        or bool(re.match(r"^[\w.]+\(.*\)\s*$", s))
        or line.startswith((" ", "\t"))
    )


def _code_in_prose(text: str) -> str:
    lines = text.split("\n")
    best = ""
    i = 0
    while i < len(lines):
        if not _looks_like_code(lines[i]):
            i += 1
            continue
        j = i
        while j < len(lines) and (_looks_like_code(lines[j]) or not lines[j].strip()):
            j += 1
        candidate = "\n".join(lines[i:j]).strip("\n")
        # shrink from the end until it parses (a trailing prose line that looked like code)
        cand_lines = candidate.split("\n")
        while cand_lines and not _parses("\n".join(cand_lines)):
            cand_lines.pop()
        candidate = "\n".join(cand_lines)
        if candidate.strip() and _has_statement(candidate) and len(candidate) > len(best):
            best = candidate
        i = max(j, i + 1)
    return best


def _has_statement(code: str) -> bool:
    try:
        tree = parse_python(code)
    except SyntaxError:
        return False
    # a lone expression such as a word of prose ("Sure") is not a program
    return any(not isinstance(s, ast.Expr) for s in tree.body) or len(tree.body) > 1


def _tidy(code: str) -> str:
    code = code.strip("\n")
    return code + "\n" if code.strip() else ""
