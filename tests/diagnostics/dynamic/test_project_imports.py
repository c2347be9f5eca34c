"""The dynamic pass runs a file as a module of its package, in the sandbox, with the import roots
of a run from its project: relative and package-absolute imports load the real modules from disk,
a sibling's missing known package is stubbed with a note, and a module found nowhere is a note."""

from __future__ import annotations

import importlib.util
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from deepeval_lsp.diagnostics import CheckOptions, check
from deepeval_lsp.diagnostics.dynamic.worker_pool import WorkerPool
from deepeval_lsp.diagnostics.project import read_roots

PARTS = """\
import torch.nn as nn


class Block(nn.Module):
    def __init__(self, i, o):
        super().__init__()
        self.conv = nn.Conv2d(i, o, 3, padding=1)

    def forward(self, x):
        return self.conv(x).relu()
"""

MODEL = """\
import torch.nn as nn
from .parts import Block
# deepeval: input=(1, 3, 8, 8)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block(3, 4)
        self.fc = nn.Linear({features}, 10)

    def forward(self, x):
        return self.fc(self.block(x).flatten(1))
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("project")


@pytest.fixture(scope="module")
def pool(project: Path) -> Iterator[WorkerPool]:
    # what the command line grants: every import root of the files under the project
    p = WorkerPool(1, read_paths=read_roots([project / "x.py"], str(project)))
    yield p
    p.close()


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text))


def _check(path: Path, project: Path, pool: WorkerPool):
    return check(path.read_text(), str(path), CheckOptions(workspace_root=str(project)), pool=pool)


def test_a_package_module_with_relative_imports_is_built(project: Path, pool: WorkerPool) -> None:
    _write(
        project,
        {
            "pkg_a/__init__.py": "",
            "pkg_a/parts.py": PARTS,
            "pkg_a/model.py": MODEL.format(features="4 * 8 * 8"),
        },
    )
    report = _check(project / "pkg_a/model.py", project, pool)
    assert report.diagnostics == [], [d.message for d in report.diagnostics]
    assert report.model is not None and report.executable is True
    assert any(layer.type == "Block" for layer in report.model.layers)


def test_a_shape_mistake_beside_a_relative_import_is_found(project: Path, pool: WorkerPool) -> None:
    _write(
        project,
        {
            "pkg_b/__init__.py": "from .model import Net\n",  # the package imports the file too
            "pkg_b/parts.py": PARTS,
            "pkg_b/model.py": MODEL.format(features="4 * 8"),
        },
    )
    report = _check(project / "pkg_b/model.py", project, pool)
    errors = [d for d in report.diagnostics if d.severity == "error"]
    assert [(d.code, d.range.start.line) for d in errors] == [("DL301", 12)]
    assert errors[0].preferred_fix is not None and report.executable is False


def test_a_sibling_module_of_a_plain_folder(project: Path, pool: WorkerPool) -> None:
    _write(
        project,
        {
            "plain/helpers.py": PARTS.replace("class Block", "class block"),
            "plain/net.py": MODEL.replace("from .parts import Block", "from helpers import block")
            .replace("Block(3, 4)", "block(3, 4)")
            .format(features="4 * 8 * 8"),
        },
    )
    report = _check(project / "plain/net.py", project, pool)
    assert report.diagnostics == [] and report.model is not None


def test_a_package_of_the_project_root_imports_from_a_subfolder(
    project: Path, pool: WorkerPool
) -> None:
    _write(
        project,
        {
            "mypkg/__init__.py": "",
            "mypkg/utils.py": "class CfgNode:\n    width = 4\n",
            "tools/net.py": """\
                import torch.nn as nn
                from mypkg.utils import CfgNode
                # deepeval: input=(1, 3)


                class Net(nn.Module):
                    def __init__(self):
                        super().__init__()
                        self.fc = nn.Linear(3, CfgNode.width)

                    def forward(self, x):
                        return self.fc(x)
                """,
        },
    )
    report = _check(project / "tools/net.py", project, pool)
    assert report.diagnostics == [] and report.model is not None


def test_a_siblings_missing_known_package_is_stubbed_with_a_note(
    project: Path, pool: WorkerPool
) -> None:
    if importlib.util.find_spec("einx") is not None:
        pytest.skip("einx is installed here: nothing stands in for it")
    _write(
        project,
        {
            "pkg_d/__init__.py": "",
            "pkg_d/parts.py": "import einx\n" + PARTS,
            "pkg_d/model.py": MODEL.format(features="4 * 8 * 8"),
        },
    )
    report = _check(project / "pkg_d/model.py", project, pool)
    (note,) = report.diagnostics
    assert (note.code, note.severity, note.range.start.line) == ("DL401", "information", 1)
    assert "einx is not installed: stubbed" in note.message
    assert "pkg_d/parts.py:1" in note.message
    assert report.model is not None


def test_a_module_found_nowhere_is_a_note_not_an_error(project: Path, pool: WorkerPool) -> None:
    _write(
        project,
        {
            "pkg_e/__init__.py": "",
            "pkg_e/parts.py": "import no_such_module_anywhere\n" + PARTS,
            "pkg_e/model.py": MODEL.format(features="4 * 8 * 8"),
        },
    )
    report = _check(project / "pkg_e/model.py", project, pool)
    assert [d for d in report.diagnostics if d.severity == "error"] == []
    (note,) = report.diagnostics
    assert (note.code, note.range.start.line) == ("DL401", 1)
    assert "`no_such_module_anywhere` is found nowhere" in note.message
    assert "pkg_e/parts.py:1" in note.message
    assert report.executable is None


def test_a_sibling_failing_at_import_on_a_stand_in_is_a_note(
    project: Path, pool: WorkerPool
) -> None:
    if importlib.util.find_spec("einx") is not None:
        pytest.skip("einx is installed here: nothing stands in for it")
    _write(
        project,
        {
            "pkg_f/__init__.py": "",
            "pkg_f/parts.py": "import einx\nOLD = einx.__version__ < '0.3'\n" + PARTS,
            "pkg_f/model.py": MODEL.format(features="4 * 8 * 8"),
        },
    )
    report = _check(project / "pkg_f/model.py", project, pool)
    assert [d for d in report.diagnostics if d.severity == "error"] == []
    assert any(
        d.code == "DL401" and "importing pkg_f/parts.py failed at line 2" in d.message
        for d in report.diagnostics
    ), [d.message for d in report.diagnostics]


def test_a_relative_import_above_the_package_is_a_note(project: Path, pool: WorkerPool) -> None:
    _write(
        project,
        {
            "pkg_g/__init__.py": "",
            "pkg_g/model.py": MODEL.replace(".parts", "..parts").format(features="4 * 8 * 8"),
        },
    )
    report = _check(project / "pkg_g/model.py", project, pool)
    assert [d for d in report.diagnostics if d.severity == "error"] == []
    assert [(d.code, d.range.start.line) for d in report.diagnostics] == [("DL401", 1)]
    assert "reaches above the package `pkg_g`" in report.diagnostics[0].message


# A model file that imports a module of the project's tree beside its own (ConvNeXt's layout).
BESIDE_MMCV_CUSTOM = (
    MODEL.replace("from .parts import Block", "from mmcv_custom import load_checkpoint\nB = None")
    .replace("self.block = Block(3, 4)", "self.block = nn.Conv2d(3, 4, 3, padding=1)")
    .format(features="4 * 8 * 8")
)


def test_a_module_of_another_subtree_of_the_project_is_a_note(
    project: Path, pool: WorkerPool
) -> None:
    # ConvNeXt's layout: detection/backbone.py imports mmcv_custom, which lives in detection/
    # and is on the path only when run from there
    _write(
        project,
        {
            "detection/mmcv_custom/__init__.py": "def load_checkpoint(*a):\n    pass\n",
            "detection/models/backbones/__init__.py": "",
            "detection/models/backbones/net.py": BESIDE_MMCV_CUSTOM,
        },
    )
    report = _check(project / "detection/models/backbones/net.py", project, pool)
    assert [d for d in report.diagnostics if d.severity == "error"] == []
    (note,) = [d for d in report.diagnostics if "mmcv_custom" in d.message]
    assert note.code == "DL401" and "detection/mmcv_custom" in note.message
    # the run has that folder on its path, as where the file is meant to run: the model builds
    assert report.model is not None and report.model.output_shape == (1, 10)


def test_a_run_that_fails_on_an_import_the_static_pass_explained_says_it_built_nothing(
    project: Path, pool: WorkerPool
) -> None:
    _write(
        project,
        {
            "segm/mmcv_custom/__init__.py": "from .checkpoint import load_checkpoint\n",
            "segm/backbone/net.py": BESIDE_MMCV_CUSTOM,
        },
    )
    report = _check(project / "segm/backbone/net.py", project, pool)
    assert [d for d in report.diagnostics if d.severity == "error"] == []
    assert report.model is None
    assert any(n.startswith("the model was not built: ") for n in report.notes), report.notes


def test_a_package_whose_init_imports_a_generated_module_is_loaded_bare(
    project: Path, pool: WorkerPool
) -> None:
    # `_version.py` is written by the package's build (setuptools-scm and the like): a checkout
    # lacks it, and the package's __init__ fails on it
    init = "from ._version import version as __version__\nfrom .model import Net\n"
    _write(
        project,
        {
            "pkg_gen/__init__.py": init,
            "pkg_gen/parts.py": PARTS,
            "pkg_gen/model.py": MODEL.replace("from .parts", "from pkg_gen.parts").format(
                features="4 * 8"
            ),
        },
    )
    report = _check(project / "pkg_gen/model.py", project, pool)
    errors = [d for d in report.diagnostics if d.severity == "error"]
    assert [(d.code, d.range.start.line) for d in errors] == [("DL301", 12)]
    (note,) = [d for d in report.diagnostics if "without running its __init__.py" in d.message]
    assert "`pkg_gen._version` is found nowhere" in note.message
    assert "pkg_gen/__init__.py:1" in note.message and note.severity == "information"


def test_what_a_bare_package_lacks_is_a_note_not_an_error(project: Path, pool: WorkerPool) -> None:
    _write(
        project,
        {
            "pkg_gen2/__init__.py": "from .api import Block\n",
            "pkg_gen2/parts.py": PARTS,
            # Block is what the skipped __init__ would have given
            "pkg_gen2/model.py": MODEL.replace(
                "from .parts import Block", "import pkg_gen2\nBlock = pkg_gen2.Block"
            ).format(features="4 * 8 * 8"),
        },
    )
    report = _check(project / "pkg_gen2/model.py", project, pool)
    assert [d for d in report.diagnostics if d.severity == "error"] == []
    assert any("loaded without its __init__.py" in d.message for d in report.diagnostics)
