"""The dynamic check itself: runs INSIDE the sandboxed worker child (DESIGN.md §4, §6).

`run_job(payload)` slices the program to what builds the model, runs it on the meta device with
the patches of meta_patches, finds the entry point and the input shape, builds the model and runs
forward (Keras: summary() and compile() as the study did), and returns plain JSON: the errors with
their location, culprit layer, construction site and proposed shape fix, the model summary, and
notes. After a shape error with a computable fix it applies the fix to its copy of the source and
runs again, so one check reports every shape error it can reach.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import importlib.util
import inspect
import io
import linecache
import math
import os
import re
import sys
import traceback
import types
import warnings
from dataclasses import dataclass, field
from typing import Any

from deepeval_lsp.diagnostics import taxonomy as T
from deepeval_lsp.diagnostics.dynamic.child import tf_compat
from deepeval_lsp.diagnostics.dynamic.child.error_classifier import classify, cpu_wording
from deepeval_lsp.diagnostics.dynamic.child.meta_patches import (
    CAT_ATTR,
    LOCATION_ATTR,
    MERGE_ATTR,
    application_builders,
    cat_log,
    code_position,
    patched,
    site_of,
)
from deepeval_lsp.diagnostics.dynamic.child.program_slice import model_classes, slice_program
from deepeval_lsp.diagnostics.dynamic.child.shape_fixes import (
    CatDimFix,
    Proposal,
    cat_dim_candidates,
    consumer_cat_dim_fix,
    failed_cat_dim_fix,
    keras_fix,
    message_cat_dim_fix,
    torch_cat_fix,
    torch_fix,
)

MAX_ROUNDS = 8
MODULE_NAME = "__deepeval_model__"
# Real third-party packages an LLM program may import but that need not be installed to build a
# model: stubbed (and said) rather than reported.
KNOWN_PACKAGES = frozenset(
    {
        "torchtext",
        "torchvision",
        "torchaudio",
        "cv2",
        "PIL",
        "sklearn",
        "pandas",
        "matplotlib",
        "seaborn",
        "scipy",
        "transformers",
        "timm",
        "einops",
        "tqdm",
        "wandb",
        "tensorboard",
        "tensorboardX",
        "albumentations",
        "skimage",
        "h5py",
        "datasets",
        "tokenizers",
        "nltk",
        "spacy",
        "gensim",
        "lightning",
        "pytorch_lightning",
        "jaxtyping",
        "torchmetrics",
        "torchsummary",
        "torchinfo",
        "tensorflow_addons",
        "tensorflow_hub",
        "tensorflow_datasets",
        "keras_tuner",
        "xgboost",
        "lightgbm",
        "requests",
        "yaml",
        "imageio",
        "librosa",
        "soundfile",
        "mlflow",
        "optuna",
        "onnx",
        "onnxruntime",
        "accelerate",
        "sentencepiece",
        "torch_geometric",
        "dgl",
        "pydot",
        "graphviz",
        "plotly",
        "tabulate",
        "typeguard",
        "beartype",
        "keras_cv",
        "keras_nlp",
        "segmentation_models_pytorch",
        "torchsummaryX",
        "visdom",
        "ignite",
        "fastai",
        "jax",
        "flax",
    }
)
DATASET_SHAPES = [  # (pattern, channels, height, width)
    (r"fashion[\s_-]?mnist|\bmnist\b|emnist|kmnist", 1, 28, 28),
    (r"cifar[\s_-]?10{1,2}|\bsvhn\b|\bcifar\b", 3, 32, 32),
    (r"tiny[\s_-]?imagenet", 3, 64, 64),
    (r"imagenet", 3, 224, 224),
    (r"\bstl[\s_-]?10\b", 3, 96, 96),
]
PRAGMA = re.compile(r"#\s*deepeval:\s*input\s*=\s*(.+)$", re.M)
BATCH = 2  # batch 1 would make `x.squeeze()` drop the batch dimension


if "keras" in sys.modules:  # in the worker's zygote: do the one-time work before forking
    with contextlib.suppress(Exception):
        application_builders()


class MissingPackageUsed(RuntimeError):
    """The model needed a package that is not installed (stubbed for the check)."""


class _Stub:
    """Stands in for anything from a package that is not installed."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        return _Stub(f"{self._name}.{attr}")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return _Stub(f"{self._name}()")

    def __getitem__(self, item: Any) -> Any:  # annotations such as Float[Tensor, "b 3 32 32"]
        return _Stub(f"{self._name}[]")

    def __mro_entries__(self, bases: tuple[Any, ...]) -> tuple[type, ...]:
        return (object,)

    def __iter__(self) -> Any:
        raise MissingPackageUsed(f"{self._name.split('.')[0]} is not installed (stubbed)")

    def __repr__(self) -> str:
        return f"<MissingPackageStub {self._name}>"


class _StubModule(types.ModuleType):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.__path__: list[str] = []

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        return _Stub(f"{self.__name__}.{attr}")


class _StubFinder:
    def __init__(self, tops: set[str]) -> None:
        self.tops = tops

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname.split(".")[0] in self.tops:
            return importlib.util.spec_from_loader(fullname, self, is_package=True)
        return None

    def create_module(self, spec: Any) -> Any:
        return _StubModule(spec.name)

    def exec_module(self, module: Any) -> None:
        return None


