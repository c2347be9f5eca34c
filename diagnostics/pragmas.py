"""`# deepeval: key=value, …` comments: what a file says about how to check it.

    model = Net()  # deepeval: input=(1, 3, 32, 32)
    # deepeval: task=easy_task_1, input=[(2, 16), (2, 16)]

Keys: `input` (the input shape, or a list of them: a Python literal) and `task` (the benchmark
task the file answers). The first value given for a key wins.
"""

from __future__ import annotations

import re

_PRAGMA = re.compile(r"#\s*deepeval\s*:(?P<body>.*)$", re.MULTILINE)
_TASK_ID_PREFIX = re.compile(r"[A-Za-z0-9_.\-]+")
_KEY = re.compile(r"(?:^|(?<=[\s,;]))(?P<key>[A-Za-z_]\w*)\s*=(?!=)\s*")


def parse_pragmas(source: str) -> dict[str, str]:
    """Every key of the file's `# deepeval:` comments with its value's text: what follows
    `key=` up to the next `key=` (`input=1, 3, 32, 32` is a shape too)."""
    found: dict[str, str] = {}
    for m in _PRAGMA.finditer(source):
        body = m.group("body")
        keys = list(_KEY.finditer(body))
        ends = [k.start() for k in keys[1:]] + [len(body)]
        for key, end in zip(keys, ends, strict=False):  # no keys: no values
            value = body[key.end() : end]
            found.setdefault(key.group("key"), value.strip().rstrip(",;").strip())
    return found


def parse_task_pragma(source: str) -> str | None:
    """The task id named by a `# deepeval: task=ID` comment, or None."""
    task = _TASK_ID_PREFIX.match(parse_pragmas(source).get("task", ""))
    return task.group() if task else None
