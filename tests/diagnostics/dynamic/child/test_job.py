"""The worker-side dynamic check (job.run_job) on real torch and Keras.

These programs are the tests' own, so they run in-process here; the sandboxed path through the
worker pool is covered in test_dynamic_pass.py.
"""

from __future__ import annotations

import importlib.util
import os

import pytest
from deepeval_lsp.diagnostics import taxonomy as T
from deepeval_lsp.diagnostics.dynamic.child.error_classifier import classify, cpu_wording
from deepeval_lsp.diagnostics.dynamic.child.job import run_job
from deepeval_lsp.diagnostics.findings import Range, TextEdit
from deepeval_lsp.diagnostics.text import apply_edits

from tests.diagnostics.dynamic_programs import (
    CORRECT,
    SHAPE_MISTAKES,
    THREE_MISTAKES,
    TRAINING_SCRIPT,
    marked_lines,
)

os.environ.setdefault("KERAS_BACKEND", "torch")


def _run(tmp_path, source: str, name: str = "prog.py", **extra):
    path = str(tmp_path / name)
    (tmp_path / name).write_text(source)
    return run_job({"source": source, "path": path, **extra}), path


def _fix_edits(err) -> list[TextEdit]:
    return [TextEdit(Range.of(*e["range"]), e["new_text"]) for e in err["fix"]["edits"]]


@pytest.mark.parametrize("name", sorted(CORRECT))
def test_correct_models_stay_clean(tmp_path, name):
    result, _ = _run(tmp_path, CORRECT[name])
    assert result["errors"] == [], [e["message"] for e in result["errors"]]
    assert result["executable"] is True
    summary = result["summary"]
    assert summary and summary["total_params"] > 0 and summary["output_shape"]
    assert len(summary["layers"]) >= 3


@pytest.mark.parametrize("name", sorted(SHAPE_MISTAKES))
def test_each_fix_kind_is_found_fixed_and_leaves_the_file_clean(tmp_path, name):
    source, value = SHAPE_MISTAKES[name]
    result, _ = _run(tmp_path, source)
    errors = result["errors"]
    assert [e["code"] for e in errors] == [T.SHAPE_MISMATCH], [e["message"] for e in errors]
    err = errors[0]
    assert err["range"][0] == marked_lines(source, "error")[0]
    assert "fix" in err, err["message"]
    edits = _fix_edits(err)
    assert {e.range.start.line for e in edits} == set(marked_lines(source, "fix"))
    assert value in {e.new_text.strip(", ").split("=")[-1] for e in edits}
    fixed = apply_edits(source, edits)
    again, _ = _run(tmp_path, fixed)
    assert again["errors"] == [], [e["message"] for e in again["errors"]]
    assert again["executable"] is True


def test_three_shape_mistakes_give_three_diagnostics_from_one_check(tmp_path):
    result, _ = _run(tmp_path, THREE_MISTAKES)
    errors = result["errors"]
    assert [e["code"] for e in errors] == [T.SHAPE_MISMATCH] * 3
    assert [e["range"][0] for e in errors] == marked_lines(THREE_MISTAKES, "error")
    assert all("fix" in e for e in errors)
    # the culprit layer and where it was built
    assert errors[0]["layer"] == "conv2 (Conv2d)"
    assert errors[0]["related"][0]["message"] == "conv2 (Conv2d) is constructed here"
    assert "expected input[2, 32, 16, 16] to have 64 channels" in errors[0]["message"]
    # all three fixes at once leave the file clean
    fixed = apply_edits(THREE_MISTAKES, [x for e in errors for x in _fix_edits(e)])
    assert _run(tmp_path, fixed)[0]["errors"] == []


