"""Forward on inputs the check guessed: a failure that a guessed size or input can cause is a
note saying so; one under a known shape, or one no guessed size changes, stays an error."""

from __future__ import annotations

import os

from deepeval_lsp.diagnostics import taxonomy as T
from deepeval_lsp.diagnostics.dynamic.child.job import run_job

os.environ.setdefault("KERAS_BACKEND", "torch")

LSTM_MNIST = '''
"""Classify MNIST digits, one image row per step."""
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(28, 64, batch_first=True)
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.fc(out[:, -1])
'''

# Sized for 299×299 inputs (Inception-style): no input size the check tries fits fc.
NEEDS_299 = """
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2), nn.ReLU())
        self.fc = nn.Linear(8 * 149 * 149, 1000)

    def forward(self, x):
        return self.fc(torch.flatten(self.features(x), 1))
"""

POLICY = """
import torch
import torch.nn as nn


class Policy(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 32)
        self.fc2 = nn.Linear(16, 4)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))
"""


def _run(tmp_path, source: str, **extra):
    path = tmp_path / "prog.py"
    path.write_text(source)
    return run_job({"source": source, "path": str(path), **extra})


def test_lstm_fed_the_guessed_mnist_image_is_a_note_saying_the_guess(tmp_path):
    result = _run(tmp_path, LSTM_MNIST)
    assert result["errors"][0]["code"] == T.NOT_CHECKABLE, result["errors"]
    message = result["errors"][0]["message"]
    assert message.startswith("built with guessed input (2, 1, 28, 28) (the file names MNIST)")
    assert "LSTM" in message and "# deepeval: input=" in message
    assert result["executable"] is None


def test_the_same_failure_under_a_stated_shape_is_an_error(tmp_path):
    for result in (
        _run(tmp_path, LSTM_MNIST + "# deepeval: input=(2, 1, 28, 28)\n"),
        _run(tmp_path, LSTM_MNIST, input_shape=[2, 1, 28, 28]),
    ):
        (error,) = result["errors"]
        assert (
            error["code"] != T.NOT_CHECKABLE and T.CODES[error["code"]].severity == T.Severity.ERROR
        )
        assert "got 4D" in error["message"] and "guessed" not in error["message"]
        assert result["executable"] is False


def test_a_model_sized_for_299_fed_guessed_sizes_is_a_note(tmp_path):
    result = _run(tmp_path, NEEDS_299)
    assert [e["code"] for e in result["errors"]] == [T.NOT_CHECKABLE]
    assert (
        "built with guessed input (2, 3, 32, 32) (from the first layer, Conv2d"
        in (result["errors"][0]["message"])
    )
    stated = _run(tmp_path, NEEDS_299, input_shape=[2, 3, 299, 299])
    assert stated["errors"] == [] and stated["executable"] is True


def test_a_guessed_shape_that_runs_is_a_pass_with_its_source_said(tmp_path):
    result = _run(
        tmp_path, LSTM_MNIST.replace('"""Classify MNIST digits, one image row per step."""', "")
    )
    assert result["errors"] == [] and result["executable"] is True
    assert result["summary"]["input_shapes"] == [[2, 8, 28]]
    assert any("assumed from the first layer, LSTM(input_size=28)" in n for n in result["notes"])


def test_a_failure_no_guessed_size_changes_stays_an_error(tmp_path):
    # fc2 takes 16 features where fc1 gives 32, whatever the input fc1 accepts
    result = _run(tmp_path, POLICY)
    assert [e["code"] for e in result["errors"]] == [T.SHAPE_MISMATCH]
    assert "guessed" not in result["errors"][0]["message"]


def test_forward_with_several_inputs_gets_one_tensor_for_each(tmp_path):
    source = """
import torch
from torch import nn


class Cond(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(16, 16)
        self.emb = nn.Embedding(1000, 16)

    def forward(self, x, c, t, mask):
        h = self.proj(x) + self.proj(c) + self.emb(t)
        return h.masked_fill(mask, 0.0)
"""
    result = _run(tmp_path, source)
    assert result["errors"] == [], result["errors"]
    assert result["executable"] is True
    assert any("`c` (2, 16), `t` (2,), `mask` (2, 16)" in n for n in result["notes"])


