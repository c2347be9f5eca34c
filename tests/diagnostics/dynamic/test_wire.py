"""The child <-> parent contract (dynamic/wire.py) against real answers of a real warm pool:
every key the child or the pool sends is declared, and every required key is sent."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from deepeval_lsp.diagnostics.dynamic import wire
from deepeval_lsp.diagnostics.dynamic.job import payload as job_payload
from deepeval_lsp.diagnostics.dynamic.job import run_job
from deepeval_lsp.diagnostics.dynamic.worker_pool import WorkerPool
from deepeval_lsp.diagnostics.options import CheckOptions

from tests.diagnostics.dynamic_programs import CORRECT, THREE_MISTAKES


@pytest.fixture(scope="module")
def pool() -> Iterator[WorkerPool]:
    p = WorkerPool(1)
    yield p
    p.close()


def _declared(kind: Any) -> set[str]:
    return set(kind.__required_keys__ | kind.__optional_keys__)


def _conforms(record: dict[str, Any], kind: Any) -> None:
    assert set(kind.__required_keys__) <= set(record), (kind.__name__, sorted(record))
    assert set(record) <= _declared(kind), (kind.__name__, sorted(set(record) - _declared(kind)))


def _check(tmp_path, pool: WorkerPool, source: str, **options: Any) -> dict[str, Any]:
    path = tmp_path / "model.py"
    path.write_text(source)
    return dict(run_job(pool, source, str(path), CheckOptions(**options)))


def test_a_shape_error_result_has_exactly_the_declared_keys(tmp_path, pool):
    raw = _check(tmp_path, pool, THREE_MISTAKES)
    assert set(raw) == _declared(wire.JobResult)  # the pool adds "sandbox"
    assert len(raw["errors"]) == 3
    for err in raw["errors"]:
        _conforms(err, wire.ErrorRecord)
        assert {"fix", "traceback"} <= set(err)
        assert set(err["fix"]) == _declared(wire.FixRecord)
        assert all(set(e) == _declared(wire.EditRecord) for e in err["fix"]["edits"])
        assert err["related"]
        assert all(set(r) == _declared(wire.RelatedRecord) for r in err["related"])
    assert set(raw["summary"]) == _declared(wire.SummaryRecord)
    assert all(set(layer) == _declared(wire.LayerRecord) for layer in raw["summary"]["layers"])


def test_a_clean_run_has_its_outputs_and_the_layers_that_set_them(tmp_path, pool):
    raw = _check(tmp_path, pool, CORRECT["lenet"])
    assert set(raw) == _declared(wire.JobResult)
    assert raw["errors"] == [] and raw["outputs"]
    for output in raw["outputs"]:
        _conforms(output, wire.OutputRecord)
    assert set(raw["outputs"][-1]) == _declared(wire.OutputRecord)


def test_not_checkable_info_and_a_file_without_a_model_have_the_declared_keys(tmp_path, pool):
    raw = _check(tmp_path, pool, "import torch\nimport einx\n\nx = 1\n")
    assert set(raw) == _declared(wire.JobResult)
    stubbed = "import torch\nimport einx\nfrom torch import nn\n\nmodel = nn.Linear(4, 2)\n"
    raw = _check(tmp_path, pool, stubbed)
    assert set(raw) == _declared(wire.JobResult)
    for info in raw["info"]:
        _conforms(info, wire.ErrorRecord)


def test_a_syntax_error_result_has_the_declared_keys(tmp_path, pool):
    raw = _check(tmp_path, pool, "def f(:\n")
    assert set(raw) == _declared(wire.JobResult)
    (err,) = raw["errors"]
    _conforms(err, wire.ErrorRecord)


def test_the_pool_answers_a_timeout_with_the_declared_keys(tmp_path, pool):
    source = (
        "import torch\nfrom torch import nn\n\n\ndef dl_model():\n    while True:\n        pass\n"
    )
    raw = _check(tmp_path, pool, source, timeout_ms=1500)
    assert raw["status"] == "timeout"
    _conforms(raw, wire.PoolOutcome)


def test_the_payload_has_only_declared_keys():
    options = CheckOptions(input_shape=(1, 3, 32, 32), requirement="CIFAR-10")
    payload = job_payload("x = 1\n", "/p.py", options)
    assert set(payload) <= _declared(wire.JobPayload)
    assert set(wire.JobPayload.__required_keys__) <= set(payload)