@dataclass
class _Run:
    """State of one execution of the (possibly already fixed) source."""

    source: str
    path: str
    lines: list[str]
    tree: ast.Module
    error: dict[str, Any] | None = None
    proposal: Proposal | None = None
    alternatives: list[Proposal] = field(default_factory=list)  # offered after `proposal`
    tentative: list[CatDimFix] = field(default_factory=list)  # tried before giving up on a fix
    summary: dict[str, Any] | None = None
    entry: str | None = None
    framework: str | None = None
    notes: list[str] = field(default_factory=list)
    info: list[dict[str, Any]] = field(default_factory=list)  # Not Checkable diagnostics
    model: Any = None
    input_note: str | None = None
    records: dict[int, dict[str, Any]] = field(default_factory=dict)  # forward hooks, by id
    undecided: bool = False  # built, but forward could not run (no input shape)
    input_dtypes: list[str] | None = None  # per input, when the task says (token ids are int64)
    producers: dict[int, Any] = field(default_factory=dict)  # id(output tensor) -> module
    inputs_of: dict[int, Any] = field(default_factory=dict)  # id(module) -> its last input
    alive: list[Any] = field(default_factory=list)
    # torch forward's output tensors, in order: their shapes and the layers that set their sizes
    outputs: list[dict[str, Any]] | None = None


def run_job(payload: dict[str, Any]) -> dict[str, Any]:
    """Check one document in this (sandboxed) process; return the JSON result."""
    source: str = payload["source"]
    path: str = payload["path"]
    os.environ.setdefault("KERAS_BACKEND", "torch")
    # The program's own modules (`from blocks import Block`) import as they would beside it;
    # the sandbox lets the child read these folders and nothing else of the user's.
    here = os.path.dirname(path) if os.path.isabs(path) and os.path.isfile(path) else None
    for folder in (payload.get("workspace_root"), here):
        if folder and os.path.isabs(folder) and os.path.isdir(folder) and folder not in sys.path:
            sys.path.insert(0, folder)
    try:
        tree = ast.parse(source, filename=path)
    except SyntaxError as e:
        # The static pass reports it in a check; a run without it (the study's) needs a verdict.
        line0 = max((e.lineno or 1) - 1, 0)
        col = max((e.offset or 1) - 1, 0)
        code = T.INVALID_RETURN if "'return'" in (e.msg or "") else T.SYNTAX_ERROR
        err = {
            "code": code,
            "range": [line0, col, line0, col + 1],
            "message": e.msg,
            "python_error": type(e).__name__,
            "layer": None,
            "related": [],
        }
        return {
            "status": "ok",
            "errors": [err],
            "info": [],
            "notes": [],
            "summary": None,
            "executable": False,
            "entry": None,
        }
    except (ValueError, RecursionError) as e:
        return {
            "status": "ok",
            "errors": [],
            "notes": [f"dynamic checks did not run: {e}"],
            "summary": None,
            "executable": None,
            "entry": None,
        }
    plan = _plan(tree, source)
    if plan["entry_kind"] is None:
        return {
            "status": "ok",
            "errors": [],
            "info": [],
            "summary": None,
            "executable": None,
            "entry": None,
            "notes": [
                "no model entry point (a dl_model() function, a module-level model or "
                "an nn.Module/keras.Model subclass): dynamic checks did not run"
            ],
        }
    max_rounds = int(payload.get("max_errors", MAX_ROUNDS))
    # Fixes of the static pass's findings, applied first so that the build gets past them (one
    # edit per line, none adding lines: see dynamic_pass.static_pre_edits).
    pre = [tuple(e) for e in payload.get("pre_edits") or []]
    applied: list[tuple[int, int, int, int, str]] = list(pre)  # edits, current coordinates
    history: list[tuple[int, int, int, int, str]] = list(pre)  # same edits, original coordinates
    errors: list[dict[str, Any]] = []
    current = _apply(source, pre) if pre else source
    last: _Run | None = None
    last_fix_lines: set[int] = set()
    for _ in range(max_rounds):
        run = _run_once(current, path, payload, plan)
        last = run
        if run.error is None:
            break
        if run.tentative:
            _try_cat_dims(run, current, path, payload, plan)
        if (
            errors
            and "fix" in errors[-1]
            and run.error["code"] != T.SHAPE_MISMATCH
            and (run.error["range"][0] in last_fix_lines)
        ):
            # The previous fix broke its own line: offer no fix rather than a wrong one.
            del errors[-1]["fix"]
            break
        err = _map_error_back(run.error, applied)
        # the same error again: same code, place and layer (the layers of an nn.Sequential all
        # fail on the line that calls it)
        same = [
            e
            for e in errors
            if e["code"] == err["code"]
            and e["range"] == err["range"]
            and e.get("layer") == err.get("layer")
        ]
        if same:
            # The fix did not remove the error: it is no fix.
            same[0].pop("fix", None)
            break
        if run.proposal is not None:
            fix_edits = [_map_edit_back(e, applied) for e in run.proposal.edits]
            if all(e is not None for e in fix_edits) and not _overlaps(fix_edits, history):
                err["fix"] = {
                    "title": run.proposal.title,
                    "edits": [_edit_json(e) for e in fix_edits],
                }  # type: ignore[arg-type]
        for alt in run.alternatives:
            alt_edits = [_map_edit_back(e, applied) for e in alt.edits]
            if all(e is not None for e in alt_edits) and not _overlaps(alt_edits, history):
                err.setdefault("more_fixes", []).append(
                    {"title": alt.title, "edits": [_edit_json(e) for e in alt_edits]}
                )  # type: ignore[arg-type]
        errors.append(err)
        if "fix" not in err or run.error["code"] != T.SHAPE_MISMATCH:
            break
        # Continue past this error with the culprit replaced by one that fits.
        current = _apply(current, run.proposal.edits)  # type: ignore[union-attr]
        applied.extend(run.proposal.edits)  # type: ignore[union-attr]
        last_fix_lines = {e[0] for e in run.proposal.edits}  # type: ignore[union-attr]
        history.extend(e for e in fix_edits if e is not None)
    assert last is not None
    info = last.info
    hard = [e for e in errors if e["code"] != T.NOT_CHECKABLE]
    if errors and not hard:
        executable = None
    elif hard:
        executable = False
    else:
        executable = True if last.summary is not None and not last.undecided else None
    notes = list(last.notes)
    if last.input_note:
        notes.append(last.input_note)
    if pre:  # the program as written stops at the static findings: no verdict on it
        executable = None if executable else executable
    return {
        "status": "ok",
        "errors": errors,
        "info": info,
        "notes": notes,
        "summary": last.summary if not errors else (last.summary if applied else None),
        "summary_after_fixes": bool(applied and errors),
        "executable": executable,
        "entry": last.entry,
        "entry_line": _entry_line(last) if last.entry else None,
        "framework": last.framework,
        "outputs": last.outputs if not errors and not pre else None,
    }


