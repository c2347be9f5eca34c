"""The dynamic pass end to end: check() through the sandboxed warm worker pool, and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import pytest
from deepeval_lsp.diagnostics import CheckOptions, check
from deepeval_lsp.diagnostics import taxonomy as T
from deepeval_lsp.diagnostics.dynamic.worker_pool import WorkerPool
from deepeval_lsp.diagnostics.text import apply_edits

from tests.diagnostics.dynamic_programs import (
    CORRECT,
    SHAPE_MISTAKES,
    THREE_MISTAKES,
    TRAINING_SCRIPT,
    marked_lines,
)


@pytest.fixture(scope="module")
def pool() -> Iterator[WorkerPool]:
    p = WorkerPool(1)
    yield p
    p.close()


def _check(tmp_path, source: str, pool: WorkerPool, **options):
    path = tmp_path / "model.py"
    path.write_text(source)
    return check(source, str(path), CheckOptions(**options), pool=pool)


def test_three_shape_mistakes_three_verified_fixes_in_one_check(tmp_path, pool):
    report = _check(tmp_path, THREE_MISTAKES, pool)
    shape = [d for d in report.diagnostics if d.code == T.SHAPE_MISMATCH]
    assert [d.range.start.line for d in shape] == marked_lines(THREE_MISTAKES, "error")
    assert all(d.source_pass == "dynamic" and d.preferred_fix for d in shape)
    assert all(d.related and d.layer for d in shape)
    assert report.executable is False
    assert report.passes["dynamic"] == "ran"
    fixed = apply_edits(THREE_MISTAKES, [e for d in shape for e in d.preferred_fix.edits])
    after = _check(tmp_path, fixed, pool)
    assert [d.code for d in after.diagnostics if d.severity == "error"] == []
    assert after.executable is True
    assert after.model is not None and after.model.output_shape == (2, 10)


@pytest.mark.parametrize("name", ["linear_in_features", "keras_conv_add", "keras_concat_padding"])
def test_fix_verified_through_the_sandbox(tmp_path, pool, name):
    source, _ = SHAPE_MISTAKES[name]
    report = _check(tmp_path, source, pool)
    (d,) = [d for d in report.diagnostics if d.code == T.SHAPE_MISMATCH]
    assert d.range.start.line == marked_lines(source, "error")[0]
    assert d.preferred_fix is not None and d.preferred_fix.verified


def test_a_fix_that_does_not_remove_the_error_is_not_preferred(tmp_path, pool):
    from deepeval_lsp.diagnostics.dynamic.run import verify_dynamic
    from deepeval_lsp.diagnostics.findings import Fix, TextEdit

    source, _ = SHAPE_MISTAKES["linear_in_features"]
    report = _check(tmp_path, source, pool)
    (d,) = [d for d in report.diagnostics if d.code == T.SHAPE_MISMATCH]
    wrong = Fix("wrong", (TextEdit(d.preferred_fix.edits[0].range, "127"),))
    import dataclasses

    out = verify_dynamic(
        source,
        str(tmp_path / "model.py"),
        CheckOptions(),
        pool,
        [dataclasses.replace(d, fixes=(wrong,))],
    )
    assert out[0].fixes[0].verified is False
    assert out[0].preferred_fix is None


def test_correct_model_is_clean_with_a_summary(tmp_path, pool):
    report = _check(tmp_path, CORRECT["resnet_block"], pool)
    assert [d for d in report.diagnostics if d.source_pass == "dynamic"] == []
    assert report.executable is True
    m = report.model
    assert m is not None and m.framework == "torch" and m.entry_point == "ResNet()"
    fc = next(layer for layer in m.layers if layer.name == "fc")
    assert fc.output_shape == (2, 10) and fc.params == 32 * 10 + 10
    assert fc.range is not None and fc.range.start.line == CORRECT[
        "resnet_block"
    ].splitlines().index("        self.fc = nn.Linear(32, num_classes)")


def test_training_script_under_the_sandbox(tmp_path, pool):
    sentinel = tmp_path / "sentinel.txt"
    source = TRAINING_SCRIPT.replace("SENTINEL", repr(str(sentinel)))
    report = _check(tmp_path, source, pool)
    assert not sentinel.exists()
    shape = [d for d in report.diagnostics if d.code == T.SHAPE_MISMATCH]
    assert [d.range.start.line for d in shape] == marked_lines(source, "error")


def test_timeout_becomes_a_timeout_finding(tmp_path, pool):
    source = """
