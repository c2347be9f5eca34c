"""The static pass over a fixed tenth of the study's 4,800 programs: no crash, sane findings.

The whole corpus runs in perf/study_static.py (it also prints the comparison with the study).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from deepeval_lsp.diagnostics import CheckOptions, check, read_source

pytestmark = pytest.mark.corpus


def programs(study_data: Path) -> list[Path]:
    root = study_data / "DeepEval" / "response" / "DeepEval"
    return sorted(root.rglob("generated_code_*.py"))[::10]


def test_static_pass_on_a_tenth_of_the_corpus(study_data: Path) -> None:
    files = programs(study_data)
    assert len(files) == 480
    options = CheckOptions(dynamic=False, verify_fixes=False)
    codes: Counter = Counter()
    for f in files:
        report = check(read_source(f), str(f), options)
        assert report.error is None
        codes.update({d.code for d in report.diagnostics})
    # The study's most common static-visible failure is the missing import; the pass must see
    # a good number of them, and most programs must be free of errors.
    assert codes["DL101"] >= 30
    assert sum(codes.values()) < len(files)


def test_reference_programs_have_no_errors(study_data: Path) -> None:
    root = study_data / "DeepEval" / "benchmark" / "DeepEval"
    refs = sorted(root.rglob("*_task_*.py"))
    assert len(refs) == 100
    options = CheckOptions(dynamic=False, verify_fixes=False)
    for f in refs:
        errors = [
            d for d in check(read_source(f), str(f), options).diagnostics if d.severity == "error"
        ]
        assert errors == [], (f.name, errors)
