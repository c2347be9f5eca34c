"""The child's answer is checked before it is believed (dynamic/validate.py): the zygote survives
any bytes, the parent reads only well-formed results, and a result that fails is a Not Checkable
note, never a pass, in the pool, in `check`, and in `deepeval-lsp check`."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from deepeval_lsp.diagnostics import taxonomy as T
from deepeval_lsp.diagnostics.dynamic import validate
from deepeval_lsp.diagnostics.dynamic.run import interpret
from deepeval_lsp.diagnostics.dynamic.validate import Untrusted, checked, checked_verdict
from deepeval_lsp.diagnostics.dynamic.worker_pool import WorkerPool
from deepeval_lsp.diagnostics.taxonomy import Severity

REPO = Path(__file__).resolve().parents[3]
JOBS = "tests.diagnostics.sandbox_jobs:"
PATH = "/w/model.py"
SOURCE = "import torch.nn as nn\n\nmodel = nn.Linear(4, 2)\nbad = nn.Linear(3, 2)\n"


def error(**changes: Any) -> dict[str, Any]:
    return {
        "code": T.SHAPE_MISMATCH,
        "range": [3, 6, 3, 21],
        "message": "mat1 and mat2 shapes cannot be multiplied",
        "python_error": "RuntimeError",
        "layer": "bad",
        "related": [{"range": [2, 8, 2, 23], "message": "model is constructed here"}],
        "fix": {"title": "Change to 4", "edits": [{"range": [3, 16, 3, 17], "new_text": "4"}]},
        **changes,
    }


def result(**changes: Any) -> dict[str, Any]:
    """A well-formed JobResult of SOURCE, with `changes`."""
    return {
        "status": "ok",
        "errors": [error()],
        "info": [],
        "notes": ["a note"],
        "summary": {
            "framework": "torch",
            "entry_point": "model",
            "input_shapes": [[1, 4]],
            "output_shape": [1, 2],
            "total_params": 10,
            "trainable_params": 10,
            "layers": [
                {
                    "name": "model",
                    "type": "Linear",
                    "input_shape": [None, 4],
                    "output_shape": [None, 2],
                    "params": 10,
                    "depth": 0,
                    "range": [2, 8, 2, 23],
                    "line": None,
                }
            ],
        },
        "summary_after_fixes": False,
        "executable": False,
        "entry": "model",
        "entry_line": 2,
        "framework": "torch",
        "outputs": None,
        "sandbox": {"landlock": "enforced", "seccomp": "enforced", "ms": 3.2},
        **changes,
    }


def why(raw: dict[str, Any]) -> str:
    out = checked(raw, SOURCE, PATH)
    assert out["status"] == "untrusted", out
    return out["detail"]


def test_a_well_formed_result_is_passed_through_as_it_is():
    raw = result()
    assert checked(raw, SOURCE, PATH) is raw
    outcome = {"status": "error", "exception": "ValueError", "detail": "ValueError: x"}
    outcome["traceback"] = [{"file": PATH, "line": 4, "col": 0, "end_col": 5, "function": "f"}]
    assert checked(outcome, SOURCE, PATH) is outcome


@pytest.mark.parametrize(
    ("raw", "said"),
    [
        (result(errors=[{k: v for k, v in error().items() if k != "range"}]), "errors[0].range"),
        (result(errors=[error(code="DL999")]), "unknown code"),
        (result(errors=[error(code=401)]), "errors[0].code"),
        (result(errors=[error(range=["3", 6, 3, 21])]), "errors[0].range"),
        (result(errors=[error(range=[3, 6, 3])]), "errors[0].range"),
        (result(errors=[error(range=[3, 9, 3, 2])]), "ends before it starts"),
        (result(errors=[error(range=[-1, 0, 0, 1])]), "errors[0].range"),
        (result(errors=[error(range=[40, 0, 40, 1])]), "past the text's end"),
        (result(errors=[error(range=[3, 0, 3, 500])]), "past the end of line 4"),
        (result(errors=["DL301"]), "errors[0]: a JSON string, not an object"),
        (result(errors={"0": error()}), "result.errors: a JSON object, not an array"),
        (result(errors=[error()] * 1000), "1000 items"),
        (result(errors=[error(message="x" * 10_000_000)]), "a string of 10000000 characters"),
        (result(errors=[error(related=[{"range": [2, 8, 2, 23]}])]), "related[0].message"),
        (
            result(errors=[error(fix={"title": "t", "edits": [{"range": [0, 0, 0, 0]}]})]),
            "new_text",
        ),
        (result(executable="yes"), "result.executable"),
        (result(executable=1), "result.executable"),
        (result(entry_line=True), "result.entry_line"),
        (result(notes="a note"), "result.notes"),
        (result(summary={"framework": "torch"}), "result.summary.entry_point: missing"),
        (result(outputs=[{"shape": [1, 2], "range": [3, 6, 3, 21]}]), "missing beside a range"),
        (
            result(outputs=[{"shape": [], "range": [3, 6, 3, 21], "param": "p", "dim": 0}]),
            "is not a dim",
        ),
        (result(sandbox={"ms": [[]] * 30_000}), "30000 items"),
        ({"status": "ok"}, "missing"),
        ({"status": "timeout", "detail": 5}, "result.detail"),
        ({"status": "exploded"}, "result.status"),
        ({"status": ["ok"]}, "result.status"),
        ({"status": "error", "traceback": [{"file": PATH, "line": "4"}]}, "traceback[0].line"),
        ({"status": "error", "traceback": [{"file": PATH, "line": 99}]}, "not a line of the text"),
        ({"status": "error", "traceback": "frames"}, "result.traceback"),
    ],
)
def test_a_malformed_or_forged_result_is_untrusted_and_says_where(raw, said):
    assert said in why(raw)


def test_frames_of_other_files_and_a_summary_after_fixes_are_not_held_to_this_text():
    frames = [{"file": "/usr/lib/torch/nn.py", "line": 5000, "function": "forward"}]
    assert checked({"status": "error", "traceback": frames}, SOURCE, PATH)["status"] == "error"
    fixed = result(summary_after_fixes=True)
    fixed["summary"]["layers"][0]["range"] = [2, 8, 2, 90]  # the fixed line is longer
    assert checked(fixed, SOURCE, PATH)["status"] == "ok"
    assert "past the end" in why(result(summary=fixed["summary"]))


def test_nesting_is_measured_without_recursion_and_strings_do_not_count():
    deep = "[" * 100_000 + "]" * 100_000
    assert validate.nesting_depth(deep) == 100_000
    assert validate.nesting_depth(json.dumps({"s": "[[[[{{{{" * 1000, "t": '\\"[['})) == 1
    with pytest.raises(Untrusted, match="100002 levels deep"):
        validate.parse_report(('{"result": {"x": ' + deep + "}}").encode())
    # the parent's walk is bounded too, whatever reaches it
    nested: Any = "leaf"
    for _ in range(100):
        nested = [nested]
    assert "nested deeper" in why(result(sandbox={"x": nested}))


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (b'{"result": {"status": "ok"}}{"result": {"status": "ok"}}', "Extra data"),
        (b'{"result": {"status": "ok"}} trailing', "Extra data"),
        (b'{"result": {"status": "ok"}', "not one JSON value"),
        (b'{"result": [1, 2]}', '"result" is a JSON array'),
        (b'[{"result": {}}]', "is a JSON array, not an object"),
        (b'{"sandbox": {}}', 'no "result"'),
        (b'{"result": {}, "sandbox": "enforced"}', '"sandbox" is a JSON string'),
        (b'{"result": {"status": "\xff"}}', "not UTF-8"),
        (b'{"result": {"n": ' + b"9" * 10_000 + b"}}", "not one JSON value"),
    ],
)
def test_the_envelope_is_one_json_object_with_a_result_object(data, said):
    with pytest.raises(Untrusted, match=said):
        validate.parse_report(data)


def test_the_sandbox_entry_is_the_envelopes_own():
    report = b'{"result": {"status": "ok", "sandbox": {"landlock": "forged"}}, "sandbox": null}'
    assert validate.parse_report(report) == {"status": "ok"}
    report = b'{"result": {"status": "ok"}, "sandbox": {"landlock": "enforced"}}'
    assert validate.parse_report(report) == {"status": "ok", "sandbox": {"landlock": "enforced"}}


def test_an_untrusted_result_is_a_not_checkable_note_and_never_a_pass():
    forged = result(errors=[error(code="DL999")], executable=True)
    out = interpret(checked(forged, SOURCE, PATH), SOURCE, PATH)
    (note,) = out.diagnostics
    assert note.code == T.NOT_CHECKABLE and note.severity == Severity.INFORMATION
    assert "could not trust the sandboxed run's result" in note.message
    assert "unknown code" in note.message
    assert out.executable is None
    assert out.status.startswith("ran")


def test_a_paper_verdict_is_checked_too():
    failed = {"status": "ok", "executable": False, "code": "DL301", "message": "m"}
    assert "python_error: missing" in checked_verdict(failed, SOURCE, PATH)["detail"]
    failed["python_error"] = "ValueError"
    assert checked_verdict(failed, SOURCE, PATH) is failed
    assert "unknown code" in checked_verdict({**failed, "code": "X1"}, SOURCE, PATH)["detail"]
    assert "result.line" in checked_verdict({**failed, "line": 0}, SOURCE, PATH)["detail"]
    assert "executable" in checked_verdict({"status": "ok"}, SOURCE, PATH)["detail"]
    timeout = {"status": "timeout", "detail": "still running after 10 s"}
    assert checked_verdict(timeout, SOURCE, PATH) is timeout


def test_the_validator_never_changes_what_it_checks():
    raw = result()
    before = copy.deepcopy(raw)
    checked(raw, SOURCE, PATH)
    assert raw == before


# -- through a real pool: the child itself sends these ---------------------------------------


@pytest.fixture(scope="module")
def pool() -> Iterator[WorkerPool]:
    p = WorkerPool(env={"PYTHONPATH": str(REPO)})
    yield p
    p.close()


def run_and_read(pool: WorkerPool, job: str, payload: dict[str, Any]) -> dict[str, Any]:
    raw = pool.run(JOBS + job, payload, timeout_s=20)
    return dict(checked(raw, SOURCE, PATH))


def still_serves(pool: WorkerPool, zygotes: list[int]) -> None:
    """The same zygote answers the next job as usual."""
    assert pool.zygote_pids == zygotes
    again = pool.run(JOBS + "echo", {"n": 1}, timeout_s=20)
    assert again["status"] == "ok" and again["echo"] == {"n": 1}


@pytest.mark.parametrize(
    "forged",
    [
        result(errors=[{k: v for k, v in error().items() if k != "range"}]),
        result(errors=[error(code="DL999")]),
        result(errors=[error(range=[9999, 0, 9999, 1])]),
        result(executable="true"),
        result(errors=[error(message="m" * 1_000_000)]),
        {"status": "ok", "executable": True},
        {"status": "sandbox_violation", "traceback": [{"file": PATH, "line": "x"}]},
    ],
)
def test_a_job_that_returns_a_forged_result_gets_an_untrusted_note(pool, forged):
    zygotes = pool.zygote_pids
    out = run_and_read(pool, "returns", {"result": forged})
    assert out["status"] == "untrusted", out
    found = interpret(out, SOURCE, PATH)
    assert found.executable is None
    assert [d.code for d in found.diagnostics] == [T.NOT_CHECKABLE]
    still_serves(pool, zygotes)


def test_a_job_finds_no_result_pipe_to_write_bytes_on(pool):
    """The result pipe is parked out of the job's reach while it runs (sandbox/result_channel.py),
    so a job cannot put malformed bytes on it; what the zygote does with such bytes, should
    native code manage it, is parse_report's (the envelope tests above)."""
    zygotes = pool.zygote_pids
    raw = pool.run(JOBS + "writes_report", {"text": '{"result": {"status": "ok"}}'}, timeout_s=20)
    assert raw["status"] == "ok" and raw["found_pipe"] is False, raw
    still_serves(pool, zygotes)