def _edit_json(e: tuple[int, int, int, int, str]) -> dict[str, Any]:
    return {"range": [e[0], e[1], e[2], e[3]], "new_text": e[4]}


def _overlaps(edits: list[Any], history: list[Any]) -> bool:
    for e in edits:
        for h in history:
            if e[0] == h[0] and e[1] < max(h[3], h[1] + 1) and h[1] < max(e[3], e[1] + 1):
                return True
    return False


def _apply(source: str, edits: list[tuple[int, int, int, int, str]]) -> str:
    lines = source.splitlines(keepends=True)
    offsets = [0]
    for ln in lines:
        offsets.append(offsets[-1] + len(ln))

    def off(line: int, col: int) -> int:
        return offsets[min(line, len(lines))] + col

    out = source
    for e in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        out = out[: off(e[0], e[1])] + e[4] + out[off(e[2], e[3]) :]
    return out


def _map_pos_back(
    line: int, col: int, applied: list[tuple[int, int, int, int, str]]
) -> tuple[int, int]:
    for e in reversed(applied):
        if e[0] != line or e[0] != e[2]:
            continue
        new_end = e[1] + len(e[4])
        if col >= new_end:
            col -= len(e[4]) - (e[3] - e[1])
        elif col > e[1]:
            col = e[1]
    return line, col


def _map_edit_back(
    e: tuple[int, int, int, int, str], applied: list[Any]
) -> tuple[int, int, int, int, str] | None:
    l0, c0 = _map_pos_back(e[0], e[1], applied)
    l1, c1 = _map_pos_back(e[2], e[3], applied)
    return (l0, c0, l1, c1, e[4])


def _map_error_back(err: dict[str, Any], applied: list[Any]) -> dict[str, Any]:
    if not applied:
        return err
    out = dict(err)

    def rng(r: list[int]) -> list[int]:
        a = _map_pos_back(r[0], r[1], applied)
        b = _map_pos_back(r[2], r[3], applied)
        return [a[0], a[1], b[0], b[1]]

    out["range"] = rng(err["range"])
    out["related"] = [dict(r, range=rng(r["range"])) for r in err.get("related", [])]
    return out


# ---------------------------------------------------------------------------------------------
# Planning: entry point and framework, from the syntax tree alone


def _plan(tree: ast.Module, source: str) -> dict[str, Any]:
    sl = slice_program(tree)
    has_dl_model = any(isinstance(s, ast.FunctionDef) and s.name == "dl_model" for s in tree.body)
    classes = _model_class_defs(tree)
    kind = (
        "dl_model"
        if has_dl_model
        else "variable"
        if sl.model_vars
        else ("class" if classes else None)
    )
    imports = _imported_tops(sl.module)
    uses_keras = bool(imports & {"keras", "tensorflow"})
    uses_torch = "torch" in imports
    return {
        "entry_kind": kind,
        "slice_vars": sl.model_vars,
        "classes": classes,
        "uses_keras": uses_keras,
        "uses_torch": uses_torch or not uses_keras,
        "blocked": sl.blocked,
        "imports": imports,
    }


def _imported_tops(module: ast.Module) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(module):
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            out.add(node.module.split(".")[0])
    return out


def _model_class_defs(tree: ast.Module) -> list[str]:
    """Model classes, the ones no other class uses first (the outermost model is the entry)."""
    names = model_classes(tree)
    ordered = [s for s in tree.body if isinstance(s, ast.ClassDef) and s.name in names]
    used: set[str] = set()
    for s in ordered:
        for n in ast.walk(s):
            if isinstance(n, ast.Name) and n.id in names and n.id != s.name:
                used.add(n.id)
    top = [s.name for s in ordered if s.name not in used]
    return top + [s.name for s in ordered if s.name in used]


# ---------------------------------------------------------------------------------------------
# One execution


