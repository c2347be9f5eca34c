"""`deepeval-lsp reproduce`: score the DeepEval study's programs and print ours beside the study's.

    deepeval-lsp reproduce --study PATH [--responses PATH] [--models M …] [--tasks T …]
        [--engine default|paper|both] [--format table|json|markdown] [--workers 2]
        [--timeout 30] [--pylint-path DIR] [--skip pylint|semantic|executability]
        [--out FILE] [--verdicts FILE]

PATH is a clone of the study's repository with its published tables (paper_results/), e.g.
../shared/deepeval. Executability per model × prompting for each engine chosen, the taxonomy
shares of the failures per model, the pylint score and the API-set / API-sequence F1, each next
to the study's figure and the difference.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from deepeval_lsp.diagnostics.taxonomy import STUDY_DL_ERRORS

FORMATS = ("table", "json", "markdown")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--study",
        required=True,
        metavar="PATH",
        help="the study's folder (holding DeepEval/ and paper_results/)",
    )
    parser.add_argument(
        "--responses",
        metavar="PATH",
        help="the programs (default: STUDY/DeepEval/response/DeepEval)",
    )
    parser.add_argument(
        "--models",
        nargs="+",
        metavar="MODEL",
        help="models to score (default: every model in the responses folder)",
    )
    parser.add_argument(
        "--tasks",
        nargs="+",
        metavar="TASK",
        help="only these tasks, e.g. easy_task_1 (default: all)",
    )
    parser.add_argument(
        "--engine",
        choices=("default", "paper", "both"),
        default="both",
        help="executability engine: Keras 3 on torch (default), TensorFlow + "
        "tf-keras as in the study (paper), or both side by side "
        "(default: both; paper needs the `paper` extra)",
    )
    parser.add_argument("--format", choices=FORMATS, default="table", help="(default: table)")
    parser.add_argument(
        "--workers", type=int, default=2, help="warm workers per engine (default: 2)"
    )
    parser.add_argument(
        "--timeout", type=float, default=30.0, metavar="S", help="seconds per program (default: 30)"
    )
    parser.add_argument(
        "--pylint-path",
        metavar="DIR",
        help="a directory holding the pylint to use, e.g. made by `pip install "
        "--target DIR pylint==2.16.4` (the study's; default: "
        "$DEEPEVAL_PYLINT_PATH, else the study's pylint where "
        "scripts/install.sh put it, else the installed pylint)",
    )
    parser.add_argument(
        "--skip",
        nargs="+",
        default=[],
        choices=("executability", "pylint", "semantic"),
        help="dimensions not to score",
    )
    parser.add_argument("--out", metavar="FILE", help="write there instead of stdout")
    parser.add_argument(
        "--verdicts",
        metavar="FILE",
        help="also write every program's verdict per engine (JSON lines)",
    )


def run(args: argparse.Namespace) -> int:
    from deepeval_lsp.benchmark.study.reproduce import (
        DIMENSIONS,
        Study,
        StudyDataError,
        compare,
        score,
    )
    from deepeval_lsp.diagnostics.dynamic.engines import ENGINES, PAPER, EngineUnavailable

    def fail(message: str) -> int:
        print(f"deepeval-lsp reproduce: error: {message}", file=sys.stderr)
        return 2

    if args.workers < 1:
        return fail(f"--workers must be at least 1, not {args.workers}")
    if not args.timeout > 0:
        return fail(f"--timeout must be positive, not {args.timeout:g}")
    engines = list(ENGINES.values()) if args.engine == "both" else [ENGINES[args.engine]]
    dimensions = [d for d in DIMENSIONS if d not in args.skip]
    if PAPER in engines and "executability" in dimensions:
        reason = PAPER.unavailable()
        if reason and args.engine == "paper":
            return fail(reason)
        if reason:
            engines.remove(PAPER)
            print(f"deepeval-lsp reproduce: {reason}; default engine only", file=sys.stderr)
    try:
        study = Study.locate(args.study, args.responses)
        programs = study.programs(args.models or study.models(), args.tasks)
    except StudyDataError as e:
        return fail(str(e))
    if not programs:
        return fail("no programs matched (check --models and --tasks)")
    print(
        f"scoring {len(programs)} programs ({', '.join(dimensions)}; engines: "
        f"{', '.join(e.name for e in engines)}) …",
        file=sys.stderr,
    )
    try:
        results = score(
            study,
            programs,
            engines=engines,
            dimensions=dimensions,
            workers=args.workers,
            timeout_s=args.timeout,
            pylint_path=args.pylint_path,
            progress=lambda m: print(f"… {m}", file=sys.stderr),
        )
        data = compare(study, results)
    except (StudyDataError, EngineUnavailable) as e:
        return fail(str(e))
    if args.verdicts:
        write_verdicts(args.verdicts, results)
    text = {"table": render_table, "json": render_json, "markdown": render_markdown}[args.format](
        data
    )
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


def write_verdicts(path: str, results: Any) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for engine, verdicts in results.verdicts.items():
            for p in results.programs:
                v = verdicts.get(p.path)
                if v is None:
                    continue
                f.write(
                    json.dumps(
                        {
                            "engine": engine,
                            "model": p.model,
                            "prompting": p.prompting,
                            "task": p.task,
                            "path": str(p.path),
                            "executable": v.executable,
                            "dl_error": v.dl_error,
                            "python_error": v.python_error,
                            "detail": (v.detail or "")[:300],
                        }
                    )
                    + "\n"
                )


# ---------------------------------------------------------------- rendering


def _num(x: float | None, fmt: str = ".1f") -> str:
    return "–" if x is None else format(x, fmt)


def _diff(ours: float | None, theirs: float | None) -> str:
    return "–" if ours is None or theirs is None else f"{ours - theirs:+.1f}"


def _tables(data: dict[str, Any]) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, header, rows) for every table of the report."""
    out = []
    rows = data["rows"]
    engines = data["engines"]
    if engines:
        header = ["model", "prompting", "valid"]
        for e in engines:
            header += [f"{e} %", "Δ"]
        header += ["study %"]
        body = []
        for r in rows:
            line = [r["model"], r["prompting"], str(r["valid"])]
            for e in engines:
                line += [
                    _num(r.get(f"{e}_executability")),
                    _diff(r.get(f"{e}_executability"), r["study_executability"]),
                ]
            line.append(_num(r["study_executability"]))
            body.append(line)
        out.append(("Executability (% of non-empty programs)", header, body))
        cats = [*STUDY_DL_ERRORS[:4], "Other"]  # the shares the study's table reports
        short = ["shape mismatch", "missing import", "arg value", "arg type", "other"]
        header = ["model", "source", "failures", *short]
        body = []
        for t in data["taxonomy"]:
            for src in [*engines, "study"]:
                sh = t.get(src)
                if sh is None:
                    continue
                n = t.get(f"{src}_failures")
                body.append(
                    [t["model"], src, "–" if n is None else str(n), *[_num(sh[c]) for c in cats]]
                )
        out.append(("Failures by DL error (% of the model's failures)", header, body))
    if any("pylint_score" in r for r in rows):
        header = ["model", "prompting", "score", "study", "Δ", "C/W/E/R/F", "study C/W/E/R/F"]
        body = []
        for r in rows:
            c, s = r.get("pylint_counts") or {}, r.get("study_pylint_counts") or {}
            fmt = "/".join
            body.append(
                [
                    r["model"],
                    r["prompting"],
                    _num(r.get("pylint_score"), ".2f"),
                    _num(r.get("study_pylint_score"), ".2f"),
                    _diff(r.get("pylint_score"), r.get("study_pylint_score")),
                    fmt(
                        str(c.get(k, 0))
                        for k in ("convention", "warning", "error", "refactor", "fatal")
                    ),
                    fmt(
                        str(s.get(k, 0))
                        for k in ("convention", "warning", "error", "refactor", "fatal")
                    ),
                ]
            )
        version = data.get("pylint_version") or "?"
        out.append((f"pylint score (0–10; pylint {version})", header, body))
    if any("api_set_f1" in r for r in rows):
        header = ["model", "prompting", "set F1", "study", "Δ", "seq F1", "study", "Δ"]
        body = []
        for r in rows:
            body.append(
                [
                    r["model"],
                    r["prompting"],
                    _num(r.get("api_set_f1")),
                    _num(r.get("study_api_set_f1")),
                    _diff(r.get("api_set_f1"), r.get("study_api_set_f1")),
                    _num(r.get("api_seq_f1")),
                    _num(r.get("study_api_seq_f1")),
                    _diff(r.get("api_seq_f1"), r.get("study_api_seq_f1")),
                ]
            )
        out.append(("Semantic similarity (%, mean over tasks)", header, body))
    return out


