"""Fixes through code actions: a static did-you-mean fix and a verified shape fix."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from lsprotocol import types as lsp
from pytest_lsp import LanguageClient

from .conftest import (
    apply_workspace_edit,
    diagnostics_of,
    open_doc,
    replace_all,
    wait_final,
    wait_until,
)

CONV2D = """\
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2D(3, 8, 3)
"""

WRONG_LINEAR = """\
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 8, 3)
        self.fc1 = nn.Linear(100, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        x = torch.relu(self.conv(x))
        x = x.flatten(1)
        x = torch.relu(self.fc1(x))
        return self.fc2(x)


model = Net()
x = torch.randn(1, 1, 28, 28)  # deepeval: input=(1, 1, 28, 28)
"""


async def _actions(client: LanguageClient, uri: str, d: lsp.Diagnostic, only=None):
    return await client.text_document_code_action_async(
        lsp.CodeActionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            range=d.range,
            context=lsp.CodeActionContext(diagnostics=[d], only=only),
        )
    )


async def test_static_fix_applied_through_code_action(client: LanguageClient, tmp_path: Path):
    uri = open_doc(client, tmp_path / "conv.py", CONV2D)
    await wait_final(client, uri, 1)
    (d,) = diagnostics_of(client, uri)
    assert d.code == "DL104" and d.data["dl_error"] == "Non-Existent API Attribute Access"
    actions = await _actions(client, uri, d)
    quick = [a for a in actions if a.kind == lsp.CodeActionKind.QuickFix]
    assert quick and quick[0].is_preferred
    assert "Conv2d" in quick[0].title
    fixed = apply_workspace_edit(CONV2D, uri, quick[0].edit)
    assert "nn.Conv2d(3, 8, 3)" in fixed
    replace_all(client, uri, 2, fixed)
    await wait_final(client, uri, 2)
    assert diagnostics_of(client, uri) == []


async def test_verified_shape_fix_removes_the_diagnostic(
    dynamic_client: LanguageClient, tmp_path: Path
):
    client = dynamic_client
    uri = open_doc(client, tmp_path / "net.py", WRONG_LINEAR)
    status = await wait_final(client, uri, 1)
    (d,) = diagnostics_of(client, uri)
    assert d.code == "DL301" and d.data["dl_error"] == "Input Tensor Shape Mismatch"
    assert status["state"] == "error" and status["code"] == "DL301"
    # The culprit layer's construction site is the related information.
    (rel,) = d.related_information
    assert rel.location.uri == uri and rel.location.range.start.line == 8
    assert [f["verified"] for f in d.data["fixes"]] == [True]

    actions = await _actions(client, uri, d)
    quick = [a for a in actions if a.kind == lsp.CodeActionKind.QuickFix]
    assert len(quick) == 1 and quick[0].is_preferred
    fix_all = [a for a in actions if a.kind == "source.fixAll.deepeval"]
    assert len(fix_all) == 1
    only_fix_all = await _actions(client, uri, d, only=["source.fixAll"])
    assert [a.kind for a in only_fix_all] == ["source.fixAll.deepeval"]

    fixed = apply_workspace_edit(WRONG_LINEAR, uri, quick[0].edit)
    assert "nn.Linear(5408, 64)" in fixed
    replace_all(client, uri, 2, fixed)
    status = await wait_final(client, uri, 2)
    assert diagnostics_of(client, uri) == []
    assert status["state"] == "ok" and status["text"].startswith("model builds: ")
    assert "output (1, 10)" in status["text"]

    # Hover on the layer's constructor and inlay hints after each forward line.
    hover = await client.text_document_hover_async(
        lsp.HoverParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            position=lsp.Position(line=8, character=22),
        )
    )
    assert hover is not None
    assert "fc1" in hover.contents.value and "(1, 5408)" in hover.contents.value
    hint_params = lsp.InlayHintParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri),
        range=lsp.Range(
            start=lsp.Position(line=0, character=0), end=lsp.Position(line=20, character=0)
        ),
    )
    hints = await client.text_document_inlay_hint_async(hint_params)
    by_line = {h.position.line: h.label for h in hints}
    assert by_line[12] == "→ (1, 8, 26, 26)"
    assert by_line[15] == "→ (1, 10)"

    summary = await client.workspace_execute_command_async(
        lsp.ExecuteCommandParams(command="deepeval.server.modelSummary", arguments=[uri])
    )
    assert "fc1 (Linear)" in summary["text"] and summary["model"]["output_shape"] == [1, 10]
    assert client.hint_refreshes >= 1  # the editor is told the hints changed

    # While the next full check waits out a long debounce, the hints stay (no flicker).
    client.workspace_did_change_configuration(
        lsp.DidChangeConfigurationParams(
            settings={"deepeval": {"dynamicChecks": True, "debounceMs": 5000}}
        )
    )
    await wait_final(client, uri, 2)  # the settings change re-checks the document
    replace_all(client, uri, 3, fixed + "# a comment\n")
    await wait_until(
        lambda: any(s["uri"] == uri and s["version"] == 3 for s in client.statuses),
        "the static publish of version 3",
    )
    hints = await client.text_document_inlay_hint_async(hint_params)
    assert not [s for s in client.statuses if s["version"] == 3 and s["final"]]
    assert {h.position.line: h.label for h in hints}[15] == "→ (1, 10)"


async def test_burst_with_dynamic_checks_ends_with_the_last_version(
    dynamic_client: LanguageClient, tmp_path: Path
):
    client = dynamic_client
    uri = open_doc(client, tmp_path / "burst.py", WRONG_LINEAR)
    await wait_final(client, uri, 1)
    fixed = WRONG_LINEAR.replace("nn.Linear(100, 64)", "nn.Linear(5408, 64)")
    for version in range(2, 32):
        # Odd versions are wrong, even ones right; the last (31) is wrong.
        replace_all(client, uri, version, WRONG_LINEAR if version % 2 else fixed)
    status = await wait_final(client, uri, 31)
    assert status["code"] == "DL301"
    assert [d.code for d in diagnostics_of(client, uri)] == ["DL301"]
    finals = [s["version"] for s in client.statuses if s["uri"] == uri and s["final"]]
    assert finals == sorted(finals) and finals[-1] == 31
    # Superseded versions were cancelled in the debounce: far fewer full checks than edits.
    assert len(finals) < 10


HANGS = """\
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        while True:
            pass


model = Net()
"""


async def test_a_newer_version_cancels_a_hung_check(dynamic_client: LanguageClient, tmp_path: Path):
    client = dynamic_client
    client.workspace_did_change_configuration(
        lsp.DidChangeConfigurationParams(
            settings={"deepeval": {"dynamicChecks": True, "debounceMs": 50, "timeoutMs": 60000}}
        )
    )
    info = {}

    async def settled() -> bool:
        nonlocal info
        info = await client.workspace_execute_command_async(
            lsp.ExecuteCommandParams(command="deepeval.server.info", arguments=[])
        )
        return info["settings"]["timeoutMs"] == 60000

    while not await settled():
        pass
    # A first full check: the worker is warm after it, so the next one starts at once.
    warm = open_doc(client, tmp_path / "warm.py", WRONG_LINEAR)
    await wait_final(client, warm, 1)
    uri = open_doc(client, tmp_path / "hang.py", HANGS)
    # Wait until the hung check is running in the worker (past the debounce), then fix the file.
    await wait_until(lambda: any(s["uri"] == uri for s in client.statuses), "the static publish")
    await asyncio.sleep(1.5)
    t0 = time.monotonic()
    replace_all(client, uri, 2, WRONG_LINEAR)
    status = await wait_final(client, uri, 2)
    took = time.monotonic() - t0
    # Far sooner than the 60 s time limit of the hung check: it was killed, not waited for.
    assert took < 30, (took, status)
    assert status["code"] == "DL301", (took, status)
    assert not [s for s in client.statuses if s["uri"] == uri and s["version"] == 1 and s["final"]]


KERAS_FUNCTIONAL = """\
import keras
from keras import layers


def dl_model():
    inputs = keras.Input(shape=(28, 28, 1))
    x = layers.Conv2D(32, (3, 3), padding="same", activation="relu")(inputs)
    x = layers.MaxPooling2D((2, 2))(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(10, activation="softmax")(x)
    return keras.Model(inputs=inputs, outputs=outputs)
"""


async def test_keras_functional_graph_gets_a_hint_per_line(
    dynamic_client: LanguageClient, tmp_path: Path
):
    client = dynamic_client
    uri = open_doc(client, tmp_path / "kf.py", KERAS_FUNCTIONAL)
    status = await wait_final(client, uri, 1)
    assert status["text"] == "model builds: 63.0 k params, output (None, 10)", status
    hints = await client.text_document_inlay_hint_async(
        lsp.InlayHintParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            range=lsp.Range(
                start=lsp.Position(line=0, character=0), end=lsp.Position(line=11, character=0)
            ),
        )
    )
    assert {h.position.line: h.label for h in hints} == {
        5: "→ (None, 28, 28, 1)",
        6: "→ (None, 28, 28, 32)",
        7: "→ (None, 14, 14, 32)",
        8: "→ (None, 6272)",
        9: "→ (None, 10)",
    }
    hover = await client.text_document_hover_async(
        lsp.HoverParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            position=lsp.Position(line=9, character=20),
        )
    )
    assert "Dense" in hover.contents.value and "62,730" in hover.contents.value


async def test_model_hover_shows_structure_scores_for_a_named_task(
    dynamic_client: LanguageClient, tmp_path: Path
):
    import tomllib

    from deepeval_lsp.diagnostics.tasks.suite import BUILTIN_SUITE

    toml = sorted(BUILTIN_SUITE.rglob("*.toml"))[0]
    task_id = tomllib.loads(toml.read_text())["id"]
    source = f"# deepeval: task={task_id}\n" + toml.with_suffix(".py").read_text()
    client = dynamic_client
    uri = open_doc(client, tmp_path / "answer.py", source)
    await wait_final(client, uri, 1)
    line = next(i for i, text in enumerate(source.splitlines()) if text.startswith("def dl_model"))
    hover = await client.text_document_hover_async(
        lsp.HoverParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            position=lsp.Position(line=line, character=5),
        )
    )
    assert hover is not None
    assert f"(task `{task_id}`): API-set F1 100.0, API-sequence F1 100.0" in hover.contents.value
