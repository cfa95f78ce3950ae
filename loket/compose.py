"""The composition root of the web app: the JSON API (``loket.api``), the pages
(``loket.web``) and the services they both call, wired once.

``create_app`` builds the app; its lifespan creates the asyncpg pool, connects the Temporal
client (unless one is given), and loads the catalog and the calendar snapshot once. Used by
``loket api``, ``loket dev`` and the tests. Only this module (and the worker, the CLI)
may import every layer.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from temporalio.client import Client

from loket.api.app import create_api
from loket.api.edge import Edge
from loket.calendar_data import covered_years, load_calendar
from loket.route.loader import load_catalog
from loket.services import Services
from loket.settings import Settings
from loket.store.db import create_pool
from loket.temporal import connect
from loket.web import install as install_web

log = logging.getLogger(__name__)


def create_app(settings: Settings, dsn: str, *, client: Client | None = None) -> FastAPI:
    """The API and the pages on the database at ``dsn`` and the Temporal server of
    ``settings`` (or ``client``, already connected with the pydantic data converter)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        definitions = settings.definitions_dir
        catalog = load_catalog(definitions)
        calendar = load_calendar(definitions, *covered_years(definitions))
        pool = await create_pool(dsn)
        try:
            temporal = client if client is not None else await connect(settings)
            app.state.services = Services(
                settings=settings, pool=pool, client=temporal, catalog=catalog, calendar=calendar
            )
            log.info(
                "API ready: %d permit types, calendar %s, task queue %r",
                len(catalog.permits),
                calendar.version,
                settings.temporal_task_queue,
            )
            yield
        finally:
            await pool.close()

    app = create_api(lifespan)
    install_web(app)  # pages, static files, security headers (loket/web)
    # Outermost: body limits before any parsing; no-store and HSTS on every answer.
    app.add_middleware(Edge, settings=settings)
    return app


__all__ = ["create_app"]
