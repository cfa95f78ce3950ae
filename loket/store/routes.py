"""Route versions as they were pinned: written at submission, read by the pages and API."""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from loket.store.db import Conn

log = logging.getLogger(__name__)


async def remember_route(
    conn: Conn, permit_type: str, version: int, definition: dict[str, Any]
) -> None:
    """Keep the definition of ``permit_type`` version ``version`` (the first one seen)."""
    digest = hashlib.sha256(json.dumps(definition, sort_keys=True).encode()).hexdigest()
    stored = await conn.fetchval(
        """
        INSERT INTO route_versions (permit_type, version, digest, definition)
        VALUES ($1, $2, $3, $4)
        ON CONFLICT (permit_type, version) DO NOTHING
        RETURNING digest
        """,
        permit_type,
        version,
        digest,
        definition,
    ) or await conn.fetchval(
        "SELECT digest FROM route_versions WHERE permit_type = $1 AND version = $2",
        permit_type,
        version,
    )
    if stored != digest:
        # A definition edited without a new version: running cases keep what they pinned.
        log.warning(
            "%s v%s changed without a new version; the first one stays", permit_type, version
        )


async def route_definition(conn: Conn, permit_type: str, version: int) -> dict[str, Any] | None:
    value: dict[str, Any] | None = await conn.fetchval(
        "SELECT definition FROM route_versions WHERE permit_type = $1 AND version = $2",
        permit_type,
        version,
    )
    return value