def _run_once(source: str, path: str, payload: dict[str, Any], plan: dict[str, Any]) -> _Run:
    tree = ast.parse(source, filename=path)
    run = _Run(source, path, source.splitlines(), tree)
    # Tracebacks and inspect read this text, not whatever is on disk under that name.
    linecache.cache[path] = (len(source), None, source.splitlines(keepends=True), path)
    sl = slice_program(tree)
    code = compile(sl.module, path, "exec", dont_inherit=True)
    missing = {m for m in plan["imports"] if m in KNOWN_PACKAGES and _not_installed(m)}
    for m in sorted(missing):
        line = _import_line(tree, m)
        run.info.append(
            _info(
                line,
                run.lines,
                f"{m} is not installed: stubbed for this check, "
                "so what the model takes from it is not checked",
            )
        )
    keras_on = plan["uses_keras"]
    if keras_on:
        tf_compat.install()
    finder = _StubFinder(missing) if missing else None
    if finder:
        sys.meta_path.insert(0, finder)
    ns: dict[str, Any] = {"__name__": MODULE_NAME, "__file__": path, "__builtins__": builtins}
    saved_module = sys.modules.get(MODULE_NAME)
    module = types.ModuleType(MODULE_NAME)
    module.__dict__.update(ns)
    ns = module.__dict__
    sys.modules[MODULE_NAME] = module
    try:
        with _engine(path, plan), contextlib.redirect_stdout(io.StringIO()):
            try:
                exec(code, ns)
                _build_and_run(run, ns, plan, payload, sl)
            except BaseException as e:
                if isinstance(e, KeyboardInterrupt | SystemExit) and not isinstance(e, SystemExit):
                    raise
                _record_error(run, e, ns)
    finally:
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


def _not_installed(top: str) -> bool:
    try:
        return importlib.util.find_spec(top) is None
    except (ImportError, ValueError):
        return True


def _import_line(tree: ast.Module, top: str) -> int:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == top for a in node.names):
            return node.lineno - 1
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == top:
            return node.lineno - 1
    return 0


def _info(line0: int, lines: list[str], message: str) -> dict[str, Any]:
    text = lines[line0] if 0 <= line0 < len(lines) else ""
    start = len(text) - len(text.lstrip())
    return {
        "code": T.NOT_CHECKABLE,
        "range": [line0, start, line0, len(text)],
        "message": message,
        "python_error": "",
        "related": [],
        "layer": None,
    }


@contextlib.contextmanager
def _engine(path: str, plan: dict[str, Any]) -> Any:
    import torch

    with contextlib.ExitStack() as stack:
        stack.enter_context(warnings.catch_warnings())
        warnings.simplefilter("ignore")
        stack.enter_context(patched(path, torch_on=True, keras_on=plan["uses_keras"]))
        stack.enter_context(torch.device("meta"))
        stack.enter_context(torch.no_grad())
        if plan["uses_keras"]:
            import keras

            keras.config.disable_traceback_filtering()
            stack.enter_context(keras.device("meta"))
        yield


# ---------------------------------------------------------------------------------------------
# Entry point, input shape, build and forward


