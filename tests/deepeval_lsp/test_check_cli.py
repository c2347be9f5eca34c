"""`deepeval-lsp check` as a user runs it: formats, exit codes, selection, fixes, bad input."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

BAD = """\
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2D(1, 8, 3)
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        return F.relu(self.fc(self.conv(x)))
"""


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "deepeval_lsp", "check", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


@pytest.fixture
def bad_file(tmp_path: Path) -> Path:
    p = tmp_path / "bad.py"
    p.write_text(BAD)
    return p


def test_text_output_like_ruff(bad_file: Path) -> None:
    r = cli("--no-dynamic", str(bad_file))
    assert r.returncode == 1, r.stderr
    lines = r.stdout.splitlines()
    assert f"{bad_file}:7:24: DL104 module `nn` (torch.nn) has no member `Conv2D`" in lines[0]
    assert "7 |         self.conv = nn.Conv2D(1, 8, 3)" in r.stdout
    assert "^^^^^^" in r.stdout
    assert "= help: Change to `Conv2d` (verified)" in r.stdout
    assert f"{bad_file}:11:16: DL101" in r.stdout
    assert "1 file checked, 2 errors" in lines[-1]
    assert "dynamic checks turned off" in lines[-1]
    assert "Traceback" not in r.stderr


def test_json_output_shape(bad_file: Path) -> None:
    r = cli("--no-dynamic", "--format", "json", str(bad_file))
    assert r.returncode == 1
    (entry,) = json.loads(r.stdout)
    assert entry["path"] == str(bad_file)
    d = entry["diagnostics"][0]
    assert set(d) >= {
        "code",
        "severity",
        "range",
        "message",
        "python_error",
        "dl_error",
        "root_cause",
        "related",
        "fixes",
    }
    assert d["range"] == {
        "start": {"line": 6, "character": 23},
        "end": {"line": 6, "character": 29},
    }
    assert d["severity"] == "error" and d["dl_error"] == "Non-Existent API Attribute Access"
    assert d["fixes"][0]["verified"] is True
    assert d["fixes"][0]["edits"][0]["new_text"] == "Conv2d"
    assert entry["summary"]["errors"] == 2
    assert entry["summary"]["passes"]["dynamic"].startswith("not run")


def test_sarif_output(bad_file: Path) -> None:
    r = cli("--no-dynamic", "--format", "sarif", str(bad_file))
    doc = json.loads(r.stdout)
    assert doc["version"] == "2.1.0"
    run = doc["runs"][0]
    assert {rule["id"] for rule in run["tool"]["driver"]["rules"]} == {"DL101", "DL104"}
    first = run["results"][0]
    assert first["ruleId"] == "DL104" and first["level"] == "error"
    region = first["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"]) == (7, 24)
    assert (
        first["fixes"][0]["artifactChanges"][0]["replacements"][0]["insertedContent"]["text"]
        == "Conv2d"
    )


def test_select_and_ignore(bad_file: Path) -> None:
    r = cli(
        "--no-dynamic", "--format", "json", "--select", "DL1", "--ignore", "DL104", str(bad_file)
    )
    codes = [d["code"] for d in json.loads(r.stdout)[0]["diagnostics"]]
    assert codes == ["DL101"]
    r = cli("--no-dynamic", "--select", "DL9", str(bad_file))
    assert r.returncode == 2 and "unknown diagnostic code" in r.stderr


def test_fix_in_place_and_exit_zero(bad_file: Path) -> None:
    r = cli("--no-dynamic", "--fix", str(bad_file))
    assert r.returncode == 0, r.stdout
    text = bad_file.read_text()
    assert "nn.Conv2d(1, 8, 3)" in text and "import torch.nn.functional as F" in text
    assert "2 fixed" in r.stdout
    assert cli("--no-dynamic", str(bad_file)).returncode == 0


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert cli().returncode == 2
    assert cli("--format", "xml", str(tmp_path)).returncode == 2
    r = cli("--input-shape", "a,b", str(tmp_path))
    assert r.returncode == 2 and "--input-shape" in r.stderr
    top = subprocess.run(
        [sys.executable, "-m", "deepeval_lsp", "frobnicate"], capture_output=True, text=True
    )
    assert top.returncode == 2 and "unknown command" in top.stderr


def test_bad_input_one_line_each_and_others_still_checked(tmp_path: Path) -> None:
    (tmp_path / "empty.py").write_text("")
    (tmp_path / "binary.py").write_bytes(b"\x00\x01\x02import torch\x00")
    (tmp_path / "latin1.py").write_bytes("x = 'caf\xe9'\n".encode("latin-1"))
    (tmp_path / "huge.py").write_text("x = 1\n" * 900_000)  # 5.4 MB
    (tmp_path / "nested.py").write_text("x = " + "(" * 5000 + "1" + ")" * 5000 + "\n")
    (tmp_path / "good.py").write_text("import torch\nx = torch.zeros(3)\n")
    (tmp_path / "bad.py").write_text(BAD)
    missing = tmp_path / "does_not_exist.py"
    r = cli("--no-dynamic", "--no-frames", str(tmp_path), str(missing))
    assert r.returncode == 1
    assert "Traceback" not in r.stdout + r.stderr
    out = r.stdout
    assert f"{tmp_path / 'binary.py'}: cannot check: binary file" in out
    assert f"{tmp_path / 'latin1.py'}: cannot check: not valid utf-8 text at byte 8" in out
    assert f"{tmp_path / 'huge.py'}: cannot check: file too large to check (5.4 MB" in out
    assert f"{tmp_path / 'nested.py'}:1:" in out  # too many nested parentheses: a syntax error
    assert f"{missing}: cannot check: no such file or directory" in out
    assert f"{tmp_path / 'bad.py'}:7:24: DL104" in out
    assert "8 files checked" in out.splitlines()[-1]
    assert "4 could not be checked" in out.splitlines()[-1]
    for name in ("binary", "latin1", "huge", "nested"):
        assert sum(1 for line in out.splitlines() if f"{name}.py" in line) == 1


def test_folder_walk_skips_virtualenvs(tmp_path: Path) -> None:
    (tmp_path / ".venv" / "lib").mkdir(parents=True)
    (tmp_path / ".venv" / "lib" / "x.py").write_text("nope(\n")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "m.py").write_text("import torch\n")
    r = cli("--no-dynamic", "--format", "json", str(tmp_path))
    assert [e["path"] for e in json.loads(r.stdout)] == [str(tmp_path / "pkg" / "m.py")]


def test_task_comparison_from_builtin_suite(tmp_path: Path) -> None:
    import tomllib

    from deepeval_lsp.diagnostics.tasks.suite import BUILTIN_SUITE

    toml = sorted(BUILTIN_SUITE.rglob("*.toml"))[0]
    task_id = tomllib.loads(toml.read_text())["id"]
    reference = toml.with_suffix(".py").read_text()
    f = tmp_path / "mine.py"
    f.write_text(reference)
    r = cli("--no-dynamic", "--task", task_id, str(f))
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"semantic (task {task_id}): API set F1 100.0, API sequence F1 100.0" in r.stdout
    r = cli("--no-dynamic", "--task", "no_such_task", str(f))
    assert r.returncode == 2 and "no task 'no_such_task'" in r.stderr


def test_task_output_shape_checked_from_the_option_and_the_comment(tmp_path: Path) -> None:
    from deepeval_lsp.diagnostics.tasks.suite import BUILTIN_SUITE

    reference = (BUILTIN_SUITE / "easy" / "img_mlp_fashion_mnist.py").read_text()
    wrong = reference.replace("out_features=10)", "out_features=100)")
    assert wrong != reference
    f = tmp_path / "mine.py"
    f.write_text(wrong)
    r = cli("--task", "img_mlp_fashion_mnist", "--suite", "builtin", str(f))
    assert r.returncode == 0, r.stdout + r.stderr  # a warning: exit status 0
    expected = "DL305 the model returns (N, 100) but task img_mlp_fashion_mnist expects (N, 10)"
    assert expected in r.stdout
    assert "Change to `10`, the task's output size" in r.stdout and "(verified)" in r.stdout
    f.write_text("# deepeval: task=img_mlp_fashion_mnist\n" + wrong)
    assert expected in cli(str(f)).stdout
    f.write_text(reference)
    assert "DL305" not in cli("--task", "img_mlp_fashion_mnist", str(f)).stdout


KERAS_BRANCHES = """\
from tensorflow.keras import layers, models


