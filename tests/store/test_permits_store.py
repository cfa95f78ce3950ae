"""The permit store on a real PostgreSQL: numbers gap-free per type and year under
concurrency, a retry takes no second number, a rollback takes none, the signer is the
holder on the issue date (an acting Plt/Plh standing in), revocation is audited."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import asyncpg
import pytest
import pytest_asyncio

from loket.case.permit import NumberingRequest
from loket.route.loader import load_catalog
from loket.settings import PROJECT_ROOT
from loket.store import permits
from loket.store.db import create_pool

SPEC = load_catalog(PROJECT_ROOT / "definitions").permits["PBG"].issued_permit
BASE = "https://loket.example/"
# 2026-12-31 17:30 UTC is 2027-01-01 00:30 in Blora (WIB): the permit belongs to 2027.
NEW_YEAR = datetime(2026, 12, 31, 17, 30, tzinfo=UTC)


@pytest_asyncio.fixture(loop_scope="session")
async def pool(db_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(db_dsn, max_size=12)
    yield pool
    await pool.close()


def request(reg: str, at: datetime = datetime(2026, 12, 1, 3, tzinfo=UTC)) -> NumberingRequest:
    assert SPEC is not None
    return NumberingRequest(
        registration_number=reg,
        permit_type="PBG",
        permit_name="Persetujuan Bangunan Gedung",
        route_version=1,
        issued_at=at,
        utc_offset_hours=7,
        spec=SPEC,
        legal_basis=("PP 16/2021",),
        holder_name="Siti Rahayu",
        holder_id_masked="3316********0001",
        object=(("Alamat lokasi bangunan", "Jl. Pemuda 12, Blora"),),
    )


async def number(pool: asyncpg.Pool, req: NumberingRequest) -> str:
    async with pool.acquire() as conn:
        return (await permits.number_permit(conn, req, BASE)).number


async def test_concurrent_numberings_are_gap_free_and_a_retry_takes_no_number(
    pool: asyncpg.Pool,
) -> None:
    regs = [f"PBG-2026-{i:06d}" for i in range(1, 21)]
    # Every application numbered twice at once (a retry racing the first attempt).
    numbers = await asyncio.gather(*(number(pool, request(r)) for r in regs + regs))
    by_reg = dict(zip(regs + regs, numbers, strict=True))
    assert numbers[:20] == numbers[20:]
    seqs = sorted(int(n.split("/")[1]) for n in by_reg.values())
    assert seqs == list(range(1, 21))
    assert all(n.endswith("/PBG/DPMPTSP/2026") for n in numbers)
    assert await pool.fetchval("SELECT last_value FROM permit_counters WHERE year = 2026") == 20
    row = await pool.fetchrow("SELECT * FROM permits WHERE registration_number = $1", regs[0])
    assert row["status"] == "numbered" and row["document"]["verify_url"].startswith(
        "https://loket.example/verify/503/"
    )


async def test_the_year_is_the_local_one_and_restarts_the_count(pool: asyncpg.Pool) -> None:
    assert await number(pool, request("PBG-2026-000001")) == "503/0001/PBG/DPMPTSP/2026"
    assert await number(pool, request("PBG-2026-000002", NEW_YEAR)) == "503/0001/PBG/DPMPTSP/2027"


async def test_no_signer_on_the_day_takes_no_number(pool: asyncpg.Pool) -> None:
    early = datetime(2020, 6, 1, 3, tzinfo=UTC)  # before anyone in the seed held the post
    with pytest.raises(permits.NoSigningOfficial) as refused:
        await number(pool, request("PBG-2026-000001", early))
    assert refused.value.position == "kepala_dpmptsp" and refused.value.on == date(2020, 6, 1)
    assert await pool.fetchval("SELECT count(*) FROM permit_counters") == 0
    assert await pool.fetchval("SELECT count(*) FROM permits") == 0


async def test_the_signer_is_the_holder_on_the_day_and_an_acting_one_stands_in(
    pool: asyncpg.Pool,
) -> None:
    async with pool.acquire() as conn:
        holder = await permits.signer_on(conn, "kepala_dpmptsp", date(2026, 12, 1))
        stand_in = await permits.signer_on(conn, "kepala_dpmptsp", date(2026, 12, 24))
        after = await permits.signer_on(conn, "kepala_dpmptsp", date(2027, 1, 4))
        await permits.add_official(
            conn,
            position="kepala_dpmptsp",
            title="Kepala Dinas",
            name="Rudi Hartono, S.E.",
            nip="198001012006041001",
            valid_from=date(2027, 1, 1),
            valid_to=None,
            acting="plt",
        )
        plt = await permits.signer_on(conn, "kepala_dpmptsp", date(2027, 1, 4))
    assert (holder.acting, holder.name) == ("definitive", "Dr. Sri Wahyuningsih, S.T., M.M.")
    assert (stand_in.acting, stand_in.name) == ("plh", "Bambang Setiawan, S.H.")
    assert after.acting == "definitive"
    assert (plt.acting, plt.name) == ("plt", "Rudi Hartono, S.E.")
    # The permit records who signed: a numbering on the Plh's day carries the Plh.
    async with pool.acquire() as conn:
        doc = await permits.number_permit(
            conn, request("PBG-2026-000009", datetime(2026, 12, 22, 3, tzinfo=UTC)), BASE
        )
    assert doc.signer.acting == "plh" and doc.issued_on == date(2026, 12, 22)


async def test_revocation_needs_an_issued_permit_and_is_audited(pool: asyncpg.Pool) -> None:
    num = await number(pool, request("PBG-2026-000001"))
    async with pool.acquire() as conn:
        assert await permits.revoke(conn, num, "data palsu", "admin") is None  # only numbered
        await conn.execute(
            "UPDATE permits SET status = 'issued', pdf_sha256 = $2, pdf_size = 1 WHERE number = $1",
            num,
            "a" * 64,
        )
        revoked = await permits.revoke(conn, num, "data palsu", "admin")
        again = await permits.revoke(conn, num, "lagi", "admin")
        trail = await permits.events(conn, num)
    assert revoked is not None and revoked.status == "revoked"
    assert again is not None and again.revoked_reason == "data palsu"  # left as it was
    assert [e["event"] for e in trail] == ["permit_numbered", "permit_revoked"]
    assert trail[1]["actor"] == "admin" and trail[1]["details"] == {"reason": "data palsu"}
