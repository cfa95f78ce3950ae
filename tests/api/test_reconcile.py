"""``loket payments reconcile`` on payments recorded through real callbacks: a statement
with each kind of mismatch is reported row by row (exit 1), a statement that matches
exits 0."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from loket.case.bill import billing_code
from loket.cli import main
from loket.settings import get_settings
from tests.api.harness import Api
from tests.api.payments_support import (
    BANK,
    PTKA_AMOUNT,
    billed_ptka,
    callback,
    payment,
    payments_api,
)


@pytest_asyncio.fixture(loop_scope="session")
async def api(
    temporal_ts_env: WorkflowEnvironment,
    db_dsn: str,
    task_queue: str,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Api]:
    monkeypatch.setenv("DATABASE_URL", db_dsn)
    get_settings.cache_clear()
    try:
        async with payments_api(temporal_ts_env.client, db_dsn, task_queue) as running:
            yield running
    finally:
        get_settings.cache_clear()


async def _reconcile(
    capsys: pytest.CaptureFixture[str], path: Path, *extra: str
) -> tuple[int, str, str]:
    code = await asyncio.to_thread(
        main, ["payments", "reconcile", str(path), "--bank", BANK, *extra]
    )
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _csv(rows: list[tuple[str, str, object, datetime]]) -> str:
    lines = ["transaction_id,billing_code,amount,paid_at,description"]
    lines += [f"{tx},{code},{amount},{at.isoformat()},transfer" for tx, code, amount, at in rows]
    return "\n".join(lines) + "\n"


async def test_a_statement_with_each_kind_of_mismatch(
    api: Api, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bills = [await billed_ptka(api) for _ in range(4)]
    for (_, code), tx in zip(bills[:3], ("TX-A", "TX-B", "TX-C"), strict=True):
        r = await callback(api.http, payment(code, tx=tx))
        assert r.status_code == 200, r.text
    now = datetime.now(UTC)
    early, late = now - timedelta(hours=1), now + timedelta(hours=1)
    nobody = billing_code("PTKA-2026-999999", 1)
    statement = tmp_path / "bjb-2026-03.csv"
    statement.write_text(
        _csv(
            [
                ("TX-A", bills[0][1], PTKA_AMOUNT, early),  # matches
                ("TX-B", bills[1][1], PTKA_AMOUNT + 500, now),  # amount mismatch
                # TX-C was recorded but is missing: recorded-not-in-statement
                ("TX-D", bills[3][1], PTKA_AMOUNT, now),  # paid, callback lost
                ("TX-E", nobody, 250_000, now),  # paid for no bill
                ("TX-F", bills[0][1], "12.5x", late),  # unreadable row
                ("TX-G", "", PTKA_AMOUNT, late),  # unreadable row
            ]
        ),
        encoding="utf-8",
    )
    code, out, err = await _reconcile(capsys, statement, "--json")
    assert code == 1, err
    report = json.loads(out)
    assert report["matched"] == 1 and report["statement_rows"] == 6
    assert report["recorded_payments"] == 3
    found = {(m["kind"], m["transaction_id"]): m for m in report["mismatches"]}
    assert set(found) == {
        ("amount_mismatch", "TX-B"),
        ("recorded_not_in_statement", "TX-C"),
        ("paid_not_recorded", "TX-D"),
        ("paid_not_recorded", "TX-E"),
        ("invalid_row", None),
    }
    mismatch = found[("amount_mismatch", "TX-B")]
    assert (mismatch["statement_amount"], mismatch["recorded_amount"]) == (
        PTKA_AMOUNT + 500,
        PTKA_AMOUNT,
    )
    assert mismatch["registration_number"] == bills[1][0]
    assert found[("recorded_not_in_statement", "TX-C")]["registration_number"] == bills[2][0]
    lost = found[("paid_not_recorded", "TX-D")]
    assert lost["registration_number"] == bills[3][0] and lost["detail"].startswith("bill open")
    assert found[("paid_not_recorded", "TX-E")]["registration_number"] is None
    invalid = [m for m in report["mismatches"] if m["kind"] == "invalid_row"]
    assert sorted(m["line"] for m in invalid) == [6, 7]

    # The table says the same, one line a mismatch and a summary.
    code, out, _ = await _reconcile(capsys, statement)
    assert code == 1
    assert out.count("amount-mismatch") == 1 and out.count("paid-not-recorded") == 2
    assert "recorded-not-in-statement" in out and out.count("invalid-row") == 2
    assert "1 matched, 6 mismatches" in out


async def test_a_statement_that_matches_exits_zero(
    api: Api, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, code_a = await billed_ptka(api)
    r = await callback(api.http, payment(code_a, tx="TX-OK"))
    assert r.status_code == 200, r.text
    statement = tmp_path / "ok.csv"
    statement.write_text(_csv([("TX-OK", code_a, f"{PTKA_AMOUNT}.00", datetime.now(UTC))]))
    code, out, err = await _reconcile(capsys, statement)
    assert code == 0, out + err
    assert "1 matched, 0 mismatches" in out
    # A file without the columns is a usage error.
    bad = tmp_path / "bad.csv"
    bad.write_text("tx,amount\n1,2\n")
    code, _, err = await _reconcile(capsys, bad)
    assert code == 2 and "no column" in err
