"""The study's static-quality score, computed with pylint in-process (`--static-score pylint`).

score = max(0, 10 − 10·(5·error + warning + refactor + convention) / statements), and 0 when
pylint reports any fatal message; duplicate-code is disabled, and the import errors pylint
raises on `tensorflow.keras` imports (a known false positive the study discounted) are not
counted (nor, where TensorFlow is not installed, on any tensorflow import). The score is over
pylint's statement count, as pylint's own evaluation is. pylint runs in this process (a warm
run costs tens of milliseconds, the CLI seconds), behind a lock because its caches are not
thread-safe. pylint is an optional dependency.
"""

from __future__ import annotations

import os
import tempfile
import threading
from dataclasses import dataclass, field

_LOCK = threading.Lock()
# import-error / no-name-in-module on tensorflow imports: the study discounted these on
# tensorflow.keras, and where TensorFlow is not installed every tensorflow import raises them
_TF_KERAS_FALSE_POSITIVES = ("E0401", "E0611")


@dataclass
class PylintCounts:
    convention: int = 0
    refactor: int = 0
    warning: int = 0
    error: int = 0
    fatal: int = 0
    statements: int = 0
    symbols: list[str] = field(default_factory=list)

    @property
    def score(self) -> float:
        if self.fatal:
            return 0.0
        if not self.statements:
            return 0.0
        penalty = 5 * self.error + self.warning + self.refactor + self.convention
        return max(0.0, 10.0 - 10.0 * penalty / self.statements)


def pylint_counts(code: str) -> PylintCounts | None:
    """pylint's messages on `code` by type; None when pylint is not installed."""
    try:
        from pylint.lint import Run
        from pylint.reporters import CollectingReporter
    except ImportError:
        return None
    counts = PylintCounts()
    with _LOCK, tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "generated_code.py")
        with open(path, "w", encoding="utf-8") as f:
            f.write(code)
        reporter = CollectingReporter()
        try:
            result = Run([path, "--disable=duplicate-code", "--persistent=n",
                          "--jobs=1", "--score=y"], reporter=reporter, exit=False)
        except Exception:  # pylint itself failing on odd input is a fatal, as in the CLI
            counts.fatal = 1
            return counts
        stats = result.linter.stats
        counts.statements = int(getattr(stats, "statement", 0) or 0)
        for m in reporter.messages:
            if m.msg_id in _TF_KERAS_FALSE_POSITIVES and "tensorflow" in m.msg:
                continue
            kind = m.category
            if hasattr(counts, kind) and kind != "statements":
                setattr(counts, kind, getattr(counts, kind) + 1)
            counts.symbols.append(m.symbol)
    return counts


def pylint_score(code: str) -> float | None:
    """The study's score of `code` (0–10); None when pylint is not installed."""
    counts = pylint_counts(code)
    return None if counts is None else counts.score
