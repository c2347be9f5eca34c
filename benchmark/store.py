"""The benchmark database: open (refusing what is not ours), migrate, create and resume runs,
record scored samples, each write in one transaction that waits its turn.

Plain tables through sqlite-utils (docs/schema.md): `runs`, `tasks`, `samples`, `findings`,
`scores`, `rounds`, `selftest`, `selftest_mutants`, `run_leases`, and sqlite-utils' own
`_sqlite_migrations`. A sample is written in one transaction together with its findings and
scores once it is scored, so a run killed at any moment keeps every sample it finished and none
half-written; the unique key (run, model, prompting, task, sample index) makes a resumed run
unable to record a sample twice. A repair sample's rounds (`rounds`) are each written in a
transaction of their own as soon as they are scored, before the sample is.

Several processes may use one database: every write transaction starts with `BEGIN IMMEDIATE`,
so it takes the write lock before it reads and waits (up to the busy timeout,
`DEEPEVAL_DB_TIMEOUT` seconds, 30 by default) for another process's transaction instead of
failing half-way; a run is written by one process at a time, the holder of its lease.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import socket
import sqlite3
import stat
from collections.abc import Iterator
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

SQLITE_MAGIC = b"SQLite format 3\x00"
DEFAULT_BUSY_TIMEOUT_S = 30.0


class StoreError(Exception):
    """The database cannot be used (not SQLite, not ours, locked, read-only, unknown run); one
    line for the user."""


class RunBusy(StoreError):
    """The run is being written by another process."""


def busy_timeout() -> float:
    """Seconds a write waits for another process's transaction: $DEEPEVAL_DB_TIMEOUT, else 30."""
    raw = os.environ.get("DEEPEVAL_DB_TIMEOUT", "")
    try:
        value = float(raw)
    except ValueError:
        return DEFAULT_BUSY_TIMEOUT_S
    return value if value >= 0 else DEFAULT_BUSY_TIMEOUT_S


def db_error(e: sqlite3.Error, what: str = "the database") -> StoreError:
    """One line for an SQLite error that is the environment's doing, not a bug."""
    text = str(e)
    if "locked" in text or "busy" in text:
        return StoreError(
            f"{what} is busy: another process held its write lock for more than "
            f"{busy_timeout():g} s (set DEEPEVAL_DB_TIMEOUT to wait longer); nothing was "
            "half-written"
        )
    if "readonly" in text or "read-only" in text:
        return StoreError(f"{what} is read-only ({text})")
    return StoreError(f"{what}: {text}")


@contextlib.contextmanager
def write(db: sqlite_utils.Database) -> Iterator[None]:
    """One write transaction: `BEGIN IMMEDIATE` takes the write lock first (waiting up to the
    busy timeout for other processes), then everything inside commits or rolls back together.
    Inside another transaction it is a savepoint of that one. SQLite's refusals (locked,
    read-only, disk full) become a StoreError."""
    conn = db.conn
    if conn.in_transaction:
        with db.atomic():
            yield
        return
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as e:
        raise db_error(e, _name(db)) from None
    try:
        yield
        conn.execute("COMMIT")
    except sqlite3.OperationalError as e:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise db_error(e, _name(db)) from None
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _name(db: sqlite_utils.Database) -> str:
    """The database's file name, for messages."""
    try:
        row = db.conn.execute("pragma database_list").fetchone()
    except sqlite3.Error:
        return "the database"
    return row[2] if row and row[2] else "the database"


@contextlib.contextmanager
def _short_wait(db: sqlite_utils.Database, seconds: float = 2.0) -> Iterator[None]:
    """Wait at most `seconds` for locks in the block: for what is worth trying, not waiting for."""
    db.conn.execute(f"PRAGMA busy_timeout = {int(seconds * 1000)}")
    try:
        yield
    finally:
        db.conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout() * 1000)}")


