"""Patches that let a model build and run forward on the meta device (DESIGN.md §6).

Inside the sandboxed worker only: device moves become no-ops, `nn.init` functions do nothing,
LSTM/GRU/RNN get shape-only stand-ins for their kernels (the meta LSTM runs step by step, 0.5 s;
the stand-in 0.06 ms), and every layer records where in the user's file it was constructed
(the call expression, skipping `super().__init__()` frames) so errors and fixes can point there.
Convolutions check the shapes their meta kernels skip; the layers that keep their input's shape
(norms, activations, element-wise arithmetic) go by shape rules (meta_fast). Every patch is
invisible to the program: inspect, functools metadata and TorchScript see the original.
"""

from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import Iterator
from itertools import islice
from typing import Any

from deepeval_lsp.diagnostics.datasets import KERAS_DATASETS

SITE_ATTR = "_deepeval_site"

# The file being checked; construction sites are recorded only for frames in it.
_user_file: list[str] = [""]


def code_position(frame: Any) -> tuple[int, int, int, int] | None:
    """(line, end_line, col, end_col) of the instruction a frame runs; byte columns."""
    idx = frame.f_lasti // 2
    try:
        pos = next(islice(frame.f_code.co_positions(), idx, None))
    except StopIteration:
        return None
    if pos[0] is None or pos[2] is None:
        return (frame.f_lineno, frame.f_lineno, 0, 0)
    return (pos[0], pos[1] or pos[0], pos[2], pos[3] if pos[3] is not None else pos[2])


def user_frame_position(obj: Any, start: Any) -> tuple[int, int, int, int] | None:
    """The position in the user's file of the call that constructed `obj`."""
    frame = start
    path = _user_file[0]
    while frame is not None:
        code = frame.f_code
        if code.co_filename == path:
            # A user class's own __init__ calling super().__init__() is not the construction site.
            if code.co_name == "__init__" and frame.f_locals.get("self") is obj:
                frame = frame.f_back
                continue
            return code_position(frame)
        frame = frame.f_back
    return None


def _record_site(obj: Any) -> None:
    if SITE_ATTR in obj.__dict__:
        return
    site = user_frame_position(obj, sys._getframe(2))
    if site is not None:
        obj.__dict__[SITE_ATTR] = site


def site_of(obj: Any) -> tuple[int, int, int, int] | None:
    try:
        return obj.__dict__.get(SITE_ATTR)
    except AttributeError:
        return None


def _stay(real: Any) -> Any:
    """`.cuda()`/`.cpu()`: everything stays on the meta device."""

    def stay(self: Any, *args: Any, **kwargs: Any) -> Any:
        return self

    return disguise(stay, real)


@functools.cache
def _signature(fn: Any) -> Any:
    import inspect

    try:
        return inspect.signature(fn)
    except (TypeError, ValueError):
        return None


@functools.cache
def _init_refusal(real: Any, positional: int, names: tuple[str, ...]) -> str | None:
    """What `real` says to `positional` arguments and keywords `names` (binding depends on
    nothing else: a model's hundreds of init calls take a few forms)."""
    sig = _signature(real)
    if sig is None:
        return None
    try:
        sig.bind(*range(positional), **dict.fromkeys(names))
    except TypeError as e:
        return f"{real.__name__}() {e}"
    return None


def _noop_init(real: Any) -> Any:
    """An `nn.init` function that leaves the tensor alone (meta tensors hold no values) but
    refuses the arguments the real one refuses."""

    def init(*args: Any, **kwargs: Any) -> Any:
        if args:
            problem = _init_refusal(real, len(args), tuple(sorted(kwargs)))
            if problem is not None:
                # refused in binding, before the body: Python's own words ("missing 1 required
                # positional argument: 'val'"), which the argument fixes read
                real(*args, **kwargs)
                raise TypeError(problem)
            return args[0]
        sig = _signature(real)
        if sig is not None:
            try:
                bound = sig.bind(*args, **kwargs)
            except TypeError as e:
                raise TypeError(f"{real.__name__}() {e}") from None
            return next(iter(bound.arguments.values()), None)
        return args[0] if args else next(iter(kwargs.values()), None)

    return disguise(init, real)


