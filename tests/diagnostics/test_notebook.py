"""Notebooks as one program: code cells in order, IPython syntax blanked, every program position
mapped back to its cell exactly, fixes written back to the fixed cells only, malformed notebooks
refused in one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from deepeval_lsp.diagnostics import (
    CheckOptions,
    Diagnostic,
    Fix,
    Position,
    TextEdit,
    UncheckableFile,
    check,
    iter_files,
)
from deepeval_lsp.diagnostics import taxonomy as T
from deepeval_lsp.diagnostics.findings import Range
from deepeval_lsp.diagnostics.fixes import apply_notebook_fixes
from deepeval_lsp.diagnostics.notebook import drop_ipython_names, parse_notebook, read_notebook

from tests.diagnostics.notebooks import notebook_text, write_notebook

STATIC = CheckOptions(dynamic=False, semantic=False)


def _undefined(nb) -> dict[str, tuple[int, Position]]:
    """Each "is not defined" finding of the notebook's program: name -> (cell, position)."""
    report = drop_ipython_names(check(nb.program, "nb.ipynb", STATIC), nb)
    lines = nb.program.splitlines()
    out = {}
    for d in report.diagnostics:
        if d.code == "DL004":
            r = d.range
            out[lines[r.start.line][r.start.character : r.end.character]] = nb.to_cell(r.start)
    return out


def test_positions_map_to_cells_after_magics_cell_magics_and_empty_cells() -> None:
    nb = parse_notebook(
        notebook_text(
            ("markdown", "# Title\n\nsome text"),
            "%matplotlib inline\nimport torch\n!pip install x\nx = first_missing",
            "",
            "%%time\ny = second_missing",
            "%%bash\necho $third_missing\nls",
            "for i in range(2):\n    !echo hi\n    %time z = fourth_missing\n"
            "torch.zeros?\n\n  \nw = fifth_missing  # why?",
            ("raw", "raw text"),
            "files = !ls\nprint(files, sixth_missing)",
        )
    )
    assert _undefined(nb) == {
        "first_missing": (1, Position(3, 4)),
        "second_missing": (3, Position(1, 4)),
        "fourth_missing": (5, Position(2, 14)),
        "fifth_missing": (5, Position(6, 4)),
        "sixth_missing": (7, Position(1, 13)),
    }
    # lines stay lines: as many program lines as code lines, the blocks stay valid Python
    compile(nb.program, "nb", "exec")
    assert "pip" not in nb.program and "echo" not in nb.program and "Title" not in nb.program


def test_a_name_from_an_earlier_cell_is_defined_and_a_finding_is_shown_in_its_own_cell() -> None:
    nb = parse_notebook(
        notebook_text(
            "import torch.nn as nn",
            "layer = nn.Linear(4, 2)",
            ("markdown", "Now use it"),
            "model = nn.Sequential(layer, nn.ReLU())\nconv = nn.Conv2D(1, 2, 3)",
        )
    )
    report = check(nb.program, "nb.ipynb", STATIC)
    assert [d.code for d in report.diagnostics] == ["DL104"]
    assert nb.cell_range(report.diagnostics[0].range) == (3, Range.of(1, 10, 1, 16))


def test_the_notebook_json_is_never_read_as_python() -> None:
    # outputs, metadata and ids hold true/false/null; none of it is in the program
    text = notebook_text("import torch\nx = torch.zeros(2)")
    assert "true" in text and "null" not in text
    text = text.replace('"execution_count": 1', '"execution_count": null')
    nb = parse_notebook(text)
    assert nb.program == "import torch\nx = torch.zeros(2)\n"
    assert check(nb.program, "nb.ipynb", STATIC).diagnostics == []


