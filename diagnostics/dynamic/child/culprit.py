"""Record the error a run raised: where in the file, the culprit layer on the failing stack and
where it was constructed, the error's class in the taxonomy, and the shape fix to propose
(a concatenation's dim among them).
"""

from __future__ import annotations

import dis
import errno
import os
import re
import traceback
from typing import Any

from deepeval_lsp.diagnostics import taxonomy as T
from deepeval_lsp.diagnostics.dynamic.child.error_classifier import classify, cpu_wording
from deepeval_lsp.diagnostics.dynamic.child.layers import (
    is_keras_layer,
    is_layer,
    layer_name,
    out_shape,
)
from deepeval_lsp.diagnostics.dynamic.child.meta_patches import (
    CAT_ATTR,
    LOCATION_ATTR,
    MERGE_ATTR,
    cat_log,
    code_position,
)
from deepeval_lsp.diagnostics.dynamic.child.run_state import (
    CHECKER_DIR,
    Run,
    char_col,
    entry_line,
    site_range,
)
from deepeval_lsp.diagnostics.dynamic.child.shape_fixes import (
    cat_dim_candidates,
    consumer_cat_dim_fix,
    failed_cat_dim_fix,
    keras_fix,
    message_cat_dim_fix,
    torch_cat_fix,
    torch_fix,
)
from deepeval_lsp.diagnostics.dynamic.child.stubs import depends_on, dropped_in

# Errors about values (arguments, shapes, run time) that a stand-in's unknown output can cause;
# names and imports do not depend on it.
_VALUE_CODES = ("DL2", "DL3", "DL404")
# A file the program opens that the sandboxed run cannot see or read: where the program runs
# (its folder, the user's rights) it may well be there.
_FILE_ERRNOS = frozenset(
    {errno.ENOENT, errno.EACCES, errno.EPERM, errno.EISDIR, errno.ENOTDIR, errno.EROFS}
)


