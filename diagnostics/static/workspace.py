"""The user's own modules: is `import helpers` (or `from .parts import Block`) a module of theirs,
and what does it define?

Names in the user's modules are read with jedi, which parses (never imports) them, so checking
`from helpers import Block` runs none of the user's code. Results are cached per file and mtime.
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from pathlib import Path

from deepeval_lsp.diagnostics import project


def _find(root: Path, parts: list[str]) -> Path | None:
    base = root.joinpath(*parts)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    if base.is_dir():  # a namespace package
        return base
    if _compiled(base.parent, base.name):
        return base.parent  # a compiled module: a folder, so its names are not read
    return None


def _compiled(folder: Path, name: str) -> bool:
    """Whether `folder` holds an extension module `name` (name.so, name.cpython-311-….so, .pyd):
    one listing, where a glob per suffix walked the folder four times for every import."""
    try:
        entries = os.listdir(folder)
    except OSError:
        return False
    prefix = f"{name}."
    return any(e.startswith(prefix) and e.endswith((".so", ".pyd")) for e in entries)


def local_module_file(
    path: str, workspace_root: str | None, module: str, level: int = 0
) -> Path | None:
    """The file that `import module` (`from .module import …` with `level` dots) in the file at
    `path` finds among the user's own modules: beside it, in its package, at the project root
    (project.locate). None when it is none of theirs, or the relative import cannot resolve."""
    site = project.locate(path, workspace_root)
    name = project.absolute_name(site, level, module)
    if not name:
        return None
    roots = (site.package_root,) if level else site.import_roots
    for root in roots:
        found = _find(root, name.split("."))
        if found is not None:
            return found
    return None


def local_module_names(path: str, workspace_root: str | None, top: str) -> bool:
    """Is the top-level module `top` one of the user's own (a file or folder on its import
    roots)?"""
    return local_module_file(path, workspace_root, top) is not None


def defined_names(module_file: Path) -> frozenset[str] | None:
    """Top-level names a user module defines, or None when that cannot be known statically."""
    if module_file.is_dir():
        return None
    try:
        mtime = os.stat(module_file).st_mtime_ns
    except OSError:
        return None
    return _defined_names(str(module_file), mtime)


_JEDI = threading.Lock()  # jedi is not thread-safe; the server checks on two threads


@lru_cache(maxsize=256)
def _defined_names(module_file: str, mtime: int) -> frozenset[str] | None:
    import jedi

    try:
        source = Path(module_file).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    if "import *" in source or "__getattr__" in source or "globals()" in source:
        return None
    with _JEDI:
        script = jedi.Script(source, path=module_file)
        names = script.get_names(all_scopes=False, definitions=True, references=False)
        return frozenset(n.name for n in names)