def _rnn_stub_forward(self: Any, input: Any, hx: Any = None) -> Any:
    """Shapes and the input-size check of nn.LSTM/GRU/RNN, without the step-by-step kernel."""
    import torch

    if not isinstance(input, torch.Tensor):  # PackedSequence: use the real kernel
        return type(self)._deepeval_real_forward(self, input, hx)
    if input.dim() not in (2, 3):
        raise ValueError(
            f"{type(self).__name__}: Expected input to be 2D or 3D, got {input.dim()}D instead"
        )
    if input.size(-1) != self.input_size:
        raise RuntimeError(
            f"input.size(-1) must be equal to input_size. Expected {self.input_size}, "
            f"got {input.size(-1)}"
        )
    batched = input.dim() == 3
    d = 2 if self.bidirectional else 1
    proj = getattr(self, "proj_size", 0) or 0
    out_h = proj if proj > 0 else self.hidden_size
    if batched:
        if self.batch_first:
            n, seq = input.size(0), input.size(1)
            out = input.new_empty((n, seq, d * out_h))
        else:
            seq, n = input.size(0), input.size(1)
            out = input.new_empty((seq, n, d * out_h))
        h_shape: tuple[int, ...] = (d * self.num_layers, n, out_h)
        c_shape: tuple[int, ...] = (d * self.num_layers, n, self.hidden_size)
    else:
        out = input.new_empty((input.size(0), d * out_h))
        h_shape = (d * self.num_layers, out_h)
        c_shape = (d * self.num_layers, self.hidden_size)
    if hx is not None:
        hs = hx if isinstance(hx, tuple) else (hx,)
        for h, want in zip(hs, (h_shape, c_shape), strict=False):
            if tuple(h.shape) != want:
                raise RuntimeError(f"Expected hidden size {want}, got {list(h.shape)}")
    h = input.new_empty(h_shape)
    if type(self).__name__ == "LSTM" or self.mode == "LSTM":
        return out, (h, input.new_empty(c_shape))
    return out, h


def _rnn_stub_for(real: Any) -> Any:
    """The stub forward for one RNN class: the real one's parameters (self, input, hx=None),
    name and docstring. No `__wrapped__`: TorchScript would read the real source through it and
    resolve its names in this module; a scripted RNN fails as it does unpatched."""

    def forward(self: Any, input: Any, hx: Any = None) -> Any:
        return _rnn_stub_forward(self, input, hx)

    # Not __qualname__/__module__ either: TorchScript would look up the real one's overloads.
    forward.__name__ = real.__name__
    forward.__doc__ = real.__doc__
    forward.__annotations__ = dict(getattr(real, "__annotations__", {}))
    return forward


# ---------------------------------------------------------------------------------------------
# The patches are invisible to the program: a wrapper carries the name, docstring, module and
# `__wrapped__` of what it replaces (so `inspect.signature`/`getsource` read the original), and a
# wrapper of a TorchScript builtin (torch.cat, F.conv2d, ...) is registered as that builtin, so a
# `@torch.jit.script` function (or `import torch.distributed.optim`, which scripts at import)
# compiles the aten op instead of meeting the Python wrapper.

# Ids of the wrappers registered in TorchScript's builtin table, removed when the patches go.
_script_aliases: list[int] = []


def disguise(wrapper: Any, real: Any) -> Any:
    """`wrapper`, made to look like `real` to inspect, functools and TorchScript."""
    functools.update_wrapper(wrapper, real)
    wrapper.__module__ = getattr(real, "__module__", None)  # a C method has none
    op = _script_builtin(real)
    if op is not None:
        from torch.jit import _builtins

        _builtins._register_builtin(wrapper, op)
        _script_aliases.append(id(wrapper))
    return wrapper