def test_detr_transformer_forward_is_no_missing_argument(tmp_path):
    # detr's Transformer.forward(src, mask, query_embed, pos_embed): the check calls it
    source = """
import torch
from torch import nn


class Transformer(nn.Module):
    def __init__(self, d_model=32, nhead=4):
        super().__init__()
        layer = nn.TransformerEncoderLayer(d_model, nhead)
        self.encoder = nn.TransformerEncoder(layer, 2)

    def forward(self, src, mask, query_embed, pos_embed):
        bs, c, h, w = src.shape
        src = src.flatten(2).permute(2, 0, 1)
        pos_embed = pos_embed.flatten(2).permute(2, 0, 1)
        query_embed = query_embed.unsqueeze(1).repeat(1, bs, 1)
        mask = mask.flatten(1)
        return self.encoder(src + pos_embed, src_key_padding_mask=mask)
"""
    result = _run(tmp_path, source)
    codes = [e["code"] for e in result["errors"]]
    assert T.MISSING_ARGUMENT not in codes
    assert codes == [T.NOT_CHECKABLE], result["errors"]
    assert "`mask`" in result["errors"][0]["message"]


def test_timm_style_drop_path_rates_from_linspace_build(tmp_path):
    # facebookresearch/ConvNeXt: dpr = [x.item() for x in torch.linspace(0, rate, sum(depths))]
    source = """
import torch
from torch import nn


class Block(nn.Module):
    def __init__(self, dim, drop_path=0.0):
        super().__init__()
        self.conv = nn.Conv2d(dim, dim, 3, padding=1)
        self.drop_path = drop_path

    def forward(self, x):
        return x + self.conv(x)


class ConvNeXt(nn.Module):
    def __init__(self, depths=(1, 2), dims=(8, 16), drop_path_rate=0.5):
        super().__init__()
        dpr = [x.item() for x in torch.linspace(0, drop_path_rate, sum(depths))]
        assert dpr == [0.0, 0.25, 0.5] and torch.arange(4).tolist() == [0, 1, 2, 3]
        assert int(torch.tensor(7)) == 7 and float(torch.linspace(0, 1, 3)[1]) == 0.5
        self.stem = nn.Conv2d(3, dims[0], 4, stride=4)
        self.stage1 = nn.Sequential(*[Block(dims[0], dpr[j]) for j in range(depths[0])])
        self.down = nn.Conv2d(dims[0], dims[1], 2, stride=2)
        self.stage2 = nn.Sequential(*[Block(dims[1], dpr[1 + j]) for j in range(depths[1])])
        self.head = nn.Linear(dims[1], 10)

    def forward(self, x):
        x = self.stage2(self.down(self.stage1(self.stem(x))))
        return self.head(x.mean([-2, -1]))


model = ConvNeXt()  # deepeval: input=(2, 3, 64, 64)
"""
    result = _run(tmp_path, source)
    assert result["errors"] == [], result["errors"]
    assert result["executable"] is True


def test_values_of_other_meta_tensors_stay_unknown(tmp_path):
    source = """
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.n = int(self.fc.weight.sum().item())


model = Net()
"""
    result = _run(tmp_path, source)
    assert [e["code"] for e in result["errors"]] == [T.NOT_CHECKABLE]
    assert "meta" in result["errors"][0]["message"]


def test_an_exception_inside_the_checker_is_a_checker_error_note(tmp_path):
    # forward returns an object whose `shape` is no sequence: the check's own summary fails
    source = """
import torch
from torch import nn


class Box:
    shape = 7


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        return Box()


model = Net()  # deepeval: input=(2, 4)
"""
    result = _run(tmp_path, source)
    assert [e["code"] for e in result["errors"]] == [T.NOT_CHECKABLE]
    message = result["errors"][0]["message"]
    assert message.startswith("checker error: TypeError: ")
    assert "please report it" in message
    assert result["executable"] is None


