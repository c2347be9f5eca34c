"""One execution of the (possibly already fixed) source: slice it, compile it, run it on the
meta device with the patches and the stubs in place, build and run its model.
"""

from __future__ import annotations

import argparse
import ast
import builtins
import contextlib
import importlib.machinery
import io
import linecache
import os
import sys
import types
import warnings
from typing import Any

from deepeval_lsp.diagnostics import taxonomy as T
from deepeval_lsp.diagnostics.dynamic.child import tf_compat
from deepeval_lsp.diagnostics.dynamic.child.arguments import conventional_value
from deepeval_lsp.diagnostics.dynamic.child.build import build_and_run
from deepeval_lsp.diagnostics.dynamic.child.culprit import record_error
from deepeval_lsp.diagnostics.dynamic.child.entry_point import not_the_programs
from deepeval_lsp.diagnostics.dynamic.child.meta_patches import patched
from deepeval_lsp.diagnostics.dynamic.child.plan import Plan
from deepeval_lsp.diagnostics.dynamic.child.program_slice import slice_program
from deepeval_lsp.diagnostics.dynamic.child.run_state import MODULE_NAME, Run, not_checkable
from deepeval_lsp.diagnostics.dynamic.child.stubs import StubFinder, bind_dropped, not_installed
from deepeval_lsp.diagnostics.dynamic.wire import JobPayload
from deepeval_lsp.diagnostics.packages import STUBBED_WHEN_MISSING


def run_once(
    source: str, path: str, payload: JobPayload, plan: Plan, bare: tuple[str, ...] = ()
) -> Run:
    """Run `source` once: its slice executed, its model built and run; what happened.
    A package of the project whose __init__ imports a module of its own that exists nowhere (a
    file its build generates) is loaded without running that __init__ (`bare`), and the run is
    made again that way."""
    run = _run_once(source, path, payload, plan, bare)
    if run.bare_retry is None or len(bare) >= _MOST_BARE:
        return run
    package, missing, line = run.bare_retry
    again = run_once(source, path, payload, plan, (*bare, package))
    again.info.insert(
        0,
        not_checkable(
            _import_line(again.tree, package.split(".")[0]),
            again.lines,
            f"`{missing}` is found nowhere (a file the package's build generates?); "
            f"{package.replace('.', '/')}/__init__.py:{line} imports it, so `{package}` is "
            "loaded without running its __init__.py, and what that sets up is not checked",
        ),
    )
    if (
        again.error is not None
        and not again.error["code"].startswith("DL3")
        and not again.error["message"].startswith("with `")  # said by the inner run
    ):
        again.error.update(
            code=T.NOT_CHECKABLE,
            message=f"with `{package}` loaded without its __init__.py: {again.error['message']}",
        )
        again.proposal = None
        again.alternatives = []
        again.tentative = []
    return again


_MOST_BARE = 3  # packages loaded without their __init__ in one check


def _run_once(
    source: str, path: str, payload: JobPayload, plan: Plan, bare: tuple[str, ...]
) -> Run:
    if plan.tree is not None and plan.slice is not None and plan.source == source:
        tree, sl = plan.tree, plan.slice  # slice_program changes nothing in the tree it reads
    else:
        tree = ast.parse(source, filename=path)
        sl = slice_program(tree)
    run = Run(source, path, source.splitlines(), tree, usages=list(payload.get("usages") or []))
    # Tracebacks and inspect read this text, not whatever is on disk under that name.
    linecache.cache[path] = (len(source), None, source.splitlines(keepends=True), path)
    code = compile(sl.module, path, "exec", dont_inherit=True)
    missing = {m for m in plan.imports if m in STUBBED_WHEN_MISSING and not_installed(m)}
    for m in sorted(missing):
        line = _import_line(tree, m)
        run.info.append(
            not_checkable(
                line,
                run.lines,
                f"{m} is not installed: stubbed for this check, "
                "so what the model takes from it is not checked",
            )
        )
    keras_on = plan.uses_keras
    if keras_on:
        tf_compat.install()
    roots = [r for r in payload.get("import_roots") or [] if isinstance(r, str)]
    finder = StubFinder(missing)
    fallback = _UnfoundImports(finder, path, roots)
    bare_finder = _BarePackages(bare)
    sys.meta_path.insert(0, finder)
    sys.meta_path.insert(0, bare_finder)
    sys.meta_path.append(fallback)
    ns: dict[str, Any] = {"__name__": MODULE_NAME, "__file__": path, "__builtins__": builtins}
    # The program runs as a module of its package: `from .parts import Block` imports the
    # package's real modules (the name stays MODULE_NAME, which the build looks its classes up by).
    if payload.get("package"):
        ns["__package__"] = payload["package"]
    before = set(sys.modules)
    saved_module = sys.modules.get(MODULE_NAME)
    module = types.ModuleType(MODULE_NAME)
    module.__dict__.update(ns)
    ns = module.__dict__
    sizes = {n: conventional_value(n) for n in sl.sizes}
    sizes = {n: v for n, v in sizes.items() if type(v) is int}
    bind_dropped(ns, {n: line for n, line in sl.stand_ins.items() if n not in sizes})
    ns.update(sizes)
    run.assumed_sizes = [f"{n}={v} (line {sl.stand_ins[n]})" for n, v in sorted(sizes.items())]
    sys.modules[MODULE_NAME] = module
    saved_argv = sys.argv
    # The program sees the command line it would have run with no arguments, not the worker's:
    # its argparse takes its defaults, and sys.argv[0] names the checked file.
    sys.argv = [path]
    try:
        with _engine(path, plan), contextlib.redirect_stdout(io.StringIO()):
            try:
                exec(code, ns)
                build_and_run(run, ns, plan, payload, sl)
            except BaseException as e:
                if isinstance(e, KeyboardInterrupt | SystemExit) and not isinstance(e, SystemExit):
                    raise
                record_error(run, e, ns)
                run.bare_retry = _missing_in_init(e, roots)
                _command_line_limit(run, e)
                _import_limit(run, e, payload, roots, finder.tops)
                not_the_programs(run, plan)
    finally:
        sys.argv = saved_argv
        for f in (finder, fallback, bare_finder):
            with contextlib.suppress(ValueError):
                sys.meta_path.remove(f)
        for name in [n for n in sys.modules if n.split(".")[0] in finder.tops]:
            del sys.modules[name]
        _forget_project_modules(before, roots)
        if keras_on:
            tf_compat.uninstall()
        if saved_module is not None:
            sys.modules[MODULE_NAME] = saved_module
        else:
            sys.modules.pop(MODULE_NAME, None)
    for top, (line0, importer) in fallback.met.items():
        run.info.append(
            not_checkable(
                line0,
                run.lines,
                f"{top} is not installed: stubbed for this check (imported by {importer}), "
                "so what the model takes from it is not checked",
            )
        )
    return run


