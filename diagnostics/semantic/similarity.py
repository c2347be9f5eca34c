"""The semantic pass: how closely a program's structure follows a reference program (DESIGN.md §7).

Both programs are read into API sequences and API sets by `api_graph.extract` (pure syntax-tree
work: nothing runs, so the pass is safe in-process), with our reading rules (`rules.OUR_RULES`)
or the study's (`study_rules.STUDY_RULES`). The scores, in percent:

- API set: precision, recall and F1 of the candidate's distinct API names against the
  reference's;
- API sequence: ROUGE-L (longest common subsequence) precision, recall and F1 for every pair of
  a reference sequence and a candidate sequence (an m×n matrix per measure); each measure scores
  the mean of the row maxima (every reference path matched by its best candidate path) and the
  mean of the column maxima (every candidate path matched by its best reference path), averaged.

A candidate whose structure cannot be read scores 0 on every measure. The pass also turns the
differences into information diagnostics: DL501 (Missing Structure) for API calls and call
sequences that the reference has and the candidate lacks, DL502 (Extra Structure) for API calls
the candidate adds.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from deepeval_lsp.diagnostics import taxonomy as T
from deepeval_lsp.diagnostics.findings import Diagnostic, Position, Range
from deepeval_lsp.diagnostics.semantic.api_graph import Extraction, ExtractionError, extract
from deepeval_lsp.diagnostics.semantic.rules import OUR_RULES, Rules
from deepeval_lsp.diagnostics.semantic.study_rules import STUDY_RULES, STUDY_UNNAMED
from deepeval_lsp.diagnostics.text import SourceText, parse_python

MEASURES = (
    "api_set_precision",
    "api_set_recall",
    "api_set_f1",
    "api_seq_precision",
    "api_seq_recall",
    "api_seq_f1",
)
MAX_MISSING_SEQUENCES = 5  # reference paths listed in the report and as diagnostics


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence of two token sequences.

    Bit-parallel (Hyyrö 2004): one big-integer add per token of `b`, so comparing the many
    path pairs of a branched model stays cheap in pure Python.
    """
    if not a or not b:
        return 0
    masks: dict[str, int] = {}
    for i, token in enumerate(a):
        masks[token] = masks.get(token, 0) | (1 << i)
    full = (1 << len(a)) - 1
    v = full
    for token in b:
        u = v & masks.get(token, 0)
        v = ((v + u) | (v - u)) & full
    return len(a) - v.bit_count()


def _prf(matched: float, n_ref: int, n_cand: int) -> tuple[float, float, float]:
    precision = matched / n_cand if n_cand else 0.0
    recall = matched / n_ref if n_ref else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def set_scores(reference: Sequence[str], candidate: Sequence[str]) -> tuple[float, float, float]:
    """(precision, recall, F1) of the candidate's distinct API names, as fractions."""
    ref, cand = set(reference), set(candidate)
    return _prf(len(ref & cand), len(ref), len(cand))


def rouge_l(reference: Sequence[str], candidate: Sequence[str]) -> tuple[float, float, float]:
    """ROUGE-L (precision, recall, F1) of one candidate sequence against one reference."""
    return _prf(lcs_length(reference, candidate), len(reference), len(candidate))


def sequence_scores(
    references: Sequence[Sequence[str]],
    candidates: Sequence[Sequence[str]],
    reference_counts: Sequence[int] | None = None,
    candidate_counts: Sequence[int] | None = None,
) -> tuple[float, float, float]:
    """(precision, recall, F1) over all reference × candidate path pairs, as fractions.

    Each measure: the mean of the row maxima (over reference paths) and the mean of the column
    maxima (over candidate paths), averaged. A sequence spelled by several paths counts once
    per path (`*_counts`), which is the matrix over paths without computing repeated rows.
    """
    if not references or not candidates:
        return 0.0, 0.0, 0.0
    rw = list(reference_counts) if reference_counts else [1] * len(references)
    cw = list(candidate_counts) if candidate_counts else [1] * len(candidates)
    matrix = [[rouge_l(r, c) for c in candidates] for r in references]
    out = []
    for k in range(3):
        rows = sum(w * max(cell[k] for cell in row) for w, row in zip(rw, matrix, strict=True))
        cols = sum(
            w * max(matrix[i][j][k] for i in range(len(references))) for j, w in enumerate(cw)
        )
        out.append((rows / sum(rw) + cols / sum(cw)) / 2)
    return out[0], out[1], out[2]


