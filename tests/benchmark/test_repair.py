"""The repair prompting's spelling, stopping rule, follow-up turn and fixes-only round, on real
findings of the static pass."""

from __future__ import annotations

import dataclasses

import pytest
from deepeval_lsp.benchmark.repair import (
    apply_verified_fixes,
    base_prompting,
    blocking,
    canonical_prompting,
    feedback_message,
    fix_hints,
    parse_prompting,
)
from deepeval_lsp.benchmark.scoring import options_for
from deepeval_lsp.benchmark.selftest import mutants
from deepeval_lsp.diagnostics.check import check
from deepeval_lsp.diagnostics.tasks.suite import load_suite

TASK = load_suite("builtin").get("img_avgpool_pointwise_mnist")


@pytest.mark.parametrize(
    ("label", "canonical"),
    [
        ("zeroshot", "zeroshot"),
        ("repair", "zeroshot+repair:2"),
        ("repair:3", "zeroshot+repair:3"),
        ("repair-fixes", "zeroshot+repair-fixes:2"),
        ("fewshot+repair", "fewshot+repair:2"),
        ("oneshotcot+repair-fixes:1", "oneshotcot+repair-fixes:1"),
    ],
)
def test_labels_have_one_stored_spelling(label, canonical):
    assert canonical_prompting(label) == canonical
    assert canonical_prompting(canonical) == canonical
    assert base_prompting(canonical) == canonical.split("+")[0]


@pytest.mark.parametrize("label", ["repair:0", "repair:11", "fewshot+repair:x", "tenshot+repair"])
def test_bad_labels_are_refused_in_one_line(label):
    with pytest.raises(ValueError) as e:
        parse_prompting(label)
    assert "\n" not in str(e.value)
    assert base_prompting("none") == "none"  # the reference model's prompting is left alone


def _errors(kind: str):
    source = mutants(TASK, [kind])[0].source
    options = dataclasses.replace(options_for(TASK, dynamic=False), verify_fixes=True)
    report = check(source, "program.py", options)
    return source, report.diagnostics


def test_the_follow_up_shows_the_errors_as_check_renders_them_and_the_fixes_as_hints():
    source, diagnostics = _errors("hallucinated_member")
    errors = blocking(diagnostics)
    assert [d.code for d in errors] == ["DL104"]
    # the semantic pass's notes are findings too, but never start a round
    assert len(diagnostics) > len(errors)
    text = feedback_message(source, errors)
    assert "program.py:9:29: DL104 module `nn` (torch.nn) has no member `Conv2D`" in text
    assert "= help: Change to `Conv2d` (verified)" in text
    assert fix_hints(source, errors) == [
        "- at line 9, replace `self.pointwise = nn.Conv2D(in_channels=1, out_channels=16, "
        "kernel_size=1)` with `self.pointwise = nn.Conv2d(in_channels=1, out_channels=16, "
        "kernel_size=1)`"
    ]
    assert "```python" in text


def test_a_fix_several_findings_share_is_one_hint_and_is_applied_once():
    source, diagnostics = _errors("missing_import")
    errors = blocking(diagnostics)
    assert len(errors) > 1 and {d.code for d in errors} == {"DL101"}
    assert fix_hints(source, errors) == ["- at line 3, insert the line `import torch`"]
    fixed, count = apply_verified_fixes(source, diagnostics)
    assert count == len(errors)
    assert fixed.count("import torch\n") == 1
    options = options_for(TASK, dynamic=False)
    assert blocking(check(fixed, "program.py", options).diagnostics) == []
