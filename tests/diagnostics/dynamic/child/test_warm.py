"""The zygote's warm-up: its programs build clean, and warm() runs them."""

from __future__ import annotations

from deepeval_lsp.diagnostics.dynamic.child import warm
from deepeval_lsp.diagnostics.dynamic.child.job import run_job


def test_the_worker_warm_up_programs_build_clean():
    for source in (warm.WARM_TORCH, warm.WARM_KERAS):
        result = run_job({"source": source, "path": "<warm>"})
        assert result["errors"] == [] and result["executable"] is True


def test_warm_runs():
    warm.warm()
