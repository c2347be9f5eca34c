"""Read the task a file names with a comment line

    # deepeval: task=easy_task_1

The semantic and dynamic passes then look the task up in the suite from the settings
(`builtin` by default) with `deepeval_lsp.diagnostics.tasks.suite.find_task`.
"""

from __future__ import annotations

import re

from deepeval_lsp.diagnostics.pragmas import parse_pragmas

_TASK_ID_PREFIX = re.compile(r"[A-Za-z0-9_.\-]+")


def parse_task_pragma(source: str) -> str | None:
    """The task id named by a `# deepeval: task=ID` comment, or None."""
    task = _TASK_ID_PREFIX.match(parse_pragmas(source).get("task", ""))
    return task.group() if task else None
