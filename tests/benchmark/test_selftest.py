"""The self-test's mutation operators and its scoring, on a few builtin tasks with real checkers."""

from __future__ import annotations

import argparse
import ast
import json

import pytest
from deepeval_lsp.benchmark.cli import selftest as cli_selftest
from deepeval_lsp.benchmark.report.data import rows_for_runs
from deepeval_lsp.benchmark.selftest import (
    OPERATORS,
    SHAPE_KINDS,
    evaluate,
    false_errors,
    mutants,
    options_for,
    table,
)
from deepeval_lsp.benchmark.store import open_db
from deepeval_lsp.diagnostics import check
from deepeval_lsp.diagnostics.dynamic.worker_pool import WorkerPool
from deepeval_lsp.diagnostics.tasks.suite import load_suite
from deepeval_lsp.diagnostics.text import apply_edits

from deepeval_lsp.cli import main

SUBSET = (
    "img_conv_self_attention_cifar10",
    "img_residual_block_cifar10",
    "img_channel_split_cifar10",
)


@pytest.fixture(scope="module")
def tasks():
    by_id = {t.id: t for t in load_suite("builtin").tasks}
    return [by_id[i] for i in SUBSET]


@pytest.fixture(scope="module")
def pool():
    p = WorkerPool(2)
    yield p
    p.close()


def test_every_kind_applies_to_the_subset(tasks):
    kinds = {m.kind for t in tasks for m in mutants(t)}
    assert kinds == set(OPERATORS)


def test_operators_change_only_the_stated_line(tasks):
    for task in tasks:
        ref = task.reference.splitlines()
        for m in mutants(task):
            new = m.source.splitlines()
            assert len(new) == len(ref), m.kind
            changed = [i for i, (a, b) in enumerate(zip(ref, new, strict=True)) if a != b]
            assert len(changed) == 1, (m.kind, changed)
            ast.parse(m.source)
            if m.kind == "missing_import":
                # the import line is blanked; the stated line is where the name is first used
                assert new[changed[0]] == ""
                name = ref[changed[0]].split()[-1]
                assert name in new[m.line]
            else:
                assert changed == [m.line], m.kind


def test_checkers_find_every_injected_mistake_at_its_line(tasks, pool):
    results = [evaluate(m, t, pool) for t in tasks for m in mutants(t)]
    for r in results:
        assert r.detected, (r.mutant.task_id, r.mutant.description, r.codes)
        assert r.right_line, (r.mutant.task_id, r.mutant.description)
        if r.mutant.kind in SHAPE_KINDS:
            assert r.fix_verified and r.fix_cleans, (r.mutant.task_id, r.mutant.description)
    rows = table(results)
    assert set(rows) == set(OPERATORS)
    assert all(row["recall"] == 1.0 for row in rows.values())


def _task(task_id: str):
    return next(t for t in load_suite("builtin").tasks if t.id == task_id)


def _preferred_edit_lines(m, task, pool) -> set[int]:
    report = check(m.source, f"{task.id}.py", options_for(task), pool=pool)
    fixes = [d.preferred_fix for d in report.diagnostics if d.preferred_fix]
    return {e.range.start.line for f in fixes for e in f.edits}


def test_wrong_concat_dim_is_fixed_on_the_cat_line(tasks, pool):
    task = tasks[2]  # the cat succeeds along dim 2; the conv after the pooling fails
    (m,) = mutants(task, ["concat_dim"])
    r = evaluate(m, task, pool)
    assert r.detected and r.right_line and r.fix_verified and r.fix_cleans
    assert _preferred_edit_lines(m, task, pool) == {m.line}
    fixed = check(m.source, f"{task.id}.py", options_for(task), pool=pool)
    (d,) = [d for d in fixed.diagnostics if d.preferred_fix]
    assert apply_edits(m.source, d.preferred_fix.edits) == task.reference


def test_branch_padding_only_where_branches_meet(tasks, pool):
    assert mutants(_task("img_simple_cnn_cifar10"), ["branch_padding"]) == []
    task = tasks[1]  # a residual block: conv1 of the main path loses its padding
    (m,) = mutants(task, ["branch_padding"])
    assert "padding=0" in m.source.splitlines()[m.line]
    assert "self.conv1" in m.source.splitlines()[m.line]
    r = evaluate(m, task, pool)
    assert r.detected and r.right_line and r.fix_verified and r.fix_cleans
    assert _preferred_edit_lines(m, task, pool) == {m.line}