def test_ipython_names_are_defined_in_a_notebook() -> None:
    nb = parse_notebook(
        notebook_text(
            "from IPython import display\nimport IPython.display\nimport nosuchmodule_x",
            "display(1)\nget_ipython().run_line_magic('time', '')\nq",
        )
    )
    assert list(_undefined(nb)) == ["q"]
    report = drop_ipython_names(check(nb.program, "nb.ipynb", STATIC), nb)
    assert [(d.code, d.range.start.line) for d in report.diagnostics if d.code == "DL102"] == [
        ("DL102", 2)
    ]


def test_magic_looking_lines_inside_strings_and_brackets_are_python() -> None:
    nb = parse_notebook(
        notebook_text('s = """\n!not a shell line\n%not a magic\n"""\nt = (1,\n  2)\nu = "?"')
    )
    assert "!not a shell line\n%not a magic" in nb.program
    assert nb.blanked == frozenset()


def test_a_fix_changes_only_its_cells_source_in_the_file() -> None:
    text = notebook_text(
        "import torch.nn as nn",
        ("markdown", "text"),
        "head = nn.Linear(100, 10)\nother = 1",
        "",
    )
    nb = parse_notebook(text, "nb.ipynb")
    line = nb.program.splitlines().index("head = nn.Linear(100, 10)")
    fix = Fix("Set in_features", (TextEdit(Range.of(line, 17, line, 20), "32"),), verified=True)
    finding = Diagnostic(T.SHAPE_MISMATCH, Range.of(line, 0, line, 4), "m", fixes=(fix,))
    fixed, chosen = apply_notebook_fixes(nb, [finding])
    assert chosen.fixed == (finding,)
    assert fixed.text == text.replace(
        '"head = nn.Linear(100, 10)\\n"', '"head = nn.Linear(32, 10)\\n"'
    )
    assert fixed.cells[2].text == "head = nn.Linear(32, 10)\nother = 1"


def test_a_fix_into_a_string_source_and_an_empty_cell_keeps_the_file_layout() -> None:
    doc = json.loads(notebook_text("import torch", ""))
    doc["cells"][0]["source"] = "import torch\nx = 1"
    text = json.dumps(doc, indent=1, ensure_ascii=False) + "\n"
    nb = parse_notebook(text)
    edits = {0: "import torch\nx = 2", 1: "y = 3\nz = 4\n"}
    out = nb.with_sources(edits).text
    doc["cells"][0]["source"] = "import torch\nx = 2"
    doc["cells"][1]["source"] = ["y = 3\n", "z = 4\n"]
    assert out == json.dumps(doc, indent=1, ensure_ascii=False) + "\n"


def test_a_fix_that_cannot_be_made_within_cells_is_not_taken() -> None:
    nb = parse_notebook(notebook_text("%matplotlib inline\nx = 1", "y = 2"))
    on_magic = Fix("f", (TextEdit(Range.of(0, 0, 0, 4), "import os"),), verified=True)
    across = Fix("g", (TextEdit(Range.of(1, 0, 2, 1), "w"),), verified=True)
    at_start = Fix("h", (TextEdit(Range.of(0, 0, 0, 0), "import os\n"),), verified=True)
    findings = [
        Diagnostic(T.SHAPE_MISMATCH, Range.of(1, 0, 1, 1), "m", fixes=(f,))
        for f in (on_magic, across)
    ]
    fixed, chosen = apply_notebook_fixes(nb, findings)
    assert chosen.fixed == () and fixed.text == nb.text
    insert = Diagnostic(T.SHAPE_MISMATCH, Range.of(1, 0, 1, 1), "m", fixes=(at_start,))
    fixed, _ = apply_notebook_fixes(nb, [insert])
    assert fixed.cells[0].text == "import os\n%matplotlib inline\nx = 1"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ('{"cells": [', "not a valid notebook: invalid JSON at line 1 column 12"),
        ("[1, 2]", "not a valid notebook: no list of cells"),
        ('{"cells": {}}', "not a valid notebook: no list of cells"),
        ('{"cells": [{"source": "x"}], "nbformat": 4}', "cell 1 has no cell_type"),
        ('{"cells": [{"cell_type": "code", "source": 3}]}', "the source of cell 1 is not text"),
        ('{"cells": [], "nbformat": 3}', "unsupported notebook format 3"),
        ("[" * 100_000, "not a valid notebook"),
    ],
)
def test_a_malformed_notebook_is_one_line(tmp_path: Path, text: str, why: str) -> None:
    p = tmp_path / "bad.ipynb"
    p.write_text(text)
    with pytest.raises(UncheckableFile) as e:
        read_notebook(p)
    assert why in str(e.value) and "\n" not in str(e.value)


