"""The static checks on a parsed module: imports, names, members, call signatures, literal values.

Each check walks the tree once and reports every finding; fixes are attached as data. Framework
questions are answered by diagnostics.framework (the installed torch/keras, read from their API
surface on disk), names in the user's code by scope analysis (diagnostics.scopes) and, for the
user's own modules, by jedi (diagnostics.workspace).
"""

from __future__ import annotations

import ast
import dataclasses
import os
from collections.abc import Iterator
from pathlib import Path

from deepeval_lsp.diagnostics import framework as fw
from deepeval_lsp.diagnostics import project
from deepeval_lsp.diagnostics import taxonomy as T
from deepeval_lsp.diagnostics.findings import Diagnostic, Fix, Position, Range, Severity, TextEdit
from deepeval_lsp.diagnostics.options import CheckOptions
from deepeval_lsp.diagnostics.packages import REAL_PACKAGES, STUBBED_WHEN_MISSING
from deepeval_lsp.diagnostics.static.literal_values import check_values
from deepeval_lsp.diagnostics.static.missing_imports import (
    ImportContext,
    import_edit,
    suggest_import,
)
from deepeval_lsp.diagnostics.static.scopes import (
    BUILTIN_NAMES,
    ScopeInfo,
    Use,
    analyse,
    resolve_name,
    unbound_reads,
)
from deepeval_lsp.diagnostics.static.workspace import (
    defined_names,
    local_module_file,
    local_module_names,
)
from deepeval_lsp.diagnostics.text import SourceText

# Keyword arguments tf.keras (Keras 2) layers accepted that Keras 3 dropped; accepted in code
# that imports Keras through TensorFlow, which the study's environment ran as Keras 2.
_KERAS2_LAYER_KWARGS = frozenset(
    {"batch_input_shape", "batch_size", "weights", "input_dtype", "input_length", "dynamic"}
)
_MAX_REPORTS_PER_NAME = 20
_KERAS2_FILE_NOTE = (
    " (this file uses Keras 2 API, so it is read as written for Keras 2: it fails on Keras 3)"
)