def test_embed_dim_reaches_encoder_layers_given_by_keyword(pool):
    task = _task("txt_transformer_encoder_newsgroups")
    (m,) = mutants(task, ["embed_dim"])
    assert m.description == "TransformerEncoderLayer d_model 64 -> 128"
    r = evaluate(m, task, pool)
    assert r.detected and r.right_line and r.fix_verified and r.fix_cleans
    assert _preferred_edit_lines(m, task, pool) == {m.line}


def test_untouched_references_have_no_false_errors(tasks, pool):
    assert [false_errors(t, pool) for t in tasks] == [[] for _ in tasks]


def _args(**kw) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cli_selftest.add_arguments(parser)
    argv = [f"--{k.replace('_', '-')}={v}" for k, v in kw.items()]
    return parser.parse_args(argv)


def test_cli_stores_the_table_as_a_run_report_reads(tmp_path, capsys):
    db_path = tmp_path / "s.db"
    rc = cli_selftest.run(_args(limit=1, kinds="linear_in_features,missing_argument", db=db_path))
    out = capsys.readouterr().out
    assert rc == 0
    assert "linear_in_features" in out and "false errors on untouched references: 0 of 1" in out
    db = open_db(db_path)
    run_id = db.execute("select id from runs").fetchone()[0]
    stored_mutants = db.execute(
        "select s.model, s.prompting, s.sample_index, m.kind, s.executable from samples s "
        "join selftest_mutants m on m.sample_id = s.id order by s.id"
    ).fetchall()
    # one sample per mutant, its kind apart; each mutant fails to run, and the check says so
    assert stored_mutants == [
        ("selftest", "none", 0, "linear_in_features", 0),
        ("selftest", "none", 1, "missing_argument", 0),
    ]
    (row,) = rows_for_runs(db, [run_id])
    assert (row["model"], row["prompting"], row["tasks"]) == ("selftest", "none", 1)
    assert row["measured"] == 2 and row["executable"] == 0
    assert json.loads(db["runs"].get(run_id)["promptings"]) == ["none"]
    detected = db.execute("select value from scores where name = 'detected'").fetchall()
    assert detected == [(1.0,), (1.0,)]
    stored = db.execute('select false_errors, "references" from selftest').fetchall()
    assert stored == [(0, 1)]
    db.close()
    assert main(["report", "--db", str(db_path), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["results"] == []  # the mutants are no model × prompting rows
    (entry,) = report["selftest"]
    assert entry["run_id"] == run_id
    assert [k["kind"] for k in entry["kinds"]] == ["linear_in_features", "missing_argument"]
    assert all(k["mutants"] == 1 and k["recall"] == 100.0 for k in entry["kinds"])


def test_cli_unknown_kind_is_a_one_line_error(tmp_path, capsys):
    rc = cli_selftest.run(_args(kinds="nonsense", db=tmp_path / "s.db"))
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "unknown kind 'nonsense'" in err


def test_cli_rejects_a_zero_limit_in_one_line(tmp_path, capsys):
    rc = cli_selftest.run(_args(limit=0, db=tmp_path / "s.db"))
    err = capsys.readouterr().err
    assert rc == 2 and err == "deepeval-lsp selftest: --limit must be at least 1\n"


def test_an_unverified_fix_counts_as_offered_not_verified(monkeypatch) -> None:
    from deepeval_lsp.benchmark import selftest
    from deepeval_lsp.diagnostics.findings import Diagnostic, Fix, Position, Range, Report, TextEdit

    task = load_suite("builtin").tasks[0]
    m = mutants(task, ["linear_in_features"])[0]
    at = Range(Position(m.line, 0), Position(m.line, 1))
    guess = Fix("a guess", (TextEdit(at, ""),), verified=False)
    finding = Diagnostic(m.expected_codes[0], at, "wrong size", fixes=(guess,))
    monkeypatch.setattr(selftest, "check", lambda *a, **k: Report(a[1], diagnostics=[finding]))
    r = evaluate(m, task)
    assert (r.detected, r.right_line, r.fix_offered) == (True, True, True)
    assert (r.fix_verified, r.fix_cleans) == (False, False)
