"""The static pass resolves a file's imports as a run from its project would: relative imports
against its package, absolute ones against its import roots (diagnostics/project.py)."""

from __future__ import annotations

from pathlib import Path

from deepeval_lsp.diagnostics import CheckOptions, check


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)


def _codes(path: Path, root: Path | None = None) -> list[tuple[str, int, str]]:
    options = CheckOptions(dynamic=False, workspace_root=str(root) if root else None)
    report = check(path.read_text(), str(path), options)
    return [(d.code, d.range.start.line, d.message) for d in report.diagnostics]


PARTS = "import torch.nn as nn\n\n\nclass Block(nn.Module):\n    pass\n"


def test_relative_imports_of_existing_modules_are_clean(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/parts.py": PARTS,
            "pkg/sub/__init__.py": "",
            "pkg/sub/model.py": "from ..parts import Block\nfrom . import helpers\n",
            "pkg/sub/helpers.py": "",
        },
    )
    assert _codes(tmp_path / "pkg/sub/model.py") == []


def test_a_name_the_sibling_does_not_define_is_dl103(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/parts.py": PARTS,
            "pkg/model.py": "from .parts import Block, Blok\n",
        },
    )
    ((code, line, message),) = _codes(tmp_path / "pkg/model.py")
    assert (code, line) == ("DL103", 0)
    assert "cannot import `Blok` from `.parts`" in message and "did you mean `Block`" in message


def test_a_relative_module_that_does_not_exist_is_dl102(tmp_path: Path) -> None:
    _write(tmp_path, {"pkg/__init__.py": "", "pkg/model.py": "from .nothere import Block\n"})
    ((code, _, message),) = _codes(tmp_path / "pkg/model.py")
    assert code == "DL102" and "pkg.nothere" in message


def test_a_relative_import_outside_any_package_is_left_to_the_dynamic_note(
    tmp_path: Path,
) -> None:
    _write(tmp_path, {"model.py": "from .parts import Nope\n", "parts.py": PARTS})
    assert _codes(tmp_path / "model.py") == []


def test_package_absolute_imports_resolve_from_the_package_root_and_project_root(
    tmp_path: Path,
) -> None:
    _write(
        tmp_path,
        {
            "models/__init__.py": "from .base import BaseVAE\n",
            "models/base.py": "class BaseVAE:\n    pass\n",
            "models/lvae.py": "from models import BaseVAE\nfrom util.misc import nested\n",
            "util/misc.py": "def nested():\n    pass\n",
            "tools/train.py": "from models import BaseVAE\nfrom util.misc import nested, nope\n",
        },
    )
    assert _codes(tmp_path / "models/lvae.py") == []
    # tools/ is no package: models/ and util/ resolve from the project root only
    without_root = _codes(tmp_path / "tools/train.py")
    assert [(c, line) for c, line, _ in without_root] == [("DL102", 0)]
    with_root = _codes(tmp_path / "tools/train.py", tmp_path)
    assert [(c, line) for c, line, _ in with_root] == [("DL103", 1)]


def test_a_module_elsewhere_in_the_project_is_a_note_and_a_missing_one_an_error(
    tmp_path: Path,
) -> None:
    _write(
        tmp_path,
        {
            "seg/mmcv_custom/__init__.py": "",
            "det/mmcv_custom/__init__.py": "",
            "seg/backbone/convnext.py": "import mmcv_custom\nimport no_such_module_anywhere\n",
        },
    )
    found = _codes(tmp_path / "seg/backbone/convnext.py", tmp_path)
    assert [(c, line) for c, line, _ in found] == [("DL401", 0), ("DL102", 1)]
    assert "seg/mmcv_custom" in found[0][2]  # the nearest one, beside a folder above the file


def test_a_compiled_module_beside_the_file_is_the_users_own(tmp_path: Path) -> None:
    """`import fastops` finds fastops.cpython-311-x86_64-linux-gnu.so (or fastops.so) beside the
    file: no DL102; its names are not read (nothing is imported)."""
    _write(
        tmp_path,
        {
            "fastops.cpython-311-x86_64-linux-gnu.so": "",
            "plain.so": "",
            "fastopsx.py.txt": "",
            "model.py": "import fastops\nimport plain\nfrom fastops import x\nimport fastopz\n",
        },
    )
    found = _codes(tmp_path / "model.py")
    assert [(code, line) for code, line, _ in found] == [("DL102", 3)], found