class _BarePackages:
    """The first finder on sys.meta_path while some packages are loaded bare: such a package
    gets its folder as its path and no code run (its __init__ is skipped)."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname not in self.names:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or not spec.submodule_search_locations:
            return None
        bare = importlib.machinery.ModuleSpec(fullname, self, origin=spec.origin, is_package=True)
        bare.submodule_search_locations = list(spec.submodule_search_locations)
        bare.has_location = True
        return bare

    def create_module(self, spec: Any) -> Any:
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        pass  # the __init__ is what is skipped


def _missing_in_init(exc: BaseException, roots: list[str]) -> tuple[str, str, int] | None:
    """(package, module, line) when `exc` is a module of the project's package itself, found
    nowhere, that the package's own __init__.py imports at its top level."""
    if type(exc) is not ModuleNotFoundError or not exc.name:
        return None
    own = tuple(r.rstrip(os.sep) + os.sep for r in roots)
    tb, found = exc.__traceback__, None
    while tb is not None:
        code = tb.tb_frame.f_code
        if (
            code.co_name == "<module>"
            and os.path.basename(code.co_filename) == "__init__.py"
            and code.co_filename.startswith(own)
            and not code.co_filename.startswith(_INSTALLED)
        ):
            found = (tb.tb_frame.f_globals.get("__name__"), tb.tb_lineno)
        tb = tb.tb_next
    if found is None or not isinstance(found[0], str):
        return None
    package, line = found
    if not exc.name.startswith(package + "."):
        return None
    return package, exc.name, line


class _UnfoundImports:
    """The last finder on sys.meta_path: it sees the imports no real finder found. A known
    package that is not installed, imported by one of the project's modules rather than by the
    checked file, gets the checked file's treatment: a stub (through `stubs`) and a note at the
    checked file's line that led to it (`met`: package -> (line, the importer shown))."""

    def __init__(self, stubs: StubFinder, path: str, roots: list[str]) -> None:
        self.stubs = stubs
        self.path = path
        self.roots = roots
        self.met: dict[str, tuple[int, str]] = {}

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        top = fullname.split(".")[0]
        if top not in STUBBED_WHEN_MISSING or fullname != top:
            return None  # a stubbed package's submodules are the front finder's
        importer, line0 = None, 0
        frame = sys._getframe(1)
        while frame is not None:
            name = frame.f_code.co_filename
            if importer is None and not name.startswith("<"):
                importer = f"{shown(name, self.roots)}:{frame.f_lineno}"
            if name == self.path:
                line0 = max(frame.f_lineno - 1, 0)
                break
            frame = frame.f_back
        self.met.setdefault(top, (line0, importer or "?"))
        self.stubs.tops.add(top)
        return self.stubs.find_spec(fullname, path, target)


def shown(file: str, roots: list[str]) -> str:
    """`file` as the user names it: relative to the first import root that holds it (its
    package's root: `pkg/parts.py`)."""
    for r in roots:
        if file.startswith(r.rstrip(os.sep) + os.sep):
            return os.path.relpath(file, r)
    return file


