"""`deepeval-lsp mcp`: the checkers as Model Context Protocol tools, over stdio (docs/agents.md).

A coding agent checks the model code it writes before showing it: `check_code` (findings, the
model summary, a one-sentence verdict), `check_file`, `fix_code` (verified fixes applied, with a
diff), `model_summary` and `explain` (a diagnostic code's documentation). Every call goes through
one `Checker` whose warm worker pool lasts as long as the server, the checker that `check` and the
language server use: the model is built only in the sandboxed worker, within `--timeout`, and the
sandbox reads only the `--root` folders. `check_file` reads files under those roots alone.

Positions in the tools' results are 1-based lines and columns, as agents and editors show them.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import importlib.resources
import logging
import os
import re
import sys
import threading
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Annotated, Any, Literal, cast

from deepeval_lsp.server.mcp_results import (
    CheckResult,
    ExplainResult,
    FileResult,
    Finding,
    FixResult,
    Model,
    Place,
    SummaryResult,
)
from pydantic import Field

from deepeval_lsp import __version__

if TYPE_CHECKING:
    from deepeval_lsp.diagnostics import Checker, CheckOptions, Diagnostic, Report
    from deepeval_lsp.diagnostics.findings import Range
    from deepeval_lsp.diagnostics.notebook import Notebook
    from mcp.server.mcpserver import MCPServer

log = logging.getLogger(__name__)

# docs/diagnostics.md, shipped in the package as diagnostics/codes.md (a link to it)
DOCS = importlib.resources.files("deepeval_lsp.diagnostics") / "codes.md"
UNTITLED = "untitled.py"  # the name code passed inline is checked under, in the first root
INSTRUCTIONS = (
    "Checks PyTorch and Keras model code for the mistakes that make it fail when it runs "
    "(shape mismatches, wrong APIs, missing imports) by building the model in a sandbox. "
    "Before you show PyTorch/Keras model code, call check_code and apply the verified fixes "
    "(fix_code does it); an error-severity finding means the code fails when it runs."
)

# The tools' arguments, as their JSON schemas describe them to the agent.
Code = Annotated[str, Field(description="the complete Python program (PyTorch or Keras)")]
FrameworkArg = Annotated[
    Literal["auto", "torch", "keras"],
    Field(description="the framework; auto reads it from the imports"),
]
ShapeArg = Annotated[
    list[Annotated[int, Field(gt=0)]] | None,
    Field(
        min_length=1,
        description="the model's default input shape with the batch, e.g. [1, 3, 32, 32] (a "
        "'# deepeval: input=(...)' comment in the code comes first); default: guessed from the "
        "first layer",
    ),
]
TaskArg = Annotated[
    str | None,
    Field(description="a built-in task id to compare with its reference program"),
]


class ToolFailure(Exception):
    """A call the tools refuse, with the one line the agent reads (a tool error)."""


class CheckerTools:
    """The tools' work, without the protocol: one Checker for every call, closed with `close`."""

    def __init__(self, roots: list[str], *, timeout_s: float = 10.0, dynamic: bool = True) -> None:
        from deepeval_lsp.diagnostics import Checker

        self.roots = [os.path.realpath(r) for r in roots]
        self.timeout_s = timeout_s
        self.dynamic = dynamic
        self._start_problem: str | None = None
        self.checker: Checker = Checker(1, read_paths=self.roots, on_start_error=self._start_error)

    def _start_error(self, engine: Any, e: Exception) -> None:
        self._start_problem = f"dynamic checks off: {e}"
        log.warning("the %s engine's worker pool did not start: %s", engine.name, e)

    def warm(self) -> None:
        """Import the frameworks and start the worker pool (seconds), before the first call."""
        from deepeval_lsp.diagnostics.dynamic.engines import DEFAULT
        from deepeval_lsp.server.dynamic import warm_frameworks

        warm_frameworks()
        if self.dynamic:
            self.checker.pool(DEFAULT)

    def close(self) -> None:
        self.checker.close()

    # -- options and inputs ----------------------------------------------------------------

    def options(
        self,
        framework: str = "auto",
        input_shape: list[int] | None = None,
        task: str | None = None,
    ) -> CheckOptions:
        from deepeval_lsp.diagnostics import CheckOptions

        reference = requirement = output_shape = None
        if task is not None:
            from deepeval_lsp.diagnostics.tasks.model import SuiteError
            from deepeval_lsp.diagnostics.tasks.suite import find_task

            try:
                found = find_task(task, "builtin")
            except SuiteError as e:
                raise ToolFailure(str(e)) from None
            reference, requirement = found.reference, found.requirement
            output_shape = found.output_shape
        if input_shape is not None and (not input_shape or any(d <= 0 for d in input_shape)):
            raise ToolFailure(f"input_shape: dimensions must be positive, got {input_shape}")
        return CheckOptions(
            dynamic=self.dynamic,
            framework=framework,
            input_shape=tuple(input_shape) if input_shape else None,
            timeout_ms=int(self.timeout_s * 1000),
            task_id=task,
            suite="builtin",
            reference_source=reference,
            requirement=requirement,
            output_shape=output_shape,
            workspace_root=self.roots[0] if self.roots else None,
        )

    def _untitled(self) -> str:
        return os.path.join(self.roots[0], UNTITLED) if self.roots else UNTITLED

    @staticmethod
    def _sized(code: str) -> str:
        from deepeval_lsp.diagnostics.files import MAX_FILE_BYTES

        size = len(code.encode("utf-8", "surrogatepass"))
        if size > MAX_FILE_BYTES:
            raise ToolFailure(
                f"code too large to check ({size / 1e6:.1f} MB; the limit is "
                f"{MAX_FILE_BYTES / 1e6:.0f} MB)"
            )
        return code

    def allowed(self, path: str) -> str:
        """The real path of `path` (relative to the first root), when it lies under a root."""
        base = self.roots[0] if self.roots else os.getcwd()
        real = os.path.realpath(os.path.join(base, os.path.expanduser(path)))
        for root in self.roots:
            if real == root or real.startswith(root.rstrip(os.sep) + os.sep):
                return real
        roots = ", ".join(self.roots) or "none"
        raise ToolFailure(
            f"{path} is outside the folders this server may read ({roots}); "
            "start it with --root FOLDER to allow another"
        )

    # -- the tools -------------------------------------------------------------------------

    def check_code(
        self,
        code: str,
        framework: str = "auto",
        input_shape: list[int] | None = None,
        task: str | None = None,
    ) -> CheckResult:
        options = self.options(framework, input_shape, task)
        report = self.checker.check(self._sized(code), self._untitled(), options)
        return self.result(report)

    def check_file(self, path: str) -> FileResult:
        from deepeval_lsp.diagnostics import UncheckableFile, read_source
        from deepeval_lsp.diagnostics.notebook import (
            drop_ipython_names,
            is_notebook,
            read_notebook,
        )

        real = self.allowed(path)
        options = self.options()
        notebook = None
        try:
            if is_notebook(real):
                notebook = read_notebook(real)
                source = notebook.program
            else:
                source = read_source(real)
        except UncheckableFile as e:
            raise ToolFailure(f"{path}: {e}") from None
        report = self.checker.check(source, real, options)
        if notebook is not None:
            report = drop_ipython_names(report, notebook)
        return {"path": real, **self.result(report, notebook)}

    def fix_code(
        self,
        code: str,
        framework: str = "auto",
        input_shape: list[int] | None = None,
        task: str | None = None,
    ) -> FixResult:
        options = self.options(framework, input_shape, task)
        path = self._untitled()
        fixed, report, count = self.checker.fix(self._sized(code), path, options)
        diff = "".join(
            difflib.unified_diff(
                code.splitlines(keepends=True),
                fixed.splitlines(keepends=True),
                fromfile=f"a/{UNTITLED}",
                tofile=f"b/{UNTITLED}",
            )
        )
        return {"code": fixed, "fixed": count, "diff": diff, **self.result(report)}

    def model_summary(self, code: str, input_shape: list[int] | None = None) -> SummaryResult:
        from deepeval_lsp.diagnostics.render import render_model_summary

        options = self.options(input_shape=input_shape)
        report = self.checker.check(self._sized(code), self._untitled(), options)
        result = self.result(report)
        return {
            "verdict": result["verdict"],
            "builds": result["builds"],
            "model": result["model"],
            "table": render_model_summary(report.model) if report.model else None,
            "why_not": None if report.model else not_built(report),
        }

    def explain(self, code: str) -> ExplainResult:
        from deepeval_lsp.diagnostics.taxonomy import CODES

        key = code.strip().upper()
        spec = CODES.get(key)
        if spec is None:
            raise ToolFailure(f"unknown diagnostic code {code!r}; the codes are {', '.join(CODES)}")
        return {
            "code": key,
            "severity": str(spec.severity),
            "taxonomy": {
                "dl_error": spec.dl_error,
                "python_error": spec.python_error,
                "root_cause": str(spec.root_cause),
            },
            "documentation": documentation(key),
        }

    # -- results ---------------------------------------------------------------------------

    def result(self, report: Report, notebook: Notebook | None = None) -> CheckResult:
        """What check_code and the others return: the verdict, counts, findings, model."""
        counts = report.counts()
        notes = list(report.notes)
        if self._start_problem and self._start_problem not in notes:
            notes.append(self._start_problem)
        return {
            "verdict": verdict(report),
            "builds": report.executable,
            "errors": counts["error"],
            "warnings": counts["warning"],
            "findings": [finding(d, notebook, report.path) for d in report.diagnostics],
            "model": model_json(report),
            "notes": notes,
            "passes": dict(report.passes),
            "timings_ms": {k: round(v, 1) for k, v in report.timings_ms.items()},
        }


