"""``loket dev``, ``loket api``, ``loket worker`` and ``loket openapi``: running Loket.

The stack itself is loket.devstack; this module holds only the command line. ``api`` and
``worker`` are what the production containers run; without ``DATABASE_URL`` they exit 2.
"""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Annotated

import typer

from loket import devstack
from loket.cli_common import EXIT_OK, EXIT_USAGE, doc_help, exits, out
from loket.settings import Settings, get_settings

logger = logging.getLogger(__name__)

PANEL = "Running Loket"
_NO_DATABASE = "DATABASE_URL is not set; `loket dev` runs the embedded stack instead"


def register(app: typer.Typer) -> None:
    app.command(
        "dev",
        help=doc_help(devstack.__doc__),
        short_help="run the whole local stack (Temporal dev server, PostgreSQL, worker, API)",
        rich_help_panel=PANEL,
    )(exits(_dev))
    app.command(
        "api",
        help="Serve only the HTTP API against DATABASE_URL and LOKET_TEMPORAL_ADDRESS, "
        "migrations first (production; `loket dev` runs everything). Exit 2 without "
        "DATABASE_URL.",
        short_help="serve only the HTTP API (production)",
        rich_help_panel=PANEL,
    )(exits(_api))
    app.command(
        "worker",
        help="Run only the Temporal worker against DATABASE_URL and LOKET_TEMPORAL_ADDRESS "
        "(production; run several for more throughput). Exit 2 without DATABASE_URL.",
        short_help="run only the Temporal worker (production)",
        rich_help_panel=PANEL,
    )(exits(_worker))
    app.command(
        "openapi",
        help="Print the API's OpenAPI document (JSON) without starting any server.",
        short_help="print the OpenAPI document",
        rich_help_panel=PANEL,
    )(exits(_openapi))


def _dev(
    ctx: typer.Context,
    temporal_address: Annotated[
        str | None,
        typer.Option(
            metavar="HOST:PORT",
            help="use this running Temporal server instead of starting the dev server "
            "(default: LOKET_TEMPORAL_ADDRESS when set)",
        ),
    ] = None,
    temporal_port: Annotated[
        int | None,
        typer.Option(help="gRPC port of the dev server this command starts (default 7233)"),
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="where PostgreSQL and Temporal keep their data")
    ] = None,
    api_host: Annotated[
        str | None, typer.Option(help="API bind address (default: LOKET_API_HOST)")
    ] = None,
    api_port: Annotated[int | None, typer.Option(help="API port (default: LOKET_API_PORT)")] = None,
    ui_port: Annotated[
        int | None,
        typer.Option(
            help="Temporal Web UI port of the dev server (default: the port of "
            "LOKET_TEMPORAL_UI_URL)"
        ),
    ] = None,
) -> int:
    if temporal_address and temporal_port is not None:
        raise typer.BadParameter(
            "not both: --temporal-address names a running server, --temporal-port the port "
            "of the dev server this command starts",
            param_hint="'--temporal-port'",
        )
    flags = devstack.DevFlags(
        temporal_address, temporal_port, data_dir, api_host, api_port, ui_port
    )
    return devstack.run_dev_command(flags, verbose=bool(ctx.find_root().params.get("verbose")))


def _production_settings() -> Settings | None:
    settings = get_settings()
    if not settings.database_url:
        logger.error(_NO_DATABASE)
        return None
    return settings


def _worker() -> int:
    if _production_settings() is None:
        return EXIT_USAGE
    import worker

    worker.main()
    return EXIT_OK


def _api() -> int:
    """The API alone, as the production container runs it; migrations first (they take an
    advisory lock, so API and worker replicas may start together)."""
    settings = _production_settings()
    if settings is None:
        return EXIT_USAGE
    asyncio.run(devstack.serve_api_alone(settings))
    return EXIT_OK


def _openapi() -> int:
    from loket.compose import create_app

    # The document is built from the routes alone: no lifespan, no database, no Temporal.
    app = create_app(Settings(env="test"), "")
    out(json.dumps(app.openapi(), indent=2, ensure_ascii=False))
    return EXIT_OK
