"""The user's own modules: is `import helpers` a file beside this one, and what does it define?

Names in the user's modules are read with jedi, which parses (never imports) them, so checking
`from helpers import Block` runs none of the user's code. Results are cached per file and mtime.
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from pathlib import Path


def _roots(path: str, workspace_root: str | None) -> list[Path]:
    roots = [Path(path).resolve().parent]
    if workspace_root:
        roots.append(Path(workspace_root).resolve())
    return roots


def local_module_file(path: str, workspace_root: str | None, module: str) -> Path | None:
    """The file that `import module` would find beside `path` or at the workspace root."""
    parts = module.split(".")
    for root in _roots(path, workspace_root):
        base = root.joinpath(*parts)
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if candidate.is_file():
                return candidate
        if base.is_dir():  # a namespace package
            return base
    return None


def local_module_names(path: str, workspace_root: str | None, top: str) -> bool:
    """Is the top-level module `top` one of the user's own (a file or folder beside the file)?"""
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
