"""Fixtures for workflow tests: the real catalog and calendar, a worker on a real database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio

from loket.calendar import CalendarSnapshot
from loket.calendar_data import covered_years, load_calendar
from loket.route.loader import Catalog, load_catalog
from loket.store.db import create_pool

DEFINITIONS = Path(__file__).resolve().parents[2] / "definitions"


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog(DEFINITIONS)


@pytest.fixture(scope="session")
def calendar_snapshot() -> CalendarSnapshot:
    return load_calendar(DEFINITIONS, *covered_years(DEFINITIONS))


@pytest_asyncio.fixture(loop_scope="session")
async def pool(db_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(db_dsn)
    try:
        yield pool
    finally:
        await pool.close()


def utcnow() -> datetime:
    return datetime.now(UTC)
