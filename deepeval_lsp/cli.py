"""The `deepeval-lsp` command: a thin dispatcher that imports only the part a subcommand needs.

Each subcommand lives in a module exposing `add_arguments(parser)` and `run(args) -> int`;
`deepeval-lsp serve` therefore starts without loading the benchmark, and `check` without the
language server.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from deepeval_lsp import __version__

# name -> (module, one-line description)
COMMANDS: dict[str, tuple[str, str]] = {
    "check": ("deepeval_lsp.check_cli", "check PyTorch/Keras files and print diagnostics"),
    "serve": ("deepeval_lsp.server.cli", "run the language server (stdio by default)"),
    "mcp": ("deepeval_lsp.server.mcp_server", "serve the checkers to coding agents (MCP, stdio)"),
    "bench": ("deepeval_lsp.benchmark.cli.bench", "prompt models on a task suite and score them"),
    "runs": ("deepeval_lsp.benchmark.cli.runs", "list the runs in a benchmark database"),
    "report": ("deepeval_lsp.benchmark.cli.report", "report a benchmark database's results"),
    "selftest": (
        "deepeval_lsp.benchmark.cli.selftest",
        "inject known mistakes into the built-in references and score the checkers",
    ),
    "reproduce": (
        "deepeval_lsp.benchmark.cli.reproduce",
        "score the DeepEval study's programs beside its published results",
    ),
}


def _top_parser() -> argparse.ArgumentParser:
    lines = "\n".join(f"  {name:<10} {desc}" for name, (_, desc) in COMMANDS.items())
    p = argparse.ArgumentParser(
        prog="deepeval-lsp",
        description="Catch the mistakes LLMs make in deep-learning code.",
        epilog=f"commands:\n{lines}\n\nRun `deepeval-lsp COMMAND --help` for a command's options.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"deepeval-lsp {__version__}")
    p.add_argument("command", nargs="?", help=argparse.SUPPRESS)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    top = _top_parser()
    if not argv or argv[0].startswith("-"):
        top.parse_args(argv)  # handles --help / --version and exits
        top.print_usage(sys.stderr)
        print("deepeval-lsp: error: a command is required", file=sys.stderr)
        return 2
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        top.print_usage(sys.stderr)
        known = ", ".join(COMMANDS)
        print(
            f"deepeval-lsp: error: unknown command {name!r} (choose from {known})", file=sys.stderr
        )
        return 2
    module_name, desc = COMMANDS[name]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if e.name and module_name.startswith(e.name):
            print(f"deepeval-lsp: error: {name!r} is not available in this build", file=sys.stderr)
            return 2
        raise
    parser = argparse.ArgumentParser(prog=f"deepeval-lsp {name}", description=desc)
    module.add_arguments(parser)
    args = parser.parse_args(rest)
    try:
        return int(module.run(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader of the output went away (`deepeval-lsp check . | head`): stop quietly, and
        # keep Python's exit-time flush from writing to the closed pipe again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
