"""Development data ``loket dev`` puts into an empty database after the migrations: the
signing officials of definitions/officials.yaml (issuing a permit needs one on file)."""

from __future__ import annotations

import logging
from pathlib import Path

import asyncpg

from loket.officials import OFFICIALS_FILE, load_officials
from loket.store.permits import seed_officials

log = logging.getLogger(__name__)


async def seed_from_definitions(dsn: str, definitions: Path) -> int:
    """``loket dev``: the development officials, once, into an empty table."""
    conn = await asyncpg.connect(dsn)
    try:
        added = await seed_officials(conn, load_officials(definitions))
    finally:
        await conn.close()
    if added:
        log.info("officials: %d seeded from %s", added, definitions / OFFICIALS_FILE)
    return added
