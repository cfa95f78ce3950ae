"""``loket officials add|list|seed`` and ``loket permits list|revoke`` on a real database:
a bad NIP or date order is refused naming the field, an added Plt signs on its days, a
revocation is recorded with its reason and shown; exit codes 0 done, 1 refused."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
import pytest_asyncio

from loket.cli import main
from loket.settings import get_settings
from loket.store import permits
from loket.store.db import create_pool
from tests.store.test_permits_store import BASE, request


@pytest_asyncio.fixture(loop_scope="session")
async def conn(db_dsn: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Any]:
    monkeypatch.setenv("DATABASE_URL", db_dsn)
    get_settings.cache_clear()
    pool = await create_pool(db_dsn, max_size=2)  # its connections decode JSON as the app's
    try:
        async with pool.acquire() as connection:
            yield connection
    finally:
        await pool.close()
        get_settings.cache_clear()


async def run(*argv: str) -> int:
    return await asyncio.to_thread(main, list(argv))


async def test_officials_are_added_dated_and_listed(
    conn: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["officials", "add", "kepala_dpmptsp", "--title", "Kepala Dinas", "--name", "Rudi"]
    assert await run(*base, "--nip", "12345", "--from", "2027-01-01") == 1
    assert "nip:" in capsys.readouterr().err
    bad_order = ["--nip", "198001012006041001", "--from", "2027-02-01", "--to", "2027-01-01"]
    assert await run(*base, *bad_order) == 1
    assert "valid_to is before valid_from" in capsys.readouterr().err
    ok = ["--nip", "198001012006041001", "--from", "2027-01-01", "--to", "2027-01-31"]
    assert await run(*base, *ok, "--acting", "plt") == 0
    assert "added" in capsys.readouterr().out
    signer = await permits.signer_on(conn, "kepala_dpmptsp", date(2027, 1, 15))
    assert (signer.name, signer.acting) == ("Rudi", "plt")
    assert await run("officials", "list", "--position", "kepala_dpmptsp") == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and lines[-1].startswith("kepala_dpmptsp\tplt\t2027-01-01\t2027-01-31\t")
    assert await run("officials", "seed") == 0  # the table is kept: not empty
    assert "kept" in capsys.readouterr().out


async def test_a_permit_is_revoked_with_its_reason(
    conn: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = await permits.number_permit(conn, request("PBG-2026-000001"), BASE)
    assert await run("permits", "revoke", doc.number, "--reason", "xx") == 1
    assert "reason" in capsys.readouterr().err
    # Only numbered (its decision not recorded): not an issued permit.
    assert await run("permits", "revoke", doc.number, "--reason", "data palsu") == 1
    assert "no issued permit" in capsys.readouterr().err
    await conn.execute(
        "UPDATE permits SET status = 'issued', pdf_sha256 = $2, pdf_size = 1 WHERE number = $1",
        doc.number,
        "b" * 64,
    )
    assert await run("permits", "revoke", doc.number, "--reason", "data palsu") == 0
    assert capsys.readouterr().out.strip() == f"{doc.number}: revoked (data palsu)"
    row = await conn.fetchrow("SELECT * FROM permits WHERE number = $1", doc.number)
    assert row["status"] == "revoked" and row["revoked_by"] == "cli:development"
    assert row["revoked_at"] <= datetime.now(UTC)
    assert await run("permits", "list") == 0
    assert capsys.readouterr().out.startswith(f"{doc.number}\trevoked\t")
