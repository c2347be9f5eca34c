"""One execution of the (possibly already fixed) source: slice it, compile it, run it on the
meta device with the patches and the stubs in place, build and run its model.
"""

from __future__ import annotations

import argparse
import ast
import builtins
import contextlib
import io
import linecache
import sys
import types
import warnings
from typing import Any

from deepeval_lsp.diagnostics import taxonomy as T
from deepeval_lsp.diagnostics.dynamic.child import tf_compat
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


def run_once(source: str, path: str, payload: JobPayload, plan: Plan) -> Run:
    """Run `source` once: its slice executed, its model built and run; what happened."""
    tree = ast.parse(source, filename=path)
    run = Run(source, path, source.splitlines(), tree)
    # Tracebacks and inspect read this text, not whatever is on disk under that name.
    linecache.cache[path] = (len(source), None, source.splitlines(keepends=True), path)
    sl = slice_program(tree)
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
    finder = StubFinder(missing) if missing else None
    if finder:
        sys.meta_path.insert(0, finder)
    ns: dict[str, Any] = {"__name__": MODULE_NAME, "__file__": path, "__builtins__": builtins}
    saved_module = sys.modules.get(MODULE_NAME)
    module = types.ModuleType(MODULE_NAME)
    module.__dict__.update(ns)
    ns = module.__dict__
    bind_dropped(ns, sl.stand_ins)
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
                _command_line_limit(run, e)
                not_the_programs(run, plan)
    finally:
        sys.argv = saved_argv
        if finder:
            sys.meta_path.remove(finder)
            for name in [n for n in sys.modules if n.split(".")[0] in missing]:
                del sys.modules[name]
        if keras_on:
            tf_compat.uninstall()
        if saved_module is not None:
            sys.modules[MODULE_NAME] = saved_module
        else:
            sys.modules.pop(MODULE_NAME, None)
    return run


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
