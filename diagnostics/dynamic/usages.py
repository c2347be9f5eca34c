"""How a project's README shows its models being built, for the dynamic pass.

A library's model class often needs arguments that nothing in its own file gives (`Unet(dim)`,
`TransformerWrapper(num_tokens, max_seq_len, attn_layers)`), and its README's usage section shows
the call a user makes. Here, in the parent, each README.md from the file's folder up to the
project root is read as Markdown, its ```python blocks parsed (never run), and every call of a
class or function the checked file defines at top level is kept with the simple assignments
before it in its block (`model = Unet(dim = 64)` before `GaussianDiffusion(model, …)`), as text.
The sandboxed child evaluates them as it evaluates the program's own calls (entry_point.py).
"""

from __future__ import annotations

import ast
import functools
import re
import stat
from pathlib import Path

from deepeval_lsp.diagnostics.dynamic.wire import UsageRecord

README = "README.md"
MAX_README_BYTES = 1 << 20
MAX_USAGES = 24
MAX_CALL_CHARS = 4000
_FENCE = re.compile(r"^(\s*)(```+|~~~+)\s*(\w*)[^\n]*$")
_PYTHON = {"python", "py", "python3", ""}


def readme_usages(file: Path, root: Path | None, tree: ast.Module | None) -> list[UsageRecord]:
    """The calls of `file`'s own top-level classes and functions in the READMEs of its folder
    and the folders above it up to `root` (the nearest README first)."""
    if tree is None:
        return []
    names = {s.name for s in tree.body if isinstance(s, ast.ClassDef | ast.FunctionDef)}
    if not names:
        return []
    out: list[UsageRecord] = []
    for folder in _folders(file.parent, root):
        readme = folder / README
        try:
            st = readme.stat()
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode) and st.st_size <= MAX_README_BYTES:
            out += _readme_calls(str(readme), st.st_mtime_ns, st.st_size, frozenset(names))
        if len(out) >= MAX_USAGES:
            return out[:MAX_USAGES]
    return out


@functools.lru_cache(maxsize=64)
def _readme_calls(
    readme: str, mtime_ns: int, size: int, names: frozenset[str]
) -> list[UsageRecord]:
    """The calls of `names` in a README (as it was at that time and size: an editor checks
    again and again while the README stays as it is). Callers copy what they change."""
    try:
        text = Path(readme).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    out: list[UsageRecord] = []
    for first_line, block in code_blocks(text):
        out += _calls_in(block, first_line, set(names), readme)
    return out


def _folders(start: Path, root: Path | None) -> list[Path]:
    folders = [start]
    if root is None:
        return folders
    here = start
    while here != root and root in here.parents and len(folders) < 8:
        here = here.parent
        folders.append(here)
    return folders


def code_blocks(markdown: str) -> list[tuple[int, str]]:
    """The Python code blocks of a Markdown text: (the 1-based line of the block's first line,
    its text). A block marked with another language is not Python; an unmarked one may be."""
    blocks: list[tuple[int, str]] = []
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if m is None:
            i += 1
            continue
        indent, fence, lang = len(m.group(1)), m.group(2), m.group(3).lower()
        body: list[str] = []
        j = i + 1
        while j < len(lines) and not lines[j].strip().startswith(fence):
            body.append(lines[j][indent:] if lines[j][:indent].isspace() else lines[j])
            j += 1
        if lang in _PYTHON:
            blocks.append((i + 2, "\n".join(body)))
        i = j + 1
    return blocks


def _calls_in(block: str, first_line: int, names: set[str], readme: str) -> list[UsageRecord]:
    try:
        tree = ast.parse(block)
    except (SyntaxError, ValueError, RecursionError):
        return []
    out: list[UsageRecord] = []
    assignments: list[str] = []
    targets: list[str | None] = []
    for stmt in tree.body:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Call) and _callee(node) in names:
                call = ast.get_source_segment(block, node) or ""
                if 0 < len(call) <= MAX_CALL_CHARS:
                    out.append(
                        {
                            "file": readme,
                            "line": first_line + node.lineno - 1,
                            "callee": _callee(node) or "",
                            "call": call,
                            "assignments": list(assignments),
                            "part": False,
                        }
                    )
                    targets.append(_target(stmt))
                break  # the outermost call of the statement: its arguments are part of it
        if (
            isinstance(stmt, ast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name)
        ):
            text = ast.get_source_segment(block, stmt)
            if text is not None and len(text) <= MAX_CALL_CHARS:
                assignments.append(text)
    # A call whose result a later call takes (`decoder` in `Wrapper(attn_layers = decoder)`)
    # builds a part of the README's model, not the model.
    for i, (usage, target) in enumerate(zip(out, targets, strict=True)):
        usage["part"] = target is not None and any(
            target in _names(u["call"]) for u in out[i + 1 :]
        )
    return out


def _names(code: str) -> set[str]:
    try:
        return {n.id for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Name)}
    except (SyntaxError, ValueError, RecursionError):
        return set()


def _target(stmt: ast.stmt) -> str | None:
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
        t = stmt.targets[0]
        return t.id if isinstance(t, ast.Name) else None
    return None


def _callee(call: ast.Call) -> str | None:
    f = call.func
    if isinstance(f, ast.Name):
        return f.id
    if isinstance(f, ast.Attribute):  # `x_transformers.TransformerWrapper(…)`
        return f.attr
    return None