def _script_builtin(fn: Any) -> str | None:
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    try:
        from torch.jit import _builtins

        return _builtins._find_builtin(fn)
    except Exception:  # a torch without this private table: no alias, the wrapper still works
        return None


def _forget_script_aliases() -> None:
    if not _script_aliases:
        return
    from torch.jit import _builtins

    table = _builtins._get_builtin_table()
    for key in _script_aliases:
        table.pop(key, None)
    _script_aliases.clear()


CAT_ATTR = "_deepeval_cat"
# The cats of the current run that succeeded, oldest first: (output, piece shapes, dim, site of
# the call in the user's file). A cat along the wrong dim often succeeds and the error
# shows where its result is used; the fix there needs to find the cat again.
CAT_LOG_SIZE = 64
cat_log: list[tuple[Any, list[tuple[int, ...]], int, tuple[int, int, int, int]]] = []


def _caller_site(frame: Any) -> tuple[int, int, int, int] | None:
    if frame is None or frame.f_code.co_filename != _user_file[0]:
        return None
    return code_position(frame)


def _remembering_cat(real: Any) -> Any:
    """torch.cat that, when it fails, leaves its operands, dim and call site on the exception
    (for the padding and dim fixes), and logs the cats that succeed."""

    def cat(*args: Any, **kwargs: Any) -> Any:
        try:
            out = real(*args, **kwargs)
        except Exception as e:
            with contextlib.suppress(Exception):
                tensors, dim = _cat_operands(args, kwargs)
                setattr(e, CAT_ATTR, (list(tensors), int(dim), _caller_site(sys._getframe(1))))
            raise
        with contextlib.suppress(Exception):
            site = _caller_site(sys._getframe(1))
            if site is not None:
                tensors, dim = _cat_operands(args, kwargs)
                pieces = [tuple(t.shape) for t in tensors]
                cat_log.append((out, pieces, int(dim), site))
                del cat_log[:-CAT_LOG_SIZE]
        return out

    return disguise(cat, real)


def _cat_operands(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, Any]:
    """(tensors, dim) of a torch.cat call, given positionally or by keyword."""
    tensors = args[0] if args else kwargs["tensors"]
    dim = args[1] if len(args) > 1 else kwargs.get("dim", kwargs.get("axis", 0))
    return tensors, dim


MERGE_ATTR = "_deepeval_merge"


def _remembering_add(real: Any, rule: Any) -> Any:
    """Tensor addition that, when it fails, leaves its operands on the exception: a residual
    `out + x` whose branches differ in size gets the same padding fix as a cat. Its shape rule
    (meta_fast) is tried first."""

    def add(*args: Any, **kwargs: Any) -> Any:
        try:
            out = rule(*args, **kwargs)
            return real(*args, **kwargs) if out is None else out
        except Exception as e:
            with contextlib.suppress(Exception):
                operands = list(args[:2])
                # torch.add(input=a, other=b); Tensor.__add__(a, other=b)
                for key in ("input", "other")[len(operands) :]:
                    operands.append(kwargs[key])
                setattr(e, MERGE_ATTR, operands)
            raise

    return disguise(add, real)


@contextlib.contextmanager
def patched(user_file: str, *, torch_on: bool = True, keras_on: bool = False) -> Iterator[None]:
    """Install the meta-device patches for one run; everything is restored on exit."""
    undo: list[tuple[Any, str, Any]] = []

    def setattr_(obj: Any, name: str, value: Any) -> None:
        undo.append((obj, name, obj.__dict__.get(name, _MISSING)))
        setattr(obj, name, value)

    _user_file[0] = user_file
    cat_log.clear()
    try:
        if torch_on:
            _patch_torch(setattr_)
        if keras_on:
            _patch_keras(setattr_)
        yield
    finally:
        for obj, name, old in reversed(undo):
            if old is _MISSING:
                with contextlib.suppress(AttributeError, TypeError):
                    delattr(obj, name)
            else:
                setattr(obj, name, old)
        _forget_script_aliases()
        _user_file[0] = ""
        cat_log.clear()


_MISSING = object()


