"""The zygote's warm-up: its programs build clean, and running it leaves torch and Keras loaded."""

from __future__ import annotations

import os
import sys

from deepeval_lsp.diagnostics.dynamic.child import warm
from deepeval_lsp.diagnostics.dynamic.child.model_runner import run_job

os.environ.setdefault("KERAS_BACKEND", "torch")


def test_the_worker_warm_up_programs_build_clean():
    for source in (warm._WARM_TORCH, warm._WARM_KERAS):
        result = run_job({"source": source, "path": "<warm>"})
        assert result["errors"] == [] and result["executable"] is True


def test_warm_leaves_torch_and_keras_imported():
    warm.warm()
    assert "torch" in sys.modules and "keras" in sys.modules
