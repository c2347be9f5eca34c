#!/usr/bin/env bash
# Sets up deepeval-lsp on a fresh machine: a virtual environment in .venv with the CPU build of
# torch 2.13.0, Keras 3 and the test tools, the package installed in editable mode, and the
# study's pylint 2.16 beside the installed pylint.
# With --tests it also installs Ray (the `ray` extra: the tests of `bench --executor ray` start
# local clusters) and what the real-editor tests need (scripts/setup-editors.sh).
# Idempotent: a second run only checks that everything is there.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
say() { printf 'install: %s\n' "$*"; }

PYTHON="${PYTHON:-python3}"
if [[ ! -x .venv/bin/python ]]; then
  say "creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi
# The CPU build of torch is pinned here (pyproject keeps a range for users): any other version
# pulls a multi-gigabyte CUDA build.
say "installing torch==2.13.0 (CPU) and deepeval-lsp[keras,dev,paper]"
.venv/bin/python -m pip install -q --disable-pip-version-check \
  "torch==2.13.0" -e ".[keras,dev,paper]" 2>&1 | grep -v "^WARNING: Location" || true
KERAS_BACKEND=torch .venv/bin/python -c "import torch, keras, deepeval_lsp" \
  || { say "the installation is incomplete" >&2; exit 1; }
# The study scored with pylint 2.16, which flags more than today's pylint: it goes beside the
# installed one, where the pylint score looks for it first (benchmark/pylint_score.py).
if [[ ! -d .venv/pylint-2.16/pylint ]]; then
  say "installing the study's pylint 2.16.4 into .venv/pylint-2.16"
  .venv/bin/python -m pip install -q --disable-pip-version-check --target .venv/pylint-2.16 \
    "pylint==2.16.4" 2>&1 | grep -v "^WARNING: Location" || true
fi
PYTHONPATH=.venv/pylint-2.16 .venv/bin/python -c "import pylint; assert pylint.__version__ == '2.16.4'" \
  || { say "pylint 2.16.4 did not install into .venv/pylint-2.16" >&2; exit 1; }

if [[ "${1:-}" == "--tests" ]]; then
  say "installing deepeval-lsp[ray] for the Ray executor's tests"
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[ray]" 2>&1 \
    | grep -v "^WARNING: Location" || true
  .venv/bin/python -c "import ray" || { say "ray did not install" >&2; exit 1; }
  bash scripts/setup-editors.sh
fi
say "ready: .venv/bin/deepeval-lsp"