def _is_torch_module(obj: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(obj, torch.nn.Module)


def _is_keras_model(obj: Any) -> bool:
    keras = sys.modules.get("keras")
    return keras is not None and isinstance(obj, keras.Model)


def _is_model(obj: Any) -> bool:
    return _is_torch_module(obj) or _is_keras_model(obj)


def _build_and_run(
    run: _Run, ns: dict[str, Any], plan: dict[str, Any], payload: dict[str, Any], sl: Any
) -> None:
    model = None
    kind = plan["entry_kind"]
    if kind == "dl_model" and callable(ns.get("dl_model")):
        run.entry = "dl_model()"
        model = ns["dl_model"]()
    if model is None and kind in ("variable", "dl_model"):
        names = sorted(plan["slice_vars"], key=lambda n: n != "model")
        for n in names:
            if _is_model(ns.get(n)):
                model, run.entry = ns[n], n
                break
        if model is None and plan["slice_vars"]:
            blocked = [f"{n} (line {line})" for n, line in sl.blocked.items()]
            if blocked:
                run.notes.append(
                    "the model depends on data loading or training code that the "
                    f"check does not run: {', '.join(blocked)}"
                )
                return
    if model is None:
        for cname in plan["classes"]:
            cls = ns.get(cname)
            if not isinstance(cls, type) or getattr(cls, "__module__", "") != MODULE_NAME:
                continue
            if not _is_model_class(cls):
                continue
            missing = _required_params(cls)
            if missing:
                run.notes.append(
                    f"{cname} needs constructor arguments ({', '.join(missing)}): "
                    "add a dl_model() function or a module-level model = "
                    f"{cname}(…) to check it"
                )
                return
            run.entry = f"{cname}()"
            model = cls()
            break
    if model is None:
        if run.entry is not None:
            run.notes.append(f"{run.entry} did not return a model")
        return
    run.model = model
    if _is_keras_model(model):
        run.framework = "keras"
        _run_keras(run, model, payload, kind == "dl_model")
    elif _is_torch_module(model):
        run.framework = "torch"
        _run_torch(run, model, payload)
    else:
        run.notes.append(f"{run.entry} returned {type(model).__name__}, not a model")


def _is_model_class(cls: type) -> bool:
    torch = sys.modules.get("torch")
    keras = sys.modules.get("keras")
    return bool(
        (torch and issubclass(cls, torch.nn.Module)) or (keras and issubclass(cls, keras.Model))
    )


def _required_params(cls: type) -> list[str]:
    try:
        sig = inspect.signature(cls.__init__)
    except (TypeError, ValueError):
        return []
    return [
        p.name
        for p in list(sig.parameters.values())[1:]
        if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]


def _pragma_shapes(source: str) -> list[tuple[int, ...]] | None:
    m = PRAGMA.search(source)
    if not m:
        return None
    try:
        value = ast.literal_eval(m.group(1).strip())
    except (ValueError, SyntaxError):
        return None
    if isinstance(value, tuple | list) and value and all(isinstance(v, int) for v in value):
        return [tuple(value)]
    if isinstance(value, tuple | list) and all(isinstance(v, tuple | list) for v in value):
        return [tuple(int(x) for x in v) for v in value]
    return None


def _dataset_shape(text: str) -> tuple[int, int, int] | None:
    for pattern, c, h, w in DATASET_SHAPES:
        if re.search(pattern, text, re.I):
            return (c, h, w)
    return None


def _annotation_shapes(model: Any) -> list[tuple[int, ...]] | None:
    """jaxtyping-style `x: Float[Tensor, "batch 3 32 32"]` on forward."""
    try:
        src = inspect.getsource(type(model).forward)
    except (OSError, TypeError):
        return None
    m = re.search(r"\w+\s*:\s*\w+\[\s*\w+\s*,\s*[\"']([^\"']+)[\"']\s*\]", src)
    if not m:
        return None
    dims: list[int] = []
    for i, tok in enumerate(m.group(1).split()):
        if tok.isdigit():
            dims.append(int(tok))
        elif i == 0:
            dims.append(BATCH)
        else:
            return None
    return [tuple(dims)]


def _first_leaf(model: Any) -> Any:
    for m in model.modules():
        if not list(m.children()) and type(m).__module__.startswith("torch.nn"):
            return m
        if type(m).__name__ in ("MultiheadAttention", "TransformerEncoderLayer", "LSTM", "GRU"):
            return m
    return None


def _guesses_from_layer(layer: Any) -> tuple[list[list[tuple[int, ...]]], str, bool]:
    """Candidate inputs from the first layer's declared inputs: (candidates, words, integer)."""
    name = type(layer).__name__
    if name in ("Conv1d",):
        c = layer.in_channels
        return [[(BATCH, c, s)] for s in (64, 128, 32, 100, 256)], f"{name}(in_channels={c})", False
    if name in ("Conv2d", "ConvTranspose2d"):
        c = layer.in_channels
        return (
            [[(BATCH, c, s, s)] for s in (32, 28, 64, 224, 96, 128, 256, 16)],
            f"{name}(in_channels={c})",
            False,
        )
    if name == "Conv3d":
        c = layer.in_channels
        return [[(BATCH, c, s, s, s)] for s in (16, 32, 8)], f"{name}(in_channels={c})", False
    if name == "Linear":
        return [[(BATCH, layer.in_features)]], f"Linear(in_features={layer.in_features})", False
    if name in ("Embedding", "EmbeddingBag"):
        return [[(BATCH, 16)]], f"{name}({layer.num_embeddings}, …)", True
    if name in ("LSTM", "GRU", "RNN"):
        shape = (BATCH, 8, layer.input_size) if layer.batch_first else (8, BATCH, layer.input_size)
        return [[shape]], f"{name}(input_size={layer.input_size})", False
    if name in ("BatchNorm1d",):
        return [[(BATCH, layer.num_features)]], f"{name}({layer.num_features})", False
    if name in ("BatchNorm2d",):
        return (
            [[(BATCH, layer.num_features, s, s)] for s in (32, 28, 64)],
            f"{name}({layer.num_features})",
            False,
        )
    if name == "LayerNorm":
        d = tuple(layer.normalized_shape)
        return [[(BATCH, 8, *d)]], f"LayerNorm({d})", False
    if name == "TransformerEncoderLayer":
        d = layer.self_attn.embed_dim
        bf = getattr(layer.self_attn, "batch_first", False)
        return [[(BATCH, 8, d) if bf else (8, BATCH, d)]], f"{name}(d_model={d})", False
    if name == "MultiheadAttention":
        d = layer.embed_dim
        shape = (BATCH, 8, d) if layer.batch_first else (8, BATCH, d)
        return [[shape, shape, shape]], f"MultiheadAttention({d}, …)", False
    return [], name, False


def _torch_candidates(
    run: _Run, model: Any, payload: dict[str, Any]
) -> tuple[list[list[tuple[int, ...]]], str | None, bool]:
    first = _first_leaf(model)
    integer = type(first).__name__ in ("Embedding", "EmbeddingBag")
    typed = payload.get("inputs")
    if typed:  # a task's own spec: every input with its dtype
        shapes = [tuple(spec[0]) for spec in typed]
        run.input_dtypes = [str(spec[1]) for spec in typed]
        return [shapes], None, integer
    pragma = _pragma_shapes(run.source)
    if pragma:
        return [pragma], None, integer
    given = payload.get("input_shape")
    if given:  # stated by the user: it wins over any guess
        return [[tuple(given)]], None, integer
    ann = _annotation_shapes(model)
    if ann:
        return [ann], None, integer
    text = " ".join(filter(None, [payload.get("requirement") or "", run.source]))
    ds = _dataset_shape(text)
    if ds:
        cands = [[(BATCH, *ds)]]
        if type(first).__name__ == "Linear" and first.in_features == math.prod(ds):
            cands.insert(0, [(BATCH, math.prod(ds))])
        return (
            cands,
            f"input shape {cands[0][0]} assumed from the dataset named in the file",
            integer,
        )
    if first is None:
        return [], None, False
    cands, words, integer = _guesses_from_layer(first)
    if not cands:
        return [], None, False
    return (
        cands,
        (
            f"input shape {cands[0][0]} assumed from the first layer, {words}; set it with "
            "a `# deepeval: input=(…)` comment"
        ),
        integer,
    )


def _run_torch(run: _Run, model: Any, payload: dict[str, Any]) -> None:
    import torch

    model.eval()
    candidates, note, integer = _torch_candidates(run, model, payload)
    if not candidates:
        line = _entry_line(run)
        run.info.append(
            _info(
                line,
                run.lines,
                "input shape unknown: add a `# deepeval: "
                "input=(1, 3, 32, 32)` comment (or --input-shape) to check the "
                "forward pass",
            )
        )
        run.summary = _torch_summary(run, model, None, [], {})
        run.undecided = True
        return
    first_error: BaseException | None = None
    for i, shapes in enumerate(candidates):
        dtypes = run.input_dtypes or ["int64" if integer else "float32"] * len(shapes)
        inputs = [
            torch.zeros(s, dtype=torch.long) if d.startswith("int") else torch.empty(s)
            for s, d in zip(shapes, dtypes, strict=False)
        ]
        records: dict[int, dict[str, Any]] = {}
        run.records = records
        hooks = _summary_hooks(run, records)
        try:
            out = model(*inputs)
        except BaseException as e:
            if isinstance(e, KeyboardInterrupt):
                raise
            if first_error is None:
                first_error = e
            if i + 1 < len(candidates) and note is not None:
                continue
            raise first_error from None
        finally:
            for h in hooks:
                h.remove()
        if note is not None and i > 0:
            note = note.replace(str(candidates[0][0]), str(shapes[0]))
        run.input_note = note
        run.summary = _torch_summary(run, model, shapes, _out_shape(out), records)
        run.outputs = _outputs(run, out)
        return


def _entry_line(run: _Run) -> int:
    name = (run.entry or "").rstrip("()")
    for node in run.tree.body:
        if isinstance(node, ast.ClassDef | ast.FunctionDef) and node.name == name:
            return node.lineno - 1
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            return node.lineno - 1
    return 0


def _out_shape(out: Any) -> list[Any] | None:
    if hasattr(out, "shape"):
        return [None if d is None else int(d) for d in out.shape]
    if isinstance(out, tuple | list) and out:
        return _out_shape(out[0])
    if isinstance(out, dict) and out:
        return _out_shape(next(iter(out.values())))
    return None


# Layers whose literal argument sets one dimension of their output: (argument, positional index,
# dimension of the output it sets).
_SIZE_SETTERS = {
    "Linear": ("out_features", 1, -1),
    "Bilinear": ("out_features", 2, -1),
    "Conv1d": ("out_channels", 1, 1),
    "Conv2d": ("out_channels", 1, 1),
    "Conv3d": ("out_channels", 1, 1),
    "ConvTranspose1d": ("out_channels", 1, 1),
    "ConvTranspose2d": ("out_channels", 1, 1),
    "ConvTranspose3d": ("out_channels", 1, 1),
}


def _outputs(run: _Run, out: Any) -> list[dict[str, Any]] | None:
    """Each output tensor of forward (several when it returns a tuple or list): its shape and,
    when one is found, the layer whose size argument gave its size at that argument's dim."""
    tensors = list(out) if isinstance(out, tuple | list) else [out]
    if not tensors or not all(hasattr(t, "shape") for t in tensors):
        return None
    found = []
    for t in tensors:
        shape = [int(d) for d in t.shape]
        item: dict[str, Any] = {"shape": shape}
        # the layer that made this very tensor, else the last one run whose size it carries
        made = run.producers.get(id(t))
        for m in [made, *(run.producers.get(id(o)) for o in reversed(run.alive))]:
            setter = _SIZE_SETTERS.get(type(m).__name__) if m is not None else None
            if setter is None:
                continue
            param, _, dim = setter
            if len(shape) < 2 or shape[dim] != getattr(m, param, None):
                continue
            if (
                m is not made
                and dim != -1
                and len(shape) != len(run.records.get(id(m), {}).get("output") or [])
            ):
                continue
            item.update(
                layer=_layer_name(run, m),
                type=type(m).__name__,
                param=param,
                dim=dim,
                range=_site_range(run, m),
            )
            break
        found.append(item)
    return found


def _summary_hooks(run: _Run, records: dict[int, dict[str, Any]]) -> list[Any]:
    from torch.nn.modules import module as mod

    def pre(m: Any, args: Any) -> None:
        if args and hasattr(args[0], "shape"):
            run.inputs_of[id(m)] = args[0]
        if id(m) in records:
            records[id(m)]["last"] = [_out_shape(a) for a in args if hasattr(a, "shape")]
            return
        line = None
        f = sys._getframe(1)
        while f is not None:
            if f.f_code.co_filename == run.path:
                line = f.f_lineno - 1
                break
            f = f.f_back
        records[id(m)] = {
            "input": _out_shape(args[0]) if args else None,
            "line": line,
            "order": len(records),
            "last": [_out_shape(a) for a in args if hasattr(a, "shape")],
        }

    def post(m: Any, args: Any, out: Any) -> None:
        if hasattr(out, "shape"):
            run.producers.setdefault(id(out), m)  # the innermost module made it
            run.alive.append(out)  # keeps ids unique while the forward runs
        rec = records.get(id(m))
        if rec is not None and "output" not in rec:
            rec["output"] = _out_shape(out)

    return [mod.register_module_forward_pre_hook(pre), mod.register_module_forward_hook(post)]


def _site_range(run: _Run, obj: Any) -> list[int] | None:
    site = site_of(obj)
    if site is None:
        return None
    line, end_line, col, end_col = site
    return [
        line - 1,
        _char(run.lines, line, col),
        end_line - 1,
        _char(run.lines, end_line, end_col),
    ]


def _char(lines: list[str], line1: int, byte_col: int) -> int:
    text = lines[line1 - 1] if 0 < line1 <= len(lines) else ""
    if text.isascii():
        return byte_col
    return len(text.encode("utf-8")[:byte_col].decode("utf-8", errors="ignore"))


def _torch_summary(
    run: _Run, model: Any, shapes: Any, out: Any, records: dict[int, dict[str, Any]]
) -> dict[str, Any]:
    layers = []
    for name, m in model.named_modules():
        rec = records.get(id(m))
        if name and rec is None:
            continue
        layers.append(
            {
                "name": name or type(m).__name__,
                "type": type(m).__name__,
                "input_shape": rec.get("input") if rec else None,
                "output_shape": rec.get("output") if rec else None,
                "params": sum(p.numel() for p in m.parameters()),
                "depth": name.count(".") + 1 if name else 0,
                "range": _site_range(run, m),
                "line": rec.get("line") if rec else None,
                "_order": rec["order"] if rec else -1,
            }
        )
    for layer in layers:
        layer.pop("_order")
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return {
        "framework": "torch",
        "entry_point": run.entry or "",
        "input_shapes": [list(s) for s in shapes or []],
        "output_shape": out,
        "total_params": total,
        "trainable_params": trainable,
        "layers": layers,
    }


def _run_keras(run: _Run, model: Any, payload: dict[str, Any], study_contract: bool) -> None:
    import keras

    if not model.built:
        shape = None
        pragma = _pragma_shapes(run.source)
        text = " ".join(filter(None, [payload.get("requirement") or "", run.source]))
        ds = _dataset_shape(text)
        if pragma:
            shape = pragma[0]
        elif ds:
            shape = (BATCH, ds[1], ds[2], ds[0])
            run.input_note = f"input shape {shape} assumed from the dataset named in the file"
        elif payload.get("input_shape"):
            shape = tuple(payload["input_shape"])
        if shape is not None:
            model(keras.ops.zeros(shape))
        elif not study_contract:
            run.info.append(
                _info(
                    _entry_line(run),
                    run.lines,
                    "input shape unknown: the model is not built; add an Input(…) "
                    "or a `# deepeval: input=(…)` comment to check it",
                )
            )
            run.undecided = True
            return
    if not model.built:
        # What the study's summary() call catches ("This model has not yet been built"); on a
        # built model it renders a rich table (~half of a Keras check) that finds nothing more
        # than walking the layers below does.
        model.summary(print_fn=lambda *a, **k: None)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=0.01),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=["accuracy"],
    )
    run.summary = _keras_summary(run, model)