class _Checker:
    def __init__(self, tree: ast.Module, source: str, path: str, options: CheckOptions) -> None:
        self.tree = tree
        self.text = SourceText(source)
        self.path = path
        self.options = options
        self.info: ScopeInfo = analyse(tree)
        self.ctx = ImportContext.of(tree)
        self.out: list[Diagnostic] = []
        self.use_of: dict[int, Use] = {id(u.node): u for u in self.info.uses}
        # findings on `keras.…` names Keras 3 lacks, and whether one of them is Keras 2 API
        self.keras_missing: list[int] = []
        self.keras2_seen = False

    def add(
        self, code: str, node_or_range: ast.AST | Range, message: str, fixes: tuple[Fix, ...] = ()
    ) -> None:
        rng = (
            node_or_range if isinstance(node_or_range, Range) else self.text.range_of(node_or_range)
        )
        self.out.append(Diagnostic(code, rng, message, fixes=fixes))

    # -- ranges -----------------------------------------------------------------------------

    def attr_range(self, node: ast.Attribute) -> Range:
        """The range of the member name in `a.b.name`."""
        line = (node.end_lineno or node.lineno) - 1
        end = self.text.char_col(line, node.end_col_offset or 0)
        return Range(Position(line, end - len(node.attr)), Position(line, end))

    def name_in_stmt(self, stmt: ast.AST, name: str, after: int = 0) -> Range:
        """Find `name` as written in a statement's first line (for module names in imports)."""
        line = stmt.lineno - 1  # type: ignore[attr-defined]
        for ln in range(line, (getattr(stmt, "end_lineno", None) or stmt.lineno)):  # type: ignore[attr-defined]
            src = self.text.line(ln)
            col = src.find(name, after if ln == line else 0)
            if col >= 0:
                return Range(Position(ln, col), Position(ln, col + len(name)))
        return self.text.range_of(stmt)

    def alias_range(self, stmt: ast.AST, alias: ast.alias) -> Range:
        if getattr(alias, "lineno", None) is not None:
            rng = self.text.range_of(alias)
            return Range(rng.start, Position(rng.start.line, rng.start.character + len(alias.name)))
        return self.name_in_stmt(stmt, alias.name)

    # -- imports ----------------------------------------------------------------------------

    def check_imports(self) -> None:
        reported_unknown: set[str] = set()
        for node in self.info.imports:
            if isinstance(node, ast.Import):
                for a in node.names:
                    self._check_module(node, a.name, self.alias_range(node, a), reported_unknown)
            elif isinstance(node, ast.ImportFrom) and node.level:
                self._check_relative(node)
            elif isinstance(node, ast.ImportFrom) and node.module:
                if node.module == "__future__":
                    continue
                rng = self.name_in_stmt(node, node.module, after=4)
                if not self._check_module(node, node.module, rng, reported_unknown):
                    continue
                self._check_from_names(node)

    def _check_module(self, stmt: ast.AST, module: str, rng: Range, reported: set[str]) -> bool:
        """Report a module that does not exist; True if its names can be checked further."""
        top = module.split(".")[0]
        if self._is_local(top):
            if isinstance(stmt, ast.ImportFrom):
                self._check_local_names(stmt, module)
            return False
        exists = fw.module_exists(module)
        if exists is None:
            if top in REAL_PACKAGES and not fw.installed(top) and top not in reported:
                reported.add(top)
                built = (
                    ", and the model is built with stand-ins" if top in STUBBED_WHEN_MISSING else ""
                )
                self.add(
                    T.NOT_CHECKABLE,
                    rng,
                    f"`{top}` is not installed here: its names are not checked{built}",
                )
            return False
        if exists:
            return True
        if fw.lookup(module).obj is not fw.MISSING and "." in module:
            return True  # `from torch import nn`-style attribute, handled by the caller
        if self._keras2_has(module):
            return False
        parent = module.rsplit(".", 1)[0] if "." in module else None
        fixes: tuple[Fix, ...] = ()
        if parent is not None:
            last = module.rsplit(".", 1)[1]
            best = fw.suggest(last, fw.public_names(parent))
            if best:
                new = f"{parent}.{best}"
                fixes = (Fix(f"Change to `{new}`", (TextEdit(rng, new),)),)
            msg = f"module `{module}` does not exist (no `{last}` in `{parent}`)"
        else:
            elsewhere = project.found_elsewhere(self.path, self.options.workspace_root, module)
            if elsewhere is not None:
                shown = os.path.relpath(elsewhere, self.options.workspace_root or ".")
                self.add(
                    T.NOT_CHECKABLE,
                    rng,
                    f"`{module}` is not on this file's import path, but the project has it at "
                    f"{shown}: the file is meant to run with that folder on the path (from "
                    "there, or installed); its names are not checked",
                )
                return False
            msg = f"no module named `{module}` is installed"
        self._note_keras(fw.canonical(module) or module, legacy=False)
        self.add(T.NONEXISTENT_MODULE, rng, msg, fixes)
        return False

    def _check_from_names(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        for a in node.names:
            if a.name == "*":
                continue
            found = fw.lookup(f"{module}.{a.name}")
            if found.obj is not fw.MISSING or self._keras2_has(f"{module}.{a.name}"):
                continue
            rng = self.alias_range(node, a)
            best = fw.suggest(a.name, fw.public_names(module))
            fixes: tuple[Fix, ...] = ()
            msg = f"cannot import `{a.name}` from `{module}`"
            msg += fw.legacy_note(f"{fw.canonical(module)}.{a.name}")
            self._note_keras(f"{fw.canonical(module) or module}.{a.name}")
            if best:
                msg += f"; did you mean `{best}`?"
                edits = [TextEdit(rng, best)]
                if a.asname is None:
                    edits += self._rename_uses(a.name, best)
                fixes = (Fix(f"Change to `{best}`", tuple(edits)),)
            self.add(T.NONEXISTENT_API_IMPORT, rng, msg, fixes)

    def _check_relative(self, node: ast.ImportFrom) -> None:
        """`from .parts import Block`: resolved in the file's package (project.locate). When the
        file is in no package, or the dots reach above it, Python refuses the import wherever the
        file is run from outside a package, so the dynamic pass says that as a note."""
        site = project.locate(self.path, self.options.workspace_root)
        name = project.absolute_name(site, node.level, node.module)
        if name is None:
            return
        written = "." * node.level + (node.module or "")
        if node.module and self._local_file(node.module, node.level) is None:
            rng = self.name_in_stmt(node, node.module, after=4)
            where = site.package_root.joinpath(*name.split("."))
            self.add(
                T.NONEXISTENT_MODULE,
                rng,
                f"no module `{name}` (`{written}`): neither {where}.py nor a package "
                f"{where.name}/ exists",
            )
            return
        self._check_local_names(node, node.module or "", node.level, shown=written)

    def _local_file(self, module: str, level: int = 0) -> Path | None:
        return local_module_file(self.path, self.options.workspace_root, module, level)

    def _check_local_names(
        self, node: ast.ImportFrom, module: str, level: int = 0, shown: str | None = None
    ) -> None:
        file = self._local_file(module, level)
        names = defined_names(file) if file is not None else None
        if names is None:
            return
        for a in node.names:
            if a.name == "*" or a.name in names:
                continue
            if self._local_file(f"{module}.{a.name}" if module else a.name, level):
                continue
            best = fw.suggest(a.name, sorted(names))
            rng = self.alias_range(node, a)
            msg = (
                f"cannot import `{a.name}` from `{shown or module}` "
                f"({file.name} defines no such name)"
            )
            fixes: tuple[Fix, ...] = ()
            if best:
                msg += f"; did you mean `{best}`?"
                fixes = (Fix(f"Change to `{best}`", (TextEdit(rng, best),)),)
            self.add(T.NONEXISTENT_API_IMPORT, rng, msg, fixes)

    def _rename_uses(self, old: str, new: str) -> list[TextEdit]:
        return [
            TextEdit(self.text.range_of(u.node), new)
            for u in self.info.uses
            if u.name == old
            and u.scope is not None
            and (found := self.info.lookup(u)) is not None
            and found[0] is self.info.module
        ]

    def _is_local(self, top: str) -> bool:
        return local_module_names(self.path, self.options.workspace_root, top)

    # -- names ------------------------------------------------------------------------------

    def star_names(self) -> tuple[set[str], bool]:
        """Names brought in by `from m import *`, and whether some star import is opaque."""
        names: set[str] = set()
        opaque = False
        for mod in self.info.module.star_imports:
            if mod is None:
                opaque = True
                continue
            pub = fw.public_names(mod)
            if pub:
                names.update(pub)
            else:
                opaque = True
        return names, opaque

    def check_names(self) -> None:
        star, opaque = self.star_names()
        if opaque:
            return
        counts: dict[str, int] = {}
        for use in self.info.uses:
            name = use.name
            if name in BUILTIN_NAMES or name in star or self.info.lookup(use) is not None:
                continue
            counts[name] = counts.get(name, 0) + 1
            if counts[name] > _MAX_REPORTS_PER_NAME:
                continue
            suggestion = suggest_import(name, self.ctx)
            if suggestion is not None:
                edit = import_edit(suggestion, self.ctx, self.text)
                fix = Fix(f"Add `{suggestion.statement}`", (edit,))
                self.add(
                    T.MISSING_IMPORT,
                    use.node,
                    f"`{name}` is used but never imported (`{suggestion.statement}`)",
                    (fix,),
                )
            else:
                visible = sorted({n for s in _chain(use.scope) for n in s.bindings})
                best = fw.suggest(name, visible)
                fixes: tuple[Fix, ...] = ()
                msg = f"`{name}` is not defined"
                if best:
                    msg += f"; did you mean `{best}`?"
                    fixes = (
                        Fix(f"Change to `{best}`", (TextEdit(self.text.range_of(use.node), best),)),
                    )
                self.add(T.UNDEFINED_VARIABLE, use.node, msg, fixes)
        for use in unbound_reads(self.info):
            self.add(
                T.UNASSIGNED_VARIABLE,
                use.node,
                f"local variable `{use.name}` is read before it is assigned",
            )

    # -- members and calls ------------------------------------------------------------------

    def dotted_of(self, node: ast.AST) -> tuple[str, list[ast.Attribute]] | None:
        """`nn.functional.relu` -> ("torch.nn.functional.relu", [attribute nodes, outer last])."""
        attrs: list[ast.Attribute] = []
        while isinstance(node, ast.Attribute):
            attrs.append(node)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        use = self.use_of.get(id(node))
        if use is None:
            return None
        base = resolve_name(use.scope, use.name)
        if base is None:
            return None
        attrs.reverse()
        return ".".join([base, *(a.attr for a in attrs)]), attrs

    def check_members_and_calls(self) -> None:
        attributes = self.info.attributes
        inner = {id(a.value) for a in attributes if isinstance(a.value, ast.Attribute)}
        broken: set[int] = set()
        for node in attributes:
            if id(node) in inner or not isinstance(node.ctx, ast.Load):
                continue
            resolved = self.dotted_of(node)
            if resolved is None:
                continue
            dotted, chain = resolved
            found = fw.lookup(dotted)
            if found.obj is not fw.MISSING:
                continue
            bad = next((a for a in chain if a.attr == found.missing), None)
            if bad is None:
                continue
            for a in chain[chain.index(bad) :]:
                broken.add(id(a))
            self._report_missing_member(bad, found)
        for call in self.info.calls:
            if id(call.func) in broken:
                continue
            self._check_call(call)

    def _note_keras(self, dotted: str, legacy: bool = True) -> None:
        """Remember that the next finding is about a `keras.…` name Keras 3 lacks."""
        if dotted == "keras" or dotted.startswith("keras."):
            self.keras_missing.append(len(self.out))
            self.keras2_seen = self.keras2_seen or (legacy and fw.in_keras2(dotted))

    def keras2_program(self) -> None:
        """A file that uses Keras 2 API is written for Keras 2: there, a `keras.…` name that
        Keras 3 lacks fails only on Keras 3, so its finding is a warning that says so (which
        Keras the user runs is not known here; `--paper-compat` checks as Keras 2)."""
        if not self.keras2_seen or self.options.paper_compat:
            return
        for i in self.keras_missing:
            d = self.out[i]
            self.out[i] = dataclasses.replace(
                d,
                severity=Severity.WARNING,
                message=d.message + _KERAS2_FILE_NOTE
                if "Keras 2 API" not in d.message
                else d.message,
            )

    def _keras2_has(self, dotted: str) -> bool:
        """With paper_compat, `keras` is Keras 2: what tf.keras has is no finding."""
        return self.options.paper_compat and fw.in_keras2(fw.canonical(dotted) or dotted)

    def _report_missing_member(self, node: ast.Attribute, found: fw.Lookup) -> None:
        rng = self.attr_range(node)
        where = found.parent_path
        if self._keras2_has(f"{where}.{node.attr}"):
            return
        shown = self.text.text_of(node.value)
        best = fw.suggest(node.attr, fw.public_names(where))
        fixes: tuple[Fix, ...] = ()
        kind = "module" if fw.is_module(found.parent) else "class"
        shown_where = fw.display_path(where)
        msg = f"{kind} `{shown}` has no member `{node.attr}`"
        if shown != shown_where and not shown_where.startswith("tensorflow."):
            msg = f"{kind} `{shown}` ({shown_where}) has no member `{node.attr}`"
        msg += fw.legacy_note(f"{where}.{node.attr}")
        self._note_keras(f"{where}.{node.attr}")
        if best:
            msg += f"; did you mean `{best}`?"
            fixes = (Fix(f"Change to `{best}`", (TextEdit(rng, best),)),)
        self.add(T.NONEXISTENT_ATTRIBUTE, rng, msg, fixes)

    def _callee(self, call: ast.Call) -> tuple[str, object] | None:
        func = call.func
        if isinstance(func, ast.Name):
            use = self.use_of.get(id(func))
            dotted = resolve_name(use.scope, use.name) if use else None
        elif isinstance(func, ast.Attribute):
            resolved = self.dotted_of(func)
            dotted = resolved[0] if resolved else None
        else:
            return None
        if dotted is None:
            return None
        found = fw.lookup(dotted)
        if found.obj in (fw.MISSING, fw.UNKNOWN):
            return None
        return dotted, found.obj

    def _check_call(self, call: ast.Call) -> None:
        callee = self._callee(call)
        if callee is None:
            return
        dotted, obj = callee
        params = fw.params_of(obj)
        if params is None:
            return
        short = dotted.rsplit(".", 1)[-1]
        via_tf = dotted.startswith("tensorflow.")
        starred = any(isinstance(a, ast.Starred) for a in call.args)
        kwsplat = any(k.arg is None for k in call.keywords)
        n_pos = len(call.args)
        bound: dict[str, ast.AST] = {}
        typo_targets: set[str] = set()

        if not starred and not params.var_positional and n_pos > len(params.positional):
            extra = call.args[len(params.positional)]
            self.add(
                T.UNEXPECTED_ARGUMENT,
                extra,
                f"`{short}()` takes at most {len(params.positional)} positional argument"
                f"{'s' if len(params.positional) != 1 else ''} ({n_pos} given)",
            )
        if not starred:
            for name, arg in zip(params.positional, call.args, strict=False):
                bound[name] = arg
        for kw in call.keywords:
            if kw.arg is None:
                continue
            if kw.arg in params.keyword:
                if kw.arg in bound and not starred:
                    self.add(
                        T.UNEXPECTED_ARGUMENT,
                        self._kw_range(kw),
                        f"`{short}()` got multiple values for argument `{kw.arg}`",
                    )
                bound[kw.arg] = kw.value
                continue
            if params.open_keywords or (via_tf and kw.arg in _KERAS2_LAYER_KWARGS):
                continue
            rng = self._kw_range(kw)
            best = fw.suggest(kw.arg, sorted(params.keyword))
            fixes: tuple[Fix, ...] = ()
            msg = f"`{short}()` got an unexpected keyword argument `{kw.arg}`"
            if best:
                msg += f"; did you mean `{best}`?"
                fixes = (Fix(f"Change to `{best}`", (TextEdit(rng, best),)),)
                typo_targets.add(best)
            self.add(T.UNEXPECTED_ARGUMENT, rng, msg, fixes)
        if not starred and not kwsplat:
            missing = [p for p in params.required if p not in bound and p not in typo_targets]
            if missing:
                names = ", ".join(f"`{m}`" for m in missing)
                self.add(
                    T.MISSING_ARGUMENT,
                    call.func
                    if not isinstance(call.func, ast.Attribute)
                    else self.attr_range(call.func),
                    f"`{short}()` is missing required argument{'s' if len(missing) > 1 else ''} "
                    f"{names}",
                )
        for p in check_values(obj, params.qualname, bound):
            fixes = ()
            if p.suggestion is not None:
                fixes = (
                    Fix(
                        p.title or f"Change to `{p.suggestion}`",
                        (TextEdit(self.text.range_of(p.node), p.suggestion),),
                    ),
                )
            self.add(p.code, p.node, f"`{short}()`: {p.message}", fixes)

    def _kw_range(self, kw: ast.keyword) -> Range:
        rng = self.text.range_of(kw)
        return Range(rng.start, Position(rng.start.line, rng.start.character + len(kw.arg or "")))


def _chain(scope) -> Iterator:
    s = scope
    while s is not None:
        yield s
        s = s.parent


def run_checks(tree: ast.Module, source: str, path: str, options: CheckOptions) -> list[Diagnostic]:
    """Every static finding in a parsed module."""
    checker = _Checker(tree, source, path, options)
    for node, message in checker.info.misplaced:
        code = T.INVALID_RETURN if message.startswith(("'return'", "'yield'")) else T.SYNTAX_ERROR
        checker.add(code, node, message)
    checker.check_imports()
    checker.check_names()
    checker.check_members_and_calls()
    checker.keras2_program()
    return checker.out