@dataclass
class Comparison:
    """The semantic scores of one candidate against one reference (percent), and the gaps."""

    scores: dict[str, float]
    missing_apis: list[str] = field(default_factory=list)
    extra_apis: list[str] = field(default_factory=list)
    missing_sequences: list[list[str]] = field(default_factory=list)
    error: str | None = None  # the candidate's structure could not be read

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: round(v, 2) for k, v in self.scores.items()}
        out["missing_apis"] = list(self.missing_apis)
        out["extra_apis"] = list(self.extra_apis)
        out["missing_sequences"] = [list(s) for s in self.missing_sequences]
        if self.error:
            out["error"] = self.error
        return out


def zero_scores() -> dict[str, float]:
    return dict.fromkeys(MEASURES, 0.0)


def compare_extractions(reference: Extraction, candidate: Extraction) -> Comparison:
    """Score a candidate's structure against a reference's."""
    sp, sr, sf = set_scores(reference.apis, candidate.apis)
    qp, qr, qf = sequence_scores(
        reference.sequences, candidate.sequences, reference.counts, candidate.counts
    )
    scores = dict(zip(MEASURES, (sp, sr, sf, qp, qr, qf), strict=True))
    cand_set = set(candidate.apis)
    ref_set = set(reference.apis)
    return Comparison(
        scores={k: v * 100 for k, v in scores.items()},
        missing_apis=[a for a in reference.apis if a not in cand_set],
        extra_apis=[a for a in candidate.apis if a not in ref_set],
        missing_sequences=_missing_sequences(reference.sequences, candidate.sequences),
    )


def _missing_sequences(
    references: Sequence[tuple[str, ...]], candidates: Sequence[tuple[str, ...]]
) -> list[list[str]]:
    """Reference paths that no candidate path contains in order, worst matched first."""
    gaps = []
    for ref in references:
        best = max((lcs_length(ref, c) for c in candidates), default=0)
        if best < len(ref):
            gaps.append((best / len(ref), list(ref)))
    gaps.sort(key=lambda g: g[0])
    return [g[1] for g in gaps[:MAX_MISSING_SEQUENCES]]


def compare(
    reference_source: str | Extraction,
    candidate_source: str | ast.Module,
    *,
    rules: Rules = OUR_RULES,
) -> Comparison:
    """Score a candidate program against a reference program.

    A reference whose structure cannot be read is a usage error (ExtractionError); a candidate
    whose structure cannot be read scores 0 and says why in `error`.
    """
    if isinstance(reference_source, Extraction):
        ref = reference_source
    else:
        ref = extract(reference_source, rules=rules)
    try:
        cand = extract(candidate_source, rules=rules)
    except ExtractionError as e:
        return Comparison(
            scores=zero_scores(),
            missing_apis=list(ref.apis),
            missing_sequences=[list(s) for s in ref.sequences[:MAX_MISSING_SEQUENCES]],
            error=str(e),
        )
    return compare_extractions(ref, cand)


