"""The frameworks' API surface on disk (diagnostics.api_surface): built once per installed
version, reused, rebuilt when stale or damaged, never an error; the static pass answers from it
exactly as from the imported frameworks, and a check imports no framework."""

from __future__ import annotations

import json
import marshal
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from deepeval_lsp.diagnostics import api_surface as S

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def built() -> Path:
    """The surface of the installed frameworks, built by its subprocess when the user cache has
    none for these versions (once for the whole test run: the static tests share it)."""
    found = S.surface()
    assert found is not None, "the API surface could not be built"
    return found.path


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, built: Path) -> list[Path]:
    """An empty cache folder; `build` copies the surface built once (the builds it was asked
    for are recorded), so that each test decides only whether a build happens."""
    monkeypatch.setenv(S.ENV_DIR, str(tmp_path / "cache"))
    monkeypatch.delenv(S.ENV_MODE, raising=False)
    builds: list[Path] = []

    def build(path: Path, timeout: float = S.BUILD_TIMEOUT_S) -> bool:
        builds.append(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built, path)
        return True

    monkeypatch.setattr(S, "build", build)
    return builds


def _expected_path() -> Path:
    return S.surface_path(S.current_key())


def test_the_surface_is_built_in_the_cache_folder_then_reused(
    cache: list[Path], tmp_path: Path
) -> None:
    first = S.surface()
    assert first is not None and cache == [_expected_path()]
    assert first.path.parent == tmp_path / "cache"
    assert first.top("torch") is not None
    again = S.surface()
    assert again is not None and len(cache) == 1  # read back, not rebuilt