def test_training_script_finds_the_shape_fault_and_never_trains(tmp_path):
    sentinel = tmp_path / "sentinel.txt"
    source = TRAINING_SCRIPT.replace("SENTINEL", repr(str(sentinel)))
    result, _ = _run(tmp_path, source)
    assert not sentinel.exists()
    errors = [e for e in result["errors"] if e["code"] != T.NOT_CHECKABLE]
    assert [e["code"] for e in errors] == [T.SHAPE_MISMATCH]
    assert errors[0]["range"][0] == marked_lines(source, "error")[0]
    assert errors[0]["fix"]["edits"][0]["new_text"] == "5408"


def test_data_dependent_ops_are_not_checkable_not_the_users_bug(tmp_path):
    source = """
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 2)

    def forward(self, x):
        if x.sum().item() > 0:
            return self.fc(x)
        return x[x > 0]
"""
    result, _ = _run(tmp_path, source)
    assert [e["code"] for e in result["errors"]] == [T.NOT_CHECKABLE]
    assert result["errors"][0]["range"][0] == 10
    assert result["executable"] is None


def test_a_file_the_model_reads_and_the_check_cannot_is_a_note_not_an_error(tmp_path):
    # Where the program runs (its folder, its user) the file may be there; the check cannot tell.
    source = """
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.vocab = open("no-such-vocab.txt").read().split()
        self.emb = nn.Embedding(len(self.vocab), 4)


model = Net()
"""
    result, _ = _run(tmp_path, source)
    (err,) = result["errors"]
    assert (err["code"], err["range"][0]) == (T.NOT_CHECKABLE, 7)
    assert err["message"].startswith("reads 'no-such-vocab.txt', which the check cannot read")
    assert result["executable"] is None


def test_no_entry_point_means_no_findings_and_one_note(tmp_path):
    result, _ = _run(tmp_path, "import torch\n\nprint(torch.ones(2) + 1)\n")
    assert result["errors"] == [] and not result.get("info")
    assert len(result["notes"]) == 1 and "no model entry point" in result["notes"][0]


def test_missing_third_party_import_is_stubbed_and_said(tmp_path):
    source = """
import torch.nn as nn
import cv2


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc(x)
"""
    if importlib.util.find_spec("cv2") is not None:
        pytest.skip("cv2 is installed here: nothing to stub")
    result, _ = _run(tmp_path, source)
    assert result["errors"] == []
    assert [i["code"] for i in result["info"]] == [T.NOT_CHECKABLE]
    assert "cv2 is not installed" in result["info"][0]["message"]
    assert result["executable"] is True


def test_unknown_input_shape_is_said_once_not_guessed_silently(tmp_path):
    source = """
import torch
from torch import nn


class Mixer(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(1))

    def forward(self, x):
        return x * self.scale
"""
    result, _ = _run(tmp_path, source)
    assert result["errors"] == []
    assert len(result["info"]) == 1 and "input shape unknown" in result["info"][0]["message"]


def test_input_shape_from_the_first_layer_is_said(tmp_path):
    source = CORRECT["lenet"].replace('"""LeNet-5 for MNIST."""', '"""LeNet-5."""')
    result, _ = _run(tmp_path, source)
    assert result["errors"] == []
    # 32×32 does not fit fc1 (16*5*5 wants 28×28 with padding 2): the check finds the size that
    # fits instead of reporting its own guess as the user's bug.
    assert result["summary"]["input_shapes"] == [[2, 1, 28, 28]]
    assert any("assumed from the first layer" in n for n in result["notes"])


def test_tensorflow_programs_build_on_keras_3(tmp_path):
    source = """
import tensorflow as tf
from tensorflow.keras.layers import Input, Conv2D, Dense, Flatten, Lambda
from tensorflow.keras.models import Model


def dl_model():
    inputs = Input(shape=(28, 28, 1))
    branches = [Conv2D(8, k, padding="same")(inputs) for k in (1, 3, 5)]
    x = tf.concat(branches, axis=-1)
    x = tf.nn.relu(x)
    x = tf.reshape(x, (-1, 28 * 28 * 24))
    outputs = Dense(10, activation="softmax")(x)
    return Model(inputs=inputs, outputs=outputs)
"""
    result, _ = _run(tmp_path, source)
    assert result["errors"] == [], [e["message"] for e in result["errors"]]
    assert result["framework"] == "keras"
    assert result["summary"]["output_shape"] == [None, 10]


