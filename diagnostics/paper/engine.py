"""The paper-compatible engine: programs run as the DeepEval study ran them, on Keras 2 semantics.

The study imported each generated program as a module, called `dl_model()`, `model.summary()` and
`model.compile(optimizer=Adam(learning_rate=0.01), loss=SparseCategoricalCrossentropy(),
metrics=["accuracy"])` on TensorFlow 2.11 / Keras 2.11; a program was executable when nothing
raised. This engine reproduces that on TensorFlow + tf-keras (the `paper` extra):

- `warm()` prepares a zygote process: TensorFlow's thread pools are set to one thread BEFORE
  anything runs (a forked child of a process whose pool threads hold locks hangs until its
  timeout), `keras` imports get tf-keras's implementation modules (`tf_keras.src`, laid out as
  Keras 2.11's own package was; the study's `import keras` was Keras 2), `keras.layers.tf` and
  `keras.backend.tf` are the tensorflow module as Keras 2.11 exposed them, the dataset loaders
  and pretrained-weight downloads are offline stand-ins, `plot_model` lays a model out without
  rendering it, and what building and compiling a model imports is loaded (without running any
  TensorFlow op) so that no forked child pays for it.
- `WorkerPool(size, engine=engines.PAPER)` (diagnostics/dynamic/worker_pool.py, engines.py)
  starts such zygotes, with `ENV` in their environment and `LIMITS` as the children's rlimits,
  and forks one sandboxed child per job, as for the default engine.
- `run_job(payload)` runs in the sandboxed, forked child: it imports the whole program (module
  level code included, as the study did: some programs load data or train at import time) and
  applies the study's contract; the verdict is executable or the exception in the study's
  taxonomy (Python error, DL error, root cause).

The default engine (Keras 3 on torch, diagnostics/dynamic/child/) never imports this module.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import linecache
import os
import re
import sys
import time
import traceback
import types
from typing import Any

from deepeval_lsp.diagnostics import taxonomy as T
from deepeval_lsp.diagnostics.datasets import KERAS_DATASETS
from deepeval_lsp.diagnostics.dynamic.child.error_classifier import classify
from deepeval_lsp.diagnostics.dynamic.wire import JobPayload, PaperVerdict
from deepeval_lsp.diagnostics.paper.settings import ENV, JOB, LIMITS  # noqa: F401 (the engine's own)

MODULE_NAME = "generated_code"  # the study imported generated_code_<k>.py as a module
# Offline stand-ins: per-sample shapes, dtypes and label layout of the real data sets, with few
# samples (programs that train at import time then finish in well under a second per epoch).
DATASETS = {
    d.name: (d.sample, d.label, d.classes)
    for d in KERAS_DATASETS
    if d.image_chw is not None and d.classes is not None
}
TRAIN_SAMPLES = 64
TEST_SAMPLES = 16


def available() -> str | None:
    """None when the engine can run here, else the one-line reason it cannot."""
    missing = [m for m in ("tensorflow", "tf_keras") if importlib.util.find_spec(m) is None]
    if missing:
        return (
            f"the paper-compatible engine needs {' and '.join(missing)}: "
            "pip install 'deepeval-lsp[paper]'"
        )
    return None


# ---------------------------------------------------------------- keras -> tf_keras


class _KerasToTfKeras(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """`import keras…` gets tf-keras's implementation modules, as Keras 2.11's own package was
    laid out: `keras.layers`, `keras.engine`, `keras.utils.np_utils`, `keras.applications.resnet`
    (with its `ResNet`) are modules of `tf_keras.src`, where Keras 2.11 had them. tf-keras's
    public-API modules (`tf_keras.applications.resnet50`, `tf_keras.layers.experimental`) are
    what `tf.keras` gives, as in TensorFlow 2.11: `import keras.applications.resnet50` failed
    there and fails here. Only `keras.api`, Keras 2.11's copy of that API, maps to them."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname != "keras" and not fullname.startswith("keras."):
            return None
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec: Any) -> types.ModuleType:
        rest = spec.name[len("keras") :]
        target = "tf_keras" + rest if rest.startswith(".api") else "tf_keras.src" + rest
        try:
            return importlib.import_module(target)
        except ModuleNotFoundError as e:
            if e.name is not None and e.name != target and not target.startswith(e.name + "."):
                raise  # the module exists but something it imports does not
            raise ModuleNotFoundError(f"No module named {spec.name!r}", name=spec.name) from None

    def exec_module(self, module: types.ModuleType) -> None:
        return None