def record_error(run: Run, exc: BaseException, ns: dict[str, Any]) -> None:
    """Set `run.error` (and `run.proposal`, the shape fix) from the exception the run raised."""
    if isinstance(exc, SystemExit):
        message = f"the program called exit({exc.code!r}) while building the model"
        exc_type = "SystemExit"
    else:
        message = str(exc) or type(exc).__name__
        exc_type = type(exc).__name__
    user_tb = None
    culprit = None
    culprit_frames: list[Any] = []
    tb = exc.__traceback__
    frames = []
    while tb is not None:
        frames.append(tb)
        tb = tb.tb_next
    for t in frames:
        if t.tb_frame.f_code.co_filename == run.path:
            user_tb = t
    for t in reversed(frames):
        obj = t.tb_frame.f_locals.get("self")
        if obj is not None and (is_layer(obj)):
            culprit = obj
            break
    if culprit is not None:
        culprit_frames = [t.tb_frame for t in frames if t.tb_frame.f_locals.get("self") is culprit]
    site_rng = site_range(run, culprit) if culprit is not None else None
    if (
        user_tb is not None
        and user_tb.tb_frame.f_code.co_name == "<module>"
        and (
            site_rng is not None and user_tb.tb_lineno - 1 != site_rng[0] and run.model is not None
        )
    ):
        user_tb = None  # the model ran from the check, not from a line of the file
    located = getattr(exc, LOCATION_ATTR, None)  # a patched check said where the mistake is
    if located is not None:
        line, end_line, col, end_col = located
        rng = [
            line - 1,
            char_col(run.lines, line, col),
            end_line - 1,
            char_col(run.lines, end_line, end_col),
        ]
    elif user_tb is None and site_rng is not None:
        rng = site_rng
    elif user_tb is not None:
        pos = code_position_tb(user_tb)
        line, end_line, col, end_col = pos
        rng = [
            line - 1,
            char_col(run.lines, line, col),
            end_line - 1,
            char_col(run.lines, end_line, end_col),
        ]
        if rng[2] == rng[0] and rng[3] <= rng[1]:
            text = run.lines[line - 1] if 0 < line <= len(run.lines) else ""
            rng = [line - 1, len(text) - len(text.lstrip()), line - 1, len(text)]
    elif isinstance(exc, SyntaxError) and exc.lineno:
        rng = [exc.lineno - 1, max((exc.offset or 1) - 1, 0), exc.lineno - 1, exc.offset or 1]
    else:
        line0 = entry_line(run)
        text = run.lines[line0] if line0 < len(run.lines) else ""
        rng = [line0, len(text) - len(text.lstrip()), line0, len(text)]
    code = classify(exc_type, message, in_layer=culprit is not None)
    if exc_type == "MemoryError":
        message = "the sandbox refused: the program ran out of its memory limit"
    elif code == T.SANDBOX_VIOLATION:
        message = f"the sandbox refused: {message}"
    message = cpu_wording(message)
    inputs = _culprit_inputs(culprit_frames)
    rec = run.records.get(id(culprit)) if culprit is not None else None
    if rec is not None and rec.get("last") and not is_keras_layer(culprit):
        inputs = [_Shaped(s) for s in rec["last"]]  # as called, before forward() reshaped them
    if message.startswith("Invalid channel dimensions") and inputs and culprit is not None:
        message = _conv_wording(culprit, inputs[0]) or message
    related = []
    culprit_name = None
    if culprit is not None:
        culprit_name = layer_name(run, culprit)
        site = site_range(run, culprit)
        shapes = [s for s in (out_shape(x) for x in inputs) if s is not None]
        if shapes and code == T.SHAPE_MISMATCH and culprit is not run.model:
            shown = ", ".join(
                "(" + ", ".join("None" if d is None else str(d) for d in s) + ")" for s in shapes
            )
            message += f" [{culprit_name} received input of shape {shown}]"
        if site is not None and site[0] != rng[0]:
            related.append({"range": site, "message": f"{culprit_name} is constructed here"})
    stand_in = depends_on(exc) if code.startswith(_VALUE_CODES) else None
    dropped = dropped_in(exc)
    if dropped is not None:
        code = T.NOT_CHECKABLE
        message = (
            f"depends on {dropped}, which only code the check does not run binds (data "
            f"loading, training, saving), so this is not checked: {message}"
        )
    elif exc_type == "ImportError" and "no known parent package" in message:
        # A module of a package, run on its own by the check: imported, as it is meant to be,
        # its relative imports resolve.
        code = T.NOT_CHECKABLE
        message = (
            "this file is checked on its own, outside its package, so its relative imports "
            "are not followed and its model is not built"
        )
    elif isinstance(exc, OSError) and exc.errno in _FILE_ERRNOS and exc.filename is not None:
        code = T.NOT_CHECKABLE
        message = (
            f"reads {os.fsdecode(exc.filename)!r}, which the check cannot read (the model is "
            "built in a sandbox, in a folder of its own, not where the program runs), so this "
            f"is not checked: {message}"
        )
    elif stand_in is not None:
        code = T.NOT_CHECKABLE
        message = (
            f"depends on a stand-in for `{stand_in}`, which is not installed here (what it "
            f"gives is not known), so this is not checked: {message}"
        )
    elif code == T.NOT_CHECKABLE and exc_type not in ("MissingPackageUsed",):
        message = f"not checkable on the meta device: {message}"
    elif run.guess is not None and _depends_on_input(code, message):
        # forward ran on an input the check guessed: the failure may be the guess's
        code = T.NOT_CHECKABLE
        message = f"{run.guess}: {message}; set `# deepeval: input=(…)` to check it"
    refused = _import_refusal(exc, frames)
    if refused is not None:
        code = T.NOT_CHECKABLE
        message = f"{refused}; not checked"
    inside = _inside_checker(run, frames) if refused is None else None
    if inside is not None:
        code = T.NOT_CHECKABLE
        message = (
            f"checker error: {exc_type}: {str(exc) or exc_type} (raised in the checker's own "
            f"code, {inside}, not by the program); the model was not checked; please report "
            "it to deepeval-lsp with this message"
        )
        related = []
    run.error = {
        "code": code,
        "range": rng,
        "message": message,
        "python_error": exc_type,
        "layer": culprit_name,
        "related": related,
        "traceback": "".join(traceback.format_exception(exc))[-4000:],
    }
    if code == T.SHAPE_MISMATCH and culprit is not None:
        try:
            merge = getattr(exc, MERGE_ATTR, None)
            # a sum takes equal channels: only their sizes can be padded to match
            if merge and len({tuple((out_shape(t) or [None])[:2]) for t in merge}) != 1:
                merge = None
            cat = getattr(exc, CAT_ATTR, None) or (merge and (merge, 1))
            if cat is not None:
                run.proposal = torch_cat_fix(
                    cat[0], cat[1], run.producers, run.inputs_of, run.tree, run.lines, run.alive
                )
            elif is_keras_layer(culprit):
                run.proposal = keras_fix(culprit, inputs, run.tree, run.lines)
            else:
                run.proposal = torch_fix(culprit, inputs, run.tree, run.lines)
        except Exception:
            run.proposal = None
        for where, note in run.proposal.related if run.proposal else []:
            related.append({"range": list(where), "message": note})
    if code in (T.SHAPE_MISMATCH, T.INPUT_ARGUMENT_MISMATCH):
        _cat_dim_first(run, exc, culprit, inputs)


