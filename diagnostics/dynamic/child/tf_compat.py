"""`tensorflow` for programs that only use it for Keras: `tensorflow.keras` and common `tf.*` ops.

A third of LLM-written Keras programs import tensorflow. The default engine runs them on Keras 3
(torch backend): `tensorflow.keras…` imports resolve to `keras…`, and the common `tf.*` ops map to
`keras.ops`. A `tf.*` name with no mapping raises TensorFlowCompatGap, which the dynamic pass
reports as Not Checkable, never as the user's mistake. (The paper-faithful TensorFlow engine is a
separate, optional one.)
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
from typing import Any


class TensorFlowCompatGap(AttributeError):
    """A tensorflow name that the Keras 3 compatibility layer does not provide."""


def _ops() -> Any:
    import keras

    return keras.ops


def _f(name: str, **rename: str) -> Any:
    def call(*args: Any, **kwargs: Any) -> Any:
        for old, new in rename.items():
            if old in kwargs:
                kwargs[new] = kwargs.pop(old)
        kwargs.pop("name", None)
        return getattr(_ops(), name)(*args, **kwargs)

    call.__name__ = name
    return call


def _split(
    value: Any, num_or_size_splits: Any, axis: int = 0, num: Any = None, name: Any = None
) -> Any:
    if isinstance(num_or_size_splits, list | tuple):
        idx, acc = [], 0
        for s in num_or_size_splits[:-1]:
            acc += int(s)
            idx.append(acc)
        return _ops().split(value, idx, axis=axis)
    return _ops().split(value, num_or_size_splits, axis=axis)


def _pad(
    tensor: Any, paddings: Any, mode: str = "CONSTANT", constant_values: Any = 0, name: Any = None
) -> Any:
    return _ops().pad(tensor, paddings, mode=mode.lower(), constant_values=constant_values)


def _resize(images: Any, size: Any, method: str = "bilinear", **_: Any) -> Any:
    return _ops().image.resize(images, size, interpolation=str(method).lower())


def _identity(x: Any, name: Any = None) -> Any:
    return x


class SymbolicDim(int):
    """A size read with `tf.shape()` from a Keras tensor. TensorFlow gives a symbolic scalar
    there, not an int, and Keras 2 refuses it where it needs Python ints (a `Reshape` target):
    the mark survives arithmetic so that the `Reshape` check can say so."""

    __slots__ = ()


def _keep_mark(op: str) -> Any:
    real = getattr(int, op)

    def apply(self: int, *other: Any) -> Any:
        out = real(self, *other)
        return SymbolicDim(out) if type(out) is int else out

    apply.__name__ = op
    return apply


for _op in (
    "__add__",
    "__radd__",
    "__sub__",
    "__rsub__",
    "__mul__",
    "__rmul__",
    "__floordiv__",
    "__rfloordiv__",
    "__mod__",
    "__rmod__",
    "__pow__",
    "__neg__",
    "__abs__",
):
    setattr(SymbolicDim, _op, _keep_mark(_op))
del _op


def _shape(input: Any, out_type: Any = None, name: Any = None) -> Any:
    import keras

    shape = _ops().shape(input)
    if isinstance(input, keras.KerasTensor):
        return tuple(None if d is None else SymbolicDim(d) for d in shape)
    return shape


OPS: dict[str, Any] = {
    "concat": _f("concatenate", values="xs"),
    "reshape": _f("reshape", tensor="x", shape="newshape"),
    "add": _f("add"),
    "subtract": _f("subtract"),
    "multiply": _f("multiply"),
    "divide": _f("divide"),
    "matmul": _f("matmul", a="x1", b="x2"),
    "add_n": lambda inputs, name=None: _ops().sum(_ops().stack(inputs), axis=0),
    "expand_dims": _f("expand_dims", input="x"),
    "squeeze": _f("squeeze", input="x"),
    "split": _split,
    "stack": _f("stack", values="x"),
    "unstack": _f("unstack", value="x"),
    "transpose": _f("transpose", a="x", perm="axes"),
    "reduce_mean": _f("mean", input_tensor="x"),
    "reduce_sum": _f("sum", input_tensor="x"),
    "reduce_max": _f("max", input_tensor="x"),
    "reduce_min": _f("min", input_tensor="x"),
    "shape": _shape,
    "cast": _f("cast", x="x"),
    "zeros": _f("zeros"),
    "ones": _f("ones"),
    "zeros_like": _f("zeros_like", input="x"),
    "ones_like": _f("ones_like", input="x"),
    "constant": lambda value, dtype=None, shape=None, name=None: _ops().convert_to_tensor(
        value, dtype=dtype
    ),
    "convert_to_tensor": _f("convert_to_tensor", value="x"),
    "maximum": _f("maximum"),
    "minimum": _f("minimum"),
    "sqrt": _f("sqrt"),
    "exp": _f("exp"),
    "square": _f("square"),
    "abs": _f("abs"),
    "pad": _pad,
    "tile": _f("tile", multiples="repeats"),
    "sigmoid": _f("sigmoid"),
    "tanh": _f("tanh"),
    "clip_by_value": _f("clip"),
    "one_hot": _f("one_hot", indices="x", depth="num_classes"),
    "argmax": _f("argmax"),
    "identity": _identity,
    "gather": _f("take"),
    "where": _f("where"),
    "einsum": _f("einsum"),
    "range": _f("arange"),
    "__version__": "2.16.1",
    "newaxis": None,
    "float32": "float32",
    "float16": "float16",
    "float64": "float64",
    "int32": "int32",
    "int64": "int64",
    "bool": "bool",
    "uint8": "uint8",
    "string": "string",
}
NN = {
    "relu": _f("relu"),
    "relu6": _f("relu6"),
    "softmax": _f("softmax", logits="x"),
    "sigmoid": _f("sigmoid"),
    "tanh": _f("tanh"),
    "elu": _f("elu"),
    "selu": _f("selu"),
    "gelu": _f("gelu"),
    "silu": _f("silu"),
    "swish": _f("silu"),
    "leaky_relu": _f("leaky_relu"),
    "log_softmax": _f("log_softmax", logits="x"),
    "softplus": _f("softplus"),
    "depth_to_space": lambda x, block_size, **_: (
        _ops().depth_to_space(x, block_size)
        if hasattr(_ops(), "depth_to_space")
        else _gap("nn.depth_to_space")
    ),
}
MATH = {
    "add": OPS["add"],
    "multiply": OPS["multiply"],
    "reduce_mean": OPS["reduce_mean"],
    "reduce_sum": OPS["reduce_sum"],
    "sqrt": OPS["sqrt"],
    "exp": OPS["exp"],
    "sigmoid": OPS["sigmoid"],
    "tanh": OPS["tanh"],
    "maximum": OPS["maximum"],
    "minimum": OPS["minimum"],
    "square": OPS["square"],
    "abs": OPS["abs"],
    "divide": OPS["divide"],
    "subtract": OPS["subtract"],
    "log": _f("log"),
}


def _gap(name: str) -> Any:
    raise TensorFlowCompatGap(f"tensorflow.{name} has no Keras 3 equivalent in this engine")


class _Namespace(types.ModuleType):
    def __init__(self, name: str, table: dict[str, Any]) -> None:
        super().__init__(name)
        self.__dict__.update(table)

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        short = self.__name__.removeprefix("tensorflow").lstrip(".")
        _gap(f"{short}.{attr}" if short else attr)


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Resolves `tensorflow.keras[.x]` to `keras[.x]` and `tensorflow.python.keras` likewise."""

    def __init__(self) -> None:
        self._specs: dict[int, Any] = {}

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if (
            fullname == "tensorflow"
            or _keras_name(fullname) is not None
            or (fullname.removeprefix("tensorflow.") in NAMESPACES)
        ):
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None  # anything else under tensorflow: ModuleNotFoundError, as a real one would

    def create_module(self, spec: Any) -> Any:
        name = spec.name
        keras_name = _keras_name(name)
        if keras_name is not None:
            try:
                module = importlib.import_module(keras_name)
            except ImportError:
                # Keras 2-only submodules (layers.experimental.preprocessing, …) live in layers.
                module = importlib.import_module(keras_name.rsplit(".", 1)[0])
            # The import system sets __spec__ on what we return; keep keras's own.
            self._specs[id(module)] = module.__spec__
            return module
        if name == "tensorflow":
            return build_tensorflow()
        return getattr(importlib.import_module("tensorflow"), name.removeprefix("tensorflow."))

    def exec_module(self, module: Any) -> None:
        spec = self._specs.pop(id(module), None)
        if spec is not None:
            module.__spec__ = spec


