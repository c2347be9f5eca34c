"""The sandboxed job's payload, re-runs with the static pre-edits, and the child's findings."""

from __future__ import annotations

import json
from typing import Any

from deepeval_lsp.diagnostics import CheckOptions, TextEdit
from deepeval_lsp.diagnostics import taxonomy as T
from deepeval_lsp.diagnostics.dynamic.engines import DEFAULT
from deepeval_lsp.diagnostics.dynamic.job import child_finding, payload, rerun
from deepeval_lsp.diagnostics.findings import Range

# A child's answer without findings (the pool's answers are checked before they are read).
ANSWER = {
    "status": "ok",
    "errors": [],
    "info": [],
    "notes": [],
    "summary": None,
    "summary_after_fixes": False,
    "executable": True,
    "entry": None,
    "entry_line": None,
    "framework": None,
    "outputs": None,
}


class _Pool:
    def __init__(self) -> None:
        self.jobs: list[tuple[str, dict[str, Any], float]] = []

    def run(self, job: str, payload: dict[str, Any], *, timeout_s: float) -> dict[str, Any]:
        self.jobs.append((job, payload, timeout_s))
        return dict(ANSWER)


def test_a_rerun_keeps_the_pre_edits_of_the_lines_it_leaves() -> None:
    pool = _Pool()
    pre = [[0, 0, 0, 0, "import torch; "], [2, 4, 2, 10, "Conv2d"]]
    edit = TextEdit(Range.of(2, 11, 2, 12), "3")
    text, raw = rerun(pool, "a\nb\nx = Conv2D(1)\n", [edit], "m.py", CheckOptions(), pre)
    assert text == "a\nb\nx = Conv2D(3)\n" and raw == ANSWER
    ((job, payload, timeout_s),) = pool.jobs
    assert job == DEFAULT.job and timeout_s == CheckOptions().timeout_ms / 1000
    assert payload["source"] == text and payload["path"] == "m.py"
    assert payload["pre_edits"] == [[0, 0, 0, 0, "import torch; "]]


def test_a_rerun_without_pre_edits_sends_none() -> None:
    pool = _Pool()
    rerun(pool, "x = 1\n", [], "m.py", CheckOptions(), [])
    assert "pre_edits" not in pool.jobs[0][1]


def test_the_childs_finding_with_its_fixes_in_order() -> None:
    fix = {"title": "t", "edits": [{"range": [1, 2, 1, 3], "new_text": "8"}]}
    d = child_finding(
        {
            "code": T.SHAPE_MISMATCH,
            "range": [1, 0, 1, 9],
            "message": "m",
            "python_error": "RuntimeError",
            "fix": fix,
            "more_fixes": [dict(fix, title="u")],
            "related": [{"range": [0, 0, 0, 1], "message": "built here"}],
            "layer": "fc",
        },
        "m.py",
    )
    assert d.range == Range.of(1, 0, 1, 9) and d.layer == "fc" and d.source_pass == "dynamic"
    assert [f.title for f in d.fixes] == ["t", "u"] and not d.fixes[0].verified
    assert d.fixes[0].edits == (TextEdit(Range.of(1, 2, 1, 3), "8"),)
    assert d.related[0].path == "m.py"


def test_the_job_payload_gives_the_inputs_as_json_lists() -> None:
    from deepeval_lsp.diagnostics.tasks.model import TensorSpec

    inputs = (TensorSpec((2, 1, 28, 28)), TensorSpec((2, 12), "int64", 500))
    sent = payload("x = 1\n", "m.py", CheckOptions(inputs=inputs, input_shape=(2, 1, 28, 28)))
    assert json.loads(json.dumps(sent))["inputs"] == [
        [[2, 1, 28, 28], "float32", None],
        [[2, 12], "int64", 500],
    ]
    assert sent["input_shape"] == [2, 1, 28, 28]
    assert payload("x = 1\n", "m.py", CheckOptions())["inputs"] is None
