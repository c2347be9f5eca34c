"""The checker on real, published model code (../shared/realcode), as a user runs it.

A fixed subset of perf/realcode.py's corpus: each repository is checked by `deepeval-lsp check`
from its own root. Every error-severity finding must be one of the corpus's named true bugs
(perf/realcode.py TRUE_BUGS), and every named true bug of these repositories must be found.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT.parent / "shared" / "realcode"
SUBSET = (
    "jvanvugt+pytorch-unet",
    "openai+CLIP",
    "facebookresearch+detr",
    "AntixK+PyTorch-VAE",
    "lucidrains+x-transformers",
    "kpot+keras-transformer",
    "philipperemy+keras-tcn",
    "sgrvinod+a-PyTorch-Tutorial-to-Super-Resolution",
)

pytestmark = pytest.mark.skipif(
    not (CORPUS / "files.txt").is_file(),
    reason="the real-code corpus (../shared/realcode) is absent",
)


def _realcode():
    spec = importlib.util.spec_from_file_location("realcode", ROOT / "perf" / "realcode.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def reports() -> list[dict]:
    rc = _realcode()
    by_repo = rc.corpus_files(CORPUS)
    exe = [sys.executable, "-m", "deepeval_lsp"]
    out = []
    for repo in SUBSET:
        out += rc.check_repo(CORPUS, repo, by_repo[repo], [], exe)
    return out


def _errors(reports: list[dict]) -> set[str]:
    return {
        f"{r['repo']}/{r['path']}:{d['range']['start']['line'] + 1} {d['code']}"
        for r in reports
        for d in r["diagnostics"]
        if d["severity"] == "error"
    }


def test_every_file_was_checked(reports: list[dict]) -> None:
    assert [r for r in reports if "crash" in r] == []
    rc = _realcode()
    by_repo = rc.corpus_files(CORPUS)
    assert len(reports) == sum(len(by_repo[r]) for r in SUBSET)


def test_no_false_errors(reports: list[dict]) -> None:
    rc = _realcode()
    assert sorted(_errors(reports) - set(rc.TRUE_BUGS)) == []


def test_the_named_true_bugs_are_found(reports: list[dict]) -> None:
    rc = _realcode()
    wanted = {k for k in rc.TRUE_BUGS if k.split("/")[0] in SUBSET}
    assert wanted and sorted(wanted - _errors(reports)) == []
