"""Staff accounts and bearer tokens.

Passwords are stored as bcrypt hashes; bearer tokens are 32 random bytes (urlsafe) of
which only the sha256 is stored, so a leaked table lets nobody sign in. A user belongs to
one agency (administrators and inspectors may have none) and serves counters of that
agency, named ``agency/counter`` and checked against the catalog.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, get_args

import asyncpg
import bcrypt

from loket.case.messages import Actor
from loket.route.model import AgencyCatalog
from loket.store.db import Conn

log = logging.getLogger(__name__)

UserRole = Literal["staff", "supervisor", "admin", "inspector"]
USER_ROLES: tuple[str, ...] = get_args(UserRole)

BCRYPT_ROUNDS = 12
# bcrypt uses only the first 72 bytes; longer passwords are refused rather than truncated.
MAX_PASSWORD_BYTES = 72
MIN_PASSWORD_LENGTH = 8
TOKEN_BYTES = 32
USERNAME_PATTERN = "^[a-z][a-z0-9._-]{1,62}$"


@functools.cache
def _dummy_hash() -> str:
    """Checked when the username is unknown, at the usual cost, so that the answer's timing
    does not tell which usernames exist."""
    return bcrypt.hashpw(b"loket-no-such-user", bcrypt.gensalt(BCRYPT_ROUNDS)).decode()


class UserError(ValueError):
    """A user that cannot be created as asked; the message says why."""


@dataclass(frozen=True)
class User:
    id: int
    username: str
    full_name: str
    role: UserRole
    agency: str | None
    counters: tuple[str, ...]
    active: bool = True

    def actor(self) -> Actor:
        """The user as the workflow sees them (its validators check counters again)."""
        return Actor(
            username=self.username, role=self.role, agency=self.agency, counters=self.counters
        )

    def serves(self, agency: str, counter: str) -> bool:
        """Whether tasks at ``agency/counter`` are this user's: the rule of ``Actor.serves``."""
        return self.actor().serves(agency, counter)


# --- passwords ---------------------------------------------------------------------------


def check_password_policy(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    if len(password.encode()) > MAX_PASSWORD_BYTES:
        raise UserError(f"the password may have at most {MAX_PASSWORD_BYTES} bytes")


def hash_password(password: str, rounds: int = BCRYPT_ROUNDS) -> str:
    check_password_policy(password)
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds)).decode()


def password_matches(password: str, password_hash: str) -> bool:
    encoded = password.encode()
    if len(encoded) > MAX_PASSWORD_BYTES:
        return False
    try:
        return bcrypt.checkpw(encoded, password_hash.encode())
    except ValueError:  # a malformed stored hash never matches
        return False


# --- validation against the catalog ------------------------------------------------------


def check_assignment(
    agencies: AgencyCatalog, role: str, agency: str | None, counters: Sequence[str]
) -> tuple[str | None, tuple[str, ...]]:
    """Validate role, agency and ``agency/counter`` keys; returns the agency (derived from
    the counters when not given) and the counters, deduplicated in order."""
    if role not in USER_ROLES:
        raise UserError(f"unknown role '{role}': choose one of {', '.join(USER_ROLES)}")
    known = agencies.counter_keys()
    agency_ids = {a.id for a in agencies.agencies}
    keys: list[str] = []
    for key in counters:
        owner, sep, counter = key.partition("/")
        if not sep or (owner, counter) not in known:
            raise UserError(f"unknown counter '{key}': write agency/counter, e.g. dpupr/tpa")
        if key not in keys:
            keys.append(key)
    owners = {k.partition("/")[0] for k in keys}
    if agency is None and len(owners) == 1:
        agency = next(iter(owners))
    if agency is not None and agency not in agency_ids:
        raise UserError(f"unknown agency '{agency}'")
    if owners - {agency}:
        raise UserError(
            f"counters {', '.join(k for k in keys if not k.startswith(f'{agency}/'))} "
            f"are not counters of agency '{agency}'"
        )
    if role == "staff" and not keys:
        raise UserError("staff serve at least one counter (--counter agency/counter)")
    if role == "supervisor" and agency is None:
        raise UserError("a supervisor belongs to an agency (--agency)")
    if role in ("admin", "inspector") and keys:
        raise UserError(f"an {role} serves no counter")
    return agency, tuple(keys)


# --- users -------------------------------------------------------------------------------


def _user(row: asyncpg.Record, counters: Iterable[str]) -> User:
    return User(
        id=row["id"],
        username=row["username"],
        full_name=row["full_name"],
        role=row["role"],
        agency=row["agency"],
        counters=tuple(counters),
        active=row["active"],
    )


async def _counters_of(conn: Conn, user_id: int) -> list[str]:
    rows = await conn.fetch(
        "SELECT agency || '/' || counter AS key FROM user_counters WHERE user_id = $1 "
        "ORDER BY agency, counter",
        user_id,
    )
    return [r["key"] for r in rows]


async def create_user(
    conn: Conn,
    agencies: AgencyCatalog,
    *,
    username: str,
    full_name: str,
    password: str,
    role: str,
    agency: str | None = None,
    counters: Sequence[str] = (),
    rounds: int = BCRYPT_ROUNDS,
) -> User:
    """Create a user; raises :class:`UserError` for a taken name or an invalid assignment."""
    if not re.match(USERNAME_PATTERN, username):
        raise UserError(
            f"username '{username}': 2-63 characters, lower-case letters, digits, . _ -, "
            "starting with a letter"
        )
    if not full_name.strip():
        raise UserError("the full name is empty")
    agency, keys = check_assignment(agencies, role, agency, counters)
    password_hash = await asyncio.to_thread(hash_password, password, rounds)
    async with conn.transaction():
        try:
            row = await conn.fetchrow(
                "INSERT INTO users (username, full_name, password_hash, role, agency) "
                "VALUES ($1, $2, $3, $4, $5) RETURNING *",
                username,
                full_name.strip(),
                password_hash,
                role,
                agency,
            )
        except asyncpg.UniqueViolationError:
            raise UserError(f"username '{username}' is taken") from None
        assert row is not None
        await conn.executemany(
            "INSERT INTO user_counters (user_id, agency, counter) VALUES ($1, $2, $3)",
            [(row["id"], *key.split("/", 1)) for key in keys],
        )
    log.info("user %s created (%s, %s)", username, role, agency or "no agency")
    return _user(row, keys)


