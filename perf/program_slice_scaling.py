"""How the program slicer's time grows with the length of a file.

Generates programs of typical model code (imports, helper functions, model classes, module-level
hyper-parameters and chained assignments, calls that train or load data, a main block) with N
top-level statements, slices each, and prints the time per size and the ratio to the previous
size (about 2 for a doubling when the slicer is linear, 4 when it is quadratic). Usage:

    python perf/program_slice_scaling.py [--sizes 1000,2000,4000,8000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import ast
import time

from deepeval_lsp.diagnostics.dynamic.child.program_slice import slice_program

HEAD = """\
import torch
from torch import nn
import numpy as np
"""
MODEL = """\
class Net{i}(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(hidden_{i}, 10)

    def forward(self, x):
        return self.fc(x)
"""


def generate(statements: int) -> str:
    """A program of about `statements` top-level statements, cycling through typical ones."""
    parts = [HEAD]
    count = 3
    i = 0
    while count < statements:
        parts.append(
            f"hidden_{i} = 32 * {i % 7 + 1}\n"
            f"lr_{i} = 0.001 * hidden_{i}\n"
            f"def helper_{i}(x):\n    return x * lr_{i}\n"
            + MODEL.format(i=i)
            + f"model_{i} = Net{i}()\n"
            f"model_{i}.to('cpu')\n"
            f"data_{i} = np.load('x{i}.npy')\n"
            f"scaled_{i} = data_{i} * 2\n"
            f"print(helper_{i}(hidden_{i}))\n"
        )
        count += 9
        i += 1
    parts.append("if __name__ == '__main__':\n    model_0.train()\n")
    return "".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,2000,4000,8000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    previous: float | None = None
    print(f"{'statements':>10} {'seconds':>9} {'ratio':>6}")
    for size in (int(s) for s in args.sizes.split(",")):
        tree = ast.parse(generate(size))
        best = float("inf")
        for _ in range(args.repeat):
            start = time.perf_counter()
            slice_program(tree)
            best = min(best, time.perf_counter() - start)
        ratio = f"{best / previous:6.2f}" if previous else f"{'':>6}"
        print(f"{len(tree.body):>10} {best:>9.3f} {ratio}")
        previous = best


if __name__ == "__main__":
    main()
