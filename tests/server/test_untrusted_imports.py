"""The server survives a file that names a module which runs a command line when imported."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_lsp import LanguageClient

from .conftest import diagnostics_of, open_doc, replace_all, wait_final

GOOD = "import torch\n\nx = torch.zeros(2, 3)\n"
BROKEN = "import torch\n\nx = torch.nn.Conv2D(1, 2, 3)\n"


@pytest.mark.parametrize(
    "line",
    [
        "import numpy.f2py.__main__",
        "import torch.utils.model_dump.__main__",
        "from torch.utils.model_dump import __main__",
    ],
)
async def test_server_answers_after_such_a_file(line: str, client: LanguageClient, tmp_path: Path):
    uri = open_doc(client, tmp_path / "model.py", f"{line}\n{GOOD}")
    await wait_final(client, uri, 1)
    assert diagnostics_of(client, uri) == []
    # Still alive, still checking: the next version's finding is reported.
    replace_all(client, uri, 2, f"{line}\n{BROKEN}")
    await wait_final(client, uri, 2)
    assert [d.code for d in diagnostics_of(client, uri)] == ["DL104"]