def _keras_name(name: str) -> str | None:
    for prefix in ("tensorflow.python.keras", "tensorflow.keras"):
        if name == prefix or name.startswith(prefix + "."):
            rest = name[len(prefix) :]
            rest = rest.replace(".experimental.preprocessing", "").replace(".experimental", "")
            return "keras" + rest
    return None


def build_tensorflow() -> types.ModuleType:
    import keras

    tf = _Namespace("tensorflow", OPS)
    tf.__path__ = []  # type: ignore[attr-defined]
    tf.keras = keras  # type: ignore[attr-defined]
    tf.nn = _Namespace("tensorflow.nn", NN)  # type: ignore[attr-defined]
    tf.math = _Namespace("tensorflow.math", MATH)  # type: ignore[attr-defined]
    tf.image = _Namespace("tensorflow.image", {"resize": _resize})  # type: ignore[attr-defined]
    tf.random = _Namespace(
        "tensorflow.random",
        {  # type: ignore[attr-defined]
            "set_seed": lambda seed: None,
            "normal": lambda shape, *a, **k: keras.random.normal(shape),
            "uniform": lambda shape, *a, **k: keras.random.uniform(shape),
        },
    )
    tf.config = _Namespace(
        "tensorflow.config",
        {  # type: ignore[attr-defined]
            "list_physical_devices": lambda *a, **k: [],
            "experimental": _Namespace(
                "tensorflow.config.experimental",
                {
                    "set_memory_growth": lambda *a, **k: None,
                    "list_physical_devices": lambda *a, **k: [],
                },
            ),
            "run_functions_eagerly": lambda *a, **k: None,
            "set_visible_devices": lambda *a, **k: None,
        },
    )
    tf.Tensor = object  # type: ignore[attr-defined]
    return tf


NAMESPACES = frozenset({"nn", "math", "image", "random", "config"})
_FINDER = _Finder()


def install() -> None:
    """Make `import tensorflow` give the compatibility layer (inside the worker only)."""
    for name in [n for n in sys.modules if n == "tensorflow" or n.startswith("tensorflow.")]:
        del sys.modules[name]
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)


def uninstall() -> None:
    if _FINDER in sys.meta_path:
        sys.meta_path.remove(_FINDER)
    for name in [n for n in sys.modules if n == "tensorflow" or n.startswith("tensorflow.")]:
        del sys.modules[name]
