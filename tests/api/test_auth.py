"""Users, passwords and bearer tokens: the store functions, the CLI, and /api/auth."""

from __future__ import annotations

import asyncio
import hashlib
import io
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from loket.settings import get_settings
from loket.store import users
from loket.store.users import UserError
from tests.api.harness import PASSWORD, Api


async def test_token_sign_in_me_and_logout(api: Api) -> None:
    await api.add_user("rina", "staff", "dpmptsp/front_office")
    r = await api.http.post("/api/auth/token", data={"username": "rina", "password": PASSWORD})
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer" and body["expires_at"]
    token = body["access_token"]
    headers = {"Authorization": f"Bearer {token}"}

    me = await api.http.get("/api/auth/me", headers=headers)
    assert me.status_code == 200
    assert me.json() == {
        "username": "rina",
        "full_name": "Rina",
        "role": "staff",
        "agency": "dpmptsp",
        "agency_name": "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu",
        "counters": [
            {
                "key": "dpmptsp/front_office",
                "agency": "dpmptsp",
                "counter": "front_office",
                "name": "Loket Pendaftaran",
            }
        ],
    }

    # Only hashes are stored: the bcrypt hash of the password, the sha256 of the token.
    async with api.services.pool.acquire() as conn:
        stored = await conn.fetchrow("SELECT password_hash FROM users WHERE username = 'rina'")
        tokens = [r["token_hash"] for r in await conn.fetch("SELECT token_hash FROM api_tokens")]
    assert stored is not None and stored["password_hash"].startswith("$2b$")
    assert PASSWORD not in stored["password_hash"]
    assert tokens == [hashlib.sha256(token.encode()).hexdigest()]

    out = await api.http.post("/api/auth/logout", headers=headers)
    assert out.status_code == 204
    again = await api.http.get("/api/auth/me", headers=headers)
    assert again.status_code == 401
    assert again.json()["code"] == "unauthorized"