_SHARED_OBJECT = re.compile(r"[\w./+-]+\.so(?:\.[\w.]+)?\b")
_LOAD_FAILURE = re.compile(
    r"\.so\b|shared object|failed to map segment|cannot enable executable stack|ELF", re.I
)


def _import_refusal(exc: BaseException, frames: list[Any]) -> str | None:
    """What kept a package from loading while the program imported it, when that was its
    compiled library (the sandbox refusing to load it, or the library failing to load here):
    the environment's limit, not the program's mistake. None otherwise."""
    importing = next((name for t in frames if (name := _imported_at(t)) is not None), None)
    if importing is None:
        return None
    text = str(exc)
    if type(exc).__name__ == "SandboxViolation" and str(getattr(exc, "event", "")).startswith(
        "ctypes."
    ):
        lib = next(
            (
                t.tb_frame.f_locals.get("name")
                for t in reversed(frames)
                if isinstance(t.tb_frame.f_locals.get("name"), str)
                and t.tb_frame.f_code.co_filename.endswith(os.path.join("ctypes", "__init__.py"))
            ),
            None,
        )
        return (
            f"the sandbox refused loading {lib or 'a native library'} while importing {importing}"
        )
    compiled = _LOAD_FAILURE.search(text) or str(getattr(exc, "path", "") or "").endswith(".so")
    if isinstance(exc, ImportError) and not isinstance(exc, ModuleNotFoundError) and compiled:
        found = _SHARED_OBJECT.search(text)
        lib = found.group(0) if found else (getattr(exc, "path", None) or "a compiled library")
        return f"loading {os.path.basename(lib)} failed while importing {importing} ({text})"
    return None


def _imported_at(tb: Any) -> str | None:
    """The module an `import` statement at this traceback entry imports (importlib's own frames
    are cut from tracebacks), or None when the entry is no import."""
    for i in dis.get_instructions(tb.tb_frame.f_code):
        if i.offset == tb.tb_lasti:
            return str(i.argval) if i.opname == "IMPORT_NAME" else None
    return None


# Work of the check itself after forward returned: whatever fails there is the checker's.
_AFTER_FORWARD = frozenset({"torch_summary", "keras_summary", "forward_outputs"})
# Instructions after which an exception in the checker's frame is no slip of its own: a
# deliberate raise, or a call (the framework, or the program, raising through a patch).
_PASSED_ON = frozenset({"RAISE_VARARGS", "RERAISE", "CALL", "PRECALL", "CALL_FUNCTION_EX"})


def _inside_checker(run: Run, frames: list[Any]) -> str | None:
    """Where in the checker's own code the exception arose ("summary.py:12"), when the
    checker, not the program, raised it: its own work after forward, or a slip (an attribute,
    a key, an index) in its innermost frame. None otherwise."""

    def ours(t: Any) -> bool:
        name = t.tb_frame.f_code.co_filename
        return name != run.path and name.startswith(CHECKER_DIR + os.sep)

    def where(t: Any) -> str:
        return f"{os.path.basename(t.tb_frame.f_code.co_filename)}:{t.tb_lineno}"

    for t in frames:
        if ours(t) and t.tb_frame.f_code.co_name in _AFTER_FORWARD:
            return where(frames[-1]) if ours(frames[-1]) else where(t)
    # an attribute the checker read of a module that lacks it: raised in torch's __getattr__
    while len(frames) > 1 and frames[-1].tb_frame.f_code.co_name == "__getattr__":
        frames = frames[:-1]
    if not frames or not ours(frames[-1]):
        return None
    last = frames[-1]
    op = next(
        (i.opname for i in dis.get_instructions(last.tb_frame.f_code) if i.offset == last.tb_lasti),
        None,
    )
    return None if op is None or op in _PASSED_ON else where(last)