def study_task_scores(
    reference_source: str, samples: Sequence[str], *, rules: Rules = STUDY_RULES
) -> dict[str, float]:
    """One task's scores as the study averaged them: the mean over its samples (percent).

    As in the study's published scores, a sample that is empty or does not parse is left out of
    the mean (it is not a valid program); a sample whose structure cannot be read scores 0 and
    counts. The parsable programs the rules leave out too (`Rules.left_out`: with the study's
    rules, those the study left out) are skipped. A task with no valid sample scores 0.
    """
    ref = extract(reference_source, rules=rules)
    total = zero_scores()
    n = 0
    for source in samples:
        if not source.strip():
            continue
        try:
            tree = parse_python(source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        if rules.left_out(tree):
            continue
        n += 1
        scores = compare(ref, tree, rules=rules).scores
        for k in MEASURES:
            total[k] += scores[k]
    return {k: v / n for k, v in total.items()} if n else total


def semantic_diagnostics(
    source: str,
    path: str,
    reference: Extraction,
    comparison: Comparison,
    candidate: Extraction | None,
) -> list[Diagnostic]:
    """DL501/DL502 information diagnostics for the gaps a comparison found."""
    text = SourceText(source)
    anchor = _line_range(text, _anchor_line(source, candidate))
    out: list[Diagnostic] = []
    # The study-compatible reading's unnamed set entry is no API a user could add or remove.
    for api in (a for a in comparison.missing_apis if a != STUDY_UNNAMED):
        out.append(
            Diagnostic(
                T.MISSING_STRUCTURE,
                anchor,
                f"the reference calls {api}, this model does not",
                source_pass="semantic",
                layer=api,
            )
        )
    if candidate is not None and candidate.sequences:
        for ref_seq in comparison.missing_sequences[:3]:
            best = max(candidate.sequences, key=lambda c: lcs_length(ref_seq, c))
            missing = _unmatched(ref_seq, best)
            if not missing:
                continue
            shown = " → ".join(f"[{t}]" if i in missing else t for i, t in enumerate(ref_seq))
            out.append(
                Diagnostic(
                    T.MISSING_STRUCTURE,
                    anchor,
                    "the reference passes data through "
                    f"{shown}; this model's closest path lacks the bracketed calls",
                    source_pass="semantic",
                )
            )
    if candidate is not None:
        for api in (a for a in comparison.extra_apis if a != STUDY_UNNAMED):
            line = candidate.api_lines.get(api)
            where = _line_range(text, line - 1) if line else anchor
            out.append(
                Diagnostic(
                    T.EXTRA_STRUCTURE,
                    where,
                    f"{api} is not in the reference model",
                    source_pass="semantic",
                    layer=api,
                )
            )
    return out


def _unmatched(reference: Sequence[str], candidate: Sequence[str]) -> set[int]:
    """Indices of `reference` outside one longest common subsequence with `candidate`."""
    n, m = len(reference), len(candidate)
    table = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            if reference[i] == candidate[j]:
                table[i][j] = table[i + 1][j + 1] + 1
            else:
                table[i][j] = max(table[i + 1][j], table[i][j + 1])
    matched: set[int] = set()
    i = j = 0
    while i < n and j < m:
        if reference[i] == candidate[j]:
            matched.add(i)
            i += 1
            j += 1
        elif table[i + 1][j] >= table[i][j + 1]:
            i += 1
        else:
            j += 1
    return set(range(n)) - matched


def _anchor_line(source: str, candidate: Extraction | None) -> int:
    """0-based line for findings about the model as a whole: its construction or entry point."""
    if candidate is not None and candidate.model_line:
        return candidate.model_line - 1
    m = re.search(r"^\s*def\s+dl_model\b", source, re.MULTILINE)
    if m:
        return source.count("\n", 0, m.start())
    return 0


def _line_range(text: SourceText, line: int) -> Range:
    content = text.line(line)
    start = len(content) - len(content.lstrip())
    return Range(Position(line, start), Position(line, max(len(content), start + 1)))


def run_semantic(
    source: str,
    path: str,
    reference_source: str,
    *,
    tree: ast.Module | None = None,
    rules: Rules = OUR_RULES,
) -> tuple[dict[str, Any], list[Diagnostic]]:
    """Compare a document with its task's reference: (Report.semantic, diagnostics).

    Raises ExtractionError when the reference itself has no readable model structure.
    """
    reference = extract(reference_source, rules=rules)
    candidate: Extraction | None
    try:
        candidate = extract(tree if tree is not None else source, rules=rules)
    except ExtractionError as e:
        candidate = None
        comparison = Comparison(
            scores=zero_scores(),
            missing_apis=list(reference.apis),
            missing_sequences=[list(s) for s in reference.sequences[:MAX_MISSING_SEQUENCES]],
            error=str(e),
        )
    else:
        comparison = compare_extractions(reference, candidate)
    return comparison.to_json(), semantic_diagnostics(
        source, path, reference, comparison, candidate
    )
