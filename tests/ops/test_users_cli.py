"""``loket users deactivate|reset-password|set-counters|list`` on a real database: a
deactivated user cannot sign in and their tokens and page sessions end; exit codes are 0
(done) and 1 (refused, reason on stderr)."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
import pytest_asyncio

from loket.cli import main
from loket.route.loader import load_agencies
from loket.settings import get_settings
from loket.store import sessions, users

PASSWORD = "kata-sandi-lama"
NEW_PASSWORD = "kata-sandi-baru"
HOUR = timedelta(hours=1)


@pytest_asyncio.fixture(loop_scope="session")
async def conn(db_dsn: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[asyncpg.Connection]:
    monkeypatch.setenv("DATABASE_URL", db_dsn)
    get_settings.cache_clear()
    agencies, _ = load_agencies(get_settings().definitions_dir)
    assert agencies is not None
    connection = await asyncpg.connect(db_dsn)
    for name, role, counters in (
        ("rina", "staff", ["dpmptsp/front_office"]),
        ("agus", "staff", ["dpupr/tpa"]),
        ("admin", "admin", []),
    ):
        await users.create_user(
            connection,
            agencies,
            username=name,
            full_name=name.title(),
            password=PASSWORD,
            role=role,
            counters=counters,
            rounds=4,
        )
    try:
        yield connection
    finally:
        await connection.close()
        get_settings.cache_clear()


async def run(*argv: str, stdin: str = "") -> int:
    import sys

    sys.stdin = io.StringIO(stdin)
    try:
        return await asyncio.to_thread(main, list(argv))
    finally:
        sys.stdin = sys.__stdin__


async def _signed_in(conn: asyncpg.Connection, username: str) -> tuple[str, str]:
    user = await users.get_user(conn, username)
    assert user is not None
    now = datetime.now(UTC)
    token = (await users.issue_token(conn, user, now=now, ttl=HOUR)).token
    session = await sessions.create_session(conn, user, now=now, ttl=HOUR)
    return token, session


async def test_deactivated_users_cannot_sign_in_and_their_sessions_end(
    conn: asyncpg.Connection, capsys: pytest.CaptureFixture[str]
) -> None:
    token, session = await _signed_in(conn, "rina")
    now = datetime.now(UTC)
    assert await users.resolve_token(conn, token, now=now) is not None
    assert await run("users", "deactivate", "rina") == 0
    assert capsys.readouterr().out.startswith("deactivated rina (")
    assert await users.resolve_token(conn, token, now=now) is None
    assert await sessions.session_user(conn, session, now=now) is None
    assert await users.authenticate(conn, "rina", PASSWORD) is None
    user = await users.get_user(conn, "rina")
    assert user is not None and not user.active

    assert await run("users", "deactivate", "nobody") == 1
    assert "nobody" in capsys.readouterr().err


async def test_reset_password_ends_sessions_and_keeps_the_policy(
    conn: asyncpg.Connection, capsys: pytest.CaptureFixture[str]
) -> None:
    token, _ = await _signed_in(conn, "agus")
    assert await run("users", "reset-password", "agus", "--password-stdin", stdin=NEW_PASSWORD) == 0
    assert await users.authenticate(conn, "agus", PASSWORD) is None
    assert await users.authenticate(conn, "agus", NEW_PASSWORD) is not None
    assert await users.resolve_token(conn, token, now=datetime.now(UTC)) is None
    capsys.readouterr()
    assert await run("users", "reset-password", "agus", "--password-stdin", stdin="short") == 1
    assert await users.authenticate(conn, "agus", NEW_PASSWORD) is not None


async def test_set_counters_is_checked_against_the_catalog_and_the_role(
    conn: asyncpg.Connection, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ("users", "set-counters", "agus", "--counter", "dpupr/tpa")
    assert await run(*argv, "--counter", "dpupr/retribution") == 0
    user = await users.get_user(conn, "agus")
    assert user is not None and user.counters == ("dpupr/retribution", "dpupr/tpa")
    capsys.readouterr()
    assert await run("users", "set-counters", "agus", "--counter", "dpupr/nowhere") == 1
    assert "dpupr/nowhere" in capsys.readouterr().err
    assert await run("users", "set-counters", "admin", "--counter", "dpupr/tpa") == 1
    assert await run("users", "set-counters", "agus", "--counter", "dlh/environmental_review") == 1
    assert await run("users", "set-counters", "agus", "--counter", "dpupr/tpa") == 0
    user = await users.get_user(conn, "agus")
    assert user is not None and user.counters == ("dpupr/tpa",)


async def test_list_filters(conn: asyncpg.Connection, capsys: pytest.CaptureFixture[str]) -> None:
    assert await run("users", "deactivate", "rina") == 0
    capsys.readouterr()

    async def listed(*filters: str) -> list[str]:
        assert await run("users", "list", *filters) == 0
        return [line.split("\t")[0] for line in capsys.readouterr().out.splitlines()[1:]]

    assert await listed() == ["admin", "agus", "rina"]
    assert await listed("--role", "staff") == ["agus", "rina"]
    assert await listed("--agency", "dpupr") == ["agus"]
    assert await listed("--counter", "dpmptsp/front_office") == ["rina"]
    assert await listed("--inactive") == ["rina"]
    assert await listed("--active", "--role", "staff") == ["agus"]
    assert await run("users", "list", "--active", "--inactive") == 2  # a usage error
    assert "exclude each other" in capsys.readouterr().err
