"""Brakes kept in PostgreSQL so that every API process counts the same requests.

Fixed windows: a bucket (``track:ip:10.0.0.1``) counts hits per window of ``window_s``
seconds; over the limit, the answer says how long until the window ends. Failed sign-ins
are counted per user name; after ``max_failures`` in a row the name is locked for a while.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from loket.store.db import Conn

_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    hits: int
    retry_after_s: int  # 0 when allowed


def _window_start(now: datetime, window_s: int) -> datetime:
    elapsed = (now - _EPOCH).total_seconds()
    return _EPOCH + timedelta(seconds=math.floor(elapsed / window_s) * window_s)


async def hit(conn: Conn, bucket: str, *, limit: int, window_s: int, now: datetime) -> Verdict:
    """Count one request in ``bucket``; refused once more than ``limit`` fell in the window."""
    start = _window_start(now, window_s)
    hits: int = await conn.fetchval(
        """
        INSERT INTO rate_limit_windows (bucket, window_start, hits) VALUES ($1, $2, 1)
        ON CONFLICT (bucket, window_start)
        DO UPDATE SET hits = rate_limit_windows.hits + 1
        RETURNING hits
        """,
        bucket,
        start,
    )
    if hits == 1:  # a new window: forget windows long past (cheap, indexed)
        await conn.execute(
            "DELETE FROM rate_limit_windows WHERE window_start < $1", start - timedelta(hours=1)
        )
    if hits <= limit:
        return Verdict(True, hits, 0)
    end = start + timedelta(seconds=window_s)
    return Verdict(False, hits, max(1, math.ceil((end - now).total_seconds())))


async def locked_for(conn: Conn, username: str, *, now: datetime) -> int:
    """Seconds the user name stays locked after repeated failures (0: not locked)."""
    until: datetime | None = await conn.fetchval(
        "SELECT locked_until FROM signin_failures WHERE username = $1", username
    )
    if until is None or until <= now:
        return 0
    return max(1, math.ceil((until - now).total_seconds()))


async def signin_failed(
    conn: Conn, username: str, *, now: datetime, max_failures: int, lockout_s: int
) -> int:
    """Count a failure; returns the lockout in seconds when this one locks the name, else 0."""
    failures: int = await conn.fetchval(
        """
        INSERT INTO signin_failures (username, failures, last_at) VALUES ($1, 1, $2)
        ON CONFLICT (username) DO UPDATE SET failures = signin_failures.failures + 1,
            last_at = $2
        RETURNING failures
        """,
        username,
        now,
    )
    if failures < max_failures:
        return 0
    await conn.execute(
        "UPDATE signin_failures SET failures = 0, locked_until = $2 WHERE username = $1",
        username,
        now + timedelta(seconds=lockout_s),
    )
    return lockout_s


async def signin_succeeded(conn: Conn, username: str) -> None:
    await conn.execute("DELETE FROM signin_failures WHERE username = $1", username)


async def current(conn: Conn, bucket: str, *, window_s: int, now: datetime) -> Verdict:
    """The hits counted so far in this window, without counting one more."""
    start = _window_start(now, window_s)
    hits = await conn.fetchval(
        "SELECT hits FROM rate_limit_windows WHERE bucket = $1 AND window_start = $2",
        bucket,
        start,
    )
    end = start + timedelta(seconds=window_s)
    return Verdict(True, int(hits or 0), max(1, math.ceil((end - now).total_seconds())))