def test_a_build_keeps_the_few_latest_other_surfaces(cache: list[Path], tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    folder.mkdir()
    others = [folder / f"api-surface-0000000{i}.marshal" for i in range(6)]
    for age, p in enumerate(others):
        p.write_bytes(b"old")
        os.utime(p, (1e9 - age, 1e9 - age))
    leftover = folder / ".api-surface-00000000.marshal.123.tmp"
    leftover.write_bytes(b"")
    os.utime(leftover, (1e9, 1e9))
    assert S.surface() is not None
    kept = sorted(p.name for p in folder.iterdir() if p.suffix in (".marshal", ".tmp"))
    assert kept == sorted([_expected_path().name] + [p.name for p in others[: S.KEEP_FILES - 1]])


def test_the_cache_folder_follows_xdg_then_home(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(S.ENV_DIR, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", "/xdg")
    assert S.cache_dir() == Path("/xdg/deepeval-lsp")
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", "/home/someone")
    assert S.cache_dir() == Path("/home/someone/.cache/deepeval-lsp")


def test_the_key_holds_the_installed_versions_read_without_importing() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, json; from deepeval_lsp.diagnostics import api_surface as S; "
            "print(json.dumps([S.current_key()['versions'], sorted(m for m in sys.modules "
            "if m.split('.')[0] in S.TOPS)]))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    versions, imported = json.loads(done.stdout)
    from importlib import metadata

    assert versions["torch"] == metadata.version("torch")
    assert imported == []


def test_another_installed_version_gets_its_own_surface(
    cache: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert S.surface() is not None
    real = S.installed_version
    monkeypatch.setattr(S, "installed_version", lambda d: "99.0" if d == "torch" else real(d))
    found = S.surface()
    assert len(cache) == 2 and cache[1] != cache[0]
    assert found is None  # the copied file records the real versions: refused, never misread


def test_a_recorded_key_that_differs_is_rebuilt(cache: list[Path], built: Path) -> None:
    path = _expected_path()
    path.parent.mkdir(parents=True)
    data = built.read_bytes()
    start = len(S.MAGIC) + 8
    size = int.from_bytes(data[len(S.MAGIC) : start], "little")
    header = marshal.loads(data[start : start + size])
    header["key"] = {**header["key"], "versions": {**header["key"]["versions"], "torch": "0.1"}}
    head = marshal.dumps(header)
    path.write_bytes(S.MAGIC + len(head).to_bytes(8, "little") + head + data[start + size :])
    assert S.open_surface(path, S.current_key()) is None
    found = S.surface()
    assert found is not None and cache == [path]


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty", "header_only"])
def test_a_damaged_file_is_rebuilt(cache: list[Path], built: Path, damage: str) -> None:
    path = _expected_path()
    path.parent.mkdir(parents=True)
    data = built.read_bytes()
    path.write_bytes(
        {
            "truncated": data[: len(data) // 2],
            "garbage": b"\x00\xff" * 1000,
            "empty": b"",
            "header_only": data[:4096],
        }[damage]
    )
    found = S.surface()
    assert found is not None and cache == [path]
    assert found.top("torch") is not None


def test_when_no_surface_can_be_built_there_is_none_and_no_error(
    cache: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(S, "build", lambda path, timeout=0: False)
    assert S.surface() is None


def test_the_file_is_read_lazily(built: Path) -> None:
    s = S.Surface(built, S.current_key())
    torch = s.top("torch")
    assert torch is not None
    nn = s.member(s.attribute(torch, "nn"))
    conv = s.member(s.attribute(nn, "Conv2d"))
    assert conv is not None and conv.kind == S.CLASS
    assert "padding" in s.params(conv)[2]
    assert s.attribute(nn, "Conv2D") == S.OID_MISSING
    assert len(s._chunks) <= 8 < len(s._chunk_starts) // 20


# ---------------------------------------------------------------------------------------------
# The static pass from the surface and from the live frameworks

PROGRAMS = {
    "torch_mistakes.py": """
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
        from torch.nn import Conv2D, Linear
        from torch.optim import Adamw

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 16, kernal_size=3, padding="ful")
                self.drop = nn.Dropout(1.5)
                self.bn = nn.BatchNorm2D(16)
                self.rnn = nn.LSTM(10, 20, nonlinearity="tanh", batch_firstt=True)
                self.attn = nn.MultiheadAttention(100, 3)
                self.fc = nn.Linear(in_feature=16)

            def forward(self, x):
                x = F.relu6x(self.conv(x))
                x = torch.flaten(x, 1)
                y = torch.cat([x, x], axis=1)
                return self.fc(nn.functional.softmax2(y))
        """,
    "keras_mistakes.py": """
        import keras
        from keras import layers
        from keras.layers import Dense, Conv2d

        model = keras.Sequential([
            layers.Conv2D(32, 3, activation="relu6x", padding="full", kernel_initializer="he"),
            layers.MaxPool2D(),
            layers.Flatten(),
            layers.Dense(10, activaton="softmax", input_dim=4),
            layers.Dropout(rate=2.0),
            layers.BatchNorm(),
        ])
        model.compile(optimizer=keras.optimizers.Adamm(), loss="sparse_categorical_crossentropy")
        """,
    "tf_keras_mistakes.py": """
        import numpy as np
        import tensorflow as tf
        from tensorflow.keras import layers, backend as K

        inputs = tf.keras.Input(shape=(28, 28, 1))
        x = layers.Conv2D(32, 3, activation="relu", input_shape=(28, 28, 1))(inputs)
        x = layers.Flaten()(x)
        x = K.batch_flaten(x)
        outputs = layers.Dense(10, activation="softmaxx")(x)
        model = tf.keras.models.Model(inputs, outputs)
        a = np.zeroes((2, 2))
        """,
    "names.py": """
        import torch

        x = nn.Linear(2, 3)
        y = Tensor([1.0])
        layers = Sequential()
        z = np.ones(3)
        """,
}


def _program_files(tmp_path: Path) -> list[Path]:
    files = []
    for name, src in PROGRAMS.items():
        path = tmp_path / name
        path.write_text(textwrap.dedent(src))
        files.append(path)
    files += sorted((REPO / "examples").glob("*.py"))
    files += sorted((REPO / "tests" / "diagnostics" / "data").glob("*.py"))
    references = sorted((REPO / "diagnostics" / "tasks" / "suites" / "builtin").rglob("*.py"))
    return files + references[::6]


_DUMP = """
import json, sys
from deepeval_lsp.diagnostics import CheckOptions, check
from deepeval_lsp.diagnostics import framework as fw
out = []
for path in sys.argv[1:]:
    src = open(path, encoding="utf-8").read()
    for paper in (False, True):
        options = CheckOptions(dynamic=False, semantic=False, paper_compat=paper)
        out.append([path, paper, [
            [d.code, d.range.start.line, d.range.start.character, d.message, str(d.severity),
             [[f.title, [[e.range.start.line, e.range.start.character, e.new_text]
                         for e in f.edits]] for f in d.fixes]]
            for d in check(src, path, options).diagnostics]])
print(json.dumps({"surface": fw.surface() is not None, "findings": out,
                  "imported": sorted(m for m in ("torch", "keras", "numpy") if m in sys.modules)}))
"""


def _dump(files: list[Path], env: dict[str, str]) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", _DUMP, *map(str, files)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_static_pass_finds_the_same_from_the_surface_as_from_the_frameworks(
    tmp_path: Path, built: Path
) -> None:
    """The same findings, messages and fixes, with and without --paper-compat; where no
    surface can be had (the cache folder is a file), the check imports the frameworks."""
    files = _program_files(tmp_path)
    folder = tmp_path / "cache"
    folder.mkdir()
    shutil.copyfile(built, folder / built.name)
    env = {k: v for k, v in os.environ.items() if k != S.ENV_MODE}
    cached = _dump(files, {**env, S.ENV_DIR: str(folder)})
    (tmp_path / "not-a-folder").write_text("")
    live = _dump(files, {**env, S.ENV_DIR: str(tmp_path / "not-a-folder")})
    assert cached["surface"] and not live["surface"]
    assert cached["imported"] == [] and "torch" in live["imported"]
    assert cached["findings"] == live["findings"]
    codes = {d[0] for _, _, found in cached["findings"] for d in found}
    assert {"DL101", "DL103", "DL104", "DL201", "DL203", "DL204"} <= codes, codes


def test_check_no_dynamic_imports_no_framework(tmp_path: Path, built: Path) -> None:
    folder = tmp_path / "cache"
    folder.mkdir()
    shutil.copyfile(built, folder / built.name)
    program = tmp_path / "model.py"
    program.write_text(textwrap.dedent(PROGRAMS["torch_mistakes.py"]))
    env = {k: v for k, v in os.environ.items() if k != S.ENV_MODE}
    command = ["-X", "importtime", "-m", "deepeval_lsp", "check", "--no-dynamic", str(program)]
    done = subprocess.run(
        [sys.executable, *command],
        capture_output=True,
        text=True,
        env={**env, S.ENV_DIR: str(folder)},
        timeout=300,
    )
    assert done.returncode == 1, done.stderr[-3000:]
    assert "DL104" in done.stdout and "flaten" in done.stdout
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()}
    heavy = {"torch", "keras", "numpy", "tensorflow", "jedi", "pygls", "openai", "sqlite_utils"}
    assert imported and not imported & heavy, sorted(imported & heavy)
