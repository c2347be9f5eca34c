"""The data set table and what its users derive from it."""

from __future__ import annotations

import pytest
from deepeval_lsp.diagnostics import datasets
from deepeval_lsp.diagnostics.datasets import KERAS_DATASETS, named_in


@pytest.mark.parametrize(
    ("text", "chw"),
    [
        ("classify Fashion-MNIST images", (1, 28, 28)),
        ("a CNN for MNIST", (1, 28, 28)),
        ("trained on kmnist", (1, 28, 28)),
        ("CIFAR-100 classifier", (3, 32, 32)),
        ("SVHN digits", (3, 32, 32)),
        ("Tiny ImageNet", (3, 64, 64)),
        ("ImageNet classes", (3, 224, 224)),
        ("STL-10", (3, 96, 96)),
    ],
)
def test_the_data_set_a_text_names_gives_the_input_shape(text, chw):
    found = named_in(text)
    assert found is not None and found.image_chw == chw


def test_texts_naming_no_image_data_set_give_none():
    assert named_in("a sentiment model for IMDB reviews") is None
    assert named_in("a model") is None


def test_keras_data_sets_include_the_sequence_ones():
    names = {d.name for d in KERAS_DATASETS}
    assert {"mnist", "cifar10", "imdb", "reuters", "boston_housing"} <= names
    assert all(d.sequences for d in KERAS_DATASETS if d.name in ("imdb", "reuters"))


def test_channels_last_for_keras():
    mnist = next(d for d in datasets.DATASETS if d.name == "mnist")
    assert mnist.image_hwc == (28, 28, 1)
    assert mnist.study_names == ("MNIST",)