def _keras_summary(run: _Run, model: Any) -> dict[str, Any]:
    layers = []
    for layer in model.layers:
        try:
            out = _out_shape(layer.output)
        except (AttributeError, ValueError, RuntimeError):
            out = None
        try:
            inp = _out_shape(layer.input)
        except (AttributeError, ValueError, RuntimeError):
            inp = None
        try:
            params = int(layer.count_params())
        except ValueError:
            params = 0
        layers.append(
            {
                "name": layer.name,
                "type": type(layer).__name__,
                "input_shape": inp,
                "output_shape": out,
                "params": params,
                "depth": 1,
                "range": _site_range(run, layer),
                "line": None,
            }
        )
    try:
        inputs = [_out_shape(t) for t in model.inputs]
        output = _out_shape(model.outputs[0]) if model.outputs else None
    except (AttributeError, ValueError):
        inputs, output = [], None
    trainable = sum(math.prod(w.shape) for w in model.trainable_weights)
    return {
        "framework": "keras",
        "entry_point": run.entry or "",
        "input_shapes": inputs,
        "output_shape": output,
        "total_params": int(model.count_params()),
        "trainable_params": int(trainable),
        "layers": layers,
    }


# ---------------------------------------------------------------------------------------------
# Errors: location, culprit, classification, fix


