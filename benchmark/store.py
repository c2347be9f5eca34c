"""The benchmark database: open (WAL, migrated), create and resume runs, record scored samples.

Plain tables through sqlite-utils (docs/schema.md): `runs`, `tasks`, `samples`, `findings`,
`scores`, `selftest`, `selftest_mutants`, and sqlite-utils' own `_sqlite_migrations`. A sample
is written in one transaction together with its findings and scores once it is scored, so a
run killed at any moment keeps every sample it finished and none half-written; the unique key
(run, model, prompting, task, sample index) makes a resumed run unable to record a sample twice.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deepeval_lsp.benchmark.ids import ulid, utc_now

if TYPE_CHECKING:
    import sqlite_utils
    from deepeval_lsp.diagnostics.tasks.model import Task

# Outcomes a resumed run does again rather than keep.
RETRY_OUTCOMES = ("error",)

# The prompting of samples no prompt was made for: the reference model's and the self-test's.
NO_PROMPTING = "none"


class StoreError(Exception):
    """The database cannot be used (not SQLite, locked, unknown run); one line for the user."""


def open_db(path: str | Path) -> sqlite_utils.Database:
    """Open (creating if needed) and migrate the database at `path`, in WAL mode."""
    import sqlite_utils
    from deepeval_lsp.benchmark.migrations import migrate

    p = Path(path)
    if p.is_dir():
        raise StoreError(f"{path}: is a directory, not a database file")
    if p.parent and not p.parent.exists():
        raise StoreError(f"{path}: the folder {p.parent} does not exist")
    try:
        db = sqlite_utils.Database(p)
        db.enable_wal()
        db.execute("PRAGMA busy_timeout = 5000")
        migrate(db)
    except sqlite3.DatabaseError as e:
        raise StoreError(f"{path}: not a usable SQLite database ({e})") from None
    return db


def checkpoint(db: sqlite_utils.Database) -> None:
    """Move the write-ahead log into the database file, so tools that open the file alone
    (read-only, or Datasette's `inspect`) see every row."""
    with contextlib.suppress(sqlite3.DatabaseError):
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def open_existing(path: str | Path) -> sqlite_utils.Database:
    """Open a database that must already exist (for `runs` and `report`)."""
    if not Path(path).exists():
        raise StoreError(f"{path}: no such database (run `deepeval-lsp bench` first)")
    return open_db(path)


@dataclass(frozen=True)
class RunConfig:
    """What a run asks for; stored with the run so `--resume` can finish it as it started."""

    suite: str
    models: list[str]
    promptings: list[str]
    samples: int
    temperature: float
    top_p: float
    max_tokens: int
    base_url: str | None
    task_ids: list[str] | None = None  # None: every task of the suite
    request_timeout: float = 120.0
    retries: int = 6
    concurrency: int = 8
    check_timeout_ms: int = 10_000
    dynamic: bool = True
    static_score: str | None = None
    price_in: float | None = None  # USD per million prompt tokens
    price_out: float | None = None  # USD per million completion tokens
    cache_dir: str | None = None  # the generation cache; None: no cache
    paper_compat: bool = False  # score as the study did where the checkers can

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> RunConfig:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in d.items() if k in known})


def create_run(db: sqlite_utils.Database, config: RunConfig, version: str) -> str:
    run_id = ulid()
    db["runs"].insert(
        {
            "id": run_id,
            "created_at": utc_now(),
            "finished_at": None,
            "status": "running",
            "suite": config.suite,
            "models": json.dumps(config.models),
            "promptings": json.dumps(config.promptings),
            "samples_per_task": config.samples,
            "temperature": config.temperature,
            "top_p": config.top_p,
            "max_tokens": config.max_tokens,
            "base_url": config.base_url,
            "config": json.dumps(config.to_json()),
            "tool_version": version,
            "error": None,
        }
    )
    return run_id


