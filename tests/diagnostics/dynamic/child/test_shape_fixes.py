"""A torch.cat along the wrong dim: the finding names the cat and its preferred fix changes the
dim, whether the cat itself fails or the layer that consumes its result does."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from deepeval_lsp.diagnostics import CheckOptions, check
from deepeval_lsp.diagnostics import taxonomy as T
from deepeval_lsp.diagnostics.dynamic.worker_pool import WorkerPool
from deepeval_lsp.diagnostics.text import apply_edits

HEAD = """import torch
import torch.nn as nn

"""

# Same-shaped branches: the cat along dim 2 succeeds; the conv after it wants 32 channels.
CONSUMER = (
    HEAD
    + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(1, 16, 3, padding=1)
        self.b = nn.Conv2d(1, 16, 5, padding=2)
        self.pool = nn.MaxPool2d(2)
        self.conv = nn.Conv2d(32, 8, 3, padding=1)

    def forward(self, x):
        x = torch.cat([self.a(x), self.b(x)], dim=2)
        return self.conv(self.pool(x))


model = Net()  # deepeval: input=(2, 1, 28, 28)
"""
)

# Feature vectors of different widths: dim 2 is out of range for them.
FAILING = (
    HEAD
    + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(10, 16)
        self.b = nn.Linear(10, 8)
        self.head = nn.Linear(24, 2)

    def forward(self, x):
        h = torch.cat(
            [self.a(x), self.b(x)],
            dim=2,
        )
        return self.head(h)


model = Net()  # deepeval: input=(2, 10)
"""
)

# The pieces differ only along the channels: the cat along dim 2 fails.
UNEQUAL = (
    HEAD
    + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 16, 1)
        self.b = nn.Conv2d(3, 8, 1)
        self.conv = nn.Conv2d(24, 8, 1)

    def forward(self, x):
        return self.conv(torch.cat((self.a(x), self.b(x)), 2))


model = Net()  # deepeval: input=(2, 3, 8, 8)
"""
)

# The cat is right; the conv after it was built for the wrong width.
RIGHT_CAT = CONSUMER.replace("dim=2", "dim=1").replace("nn.Conv2d(32, 8", "nn.Conv2d(48, 8")


@pytest.fixture(scope="module")
def pool() -> Iterator[WorkerPool]:
    p = WorkerPool(1)
    yield p
    p.close()


def _line(source: str, text: str) -> int:
    return next(i for i, line in enumerate(source.splitlines()) if text in line)


def _errors(source: str, pool: WorkerPool) -> list:
    report = check(source, "net.py", CheckOptions(), pool=pool)
    return [d for d in report.diagnostics if d.severity == "error"]


def _cleans(source: str, fix, pool: WorkerPool) -> bool:
    return _errors(apply_edits(source, fix.edits), pool) == []


def test_consumer_error_points_at_the_cat_and_fixes_its_dim(pool):
    (d,) = _errors(CONSUMER, pool)
    assert d.code == T.SHAPE_MISMATCH and d.range.start.line == _line(CONSUMER, "self.conv(")
    cat_line = _line(CONSUMER, "torch.cat")
    (note,) = [r for r in d.related if r.range.start.line == cat_line]
    assert "torch.cat along dim 2 produced shape (2, 16, 56, 28)" in note.message
    assert CONSUMER.splitlines()[cat_line][note.range.start.character :].startswith("2)")
    fix = d.preferred_fix
    assert fix is d.fixes[0] and fix.verified
    assert [(e.range.start.line, e.new_text) for e in fix.edits] == [(cat_line, "1")]
    assert _cleans(CONSUMER, fix, pool)
    # the consumer's own width is still offered, second
    assert any("in_channels=16" in f.title for f in d.fixes[1:])


def test_failing_cat_out_of_range_is_fixed_on_the_dim_line(pool):
    (d,) = _errors(FAILING, pool)
    assert d.code == T.INPUT_ARGUMENT_MISMATCH
    dim_line = _line(FAILING, "dim=2,")
    assert d.range.start.line == _line(FAILING, "torch.cat(")
    assert any(r.range.start.line == dim_line for r in d.related)
    fix = d.preferred_fix
    assert fix is not None and fix.verified
    assert [(e.range.start.line, e.new_text) for e in fix.edits] == [(dim_line, "1")]
    assert _cleans(FAILING, fix, pool)


