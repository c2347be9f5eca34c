"""A model class that needs arguments nothing in its file gives is built the way the project's
README shows (its Python blocks parsed in the parent, evaluated in the sandbox like the
program's own calls); a README call that does not construct is a note, and the next is tried."""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from deepeval_lsp.diagnostics import CheckOptions, check
from deepeval_lsp.diagnostics.dynamic.usages import code_blocks, readme_usages
from deepeval_lsp.diagnostics.dynamic.worker_pool import WorkerPool
from deepeval_lsp.diagnostics.project import read_roots

LIBRARY = """\
import torch.nn as nn


class Decoder(nn.Module):
    def __init__(self, dim, depth):
        super().__init__()
        self.layers = nn.Sequential(*[nn.Linear(dim, dim) for _ in range(depth)])

    def forward(self, x):
        return self.layers(x)


class Wrapper(nn.Module):
    def __init__(self, num_tokens, attn_layers, width):
        super().__init__()
        self.emb = nn.Embedding(num_tokens, width)
        self.attn_layers = attn_layers
        self.out = nn.Linear({out_in}, num_tokens)

    def forward(self, x):
        return self.out(self.attn_layers(self.emb(x)))
"""

README = """\
# lib

Install it, then:

```bash
pip install lib
```

```python
import lib
from lib.model import Wrapper, Decoder

old = Wrapper(num_tokens = 100, layers = 2)   # an older API

decoder = Decoder(dim = 32, depth = 2)
model = lib.Wrapper(num_tokens = 100, attn_layers = decoder, width = 32)
```
"""


def test_readme_python_blocks_and_the_calls_of_the_files_classes(tmp_path: Path) -> None:
    assert [line for line, _ in code_blocks(README)] == [10]  # not the bash block
    (tmp_path / "README.md").write_text(README)
    (tmp_path / "lib").mkdir()
    model = tmp_path / "lib" / "model.py"
    tree = ast.parse(LIBRARY.format(out_in=32))
    found = readme_usages(model, tmp_path, tree)
    assert [(u["line"], u["callee"]) for u in found] == [
        (13, "Wrapper"),
        (15, "Decoder"),
        (16, "Wrapper"),
    ]
    assert found[2]["call"] == "lib.Wrapper(num_tokens = 100, attn_layers = decoder, width = 32)"
    assert found[2]["assignments"] == [
        "old = Wrapper(num_tokens = 100, layers = 2)",
        "decoder = Decoder(dim = 32, depth = 2)",
    ]
    assert [u["part"] for u in found] == [False, True, False]
    assert readme_usages(model, None, tree) == []  # no README in the file's own folder


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("readme-project")
    (root / "README.md").write_text(README)
    return root


@pytest.fixture(scope="module")
def pool(project: Path) -> Iterator[WorkerPool]:
    p = WorkerPool(1, read_paths=read_roots([project / "x.py"], str(project)))
    yield p
    p.close()


def _check(project: Path, pool: WorkerPool, name: str, out_in: str):
    path = project / name / "model.py"
    path.parent.mkdir(exist_ok=True)
    (path.parent / "__init__.py").write_text("")
    path.write_text(textwrap.dedent(LIBRARY.format(out_in=out_in)))
    options = CheckOptions(workspace_root=str(project))
    return check(path.read_text(), str(path), options, pool=pool)


def test_a_class_is_built_as_the_readme_shows(project: Path, pool: WorkerPool) -> None:
    report = _check(project, pool, "lib", "width")
    assert [d for d in report.diagnostics if d.severity == "error"] == []
    assert report.model is not None and report.executable is True
    assert report.model.entry_point == "Wrapper(num_tokens=100, attn_layers=decoder, width=32)"
    notes = "\n".join(report.notes)
    assert "../README.md:13 builds Wrapper(num_tokens=100, layers=2), which fails here" in notes
    assert "built as ../README.md:16 shows" in notes


def test_a_shape_mistake_under_the_readmes_arguments_is_found(
    project: Path, pool: WorkerPool
) -> None:
    report = _check(project, pool, "lib2", "2 * width")
    errors = [d for d in report.diagnostics if d.severity == "error"]
    assert [(d.code, d.range.start.line) for d in errors] == [("DL301", 20)]  # forward's return
    (fix,) = [f for f in errors[0].fixes if f.verified]
    assert [(e.range.start.line, e.new_text) for e in fix.edits] == [(17, "width")]
