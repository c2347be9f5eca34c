"""A failure on a guessed input is the program's own when the doubled guess fails alike: the
sizes in conflict stay while those that follow the guess (a product's rows, batch × steps; a
view's batch and steps) change. A failure whose conflicting size follows the guess (a model
built for one sequence length) stays a note."""

from __future__ import annotations

from deepeval_lsp.diagnostics import taxonomy as T
from deepeval_lsp.diagnostics.dynamic.child.build import _same_words
from deepeval_lsp.diagnostics.dynamic.child.job import run_job

TOKENS = """
import torch
from torch import nn


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(1000, 64)
        self.heads = 4
        self.proj = nn.Linear(64, 64)
        self.out = nn.Linear(OUT_IN, 10)

    def forward(self, x):
        b, t = x.shape
        h = self.proj(self.emb(x))
        h = h.view(b, t, self.heads, VIEW_LAST)
        return self.out(h.view(b, t, 64))


model = Tagger()
"""

# built for sequences of 20 steps: the Linear's in_features follows the input's length
FIXED_LENGTH = """
import torch
from torch import nn


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(1000, 32)
        self.fc = nn.Linear(20 * 32, 2)

    def forward(self, x):
        return self.fc(self.emb(x).flatten(1))


model = Classifier()
"""


def _line(source: str, text: str) -> int:
    return next(i for i, line in enumerate(source.splitlines()) if text in line)


def test_a_wrong_in_features_after_a_token_guess_is_an_error(tmp_path):
    src = TOKENS.replace("OUT_IN", "32").replace("VIEW_LAST", "16")
    out = run_job({"source": src, "path": str(tmp_path / "tagger.py")})
    (err,) = out["errors"]
    assert err["code"] == T.SHAPE_MISMATCH
    assert err["range"][0] == _line(src, "return self.out(")


def test_a_wrong_view_after_a_token_guess_is_an_error(tmp_path):
    src = TOKENS.replace("OUT_IN", "64").replace("VIEW_LAST", "32")
    out = run_job({"source": src, "path": str(tmp_path / "tagger.py")})
    (err,) = out["errors"]
    assert err["code"] == T.SHAPE_MISMATCH
    assert "is invalid for input of size" in err["message"]
    assert err["range"][0] == _line(src, "h = h.view(b, t, self.heads")


def test_a_model_built_for_one_length_is_a_note_on_a_guessed_length(tmp_path):
    out = run_job({"source": FIXED_LENGTH, "path": str(tmp_path / "classifier.py")})
    (note,) = out["errors"]
    assert note["code"] == T.NOT_CHECKABLE and "built with guessed input" in note["message"]


def test_products_compare_their_inner_sizes():
    meta = "a and b must have same reduction dim, but got [{}, 384] X [192, 96]."
    assert _same_words(meta.format(32), meta.format(64))
    assert not _same_words(
        "a and b must have same reduction dim, but got [2, 3136] X [4096, 10].",
        "a and b must have same reduction dim, but got [2, 12544] X [4096, 10].",
    )
    cpu = "mat1 and mat2 shapes cannot be multiplied ({}x384 and 192x96)"
    assert _same_words(cpu.format(32), cpu.format(64))
    assert not _same_words(
        "mat1 and mat2 shapes cannot be multiplied (2x3136 and 4096x10)",
        "mat1 and mat2 shapes cannot be multiplied (2x12544 and 4096x10)",
    )


def test_views_compare_their_ratio_to_the_input():
    view = "shape '[2, {}, 4, 96]' is invalid for input of size {}"
    assert _same_words(view.format(16, 3072), view.format(32, 6144))
    assert not _same_words(
        "shape '[2, 4096]' is invalid for input of size 6272",
        "shape '[2, 4096]' is invalid for input of size 25088",
    )
    # with -1 the view's own size is not known: only the same words compare alike
    assert not _same_words(
        "shape '[-1, 4096]' is invalid for input of size 6272",
        "shape '[-1, 4096]' is invalid for input of size 25088",
    )