async def get_user(conn: Conn, username: str) -> User | None:
    row = await conn.fetchrow("SELECT * FROM users WHERE username = $1", username)
    if row is None:
        return None
    return _user(row, await _counters_of(conn, row["id"]))


async def list_users(conn: Conn) -> list[User]:
    rows = await conn.fetch(
        """
        SELECT u.*, COALESCE(array_agg(c.agency || '/' || c.counter ORDER BY c.agency, c.counter)
                             FILTER (WHERE c.user_id IS NOT NULL), '{}') AS keys
        FROM users u LEFT JOIN user_counters c ON c.user_id = u.id
        GROUP BY u.id ORDER BY u.username
        """
    )
    return [_user(r, r["keys"]) for r in rows]


async def authenticate(conn: Conn, username: str, password: str) -> User | None:
    """The active user with this password, else None (same work either way)."""
    row = await conn.fetchrow("SELECT * FROM users WHERE username = $1", username)
    stored = row["password_hash"] if row is not None else _dummy_hash()
    ok = await asyncio.to_thread(password_matches, password, stored)
    if row is None or not ok or not row["active"]:
        return None
    return _user(row, await _counters_of(conn, row["id"]))


# --- bearer tokens -----------------------------------------------------------------------


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: datetime


async def issue_token(conn: Conn, user: User, *, now: datetime, ttl: timedelta) -> IssuedToken:
    token = secrets.token_urlsafe(TOKEN_BYTES)
    expires_at = now + ttl
    await conn.execute(
        "INSERT INTO api_tokens (token_hash, user_id, created_at, expires_at) "
        "VALUES ($1, $2, $3, $4)",
        token_hash(token),
        user.id,
        now,
        expires_at,
    )
    # Expired tokens of this user are of no further use.
    await conn.execute(
        "DELETE FROM api_tokens WHERE user_id = $1 AND expires_at <= $2", user.id, now
    )
    return IssuedToken(token, expires_at)


async def resolve_token(conn: Conn, token: str, *, now: datetime) -> User | None:
    """The active user a valid, unexpired token belongs to, with their counters."""
    row = await conn.fetchrow(
        """
        SELECT u.* FROM api_tokens t JOIN users u ON u.id = t.user_id
        WHERE t.token_hash = $1 AND t.expires_at > $2 AND u.active
        """,
        token_hash(token),
        now,
    )
    if row is None:
        return None
    return _user(row, await _counters_of(conn, row["id"]))


async def revoke_token(conn: Conn, token: str) -> bool:
    status = await conn.execute("DELETE FROM api_tokens WHERE token_hash = $1", token_hash(token))
    return status.endswith(" 1")


# --- account administration (`loket users deactivate|reset-password|set-counters`) --------


async def _require(conn: Conn, username: str) -> asyncpg.Record:
    row = await conn.fetchrow("SELECT * FROM users WHERE username = $1", username)
    if row is None:
        raise UserError(f"no user '{username}'")
    return row


async def _end_sessions(conn: Conn, user_id: int) -> None:
    """Every bearer token and page session of the user stops working now."""
    await conn.execute("DELETE FROM api_tokens WHERE user_id = $1", user_id)
    await conn.execute("DELETE FROM web_sessions WHERE user_id = $1", user_id)


async def deactivate_user(conn: Conn, username: str) -> User:
    """The user can no longer sign in, and their open sessions end (tasks stay assigned:
    a supervisor reassigns them)."""
    async with conn.transaction():
        row = await _require(conn, username)
        await conn.execute("UPDATE users SET active = false WHERE id = $1", row["id"])
        await _end_sessions(conn, row["id"])
    log.info("user %s deactivated; sessions ended", username)
    user = await get_user(conn, username)
    assert user is not None
    return user


async def reset_password(
    conn: Conn, username: str, password: str, *, rounds: int = BCRYPT_ROUNDS
) -> User:
    """A new password; sessions signed in with the old one end."""
    row = await _require(conn, username)
    password_hash = await asyncio.to_thread(hash_password, password, rounds)
    async with conn.transaction():
        await conn.execute(
            "UPDATE users SET password_hash = $2 WHERE id = $1", row["id"], password_hash
        )
        await _end_sessions(conn, row["id"])
    log.info("password of %s reset; sessions ended", username)
    return _user(row, await _counters_of(conn, row["id"]))


async def set_counters(
    conn: Conn, agencies: AgencyCatalog, username: str, counters: Sequence[str]
) -> User:
    """Replace the counters a user serves, checked against the catalog and their role."""
    row = await _require(conn, username)
    _, keys = check_assignment(agencies, row["role"], row["agency"], counters)
    async with conn.transaction():
        await conn.execute("DELETE FROM user_counters WHERE user_id = $1", row["id"])
        await conn.executemany(
            "INSERT INTO user_counters (user_id, agency, counter) VALUES ($1, $2, $3)",
            [(row["id"], *key.split("/", 1)) for key in keys],
        )
    log.info("counters of %s set to %s", username, ", ".join(keys) or "none")
    return _user(row, keys)