async def test_wrong_credentials_and_missing_tokens_are_401_json(api: Api) -> None:
    await api.add_user("budi", "staff", "dpupr/pbg_secretariat")
    for username, password in [("budi", "wrong-password"), ("nobody", PASSWORD)]:
        r = await api.http.post(
            "/api/auth/token", data={"username": username, "password": password}
        )
        assert r.status_code == 401
        assert r.json()["code"] == "wrong_credentials"
        assert r.headers["www-authenticate"] == "Bearer"
    for headers in [{}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic x"}]:
        r = await api.http.get("/api/staff/inbox", headers=headers)
        assert r.status_code == 401 and r.json()["code"] == "unauthorized"
    # A form without a password names the missing field.
    r = await api.http.post("/api/auth/token", data={"username": "budi"})
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["password"]


async def test_expired_token_and_inactive_user_are_refused(api: Api) -> None:
    user = await api.add_user("agus", "staff", "dpupr/tpa")
    async with api.services.pool.acquire() as conn:
        old = await users.issue_token(
            conn, user, now=datetime.now(UTC) - timedelta(hours=13), ttl=timedelta(hours=12)
        )
        fresh = await users.issue_token(conn, user, now=datetime.now(UTC), ttl=timedelta(hours=1))
    r = await api.http.get("/api/auth/me", headers={"Authorization": f"Bearer {old.token}"})
    assert r.status_code == 401
    r = await api.http.get("/api/auth/me", headers={"Authorization": f"Bearer {fresh.token}"})
    assert r.status_code == 200
    async with api.services.pool.acquire() as conn:
        await conn.execute("UPDATE users SET active = false WHERE username = 'agus'")
    r = await api.http.get("/api/auth/me", headers={"Authorization": f"Bearer {fresh.token}"})
    assert r.status_code == 401
    r = await api.http.post("/api/auth/token", data={"username": "agus", "password": PASSWORD})
    assert r.status_code == 401


async def test_roles_are_enforced(api: Api) -> None:
    await api.add_user("iwan", "inspector")
    await api.add_user("ani", "admin")
    await api.add_user("sari", "supervisor", agency="dpupr")
    for username in ("iwan", "ani"):
        r = await api.as_user(username, "GET", "/api/staff/inbox")
        assert r.status_code == 403
        assert r.json()["code"] == "forbidden"
        assert r.json()["params"] == {"roles": "staff or supervisor"}
    r = await api.as_user("sari", "GET", "/api/staff/inbox")
    assert r.status_code == 200 and r.json() == []
    r = await api.as_user("sari", "GET", "/api/admin/applications/PBG-2026-000001/audit")
    assert r.status_code == 403
    r = await api.as_user("iwan", "POST", "/api/admin/applications/X/cancel", {"reason": "uji"})
    assert r.status_code == 403


@pytest.mark.parametrize(
    ("role", "agency", "counters", "message"),
    [
        ("staff", None, ["dpupr/nowhere"], "unknown counter 'dpupr/nowhere'"),
        ("staff", None, ["dpupr"], "unknown counter 'dpupr'"),
        ("staff", "dlh", ["dpupr/tpa"], "are not counters of agency 'dlh'"),
        ("staff", None, ["dpupr/tpa", "dlh/environmental_review"], "are not counters of agency"),
        ("staff", "dpupr", [], "staff serve at least one counter"),
        ("supervisor", None, [], "a supervisor belongs to an agency"),
        ("admin", None, ["dpupr/tpa"], "an admin serves no counter"),
        ("clerk", None, [], "unknown role 'clerk'"),
        ("staff", "nope", [], "unknown agency 'nope'"),
    ],
)
async def test_create_user_checks_the_catalog(
    api: Api, role: str, agency: str | None, counters: list[str], message: str
) -> None:
    with pytest.raises(UserError) as refused:
        await api.add_user("eko", role, *counters, agency=agency)
    assert message in str(refused.value)


async def test_create_user_refuses_duplicates_and_weak_passwords(api: Api) -> None:
    await api.add_user("dewi", "staff", "dlh/environmental_review")
    with pytest.raises(UserError, match="is taken"):
        await api.add_user("dewi", "staff", "dlh/environmental_review")
    with pytest.raises(UserError, match="at least 8"):
        await api.add_user("dewi2", "staff", "dlh/environmental_review", password="short")
    with pytest.raises(UserError, match="at most 72 bytes"):
        await api.add_user("dewi3", "staff", "dlh/environmental_review", password="x" * 73)
    with pytest.raises(UserError, match="username"):
        await api.add_user("Dewi Sartika", "staff", "dlh/environmental_review")
    # The agency is derived from the counters.
    user = await api.add_user("fajar", "staff", "bank/payment")
    assert user.agency == "bank" and user.counters == ("bank/payment",)


async def test_cli_users_add_list_and_migrate(
    db_dsn: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from loket.cli import main

    monkeypatch.setenv("DATABASE_URL", db_dsn)
    get_settings.cache_clear()
    try:
        monkeypatch.setattr("sys.stdin", io.StringIO("kata-sandi-gita\n"))
        code = await asyncio.to_thread(
            main,
            [
                "users",
                "add",
                "gita",
                "--role",
                "staff",
                "--name",
                "Gita Permata",
                "--counter",
                "dpmptsp/issuance",
                "--password-stdin",
            ],
        )
        assert code == 0
        assert "created gita (staff, dpmptsp, dpmptsp/issuance)" in capsys.readouterr().out

        monkeypatch.setattr("sys.stdin", io.StringIO("kata-sandi-gita\n"))
        args = ["users", "add", "hadi", "--role", "staff", "--name", "Hadi"]
        code = await asyncio.to_thread(
            main, [*args, "--counter", "dpupr/nowhere", "--password-stdin"]
        )
        assert code == 1
        assert "unknown counter 'dpupr/nowhere'" in capsys.readouterr().err

        assert await asyncio.to_thread(main, ["users", "list"]) == 0
        listing = capsys.readouterr().out.splitlines()
        assert listing[1].split("\t")[:4] == ["gita", "staff", "dpmptsp", "dpmptsp/issuance"]
        assert len(listing) == 2

        assert await asyncio.to_thread(main, ["migrate"]) == 0
        assert "up to date" in capsys.readouterr().out
    finally:
        get_settings.cache_clear()

    conn = await asyncpg.connect(db_dsn)
    try:
        user = await users.authenticate(conn, "gita", "kata-sandi-gita")
    finally:
        await conn.close()
    assert user is not None and user.full_name == "Gita Permata"
