"""``loket audit keygen|digest|verify|check`` on a real PostgreSQL (issue 9): a key pair
whose private half only its owner reads, a signed digest of the chain heads written as
open data, a verify that names the application whose published head was rewritten (exit
1), and the chain check of one application."""

from __future__ import annotations

import asyncio
import json
import stat
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio

from loket import audit_digest
from loket import embedded as services
from loket.cli import main
from loket.cli_audit import PRIVATE_KEY_FILE, PUBLIC_KEY_FILE
from loket.settings import get_settings
from loket.store.db import create_pool
from tests.store.test_chain import REG, _written


async def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = await asyncio.to_thread(main, list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest_asyncio.fixture(loop_scope="session")
async def anchor(
    db_dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[list[str]]:
    """A small chain (five events of REG) in a fresh database; the hashes the case wrote."""
    monkeypatch.setenv("DATABASE_URL", db_dsn)
    monkeypatch.setenv("LOKET_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    pool = await create_pool(db_dsn)
    try:
        yield await _written(pool)
    finally:
        await pool.close()
        get_settings.cache_clear()


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    private, public = audit_digest.new_key_pair()
    (tmp_path / "k.pem").write_bytes(private)
    (tmp_path / "k.pub.pem").write_bytes(public)
    return tmp_path / "k.pem", tmp_path / "k.pub.pem"


async def test_keygen_writes_a_private_key_only_its_owner_reads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "keys"
    code, out, err = await run(capsys, "audit", "keygen", "--out", str(folder))
    assert (code, err) == (0, "")
    private, public = folder / PRIVATE_KEY_FILE, folder / PUBLIC_KEY_FILE
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert stat.S_IMODE(public.stat().st_mode) == 0o644
    assert f"wrote {private}" in out and f"wrote {public}" in out
    document = audit_digest.sign(
        audit_digest.digest_document([], datetime.now(UTC)), private.read_bytes()
    )
    assert audit_digest.signature_valid(document, public.read_bytes())

    before = private.read_bytes()
    code, _, err = await run(capsys, "audit", "keygen", "--out", str(folder))
    assert code == 1 and "exists" in err  # never overwrites a key
    assert private.read_bytes() == before
    assert (await run(capsys, "audit", "keygen"))[0] == 2  # --out is required


async def test_digest_then_verify_then_a_rewrite_is_named(
    anchor: list[str], keys: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    private, public = keys
    code, out, err = await run(capsys, "audit", "digest", "--key", str(private))
    assert (code, err) == (0, "")
    today = datetime.now(UTC).date().isoformat()
    published = tmp_path / "data" / "open-data" / f"audit-digest-{today}.json"
    assert out == f"wrote {published}: 1 chain heads, signed at {out.split('signed at ')[1]}"
    document = json.loads(published.read_text(encoding="utf-8"))
    assert document["format"] == audit_digest.FORMAT
    assert audit_digest.heads_of(document) == [(REG, 5, anchor[-1])]
    assert audit_digest.signature_valid(document, public.read_bytes())
    # The published file is evidence: a second run the same day does not replace it.
    assert (await run(capsys, "audit", "digest", "--key", str(private)))[0] == 1
    forced = await run(capsys, "audit", "digest", "--key", str(private), "--force")
    assert forced[0] == 0

    argv = ("audit", "verify", str(published), "--public-key", str(public))
    code, out, err = await run(capsys, *argv)
    assert (code, err) == (0, "")
    assert "signature valid, 1 chain heads" in out and out.endswith(": intact\n")

    conn = await asyncpg.connect(get_settings().database_url)
    try:
        await conn.execute(
            "UPDATE audit_events SET hash = 'rewritten' WHERE registration_number = $1 AND seq = 5",
            REG,
        )
    finally:
        await conn.close()
    code, out, _ = await run(capsys, *argv)
    assert code == 1
    assert f"rewritten: {REG}\n" in out
    assert "1 of 1 published heads changed" in out and out.endswith("history rewritten\n")


async def test_verify_refuses_a_forged_file_or_another_key(
    anchor: list[str], keys: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    private, public = keys
    published = tmp_path / "digest.json"
    argv = ("audit", "digest", "--key", str(private), "--out", str(published))
    assert (await run(capsys, *argv))[0] == 0

    forged = json.loads(published.read_text(encoding="utf-8"))
    forged["heads"][0]["hash"] = "0" * 64
    (tmp_path / "forged.json").write_text(json.dumps(forged), encoding="utf-8")
    code, out, err = await run(
        capsys, "audit", "verify", str(tmp_path / "forged.json"), "--public-key", str(public)
    )
    assert (code, out) == (1, "") and "signature INVALID" in err

    _, other = audit_digest.new_key_pair()
    (tmp_path / "other.pem").write_bytes(other)
    code, _, err = await run(
        capsys, "audit", "verify", str(published), "--public-key", str(tmp_path / "other.pem")
    )
    assert code == 1 and "signature INVALID" in err

    # Usage errors: no such file; a refusal: not a digest, or a key of the wrong kind.
    missing = ("audit", "verify", str(tmp_path / "none.json"), "--public-key", str(public))
    assert (await run(capsys, *missing))[0] == 2
    (tmp_path / "not.json").write_text('{"format": "other"}', encoding="utf-8")
    code, _, err = await run(
        capsys, "audit", "verify", str(tmp_path / "not.json"), "--public-key", str(public)
    )
    assert code == 1 and "not a Loket audit digest" in err
    wrong_key = ("audit", "digest", "--key", str(public), "--out", str(tmp_path / "x.json"))
    code, _, err = await run(capsys, *wrong_key)
    assert code == 1 and "not an unencrypted Ed25519 private key" in err
    assert not (tmp_path / "x.json").exists()


async def test_check_reports_an_altered_row_and_a_changed_state(
    anchor: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = await run(capsys, "audit", "check", REG)
    assert (code, err) == (0, "")
    assert out == f"{REG}: 5 audit rows, chain intact (not anchored)\n"

    conn = await asyncpg.connect(get_settings().database_url)
    try:
        await conn.execute(
            'UPDATE audit_events SET details = details || \'{"note": "diubah"}\''
            " WHERE registration_number = $1 AND seq = 4",
            REG,
        )
        await conn.execute(
            "UPDATE applications SET status = 'approved' WHERE registration_number = $1", REG
        )
    finally:
        await conn.close()
    code, out, _ = await run(capsys, "audit", "check", REG)
    assert code == 1
    assert out.splitlines() == [
        "altered at seq: 4",
        "rows differing from the audit: application",
        f"{REG}: 5 audit rows, chain NOT intact (not anchored)",
    ]
    code, _, err = await run(capsys, "audit", "check", "PBG-2026-999999")
    assert code == 1 and "unknown application PBG-2026-999999" in err


async def test_an_unreachable_database_is_a_refusal_with_the_reason(
    monkeypatch: pytest.MonkeyPatch,
    keys: tuple[Path, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    port = services.free_port()
    monkeypatch.setenv("DATABASE_URL", f"postgresql://loket@127.0.0.1:{port}/loket")
    get_settings.cache_clear()
    try:
        code, out, err = await run(capsys, "audit", "check", REG)
        assert (code, out) == (1, "") and "loket audit check: database:" in err
        target = tmp_path / "digest.json"
        code, _, err = await run(
            capsys, "audit", "digest", "--key", str(keys[0]), "--out", str(target)
        )
        assert code == 1 and "database:" in err and not target.exists()
    finally:
        get_settings.cache_clear()
