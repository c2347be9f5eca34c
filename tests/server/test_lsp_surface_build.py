"""A language server started where the API surface is not built yet (the first start after an
install) publishes its first diagnostics from the live frameworks while the surface builds
behind, and a builder it leaves at shutdown ends with it."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest_lsp
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.server.conftest import SERVER, STATIC, make_client, open_doc, start, wait_until

# made by the server when it starts the build; removed by the test
EMPTY_CACHE = Path(tempfile.gettempdir()) / f"deepeval-no-surface-{os.getpid()}"
CONFIG = ClientServerConfig(
    server_command=SERVER,
    client_factory=make_client,
    server_env={**os.environ, "DEEPEVAL_CACHE_DIR": str(EMPTY_CACHE)},
)


def _builders() -> set[int]:
    """The pids of API-surface builders writing into EMPTY_CACHE."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"deepeval_lsp.diagnostics.api_surface_build" in cmd and any(
            str(EMPTY_CACHE).encode() in part for part in cmd
        ):
            found.add(int(entry.name))
    return found


@pytest_lsp.fixture(config=CONFIG)
async def fresh_client(lsp_client: LanguageClient, tmp_path: Path):
    """A server whose cache folder is empty; the test shuts it down itself."""
    lsp_client.set_configuration(STATIC, section="deepeval")
    await start(lsp_client, tmp_path, STATIC)
    yield


async def test_first_diagnostics_do_not_wait_for_the_surface_build_which_ends_with_the_server(
    fresh_client: LanguageClient, tmp_path: Path
) -> None:
    client = fresh_client
    uri = open_doc(client, tmp_path / "m.py", "import torch.nn as nn\nconv = nn.Conv2D(1, 8, 3)\n")
    await wait_until(lambda: bool(client.diagnostics.get(uri)), "the first diagnostics")
    (d,) = client.diagnostics[uri]
    assert d.code == "DL104" and d.range.start.line == 1
    # published while the surface was still being built (a build takes tens of seconds)
    assert not list(EMPTY_CACHE.glob("api-surface-*.marshal")), "the first check waited for it"
    assert _builders(), "no build of the surface was started"

    await client.shutdown_session()
    deadline = time.monotonic() + 30
    while _builders() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _builders(), "the builder outlived the server"
    shutil.rmtree(EMPTY_CACHE, ignore_errors=True)