import torch.nn as nn


class Spin(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        while True:
            pass
"""
    report = _check(tmp_path, source, pool, timeout_ms=1500)
    (found,) = [d for d in report.diagnostics if d.source_pass == "dynamic"]
    assert found.code == T.TIMEOUT
    # the checker's limit, not the program's mistake: information naming the limit and its knobs
    assert found.severity == T.Severity.INFORMATION
    assert "1.5 s" in found.message
    assert "--timeout SECONDS" in found.message and "deepeval.timeoutMs" in found.message


def test_sandbox_refusal_is_reported_at_its_line(tmp_path, pool):
    source = """
import os
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        os.system("echo hi")  # error
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        return self.fc(x)
"""
    report = _check(tmp_path, source, pool)
    dyn = [d for d in report.diagnostics if d.source_pass == "dynamic"]
    assert [d.code for d in dyn] == [T.SANDBOX_VIOLATION]
    assert dyn[0].range.start.line == marked_lines(source, "error")[0]


def test_no_pool_no_dynamic_findings(tmp_path):
    path = tmp_path / "m.py"
    path.write_text(THREE_MISTAKES)
    report = check(THREE_MISTAKES, str(path), CheckOptions(), pool=None)
    assert report.passes["dynamic"].startswith("not run")
    assert not [d for d in report.diagnostics if d.source_pass == "dynamic"]


def test_cli_runs_the_dynamic_pass_by_default_and_prints_the_summary(tmp_path):
    path = tmp_path / "cifar.py"
    path.write_text(THREE_MISTAKES)
    cli = [sys.executable, "-m", "deepeval_lsp", "check"]
    out = subprocess.run(
        [*cli, str(path), "--summary", "--no-frames", "--color", "never"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 1, out.stderr
    assert out.stdout.count("DL301") == 3
    assert "Layer (type)" in out.stdout and "fc2 (Linear)" in out.stdout
    off = subprocess.run(
        [*cli, str(path), "--no-dynamic"], capture_output=True, text=True, timeout=300
    )
    assert "DL301" not in off.stdout
    js = subprocess.run(
        [*cli, str(path), "--format", "json", "--fix"], capture_output=True, text=True, timeout=300
    )
    assert js.returncode == 0, js.stdout + js.stderr
    (report,) = json.loads(js.stdout)
    assert report["summary"]["errors"] == 0 and report["summary"]["executable"] is True
    assert "nn.Linear(256, 10)" in path.read_text()


def test_memory_bomb_is_refused_at_its_line_and_the_worker_survives(tmp_path, pool):
    source = """
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.cache = bytearray(64 * 2**30)  # error
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        return self.fc(x)
"""
    report = _check(tmp_path, source, pool)
    dyn = [d for d in report.diagnostics if d.source_pass == "dynamic"]
    assert [d.code for d in dyn] == [T.SANDBOX_VIOLATION]
    assert dyn[0].range.start.line == marked_lines(source, "error")[0]
    assert "memory" in dyn[0].message
    after = _check(tmp_path, CORRECT["lenet"], pool)
    assert after.executable is True


ARGPARSE_MODEL = """\
import argparse
import os
import sys

import torch.nn as nn

parser = argparse.ArgumentParser()
parser.add_argument("--hidden", type=int, default=16)
REQUIRED
args = parser.parse_args()
HERE = os.path.dirname(sys.argv[0])


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        if HERE != os.path.dirname(__file__):
            raise RuntimeError(f"sys.argv[0] is not this file: {sys.argv!r}")
        self.fc = nn.Linear(8, args.hidden)
        self.out = nn.Linear(args.hidden, 2)

    def forward(self, x):
        return self.out(self.fc(x))


model = Net()
"""


def test_a_module_level_argparse_takes_its_defaults(tmp_path, pool):
    report = _check(tmp_path, ARGPARSE_MODEL.replace("REQUIRED\n", ""), pool)
    assert [(d.code, d.message) for d in report.diagnostics] == []
    assert report.executable is True
    assert report.model is not None and report.model.output_shape == (2, 2)


def test_a_required_argument_is_the_checks_limit_not_an_error(tmp_path, pool):
    source = ARGPARSE_MODEL.replace("REQUIRED", 'parser.add_argument("--data", required=True)')
    report = _check(tmp_path, source, pool)
    (d,) = report.diagnostics
    assert d.code == T.NOT_CHECKABLE and d.severity == "information"
    assert "--data" in d.message and "command line" in d.message
    assert d.range.start.line == source.splitlines().index("args = parser.parse_args()")
    assert report.executable is None


def test_arguments_the_program_passes_itself_stay_its_own_error(tmp_path, pool):
    source = ARGPARSE_MODEL.replace("REQUIRED\n", "").replace(
        "parser.parse_args()", 'parser.parse_args(["--hidden", "many"])'
    )
    report = _check(tmp_path, source, pool)
    (d,) = report.diagnostics
    assert d.code == T.RUNTIME_ERROR and d.severity == "error" and "exit(2)" in d.message
    assert report.executable is False


_IMPORTS_NATIVE = """
import torch
from torch import nn
import {module}


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        return self.fc(x)
"""


def _cli_dynamic(tmp_path, source: str) -> list[dict]:
    """The dynamic findings of `deepeval-lsp check` run from tmp_path, as a user would (the
    program's own modules beside it are then importable in the sandbox)."""
    (tmp_path / "model.py").write_text(source)
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "deepeval_lsp",
            "check",
            str(tmp_path / "model.py"),
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    (report,) = json.loads(out.stdout)
    return [d for d in report["diagnostics"] if d["pass"] == "dynamic"]


def test_a_native_library_refused_while_importing_a_package_is_a_note(tmp_path):
    (tmp_path / "nativelib.py").write_text('import ctypes\nLIB = ctypes.CDLL("libm.so.6")\n')
    (found,) = _cli_dynamic(tmp_path, _IMPORTS_NATIVE.format(module="nativelib"))
    assert found["code"] == T.NOT_CHECKABLE and found["range"]["start"]["line"] == 3
    assert "the sandbox refused loading libm.so.6 while importing nativelib" in found["message"]


def test_the_programs_own_refused_action_in_an_imported_module_stays_a_violation(tmp_path):
    (tmp_path / "spawns.py").write_text('import subprocess\nsubprocess.run(["true"])\n')
    found = _cli_dynamic(tmp_path, _IMPORTS_NATIVE.format(module="spawns"))
    assert [d["code"] for d in found] == [T.SANDBOX_VIOLATION]


def test_a_run_stopped_by_a_keras2_name_is_a_warning() -> None:
    # keras-tcn's tcn.py calls K.name_scope (Keras 2); the run stops there on Keras 3
    from deepeval_lsp.diagnostics.dynamic.run import _keras2_api
    from deepeval_lsp.diagnostics.findings import Diagnostic, Position, Range

    rng = Range(Position(3, 0), Position(3, 5))
    k2 = Diagnostic("DL104", rng, "module 'keras.backend' has no attribute 'name_scope'")
    made_up = Diagnostic("DL104", rng, "module 'keras.backend' has no attribute 'no_such_fn'")
    assert _keras2_api(k2).severity == "warning" and "Keras 2" in _keras2_api(k2).message
    assert _keras2_api(made_up) == made_up and made_up.severity == "error"
