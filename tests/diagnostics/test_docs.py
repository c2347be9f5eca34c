"""Every diagnostic code is documented in docs/diagnostics.md with its exact taxonomy."""

from __future__ import annotations

import re
from pathlib import Path

from deepeval_lsp.diagnostics.taxonomy import CODES

DOC = Path(__file__).resolve().parents[2] / "docs" / "diagnostics.md"


def test_every_code_has_a_section_and_a_table_row() -> None:
    text = DOC.read_text()
    sections = set(re.findall(r"^## (DL\d{3})$", text, flags=re.M))
    assert sections == set(CODES)
    for code, spec in CODES.items():
        row = next(line for line in text.splitlines() if line.startswith(f"| [{code}]"))
        assert f"| {spec.dl_error} |" in row
        assert f"| {spec.root_cause} |" in row