def _patch_torch(setattr_: Any) -> None:
    import torch
    from deepeval_lsp.diagnostics.dynamic.child import meta_fast
    from torch import nn

    real_init = nn.Module.__init__

    def module_init(self: Any, *args: Any, **kwargs: Any) -> None:
        real_init(self, *args, **kwargs)
        _record_site(self)

    setattr_(nn.Module, "__init__", disguise(module_init, real_init))

    real_tensor_to = torch.Tensor.to

    def tensor_to(self: Any, *args: Any, **kwargs: Any) -> Any:
        dtype = kwargs.get("dtype")
        for a in args:
            if isinstance(a, torch.dtype):
                dtype = a
            elif isinstance(a, torch.Tensor):
                dtype = a.dtype
        return self if dtype is None else real_tensor_to(self, dtype=dtype)

    setattr_(torch.Tensor, "to", disguise(tensor_to, real_tensor_to))
    for name in ("cuda", "cpu"):
        setattr_(torch.Tensor, name, _stay(getattr(torch.Tensor, name)))
    real_module_to = nn.Module.to

    def module_to(self: Any, *args: Any, **kwargs: Any) -> Any:
        dtype = kwargs.get("dtype")
        for a in args:
            if isinstance(a, torch.dtype):
                dtype = a
        return self if dtype is None else real_module_to(self, dtype=dtype)

    setattr_(nn.Module, "to", disguise(module_to, real_module_to))
    for name in ("cuda", "cpu"):
        setattr_(nn.Module, name, _stay(getattr(nn.Module, name)))
    for name in dir(nn.init):
        fn = getattr(nn.init, name)
        if callable(fn) and name.endswith("_") and not name.startswith("_"):
            setattr_(nn.init, name, _noop_init(fn))
    for name in ("cat", "concat", "concatenate"):
        if hasattr(torch, name):
            setattr_(torch, name, _remembering_cat(getattr(torch, name)))
    for name, rule in (
        ("__add__", meta_fast.binary),
        ("__radd__", meta_fast.reflected),
        ("__iadd__", meta_fast.in_place),
    ):
        setattr_(torch.Tensor, name, _remembering_add(getattr(torch.Tensor, name), rule))
    setattr_(torch, "add", _remembering_add(torch.add, meta_fast.binary))
    for cls in (nn.LSTM, nn.GRU, nn.RNN):
        if "_deepeval_real_forward" not in cls.__dict__:
            cls._deepeval_real_forward = cls.forward
        setattr_(cls, "forward", _rnn_stub_for(cls._deepeval_real_forward))
    _patch_conv_checks(setattr_)
    # shape rules for the layers that keep their input's shape (BatchNorm, activations, ...)
    meta_fast.install(setattr_)
    # real values of small tensors built from numbers (`.item()` on a linspace): meta_values
    from deepeval_lsp.diagnostics.dynamic.child import meta_values

    meta_values.install(setattr_)


# ---------------------------------------------------------------------------------------------
# Shape rules the meta kernels skip (torch 2.13): a transposed convolution takes any number of
# input channels, and neither convolution checks the bias size or that the weight's first
# dimension divides by `groups` (nn layers always agree; functional calls with one's own weights
# may not). The checks run before the kernel and raise the CPU kernel's own words, which the
# error classification and the in_channels fix read.


def _conv_checks(real: Any, spatial: int, transposed: bool) -> Any:
    import torch

    tensor = torch.Tensor

    def conv(*args: Any, **kwargs: Any) -> Any:
        x = args[0] if args else kwargs.get("input")
        w = args[1] if len(args) > 1 else kwargs.get("weight")
        if isinstance(x, tensor) and isinstance(w, tensor) and x.is_meta:
            bias = args[2] if len(args) > 2 else kwargs.get("bias")
            # groups is the 7th parameter of both: (input, weight, bias, stride, padding,
            # dilation | output_padding, groups)
            groups = args[6] if len(args) > 6 else kwargs.get("groups", 1)
            problem = _conv_refusal(x, w, bias, groups, spatial, transposed)
            if problem is not None:
                raise RuntimeError(problem)
        return real(*args, **kwargs)

    return disguise(conv, real)


