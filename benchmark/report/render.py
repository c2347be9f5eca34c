"""Rendering report rows (benchmark/report/data.py) as a table, CSV, JSON or one HTML file.

Self-test runs (`selftest_for_runs`) come in a section of their own after the model ×
prompting rows: a table per run in text and HTML, one row per (run, kind) in CSV, and in JSON
an object `{"results": [...], "selftest": [...]}` instead of the bare list of rows. Repair
promptings (`repair_for_runs`) likewise: their by-round tables after the rows in text and
HTML (with a line plot of executability by round), one row per (model, prompting, round) in a
CSV of their own, and a `"repair"` member of that JSON object.
"""

from __future__ import annotations

import csv
import io
import json
from html import escape
from typing import Any

from deepeval_lsp.benchmark.report.svg import grouped_bars, hbars, lines

NOT_MEASURED = "not measured"
FORMATS = ("table", "csv", "json", "html")


def _num(v: Any, digits: int = 1) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def _pass_keys(rows: list[dict[str, Any]]) -> list[str]:
    keys: list[str] = []
    for r in rows:
        for k in r["pass_at_k"]:
            if k not in keys:
                keys.append(k)
    return keys


def flat(row: dict[str, Any], pass_keys: list[str]) -> dict[str, Any]:
    """A row with pass@k and taxonomy spread into columns (for CSV)."""
    out = {k: v for k, v in row.items() if k not in ("pass_at_k", "taxonomy")}
    for k in pass_keys:
        out[k] = row["pass_at_k"].get(k)
    for name, count in row["taxonomy"].items():
        out[f"taxonomy: {name}"] = count
    return out


def render_table(
    rows: list[dict[str, Any]],
    selftest: list[dict[str, Any]] | None = None,
    repair: list[dict[str, Any]] | None = None,
) -> str:
    """The leaderboard and the failure taxonomy as aligned plain-text tables; then the repair
    tables and the self-test runs' tables."""
    if selftest or repair:
        return "\n\n".join(
            ([render_table(rows)] if rows else [])
            + ([render_repair_table(repair)] if repair else [])
            + ([render_selftest_table(selftest)] if selftest else [])
        )
    if not rows:
        return "no samples recorded"
    pass_keys = _pass_keys(rows)
    header = [
        "model",
        "prompting",
        "tasks",
        "samples",
        "valid",
        "exec",
        "exec %",
        *pass_keys,
        "static err/sample",
        "api-set F1",
        "api-seq F1",
    ]
    body = []
    for r in rows:
        exec_cell = _num(r["executable"])
        if r["executable"] is not None and r["measured"] != r["valid"]:
            exec_cell += f" of {r['measured']}"
        body.append(
            [
                r["model"],
                r["prompting"],
                str(r["tasks"]),
                str(r["samples"]),
                str(r["valid"]),
                exec_cell,
                _num(r["executability_rate"]),
                *[_num(r["pass_at_k"].get(k)) for k in pass_keys],
                _num(r["static_errors_per_sample"], 2),
                _num(r["api_set_f1"]),
                _num(r["api_seq_f1"]),
            ]
        )
    lines = [_align(header, body, left=2)]
    notes = []
    if all(r["executable"] is None for r in rows):
        notes.append("executability: not measured (the dynamic pass did not run)")
    if all(r["api_set_f1"] is None for r in rows):
        notes.append("semantic similarity: not measured (the semantic pass did not run)")
    categories: list[str] = []
    for r in rows:
        categories += [c for c in r["taxonomy"] if c not in categories]
    if categories:
        tax_header = ["failure (DL error)", *[f"{r['model']}/{r['prompting']}" for r in rows]]
        tax_body = [[c, *[str(r["taxonomy"].get(c, 0)) for r in rows]] for c in categories]
        lines.append("")
        lines.append(_align(tax_header, tax_body, left=1))
    if notes:
        lines.append("")
        lines += notes
    return "\n".join(lines)


REPAIR_ROUND_HEADER = (
    "model",
    "prompting",
    "round",
    "valid",
    "exec",
    "exec %",
    "error-free %",
    "api-set F1",
    "api-seq F1",
)
REPAIR_HEADER = (
    "model",
    "prompting",
    "base",
    "samples",
    "fixed",
    "first built (round: programs)",
    "repair tokens",
    "tokens/fixed",
    "cost/fixed $",
)


