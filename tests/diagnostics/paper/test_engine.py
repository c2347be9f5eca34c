"""The paper-compatible engine: Keras 2 semantics on TensorFlow + tf-keras, the study's contract,
run in real forked, sandboxed children of the worker pool's paper zygote. Needs the `paper`
extra."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from deepeval_lsp.diagnostics import taxonomy as T
from deepeval_lsp.diagnostics.dynamic.engines import PAPER
from deepeval_lsp.diagnostics.dynamic.run import run_dynamic
from deepeval_lsp.diagnostics.dynamic.worker_pool import WorkerPool
from deepeval_lsp.diagnostics.options import CheckOptions
from deepeval_lsp.diagnostics.paper import engine as paper_engine
from deepeval_lsp.diagnostics.paper.engine import JOB, classify_keras2

needs_tf = pytest.mark.skipif(
    paper_engine.available() is not None, reason=str(paper_engine.available())
)


def test_keras2_wordings_map_to_the_study_taxonomy() -> None:
    cases = {
        (
            "ValueError",
            'Input 0 of layer "dense" is incompatible with the layer: expected '
            "axis -1 of input shape to have value 784, but received input with "
            "shape (None, 100)",
        ): T.SHAPE_MISMATCH,
        # a kernel or pool larger than its input, an axis the input lacks: the study's
        # InputTensor-API Argument Mismatch (its counts per model equal these errors' counts)
        (
            "ValueError",
            "Negative dimension size caused by subtracting 3 from 2 for '{{node conv2d_3/Conv2D}}'",
        ): T.INPUT_ARGUMENT_MISMATCH,
        (
            "InvalidArgumentError",
            "`dim` must be in the range [-2, 2) where 2 is the number of "
            "dimensions in the input. Received: dim=1000",
        ): T.INPUT_ARGUMENT_MISMATCH,
        (
            "ValueError",
            "A `Concatenate` layer requires inputs with matching shapes except for "
            "the concatenation axis. Received: input_shape=[(None, 7, 7, 64), "
            "(None, 14, 14, 64)]",
        ): T.SHAPE_MISMATCH,
        (
            "ValueError",
            "A merge layer should be called on a list of at least 2 inputs. Got 1 inputs.",
        ): T.TENSOR_NUMBERS_MISMATCH,
        (
            "ValueError",
            "Graph disconnected: cannot obtain value for tensor KerasTensor",
        ): T.GRAPH_DISCONNECTION,
        ("NameError", "name 'Conv2D' is not defined"): T.MISSING_IMPORT,
        (
            "ImportError",
            "cannot import name 'Conv2d' from 'tensorflow.keras.layers'",
        ): T.NONEXISTENT_API_IMPORT,
        (
            "TypeError",
            "Dense.__init__() got an unexpected keyword argument 'unit'",
        ): T.UNEXPECTED_ARGUMENT,
        # the study's taxonomy: no undefined-variable category, every NameError is an import
        ("NameError", "name 'x_train' is not defined"): T.MISSING_IMPORT,
        ("IndentationError", "unexpected indent (generated_code_1.py, line 4)"): T.SYNTAX_ERROR,
        (
            "ValueError",
            "A merge layer should be called on a list of inputs. Received: "
            "input_shape=(None, 28, 28, 1) (not a list of shapes)",
        ): T.INVALID_ARGUMENT_VALUE,
        (
            "TypeError",
            'Exception encountered when calling layer "reshape" (type Reshape).\n\n'
            "Keras symbolic inputs/outputs do not implement `__len__`.",
        ): T.INVALID_ARGUMENT_TYPE,
    }
    for (etype, message), code in cases.items():
        assert classify_keras2(etype, message) == code, message
    # a program ran on a real engine: nothing is "not checkable" here
    assert classify_keras2("NotImplementedError", "meta tensors") == T.RUNTIME_ERROR


def _in_warm_process(code: str) -> dict:
    """Run `code` after warm() in a fresh interpreter; it prints one JSON line."""
    prog = (
        "import json, os\n"
        "from deepeval_lsp.diagnostics.paper import engine as pe\n"
        "os.environ.update(pe.ENV)\n"
        "problems = pe.warm()\n" + textwrap.dedent(code)
    )
    proc = subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@needs_tf
def test_warm_redirects_keras_to_keras2_and_stands_in_for_datasets() -> None:
    out = _in_warm_process("""
        import keras, tensorflow as tf
        from keras.layers import Conv2D
        from keras import backend as K
        import keras.engine.functional as functional
        from tensorflow.keras.datasets import mnist, cifar10
        (xm, ym), (xmt, ymt) = mnist.load_data()
        (xc, yc), _ = keras.datasets.cifar10.load_data()
        # Keras 2.11's own package layout: implementation modules, not the public API's
        from keras.utils import np_utils
        from keras.applications.resnet import ResNet
        try:
            import keras.applications.resnet50
            missing = None
        except ModuleNotFoundError as e:
            missing = e.name
        print(json.dumps({
            "np_utils": np_utils.to_categorical([1], 3).tolist(), "resnet": callable(ResNet),
            "missing": missing, "same_dense": keras.layers.Dense is tf.keras.layers.Dense,
            "problems": problems, "keras": keras.__name__, "conv": Conv2D.__module__,
            "layers_tf": keras.layers.tf.nn.relu is tf.nn.relu,
            "backend_tf": K.tf.concat is tf.concat,
            "api_tf": tf.keras.layers.tf is tf,
            "functional": functional.__name__,
            "mnist": [list(xm.shape[1:]), str(xm.dtype), list(ym.shape[1:]), int(ym.max())],
            "cifar": [list(xc.shape[1:]), str(xc.dtype), list(yc.shape[1:])],
            "test": len(xmt) > 0 and len(ymt) == len(xmt),
        }))
    """)
    assert out["problems"] == []
    assert out["keras"] == "tf_keras.src"
    assert out["np_utils"] == [[0.0, 1.0, 0.0]] and out["resnet"]
    assert out["missing"] == "keras.applications.resnet50" and out["same_dense"]
    assert out["conv"].startswith("tf_keras.")
    assert out["layers_tf"] and out["backend_tf"] and out["api_tf"]
    assert out["functional"] == "tf_keras.src.engine.functional"
    assert out["mnist"] == [[28, 28], "uint8", [], out["mnist"][3]] and out["mnist"][3] < 10
    assert out["cifar"] == [[32, 32, 3], "uint8", [1]]
    assert out["test"]


@pytest.fixture(scope="module")
def pool() -> Iterator[WorkerPool]:
    if paper_engine.available():
        pytest.skip(str(paper_engine.available()))
    p = WorkerPool(1, engine=PAPER)
    yield p
    p.close()


def run(pool: WorkerPool, source: str, timeout_s: float = 60) -> dict:
    return pool.run(
        JOB, {"source": textwrap.dedent(source), "path": "/study/gen.py"}, timeout_s=timeout_s
    )


GOOD = """
    import tensorflow as tf
    from tensorflow.keras import layers, models

    def dl_model():
        inputs = layers.Input(shape=(28, 28, 1))
        x = layers.Conv2D(8, 3, activation="relu")(inputs)
        x = layers.MaxPooling2D()(x)
        # a raw TensorFlow op on a symbolic tensor: Keras 2 wraps it into a layer
        x = tf.nn.relu(x)
        x = layers.Flatten()(x)
        outputs = layers.Dense(10, activation="softmax")(x)
        return models.Model(inputs, outputs)