# ------------------------------------------------------------------------ plain results


def _place(rng: Range, notebook: Notebook | None) -> Place:
    out: dict[str, Any] = {}
    if notebook is not None:
        cell, rng = notebook.cell_range(rng)
        out["cell"] = cell + 1
    out.update(
        line=rng.start.line + 1,
        column=rng.start.character + 1,
        end_line=rng.end.line + 1,
        end_column=rng.end.character + 1,
    )
    return out


def finding(d: Diagnostic, notebook: Notebook | None = None, path: str = "") -> Finding:
    """One finding, 1-based, with its taxonomy and fixes (edits included); in `notebook` (the
    file at `path`) its positions are its cells'."""
    return {
        "code": d.code,
        "severity": str(d.severity),
        **_place(d.range, notebook),
        "message": d.message,
        "taxonomy": {
            "dl_error": d.dl_error,
            "python_error": d.python_error,
            "root_cause": d.root_cause,
        },
        "pass": d.source_pass,
        "layer": d.layer,
        "related": [
            {
                "path": r.path,
                "message": r.message,
                **_place(r.range, notebook if r.path == path else None),
            }
            for r in d.related
        ],
        "fixes": [
            {
                "title": f.title,
                "verified": f.verified,
                "applied_by_fix_code": f is d.preferred_fix,
                "edits": [{**_place(e.range, notebook), "new_text": e.new_text} for e in f.edits],
            }
            for f in d.fixes
        ],
    }


