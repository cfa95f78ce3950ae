"""Server-side browser sessions: the cookie holds 32 random bytes, the table their sha256.

Kept apart from the API's bearer tokens (see migration 004): a session is only accepted
from the session cookie, and a bearer token only from the Authorization header.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from loket.store.db import Conn
from loket.store.users import TOKEN_BYTES, User, get_user


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_session(conn: Conn, user: User, *, now: datetime, ttl: timedelta) -> str:
    """A new session for ``user``; returns the cookie value (never stored as such)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    await conn.execute(
        "INSERT INTO web_sessions (token_hash, user_id, created_at, expires_at) "
        "VALUES ($1, $2, $3, $4)",
        _hash(token),
        user.id,
        now,
        now + ttl,
    )
    # Expired sessions of this user are of no further use.
    await conn.execute(
        "DELETE FROM web_sessions WHERE user_id = $1 AND expires_at <= $2", user.id, now
    )
    return token


async def session_user(conn: Conn, token: str, *, now: datetime) -> User | None:
    """The active user of an unexpired session, with their counters."""
    username = await conn.fetchval(
        """
        SELECT u.username FROM web_sessions s JOIN users u ON u.id = s.user_id
        WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.active
        """,
        _hash(token),
        now,
    )
    return None if username is None else await get_user(conn, username)


async def end_session(conn: Conn, token: str) -> None:
    await conn.execute("DELETE FROM web_sessions WHERE token_hash = $1", _hash(token))