def _record_error(run: _Run, exc: BaseException, ns: dict[str, Any]) -> None:
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
        if obj is not None and (_is_layer(obj)):
            culprit = obj
            break
    if culprit is not None:
        culprit_frames = [t.tb_frame for t in frames if t.tb_frame.f_locals.get("self") is culprit]
    site_rng = _site_range(run, culprit) if culprit is not None else None
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
            _char(run.lines, line, col),
            end_line - 1,
            _char(run.lines, end_line, end_col),
        ]
    elif user_tb is None and site_rng is not None:
        rng = site_rng
    elif user_tb is not None:
        pos = code_position_tb(user_tb)
        line, end_line, col, end_col = pos
        rng = [
            line - 1,
            _char(run.lines, line, col),
            end_line - 1,
            _char(run.lines, end_line, end_col),
        ]
        if rng[2] == rng[0] and rng[3] <= rng[1]:
            text = run.lines[line - 1] if 0 < line <= len(run.lines) else ""
            rng = [line - 1, len(text) - len(text.lstrip()), line - 1, len(text)]
    elif isinstance(exc, SyntaxError) and exc.lineno:
        rng = [exc.lineno - 1, max((exc.offset or 1) - 1, 0), exc.lineno - 1, exc.offset or 1]
    else:
        line0 = _entry_line(run)
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
    if rec is not None and rec.get("last") and not _is_keras_layer(culprit):
        inputs = [_Shaped(s) for s in rec["last"]]  # as called, before forward() reshaped them
    if message.startswith("Invalid channel dimensions") and inputs and culprit is not None:
        message = _conv_wording(culprit, inputs[0]) or message
    related = []
    layer_name = None
    if culprit is not None:
        layer_name = _layer_name(run, culprit)
        site = _site_range(run, culprit)
        shapes = [s for s in (_out_shape(x) for x in inputs) if s is not None]
        if shapes and code == T.SHAPE_MISMATCH and culprit is not run.model:
            shown = ", ".join(
                "(" + ", ".join("None" if d is None else str(d) for d in s) + ")" for s in shapes
            )
            message += f" [{layer_name} received input of shape {shown}]"
        if site is not None and site[0] != rng[0]:
            related.append({"range": site, "message": f"{layer_name} is constructed here"})
    if code == T.NOT_CHECKABLE and exc_type not in ("MissingPackageUsed",):
        message = f"not checkable on the meta device: {message}"
    run.error = {
        "code": code,
        "range": rng,
        "message": message,
        "python_error": exc_type,
        "layer": layer_name,
        "related": related,
        "traceback": "".join(traceback.format_exception(exc))[-4000:],
    }
    if code == T.SHAPE_MISMATCH and culprit is not None:
        try:
            merge = getattr(exc, MERGE_ATTR, None)
            # a sum takes equal channels: only their sizes can be padded to match
            if merge and len({tuple((_out_shape(t) or [None])[:2]) for t in merge}) != 1:
                merge = None
            cat = getattr(exc, CAT_ATTR, None) or (merge and (merge, 1))
            if cat is not None:
                run.proposal = torch_cat_fix(
                    cat[0], cat[1], run.producers, run.inputs_of, run.tree, run.lines, run.alive
                )
            elif _is_keras_layer(culprit):
                run.proposal = keras_fix(culprit, inputs, run.tree, run.lines)
            else:
                run.proposal = torch_fix(culprit, inputs, run.tree, run.lines)
        except Exception:
            run.proposal = None
        for where, note in run.proposal.related if run.proposal else []:
            related.append({"range": list(where), "message": note})
    if code in (T.SHAPE_MISMATCH, T.INPUT_ARGUMENT_MISMATCH):
        _cat_dim_first(run, exc, culprit, inputs)