def _footer(data: dict[str, Any]) -> list[str]:
    secs = ", ".join(f"{k} {v:.0f} s" for k, v in data["seconds"].items())
    lines = [f"{data['programs']} programs, {data['tasks']} tasks; time: {secs}"]
    lines += data["notes"]
    return lines


def render_table(data: dict[str, Any]) -> str:
    parts = []
    for title, header, body in _tables(data):
        widths = [max(len(x) for x in col) for col in zip(header, *body, strict=True)]
        parts.append(title)
        for i, line in enumerate([header, *body]):
            cells = [
                c.ljust(w) if j < 2 else c.rjust(w)
                for j, (c, w) in enumerate(zip(line, widths, strict=True))
            ]
            parts.append("  ".join(cells).rstrip())
            if i == 0:
                parts.append("  ".join("-" * w for w in widths))
        parts.append("")
    parts += _footer(data)
    return "\n".join(parts) + "\n"


def render_markdown(data: dict[str, Any]) -> str:
    parts = []
    for title, header, body in _tables(data):
        parts.append(f"### {title}\n")
        parts.append("| " + " | ".join(header) + " |")
        parts.append("|" + "|".join("---" if j < 2 else "---:" for j in range(len(header))) + "|")
        parts.extend("| " + " | ".join(line) + " |" for line in body)
        parts.append("")
    parts += [f"{line}  " for line in _footer(data)]
    return "\n".join(parts) + "\n"


def render_json(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, default=str) + "\n"