def _import_limit(
    run: Run, exc: BaseException, payload: JobPayload, roots: list[str], stubbed: set[str]
) -> None:
    """Imports the check could not follow become notes, not errors: a module found nowhere
    (neither installed nor among the project's modules) that one of the project's modules
    imports, a relative import that reaches above the file's package, and a project module
    that fails while it is imported with stand-ins in place (what the real package would have
    given is not known). A missing module the checked file imports itself stays its error (the
    static pass names it too), and so does a project module that fails without stand-ins."""
    if run.error is None:
        return
    tb, where, project_frame = exc.__traceback__, None, None
    own = tuple(r.rstrip(os.sep) + os.sep for r in roots)
    while tb is not None:
        code = tb.tb_frame.f_code
        if not code.co_filename.startswith("<"):  # no import machinery
            where = (code.co_filename, tb.tb_lineno)
        if code.co_filename.startswith(own) and not code.co_filename.startswith(_INSTALLED):
            project_frame = (code.co_filename, tb.tb_lineno, code.co_name)
        tb = tb.tb_next
    package = payload.get("package") or ""
    if type(exc) is ModuleNotFoundError and exc.name and where and where[0] != run.path:
        message = (
            f"`{exc.name}` is found nowhere (neither installed nor among the project's modules); "
            f"{shown(where[0], roots)}:{where[1]} imports it, so the model is not built"
        )
    elif (
        stubbed
        and project_frame is not None
        and project_frame[0] != run.path
        and project_frame[2] == "<module>"
    ):
        message = (
            f"importing {shown(project_frame[0], roots)} failed at line {project_frame[1]} "
            f"({type(exc).__name__}: {str(exc)[:200]}) with stand-ins for "
            f"{', '.join(sorted(stubbed))}, not installed here, so the model is not built"
        )
    elif isinstance(exc, ImportError) and "beyond top-level package" in str(exc):
        message = (
            f"a relative import reaches above the package `{package}` (the folder above it "
            "holds no __init__.py), so it is not followed and the model is not built"
        )
    else:
        return
    run.error.update(code=T.NOT_CHECKABLE, message=message, related=[])
    run.proposal = None
    run.alternatives = []
    run.tentative = []


# Where installed packages live, though a project may hold them (a virtualenv in its folder).
_INSTALLED = tuple(
    p.rstrip(os.sep) + os.sep for p in {sys.prefix, sys.base_prefix, sys.exec_prefix}
)


def _forget_project_modules(before: set[str], roots: list[str]) -> None:
    """Unload the project's modules this run imported: the next run (after a fix) imports them
    afresh, and nothing of them stays in the process beyond its job. Installed packages stay."""
    own = tuple(r.rstrip(os.sep) + os.sep for r in roots)
    for name in set(sys.modules) - before:
        module = sys.modules.get(name)
        file = getattr(module, "__file__", None)
        if file is None:  # a namespace package
            with contextlib.suppress(Exception):
                file = next(iter(module.__path__), None)  # type: ignore[union-attr]
        if (
            isinstance(file, str)
            and file.startswith(own)
            and not file.startswith(_INSTALLED)
            and not name.startswith("deepeval_lsp")
        ):
            del sys.modules[name]


def _command_line_limit(run: Run, exc: BaseException) -> None:
    """An argparse exit on the (empty) command line, a required argument missing, is the
    check's limit: it cannot know the program's arguments. The error becomes a note naming what
    argparse asked for. An exit on arguments the program passed itself stays an error."""
    if not isinstance(exc, SystemExit) or run.error is None:
        return
    said = None
    from_argv = False
    tb = exc.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        if frame.f_code.co_filename == argparse.__file__:
            local = frame.f_locals
            if frame.f_code.co_name == "parse_known_args" and local.get("args") == sys.argv[1:]:
                from_argv = True
            elif frame.f_code.co_name == "error" and isinstance(local.get("message"), str):
                said = local["message"]
        tb = tb.tb_next
    if not from_argv:
        return
    run.error.update(
        code=T.NOT_CHECKABLE,
        message=(
            f"the program parses its command line (argparse: {said or 'it exited'}), "
            "and the check cannot know its arguments: the model was not checked"
        ),
        related=[],
    )
    run.proposal = None
    run.alternatives = []
    run.tentative = []


def _import_line(tree: ast.Module, top: str) -> int:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == top for a in node.names):
            return node.lineno - 1
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == top:
            return node.lineno - 1
    return 0


@contextlib.contextmanager
def _engine(path: str, plan: Plan) -> Any:
    import torch

    with contextlib.ExitStack() as stack:
        stack.enter_context(warnings.catch_warnings())
        warnings.simplefilter("ignore")
        stack.enter_context(patched(path, torch_on=True, keras_on=plan.uses_keras))
        stack.enter_context(torch.device("meta"))
        stack.enter_context(torch.no_grad())
        if plan.uses_keras:
            import keras

            keras.config.disable_traceback_filtering()
            stack.enter_context(keras.device("meta"))
        yield
