"""The DeepEval study's static-quality score: pylint's messages per file, scored the study's way.

score = max(0, 10 − 10·(5·error + warning + refactor + convention) / statements), 0 when pylint
reports a fatal message (the study's README says "lines": it is pylint's statement count, which
reproduces its published scores); duplicate-code disabled; the errors pylint raises on
`tensorflow.keras` (tensorflow builds that module lazily, so pylint cannot see it: import-error,
no-name-in-module, and no-member on `tf.keras`) are a false positive the study discounted, and
are not counted. The study ran pylint 2.16. Later releases flag less (pylint 3 stopped reporting
names such as `x` as invalid-name, the study's most common convention message), so another
pylint can be used beside the installed one: `pylint_path` (or $DEEPEVAL_PYLINT_PATH) names a
directory holding it, e.g. one made by `pip install --target DIR pylint==2.16.4`. Without
either, the study's pylint is used where scripts/install.sh put it (`STUDY_PYLINT_DIR`,
pylint-2.16 in the environment's prefix), else the installed pylint.

pylint runs in a child process over many files at once: its start-up and its reading of the
installed frameworks cost seconds once, then about a tenth of a second per file. pylint imports
nothing from the files it lints.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field

KINDS = ("convention", "refactor", "warning", "error", "fatal")
ENV_PATH = "DEEPEVAL_PYLINT_PATH"
STUDY_PYLINT_DIR = os.path.join(sys.prefix, "pylint-2.16")
# import-error, no-name-in-module and no-member on tensorflow.keras ("Unable to import
# 'tensorflow.keras.layers'", "No name 'keras' in module 'tensorflow'", "Module 'tensorflow' has
# no 'keras' member"): discounted, as in the study
_FALSE_POSITIVES = ("E0401", "E0611", "E1101")

# Runs in the child: lint the files named on stdin (one per line), print one JSON line per file.
_DRIVER = r"""
import json, sys
from pylint import __version__
from pylint.lint import Run
from pylint.reporters import CollectingReporter
paths = [p for p in sys.stdin.read().splitlines() if p]
rep = CollectingReporter()
try:
    res = Run(["--disable=duplicate-code", "--persistent=n", "--jobs=1", "--score=n",
               "--exit-zero", *paths], reporter=rep, exit=False)
    by_module = res.linter.stats.by_module
except Exception as e:
    print(json.dumps({"error": f"{type(e).__name__}: {e}"}))
    sys.exit(0)
msgs = {}
for m in rep.messages:
    msgs.setdefault(m.abspath, []).append([m.msg_id, m.symbol, m.category, m.msg])
out = {"version": __version__}
stats = {}
for mod, st in by_module.items():
    stats[mod] = int(st["statement"] if isinstance(st, dict) else getattr(st, "statement", 0))
out["statements"] = stats
out["messages"] = msgs
print(json.dumps(out))
"""


@dataclass
class PylintResult:
    """pylint's messages on one file, by type, and the study's score of it."""

    path: str
    convention: int = 0
    refactor: int = 0
    warning: int = 0
    error: int = 0
    fatal: int = 0
    statements: int = 0
    symbols: list[str] = field(default_factory=list)
    version: str = ""

    @property
    def score(self) -> float:
        if self.fatal or not self.statements:
            return 0.0
        penalty = 5 * self.error + self.warning + self.refactor + self.convention
        return max(0.0, 10.0 - 10.0 * penalty / self.statements)

    def to_json(self) -> dict[str, object]:
        return {**asdict(self), "score": round(self.score, 4)}


class PylintUnavailable(RuntimeError):
    """pylint cannot run (not installed, or the given pylint_path holds none)."""


def _env(pylint_path: str | None) -> dict[str, str]:
    env = dict(os.environ)
    path = pylint_path or os.environ.get(ENV_PATH)
    if not path and os.path.isdir(os.path.join(STUDY_PYLINT_DIR, "pylint")):
        path = STUDY_PYLINT_DIR
    if path:
        # absolute: pylint runs in a temporary working directory
        path = os.path.abspath(os.path.expanduser(path))
        if not os.path.isdir(os.path.join(path, "pylint")):
            raise PylintUnavailable(f"no pylint in {path}")
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [path, env.get("PYTHONPATH")]))
    return env


def pylint_version(pylint_path: str | None = None) -> str:
    """The version of the pylint that `pylint_files` would run."""
    proc = subprocess.run(
        [sys.executable, "-c", "import pylint; print(pylint.__version__)"],
        env=_env(pylint_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    if proc.returncode:
        raise PylintUnavailable("pylint is not installed: pip install pylint")
    return proc.stdout.strip()


def pylint_files(
    paths: Iterable[str],
    *,
    pylint_path: str | None = None,
    sources: Mapping[str, str] | None = None,
    timeout_s: float = 1800,
) -> dict[str, PylintResult]:
    """Lint `paths` in one pylint child process; a result for every path (by the path given).
    `sources` gives, by path, a text to lint in place of the file's.

    pylint keys its statistics by module name, and the study's programs share names
    (generated_code_1.py in every task), so each file is linted under a unique name of its own.
    """
    paths = list(paths)
    if not paths:
        return {}
    env = _env(pylint_path)
    with tempfile.TemporaryDirectory(prefix="deepeval-pylint-") as tmp:
        copies = []
        for i, p in enumerate(paths):
            copy = os.path.join(tmp, f"program_{i:05d}.py")
            if sources is not None and p in sources:
                with open(copy, "w", encoding="utf-8") as dst:
                    dst.write(sources[p])
            else:
                with open(p, "rb") as src, open(copy, "wb") as dst:
                    dst.write(src.read())
            copies.append(copy)
        proc = subprocess.run(
            [sys.executable, "-c", _DRIVER],
            input="\n".join(copies),
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            cwd=tmp,
        )
    lines = [x for x in proc.stdout.splitlines() if x.startswith("{")]
    if proc.returncode or not lines:
        if "No module named 'pylint'" in proc.stderr:
            raise PylintUnavailable("pylint is not installed: pip install pylint")
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise PylintUnavailable(f"pylint failed: {tail}")
    data = json.loads(lines[-1])
    if "error" in data:
        raise PylintUnavailable(f"pylint failed: {data['error']}")
    out = {}
    for p, copy in zip(paths, copies, strict=True):
        r = PylintResult(p, version=data["version"])
        for msg_id, symbol, category, text in data["messages"].get(copy, []):
            if msg_id in _FALSE_POSITIVES and _tf_keras_false_positive(msg_id, text):
                continue
            if category in KINDS:
                setattr(r, category, getattr(r, category) + 1)
            r.symbols.append(symbol)
        r.statements = int(data["statements"].get(os.path.splitext(os.path.basename(copy))[0], 0))
        out[p] = r
    return out


def _tf_keras_false_positive(msg_id: str, text: str) -> bool:
    if msg_id == "E1101":
        return "'tensorflow' has no 'keras' member" in text
    return "tensorflow.keras" in text or "'keras' in module 'tensorflow'" in text


def pylint_source(source: str, *, pylint_path: str | None = None) -> PylintResult:
    """Lint one program given as text (written to a temporary file)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "generated_code.py")
        with open(path, "w", encoding="utf-8") as f:
            f.write(source)
        return pylint_files([path], pylint_path=pylint_path)[path]
