"""What every use case is given: the app's settings and its connections, made once."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
from temporalio.client import Client

from loket.calendar import CalendarSnapshot
from loket.route.loader import Catalog
from loket.route.model import PermitType
from loket.services.errors import NotFound
from loket.settings import Settings
from loket.store import routes

# Set per request by the edge (the API's middleware): who is asking, for the security log
# and the brakes. A contextvar so that use cases need no request object.
client_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("client_ip", default=None)


# Route versions are immutable once an application pinned them: read each once per process.
_PINNED: dict[tuple[str, int], PermitType] = {}


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Services:
    """Created once by the composition root's lifespan; held on ``app.state.services``."""

    settings: Settings
    pool: asyncpg.Pool
    client: Client
    catalog: Catalog
    calendar: CalendarSnapshot

    @property
    def token_ttl(self) -> timedelta:
        return timedelta(hours=self.settings.token_ttl_hours)

    def acquire(self) -> asyncpg.pool.PoolAcquireContext:
        """A connection from the pool, waiting at most ``db_acquire_timeout_s``: a pool
        exhausted or a database that does not answer is a fault, not a request that hangs."""
        return self.pool.acquire(timeout=self.settings.db_acquire_timeout_s)

    async def pinned_permit(self, permit_type: str, version: int) -> PermitType | None:
        """The route version an application is pinned to: today's catalog when it is that
        version, else the definition kept when the application was submitted."""
        current = self.catalog.permits.get(permit_type)
        if current is not None and current.version == version:
            return current
        key = (permit_type, version)
        if key not in _PINNED:
            async with self.acquire() as conn:
                definition = await routes.route_definition(conn, permit_type, version)
            if definition is None:
                return None
            _PINNED[key] = PermitType.model_validate(definition)
        return _PINNED[key]

    def permit(self, permit_id: str) -> PermitType:
        permit = self.catalog.permits.get(permit_id)
        if permit is None:
            raise NotFound("permit_not_found", permit_id=permit_id)
        return permit
