"""The data sets LLM-written programs train on: how a text names them, and their shapes.

One table; each user derives what it needs: the dynamic pass the input shape a requirement or
docstring implies (MNIST -> 1x28x28) and the placeholder arrays that `keras.datasets.X.load_data()`
returns in the sandbox, the paper engine its offline stand-ins, the benchmark the input shapes
of the study's requirements.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Dataset:
    name: str  # the `keras.datasets` module name where Keras has one
    sample: tuple[int, ...]  # one sample's shape as the data set gives it (channels last)
    label: tuple[int, ...] = ()  # one label's shape
    classes: int | None = None
    dtype: str = "uint8"
    # how a requirement or docstring names it (a regular expression, case-insensitive)
    pattern: str | None = None
    in_keras: bool = False  # keras.datasets.<name>.load_data() exists
    sequences: bool = False  # samples are lists of token ids of varying length (imdb, reuters)
    study_names: tuple[str, ...] = ()  # the study's requirements name it so

    @property
    def image_chw(self) -> tuple[int, int, int] | None:
        """(channels, height, width) of an image data set's sample."""
        if len(self.sample) == 2:
            return (1, *self.sample)
        if len(self.sample) == 3:
            h, w, c = self.sample
            return (c, h, w)
        return None

    @property
    def image_hwc(self) -> tuple[int, int, int] | None:
        """(height, width, channels): a Keras model's input."""
        chw = self.image_chw
        return None if chw is None else (chw[1], chw[2], chw[0])


# A text is matched against the patterns in this order; the first match wins.
DATASETS: tuple[Dataset, ...] = (
    Dataset(
        "fashion_mnist",
        (28, 28),
        classes=10,
        pattern=r"fashion[\s_-]?mnist",
        in_keras=True,
    ),
    Dataset(
        "mnist",
        (28, 28),
        classes=10,
        pattern=r"\bmnist\b|emnist|kmnist",
        in_keras=True,
        study_names=("MNIST",),
    ),
    Dataset(
        "cifar10",
        (32, 32, 3),
        (1,),
        classes=10,
        pattern=r"cifar[\s_-]?10{1,2}|\bcifar\b",
        in_keras=True,
        study_names=("CIFAR-10", "CIFAR10"),
    ),
    Dataset("cifar100", (32, 32, 3), (1,), classes=100, in_keras=True),
    Dataset("svhn", (32, 32, 3), classes=10, pattern=r"\bsvhn\b"),
    Dataset("tiny_imagenet", (64, 64, 3), classes=200, pattern=r"tiny[\s_-]?imagenet"),
    Dataset("imagenet", (224, 224, 3), classes=1000, pattern=r"imagenet"),
    Dataset("stl10", (96, 96, 3), classes=10, pattern=r"\bstl[\s_-]?10\b"),
    Dataset("imdb", (), classes=2, dtype="int64", in_keras=True, sequences=True),
    Dataset("reuters", (), classes=46, dtype="int64", in_keras=True, sequences=True),
    Dataset("boston_housing", (13,), dtype="float64", in_keras=True),
    Dataset("california_housing", (8,), dtype="float64", in_keras=True),
)

KERAS_DATASETS: tuple[Dataset, ...] = tuple(d for d in DATASETS if d.in_keras)


def named_in(text: str) -> Dataset | None:
    """The image data set a text names (a requirement, a docstring, the program itself)."""
    for d in DATASETS:
        if d.pattern is not None and re.search(d.pattern, text, re.I):
            return d
    return None