def _repair_round_body(repair: list[dict[str, Any]]) -> list[list[Any]]:
    return [
        [
            e["model"],
            e["prompting"],
            r["round"],
            r["valid"],
            _num(r["executable"]),
            _num(r["executability_rate"]),
            _num(r["error_free_rate"]),
            _num(r["api_set_f1"]),
            _num(r["api_seq_f1"]),
        ]
        for e in repair
        for r in e["by_round"]
    ]


def _repair_body(repair: list[dict[str, Any]]) -> list[list[Any]]:
    return [
        [
            e["model"],
            e["prompting"],
            e["base_prompting"],
            e["samples"],
            e["fixed"],
            ", ".join(f"{k}: {v}" for k, v in e["first_built"].items()) or "–",
            _num(e["repair_tokens"]),
            _num(e["tokens_per_fixed"]),
            _num(e["cost_per_fixed"], 4),
        ]
        for e in repair
    ]


def _repair_taxonomy(repair: list[dict[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    categories: list[str] = []
    for e in repair:
        for side in ("taxonomy_before", "taxonomy_after"):
            categories += [c for c in e[side] if c not in categories]
    head = ["failure (DL error)"]
    for e in repair:
        head += [f"{e['model']}/{e['prompting']} before", "after"]
    body = [
        [c, *[e[side].get(c, 0) for e in repair for side in ("taxonomy_before", "taxonomy_after")]]
        for c in categories
    ]
    return head, body


def render_repair_table(repair: list[dict[str, Any]]) -> str:
    """The repair promptings: executability and semantic scores by round, the programs fixed
    and the tokens they cost, the failure taxonomy before and after repair."""

    def text(body: list[list[Any]]) -> list[list[str]]:
        return [[str(c) for c in row] for row in body]

    parts = [
        "repair: programs after each round (round 0: the base method's answer)",
        _align(list(REPAIR_ROUND_HEADER), text(_repair_round_body(repair)), left=2),
        "",
        _align(list(REPAIR_HEADER), text(_repair_body(repair)), left=3),
    ]
    head, body = _repair_taxonomy(repair)
    if body:
        parts += ["", _align(head, text(body), left=1)]
    return "\n".join(parts)


def render_repair_csv(repair: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    round_fields = ("round", "valid", "measured", "executable", "executability_rate")
    round_fields += ("error_free_rate", "api_set_f1", "api_seq_f1")
    summary = ("samples", "fixed", "repair_tokens", "tokens_per_fixed", "cost_per_fixed")
    w.writerow(["model", "prompting", "base_prompting", *round_fields, *summary])
    for e in repair:
        for r in e["by_round"]:
            w.writerow(
                [
                    e["model"],
                    e["prompting"],
                    e["base_prompting"],
                    *["" if r[f] is None else r[f] for f in round_fields],
                    *["" if e[f] is None else e[f] for f in summary],
                ]
            )
    return buf.getvalue()


def _repair_html(repair: list[dict[str, Any]]) -> str:
    xs = [f"round {k}" for k in range(max(e["rounds"] for e in repair) + 1)]
    series = {
        f"{e['model']} / {e['prompting']}": [r["executability_rate"] for r in e["by_round"]]
        for e in repair
    }
    if any(v is not None for vs in series.values() for v in vs):
        plot = lines(
            "Executability by repair round (% of valid programs)",
            xs,
            series,
            max_value=100,
            unit="%",
        )
    else:
        plot = f"<p>Executability by round: {NOT_MEASURED}.</p>"
    head, body = _repair_taxonomy(repair)
    tax = _html_table(head, body) if body else "<p>No failures recorded.</p>"
    return f"""<h2>Repair (the findings sent back, or our verified fixes applied)</h2>
<p>Round 0 is the base method's answer; round k the program after the k-th repair (a sample
that stopped earlier keeps its last program). Fixed: not executable in round 0, executable
after the last round. Repair tokens: those of the rounds after round 0.</p>
{_html_table(list(REPAIR_ROUND_HEADER), _repair_round_body(repair))}
<figure>{plot}</figure>
{_html_table(list(REPAIR_HEADER), _repair_body(repair))}
<h3>Failures before and after repair</h3>
{tax}"""


SELFTEST_HEADER = (
    "kind",
    "mutants",
    "recall %",
    "right line %",
    "fix offered %",
    "verified %",
    "cleans %",
)


def _selftest_body(entry: dict[str, Any]) -> list[list[Any]]:
    return [
        [
            k["kind"],
            k["mutants"],
            *[_num(k[c]) for c in ("recall", "right_line", "fix_offered", "verified", "cleans")],
        ]
        for k in entry["kinds"]
    ]


def _false_errors_line(entry: dict[str, Any]) -> str:
    line = (
        f"false errors on untouched references: {entry['false_errors']} of "
        f"{entry['references']} references"
    )
    detail = entry.get("false_error_detail") or {}
    return line + "".join(f"\n  false error on {t}: {', '.join(c)}" for t, c in detail.items())


def selftest_text(entry: dict[str, Any]) -> str:
    """One self-test run as a plain-text table and its false-errors line."""
    body = [[str(c) for c in row] for row in _selftest_body(entry)]
    return _align(list(SELFTEST_HEADER), body, left=1) + "\n" + _false_errors_line(entry)


def render_selftest_table(selftest: list[dict[str, Any]]) -> str:
    parts = [
        f"self-test of the checkers (run {e['run_id']}): injected mistakes, one per "
        f"reference and kind\n{selftest_text(e)}"
        for e in selftest
    ]
    return "\n\n".join(parts)


def render_selftest_csv(selftest: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(
        [
            "run_id",
            "kind",
            "mutants",
            "recall",
            "right_line",
            "fix_offered",
            "verified",
            "cleans",
            "false_errors",
            "references",
        ]
    )
    for e in selftest:
        for k in e["kinds"]:
            w.writerow(
                [
                    e["run_id"],
                    k["kind"],
                    k["mutants"],
                    k["recall"],
                    k["right_line"],
                    k["fix_offered"],
                    k["verified"],
                    k["cleans"],
                    e["false_errors"],
                    e["references"],
                ]
            )
    return buf.getvalue()


def _align(header: list[str], body: list[list[str]], left: int) -> str:
    """Columns padded to their widest cell: the first `left` ones flush left, numbers right."""
    widths = [max(len(str(x)) for x in col) for col in zip(header, *body, strict=False)]

    def fmt(cells: list[str]) -> str:
        out = []
        for i, (c, w) in enumerate(zip(cells, widths, strict=False)):
            out.append(c.ljust(w) if i < left else c.rjust(w))
        return "  ".join(out).rstrip()

    return "\n".join([fmt(header), fmt(["-" * w for w in widths]), *map(fmt, body)])


def render_csv(
    rows: list[dict[str, Any]],
    selftest: list[dict[str, Any]] | None = None,
    repair: list[dict[str, Any]] | None = None,
) -> str:
    """One row per model × prompting; repair rounds and self-test runs as CSVs of their own
    (each after an empty line)."""
    if selftest or repair:
        return "\n".join(
            ([render_csv(rows)] if rows else [])
            + ([render_repair_csv(repair)] if repair else [])
            + ([render_selftest_csv(selftest)] if selftest else [])
        )
    pass_keys = _pass_keys(rows)
    flats = [flat(r, pass_keys) for r in rows]
    fields: list[str] = []
    for f in flats:
        fields += [k for k in f if k not in fields]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    w.writeheader()
    for f in flats:
        w.writerow({k: ("" if f.get(k) is None else f.get(k)) for k in fields})
    return buf.getvalue()


def render_json(
    rows: list[dict[str, Any]],
    selftest: list[dict[str, Any]] | None = None,
    repair: list[dict[str, Any]] | None = None,
) -> str:
    data: Any = rows
    if selftest or repair:
        data = {"results": rows}
        if repair:
            data["repair"] = repair
        if selftest:
            data["selftest"] = selftest
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _html_table(head: list[str], body: list[list[Any]]) -> str:
    def cell(v: Any) -> str:
        if v is None or v == "–":
            return '<td class="n">–</td>'
        text = escape(str(v))
        if isinstance(v, int | float) or (text[:1].isdigit() and text.replace(".", "").isdigit()):
            return f'<td class="n">{text}</td>'
        return f'<td class="path">{text}</td>' if "/" in text else f"<td>{text}</td>"

    rows = "".join("<tr>" + "".join(cell(v) for v in r) + "</tr>\n" for r in body)
    return (
        "<table><tr>"
        + "".join(f"<th>{escape(h)}</th>" for h in head)
        + "</tr>\n"
        + rows
        + "</table>"
    )


def _selftest_html(selftest: list[dict[str, Any]]) -> str:
    parts = [
        "<h2>Self-test of the checkers</h2>\n<p>One known mistake injected per reference "
        "and kind; the percent of mutants the checkers detected, at the injected line, with "
        "a fix offered, verified by re-running, and leaving no error once applied.</p>"
    ]
    for e in selftest:
        parts.append(
            f"<h3>Run {escape(e['run_id'])}</h3>\n"
            + _html_table(list(SELFTEST_HEADER), _selftest_body(e))
            + f"\n<p>{escape(_false_errors_line(e)).replace(chr(10), '<br>')}</p>"
        )
    return "\n".join(parts)


def render_html(
    rows: list[dict[str, Any]],
    runs: list[dict[str, Any]],
    selftest: list[dict[str, Any]] | None = None,
    repair: list[dict[str, Any]] | None = None,
) -> str:
    """One self-contained page: the run list, the tables, and inline SVG plots; repair
    promptings and self-test runs in sections of their own."""
    models = list(dict.fromkeys(r["model"] for r in rows))
    promptings = list(dict.fromkeys(r["prompting"] for r in rows))

    def series(field: str) -> dict[str, list[float | None]]:
        by = {(r["model"], r["prompting"]): r.get(field) for r in rows}
        return {p: [by.get((m, p)) for m in models] for p in promptings}

    plots = []
    if any(r["executability_rate"] is not None for r in rows):
        plots.append(
            grouped_bars(
                "Executability by model × prompting (% of valid programs)",
                models,
                series("executability_rate"),
                max_value=100,
                unit="%",
            )
        )
    else:
        plots.append(f"<p>Executability: {NOT_MEASURED}.</p>")
    totals: dict[str, int] = {}
    for r in rows:
        for k, v in r["taxonomy"].items():
            totals[k] = totals.get(k, 0) + v
    if totals:
        plots.append(
            hbars(
                "Failures by DL error category (all rows)",
                sorted(totals.items(), key=lambda kv: -kv[1]),
            )
        )
    for field, label in (("api_set_f1", "API-set F1"), ("api_seq_f1", "API-sequence F1")):
        if any(r[field] is not None for r in rows):
            plots.append(
                grouped_bars(
                    f"Semantic similarity to the reference: {label} (%)",
                    models,
                    series(field),
                    max_value=100,
                    unit="%",
                )
            )
        else:
            plots.append(f"<p>{label}: {NOT_MEASURED}.</p>")

    pass_keys = _pass_keys(rows)
    head = [
        "model",
        "prompting",
        "tasks",
        "samples",
        "valid",
        "measured",
        "executable",
        "exec %",
        *pass_keys,
        "static err/sample",
        "API-set F1",
        "API-seq F1",
    ]
    body = [
        [
            r["model"],
            r["prompting"],
            r["tasks"],
            r["samples"],
            r["valid"],
            r["measured"],
            r["executable"],
            _num(r["executability_rate"]),
            *[_num(r["pass_at_k"].get(k)) for k in pass_keys],
            _num(r["static_errors_per_sample"], 2),
            _num(r["api_set_f1"]),
            _num(r["api_seq_f1"]),
        ]
        for r in rows
    ]
    categories: list[str] = []
    for r in rows:
        categories += [c for c in r["taxonomy"] if c not in categories]
    tax = (
        _html_table(
            ["failure (DL error)", *[f"{r['model']} / {r['prompting']}" for r in rows]],
            [[c, *[r["taxonomy"].get(c, 0) for r in rows]] for c in categories],
        )
        if categories
        else "<p>No failures recorded.</p>"
    )
    runs_table = _html_table(
        ["run", "created", "status", "suite", "models"],
        [
            [
                r["id"],
                str(r["created_at"])[:19].replace("T", " "),
                r["status"],
                r["suite"],
                ", ".join(json.loads(r["models"])),
            ]
            for r in runs
        ],
    )
    results = f"""<h2>Results (one row per model × prompting)</h2>
{_html_table(head, body)}
<h2>Failures by taxonomy</h2>
{tax}
<h2>Plots</h2>
{"".join(f"<figure>{p}</figure>" for p in plots)}
<p>Executability: the program builds the model and runs it on the task's input, as the
study's contract asks; rates are percent of the valid (non-empty) programs whose executability
was measured. pass@k uses the unbiased estimator. "–" means not measured.</p>"""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>deepeval-lsp benchmark report</title>
<style>
body {{ font-family: sans-serif; margin: 2em; color: #222; max-width: 1200px; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
td, th {{ border: 1px solid #ccc; padding: 2px 8px; font-size: 13px; }}
td.n {{ text-align: right; font-variant-numeric: tabular-nums; }}
td.path {{ word-break: break-all; max-width: 420px; }}
figure {{ margin: 1.5em 0; }}
</style></head><body>
<h1>Benchmark report</h1>
<h2>Runs</h2>
{runs_table}
{results if rows or not selftest else ""}
{_repair_html(repair) if repair else ""}
{_selftest_html(selftest) if selftest else ""}
</body></html>
"""
