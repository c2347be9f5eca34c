"""The self-test's mutation operators and its scoring, on a few builtin tasks with real checkers."""

from __future__ import annotations

import argparse
import ast

import pytest
from deepeval_lsp.benchmark import cli_selftest
from deepeval_lsp.benchmark.report_data import rows_for_runs
from deepeval_lsp.benchmark.selftest import (
    OPERATORS,
    SHAPE_KINDS,
    evaluate,
    false_errors,
    mutants,
    table,
)
from deepeval_lsp.benchmark.store import open_db
from deepeval_lsp.benchmark.tasks import load_suite
from deepeval_lsp.diagnostics.worker_pool import WorkerPool

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
    rows = rows_for_runs(db, [run_id])
    assert {(r["model"], r["prompting"]) for r in rows} == {
        ("selftest", "linear_in_features"),
        ("selftest", "missing_argument"),
    }
    assert all(r["tasks"] == 1 for r in rows)
    # each mutant fails to run, and the check says so
    assert all(r["measured"] == 1 and r["executable"] == 0 for r in rows)
    detected = db.execute("select value from scores where name = 'detected'").fetchall()
    assert detected == [(1.0,), (1.0,)]
    stored = db.execute('select false_errors, "references" from selftest').fetchall()
    assert stored == [(0, 1)]


def test_cli_unknown_kind_is_a_one_line_error(tmp_path, capsys):
    rc = cli_selftest.run(_args(kinds="nonsense", db=tmp_path / "s.db"))
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "unknown kind 'nonsense'" in err


def test_cli_rejects_a_zero_limit_in_one_line(tmp_path, capsys):
    rc = cli_selftest.run(_args(limit=0, db=tmp_path / "s.db"))
    err = capsys.readouterr().err
    assert rc == 2 and err == "deepeval-lsp selftest: --limit must be at least 1\n"
