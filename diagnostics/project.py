"""Where a checked file sits in its project: its package, its dotted module name, and the folders
its imports resolve from when the user runs it.

One rule for both passes (the static pass resolves `from .parts import Block` with it, the dynamic
pass runs the file as a module of its package with it) and for the sandbox's read list:

- the package chain: from the file's folder upward, each folder that holds an `__init__.py`
  (and whose name is an identifier, so that it can be imported);
- the package root: the folder just above that chain (the file's own folder when there is none);
- the module's dotted name: the chain's names and the file's stem (`models.detr`), the package
  itself for an `__init__.py` (`pkg.sub`); `__package__` is the name without its last part
  (`models`), the package itself for an `__init__.py`, "" for a top-level module;
- the import roots a user's run has: the package root (where `python -m models.detr` runs, or
  the file's folder for `python train.py`), the project root when the file lies under it (the
  command line's working directory or `--project-root`, the editor's workspace), and, inside a
  package, the file's own folder (where `python models/detr.py` would have looked).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# Never a project root by default: reading all of one of these would read far beyond a project.
_TOO_WIDE = frozenset({"/", "/tmp", "/home", "/root", os.path.expanduser("~")})


@dataclass(frozen=True)
class ModuleSite:
    """A file's place among the modules of its project."""

    file: Path  # resolved
    package_root: Path  # the folder above the package chain
    module: str  # the dotted name it imports as from the package root
    package: str  # its `__package__`: "" outside any package
    import_roots: tuple[Path, ...]  # in the order a user's run searches them


def _is_package(folder: Path) -> bool:
    return folder.name.isidentifier() and (folder / "__init__.py").is_file()


def package_chain(file: Path) -> list[Path]:
    """The package folders holding `file`, innermost first ([] for a top-level module)."""
    chain: list[Path] = []
    folder = file.parent
    while _is_package(folder) and folder.parent != folder:
        chain.append(folder)
        folder = folder.parent
    return chain


def _under(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def locate(path: str | os.PathLike[str], project_root: str | None = None) -> ModuleSite:
    """The site of the file at `path`; `project_root` counts only when the file lies under it.
    A file not yet written sits in its folder as one that is; a path whose folder does not exist
    (an untitled buffer) has no package and only the project root."""
    file = Path(path).resolve()
    root = Path(project_root).resolve() if project_root else None
    if root is not None and not (root.is_dir() and _under(file, root)):
        root = None
    if not file.parent.is_dir():
        return ModuleSite(file, file.parent, file.stem, "", (root,) if root else ())
    chain = package_chain(file)
    package_root = chain[-1].parent if chain else file.parent
    names = [p.name for p in reversed(chain)]
    if file.name == "__init__.py" and chain:
        module = package = ".".join(names)
    else:
        module = ".".join([*names, file.stem])
        package = ".".join(names)
    roots: list[Path] = []
    for r in (package_root, root, file.parent):
        if r is not None and r not in roots:
            roots.append(r)
    return ModuleSite(file, package_root, module, package, tuple(roots))


def absolute_name(site: ModuleSite, level: int, module: str | None) -> str | None:
    """The module `from <level dots><module> import …` names in the file of `site`, or None when
    it reaches above the file's package (or the file is in none): Python refuses it there."""
    if level <= 0:
        return module
    parts = site.package.split(".") if site.package else []
    if level > len(parts):
        return None
    base = parts[: len(parts) - level + 1]
    return ".".join([*base, *(module.split(".") if module else [])])


def import_roots(path: str | os.PathLike[str], project_root: str | None = None) -> list[Path]:
    """The folders `import x` in the file at `path` searches, in order (see `locate`)."""
    return list(locate(path, project_root).import_roots)


def too_wide(folder: str) -> bool:
    """Is `folder` too wide to be read as a project (the file system's root, a home, /tmp)?"""
    return os.path.realpath(folder) in _TOO_WIDE


def default_project_root(cwd: str | None = None) -> str | None:
    """The command line's project root when none is given: its working directory, unless that is
    a folder too wide to be a project (the file system's root, a home, /tmp)."""
    here = os.path.realpath(cwd or os.getcwd())
    return None if too_wide(here) else here


def read_roots(paths: Iterable[str | os.PathLike[str]], project_root: str | None) -> list[str]:
    """Every import root of the files at `paths`: what the sandbox lets their checks read."""
    found: set[str] = set()
    for p in paths:
        found.update(str(r) for r in locate(p, project_root).import_roots)
    return sorted(found)


_SKIPPED_DIRS = frozenset({"node_modules", "site-packages", "__pycache__", "build", "dist"})


def found_elsewhere(
    path: str | os.PathLike[str], project_root: str | None, top: str, depth: int = 4
) -> Path | None:
    """A module `top` (a `top.py` or a `top/` package) somewhere in the project tree, not on
    the file's import path: a sibling tree run from its own folder (`object_detection/`'s
    `mmcv_custom`). The nearest one beside a folder above the file first, then any within
    `depth` folders of the root; None when there is none."""
    if not project_root or not top.isidentifier():
        return None
    root = Path(project_root).resolve()
    folder = Path(path).resolve().parent
    while _under(folder, root):
        for candidate in (folder / f"{top}.py", folder / top / "__init__.py"):
            if candidate.is_file():
                return candidate if candidate.name != "__init__.py" else candidate.parent
        if folder == root:
            break
        folder = folder.parent
    return _found_elsewhere(str(root), top, depth)


@functools.lru_cache(maxsize=512)
def _found_elsewhere(root: str, top: str, depth: int) -> Path | None:
    level = [Path(root)]
    for _ in range(depth):
        below: list[Path] = []
        for folder in level:
            try:
                entries = sorted(os.scandir(folder), key=lambda e: e.name)
            except OSError:
                continue
            for e in entries:
                if e.name.startswith(".") or e.name in _SKIPPED_DIRS:
                    continue
                if e.name == f"{top}.py" and e.is_file(follow_symlinks=False):
                    return Path(e.path)
                if e.is_dir(follow_symlinks=False):
                    if e.name == top and os.path.isfile(os.path.join(e.path, "__init__.py")):
                        return Path(e.path)
                    if not os.path.isfile(os.path.join(e.path, "pyvenv.cfg")):
                        below.append(Path(e.path))
        level = below
    return None
