"""Sortable unique ids (ULIDs) for runs and samples, and UTC timestamps for the database."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


_last = [0, 0]  # the last ULID made by this process, as (milliseconds, integer value)
_lock = threading.Lock()


def ulid(now_ms: int | None = None) -> str:
    """A 26-character ULID: 48 bits of milliseconds then 80 random bits, Crockford base32.

    Ids made later sort after ids made earlier (to the millisecond), so `ORDER BY id` is
    creation order, as in the `llm` tool's logs. Within one millisecond (or should the clock
    step back) this process's next id is its last one plus one, the ULID spec's monotonic
    order, so ids made in one transaction keep their order too.
    """
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    with _lock:
        if now_ms is None and ms <= _last[0]:
            ms, value = _last[0], _last[1] + 1
        else:
            value = (ms << 80) | int.from_bytes(os.urandom(10), "big")
        if now_ms is None:
            _last[:] = [ms, value]
    out = []
    for _ in range(26):
        out.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(out))


def utc_now() -> str:
    """The current time as ISO 8601 in UTC, to the millisecond."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")