def test_a_compiled_extension_that_does_not_load_is_a_note(tmp_path):
    (tmp_path / "fastops.cpython-311-x86_64-linux-gnu.so").write_bytes(b"not an ELF file")
    source = """
import torch
import fastops
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(fastops.WIDTH, 4)

    def forward(self, x):
        return self.fc(x)
"""
    result = _run(tmp_path, source)
    assert [e["code"] for e in result["errors"]] == [T.NOT_CHECKABLE]
    message = result["errors"][0]["message"]
    assert message.startswith("loading fastops.cpython-311-x86_64-linux-gnu.so failed")
    assert "while importing fastops" in message


SEQ2SEQ = """
import random
import torch
from torch import nn


class Seq2Seq(nn.Module):
    def __init__(self, vocab=50, dim=16):
        super().__init__()
        self.src_emb = nn.Embedding(vocab, dim)
        self.trg_emb = nn.Embedding(vocab, dim)
        self.rnn = nn.GRU(dim, dim, batch_first=True)
        self.out = nn.Linear(dim, vocab)

    def forward(self, src, trg, teacher_forcing_ratio):
        _, h = self.rnn(self.src_emb(src))
        if random.random() < teacher_forcing_ratio:
            h = h * 1.0
        out, _ = self.rnn(self.trg_emb(trg), h)
        return self.out(out)
"""


def test_a_target_sequence_beside_token_ids_is_token_ids_and_a_ratio_a_number() -> None:
    result = run_job({"source": SEQ2SEQ, "path": "seq2seq.py"})
    assert result["errors"] == []
    assert result["summary"]["output_shape"] == [2, 16, 50]
    said = " ".join(result["notes"])
    assert "`trg` (2, 16)" in said and "`teacher_forcing_ratio` 0.5" in said


def test_a_failure_in_a_namespace_with_stand_ins_is_not_blamed_on_them() -> None:
    # `history` is only bound by the dropped fit(); the model's own mistake (Linear(32, …) fed
    # 16 features) has nothing to do with it, and stays an error
    source = """
import torch
from torch import nn

model = nn.Sequential(nn.Linear(8, 16), nn.Linear(32, 2))
history = model.fit(torch.load("x.pt"))


def report():
    return history.losses
"""
    result = run_job({"source": source, "path": "prog.py", "input_shape": [[2, 8]]})
    [error] = result["errors"]
    assert error["code"] != T.NOT_CHECKABLE and "depends on" not in error["message"]
    assert error["range"][0] + 1 == 5


SEQUENCE_FIRST_CNN = """
import torch
from torch import nn


class CNN(nn.Module):
    def __init__(self, vocab=100, dim=20):
        super().__init__()
        self.emb = nn.Embedding(vocab, dim)
        self.conv = nn.Conv2d(1, 8, (5, dim))
        self.fc = nn.Linear(8, 2)

    def forward(self, text):
        text = text.permute(1, 0)  # [sent len, batch] -> [batch, sent len]
        x = torch.relu(self.conv(self.emb(text).unsqueeze(1))).squeeze(3)
        return self.fc(x.max(dim=2).values)
"""


def test_token_ids_sequence_first_are_tried_when_batch_first_does_not_fit() -> None:
    result = run_job({"source": SEQUENCE_FIRST_CNN, "path": "cnn.py"})
    assert result["errors"] == []
    assert result["summary"]["input_shapes"] == [[16, 2]]


def test_a_lengths_input_is_one_length_per_sample_on_the_cpu() -> None:
    source = """
import torch
from torch import nn


class RNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(100, 8)
        self.lstm = nn.LSTM(8, 16, batch_first=True)
        self.fc = nn.Linear(16, 2)

    def forward(self, ids, length):
        packed = nn.utils.rnn.pack_padded_sequence(
            self.emb(ids), length, batch_first=True, enforce_sorted=False
        )
        _, (hidden, _) = self.lstm(packed)
        return self.fc(hidden[-1])
"""
    result = run_job({"source": source, "path": "rnn.py"})
    assert result["errors"] == []
    assert "`length` (2,)" in " ".join(result["notes"])