def test_keras_study_contract_errors_are_located(tmp_path):
    source = """
from keras.models import Sequential
from keras.layers import Dense, Conv2D


def dl_model():
    model = Sequential()
    model.add(Dense(64, input_shape=(20,)))
    model.add(Conv2D(8, 3))  # error
    return model
"""
    result, _ = _run(tmp_path, source)
    assert [e["code"] for e in result["errors"]] == [T.SHAPE_MISMATCH]
    assert result["errors"][0]["range"][0] == marked_lines(source, "error")[0]
    assert result["executable"] is False


@pytest.mark.parametrize(
    ("exc", "message", "code"),
    [
        (
            "RuntimeError",
            "a and b must have same reduction dim, but got [8, 400] X [256, 120].",
            T.SHAPE_MISMATCH,
        ),
        (
            "RuntimeError",
            "mat1 and mat2 shapes cannot be multiplied (8x400 and 256x120)",
            T.SHAPE_MISMATCH,
        ),
        (
            "RuntimeError",
            "Attempting to broadcast a dimension of length 64 at -3!",
            T.SHAPE_MISMATCH,
        ),
        (
            "RuntimeError",
            "The size of tensor a (128) must match the size of tensor b (64) at "
            "non-singleton dimension 1",
            T.SHAPE_MISMATCH,
        ),
        (
            "ValueError",
            "Inputs have incompatible shapes. Received shapes (28, 28, 32) and (28, 28, 64)",
            T.SHAPE_MISMATCH,
        ),
        ("RuntimeError", "Tensor.item() cannot be called on meta tensors", T.NOT_CHECKABLE),
        ("NameError", "name 'nn' is not defined", T.MISSING_IMPORT),
        ("NameError", "name 'hiden_size' is not defined", T.UNDEFINED_VARIABLE),
        ("AttributeError", "module 'torch.nn' has no attribute 'Conv2D'", T.NONEXISTENT_ATTRIBUTE),
        (
            "TypeError",
            "Conv2d.__init__() got an unexpected keyword argument 'kernal_size'",
            T.UNEXPECTED_ARGUMENT,
        ),
        (
            "TypeError",
            "Conv2d.__init__() missing 1 required positional argument: 'kernel_size'",
            T.MISSING_ARGUMENT,
        ),
        ("ValueError", "Graph disconnected: cannot find parent for tensor", T.GRAPH_DISCONNECTION),
        (
            "IndexError",
            "Dimension out of range (expected to be in range of [-2, 1], but got 2)",
            T.INPUT_ARGUMENT_MISMATCH,
        ),
        ("SandboxViolation", "the program tried to run a shell command", T.SANDBOX_VIOLATION),
    ],
)
def test_classifier_knows_meta_cpu_and_keras_wordings(exc, message, code):
    assert classify(exc, message) == code


def test_meta_matmul_wording_reads_as_cpu():
    meta = "a and b must have same reduction dim, but got [8, 400] X [256, 120]."
    assert cpu_wording(meta) == "mat1 and mat2 shapes cannot be multiplied (8x400 and 256x120)"


def test_data_loading_inside_dl_model_gets_placeholder_data_not_a_download(tmp_path):
    source = """
from tensorflow.keras.datasets import mnist
from tensorflow.keras.layers import Input, Conv2D, Flatten, Dense
from tensorflow.keras.models import Model


def dl_model():
    (x_train, y_train), _ = mnist.load_data()
    x_train = x_train.reshape((-1, 28, 28, 1)).astype("float32") / 255.0
    inputs = Input(shape=x_train.shape[1:])
    x = Flatten()(Conv2D(8, 3)(inputs))
    return Model(inputs, Dense(10, activation="softmax")(x))


(x_train, y_train), (x_test, y_test) = mnist.load_data()
x_train = x_train[..., None]
model = dl_model()
model.fit(x_train, y_train, epochs=100)
"""
    result, _ = _run(tmp_path, source)
    assert result["errors"] == [], [e["message"] for e in result["errors"]]
    assert result["summary"]["input_shapes"] == [[None, 28, 28, 1]]


