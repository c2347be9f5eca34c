"""The schema's migrations: a database made by release 0.1.0 opens, migrates without losing a
row, and `runs` and `report` print what release 0.1.0 printed on it; a fresh database gets the
same schema as a migrated old one.

`data/release-0.1.0.sqlite` was made with deepeval-lsp 0.1.0 (commit d7ce828), in an empty
folder with XDG_CACHE_HOME pointing into it:

    deepeval-lsp bench --limit 2 --samples 1 --db fx.db -q --workers 1
    deepeval-lsp bench --model replay:toy.jsonl --prompting zeroshot,oneshot --limit 2 \
        --samples 2 --no-cache --db fx.db -q --workers 1
    deepeval-lsp selftest --limit 1 --workers 1 --db fx.db
    python -c "import sqlite3; c = sqlite3.connect('fx.db'); \
        c.execute('PRAGMA wal_checkpoint(TRUNCATE)'); \
        c.execute(\"VACUUM INTO 'release-0.1.0.sqlite'\")"

`data/release-0.1.0/toy.jsonl` is the replay: for each of the first two builtin tasks, under
zeroshot its reference and a chat answer holding its `linear_in_features` mutant, under oneshot
its `hallucinated_member` mutant and an answer with no code. The other files of
`data/release-0.1.0/` are what 0.1.0 printed on a copy of the database: `runs`, `runs --json`,
`report --all` (runs.txt, runs.json, report.txt) and `report --all --format json|csv`.
"""

from __future__ import annotations

import copy
import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from deepeval_lsp.benchmark.migrations import LEGACY_MIGRATIONS_TABLE, MIGRATIONS
from deepeval_lsp.benchmark.store import StoreError, open_db
from sqlite_utils.migrations import Migrations

from deepeval_lsp.cli import main

DATA = Path(__file__).parent / "data"
RELEASE_DB = DATA / "release-0.1.0.sqlite"
RELEASE_OUT = DATA / "release-0.1.0"
TABLES = ("runs", "tasks", "samples", "findings", "scores", "selftest")
SELFTEST_RUN = "01M8XFK46VE06F739FMX02GGHA"  # the fixture's self-test run: 1 task, 4 kinds


def _rows(path: Path, table: str) -> list[dict]:
    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute(f"select * from [{table}] order by rowid")]
    finally:
        con.close()


def _schema(path: Path) -> list[tuple[str, str, str | None]]:
    con = sqlite3.connect(path)
    try:
        return con.execute(
            "select type, name, sql from sqlite_master where name not like 'sqlite_%' "
            "order by type, name"
        ).fetchall()
    finally:
        con.close()


@pytest.fixture
def old_db(tmp_path: Path) -> Path:
    path = tmp_path / "old.sqlite"
    shutil.copy(RELEASE_DB, path)
    return path


def test_a_release_database_migrates_without_losing_a_row(old_db: Path) -> None:
    before = {t: _rows(old_db, t) for t in TABLES}
    assert all(before.values())
    open_db(old_db).close()
    after = {t: _rows(old_db, t) for t in TABLES}
    # what moves: the self-test run's kinds leave its promptings and its mutants' prompting
    expected = copy.deepcopy(before)
    for run in expected["runs"]:
        if run["id"] == SELFTEST_RUN:
            run["promptings"] = json.dumps(["none"])
            run["config"] = json.dumps({**json.loads(run["config"]), "promptings": ["none"]})
    index = 0
    for sample in expected["samples"]:
        sample["first_built_round"] = None  # m005: only repair samples have one
        if sample["run_id"] == SELFTEST_RUN:
            sample["prompting"], sample["sample_index"] = "none", index
            index += 1
    assert index == 4
    assert after == expected


def test_the_release_selftest_kinds_move_to_selftest_mutants(old_db: Path) -> None:
    kinds = [
        (s["id"], s["prompting"]) for s in _rows(old_db, "samples") if s["run_id"] == SELFTEST_RUN
    ]
    assert [k for _, k in kinds] == [
        "linear_in_features",
        "hallucinated_member",
        "invalid_value",
        "missing_argument",
    ]
    open_db(old_db).close()
    assert [(r["sample_id"], r["kind"]) for r in _rows(old_db, "selftest_mutants")] == kinds


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["runs"], "runs.txt"),
        (["report", "--all"], "report.txt"),
        (["report", "--all", "--format", "json"], "report.json"),
        (["report", "--all", "--format", "csv"], "report.csv"),
    ],
)
def test_runs_and_report_print_what_the_release_printed(
    old_db: Path, argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*argv, "--db", str(old_db)]) == 0
    assert capsys.readouterr().out == (RELEASE_OUT / expected).read_text(encoding="utf-8")


def test_runs_json_prints_what_the_release_printed_but_the_selftest_kinds(
    old_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["runs", "--json", "--db", str(old_db)]) == 0
    expected = json.loads((RELEASE_OUT / "runs.json").read_text(encoding="utf-8"))
    assert expected[0]["id"] == SELFTEST_RUN
    expected[0]["promptings"] = ["none"]
    assert json.loads(capsys.readouterr().out) == expected


def test_a_fresh_database_has_the_schema_of_a_migrated_one(old_db: Path, tmp_path: Path) -> None:
    fresh = tmp_path / "fresh.sqlite"
    open_db(fresh).close()
    open_db(old_db).close()
    assert _schema(fresh) == _schema(old_db)


def test_a_migrated_database_opens_again_unchanged(old_db: Path) -> None:
    open_db(old_db).close()
    schema, rows = _schema(old_db), {t: _rows(old_db, t) for t in TABLES}
    open_db(old_db).close()
    assert _schema(old_db) == schema
    assert {t: _rows(old_db, t) for t in TABLES} == rows


def test_the_release_bookkeeping_moves_into_sqlite_utils_table(old_db: Path) -> None:
    legacy = [(r["name"], r["applied_at"]) for r in _rows(old_db, LEGACY_MIGRATIONS_TABLE)]
    assert [name for name, _ in legacy] == ["m001_initial", "m002_selftest"]
    db = open_db(old_db)
    assert LEGACY_MIGRATIONS_TABLE not in db.table_names()
    applied = MIGRATIONS.applied(db)
    assert [(m.name, m.applied_at) for m in applied[: len(legacy)]] == legacy
    assert MIGRATIONS.pending(db) == []
    db.close()


def test_a_release_database_with_only_the_first_migration_gets_the_rest(old_db: Path) -> None:
    con = sqlite3.connect(old_db)
    with con:
        con.execute(f"delete from {LEGACY_MIGRATIONS_TABLE} where name = 'm002_selftest'")
        con.execute("drop table selftest")
    con.close()
    db = open_db(old_db)
    assert "selftest" in db.table_names()
    assert MIGRATIONS.pending(db) == []
    db.close()


def test_a_failed_move_of_the_release_bookkeeping_leaves_it_in_place(
    old_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(db: object) -> list:
        raise sqlite3.OperationalError("disk I/O error")

    # fails once sqlite-utils' table is made, inside the move's transaction
    monkeypatch.setattr(MIGRATIONS, "applied", broken)
    with pytest.raises(StoreError):
        open_db(old_db)
    assert [r["name"] for r in _rows(old_db, LEGACY_MIGRATIONS_TABLE)] == [
        "m001_initial",
        "m002_selftest",
    ]
    con = sqlite3.connect(old_db)
    tables = {r[0] for r in con.execute("select name from sqlite_master where type = 'table'")}
    con.close()
    assert Migrations.migrations_table not in tables