def test_failing_cat_of_unequal_channels_is_fixed_by_its_positional_dim(pool):
    (d,) = _errors(UNEQUAL, pool)
    assert d.code == T.SHAPE_MISMATCH
    fix = d.preferred_fix
    assert fix is not None and fix.verified and fix.edits[0].new_text == "1"
    assert _cleans(UNEQUAL, fix, pool)


def test_a_right_cat_is_left_alone_when_the_consumer_is_wrong(pool):
    (d,) = _errors(RIGHT_CAT, pool)
    assert not any("torch.cat" in r.message for r in d.related)
    fix = d.preferred_fix
    assert fix is not None and "in_channels=32" in fix.title
    assert all(f.edits[0].range.start.line != _line(RIGHT_CAT, "torch.cat") for f in d.fixes)


# A residual block whose first convolution lost its padding: the sum fails, the fix pads it.
RESIDUAL = (
    HEAD
    + """
class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(8, 8, kernel_size=3, padding=0)
        self.conv2 = nn.Conv2d(8, 8, kernel_size=3, padding=1)

    def forward(self, x):
        out = torch.relu(self.conv1(x))
        out = self.conv2(out)
        return torch.relu(out + x)


model = Block()  # deepeval: input=(2, 8, 16, 16)
"""
)


def test_residual_sum_of_unequal_sizes_pads_the_conv_that_shrinks(pool):
    (d,) = _errors(RESIDUAL, pool)
    assert d.code == T.SHAPE_MISMATCH and d.range.start.line == _line(RESIDUAL, "out + x")
    conv1 = _line(RESIDUAL, "self.conv1 = ")
    (note,) = [r for r in d.related if r.range.start.line == conv1]
    assert "padding=0 gives 14×14 where the other inputs are 16×16" in note.message
    fix = d.preferred_fix
    assert fix is not None and fix.verified
    assert [(e.range.start.line, e.new_text) for e in fix.edits] == [(conv1, "1")]
    assert _cleans(RESIDUAL, fix, pool)


# The tokens are 32 wide; the encoder layer was built for 64 (over several lines).
ENCODER = (
    HEAD
    + """
class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(100, 32)
        layer = nn.TransformerEncoderLayer(
            d_model=64, nhead=4, dim_feedforward=64, batch_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, num_layers=1, enable_nested_tensor=False)

    def forward(self, tokens):
        return self.encoder(self.embed(tokens))


model = Encoder()  # deepeval: input=(2, 12)
"""
)


def test_encoder_layer_width_is_fixed_on_its_d_model(pool):
    (d,) = _errors(ENCODER, pool)
    assert d.code == T.SHAPE_MISMATCH
    fix = d.preferred_fix
    assert fix is not None and fix.verified and "d_model=32" in fix.title
    assert [(e.range.start.line, e.new_text) for e in fix.edits] == [
        (_line(ENCODER, "d_model=64"), "32")
    ]
    assert _cleans(ENCODER, fix, pool)


# A Keras U-Net whose one "valid" convolution leaves an odd size: pooling floors it, and the
# up-sampled branch misses the skip by one at the concatenate two levels below.
KERAS_UNET = """import keras
from keras import layers

inp = keras.Input(shape=(32, 32, 3))
c1 = layers.Conv2D(8, 3, padding="same")(inp)
c1 = layers.Conv2D(8, 3, padding="valid")(c1)
p1 = layers.MaxPooling2D(2)(c1)
c2 = layers.Conv2D(16, 3, padding="same")(p1)
p2 = layers.MaxPooling2D(2)(c2)
c3 = layers.Conv2D(32, 3, padding="same")(p2)
u2 = layers.concatenate([layers.UpSampling2D(2)(c3), c2])
out = layers.Conv2D(1, 1)(u2)
model = keras.Model(inp, out)
"""


def test_keras_concat_misses_by_one_names_the_lone_valid_conv_and_fixes_it(pool):
    (d,) = _errors(KERAS_UNET, pool)
    assert d.code == T.SHAPE_MISMATCH and d.range.start.line == _line(KERAS_UNET, "concatenate")
    valid = _line(KERAS_UNET, 'padding="valid"')
    (note,) = [r for r in d.related if r.range.start.line == valid]
    assert 'padding="valid" shrinks its input by 2×2' in note.message
    fix = d.preferred_fix
    assert fix is not None and fix.verified
    assert [(e.range.start.line, e.new_text) for e in fix.edits] == [(valid, '"same"')]
    assert _cleans(KERAS_UNET, fix, pool)