def _conv_refusal(
    x: Any, w: Any, bias: Any, groups: Any, spatial: int, transposed: bool
) -> str | None:
    """The CPU kernel's message for a convolution it refuses (aten check_shape_forward), or
    None. Checked in the kernel's order; the message is built only for a refusal."""
    wsize = w.shape
    rank = x.dim()
    if len(wsize) != spatial + 2 or rank not in (spatial + 1, spatial + 2):
        return None  # the kernel's own checks word these
    if not isinstance(groups, int) or groups < 1:
        return None
    if wsize[0] % groups:
        return (
            f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, "
            f"but got weight of size [{list(wsize)}] instead"
        )
    channels = x.shape[1 if rank == spatial + 2 else 0]
    want, out = (wsize[0], wsize[1] * groups) if transposed else (wsize[1] * groups, wsize[0])
    bad_bias = bias is not None and (bias.dim() != 1 or bias.shape[0] != out)
    if channels == want and not bad_bias:
        return None
    given = "transposed=1" if transposed else f"groups={groups}"
    if channels != want:
        shape = list(x.shape) if rank == spatial + 2 else [1, *x.shape]
        return (
            f"Given {given}, weight of size {list(wsize)}, expected input{shape} to have {want} "
            f"channels, but got {channels} channels instead"
        )
    prefix = "Given transposed=1, weight" if transposed else "Given weight"
    return (
        f"{prefix} of size {list(wsize)}, expected bias to be 1-dimensional with {out} elements, "
        f"but got bias of size {list(bias.shape)} instead"
    )


def _patch_conv_checks(setattr_: Any) -> None:
    import torch
    from torch.nn import functional

    for spatial in (1, 2, 3):
        for transposed, name in ((False, f"conv{spatial}d"), (True, f"conv_transpose{spatial}d")):
            real = getattr(functional, name)
            checked = _conv_checks(real, spatial, transposed)
            setattr_(functional, name, checked)
            if getattr(torch, name, None) is real:  # F.conv2d is torch.conv2d: keep it so
                setattr_(torch, name, checked)


# Placeholder data for `keras.datasets.X.load_data()` (no download in the sandbox): the shapes
# and dtypes of the real sets (diagnostics/datasets.py), with few samples: (train, test) counts.
PLACEHOLDER_SAMPLES = (64, 16)


def _placeholder_loader(x_shape: tuple[int, ...], y_shape: tuple[int, ...], dtype: str) -> Any:
    def load_data(*args: Any, **kwargs: Any) -> Any:
        import numpy as np

        return tuple(
            (np.zeros((n, *x_shape), dtype=dtype), np.zeros((n, *y_shape), dtype="uint8"))
            for n in PLACEHOLDER_SAMPLES
        )

    return load_data


def _sequence_loader(*args: Any, **kwargs: Any) -> Any:
    import numpy as np

    def split(n: int) -> tuple[Any, Any]:
        x = np.empty(n, dtype=object)
        for i in range(n):
            x[i] = [1] * 20
        return x, np.zeros(n, dtype="int64")

    return tuple(split(n) for n in PLACEHOLDER_SAMPLES)


