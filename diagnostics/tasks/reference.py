"""Read the task a file names with a comment line

    # deepeval: task=easy_task_1

The semantic and dynamic passes then look the task up in the suite from the settings
(`builtin` by default) with `deepeval_lsp.diagnostics.tasks.suite.find_task`.
"""

from __future__ import annotations

import re

_PRAGMA = re.compile(r"^\s*#\s*deepeval\s*:(?P<body>.*)$", re.MULTILINE)
_TASK = re.compile(r"(?:^|[\s,;])task\s*=\s*(?P<id>[A-Za-z0-9_.\-]+)")


def parse_task_pragma(source: str) -> str | None:
    """The task id named by a `# deepeval: task=ID` comment line, or None."""
    for m in _PRAGMA.finditer(source):
        task = _TASK.search(m.group("body"))
        if task:
            return task.group("id")
    return None