# -- `deepeval-lsp check` ---------------------------------------------------------------------

# A model whose construction writes a forged report on the result pipe and exits at once.
FORGING = textwrap.dedent(
    """
    import fcntl
    import os
    import stat

    import torch.nn as nn


    def forge():
        for fd in range(3, 256):
            try:
                mode = os.fstat(fd).st_mode
            except OSError:
                continue
            if stat.S_ISFIFO(mode) and fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == 1:
                os.write(fd, b'{"result": {"status": "ok", "errors": [{"code": "DL999"}]}}')
                os._exit(0)


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            forge()
            self.fc = nn.Linear(4, 2)
            self.out = nn.Linear(3, 1)

        def forward(self, x):
            return self.out(self.fc(x))
    """
)
MISTAKE = "import torch.nn as nn\n\nmodel = nn.Sequential(nn.Linear(4, 8), nn.Linear(6, 2))\n"


def test_the_cli_checks_the_other_files_when_one_child_forges_its_result(tmp_path: Path):
    (tmp_path / "a_forged.py").write_text(FORGING)
    (tmp_path / "b_mistake.py").write_text(MISTAKE)
    r = subprocess.run(
        [sys.executable, "-m", "deepeval_lsp", "check", "--format", "json", "--input-shape",
         "1,4", str(tmp_path)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert "Traceback" not in r.stderr, r.stderr
    assert r.returncode == 1  # b_mistake.py's error
    reports = {Path(x["path"]).name: x for x in json.loads(r.stdout)}
    forged = reports["a_forged.py"]
    # The program finds no pipe to forge on: its own shape error is its verdict.
    assert forged["summary"]["executable"] is False
    assert [d["code"] for d in forged["diagnostics"] if d["severity"] == "error"] == [
        T.SHAPE_MISMATCH
    ]
    mistake = reports["b_mistake.py"]
    assert mistake["summary"]["executable"] is False
    assert [d["code"] for d in mistake["diagnostics"] if d["severity"] == "error"] == [
        T.SHAPE_MISMATCH
    ]