def _depends_on_input(code: str, message: str) -> bool:
    """Can a different input make this error go away? Not a name, an import or an attribute
    of the program's own objects; an attribute the input tensor lacks can."""
    if code == T.NONEXISTENT_ATTRIBUTE:
        return message.startswith("'Tensor' object has no attribute")
    return not code.startswith(("DL0", "DL10")) and code != T.SANDBOX_VIOLATION


def _cat_dim_first(run: Run, exc: BaseException, culprit: Any, inputs: list[Any]) -> None:
    """A cat along the wrong dim: changing its dim is the fix, the culprit's own comes second
    (a padding fix for a failing cat stays first: branches of unequal size are likelier).
    Without a fix that names the cat, the latest cats become `tentative`: tried in the loop."""
    cat = getattr(exc, CAT_ATTR, None)
    found = None
    try:
        if cat is not None:
            found = failed_cat_dim_fix(cat[0], cat[1], cat[2], run.tree, run.lines)
        else:
            if culprit is not None and not is_keras_layer(culprit) and run.proposal is not None:
                found = consumer_cat_dim_fix(
                    culprit, inputs, cat_log, run.producers, run.inputs_of, run.tree, run.lines
                )
            if found is None and run.error is not None:
                found = message_cat_dim_fix(run.error["message"], cat_log, run.tree, run.lines)
        # a failing cat's pieces may differ because of a cat upstream: try those first
        if (run.proposal is None and found is None) or (cat is not None and found is not None):
            run.tentative = cat_dim_candidates(cat_log, run.tree, run.lines)
    except Exception:
        return
    if found is None or run.error is None:
        return
    if run.proposal is not None and cat is not None:
        run.alternatives.append(found.proposal)
        return
    if run.proposal is not None:
        run.alternatives.append(run.proposal)
    run.proposal = found.proposal
    run.error["related"].append({"range": list(found.where), "message": found.note})


def code_position_tb(tb: Any) -> tuple[int, int, int, int]:
    """(line, end line, col, end col) of a traceback entry's expression, 1-based lines."""

    class _F:  # code_position reads f_code and f_lasti
        f_code = tb.tb_frame.f_code
        f_lasti = tb.tb_lasti
        f_lineno = tb.tb_lineno

    return code_position(_F) or (tb.tb_lineno, tb.tb_lineno, 0, 0)


def _conv_wording(conv: Any, x: Any) -> str | None:
    """The CPU wording of a convolution's channel mismatch (meta says only "Invalid channel
    dimensions")."""
    weight = getattr(conv, "weight", None)
    shape = list(getattr(x, "shape", ()))
    if weight is None or len(shape) < 2:
        return None
    return (
        f"Given groups={getattr(conv, 'groups', 1)}, weight of size {list(weight.shape)}, "
        f"expected input{shape} to have {getattr(conv, 'in_channels', '?')} channels, but "
        f"got {shape[1]} channels instead"
    )


class _Shaped:
    def __init__(self, shape: list[Any]) -> None:
        self.shape = tuple(shape)


def _culprit_inputs(frames: list[Any]) -> list[Any]:
    """The tensors the culprit layer received (from the forward/call/build frame's arguments)."""
    for f in frames:
        code = f.f_code
        if code.co_name not in ("forward", "call", "__call__", "_rnn_stub_forward"):
            continue
        nargs = code.co_argcount + code.co_kwonlyargcount
        names = code.co_varnames[1:nargs]
        found = []
        for n in names:
            v = f.f_locals.get(n)
            if hasattr(v, "shape") or (
                isinstance(v, list | tuple) and v and all(hasattr(x, "shape") for x in v)
            ):
                found.append(v)
        if code.co_name == "__call__":
            args = f.f_locals.get("args")
            if isinstance(args, tuple) and args:
                found = list(args)
        if found:
            if len(found) == 1 and isinstance(found[0], list | tuple):
                return list(found[0])
            return found
    return []
