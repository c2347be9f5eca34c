"""Exceptions from a model build or forward, mapped to the study's taxonomy (DESIGN.md §3).

Meta and CPU word the same mistake differently ("a and b must have same reduction dim" vs
"mat1 and mat2 shapes cannot be multiplied"); both wordings, and Keras 3's, are known here.
Errors that only the meta device raises (data-dependent ops, meta/CPU mixing) are Not Checkable,
never the user's bug.
"""

from __future__ import annotations

import re

from deepeval_lsp.diagnostics import taxonomy as T

# Framework names whose NameError means a forgotten import rather than a typo.
IMPORTABLE_NAMES = frozenset(
    {
        "torch",
        "nn",
        "F",
        "np",
        "numpy",
        "keras",
        "layers",
        "tf",
        "tensorflow",
        "models",
        "optim",
        "Model",
        "Sequential",
        "Input",
        "Dense",
        "Conv2D",
        "Conv1D",
        "MaxPooling2D",
        "Flatten",
        "Dropout",
        "BatchNormalization",
        "Activation",
        "Concatenate",
        "Add",
        "concatenate",
        "add",
        "GlobalAveragePooling2D",
        "AveragePooling2D",
        "Reshape",
        "Lambda",
        "Embedding",
        "LSTM",
        "GRU",
        "ReLU",
        "Multiply",
        "multiply",
        "DepthwiseConv2D",
        "SeparableConv2D",
        "UpSampling2D",
        "Conv2DTranspose",
        "ZeroPadding2D",
        "GlobalMaxPooling2D",
        "MaxPool2D",
        "LayerNormalization",
        "MultiHeadAttention",
        "Permute",
        "Softmax",
        "Adam",
        "SGD",
        "math",
        "os",
        "functools",
        "init",
        "Tensor",
        "optimizers",
        "losses",
        "regularizers",
        "backend",
        "K",
        "Layer",
        "SparseCategoricalCrossentropy",
        "l2",
        "partial",
        "reduce",
        "torchvision",
        "transforms",
        "ops",
        "Optional",
        "List",
        "Tuple",
    }
)

_SHAPE = [
    r"must have same reduction dim",
    r"shapes cannot be multiplied",
    r"size mismatch",
    r"The size of tensor a",
    r"Attempting to broadcast a dimension",
    r"Invalid channel dimensions",
    r"expected input\[.*\] to have \d+ channels",
    r"running_mean should contain",
    r"Given normalized_shape",
    r"is invalid for input of size",
    r"Sizes of tensors must match",
    r"Expected \d+D .*input",
    r"Expected (?:2D|3D|4D|5D)",
    r"padded input size",
    r"Kernel size can't be greater",
    r"Output size is too small",
    r"must be equal to input_size",
    r"embedding dimension of",
    r"Expected hidden size",
    r"incompatible shapes",
    r"is incompatible with the layer",
    r"expected (?:min_|max_)?ndim",
    r"expected axis",
    r"requires inputs with matching shapes",
    r"Negative dimension size",
    r"cannot reshape",
    r"total size of the new array",
    r"target_shape",
    r"shape mismatch",
    r"Shapes .* are incompatible",
    r"Dimensions must be equal",
    r"must match the size",
    r"Expected size",
    r"Input shape",
    r"input_shape",
    r"has size \d+ but",
    r"Expected input batch_size",
    r"input feature",
    r"Expected .* to have .* channels",
    r"to have \d+ channels",
    r"not compatible with",
    r"matmul",
    r"mat1",
    r"got input of size",
    r"of shape",
    r"dimension .* does not match",
    r"Input .* of layer",
    r"Inputs have incompatible",
    r"expects \d+ input",
    r"cannot be broadcast",
    r"operands could not be broadcast",
    r"Incompatible shapes",
    r"spatial",
    r"Computed output size would be zero or negative",
    r"split_with_sizes expects split_sizes to sum",
    r"split_size .* must be",
]
_NUMBERS = [
    r"should be called on a list of at least",
    r"should be called on a list of inputs",
    r"expects \d+ inputs?, but it received",
    r"received \d+ input tensors",
    r"Layer .* expects \d+ input",
    r"missing \d+ required positional argument.*(?:input|x|tensor)",
    r"forward\(\) takes \d+ positional",
    r"call\(\) takes",
    r"not enough values to unpack",
    r"too many values to unpack",
]
_ARG_MISMATCH = [
    r"Dimension out of range",
    r"out of bounds for",
    r"axis \d+ is out of bounds",
    r"Invalid axis",
    r"dim=\d+ .* out of range",
    r"index \d+ is out of bounds for dimension",
    r"divisible by num_heads",
    r"must be divisible by",
    r"not divisible by",
]
_NOT_CHECKABLE = [
    r"meta tensors?",
    r"on meta",
    r"'meta'",
    r"\bMeta\b backend",
    r"data-dependent",
    r"data dependent",
    r"register_meta",
    r"is not on the expected device",
    r"Cannot copy out of",
    r"Could not run .* with arguments from the 'Meta'",
    r"expected device meta",
    r"MissingPackageStub",
    r"_deepeval",
    r"no Keras 3 equivalent",
]


def _any(patterns: list[str], text: str) -> bool:
    return any(re.search(p, text) for p in patterns)


