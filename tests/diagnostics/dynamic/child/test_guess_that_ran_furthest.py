"""Forward on guessed inputs that all fail: the error is the one of the guess that ran furthest
(a guess too small stops in the first layers, before the mistake every fitting size meets), and
it stays an error when the doubled guess fails the same way but for the shapes it quotes."""

from __future__ import annotations

from deepeval_lsp.diagnostics import taxonomy as T
from deepeval_lsp.diagnostics.dynamic.child.job import run_job

# 32×32 and 28×28 are too small for the two large kernels; from 64×64 on, `head` gets 16
# channels where it was built for 8.
DEEP = """
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 8, 30)
        self.b = nn.Conv2d(8, 16, 5)
        self.head = nn.Conv2d(8, 4, 1)

    def forward(self, x):
        return self.head(self.b(self.a(x)))


model = Net()
"""


def _line(source: str, text: str) -> int:
    return next(i for i, line in enumerate(source.splitlines()) if text in line)


def test_the_mistake_past_a_too_small_guess_is_the_error(tmp_path):
    out = run_job({"source": DEEP, "path": str(tmp_path / "net.py")})
    (err,) = out["errors"]
    assert err["code"] == T.SHAPE_MISMATCH and err["layer"].startswith("head")
    assert "to have 8 channels, but got 16" in err["message"]
    assert err["fix"]["edits"][0]["new_text"] == "16"
    assert err["fix"]["edits"][0]["range"][0] == _line(DEEP, "self.head = nn.Conv2d(8")
