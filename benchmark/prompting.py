"""The four prompting methods, in our own wording: zeroshot, oneshot, oneshotcot, fewshot.

Every prompt asks for one self-contained Python program with a `dl_model()` function that
returns the model, written with the Keras functional API for a Keras suite (the study's) and as
a PyTorch `nn.Module` for a PyTorch suite (ours). Worked examples come from the same suite and
are never the task being asked; they are picked deterministically so that the same run asks
the same questions (and hits the generation cache) every time. The chain-of-thought example's
reasoning is derived from its reference program: the layers it calls, in order.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from deepeval_lsp.diagnostics.text import callee_name, parse_python

if TYPE_CHECKING:
    from deepeval_lsp.diagnostics.tasks.model import Suite, Task

PROMPTINGS = ("zeroshot", "oneshot", "oneshotcot", "fewshot")
FEWSHOT_EXAMPLES = 3

Message = dict[str, str]

_SYSTEM = {
    "keras": (
        "You are an expert deep-learning engineer. You write complete, runnable Python "
        "programs that build models with the Keras functional API (keras.Input, layers called "
        "on tensors, keras.Model(inputs, outputs))."
    ),
    "torch": (
        "You are an expert deep-learning engineer. You write complete, runnable Python "
        "programs that build models with PyTorch (torch.nn.Module subclasses)."
    ),
}

_CONTRACT = {
    "keras": (
        "Write the whole program in one ```python block: every import it needs, then a "
        "function `dl_model()` that builds the model with the Keras functional API and returns "
        "it. Do not train, evaluate, load data or print anything."
    ),
    "torch": (
        "Write the whole program in one ```python block: every import it needs, the "
        "`nn.Module` subclass(es), then a function `dl_model()` that returns an instance of "
        "the model. Do not train, evaluate, load data or print anything."
    ),
}

_COT = (
    "Before the code, think it through step by step: list the layers and branches the "
    "requirement describes, in order, and the tensor shape after each one; then write the code."
)


def build_messages(task: Task, method: str, suite: Suite) -> list[Message]:
    """The chat messages that ask `task` with prompting `method`."""
    if method not in PROMPTINGS:
        raise ValueError(f"unknown prompting {method!r} (choose from {', '.join(PROMPTINGS)})")
    fw = "keras" if task.framework == "keras" else "torch"
    messages: list[Message] = [{"role": "system", "content": _SYSTEM[fw]}]
    n_examples = {"zeroshot": 0, "oneshot": 1, "oneshotcot": 1, "fewshot": FEWSHOT_EXAMPLES}
    for ex in pick_examples(task, suite, n_examples[method]):
        messages.append({"role": "user", "content": _ask(ex, fw, cot=method == "oneshotcot")})
        messages.append({"role": "assistant", "content": _answer(ex, cot=method == "oneshotcot")})
    messages.append({"role": "user", "content": _ask(task, fw, cot=method == "oneshotcot")})
    return messages


def pick_examples(task: Task, suite: Suite, n: int) -> list[Task]:
    """`n` other tasks of the suite as worked examples: easiest first, never `task` itself.

    The choice depends only on the suite and the task id, so prompts are reproducible; with
    several examples, they come from different difficulty levels where the suite has them.
    """
    if n <= 0:
        return []
    others = [t for t in suite.tasks if t.id != task.id and t.framework == task.framework]
    others = others or [t for t in suite.tasks if t.id != task.id]
    by_level: dict[str, list[Task]] = {}
    for t in others:
        by_level.setdefault(t.difficulty, []).append(t)
    # rotate by a stable function of the task id so that not every task shows the same example
    offset = sum(task.id.encode()) if others else 0
    queues = [lvl[offset % len(lvl) :] + lvl[: offset % len(lvl)] for lvl in by_level.values()]
    picked: list[Task] = []
    while len(picked) < n and any(queues):
        for q in queues:
            if q and len(picked) < n:
                picked.append(q.pop(0))
    return picked


def _ask(task: Task, fw: str, cot: bool) -> str:
    parts = [f"Requirement:\n{task.requirement.strip()}"]
    if task.inputs:
        shapes = ", ".join(str(tuple(s.shape)) for s in task.inputs)
        parts.append(f"Input shape (batch first): {shapes}.")
    parts.append(_CONTRACT[fw])
    if cot:
        parts.append(_COT)
    return "\n\n".join(parts)


def _answer(example: Task, cot: bool) -> str:
    code = f"```python\n{example.reference.strip()}\n```"
    if not cot:
        return code
    steps = reasoning_steps(example.reference)
    plan = "\n".join(f"{i}. {s}" for i, s in enumerate(steps, 1)) or "1. Build the model."
    return f"Step by step, the model is:\n{plan}\n\nThe code:\n{code}"


def reasoning_steps(reference: str, limit: int = 20) -> list[str]:
    """The layer constructions of a reference program, in source order, as short steps."""
    try:
        tree = parse_python(reference)
    except SyntaxError:
        return []
    own = {n.name for n in ast.walk(tree) if isinstance(n, ast.ClassDef | ast.FunctionDef)}
    found: list[tuple[int, int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _layer_name(node, own)
            if name:
                found.append((node.lineno, node.col_offset, name))
    return [text for _, _, text in sorted(found)][:limit]


_NOT_LAYERS = {
    "super",
    "print",
    "range",
    "len",
    "int",
    "float",
    "dl_model",
    "list",
    "tuple",
    "isinstance",
    "zip",
    "enumerate",
    "dict",
    "getattr",
    "setattr",
}


def _layer_name(call: ast.Call, own: set[str]) -> str | None:
    if isinstance(call.func, ast.Call):  # keras: Dense(10)(x) -> describe the constructor only
        return None
    name = callee_name(call)
    if not name or name in _NOT_LAYERS or name in own or not name[0].isupper():
        return None
    args = [ast.unparse(a) for a in call.args] + [
        f"{k.arg}={ast.unparse(k.value)}" for k in call.keywords if k.arg
    ]
    text = f"{name}({', '.join(args)})"
    return text if len(text) <= 100 else f"{name}(…)"
