"""The benchmark database's schema, as an ordered list of small migrations.

Each migration is a function of a `sqlite_utils.Database`, registered in the sqlite-utils
migration set `MIGRATIONS`; sqlite-utils records the applied ones in `_sqlite_migrations`, so
opening a database made by an older version brings it up to date and opening a current one
changes nothing. The pending ones are applied together, in one write transaction that takes the
write lock first, so two processes opening an outdated database migrate it once. Databases of
deepeval-lsp 0.1.0 recorded them in a table of their own, `_migrations`, which `migrate` moves
into sqlite-utils' table first. Add new migrations at the end; never edit, rename or reorder
one that has shipped. docs/schema.md describes the resulting tables.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from deepeval_lsp.benchmark.store import write
from sqlite_utils.migrations import Migrations

if TYPE_CHECKING:
    import sqlite_utils

MIGRATIONS = Migrations("deepeval-lsp")
LEGACY_MIGRATIONS_TABLE = "_migrations"  # (name, applied_at), written by deepeval-lsp 0.1.0


def migrate(db: sqlite_utils.Database) -> None:
    """Apply the migrations not yet applied, all or none: in one transaction (each a
    savepoint of it) that holds the write lock, so what is pending is read under it."""
    with write(db):
        _adopt_legacy_bookkeeping(db)
        MIGRATIONS.apply(db)


def _adopt_legacy_bookkeeping(db: sqlite_utils.Database) -> None:
    """Move the names (and times) that 0.1.0 recorded in `_migrations` into sqlite-utils'
    table, so the migrations they name are not applied again; `_migrations` then goes."""
    if LEGACY_MIGRATIONS_TABLE not in db.table_names():
        return
    with db.atomic():
        MIGRATIONS.ensure_migrations_table(db)
        recorded = {m.name for m in MIGRATIONS.applied(db)}
        legacy = db.execute(
            f"select name, applied_at from [{LEGACY_MIGRATIONS_TABLE}] order by rowid"
        ).fetchall()
        db[Migrations.migrations_table].insert_all(
            {"migration_set": MIGRATIONS.name, "name": name, "applied_at": applied_at}
            for name, applied_at in legacy
            if name not in recorded
        )
        db[LEGACY_MIGRATIONS_TABLE].drop()


@MIGRATIONS()
def m001_initial(db: sqlite_utils.Database) -> None:
    db["runs"].create(
        {
            "id": str,  # ULID
            "created_at": str,
            "finished_at": str,
            "status": str,  # running | interrupted | finished | failed
            "suite": str,  # "builtin" or the suite's path
            "models": str,  # JSON list of model specs, e.g. ["openai:gpt-4o", "reference"]
            "promptings": str,  # JSON list
            "samples_per_task": int,
            "temperature": float,
            "top_p": float,
            "max_tokens": int,
            "base_url": str,
            "config": str,  # JSON: every option the run needs to be resumed
            "tool_version": str,
            "error": str,
        },
        pk="id",
    )
    db["tasks"].create(
        {
            "run_id": str,
            "task_id": str,
            "difficulty": str,
            "framework": str,
            "requirement": str,
            "reference": str,
            "input_shape": str,  # JSON list, or NULL
        },
        pk=("run_id", "task_id"),
        foreign_keys=[("run_id", "runs", "id")],
    )
    db["samples"].create(
        {
            "id": str,  # ULID
            "run_id": str,
            "model": str,
            "prompting": str,
            "task_id": str,
            "sample_index": int,  # 0-based
            "outcome": str,  # executable | failed | not_measured | empty | missing | error
            "valid": int,  # 1 when the extracted program is non-empty
            "executable": int,  # 1 / 0, NULL when not measured
            "failure_dl_error": str,
            "failure_python_error": str,
            "failure_root_cause": str,
            "failure_message": str,
            "static_errors": int,  # error-severity findings of the static pass
            "findings": int,  # all findings
            "prompt": str,  # JSON list of chat messages, NULL for replayed answers
            "raw_answer": str,
            "code": str,
            "code_sha256": str,
            "prompt_tokens": int,
            "completion_tokens": int,
            "cost_usd": float,
            "cached": int,  # 1 when the answer came from the generation cache
            "attempts": int,  # requests made (1 + retries); 0 for replay/reference
            "generation_ms": float,
            "scoring_ms": float,
            "passes": str,  # JSON: pass name -> "ran" or why it did not
            "error": str,  # why generation or scoring failed
            "created_at": str,
        },
        pk="id",
        foreign_keys=[("run_id", "runs", "id")],
    )
    db["samples"].create_index(
        ["run_id", "model", "prompting", "task_id", "sample_index"], unique=True
    )
    db["findings"].create(
        {
            "id": int,
            "sample_id": str,
            "code": str,
            "severity": str,
            "pass": str,
            "dl_error": str,
            "python_error": str,
            "root_cause": str,
            "message": str,
            "line": int,  # 1-based, as editors show it
            "column": int,  # 1-based
            "end_line": int,
            "end_column": int,
            "layer": str,
        },
        pk="id",
        foreign_keys=[("sample_id", "samples", "id")],
    )
    db["findings"].create_index(["sample_id"])
    db["findings"].create_index(["dl_error"])
    db["scores"].create(
        {"sample_id": str, "name": str, "value": float},
        pk=("sample_id", "name"),
        foreign_keys=[("sample_id", "samples", "id")],
    )


@MIGRATIONS()
def m002_selftest(db: sqlite_utils.Database) -> None:
    """`deepeval-lsp selftest`'s table per run (its mutants are samples of that run). Databases
    where an earlier selftest made the table on the fly keep it and gain the new column."""
    if "selftest" not in db.table_names():
        db["selftest"].create(
            {
                "run_id": str,
                "table": str,  # JSON: kind -> {mutants, recall, right_line, fix_offered, ...}
                "false_errors": int,  # untouched references with an error finding
                "references": int,  # references checked untouched
                "false_error_detail": str,  # JSON: task id -> the codes found on it
            },
            pk="run_id",
            foreign_keys=[("run_id", "runs", "id")],
        )
    elif "false_error_detail" not in db["selftest"].columns_dict:
        db["selftest"].add_column("false_error_detail", str)


@MIGRATIONS()
def m003_selftest_mutants(db: sqlite_utils.Database) -> None:
    """The kind of each self-test mutant in a table of its own; 0.1.0 stored it as the mutant's
    prompting (and the kinds as the run's promptings). Old self-test runs move there: their
    mutants get the prompting "none" and number the mutants of their task in the order they
    were made, as new runs do."""
    db["selftest_mutants"].create(
        {"sample_id": str, "kind": str},  # kind: the injected mistake, e.g. "embed_dim"
        pk="sample_id",
        foreign_keys=[("sample_id", "samples", "id")],
    )
    runs = db.execute("select id, config from runs where models = ?", ['["selftest"]']).fetchall()
    mutants = "run_id = ? and model = 'selftest'"
    for run_id, config in runs:
        db.execute(
            "insert into selftest_mutants (sample_id, kind) "
            f"select id, prompting from samples where {mutants} order by id",
            [run_id],
        )
        # kinds are distinct within a task, so no sample key collides on the way
        db.execute(
            "update samples set sample_index = (select count(*) from samples o "
            "where o.run_id = samples.run_id and o.model = samples.model "
            f"and o.task_id = samples.task_id and o.id < samples.id) where {mutants}",
            [run_id],
        )
        db.execute(f"update samples set prompting = 'none' where {mutants}", [run_id])
        db.execute(
            "update runs set promptings = ?, config = ? where id = ?",
            [
                json.dumps(["none"]),
                json.dumps({**json.loads(config), "promptings": ["none"]}),
                run_id,
            ],
        )


@MIGRATIONS()
def m004_run_leases(db: sqlite_utils.Database) -> None:
    """Which process is writing a run: `bench` takes a run's lease when it creates or resumes
    it, so two processes never write one run at the same time (docs/schema.md)."""
    db["run_leases"].create(
        {
            "run_id": str,
            "pid": int,
            "host": str,
            "started": str,  # the process's boot and start time (Linux), so a reused pid differs
            "since": str,
        },
        pk="run_id",
        foreign_keys=[("run_id", "runs", "id")],
    )


@MIGRATIONS()
def m005_repair_rounds(db: sqlite_utils.Database) -> None:
    """Diagnostics-guided repair (`--prompting X+repair[:N]`, `X+repair-fixes[:N]`): every round
    of a sample's conversation in `rounds`, written as soon as it is scored (so a resumed run
    goes on from the last stored round and never asks a stored round again), and on the sample
    the round whose program first built (docs/schema.md)."""
    db["rounds"].create(
        {
            "run_id": str,
            "model": str,
            "prompting": str,
            "task_id": str,
            "sample_index": int,
            "round": int,  # 0: the base method's answer; k: the k-th repair
            "kind": str,  # answer (round 0) | repair (the model asked again) | fixes (ours applied)
            "sample_id": str,  # the sample once recorded (NULL while its conversation goes on)
            "messages": str,  # JSON: the chat messages sent for this round; NULL when none were
            "raw_answer": str,
            "code": str,
            "code_sha256": str,
            "outcome": str,  # as samples.outcome, for this round's program
            "valid": int,
            "executable": int,
            "failure_dl_error": str,
            "failure_python_error": str,
            "failure_root_cause": str,
            "failure_message": str,
            "static_errors": int,
            "errors": int,  # error findings of the static and dynamic passes: what starts a round
            "findings": int,
            "diagnostics": str,  # JSON: the findings as `check --format json` writes them
            "scores": str,  # JSON: name -> value, as in `scores`
            "fixes_applied": int,  # a fixes round: the findings our applied fixes fix
            "passes": str,
            "error": str,
            "prompt_tokens": int,
            "completion_tokens": int,
            "cost_usd": float,
            "cached": int,
            "attempts": int,
            "generation_ms": float,
            "scoring_ms": float,
            "created_at": str,
        },
        pk=("run_id", "model", "prompting", "task_id", "sample_index", "round"),
        foreign_keys=[("run_id", "runs", "id")],
    )
    db["rounds"].create_index(["sample_id"])
    db["samples"].add_column("first_built_round", int)