def open_db(path: str | Path, *, read_only: bool = False) -> sqlite_utils.Database:
    """Open the database at `path`, migrated.

    For writing (the default) it is created if needed and put in WAL mode. With `read_only`
    it must exist and is opened read-only; it is written to only when it is outdated and
    writable, to migrate it. A file that is not SQLite, or an SQLite database of another
    program (tables, none of them ours), is refused before anything is written to it.
    """
    import sqlite_utils

    p = Path(path)
    try:
        st: os.stat_result | None = os.stat(p)
    except FileNotFoundError:
        st = None
    except OSError as e:
        why = "symlink loop" if e.errno == errno.ELOOP else (e.strerror or str(e))
        raise StoreError(f"{path}: cannot open it ({why})") from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise StoreError(f"{path}: is a directory, not a database file")
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise StoreError(f"{path}: not a regular file, so not a database file")  # never opened
    folder = p.parent
    if not folder.is_dir():
        raise StoreError(f"{path}: the folder {folder} does not exist")
    fresh = st is None or st.st_size == 0
    if read_only and st is None:
        raise StoreError(f"{path}: no such database (run `deepeval-lsp bench` first)")
    if read_only and fresh:
        raise StoreError(f"{path}: an empty file, no benchmark database yet")
    if not fresh:
        _check_header(p, path)
    cannot_write = _cannot_write(p, folder)
    if cannot_write and not read_only:
        raise StoreError(f"{path}: cannot write to it ({cannot_write}); choose a writable --db")
    ro = read_only and not fresh
    try:
        db = sqlite_utils.Database(_connect(p, ro, cannot_write))
    except sqlite3.DatabaseError as e:
        raise StoreError(f"{path}: cannot open it ({e})") from None
    try:
        if not fresh and not _check_ours(db, path) and read_only:
            raise StoreError(f"{path}: holds no benchmark data yet (no tables)")
        pending = _pending(db)
        if pending and ro:
            if cannot_write:
                raise StoreError(
                    f"{path}: made by an older deepeval-lsp (schema steps {', '.join(pending)} "
                    f"not applied) and read-only here ({cannot_write}), so it cannot be "
                    "brought up to date: make it writable once, or use a writable copy"
                )
            db.close()
            db = sqlite_utils.Database(_connect(p, False, None))
            ro = False
        if pending:
            from deepeval_lsp.benchmark.migrations import migrate

            migrate(db)
        if not ro:
            db.enable_wal()
    except StoreError:
        db.close()
        raise
    except sqlite3.DatabaseError as e:
        db.close()
        if isinstance(e, sqlite3.OperationalError) and ("locked" in str(e) or "busy" in str(e)):
            raise db_error(e, str(path)) from None
        raise StoreError(f"{path}: not a usable SQLite database ({e})") from None
    return db


def open_existing(path: str | Path) -> sqlite_utils.Database:
    """Open a database that must already exist, read-only (for `runs` and `report`)."""
    return open_db(path, read_only=True)


def _check_header(p: Path, path: str | Path) -> None:
    try:
        with p.open("rb") as f:
            head = f.read(len(SQLITE_MAGIC))
    except OSError as e:
        raise StoreError(f"{path}: cannot read it ({e.strerror or e})") from None
    if head != SQLITE_MAGIC:
        raise StoreError(
            f"{path}: not a usable SQLite database (the file is not SQLite); it was left "
            "untouched: choose another --db"
        )


def _cannot_write(p: Path, folder: Path) -> str | None:
    """Why this process cannot write the database (its journal lives beside it), or None."""
    if p.exists() and not os.access(p, os.W_OK):
        return "the file is read-only"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"its folder {folder} is read-only"
    return None


def _connect(p: Path, read_only: bool, cannot_write: str | None) -> sqlite3.Connection:
    timeout = busy_timeout()
    if not read_only:
        return sqlite3.connect(str(p), timeout=timeout)
    uri = p.absolute().as_uri() + "?mode=ro"
    conn = sqlite3.connect(uri, uri=True, timeout=timeout)
    try:
        conn.execute("select count(*) from sqlite_master").fetchone()
    except sqlite3.OperationalError:
        # a WAL database in a folder nobody may write: its shared-memory file cannot be made,
        # and no process can be writing it, so it is read as an unchanging file
        conn.close()
        if not cannot_write:
            raise
        conn = sqlite3.connect(uri + "&immutable=1", uri=True, timeout=timeout)
    return conn


def _check_ours(db: sqlite_utils.Database, path: str | Path) -> bool:
    """Refuse an SQLite database of another program: one with tables and no record of our
    migrations. True when it is ours; False for an SQLite file without any table (as good
    as empty)."""
    from deepeval_lsp.benchmark.migrations import LEGACY_MIGRATIONS_TABLE, MIGRATIONS
    from sqlite_utils.migrations import Migrations

    rows = db.conn.execute(
        "select type, name from sqlite_master where name not like 'sqlite_%'"
    ).fetchall()
    names = {name for _, name in rows}
    if not names:
        return False
    checks = [
        (Migrations.migrations_table, "migration_set = ?", MIGRATIONS.name),
        (LEGACY_MIGRATIONS_TABLE, "name = ?", "m001_initial"),
    ]
    for table, where, value in checks:
        if table in names:
            with contextlib.suppress(sqlite3.DatabaseError):
                sql = f"select 1 from [{table}] where {where} limit 1"
                if db.conn.execute(sql, [value]).fetchone():
                    return True
    tables = sorted(name for kind, name in rows if kind == "table")
    shown = ", ".join(tables[:4]) + (", …" if len(tables) > 4 else "")
    raise StoreError(
        f"{path}: not a deepeval-lsp database (it holds other tables: {shown}); it was left "
        "untouched: choose another --db"
    )


def _pending(db: sqlite_utils.Database) -> list[str]:
    """The schema steps not yet applied (read without writing)."""
    from deepeval_lsp.benchmark.migrations import LEGACY_MIGRATIONS_TABLE, MIGRATIONS

    legacy = [LEGACY_MIGRATIONS_TABLE] if LEGACY_MIGRATIONS_TABLE in db.table_names() else []
    return legacy + [m.name for m in MIGRATIONS.pending(db)]