def _redirect_keras() -> None:
    for name in [n for n in sys.modules if n == "keras" or n.startswith("keras.")]:
        del sys.modules[name]  # a Keras 3 imported before would shadow the redirect
    if not any(isinstance(f, _KerasToTfKeras) for f in sys.meta_path):
        sys.meta_path.insert(0, _KerasToTfKeras())


def _expose_tf(tf: types.ModuleType) -> None:
    """Keras 2.11's layers and backend modules imported tensorflow as `tf`, and programs used
    `keras.layers.tf.…` / `K.tf.…`; tf-keras's public API no longer exposes it (its
    implementation modules, which `import keras` gets, still do)."""
    import tf_keras

    for keras_mod in (tf_keras, tf.keras):
        for sub in ("layers", "backend"):
            mod = getattr(keras_mod, sub, None)
            if mod is not None and not hasattr(mod, "tf"):
                mod.tf = tf


# ---------------------------------------------------------------- offline data sets


def _stand_in(name: str) -> Any:
    sample, label, classes = DATASETS[name]

    def load_data(*args: Any, **kwargs: Any) -> Any:
        import numpy as np

        rng = np.random.default_rng(0)

        def part(n: int) -> tuple[Any, Any]:
            x = rng.integers(0, 256, size=(n, *sample), dtype=np.uint8)
            y = rng.integers(0, classes, size=(n, *label), dtype=np.uint8)
            return x, y

        return part(TRAIN_SAMPLES), part(TEST_SAMPLES)

    load_data.__name__ = "load_data"
    load_data.__doc__ = f"Offline stand-in for {name}.load_data(): synthetic, real shapes."
    return load_data


def _patch_datasets() -> None:
    prefixes = ("tf_keras.", "tensorflow.keras.", "keras.", "tensorflow.python.keras.")
    for name in DATASETS:
        for mod_name in (
            f"tf_keras.datasets.{name}",
            f"tf_keras.src.datasets.{name}",
            f"tensorflow.keras.datasets.{name}",
        ):
            with contextlib.suppress(ImportError):
                importlib.import_module(mod_name)
        fake = _stand_in(name)
        for mod_name, mod in list(sys.modules.items()):
            if mod is None or not mod_name.endswith(f"datasets.{name}"):
                continue
            if mod_name.startswith(prefixes) and hasattr(mod, "load_data"):
                mod.load_data = fake


OFFLINE_WEIGHTS = "<offline stand-in for downloaded weights>"