def test_input_shape_from_jaxtyping_annotations(tmp_path):
    source = """
import torch
from torch import Tensor, nn
from jaxtyping import Float


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.fc = nn.Linear(4 * 18 * 10, 10)

    def forward(self, x: Float[Tensor, "batch 3 20 12"]) -> Float[Tensor, "batch 10"]:
        return self.fc(torch.flatten(self.conv(x), 1))
"""
    result, _ = _run(tmp_path, source)
    assert result["errors"] == [], [e["message"] for e in result["errors"]]
    assert result["summary"]["input_shapes"] == [[2, 3, 20, 12]]


# Keras 2 refuses two things that Keras 3 accepts; the default engine refuses them as Keras 2
# does, since most of this code is written for Keras 2 (the study's programs fail there).

LAMBDA_MAKES_A_DENSE = """
import keras
from keras import layers


def dl_model():
    inputs = keras.Input(shape=(28, 28, 1))
    x = layers.Flatten()(inputs)

    def block(t):
        h = layers.Dense(32, activation="relu")(t)  # created
        return layers.Add()([h, h])

    x = layers.Lambda(block)(x)  # lambda
    return keras.Model(inputs, layers.Dense(10, activation="softmax")(x))
"""


def test_a_layer_created_inside_a_lambda_is_an_error_where_it_is_created(tmp_path):
    result, _ = _run(tmp_path, LAMBDA_MAKES_A_DENSE)
    (err,) = result["errors"]
    assert err["code"] == T.INVALID_ARGUMENT_VALUE and err["python_error"] == "ValueError"
    assert err["range"][0] == marked_lines(LAMBDA_MAKES_A_DENSE, "created")[0]
    assert "Dense" in err["message"] and "Keras 2" in err["message"]
    assert "never trained" in err["message"] and "\n" not in err["message"]
    assert [r["range"][0] for r in err["related"]] == marked_lines(LAMBDA_MAKES_A_DENSE, "lambda")
    assert result["executable"] is False


def test_a_layer_built_inside_a_lambda_is_an_error_where_the_function_calls_it(tmp_path):
    source = """
import tensorflow as tf
from tensorflow.keras import layers, models


def dl_model():
    inputs = layers.Input(shape=(16,))
    dense = layers.Dense(8)
    x = layers.Lambda(lambda t: tf.nn.relu(dense(t)))(inputs)  # built
    return models.Model(inputs, layers.Dense(10, activation="softmax")(x))
"""
    result, _ = _run(tmp_path, source)
    (err,) = result["errors"]
    assert err["code"] == T.INVALID_ARGUMENT_VALUE
    assert err["range"][0] == marked_lines(source, "built")[0]
    assert "creates its weights" in err["message"]


def test_a_lambda_of_keras_ops_and_layers_made_in_a_layers_init_are_fine(tmp_path):
    source = """
import keras
from keras import layers, ops


class Block(layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.a = layers.Dense(16, activation="relu")
        self.b = layers.Dense(16)

    def call(self, x):
        return self.b(self.a(x))


def dl_model():
    inputs = keras.Input(shape=(8, 8, 3))
    x = layers.Lambda(lambda t: ops.relu(ops.mean(t, axis=-1, keepdims=True)) * 2.0)(inputs)
    x = layers.Lambda(lambda t: layers.Activation("relu")(t))(x)  # no weights: fine in Keras 2
    shared = layers.Dense(4)
    shared(x)
    x = layers.Lambda(lambda t: shared(t))(x)  # built before: no weights created here
    x = Block()(layers.Flatten()(x))
    return keras.Model(inputs, layers.Dense(10, activation="softmax")(x))
"""
    result, _ = _run(tmp_path, source)
    assert result["errors"] == [], [e["message"] for e in result["errors"]]
    assert result["executable"] is True


