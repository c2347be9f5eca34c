"""Reading a bench database in tests: rows of a query as dicts, the connection closed after."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def db_rows(db: Path | str, sql: str, *params: object) -> list[dict]:
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute(sql, params)]
    finally:
        con.close()