def model_json(report: Report) -> Model | None:
    """The model that built: its layers with their shapes and parameters, each at the 1-based
    line where it is constructed (the summary's own JSON, in an agent's terms)."""
    m = report.model
    if m is None:
        return None
    doc = m.to_json()
    doc["layers"] = [
        {
            **{k: v for k, v in layer.to_json().items() if k not in ("range", "line")},
            "line": layer.range.start.line + 1 if layer.range else None,
        }
        for layer in m.layers
    ]
    return cast("Model", doc)


def human_count(n: int) -> str:
    """1234567 → "1.2 M"."""
    for limit, unit in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if n >= limit:
            return f"{n / limit:.1f} {unit}"
    return str(n)


def verdict(report: Report) -> str:
    """One sentence: the first error, or that the model builds (its size and output), or why
    the checker could not decide."""
    from deepeval_lsp.diagnostics.render import format_shape

    if report.error:
        return f"not checked: {report.error}"
    ds = report.diagnostics
    errors = [d for d in ds if str(d.severity) == "error"]
    if errors:
        d = errors[0]
        more = f" (and {len(errors) - 1} more errors)" if len(errors) > 1 else ""
        fix = "; a verified fix is offered" if d.preferred_fix else ""
        return f"fails: line {d.range.start.line + 1}: {d.code} {d.message}{more}{fix}"
    warnings = sum(1 for d in ds if str(d.severity) == "warning")
    tail = f", {warnings} warning{'s' if warnings != 1 else ''}" if warnings else ""
    if report.model is not None:
        m = report.model
        return (
            f"builds: {human_count(m.total_params)} params, "
            f"output {format_shape(m.output_shape, 'unknown')}{tail}"
        )
    undecided = [d for d in ds if d.code.startswith("DL4")]
    if undecided:
        return f"no errors found, but not decided: {undecided[0].code} {undecided[0].message}"
    return f"no errors found{tail}; the model was not built: {not_built(report)}"


def not_built(report: Report) -> str:
    """Why the dynamic pass left no model: its state, without "ran: " / "not run: "."""
    state = report.passes.get("dynamic", "not run")
    return state.removeprefix("ran: ").removeprefix("not run: ")


_DOC_CACHE: dict[str, str] = {}


