"""Shape faults injected into real, published model code (../shared/realcode), checked as a user
runs `deepeval-lsp check` and `check --fix`: a fixed handful of perf/realcode_faults.py's faults,
each found at its line (or the constructor it names) and left clean by `--fix` with the user's
own expression restored."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT.parent / "shared" / "realcode"
# (repository/path, kind, or the start of its new text or anchor) of the faults checked here: a
# conv, a ConvTranspose and a Linear, with a factor, a literal and a product of literal factors
# to restore
SUBSET = (
    ("jvanvugt+pytorch-unet/unet.py", "conv in_channels"),
    ("LynnHo+DCGAN-LSGAN-WGAN-GP-DRAGAN-Pytorch/module.py", "ConvTranspose in_channels"),
    ("sgrvinod+a-PyTorch-Tutorial-to-Super-Resolution/models.py", "nn.Linear(out_channels * 4 * 4"),
    # token inputs guessed: the doubled guess changes the product's rows, not its inner sizes
    ("rasbt+LLMs-from-scratch/ch04/01_main-chapter-code/gpt.py", "self.out_proj = nn.Linear(d_out"),
    # Keras: a concatenate two levels below the one "valid" convolution
    ("divamgupta+image-segmentation-keras/keras_segmentation/models/unet.py", "conv1 = Dropout"),
)

pytestmark = pytest.mark.skipif(
    not (CORPUS / "files.txt").is_file(),
    reason="the real-code corpus (../shared/realcode) is absent",
)


def _faults_module():
    spec = importlib.util.spec_from_file_location(
        "realcode_faults", ROOT / "perf" / "realcode_faults.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while defined
    spec.loader.exec_module(module)
    return module


def _chosen(rf) -> list:
    out = []
    for where, what in SUBSET:
        (fault,) = [
            f
            for f in rf.FAULTS
            if f"{f.repo}/{f.path}" == where
            and (f.kind == what or f.new.startswith(what) or f.after.startswith(what))
        ]
        out.append(fault)
    return out


@pytest.mark.parametrize("index", range(len(SUBSET)))
def test_an_injected_fault_is_found_and_fixed_to_the_users_expression(index):
    rf = _faults_module()
    fault = _chosen(rf)[index]
    r = rf.run_fault(CORPUS, fault, keep=False)
    assert r["found"], [(e["code"], e["range"]["start"]["line"], e["message"]) for e in r["errors"]]
    assert r["fixed_clean"] and r["restored"]