def _offline_weights() -> None:
    """`keras.applications.VGG16(weights="imagenet")` and the like download their weights.
    Offline, the download returns a stand-in that `load_weights` accepts and ignores: the model
    is built and checked exactly as in the study (input-shape validation included); only the
    values of its weights differ, which no executability check looks at."""
    from tf_keras.src.engine import training
    from tf_keras.src.utils import data_utils

    real_get_file = data_utils.get_file
    real_load_weights = training.Model.load_weights

    def get_file(fname: Any = None, origin: Any = None, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("cache_subdir") == "models":
            return OFFLINE_WEIGHTS
        return real_get_file(fname, origin, *args, **kwargs)

    def load_weights(self: Any, filepath: Any, *args: Any, **kwargs: Any) -> Any:
        if filepath == OFFLINE_WEIGHTS:
            return None
        return real_load_weights(self, filepath, *args, **kwargs)

    data_utils.get_file = get_file
    training.Model.load_weights = load_weights
    for mod_name, mod in list(sys.modules.items()):
        if mod_name.startswith("tf_keras.") and getattr(mod, "get_file", None) is real_get_file:
            mod.get_file = get_file


def _plot_without_dot() -> None:
    """`plot_model` lays the model out with pydot, as in the study (whose environment had pydot
    and Graphviz), but renders no image: that runs Graphviz's `dot` in a child process, which
    the sandbox does not start. What can fail on the model's structure (`model_to_dot`) runs."""
    from tf_keras.src.utils import vis_utils

    if vis_utils.pydot is None:
        return  # without pydot plot_model fails as it would have
    vis_utils.check_graphviz = vis_utils.check_pydot

    def write(
        self: Any, path: Any, prog: Any = None, format: str = "raw", encoding: Any = None
    ) -> bool:
        self.to_string()
        return True

    vis_utils.pydot.Dot.write = write


def _one_epoch() -> None:
    """Programs that train at import time train for one epoch on the stand-in data: an error
    of fit() (a loss that does not fit the labels, a wrong shape) shows in its first step, and
    ten epochs of a 100-million-weight model on one thread would outlast any timeout."""
    from tf_keras.src.engine import training

    real_fit = training.Model.fit

    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        if len(args) > 3:
            args = (*args[:3], 1, *args[4:])
        else:
            kwargs["epochs"] = int(kwargs.get("initial_epoch") or 0) + 1
        if len(args) <= 4:
            kwargs["verbose"] = 0
        return real_fit(self, *args, **kwargs)

    fit.__doc__ = real_fit.__doc__
    training.Model.fit = fit


# ---------------------------------------------------------------- the zygote


def warm() -> list[str]:
    """Prepare this (zygote) process for the paper engine; the problems met, if any. Must run
    before any TensorFlow op, so before anything else imports TensorFlow."""
    reason = available()
    if reason:
        return [reason]
    for k, v in ENV.items():
        os.environ.setdefault(k, v)
    problems: list[str] = []
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    with contextlib.suppress(Exception):
        tf.config.set_visible_devices([], "GPU")
    tf.get_logger().setLevel("ERROR")
    _redirect_keras()
    _expose_tf(tf)
    _patch_datasets()
    try:
        _warm_model(tf)
    except Exception as e:  # the engine still works, each child then pays for the imports
        problems.append(f"paper engine warm-up failed: {type(e).__name__}: {e}")
    _offline_weights()
    _plot_without_dot()
    _one_epoch()
    gc.collect()
    return problems


def _warm_model(tf: Any) -> None:
    """Load, without running anything, what building and compiling a model imports. No
    TensorFlow op may run here: the first one starts process-wide thread pools (tf_Compute,
    tf_graph_runner) that a forked child does not inherit, and its first op waiting on them
    hangs until the timeout; each child starts its own on first use instead."""
    import tf_keras

    for name in (
        "layers",
        "models",
        "optimizers",
        "losses",
        "metrics",
        "callbacks",
        "utils",
        "regularizers",
        "initializers",
        "activations",
        "applications",
        "backend",
        "preprocessing",
        "datasets",
    ):
        getattr(tf_keras, name)
        getattr(tf.keras, name)
    for name in (
        "vgg16",
        "vgg19",
        "resnet",
        "resnet50",
        "resnet_v2",
        "mobilenet",
        "mobilenet_v2",
        "inception_v3",
        "densenet",
        "efficientnet",
        "xception",
    ):
        with contextlib.suppress(ImportError):
            importlib.import_module(f"tf_keras.src.applications.{name}")
    for name in (
        "engine.functional",
        "engine.training",
        "engine.sequential",
        "optimizers.adam",
        "losses",
        "metrics",
        "utils.layer_utils",
        "utils.vis_utils",
        "saving.legacy.hdf5_format",
    ):
        with contextlib.suppress(ImportError):
            importlib.import_module(f"tf_keras.src.{name}")


def _contract(model: Any, print_fn: Any = None) -> None:
    """The study's check after `dl_model()` returned."""
    from tensorflow.keras.losses import SparseCategoricalCrossentropy
    from tensorflow.keras.optimizers import Adam

    if print_fn is None:
        model.summary()
    else:
        model.summary(print_fn=print_fn)
    model.compile(
        optimizer=Adam(learning_rate=0.01),
        loss=SparseCategoricalCrossentropy(),
        metrics=["accuracy"],
    )


# ---------------------------------------------------------------- the job


def run_job(payload: JobPayload) -> PaperVerdict:
    """Import the program and apply the study's contract, in this sandboxed child; the verdict.

    Returns {"status": "ok", "executable": bool, "seconds": float} and, when it failed,
    "python_error", "message", "code", "dl_error", "root_cause", and where in the program it
    failed: "line" and "end_line" (1-based), "col" and "end_col" (0-based UTF-8 offsets, as in
    a traceback), each None where unknown. A failure of `summary()` or `compile()` outside the
    program's own code is placed at `def dl_model`.
    """
    source: str = payload["source"]
    path: str = payload.get("path") or f"{MODULE_NAME}.py"
    t0 = time.perf_counter()
    module = types.ModuleType(MODULE_NAME)
    module.__file__ = path
    sys.modules[MODULE_NAME] = module
    linecache.cache[path] = (len(source), None, source.splitlines(keepends=True), path)
    built = False
    # the program's command line is its own path, no arguments: not the worker's
    sys.argv = [path]
    try:
        code = compile(source, path, "exec", dont_inherit=True)
        exec(code, module.__dict__)
        model = module.dl_model()
        built = True
        _contract(model)
    except Exception as e:  # the study counted every exception as a failure
        result = verdict(e, path)
        entry = getattr(module.__dict__.get("dl_model"), "__code__", None)
        if built and result["line"] is None and entry and entry.co_filename == path:
            result["line"] = result["end_line"] = entry.co_firstlineno
    else:
        result = {"status": "ok", "executable": True}
    result["seconds"] = round(time.perf_counter() - t0, 3)
    return result


def verdict(exc: BaseException, path: str) -> PaperVerdict:
    """A failure in the study's taxonomy, located at the program's deepest line on the stack."""
    exc_type = type(exc).__name__
    message = str(exc) or exc_type
    code = classify_keras2(exc_type, message)
    line = end_line = col = end_col = None
    for fs in traceback.extract_tb(exc.__traceback__):
        if fs.filename == path:
            line, end_line, col, end_col = fs.lineno, fs.end_lineno, fs.colno, fs.end_colno
    if isinstance(exc, SyntaxError) and line is None:
        line = exc.lineno  # its offsets count characters, not bytes: leave them
    info = T.CODES[code]
    return {
        "status": "ok",
        "executable": False,
        "python_error": exc_type,
        "message": _as_written(_graph_error(message))[:1000],
        "code": code,
        "dl_error": info.dl_error,
        "root_cause": str(info.root_cause),
        "line": line,
        "end_line": end_line,
        "col": col,
        "end_col": end_col,
    }


def _as_written(message: str) -> str:
    """The message in the program's terms: `keras.layers`, not the tf-keras module the import
    was redirected to (`tf_keras.layers`, `tf_keras.api._v2.keras.layers`), and without the path
    of that module's file."""
    message = re.sub(r" \([^()\s]*[/\\]tf_keras[/\\][^()\s]*\)", "", message)
    return re.sub(r"\btf_keras\.(?:src\.|api\._v2\.keras\.)?", "keras.", message)


def _graph_error(message: str) -> str:
    """A traced function's error ("in user code:", the traced frames, then the error) as the
    error alone, which the frames would push past any length limit."""
    if not message.startswith("in user code:"):
        return message
    last = re.findall(r"^\s*\w+(?:Error|Exception): (.+)$", message, flags=re.M)
    return last[-1].strip() if last else message


# Keras 2 / TensorFlow wordings that the shared classifier (torch and Keras 3 wordings) reads
# differently or not at all, checked first: (python error, pattern, code).
_KERAS2: list[tuple[str, str, str]] = [
    (
        "ValueError",
        r"A KerasTensor cannot be used as input to a TensorFlow function",
        T.INVALID_INPUT_TYPE,
    ),
    ("ValueError", r"Graph disconnected", T.GRAPH_DISCONNECTION),
    # a merge layer given one tensor where it takes a list: the argument's value is wrong
    (
        "ValueError",
        r"A merge layer should be called on a list of inputs\.",
        T.INVALID_ARGUMENT_VALUE,
    ),
    # len() of a symbolic tensor (e.g. Reshape(x.shape)): a tensor where a tuple is expected
    ("TypeError", r"Keras symbolic inputs/outputs do not implement", T.INVALID_ARGUMENT_TYPE),
    # A kernel or pool larger than its input, a softmax axis the input lacks: the study's
    # InputTensor-API Argument Mismatch, whose count per model (codellama 29, deepseek 13, gemma
    # 3, gpt_4o 1) is these errors' count in its programs.
    ("ValueError", r"Negative dimension size", T.INPUT_ARGUMENT_MISMATCH),
    ("InvalidArgumentError", r"`dim` must be in the range", T.INPUT_ARGUMENT_MISMATCH),
    (
        "ValueError",
        r"should be called on a list of at least|"
        r"expects \d+ input\(s\)|but it received \d+ input tensors",
        T.TENSOR_NUMBERS_MISMATCH,
    ),
    (
        "ValueError",
        r"is incompatible with the layer|"
        r"A `Concatenate` layer requires inputs with matching shapes|"
        r"Operands could not be broadcast|Dimensions must be equal|"
        r"Shapes .* are incompatible|cannot reshape|total size of new array|"
        r"Input \d+ of layer .* is incompatible|expected ndim=",
        T.SHAPE_MISMATCH,
    ),
]


def classify_keras2(exc_type: str, message: str) -> str:
    """The study's DL error code for an exception raised under TensorFlow / Keras 2."""
    if exc_type == "NameError":
        # The study's taxonomy has no undefined-variable category: every NameError is a
        # missing import there.
        return T.MISSING_IMPORT
    if exc_type in ("IndentationError", "TabError"):
        return T.SYNTAX_ERROR
    for etype, pattern, code in _KERAS2:
        if exc_type == etype and re.search(pattern, message):
            return code
    code = classify(exc_type, message)
    if code in (T.NOT_CHECKABLE, T.SANDBOX_VIOLATION, T.TIMEOUT):
        # Nothing here is "not checkable": the program ran on a real engine, as in the study.
        return T.RUNTIME_ERROR
    return code
