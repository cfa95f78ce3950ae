"""``loket officials`` and ``loket permits``: who signs issued permits, and the permits
themselves (issue 10 §2).

The officials table is dated: each row says who holds (or acts in, Plt/Plh) a signing
position from one day to another; a permit is signed by the holder on its issue date. Rows
are added, never rewritten. ``permits revoke`` revokes an issued permit with a reason
(recorded in the permit's own audit trail); its verification page then says so. The
database is that of ``loket users``. Exit 0 done, 1 refused or invalid (reason on stderr),
2 usage error.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from pydantic import ValidationError

from loket.cli_common import EXIT_OK, doc_help, exits, fail, new_app, out
from loket.officials import OfficialIn, load_officials
from loket.services.permits import RevokeBody
from loket.settings import get_settings
from loket.store import permits
from loket.store.cli import DatabaseUnavailable, on_connection
from loket.store.db import Conn

PANEL = "Issued permits"


def register(app: typer.Typer) -> None:
    officials = new_app(doc_help(__doc__))
    officials.command(
        "add",
        help="Add who holds (or acts in) a signing position from --from (to --to).",
        short_help="add a dated holder of a signing position",
    )(exits(_add))
    officials.command(
        "list", help="The officials table, tab-separated.", short_help="list the officials"
    )(exits(_list))
    officials.command(
        "seed",
        help="Fill an empty officials table from DEFINITIONS/officials.yaml (development).",
        short_help="seed an empty table from definitions/officials.yaml",
    )(exits(_seed))
    app.add_typer(
        officials, name="officials", short_help="who signs issued permits", rich_help_panel=PANEL
    )
    permit_app = new_app(doc_help(__doc__))
    permit_app.command(
        "list", help="Issued permits, newest first, tab-separated.", short_help="list permits"
    )(exits(_permits_list))
    permit_app.command(
        "revoke",
        help="Revoke an issued permit; the reason is recorded and shown on its verification page.",
        short_help="revoke an issued permit (audited)",
    )(exits(_revoke))
    app.add_typer(
        permit_app, name="permits", short_help="issued permits: list, revoke", rich_help_panel=PANEL
    )


def _add(
    position: Annotated[str, typer.Argument(help="position id, e.g. kepala_dpmptsp")],
    title: Annotated[str, typer.Option("--title", help="the position as printed")],
    name: Annotated[str, typer.Option("--name", help="the official's name with titles")],
    nip: Annotated[str, typer.Option("--nip", help="NIP, 18 digits")],
    valid_from: Annotated[str, typer.Option("--from", help="first day, YYYY-MM-DD")],
    valid_to: Annotated[str | None, typer.Option("--to", help="last day (absent: open)")] = None,
    acting: Annotated[str, typer.Option("--acting", help="definitive, plt or plh")] = "definitive",
) -> int:
    try:
        official = OfficialIn(
            position=position,
            title=title,
            name=name,
            nip=nip,
            valid_from=date.fromisoformat(valid_from),
            valid_to=date.fromisoformat(valid_to) if valid_to else None,
            acting=acting,
        )
    except (ValidationError, ValueError) as exc:
        return fail("officials add", _first_error(exc))

    async def add(conn: Conn) -> int:
        return await permits.add_official(conn, **official.model_dump(), created_by="cli")

    try:
        row_id = on_connection(add)
    except DatabaseUnavailable as exc:
        return fail("officials add", exc)
    out(f"official {row_id} added: {official.position} {official.name} from {valid_from}")
    return EXIT_OK


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        e = exc.errors()[0]
        return f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}"
    return str(exc)


def _list(
    position: Annotated[str | None, typer.Option("--position", help="only this one")] = None,
) -> int:
    try:
        rows = on_connection(lambda conn: permits.officials(conn, position))
    except DatabaseUnavailable as exc:
        return fail("officials list", exc)
    for o in rows:
        until = o.valid_to.isoformat() if o.valid_to else "-"
        out(f"{o.position}\t{o.acting}\t{o.valid_from}\t{until}\t{o.nip}\t{o.name}\t{o.title}")
    return EXIT_OK


def _seed() -> int:
    entries = load_officials(get_settings().definitions_dir)
    try:
        added = on_connection(lambda conn: permits.seed_officials(conn, entries))
    except DatabaseUnavailable as exc:
        return fail("officials seed", exc)
    out(f"{added} officials added" if added else "officials table kept (not empty)")
    return EXIT_OK


def _permits_list(
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000)] = 100,
) -> int:
    try:
        rows = on_connection(lambda conn: permits.permits(conn, limit))
    except DatabaseUnavailable as exc:
        return fail("permits list", exc)
    for p in rows:
        out(f"{p.number}\t{p.status}\t{p.document.issued_on}\t{p.registration_number}")
    return EXIT_OK


def _revoke(
    number: Annotated[str, typer.Argument(metavar="NUMBER", help="the permit's number")],
    reason: Annotated[str, typer.Option("--reason", help="why (recorded, shown publicly)")],
) -> int:
    try:
        body = RevokeBody(reason=reason)
    except ValidationError as exc:
        return fail("permits revoke", _first_error(exc))
    actor = f"cli:{get_settings().env}"
    try:
        row = on_connection(lambda conn: permits.revoke(conn, number, body.reason, actor))
    except DatabaseUnavailable as exc:
        return fail("permits revoke", exc)
    if row is None:
        return fail("permits revoke", f"no issued permit {number}")
    out(f"{row.number}: {row.status} ({row.revoked_reason})")
    return EXIT_OK