RESHAPE_FROM_TF_SHAPE = """
import tensorflow as tf
from tensorflow.keras.layers import Conv2D, Dense, Flatten, Input, Permute, Reshape
from tensorflow.keras.models import Model


def dl_model():
    inputs = Input(shape=(8, 8, 4))
    x = Conv2D(8, 3, padding="same")(inputs)
    shape = tf.shape(x)
    height, width, channels = shape[1], shape[2], shape[3]
    x = Reshape((height, width, 2, channels // 2))(x)  # symbolic
    x = Permute((1, 2, 4, 3))(x)
    return Model(inputs, Dense(10, activation="softmax")(Flatten()(x)))
"""


def test_reshape_to_a_symbolic_shape_is_keras_2s_type_error(tmp_path):
    result, _ = _run(tmp_path, RESHAPE_FROM_TF_SHAPE)
    (err,) = result["errors"]
    assert err["code"] == T.INVALID_ARGUMENT_TYPE and err["python_error"] == "TypeError"
    assert err["range"][0] == marked_lines(RESHAPE_FROM_TF_SHAPE, "symbolic")[0]
    assert "tf.shape()" in err["message"] and "Keras 2" in err["message"]
    assert result["executable"] is False


@pytest.mark.parametrize(
    ("target", "code"),
    [
        ("x", T.INVALID_ARGUMENT_TYPE),  # a Keras tensor
        ("(ops.sum(x), 4)", T.INVALID_ARGUMENT_TYPE),  # a Keras tensor as one size
        ("ops.shape(x)", T.INVALID_ARGUMENT_VALUE),  # the batch size, None, included
    ],
)
def test_reshape_targets_that_keras_2_refuses(tmp_path, target, code):
    source = f"""
import keras
from keras import layers, ops


def dl_model():
    inputs = keras.Input(shape=(6, 4))
    x = layers.Dense(4)(inputs)
    x = layers.Reshape({target})(x)  # refused
    return keras.Model(inputs, layers.Dense(10)(layers.Flatten()(x)))
"""
    result, _ = _run(tmp_path, source)
    assert [e["code"] for e in result["errors"]] == [code]
    assert result["errors"][0]["range"][0] == marked_lines(source, "refused")[0]


def test_reshape_to_static_sizes_is_fine(tmp_path):
    source = """
import tensorflow as tf
from tensorflow.keras.layers import Conv2D, Dense, Flatten, Input, Reshape
from tensorflow.keras.models import Model
from keras import ops


def dl_model():
    inputs = Input(shape=(8, 8, 4))
    x = Conv2D(8, 3, padding="same")(inputs)
    height, width, channels = x.shape[1], x.shape[2], x.shape[3]
    x = Reshape((height, width, 2, channels // 2))(x)
    x = Reshape(ops.shape(x)[1:3] + (-1,))(x)
    x = Reshape((-1, x.shape[-1]))(x)
    x = tf.reshape(x, (-1, tf.shape(x)[1] * tf.shape(x)[2]))
    return Model(inputs, Dense(10, activation="softmax")(Flatten()(x)))
"""
    result, _ = _run(tmp_path, source)
    assert result["errors"] == [], [e["message"] for e in result["errors"]]
    assert result["executable"] is True


def test_a_relative_import_of_a_package_module_checked_alone_is_not_the_users_bug(tmp_path):
    source = """
import torch.nn as nn
from ._base import Mixin


class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc(x)
"""
    result, _ = _run(tmp_path, source)
    assert [e["code"] for e in result["errors"]] == [T.NOT_CHECKABLE]
    assert "outside its package" in result["errors"][0]["message"]
    assert result["executable"] is None
