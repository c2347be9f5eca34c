"""`deepeval-lsp check PATH…`: the checkers in a terminal or CI.

`deepeval-lsp check -` checks the program on standard input (named by `--stdin-filename`, for
the framework, notebook and import rules); with `--fix` the fixed program goes to standard output
and the findings to standard error, as ruff does. The JSON output (`--format json`) follows
docs/check-output.schema.json.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from deepeval_lsp import __version__

if TYPE_CHECKING:
    from deepeval_lsp.diagnostics import Checker, CheckOptions
    from deepeval_lsp.diagnostics.dynamic.engines import Engine
    from deepeval_lsp.diagnostics.findings import Diagnostic, Report
    from deepeval_lsp.diagnostics.notebook import Notebook
STDIN = "-"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="files or folders to check; - reads one program from standard input",
    )
    p.add_argument(
        "--stdin-filename",
        metavar="PATH",
        help="the name of the program read from standard input (-): its notes name it, its "
        "suffix says whether it is a notebook, and its folder is where its imports resolve",
    )
    p.add_argument("--format", choices=("text", "json", "sarif"), default="text")
    p.add_argument(
        "--no-dynamic",
        action="store_true",
        help="static checks only (do not build the model in the sandbox)",
    )
    p.add_argument("--fix", action="store_true", help="apply verified fixes in place")
    p.add_argument("--select", metavar="CODES", help="only these codes or prefixes (DL1,DL301)")
    p.add_argument("--ignore", metavar="CODES", help="leave out these codes or prefixes")
    p.add_argument(
        "--summary",
        action="store_true",
        help="print the model summary (layers, shapes, parameters) of each file",
    )
    p.add_argument(
        "--input-shape", metavar="SHAPE", help="default input shape with batch, e.g. 1,3,32,32"
    )
    p.add_argument("--framework", choices=("auto", "torch", "keras"), default="auto")
    p.add_argument("--task", metavar="ID", help="compare with this task's reference program")
    p.add_argument(
        "--suite",
        metavar="PATH",
        default="builtin",
        help="the suite holding --task or a '# deepeval: task=ID' line: a folder in "
        "the study's layout, or builtin (default)",
    )
    p.add_argument(
        "--no-semantic", action="store_true", help="skip the comparison with the task's reference"
    )
    p.add_argument(
        "--paper-compat",
        action="store_true",
        help="check as the DeepEval study did: Keras programs run on TensorFlow + "
        "tf-keras (Keras 2), imported whole, then dl_model(), summary() and "
        "compile(); the semantic pass reads them the study's way (needs the "
        "`paper` extra; PyTorch files keep the default engine)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="dynamic check time limit per file (default 10)",
    )
    p.add_argument(
        "--project-root",
        metavar="DIR",
        help="the folder the program runs from: its modules import from there as from the "
        "file's own folder and package (default: the current folder, for files under it)",
    )
    p.add_argument("--no-frames", action="store_true", help="text output without code frames")
    p.add_argument("--color", choices=("auto", "always", "never"), default="auto")


class UsageError(Exception):
    pass


def _codes(value: str | None) -> list[str] | None:
    return None if value is None else [x for x in value.replace(" ", ",").split(",") if x]


def _shape(value: str | None) -> tuple[int, ...] | None:
    if not value:
        return None
    try:
        dims = tuple(int(x) for x in value.strip("()[] ").replace("x", ",").split(",") if x.strip())
    except ValueError:
        raise UsageError(
            f"--input-shape: expected integers like 1,3,32,32, got {value!r}"
        ) from None
    if not dims or any(d <= 0 for d in dims):
        raise UsageError(f"--input-shape: dimensions must be positive, got {value!r}")
    return dims


def build_options(args: argparse.Namespace):
    from deepeval_lsp.diagnostics import CheckOptions
    from deepeval_lsp.diagnostics.taxonomy import expand_selection

    try:
        select = expand_selection(_codes(args.select))
        ignore = expand_selection(_codes(args.ignore)) or frozenset()
    except ValueError as e:
        raise UsageError(str(e)) from None
    if args.timeout <= 0:
        raise UsageError("--timeout must be positive")
    from deepeval_lsp.diagnostics.project import default_project_root, too_wide

    if args.project_root is None:
        root = default_project_root()
    elif not os.path.isdir(args.project_root):
        raise UsageError(f"--project-root: no such folder: {args.project_root}")
    elif too_wide(args.project_root):
        raise UsageError(f"--project-root: {args.project_root} is too wide to read as a project")
    else:
        root = os.path.realpath(args.project_root)
    reference = requirement = output_shape = None
    if args.task is not None:
        from deepeval_lsp.diagnostics.tasks.model import SuiteError
        from deepeval_lsp.diagnostics.tasks.suite import find_task

        try:
            task = find_task(args.task, args.suite)
        except SuiteError as e:
            raise UsageError(str(e)) from None
        reference, requirement, output_shape = task.reference, task.requirement, task.output_shape
    return CheckOptions(
        semantic=not args.no_semantic,
        task_id=args.task,
        suite=args.suite,
        reference_source=reference,
        requirement=requirement,
        output_shape=output_shape,
        dynamic=not args.no_dynamic,
        framework=args.framework,
        input_shape=_shape(args.input_shape),
        timeout_ms=int(args.timeout * 1000),
        select=select,
        ignore=ignore,
        paper_compat=args.paper_compat,
        workspace_root=root,
    )


def _stdin_usage(args: argparse.Namespace) -> bool:
    """Whether the program comes from standard input (raises UsageError for a bad mix)."""
    if STDIN not in args.paths:
        if args.stdin_filename is not None:
            raise UsageError("--stdin-filename names the program read from standard input (-)")
        return False
    if len(args.paths) > 1:
        raise UsageError("- (standard input) is checked alone, not with other paths")
    return True


def run(args: argparse.Namespace) -> int:
    try:
        stdin = _stdin_usage(args)
        options = build_options(args)
    except UsageError as e:
        print(f"deepeval-lsp check: error: {e}", file=sys.stderr)
        return 2
    data = _read_stdin_bytes() if stdin else None
    if data is not None and args.fix:
        # standard output carries the fixed program alone: the report goes to standard error
        program = sys.stdout
        with contextlib.redirect_stdout(sys.stderr):
            status, fixed_program = _run(args, options, data)
        program.flush()
        if fixed_program is None:  # not checked: the input goes back as it came
            program.buffer.write(data)
        else:
            program.write(fixed_program)
        program.flush()
        return status
    return _run(args, options, data)[0]


def _run(
    args: argparse.Namespace, options: CheckOptions, stdin: bytes | None
) -> tuple[int, str | None]:
    """Check and print: the exit status, and the text of the program read from standard input
    after its fixes (None when it was not checked, or not read from there)."""
    from deepeval_lsp.diagnostics import UncheckableFile, iter_files
    from deepeval_lsp.diagnostics.checker import MAX_FIX_ROUNDS
    from deepeval_lsp.diagnostics.files import NotRegularFile
    from deepeval_lsp.diagnostics.findings import Report
    from deepeval_lsp.diagnostics.render import render_json, render_sarif, render_summary_line

    if options.paper_compat:
        from deepeval_lsp.diagnostics.dynamic.engines import DEFAULT, PAPER
    if options.paper_compat and options.dynamic:
        reason = PAPER.unavailable()
        if reason:
            print(f"deepeval-lsp check: error: --paper-compat: {reason}", file=sys.stderr)
            return 2, None
    # the files in order, with the FIFOs, sockets and devices met in folders: (path, why skipped)
    order: list[tuple[str, str | None]] = []
    if stdin is not None:
        order.append((args.stdin_filename or STDIN, None))
        # the sandbox reads where the named program's imports resolve; nothing without a name
        readable = [args.stdin_filename] if args.stdin_filename else []
    else:
        for path in iter_files(
            args.paths, on_skip=lambda p, why: order.append((p, why)), notebooks=True
        ):
            order.append((path, None))
        readable = [p for p, skipped in order if skipped is None and Path(p).is_file()]
    checker = _checker(readable, options.workspace_root)
    checker.warm(options)  # the expected engine warms while the first file's static pass runs
    text = args.format == "text"
    colour = args.color == "always" or (args.color == "auto" and sys.stdout.isatty())
    told = False
    reports: list[Report] = []
    notebooks: dict[str, Notebook] = {}  # the notebooks checked, for their cells' positions
    fixed = 0
    fixed_program: str | None = None
    try:
        for path, skipped in order:
            try:
                if skipped:
                    raise NotRegularFile(skipped)
                source, notebook = _read(path) if stdin is None else _parse_stdin(stdin, path)
            except NotRegularFile as e:
                # not source: a note, and the exit status is the other files' alone
                print(f"{path}: {e}, skipped", file=sys.stdout if text else sys.stderr)
                continue
            except UncheckableFile as e:
                reports.append(Report(path=path, error=str(e)))
                if text:
                    _print_file(reports[-1], "", args, colour)
                continue
            if not told and options.paper_compat and checker.engine_for(source, options) is DEFAULT:
                told = True
                print(
                    "deepeval-lsp check: --paper-compat applies to Keras programs only; "
                    "others are checked with the default engine",
                    file=sys.stderr,
                )
            report = _check(checker, source, path, options, notebook)
            if args.fix:
                original = source
                for _ in range(MAX_FIX_ROUNDS):
                    new_source, notebook, count = _fix_round(source, notebook, report.diagnostics)
                    if new_source == source:
                        break
                    fixed += count
                    source = new_source
                    report = _check(checker, source, path, options, notebook)
                if source != original and stdin is None:
                    _write(path, notebook.text if notebook else source)
            if notebook is not None:
                notebooks[path] = notebook
            if stdin is not None:
                fixed_program = notebook.text if notebook else source
            reports.append(report)
            if text:  # each file's findings as soon as it is checked
                _print_file(report, source, args, colour, notebooks)
    finally:
        checker.close()

    if args.format == "json":
        print(render_json(reports, notebooks))
    elif args.format == "sarif":
        print(render_sarif(reports, __version__, notebooks))
    else:  # each file's notes came with its findings
        print(render_summary_line(reports, fixed=fixed))
    return (1 if any(r.has_errors for r in reports) else 0), fixed_program


def _read_stdin_bytes() -> bytes:
    """All of standard input (with --fix, a program too large to check goes back whole)."""
    return sys.stdin.buffer.read()


def _parse_stdin(data: bytes, path: str) -> tuple[str, Notebook | None]:
    """The program read from standard input: its text, or a notebook's program when `path`
    names a notebook (UncheckableFile when it is too large, binary or not a notebook)."""
    from deepeval_lsp.diagnostics.files import decode_source
    from deepeval_lsp.diagnostics.notebook import (
        MAX_NOTEBOOK_BYTES,
        checkable_notebook,
        is_notebook,
    )

    if path != STDIN and is_notebook(path):
        notebook = checkable_notebook(decode_source(data, MAX_NOTEBOOK_BYTES), path)
        return notebook.program, notebook
    return decode_source(data), None


def _read(path: str) -> tuple[str, Notebook | None]:
    """The program to check in a file: a Python file's source, or the program of a notebook's
    code cells with the notebook (UncheckableFile when it cannot be read)."""
    from deepeval_lsp.diagnostics import read_source
    from deepeval_lsp.diagnostics.notebook import is_notebook, read_notebook

    if is_notebook(path):
        notebook = read_notebook(path)
        return notebook.program, notebook
    return read_source(path), None


def _check(
    checker: Checker, source: str, path: str, options: CheckOptions, notebook: Notebook | None
) -> Report:
    """One check of a file's program; in a notebook, the names IPython defines are defined and
    a cell that does not parse leaves the others checked."""
    if notebook is None:
        return checker.check(source, path, options)
    from deepeval_lsp.diagnostics.notebook import checked_options, notebook_report

    report = checker.check(notebook.checked_program, path, checked_options(notebook, options))
    return notebook_report(report, notebook, options)


def _fix_round(
    source: str, notebook: Notebook | None, diagnostics: list[Diagnostic]
) -> tuple[str, Notebook | None, int]:
    """The program after one round of verified fixes, the notebook it is in (its fixed cells
    edited, the rest of the file as it was), and how many findings the round fixed."""
    from deepeval_lsp.diagnostics import apply_fixes
    from deepeval_lsp.diagnostics.fixes import apply_notebook_fixes

    if notebook is None:
        new_source, chosen = apply_fixes(source, diagnostics)
        return new_source, None, len(chosen.fixed)
    notebook, chosen = apply_notebook_fixes(notebook, diagnostics)
    return notebook.program, notebook, len(chosen.fixed)


def _print_file(
    report: Report,
    source: str,
    args: argparse.Namespace,
    colour: bool,
    notebooks: dict[str, Notebook] | None = None,
) -> None:
    """One file's part of the text output: its findings, semantic scores and model summary."""
    from deepeval_lsp.diagnostics.render import render_model_summary, render_text

    text = render_text(
        [report],
        {report.path: source},
        colour=colour,
        frames=not args.no_frames,
        notebooks=notebooks,
    )
    if text:
        print(text)
    r = report
    if r.semantic and "api_set_f1" in r.semantic:
        task = f" (task {r.semantic['task']})" if r.semantic.get("task") else ""
        print(
            f"{r.path}: semantic{task}: API set F1 {r.semantic['api_set_f1']:.1f}, "
            f"API sequence F1 {r.semantic['api_seq_f1']:.1f}"
        )
    if args.summary:
        if r.model:
            print(f"{r.path}: model summary\n{render_model_summary(r.model)}")
        elif not r.error:
            print(f"{r.path}: no model summary ({r.passes.get('dynamic', 'not run')})")
    sys.stdout.flush()


def _write(path: str, source: str) -> None:
    tmp = Path(path).with_suffix(Path(path).suffix + ".deepeval-tmp")
    tmp.write_text(source, encoding="utf-8")
    os.replace(tmp, path)


def _checker(files: list[str], project_root: str | None) -> Checker:
    """The session's checker: one warm worker per engine, started when first wanted. The
    sandbox lets the checked programs read the folders their imports resolve from (their own,
    their package's root, the project root: project.locate) and nothing else of the user's."""
    from deepeval_lsp.diagnostics import Checker
    from deepeval_lsp.diagnostics.project import read_roots

    def start_error(engine: Engine, e: Exception) -> None:
        print(f"deepeval-lsp check: dynamic checks off: {e}", file=sys.stderr)

    folders = read_roots([f for f in files if Path(f).is_file()], project_root)
    return Checker(1, read_paths=folders, on_start_error=start_error)