"""


def test_an_executable_program_is_executable(pool: WorkerPool) -> None:
    r = run(pool, GOOD)
    assert (r["status"], r["executable"]) == ("ok", True)
    assert set(r) == {"status", "executable", "seconds", "sandbox"}
    # the worker pool's sandbox, as for the default engine: what each layer achieved
    assert {"landlock", "seccomp", "ms"} <= set(r["sandbox"])


def test_shape_mismatch_is_located_and_classified(pool: WorkerPool) -> None:
    r = run(
        pool,
        """
        from tensorflow.keras.layers import Input, Conv2D, Add, Flatten, Dense
        from tensorflow.keras.models import Model

        def dl_model():
            inputs = Input(shape=(28, 28, 1))
            a = Conv2D(16, 3)(inputs)
            b = Conv2D(16, 3, padding="same")(inputs)
            x = Add()([a, b])
            return Model(inputs, Dense(10)(Flatten()(x)))
    """,
    )
    assert r["executable"] is False
    assert (r["python_error"], r["code"], r["dl_error"]) == (
        "ValueError",
        T.SHAPE_MISMATCH,
        "Input Tensor Shape Mismatch",
    )
    assert r["root_cause"] == "APIs Call Sequence"
    assert r["line"] == 9


def test_missing_import_and_the_real_error_behind_lambda(pool: WorkerPool) -> None:
    r = run(
        pool,
        """
        from tensorflow.keras import layers, models

        def dl_model():
            inputs = layers.Input(shape=(32, 32, 3))
            x = Conv2D(8, 3)(inputs)
            return models.Model(inputs, x)
    """,
    )
    assert (r["python_error"], r["code"]) == ("NameError", T.MISSING_IMPORT)
    # Keras 3's Lambda hides the real error behind NotImplementedError; Keras 2 raises it
    r = run(
        pool,
        """
        from tensorflow.keras import layers, models

        def dl_model():
            inputs = layers.Input(shape=(32, 32, 3))
            x = layers.Lambda(lambda t: t.reshape_me(3))(inputs)
            return models.Model(inputs, x)
    """,
    )
    assert r["executable"] is False and r["python_error"] == "AttributeError"


def test_an_import_error_names_the_module_as_the_program_wrote_it(pool: WorkerPool) -> None:
    r = run(pool, "from keras.layers import Split\n")
    assert (r["python_error"], r["code"]) == ("ImportError", T.NONEXISTENT_API_IMPORT)
    assert r["message"] == "cannot import name 'Split' from 'keras.layers'"
    r = run(pool, "import keras\nkeras.layers.DepthwiseSeparableConv2D\n")
    assert r["message"] == "module 'keras.layers' has no attribute 'DepthwiseSeparableConv2D'"


def test_module_level_training_runs_offline(pool: WorkerPool) -> None:
    # As the study imported the whole module: data loading and fit() at import time.
    r = run(
        pool,
        GOOD
        + """
    from tensorflow.keras.datasets import mnist
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    model = dl_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x_train.reshape(-1, 28, 28, 1) / 255.0, y_train, epochs=2, verbose=0)
    """,
    )
    assert r["executable"] is True, r


def test_plots_and_scikit_learn_at_import_time_run_headless(pool: WorkerPool) -> None:
    # The study's environment had both (the `paper` extra installs them)
    r = run(
        pool,
        GOOD
        + """
    import matplotlib.pyplot as plt
    from sklearn.model_selection import train_test_split
    a, b = train_test_split(list(range(10)), test_size=0.2)
    plt.plot(a)
    plt.show()
    """,
    )
    assert r["executable"] is True, r


def test_plot_model_lays_out_the_model_with_pydot(pool: WorkerPool) -> None:
    # pydot (the extra) lays it out as in the study; no image is rendered, as `dot` would run in
    # a child process that the sandbox does not start
    r = run(
        pool,
        GOOD
        + """
    from tensorflow.keras.utils import plot_model
    plot_model(dl_model(), to_file="model_architecture.png", show_shapes=True)
    """,
    )
    assert r["executable"] is True, r
    # what lays the model out still fails where it would have
    r = run(
        pool,
        GOOD
        + """
    from tensorflow.keras.utils import plot_model
    plot_model("not a model", to_file="model.png")
    """,
    )
    assert r["executable"] is False


def test_a_training_error_reads_as_the_error_not_the_traced_frames(pool: WorkerPool) -> None:
    r = run(
        pool,
        GOOD
        + """
    import numpy as np
    model = dl_model()
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    model.fit(np.zeros((4, 28, 28, 1)), np.zeros((4, 1)), verbose=0)
    """,
    )
    assert (r["executable"], r["code"]) == (False, T.SHAPE_MISMATCH)
    assert r["message"].startswith("Shapes (") and "File " not in r["message"]
    assert r["line"] == GOOD.count("\n") + 5  # the fit() call


def test_pretrained_weights_are_offline_and_input_checks_still_apply(pool: WorkerPool) -> None:
    vgg = """
        from tensorflow.keras.applications import VGG16
        from tensorflow.keras import layers, models

        def dl_model():
            base = VGG16(weights="imagenet", include_top={top}, input_shape=(32, 32, 3))
            x = layers.Flatten()(base.output)
            return models.Model(base.input, layers.Dense(10)(x))
    """
    assert run(pool, vgg.format(top=False))["executable"] is True
    # with its classifier on top, ImageNet weights need 224×224 inputs: Keras 2 refuses 32×32
    r = run(pool, vgg.format(top=True))
    assert (r["executable"], r["python_error"]) == (False, "ValueError")


def test_a_program_that_never_ends_times_out(pool: WorkerPool) -> None:
    r = run(pool, "while True:\n    pass\n", timeout_s=2)
    assert r["status"] == "timeout"
    assert run(pool, GOOD)["executable"] is True  # the zygote serves on


def test_the_sandbox_holds_under_the_paper_engine(pool: WorkerPool) -> None:
    r = run(
        pool,
        """
        open("/tmp/deepeval-paper-escape.txt", "w").write("x")
        def dl_model():
            pass
    """,
    )
    assert r["executable"] is False
    assert r["python_error"] in ("SandboxViolation", "PermissionError")


def test_the_zygote_holds_tensorflow_but_no_torch_and_no_thread_pools(pool: WorkerPool) -> None:
    assert run(pool, GOOD)["executable"] is True
    assert pool.limits == paper_engine.LIMITS
    (pid,) = pool.zygote_pids
    maps = Path(f"/proc/{pid}/maps").read_text()
    assert "tensorflow" in maps and "libtorch" not in maps
    # a TensorFlow op in the zygote would have started its pools: forked children then hang
    assert len(os.listdir(f"/proc/{pid}/task")) == 1


UNBUILT_SUBCLASS = """\
from tensorflow import keras
from tensorflow.keras import layers


