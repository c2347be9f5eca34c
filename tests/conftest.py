"""Shared fixtures: the repository root and the study's published data (skipped when absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def study_root() -> Path | None:
    """../shared/deepeval beside the checkout, or $DEEPEVAL_DATA; None when absent."""
    env = os.environ.get("DEEPEVAL_DATA")
    candidates = [Path(env)] if env else []
    candidates.append(REPO.parent / "shared" / "deepeval")
    for c in candidates:
        if (c / "DeepEval").is_dir():
            return c
    return None


@pytest.fixture(scope="session")
def study_data() -> Path:
    root = study_root()
    if root is None:
        pytest.skip("the DeepEval study data (../shared/deepeval) is not present")
    return root


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO
