"""Warm-up of the worker's zygote: one small PyTorch and one small Keras check, run once before
forking, so every child inherits warm caches (meta kernels, Keras compile and optimizer paths,
keras.applications' constructors) instead of paying for them."""

from __future__ import annotations

import contextlib
import importlib.util
import sys

from deepeval_lsp.diagnostics.dynamic.child.job import run_job
from deepeval_lsp.diagnostics.dynamic.child.meta_patches import application_builders

WARM_TORCH = """
import torch
from torch import nn


class Warm(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10, 8)
        self.rnn = nn.LSTM(8, 8, batch_first=True)
        self.norm = nn.LayerNorm(8)
        self.conv = nn.Conv2d(1, 2, 3, padding=1)
        self.bn = nn.BatchNorm2d(2)
        self.fc = nn.Linear(8 + 2, 3)

    def forward(self, tokens):
        h, _ = self.rnn(self.emb(tokens))
        img = self.bn(self.conv(h[:, :, :4].reshape(-1, 1, 4, 8)))
        return self.fc(torch.cat([self.norm(h[:, -1]), img.mean(dim=(2, 3))[: h.size(0)]], 1))
"""
WARM_KERAS = """
import keras
from keras import layers


def dl_model():
    inputs = keras.Input(shape=(8, 8, 1))
    a = layers.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    b = layers.Conv2D(4, 1, padding="same")(inputs)
    x = layers.Concatenate()([layers.Add()([a, b]), a])
    x = layers.Dense(3, activation="softmax")(layers.Flatten()(layers.MaxPooling2D()(x)))
    return keras.Model(inputs, x)
"""


def warm() -> None:
    """Run one small PyTorch and one small Keras check, so the worker's children inherit warm
    caches (meta kernels, Keras compile and optimizer paths) instead of each paying for them."""
    if "keras" in sys.modules:
        with contextlib.suppress(Exception):
            application_builders()
    run_job({"source": WARM_TORCH, "path": "<deepeval-warm-torch>"})
    if importlib.util.find_spec("keras") is not None:
        run_job({"source": WARM_KERAS, "path": "<deepeval-warm-keras>"})


def prefault() -> None:
    """The PyTorch warm check again, in a freshly forked child before its job arrives: it takes
    the copy-on-write faults and lazy initialisations a typical check meets. (Not the Keras one:
    Keras numbers its layers process-wide, so a second warm model would rename the job's.)"""
    run_job({"source": WARM_TORCH, "path": "<deepeval-warm-torch>"})