class Net(keras.Model):
    def __init__(self):
        super().__init__()
        self.conv = layers.Conv2D(8, 3, activation="relu")
        self.out = layers.Dense(10, activation="softmax")

    def call(self, x):
        return self.out(layers.Flatten()(self.conv(x)))


def dl_model():
    return Net()
"""


def test_a_keras2_only_failure_is_found_where_the_default_engine_builds(pool: WorkerPool) -> None:
    # Keras 2's summary() refuses a subclassed model that was never built or called; the
    # default engine builds it on its input (Keras 3 on torch) and finds nothing wrong.
    default = WorkerPool(1)  # warms while the paper engine runs
    path = "/study/unbuilt_subclass.py"
    options = CheckOptions(verify_fixes=False, input_shape=(1, 28, 28, 1))
    try:
        res = run_dynamic(UNBUILT_SUBCLASS, path, options, pool)
        assert res.executable is False and res.status == "ran: paper engine"
        (d,) = res.diagnostics
        raw = run(pool, UNBUILT_SUBCLASS)
        assert (d.code, d.python_error) == (raw["code"], "ValueError")
        assert "not yet been built" in d.message
        # raised by summary(), outside the program: placed at the entry point
        entry = UNBUILT_SUBCLASS.splitlines().index("def dl_model():") + 1
        assert d.range.start.line + 1 == raw["line"] == entry
        assert run_dynamic(UNBUILT_SUBCLASS, path, options, default).executable is True
    finally:
        default.close()


def test_the_program_runs_with_its_own_path_as_its_command_line(pool: WorkerPool) -> None:
    r = run(
        pool,
        textwrap.dedent(
            """
        import argparse
        import sys

        parser = argparse.ArgumentParser()
        parser.add_argument("--units", type=int, default=10)
        args = parser.parse_args()
        if sys.argv != ["/study/gen.py"]:
            raise RuntimeError(f"the command line is {sys.argv!r}")
        """
        )
        + textwrap.dedent(GOOD.replace("Dense(10", "Dense(args.units")),
    )
    assert (r["status"], r["executable"]) == ("ok", True), r
