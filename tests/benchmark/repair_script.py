"""A scripted model for repair conversations (tests/benchmark/fake_openai.py, `by_request`).

Round 0 answers each task with a broken program (`BROKEN[task id]`, else the reference). Later
turns depend on the model's name: `fixer` applies the hints of our follow-up turn to its last
program ("at line N, replace `A` with `B`", "at line N, insert the line `X`"), exactly the
program the diagnostics asked for; `stubborn` sends its broken program again, every time.
Token counts grow with the turn so sums can be checked: turn t reports 100 + 10·t prompt and
50 + t completion tokens.
"""

from __future__ import annotations

import re

from deepeval_lsp.benchmark.extract import extract_code

from .fake_openai import Reply, completion

_REPLACE = re.compile(r"^- at line (\d+), replace `(.*)` with `(.*)`$", re.M)
_INSERT = re.compile(r"^- at line (\d+), insert the line `(.*)`$", re.M)


def tokens(turn: int) -> tuple[int, int]:
    return 100 + 10 * turn, 50 + turn


class RepairScript:
    def __init__(self, tasks, broken: dict[str, str]) -> None:
        self.tasks = tasks
        self.broken = broken

    def task_of(self, body: dict):
        first = next(m["content"] for m in body["messages"] if m["role"] == "user")
        return next(t for t in self.tasks if t.requirement in first)

    def program(self, body: dict) -> str:
        """The program this request's turn answers with."""
        messages = body["messages"]
        task = self.task_of(body)
        broken = self.broken.get(task.id, task.reference)
        if turn_of(body) == 0 or body["model"] == "stubborn":
            return broken
        return apply_hints(extract_code(messages[-2]["content"]), messages[-1]["content"])

    def __call__(self, body: dict, n: int) -> Reply:
        pt, ct = tokens(turn_of(body))
        return completion(f"```python\n{self.program(body)}```", pt, ct)


def turn_of(body: dict) -> int:
    """0 for the base method's question, k for the k-th follow-up (zeroshot: no examples)."""
    return sum(1 for m in body["messages"] if m["role"] == "assistant")


def apply_hints(code: str, feedback: str) -> str:
    lines = code.splitlines(keepends=True)
    for m in _REPLACE.finditer(feedback):
        i = int(m.group(1)) - 1
        lines[i] = lines[i].replace(m.group(2), m.group(3))
    for m in sorted(_INSERT.finditer(feedback), key=lambda m: -int(m.group(1))):
        lines.insert(int(m.group(1)) - 1, m.group(2) + "\n")
    return "".join(lines)
