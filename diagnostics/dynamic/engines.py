"""The engines a worker pool can serve, and what a pool offers its callers.

An `Engine` says what a pool's zygotes prepare and what each check runs in their children:
`DEFAULT` builds the model on the meta device (PyTorch, and Keras 3 on torch); `PAPER` runs a
Keras program as the DeepEval study did, on TensorFlow + tf-keras (diagnostics/paper/engine.py,
the `paper` extra). `Pool` is the protocol of a pool (WorkerPool, or a wrapper of one that adds
cancellation), used wherever a pool is passed around.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol

from deepeval_lsp.diagnostics.paper import settings as paper_engine
from deepeval_lsp.diagnostics.sandbox.limits import SandboxLimits

if TYPE_CHECKING:
    from deepeval_lsp.diagnostics.dynamic.worker_pool import CancelToken


class EngineUnavailable(RuntimeError):
    """The engine cannot run here (for the paper engine: TensorFlow or tf-keras is missing)."""


@dataclass(frozen=True)
class Engine:
    """What a pool of this engine serves."""

    name: str
    job: str  # "module:function" that each check runs in the sandboxed child
    # The zygote's warm-up; the zygote reads it as DEEPEVAL_ENGINE ("paper" or the default's).
    warm_up: str
    # Added to the zygote's environment before it imports anything.
    env: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}), compare=False)
    # The children's rlimits unless a pool is given others.
    limits: SandboxLimits = field(default_factory=SandboxLimits)
    # "module:function" returning why the engine cannot run here, or None; None: always runs.
    requires: str | None = None

    def unavailable(self) -> str | None:
        """The one-line reason this engine cannot run here, or None when it can."""
        if self.requires is None:
            return None
        module, _, function = self.requires.partition(":")
        return getattr(importlib.import_module(module), function)()

    def zygote_env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """The environment this engine's zygote is started with, `extra` added."""
        return {**self.env, **(extra or {}), "DEEPEVAL_ENGINE": self.warm_up}


DEFAULT = Engine(
    name="default",
    job="deepeval_lsp.diagnostics.dynamic.child.job:run_job",
    warm_up="default",
)
PAPER = Engine(
    name="paper",
    job=paper_engine.JOB,
    warm_up="paper",
    env=MappingProxyType(dict(paper_engine.ENV)),
    limits=paper_engine.LIMITS,
    requires="deepeval_lsp.diagnostics.paper.engine:available",
)
ENGINES: Mapping[str, Engine] = MappingProxyType({e.name: e for e in (DEFAULT, PAPER)})


class Pool(Protocol):
    """Warm sandboxed workers of one engine (WorkerPool is the one that owns processes)."""

    @property
    def engine(self) -> Engine: ...

    def run(
        self,
        func: str,
        payload: dict[str, Any],
        *,
        timeout_s: float,
        cancel: CancelToken | None = None,
    ) -> dict[str, Any]:
        """Run `func` ("module:function") on `payload` in a sandboxed child; its result dict or
        the pool's own outcome ({"status": "timeout" | "crashed" | "cancelled" | …})."""
        ...

    def close(self) -> None:
        """Stop the pool's processes (idempotent)."""
        ...