def test_folders_give_their_notebooks_when_asked(tmp_path: Path) -> None:
    for name in ("a.py", "b.ipynb", ".ipynb_checkpoints/b-checkpoint.ipynb"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    assert list(iter_files([str(tmp_path)])) == [str(tmp_path / "a.py")]
    assert list(iter_files([str(tmp_path)], notebooks=True)) == [
        str(tmp_path / "a.py"),
        str(tmp_path / "b.ipynb"),
    ]


def test_write_notebook_helper_round_trips(tmp_path: Path) -> None:
    p = write_notebook(tmp_path / "n.ipynb", "x = 1")
    assert read_notebook(p).program == "x = 1\n"


def test_cells_that_do_not_parse_are_reported_and_left_out() -> None:
    from deepeval_lsp.diagnostics.notebook import checked_options, notebook_report

    nb = parse_notebook(
        notebook_text(
            "%matplotlib inline\nimport torch.nn as nn",
            ("markdown", "text"),
            "def f(:\n    return 1",
            "layer = nn.Linear(2, 3)\nout = f(1)",
            "!ls\nclass C:\n    x = = 1",
        )
    )
    assert [(cell, d.code, d.range.start) for cell, d in nb.broken] == [
        (2, "DL001", Position(2, 6)),
        (4, "DL001", Position(8, 8)),
    ]
    assert nb.checked_program.splitlines() == [
        "pass",
        "import torch.nn as nn",
        "",
        "",
        "layer = nn.Linear(2, 3)",
        "out = f(1)",
        "",
        "",
        "",
    ]
    options = checked_options(nb, CheckOptions())
    assert not options.dynamic and not options.semantic
    report = notebook_report(check(nb.checked_program, "nb.ipynb", options), nb, options)
    found = [(d.code, str(d.severity), nb.to_cell(d.range.start)) for d in report.diagnostics]
    assert found == [
        ("DL001", "error", (2, Position(0, 6))),
        ("DL004", "information", (3, Position(1, 6))),  # `f` is the broken cell's
        ("DL001", "error", (4, Position(2, 8))),
    ]
    assert report.diagnostics[1].message.endswith(
        "(unless cells 3, 5, which do not parse, define it)"
    )
    assert report.passes["dynamic"] == "not run: cells 3, 5 have syntax errors"
    assert report.notes[-1] == "dynamic checks did not run: cells 3, 5 have syntax errors"
    # a notebook whose cells all parse is checked as it is
    good = parse_notebook(notebook_text("x = 1", "y = x"))
    assert good.broken == () and good.checked_program == good.program


def test_the_size_limit_is_on_a_notebooks_code_not_its_outputs(tmp_path: Path) -> None:
    doc = json.loads(notebook_text("import torch\nx = torch.zeros(2)"))
    doc["cells"][0]["outputs"][1]["data"]["image/png"] = "A" * 3_000_000  # a plot's image
    p = tmp_path / "plots.ipynb"
    p.write_text(json.dumps(doc))
    assert read_notebook(p).program == "import torch\nx = torch.zeros(2)\n"
    doc["cells"][0]["source"] = "x = 1\n" * 400_000
    p.write_text(json.dumps(doc))
    with pytest.raises(UncheckableFile, match="the notebook's code is too large to check"):
        read_notebook(p)