def framework_name(name: str) -> bool:
    """Is `name` something the frameworks export (so a NameError means a forgotten import)?
    Looks only at modules already imported (the worker preloads torch and keras)."""
    if name in IMPORTABLE_NAMES:
        return True
    import sys

    for mod in (
        "torch",
        "torch.nn",
        "torch.nn.functional",
        "keras",
        "keras.layers",
        "keras.models",
        "keras.optimizers",
        "keras.losses",
        "keras.ops",
        "keras.backend",
        "keras.regularizers",
        "keras.initializers",
        "keras.activations",
        "keras.callbacks",
        "keras.utils",
        "numpy",
        "math",
    ):
        m = sys.modules.get(mod)
        if m is not None and hasattr(m, name):
            return True
    return False


def classify(exc_type: str, message: str, *, in_layer: bool = False) -> str:
    """The diagnostic code for an exception raised while building or running the model."""
    text = message or ""
    if exc_type in {"SandboxViolation", "MemoryError"}:
        return T.SANDBOX_VIOLATION
    if exc_type in {"TensorFlowCompatGap", "MissingPackageUsed"} or _any(_NOT_CHECKABLE, text):
        return T.NOT_CHECKABLE
    if exc_type == "NotImplementedError":
        return T.NOT_CHECKABLE
    if exc_type == "UnboundLocalError":
        return T.UNASSIGNED_VARIABLE
    if exc_type == "NameError":
        m = re.search(r"name '([^']+)' is not defined", text)
        name = m.group(1) if m else ""
        return T.MISSING_IMPORT if framework_name(name) else T.UNDEFINED_VARIABLE
    if exc_type == "ModuleNotFoundError":
        return T.NONEXISTENT_MODULE
    if exc_type == "ImportError":
        return T.NONEXISTENT_API_IMPORT
    if exc_type == "AttributeError":
        return T.NONEXISTENT_ATTRIBUTE
    if exc_type == "SyntaxError":
        return T.SYNTAX_ERROR
    if "Graph disconnected" in text or "is not connected to `inputs`" in text:
        return T.GRAPH_DISCONNECTION
    # Keras 3's wordings of what Keras 2 raised as TypeError, labelled as the study labelled them.
    if re.search(
        r"Only input tensors may be passed as positional arguments|"
        r"Unrecognized keyword arguments passed to|Keyword argument not understood",
        text,
    ):
        return T.INVALID_ARGUMENT_TYPE
    # Keras 2's refusals that the default engine enforces on Keras 3 (meta_patches), labelled
    # as Keras 2's own errors are: a symbolic Reshape target, None in it, weights made in a Lambda.
    if exc_type == "TypeError" and "Keras symbolic inputs/outputs do not implement" in text:
        return T.INVALID_ARGUMENT_TYPE
    if exc_type == "ValueError" and re.search(
        r"created within a Lambda layer|None values not supported", text
    ):
        return T.INVALID_ARGUMENT_VALUE
    if exc_type == "TypeError":
        if re.search(r"unexpected keyword argument|got multiple values for argument", text):
            return T.UNEXPECTED_ARGUMENT
        if _any(_NUMBERS, text):
            return T.TENSOR_NUMBERS_MISMATCH
        if re.search(r"missing \d+ required|required positional argument|missing required", text):
            return T.MISSING_ARGUMENT
        if re.search(r"takes \d+ positional arguments? but \d+ (?:were|was) given", text):
            return T.UNEXPECTED_ARGUMENT
        if re.search(
            r"must be (?:a )?Tensor|expected Tensor|Expected (?:a )?tensor|"
            r"tensors? (?:as|of) (?:element|type)|not a tensor|KerasTensor",
            text,
        ):
            return T.INVALID_INPUT_TYPE
        if re.search(r"shape", text, re.I):
            return T.INVALID_ARGUMENT_SHAPE
        return T.INVALID_ARGUMENT_TYPE
    if exc_type in {"ValueError", "RuntimeError", "AssertionError", "IndexError"}:
        if _any(_NUMBERS, text):
            return T.TENSOR_NUMBERS_MISMATCH
        if _any(_ARG_MISMATCH, text):
            return T.INPUT_ARGUMENT_MISMATCH
        if _any(_SHAPE, text) or (in_layer and exc_type == "AssertionError"):
            return T.SHAPE_MISMATCH
        if exc_type == "ValueError":
            return T.INVALID_ARGUMENT_VALUE
        return T.RUNTIME_ERROR
    if exc_type == "ZeroDivisionError":
        return T.INVALID_ARGUMENT_VALUE
    if exc_type == "MemoryError":
        return T.SANDBOX_VIOLATION  # the address-space limit stopped it
    if exc_type == "RecursionError":
        return T.RUNTIME_ERROR
    return T.RUNTIME_ERROR


_META_MM = re.compile(
    r"a and b must have same reduction dim, but got \[(\d+(?:, \d+)*)\] X "
    r"\[(\d+), (\d+)\]"
)
_META_BCAST = re.compile(r"Attempting to broadcast a dimension of length (\d+) at (-?\d+)!")


def cpu_wording(message: str) -> str:
    """The CPU wording of a meta-device message, where one is known (users know those)."""
    m = _META_MM.search(message)
    if m:
        a = [int(x) for x in m.group(1).split(", ")]
        rows = 1
        for d in a[:-1]:
            rows *= d
        # F.linear computes input @ weight.T; meta reports the transposed weight.
        return (
            f"mat1 and mat2 shapes cannot be multiplied ({rows}x{a[-1]} and "
            f"{m.group(2)}x{m.group(3)})"
        )
    return message