def documentation(code: str) -> str | None:
    """The section of docs/diagnostics.md about `code` (None where the docs are not shipped)."""
    if not _DOC_CACHE:
        try:
            text = DOCS.read_text(encoding="utf-8")
        except OSError:
            return None
        for part in re.split(r"^## ", text, flags=re.MULTILINE)[1:]:
            head, _, body = part.partition("\n")
            _DOC_CACHE[head.strip()] = f"## {head.strip()}\n{body}".strip()
    return _DOC_CACHE.get(code)


# ------------------------------------------------------------------------ the MCP server


def create_server(tools: CheckerTools) -> MCPServer:
    """The MCP server whose tools call `tools`; it warms the checker when a client connects."""
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError
    from mcp.types import ToolAnnotations

    read_only = ToolAnnotations(read_only_hint=True, open_world_hint=False)

    @contextlib.asynccontextmanager
    async def lifespan(server: MCPServer) -> AsyncIterator[None]:
        # after the transport took standard input and output: the frameworks' import swaps
        # sys.stdin while it runs
        threading.Thread(target=tools.warm, name="deepeval-warm", daemon=True).start()
        try:
            yield
        finally:
            tools.close()

    server = MCPServer(
        "deepeval-lsp",
        version=__version__,
        instructions=INSTRUCTIONS,
        lifespan=lifespan,
        log_level="WARNING",
    )

    def call(fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except ToolFailure as e:
            raise ToolError(str(e)) from None

    @server.tool(annotations=read_only)
    def check_code(
        code: Code,
        framework: FrameworkArg = "auto",
        input_shape: ShapeArg = None,
        task: TaskArg = None,
    ) -> CheckResult:
        """Check PyTorch/Keras model code: the model is built and run forward in a sandbox.
        Returns a one-sentence `verdict` ("builds: 1.2 M params, output (1, 10)" or the first
        error), `findings` (code, severity, 1-based line and column, message, taxonomy, fixes
        with `verified`), and the `model` summary (layers, shapes, parameters) when it builds.
        An error-severity finding means the code fails when it runs."""
        return call(tools.check_code, code, framework, input_shape, task)

    @server.tool(annotations=read_only)
    def check_file(
        path: Annotated[
            str,
            Field(
                description="a .py or .ipynb file under the server's roots (relative to the "
                "first root, or absolute)"
            ),
        ],
    ) -> FileResult:
        """Check a file on disk, as check_code checks code; only files under the folders the
        server was started with (--root) can be read."""
        return call(tools.check_file, path)

    @server.tool(annotations=read_only)
    def fix_code(
        code: Code,
        framework: FrameworkArg = "auto",
        input_shape: ShapeArg = None,
        task: TaskArg = None,
    ) -> FixResult:
        """Apply every verified fix to the code (re-checking after each round) and return the
        fixed `code`, a unified `diff`, how many findings were `fixed`, and the `findings` left
        with the verdict on the fixed code. Nothing is written to disk."""
        return call(tools.fix_code, code, framework, input_shape, task)

    @server.tool(annotations=read_only)
    def model_summary(code: Code, input_shape: ShapeArg = None) -> SummaryResult:
        """Build the model in the sandbox and return its summary: every layer with its input
        and output shapes and parameter count (`model`, and a printable `table`), or why it
        did not build (`why_not`, with the `verdict`)."""
        return call(tools.model_summary, code, input_shape)

    @server.tool(annotations=read_only)
    def explain(
        code: Annotated[str, Field(description="a diagnostic code, e.g. DL301")],
    ) -> ExplainResult:
        """The documentation of a diagnostic code: what it means, its taxonomy, how to fix it."""
        return call(tools.explain, code)

    return server


# ------------------------------------------------------------------------ the command


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--root",
        action="append",
        metavar="DIR",
        help="a folder check_file may read and checked programs may import from (repeatable; "
        "default: the current folder)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="dynamic check time limit per call (default 10)",
    )
    p.add_argument(
        "--no-dynamic",
        action="store_true",
        help="static checks only (do not build the model in the sandbox)",
    )


def run(args: argparse.Namespace) -> int:
    roots = args.root or [os.getcwd()]
    for root in roots:
        if not os.path.isdir(root):
            print(f"deepeval-lsp mcp: error: --root: no such folder: {root}", file=sys.stderr)
            return 2
    if args.timeout <= 0:
        print("deepeval-lsp mcp: error: --timeout must be positive", file=sys.stderr)
        return 2
    tools = CheckerTools(roots, timeout_s=args.timeout, dynamic=not args.no_dynamic)
    try:
        create_server(tools).run("stdio")  # stray output of the frameworks goes to stderr
    finally:
        tools.close()
    return 0
