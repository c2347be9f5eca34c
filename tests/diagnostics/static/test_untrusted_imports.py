"""The static pass imports no module because a checked file names it.

`numpy.f2py.__main__` and `torch.utils.model_dump.__main__` run a command line when imported (and
call sys.exit); the checker finds such submodules on disk and does not import them. Each check
runs in a fresh interpreter, so that what it imported can be read from sys.modules afterwards.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SOURCES = {
    "numpy_f2py_main": "import numpy.f2py.__main__\n",
    "torch_model_dump_main": "import torch.utils.model_dump.__main__\n",
    "from_model_dump_import_main": "from torch.utils.model_dump import __main__\n",
    "model_dump_main_as": "import torch.utils.model_dump.__main__ as m\nm.main\n",
    "torch_bottleneck_main": "import torch.utils.bottleneck.__main__\n",
    "attribute_of_model_dump": "import torch\ntorch.utils.model_dump.main(['x'])\n",
}
# Submodules that importing the frameworks does not load, and that the files above name.
NAMED = ["numpy.f2py.__main__", "torch.utils.model_dump", "torch.utils.model_dump.__main__"]
CLI = Path(sys.executable).with_name("deepeval-lsp")
TORCH = Path(importlib.util.find_spec("torch").origin).parent  # a top-level spec imports nothing


def _run_python(script: str, stdin: str = "", **kw) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        capture_output=True,
        text=True,
        timeout=300,
        input=stdin,
        **kw,
    )


def _check_in_subprocess(src: str) -> dict:
    done = _run_python(
        f"""
        import json, sys
        from deepeval_lsp.diagnostics import CheckOptions, check
        report = check({src!r}, "model.py", CheckOptions(dynamic=False))
        print(json.dumps({{
            "codes": [d.code for d in report.diagnostics],
            "named": sorted(m for m in {NAMED!r} if m in sys.modules),
            "loaded": sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "numpy")),
        }}))
        """
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_check_imports_nothing_the_file_names(name: str) -> None:
    got = _check_in_subprocess(SOURCES[name])
    assert got["named"] == []
    # A submodule that exists on disk is no "no such module/member" finding.
    if name != "torch_bottleneck_main" or (TORCH / "utils" / "bottleneck").is_dir():
        assert [c for c in got["codes"] if c.startswith("DL1")] == []


def test_what_the_checker_loads_does_not_depend_on_what_the_file_names() -> None:
    plain = _check_in_subprocess("import torch\nimport numpy\n")["loaded"]
    named = _check_in_subprocess("".join(SOURCES.values()))["loaded"]
    assert named == plain


def test_missing_framework_names_are_still_reported() -> None:
    src = SOURCES["numpy_f2py_main"] + "import torch.nn.foo\nfrom torch.nn import Conv2D\n"
    src += "import torch\ny = torch.nn.Conv2D(1, 2, 3)\n"
    assert _check_in_subprocess(src)["codes"] == ["DL102", "DL103", "DL104"]


def _cli(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CLI), "check", "--no-dynamic", "--no-semantic", *args, str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize("name", ["numpy_f2py_main", "torch_model_dump_main"])
def test_cli_gives_a_normal_report(name: str, tmp_path: Path) -> None:
    path = tmp_path / f"{name}.py"
    path.write_text(SOURCES[name])
    done = _cli(path, "--format", "json")
    assert done.returncode == 0, done.stderr[-3000:]
    (report,) = json.loads(done.stdout)
    assert report["summary"]["passes"]["static"] == "ran"
    assert report["diagnostics"] == []


def test_cli_exit_code_still_follows_the_findings(tmp_path: Path) -> None:
    path = tmp_path / "broken.py"
    path.write_text(SOURCES["numpy_f2py_main"] + "import torch\ny = torch.nn.Conv2D(1, 2, 3)\n")
    done = _cli(path, "--color", "never")
    assert done.returncode == 1, done.stderr[-3000:]
    assert "DL104" in done.stdout and "1 file checked, 1 error" in done.stdout


PROTOCOL = '{"jsonrpc": "2.0", "method": "initialized"}'
_STRAY = {
    "print": "print('from the framework')",
    "input": "input()",
    "exit": "import sys; sys.exit(3)",
    "interrupt": "raise KeyboardInterrupt",
}


@pytest.mark.parametrize("action", sorted(_STRAY))
def test_a_framework_import_cannot_write_stdout_or_end_the_checker(
    action: str, tmp_path: Path
) -> None:
    """The frameworks the checker does import are contained: stdout carries the protocol."""
    (tmp_path / "strayfw").mkdir()
    (tmp_path / "strayfw" / "__init__.py").write_text(_STRAY[action] + "\nVALUE = 1\n")
    done = _run_python(
        """
        from deepeval_lsp.diagnostics import framework as fw
        fw.FRAMEWORKS = fw.FRAMEWORKS | {"strayfw"}
        assert fw.import_framework("strayfw") is None or fw.lookup("strayfw.VALUE").obj == 1
        import sys
        print("still here, stdin unread:", sys.stdin.read())
        """,
        stdin=PROTOCOL,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout == f"still here, stdin unread: {PROTOCOL}\n"