def block(x):
    y = layers.Conv2D(8, 3)(x)
    return layers.Add()([x, y])


def dl_model():
    inputs = layers.Input(shape=(28, 28, 1))
    x = block(inputs)
    return models.Model(inputs, layers.Dense(10)(layers.Flatten()(x)))
"""


def test_paper_compat_runs_keras_files_on_the_paper_engine(tmp_path: Path) -> None:
    from deepeval_lsp.diagnostics.paper import engine as paper_engine
    from deepeval_lsp.diagnostics.taxonomy import CODES, SHAPE_MISMATCH

    if paper_engine.available():
        pytest.skip(str(paper_engine.available()))
    keras_file = tmp_path / "branches.py"
    keras_file.write_text(KERAS_BRANCHES)
    torch_file = tmp_path / "net.py"
    torch_file.write_text(
        "import torch.nn as nn\n\n\ndef dl_model():\n    return nn.Sequential(nn.Linear(4, 2))\n"
    )
    r = cli("--paper-compat", "--no-frames", str(keras_file), str(torch_file))
    assert r.returncode == 1, r.stdout + r.stderr
    # the failing frame in the file: the Add in block(), not the call in dl_model()
    (line,) = [x for x in r.stdout.splitlines() if x.startswith(f"{keras_file}:")]
    assert line.startswith(f"{keras_file}:6:12: {SHAPE_MISMATCH} ")
    assert line.endswith(f"[{CODES[SHAPE_MISMATCH].dl_error}]")
    # the PyTorch file has no finding, only notes
    torch_lines = [x for x in r.stdout.splitlines() if x.startswith(f"{torch_file}:")]
    assert all(x.startswith(f"{torch_file}:1:1: note: ") for x in torch_lines), torch_lines
    assert r.stderr.strip() == (
        "deepeval-lsp check: --paper-compat applies to Keras programs "
        "only; others are checked with the default engine"
    )


def test_paper_compat_without_the_extra_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import argparse

    from deepeval_lsp.diagnostics.paper import engine as paper_engine

    from deepeval_lsp import check_cli

    monkeypatch.setattr(paper_engine, "available", lambda: "needs tensorflow: pip install x")
    parser = argparse.ArgumentParser()
    check_cli.add_arguments(parser)
    (tmp_path / "m.py").write_text(KERAS_BRANCHES)
    assert check_cli.run(parser.parse_args(["--paper-compat", str(tmp_path / "m.py")])) == 2
    err = capsys.readouterr().err
    assert err == "deepeval-lsp check: error: --paper-compat: needs tensorflow: pip install x\n"


def _summary_count(summary: str, noun: str) -> int:
    m = re.search(rf"(\d+) {noun}s?\b", summary)
    return int(m.group(1)) if m else 0


def test_every_note_names_its_file_and_the_summary_counts_what_was_printed(
    tmp_path: Path,
) -> None:
    # DL401 findings (a package not installed) and notes about whole files (no model entry
    # point), in two files, with an error among them
    (tmp_path / "a.py").write_text("import tqdm\nimport einx\n")
    (tmp_path / "b.py").write_text("import tqdm\n\nx = undefined_name\n")
    r = cli("--no-frames", str(tmp_path))
    assert "Traceback" not in r.stderr
    lines = r.stdout.splitlines()
    *body, summary = lines
    location = re.compile(rf"^{re.escape(str(tmp_path))}/[ab]\.py:\d+:\d+: ")
    printed = [line for line in body if not line.startswith("  =")]
    assert printed and all(location.match(line) for line in printed), r.stdout
    notes = [
        line for line in printed if re.search(r":\d+: (note: |DL4\d\d .*\[Not Checkable\])", line)
    ]
    errors = [line for line in printed if line not in notes]
    assert any(": note: " in line for line in notes) and any("DL401" in line for line in notes)
    assert {line.split(":")[0] for line in notes} == {
        str(tmp_path / "a.py"),
        str(tmp_path / "b.py"),
    }
    assert _summary_count(summary, "note") == len(notes)
    assert _summary_count(summary, "error") == len(errors) == 1
    assert _summary_count(summary, "warning") == 0


def test_a_reader_that_stops_early_gets_no_traceback(tmp_path: Path) -> None:
    # `deepeval-lsp check . | head -1`: the pipe closes while findings are still printed
    for i in range(40):
        (tmp_path / f"m{i}.py").write_text("import torch\nx = torch.nn.Conv2D(3, 8, 3)\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "deepeval_lsp", "check", "--no-dynamic", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read().decode() if proc.stderr else ""
    assert proc.wait(timeout=120) == 141
    assert "Traceback" not in err


# -- notebooks ---------------------------------------------------------------------------------

HEAD_CELL = "def make_head():\n    return nn.Linear(100, 10)"
NET_CELL = """\
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.head = make_head()

    def forward(self, x):
        return self.head(self.conv(x).flatten(1))"""


def test_a_notebook_shape_error_is_shown_in_its_cells_and_fixed_in_the_layers_cell(
    tmp_path: Path,
) -> None:
    from tests.diagnostics.notebooks import notebook_text, sources

    nb = tmp_path / "model.ipynb"
    before = notebook_text(
        "%matplotlib inline\nimport torch\nimport torch.nn as nn",
        HEAD_CELL,
        ("markdown", "The network"),
        "%%time\n# deepeval: input=(2, 3, 8, 8)\n" + NET_CELL,
    )
    nb.write_text(before, encoding="utf-8")
    r = cli("--format", "json", str(nb))
    (entry,) = json.loads(r.stdout)
    (d,) = [d for d in entry["diagnostics"] if d["code"] == "DL301"]
    assert (d["cell"], d["range"]["start"]["line"]) == (4, 9)  # return self.head(...)
    (rel,) = d["related"]
    assert (rel["cell"], rel["range"]["start"]) == (2, {"line": 1, "character": 11})
    (edit,) = d["fixes"][0]["edits"]
    assert edit["cell"] == 2 and d["fixes"][0]["verified"]

    r = cli("--no-frames", str(nb))
    assert f"{nb}:cell 4:10:16: DL301" in r.stdout
    assert f"= note: {nb}:cell 2:2:12: " in r.stdout

    sarif = json.loads(cli("--format", "sarif", str(nb)).stdout)
    (res,) = [x for x in sarif["runs"][0]["results"] if x["ruleId"] == "DL301"]
    loc = res["locations"][0]
    assert loc["properties"] == {"cell": 4} and loc["logicalLocations"] == [{"name": "cell 4"}]
    assert loc["physicalLocation"]["region"]["startLine"] == 10
    assert res["relatedLocations"][0]["properties"] == {"cell": 2}

    r = cli("--fix", str(nb))
    assert r.returncode == 0, r.stdout
    assert "1 fixed" in r.stdout
    after = nb.read_text(encoding="utf-8")
    # the one line of the layer's cell changed; outputs, metadata, ids and layout as they were
    assert after == before.replace(
        '"    return nn.Linear(100, 10)"', '"    return nn.Linear(288, 10)"'
    )
    assert sources(nb)[1] == "def make_head():\n    return nn.Linear(288, 10)"


def test_notebook_static_findings_in_cells_and_a_fix_in_place(tmp_path: Path) -> None:
    from tests.diagnostics.notebooks import notebook_text

    nb = tmp_path / "n.ipynb"
    before = notebook_text("import torch.nn as nn\n!pip install x", "", "conv = nn.Conv2D(1, 8, 3)")
    nb.write_text(before, encoding="utf-8")
    r = cli("--no-dynamic", str(nb))
    assert r.returncode == 1
    assert f"{nb}:cell 3:1:11: DL104" in r.stdout
    assert "1 | conv = nn.Conv2D(1, 8, 3)" in r.stdout
    assert "DL004" not in r.stdout  # the notebook's JSON (true, null) is not read as Python
    r = cli("--no-dynamic", "--fix", str(nb))
    assert r.returncode == 0 and "1 fixed" in r.stdout
    assert nb.read_text(encoding="utf-8") == before.replace("nn.Conv2D(", "nn.Conv2d(")


def test_a_notebooks_notes_name_cells_not_program_lines(tmp_path: Path) -> None:
    from tests.diagnostics.notebooks import write_notebook

    data = (
        "import torch\nimport torch.nn as nn\n\nwith open('vocab.txt') as f:\n    vocab = f.read()"
    )
    model = (
        "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.emb = nn.Embedding(len(vocab), 8)\n\n    def forward(self, x):\n"
        "        return self.emb(x)\n\nmodel = Net()"
    )
    nb = write_notebook(tmp_path / "a.ipynb", ("markdown", "# Data"), data, model)
    none = write_notebook(tmp_path / "b.ipynb", ("markdown", "# None"), "%matplotlib inline\nx = 1")
    r = cli("--no-frames", str(nb), str(none))
    lines = r.stdout.splitlines()
    # the binding the note names is cell 2's line 4 (the program's line 6)
    assert any(
        line.startswith(f"{nb}:cell 3:4:33: DL401 depends on vocab (cell 2, line 4), ")
        for line in lines
    ), r.stdout
    # a note about the whole notebook is placed at its first code cell
    assert any(line.startswith(f"{none}:cell 2:1:1: note: no model entry point") for line in lines)


def test_a_notebooks_size_computed_from_its_data_is_assumed_and_said_in_its_cell(
    tmp_path: Path,
) -> None:
    from tests.diagnostics.notebooks import write_notebook

    data = "import torch\nimport torch.nn as nn\n\nv = torch.load('v.pt')\nINPUT_DIM = len(v)"
    model = "model = nn.Sequential(nn.Embedding(INPUT_DIM, 8), nn.Linear(8, 2))"
    nb = write_notebook(tmp_path / "a.ipynb", ("markdown", "# Data"), data, model)
    r = cli("--format", "json", str(nb))
    (entry,) = json.loads(r.stdout)
    assert entry["summary"]["model"] is not None and entry["summary"]["errors"] == 0
    assert (
        "built with INPUT_DIM=64 (cell 2, line 5) assumed by the check: the program computes it "
        "from data that the check does not load"
    ) in entry["summary"]["notes"]


def test_folders_include_notebooks_and_a_malformed_one_is_one_line(tmp_path: Path) -> None:
    from tests.diagnostics.notebooks import write_notebook

    write_notebook(tmp_path / "good.ipynb", "import torch\nx = torch.zeros(2)")
    (tmp_path / "broken.ipynb").write_text('{"cells": [{"cell_type": "code", "source": [}')
    (tmp_path / "bad.py").write_text(BAD)
    r = cli("--no-dynamic", "--no-frames", str(tmp_path))
    assert r.returncode == 1
    assert "Traceback" not in r.stdout + r.stderr
    broken = [line for line in r.stdout.splitlines() if "broken.ipynb" in line]
    assert broken == [
        f"{tmp_path / 'broken.ipynb'}: cannot check: not a valid notebook: "
        "invalid JSON at line 1 column 45: Expecting value"
    ]
    assert "3 files checked" in r.stdout.splitlines()[-1]
    assert "1 could not be checked" in r.stdout.splitlines()[-1]
    assert not any("good.ipynb" in line for line in r.stdout.splitlines())
    r = cli("--no-dynamic", str(tmp_path / "broken.ipynb"))
    assert r.returncode == 1 and "Traceback" not in r.stderr


PACKAGE = {
    "models/__init__.py": "from .net import Net\n",
    "models/parts.py": "import torch.nn as nn\n\n\ndef block(i, o):\n    return nn.Linear(i, o)\n",
    "models/net.py": (
        "import torch.nn as nn\nfrom util.cfg import WIDTH\nfrom .parts import block\n"
        "# deepeval: input=(1, 3)\n\n\nclass Net(nn.Module):\n    def __init__(self):\n"
        "        super().__init__()\n        self.a = block(3, WIDTH)\n"
        "        self.b = nn.Linear(WIDTH + 1, 2)  # wrong\n\n"
        "    def forward(self, x):\n        return self.b(self.a(x))\n"
    ),
    "util/__init__.py": "",
    "util/cfg.py": "WIDTH = 8\n",
}


def test_a_package_module_is_checked_as_run_from_the_project_root(tmp_path: Path) -> None:
    for name, text in PACKAGE.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    # a script in a plain folder imports the packages from the project root: the current
    # folder, or the one named; without it util/ is nobody's module
    tools = tmp_path / "tools"
    tools.mkdir()
    script = PACKAGE["models/net.py"].replace("from .parts", "from models.parts")
    (tools / "run.py").write_text(script)
    r = cli("--format", "json", "models/net.py", "tools/run.py", cwd=tmp_path)
    for report in json.loads(r.stdout):
        got = [(d["code"], d["range"]["start"]["line"]) for d in report["diagnostics"]]
        assert got == [("DL301", 13)], report["diagnostics"]
        assert report["diagnostics"][0]["fixes"]
    r = cli("--format", "json", "--project-root", str(tmp_path), "run.py", cwd=tools)
    assert [d["code"] for d in json.loads(r.stdout)[0]["diagnostics"]] == ["DL301"]
    r = cli("--format", "json", "run.py", cwd=tools)
    (d,) = json.loads(r.stdout)[0]["diagnostics"]
    assert (d["code"], d["message"]) == ("DL102", "No module named 'util'")


def test_a_project_root_that_is_no_folder_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "x.py").write_text("")
    r = cli("--project-root", str(tmp_path / "nope"), str(tmp_path / "x.py"))
    assert r.returncode == 2 and "--project-root" in r.stderr and "Traceback" not in r.stderr


def test_a_notebook_has_the_model_summary_and_the_semantic_scores_of_its_program(
    tmp_path: Path,
) -> None:
    from deepeval_lsp.diagnostics.tasks.suite import BUILTIN_SUITE

    from tests.diagnostics.notebooks import write_notebook

    reference = (BUILTIN_SUITE / "easy" / "img_mlp_fashion_mnist.py").read_text()
    imports, model_class, make = reference.split("\n\n\n")
    nb = write_notebook(
        tmp_path / "mlp.ipynb",
        "%matplotlib inline\n" + imports,
        ("markdown", "The model"),
        model_class,
        make,
        # cells that would load data, train and plot: not run, as in a script
        "model = dl_model()\nopt = torch.optim.SGD(model.parameters(), lr=0.1)\n"
        "for x, y in torch.load('no_such_data.pt'):\n"
        "    nn.functional.cross_entropy(model(x), y).backward()\n    opt.step()",
        "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()",
    )
    r = cli("--summary", "--task", "img_mlp_fashion_mnist", str(nb))
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"{nb}: semantic (task img_mlp_fashion_mnist): API set F1 " in r.stdout
    assert f"{nb}: model summary" in r.stdout
    assert re.search(r"hidden1 \(Linear\) +\(2, 784\) +\(2, 256\) +200,960", r.stdout), r.stdout
    assert "Output shape: (2, 10)" in r.stdout


def test_a_cell_that_does_not_parse_leaves_the_others_checked_statically(tmp_path: Path) -> None:
    from tests.diagnostics.notebooks import write_notebook

    nb = write_notebook(
        tmp_path / "n.ipynb",
        "import torch.nn as nn",
        "width = (3,\nfc = nn.Linear(100, 10)",  # never closed
        "conv = nn.Conv2D(1, width, 3)\nhead = fc\nq = missing_name",
    )
    r = cli("--format", "json", "--summary", str(nb))
    assert r.returncode == 1, r.stdout + r.stderr
    (entry,) = json.loads(r.stdout)
    found = [
        (d["code"], d["severity"], d["cell"], d["range"]["start"]["line"])
        for d in entry["diagnostics"]
    ]
    assert found == [
        ("DL001", "error", 2, 0),
        ("DL104", "error", 3, 0),
        # names the broken cell may define are only noted; another one is an error
        ("DL004", "information", 3, 0),
        ("DL004", "information", 3, 1),
        ("DL004", "error", 3, 2),
    ]
    passes = entry["summary"]["passes"]
    assert passes["static"] == "ran"
    assert passes["dynamic"] == "not run: cell 2 has a syntax error"