def _cat_dim_first(run: _Run, exc: BaseException, culprit: Any, inputs: list[Any]) -> None:
    """A cat along the wrong dim: changing its dim is the fix, the culprit's own comes second
    (a padding fix for a failing cat stays first: branches of unequal size are likelier).
    Without a fix that names the cat, the latest cats become `tentative`: tried in the loop."""
    cat = getattr(exc, CAT_ATTR, None)
    found = None
    try:
        if cat is not None:
            found = failed_cat_dim_fix(cat[0], cat[1], cat[2], run.tree, run.lines)
        else:
            if culprit is not None and not _is_keras_layer(culprit) and run.proposal is not None:
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


def _try_cat_dims(
    run: _Run,
    source: str,
    path: str,
    payload: dict[str, Any],
    plan: dict[str, Any],
    trials: int = 4,
) -> None:
    """The first of `run.tentative` with which the model runs without error becomes the fix
    (a cat upstream along the wrong dim, whose error shows further on)."""
    for cand in run.tentative[:trials]:
        if _run_once(_apply(source, cand.proposal.edits), path, payload, plan).error is None:
            if run.proposal is not None:
                run.alternatives.insert(0, run.proposal)
            run.proposal = cand.proposal
            related = [
                r
                for r in run.error["related"]  # type: ignore[index]
                if not r["message"].startswith("torch.cat along")
            ]
            run.error["related"] = [*related, {"range": list(cand.where), "message": cand.note}]  # type: ignore[index]
            break
    linecache.cache[path] = (len(source), None, source.splitlines(keepends=True), path)


def code_position_tb(tb: Any) -> tuple[int, int, int, int]:
    class _F:  # code_position reads f_code and f_lasti
        f_code = tb.tb_frame.f_code
        f_lasti = tb.tb_lasti
        f_lineno = tb.tb_lineno

    return code_position(_F) or (tb.tb_lineno, tb.tb_lineno, 0, 0)


def _is_keras_layer(obj: Any) -> bool:
    keras = sys.modules.get("keras")
    return keras is not None and isinstance(obj, keras.layers.Layer)


def _is_layer(obj: Any) -> bool:
    # On the torch backend Keras layers are nn.Modules too.
    return _is_torch_module(obj) or _is_keras_layer(obj)


def _layer_name(run: _Run, layer: Any) -> str:
    cls = type(layer).__name__
    if not _is_keras_layer(layer) and _is_torch_module(run.model):
        for name, m in run.model.named_modules():
            if m is layer:
                shown = _display(name)
                if shown.startswith("[") and (run.entry or "").isidentifier():
                    shown = f"{run.entry}{shown}"  # model[3], as the user would index it
                return f"{shown} ({cls})" if name else cls
    name = getattr(layer, "name", None)
    if isinstance(name, str) and name:
        return f"{name} ({cls})"
    return cls


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


def _display(name: str) -> str:
    """`layers.0.conv` -> `layers[0].conv`; `3` -> `[3]` (how the user would index it)."""
    out = ""
    for part in name.split("."):
        out += f"[{part}]" if part.isdigit() else (f".{part}" if out else part)
    return out


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