def load_run(db: sqlite_utils.Database, run_id: str) -> tuple[dict[str, Any], RunConfig]:
    rows = list(db.query("select * from runs where id = ?", [run_id]))
    if not rows:
        known = [r["id"] for r in db.query("select id from runs order by id desc limit 5")]
        hint = f" (recent runs: {', '.join(known)})" if known else " (the database has no runs)"
        raise StoreError(f"no run {run_id!r} in this database{hint}")
    row = rows[0]
    return row, RunConfig.from_json(json.loads(row["config"]))


def set_run_status(
    db: sqlite_utils.Database, run_id: str, status: str, error: str | None = None
) -> None:
    finished = utc_now() if status in ("finished", "failed") else None
    db["runs"].update(run_id, {"status": status, "finished_at": finished, "error": error})


def record_tasks(db: sqlite_utils.Database, run_id: str, tasks: list[Task]) -> None:
    db["tasks"].upsert_all(
        [
            {
                "run_id": run_id,
                "task_id": t.id,
                "difficulty": t.difficulty,
                "framework": t.framework,
                "requirement": t.requirement,
                "reference": t.reference,
                "input_shape": json.dumps([list(s.shape) for s in t.inputs]) if t.inputs else None,
            }
            for t in tasks
        ],
        pk=("run_id", "task_id"),
    )


SampleKey = tuple[str, str, str, int]  # model, prompting, task_id, sample_index


def done_keys(db: sqlite_utils.Database, run_id: str) -> set[SampleKey]:
    """The samples of a run that are finished (a resumed run leaves them alone)."""
    marks = ",".join("?" for _ in RETRY_OUTCOMES)
    rows = db.execute(
        "select model, prompting, task_id, sample_index from samples "
        f"where run_id = ? and outcome not in ({marks})",
        [run_id, *RETRY_OUTCOMES],
    ).fetchall()
    return {(m, p, t, int(i)) for m, p, t, i in rows}


def record_sample(
    db: sqlite_utils.Database,
    sample: dict[str, Any],
    findings: list[dict[str, Any]],
    scores: dict[str, float],
) -> str:
    """Write one scored sample with its findings and scores in one transaction; its id.

    A sample already recorded under the same key with a retry outcome is replaced.
    """
    key = [
        sample["run_id"],
        sample["model"],
        sample["prompting"],
        sample["task_id"],
        sample["sample_index"],
    ]
    sample_id = ulid()
    with db.atomic():
        old = db.execute(
            "select id from samples where run_id = ? and model = ? and prompting = ? "
            "and task_id = ? and sample_index = ?",
            key,
        ).fetchall()
        for (old_id,) in old:
            db.execute("delete from findings where sample_id = ?", [old_id])
            db.execute("delete from scores where sample_id = ?", [old_id])
            db.execute("delete from selftest_mutants where sample_id = ?", [old_id])
            db.execute("delete from samples where id = ?", [old_id])
        db["samples"].insert({**sample, "id": sample_id, "created_at": utc_now()})
        if findings:
            db["findings"].insert_all([{**f, "sample_id": sample_id} for f in findings])
        if scores:
            db["scores"].insert_all(
                [{"sample_id": sample_id, "name": k, "value": float(v)} for k, v in scores.items()]
            )
    return sample_id


def record_mutant(
    db: sqlite_utils.Database, sample: dict[str, Any], scores: dict[str, float], kind: str
) -> str:
    """Write one self-test mutant in one transaction: its sample and scores (as
    `record_sample`) and its kind in `selftest_mutants`; the sample's id."""
    with db.atomic():
        sample_id = record_sample(db, sample, [], scores)
        db["selftest_mutants"].insert({"sample_id": sample_id, "kind": kind})
    return sample_id


def list_runs(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Every run, newest first, with its sample counts."""
    return list(
        db.query(
            """
            select r.id, r.created_at, r.finished_at, r.status, r.suite, r.models,
                   r.promptings, r.samples_per_task,
                   count(s.id) as samples,
                   sum(case when s.executable = 1 then 1 else 0 end) as executable,
                   sum(case when s.executable is not null then 1 else 0 end) as measured,
                   sum(s.valid) as valid
            from runs r left join samples s on s.run_id = r.id
            group by r.id order by r.id desc
            """
        )
    )