def checkpoint(db: sqlite_utils.Database) -> None:
    """Move the write-ahead log into the database file, so tools that open the file alone
    (read-only, or Datasette's `inspect`) see every row. Best effort: another process's
    transaction is not waited for long."""
    with contextlib.suppress(sqlite3.DatabaseError), _short_wait(db):
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


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
    """Record a new run, its lease held by this process; its id."""
    run_id = ulid()
    with write(db):
        _insert_run(db, run_id, config, version)
        claim_run(db, run_id)
    return run_id


def _insert_run(db: sqlite_utils.Database, run_id: str, config: RunConfig, version: str) -> None:
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
    with write(db):
        db["runs"].update(run_id, {"status": status, "finished_at": finished, "error": error})


def record_tasks(db: sqlite_utils.Database, run_id: str, tasks: list[Task]) -> None:
    rows = [
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
    ]
    with write(db):
        db["tasks"].upsert_all(rows, pk=("run_id", "task_id"))


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
    *,
    rounds: bool = False,
) -> str:
    """Write one scored sample with its findings and scores in one transaction; its id.

    A sample already recorded under the same key with a retry outcome is replaced. With
    `rounds` (a repair sample), its stored rounds are linked to it in the same transaction.
    """
    key = [
        sample["run_id"],
        sample["model"],
        sample["prompting"],
        sample["task_id"],
        sample["sample_index"],
    ]
    sample_id = ulid()
    with write(db):
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
        if rounds:
            db.execute(
                "update rounds set sample_id = ? where run_id = ? and model = ? "
                "and prompting = ? and task_id = ? and sample_index = ?",
                [sample_id, *key],
            )
    return sample_id


ROUND_KEY = ("run_id", "model", "prompting", "task_id", "sample_index", "round")


def record_round(db: sqlite_utils.Database, row: dict[str, Any]) -> None:
    """Write one scored round of a repair conversation in one transaction of its own, so a run
    killed mid-conversation keeps every round it has paid for."""
    with write(db):
        db["rounds"].insert({**row, "created_at": utc_now()}, pk=ROUND_KEY, replace=True)


def load_rounds(db: sqlite_utils.Database, run_id: str, key: SampleKey) -> list[dict[str, Any]]:
    """The stored rounds of one sample of a run, in order (none for a fresh sample)."""
    return list(
        db.query(
            "select * from rounds where run_id = ? and model = ? and prompting = ? "
            "and task_id = ? and sample_index = ? order by round",
            [run_id, *key],
        )
    )


def record_mutant(
    db: sqlite_utils.Database, sample: dict[str, Any], scores: dict[str, float], kind: str
) -> str:
    """Write one self-test mutant in one transaction: its sample and scores (as
    `record_sample`) and its kind in `selftest_mutants`; the sample's id."""
    with write(db):
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


# ---------------------------------------------------------------- who writes a run


def _process(pid: int) -> tuple[str, str] | None:
    """A process's state letter and a token naming it (boot and start time, so that a reused
    pid is another process), from /proc; None where /proc has no entry for it."""
    try:
        line = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = line[line.rfind(")") + 2 :].split()
    boot = ""
    with contextlib.suppress(OSError):
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    return fields[0], f"{boot}:{fields[19]}"


def _alive(pid: int, started: str | None) -> bool:
    """Whether the process that took a lease on this host still runs."""
    info = _process(pid)
    if info is not None:
        state, token = info
        return state not in ("Z", "X") and (not started or token == started)
    if Path("/proc/self/stat").exists():
        return False  # /proc is there and the pid is not
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _me() -> tuple[int, str, str | None]:
    pid = os.getpid()
    info = _process(pid)
    return pid, socket.gethostname(), info[1] if info else None


def claim_run(db: sqlite_utils.Database, run_id: str) -> None:
    """Take the run's lease for this process, or raise RunBusy when another process that still
    runs holds it (or one on another host, which cannot be asked). The lease of a process
    that ended (killed, crashed) is taken over."""
    pid, host, started = _me()
    with write(db):
        row = db.execute(
            "select pid, host, started, since from run_leases where run_id = ?", [run_id]
        ).fetchone()
        if row is not None and (row[0], row[1]) != (pid, host):
            other, other_host, other_started, since = row
            if other_host != host:
                raise RunBusy(
                    f"run {run_id} is being written by process {other} on {other_host} "
                    f"(since {since}); once it has stopped, delete its row from run_leases "
                    "to resume here"
                )
            if _alive(other, other_started):
                raise RunBusy(
                    f"run {run_id} is being written by another process (pid {other}, since "
                    f"{since}); wait for it to finish, or stop it and resume then"
                )
        db.execute(
            "insert or replace into run_leases (run_id, pid, host, started, since) "
            "values (?, ?, ?, ?, ?)",
            [run_id, pid, host, started, utc_now()],
        )


def release_run(db: sqlite_utils.Database, run_id: str) -> None:
    """Give the run's lease back. Best effort: the lease of a process that has ended is taken
    over anyway, so a busy database is not waited for."""
    pid, host, _ = _me()
    with contextlib.suppress(StoreError, sqlite3.Error), _short_wait(db), write(db):
        db.execute(
            "delete from run_leases where run_id = ? and pid = ? and host = ?",
            [run_id, pid, host],
        )