def _standing_in(fn: Any, real: Any) -> Any:
    """`fn` under the name, signature and docstring of `real` (a fresh function each time)."""

    def stand_in(*args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

    return stand_in if real is None else disguise(stand_in, real)


def _patch_keras_datasets(setattr_: Any) -> None:
    import importlib

    for d in KERAS_DATASETS:
        try:
            mod = importlib.import_module(f"keras.datasets.{d.name}")
        except ImportError:
            continue
        loader = (
            _sequence_loader if d.sequences else _placeholder_loader(d.sample, d.label, d.dtype)
        )
        setattr_(mod, "load_data", _standing_in(loader, getattr(mod, "load_data", None)))


def _without_download(fn: Any) -> Any:
    """A keras.applications constructor that builds the architecture without fetching weights
    (the shapes are the same; the sandbox has no network)."""

    @functools.wraps(fn)
    def build(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("weights", "imagenet") == "imagenet":
            kwargs["weights"] = None
        return fn(*args, **kwargs)

    return build


@functools.cache
def application_builders() -> tuple[tuple[Any, str, Any], ...]:
    """(module, name, function) of every keras.applications constructor that takes `weights`.
    Computed once (the worker calls it before forking: it costs ~20 ms)."""
    import inspect
    import types

    import keras

    apps = getattr(keras, "applications", None)
    if apps is None:
        return ()
    out = []
    modules = [apps, *(m for m in vars(apps).values() if isinstance(m, types.ModuleType))]
    for mod in modules:
        for name, fn in list(vars(mod).items()):
            if not (name[:1].isupper() and inspect.isfunction(fn)):
                continue
            try:
                if "weights" in inspect.signature(fn).parameters:
                    out.append((mod, name, fn))
            except (TypeError, ValueError):
                continue
    return tuple(out)


def _patch_keras_applications(setattr_: Any) -> None:
    for mod, name, fn in application_builders():
        setattr_(mod, name, _without_download(fn))


def _patch_keras(setattr_: Any) -> None:
    import keras

    layer_cls = keras.layers.Layer
    real_init = layer_cls.__init__

    def layer_init(self: Any, *args: Any, **kwargs: Any) -> None:
        real_init(self, *args, **kwargs)
        _record_site(self)
        if _lambda_calls:
            self.__dict__[IN_LAMBDA_ATTR] = True

    setattr_(layer_cls, "__init__", disguise(layer_init, real_init))
    _patch_keras_datasets(setattr_)
    _patch_keras_applications(setattr_)
    try:
        from keras.src import backend, tree
        from keras.src.layers.core.lambda_layer import Lambda
    except ImportError:
        return
    real_shape = Lambda.compute_output_shape

    def lambda_output_shape(self: Any, input_shape: Any) -> Any:
        """Keras 3 hides any error of the function behind "could not automatically infer the
        shape of the Lambda's output": let the function's own error through."""
        if self._output_shape is not None:
            return real_shape(self, input_shape)
        inputs = tree.map_shape_structure(
            lambda x: backend.KerasTensor(x, dtype=self.compute_dtype), input_shape
        )
        spec = backend.compute_output_spec(self.call, inputs)
        return tree.map_structure(lambda x: x.shape, spec)

    setattr_(Lambda, "compute_output_shape", disguise(lambda_output_shape, real_shape))
    _patch_keras2_rules(setattr_, Lambda, layer_cls)


# ---------------------------------------------------------------------------------------------
# Two rules of Keras 2 that Keras 3 dropped. Most LLM-written Keras code is written for Keras 2
# (TensorFlow), where breaking them fails; in Keras 3 the first is a silent bug too.

LOCATION_ATTR = "_deepeval_location"  # on an exception: (line, end_line, col, end_col) to report
IN_LAMBDA_ATTR = "_deepeval_in_lambda"  # on a layer constructed while a Lambda's function ran
REFUSED_ATTR = "_deepeval_refused"  # on a Lambda: the error its function's weights gave

# One list per Lambda function running (innermost last): (layer, variable, position) of each
# weight created meanwhile.
_lambda_calls: list[list[tuple[Any, Any, Any]]] = []


def _patch_keras2_rules(setattr_: Any, lambda_cls: Any, layer_cls: Any) -> None:
    import keras

    real_call = lambda_cls.call
    real_add_weight = layer_cls.add_weight

    @functools.wraps(real_call)
    def lambda_call(self: Any, *args: Any, **kwargs: Any) -> Any:
        refused = self.__dict__.get(REFUSED_ATTR)
        if refused is not None:
            # Keras's shape inference retries a failed function on real CPU tensors: that run
            # would allocate the weights for real and end in the same refusal.
            raise refused
        created: list[tuple[Any, Any, Any]] = []
        _lambda_calls.append(created)
        try:
            out = real_call(self, *args, **kwargs)
        finally:
            _lambda_calls.pop()
        if created:
            _refuse_lambda_weights(self, created)
        return out

    @functools.wraps(real_add_weight)
    def add_weight(self: Any, *args: Any, **kwargs: Any) -> Any:
        variable = real_add_weight(self, *args, **kwargs)
        if _lambda_calls:
            if self.__dict__.get(IN_LAMBDA_ATTR):
                where = site_of(self)
            else:  # built, not constructed, in the function: where the function calls it
                where = user_frame_position(None, sys._getframe(1))
            _lambda_calls[-1].append((self, variable, where))
        return variable

    setattr_(lambda_cls, "call", lambda_call)
    setattr_(layer_cls, "add_weight", add_weight)

    reshape_cls = keras.layers.Reshape
    real_reshape_init = reshape_cls.__init__

    # The same parameters as Keras's own: Keras reads them to build the layer's config.
    def reshape_init(self: Any, target_shape: Any, **kwargs: Any) -> None:
        problem = _keras2_reshape_refusal(target_shape, keras.KerasTensor)
        if problem is not None:
            raise problem
        real_reshape_init(self, target_shape, **kwargs)

    setattr_(reshape_cls, "__init__", reshape_init)


def _refuse_lambda_weights(lam: Any, created: list[tuple[Any, Any, Any]]) -> None:
    """Keras 2's `Lambda._check_variables`: weights created while the function ran, and not the
    Lambda's own, are an error."""
    own = {id(w) for w in lam.weights}
    created = [c for c in created if id(c[1]) not in own]
    if not created:
        return
    layer, _, where = created[0]
    if layer.__dict__.get(IN_LAMBDA_ATTR):  # its automatic name would differ on every run
        what = f"{type(layer).__name__} layer created"
    else:
        what = f"{type(layer).__name__} layer '{layer.name}' creates its weights"
    error = ValueError(
        f"{what} inside the function of Lambda layer '{lam.name}': the Lambda does not "
        "track its weights, so they are created anew on every call and never trained. Keras 2 "
        f'refuses it ("The following Variables were created within a Lambda layer ({lam.name}) '
        'but are not tracked by said layer"): create the layer outside the function and call it '
        "there, or write a Layer subclass"
    )
    if where is not None:
        setattr(error, LOCATION_ATTR, where)
    lam.__dict__[REFUSED_ATTR] = error
    raise error


def _keras2_reshape_refusal(target_shape: Any, keras_tensor: type) -> Exception | None:
    """The error Keras 2 raises for this `Reshape` target, where Keras 3 accepts it."""
    from deepeval_lsp.diagnostics.dynamic.child.tf_compat import SymbolicDim

    advice = "give the sizes as Python ints (e.g. `x.shape[1]`), or -1 for one unknown size"
    if isinstance(target_shape, keras_tensor):
        return TypeError(
            "Reshape's target_shape is a Keras tensor, not a tuple of ints: Keras 2 raises "
            'TypeError ("Keras symbolic inputs/outputs do not implement `__len__`"); ' + advice
        )
    if not isinstance(target_shape, tuple | list):
        return None
    for dim in target_shape:
        if isinstance(dim, keras_tensor | SymbolicDim):
            source = (
                "a Keras tensor"
                if isinstance(dim, keras_tensor)
                else "a size from tf.shape() of a Keras tensor, which is symbolic"
            )
            return TypeError(
                f"Reshape's target_shape holds {source}, where Keras 2 takes Python ints only: it "
                'raises TypeError ("Keras symbolic inputs/outputs do not implement `__len__`"); '
                + advice
            )
    if any(dim is None for dim in target_shape):
        shown = "(" + ", ".join(str(d) for d in target_shape) + ")"
        return ValueError(
            f"Reshape's target_shape {shown} contains None: Keras 2 refuses it (\"None values not "
            'supported") and Keras 3 reads it as an unknown size; leave the batch dimension out '
            "and " + advice
        )
    return None
