"""``loket users add|list|deactivate|reset-password|set-counters`` and ``loket migrate``:
accounts and the database schema.

The database is ``DATABASE_URL``, or, when that is empty, the embedded PostgreSQL under the
data folder (the one ``loket dev`` runs; both may use it at the same time). Passwords are
read from standard input (``--password-stdin``) or asked for without echo; never taken
from the command line, where they would land in shell history and process lists.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, TypeVar

import asyncpg
import typer

from loket.cli_common import EXIT_OK, EXIT_REFUSED, EXIT_USAGE, exits, fail, new_app, out
from loket.route.loader import DefinitionErrors, load_agencies
from loket.settings import Settings, get_settings
from loket.store.db import Conn, create_pool
from loket.store.migrate import migrate
from loket.store.users import (
    User,
    UserError,
    UserRole,
    create_user,
    deactivate_user,
    list_users,
    reset_password,
    set_counters,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

# Exit codes of every `loket users` command: 0 done, 1 refused (unknown user or counter,
# password policy...: the reason on stderr), 2 a usage error.
EXIT_FAILED = EXIT_REFUSED
PANEL = "Accounts and database"

Username = Annotated[str, typer.Argument(show_default=False)]
PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="read the password from standard input")
]
_COUNTER_HELP = "a counter the user serves, e.g. dpupr/tpa (repeat for several)"


def register(app: typer.Typer) -> None:
    users = new_app(
        "Staff accounts. The database is DATABASE_URL, else the embedded PostgreSQL under "
        "the data folder. Passwords come from stdin (--password-stdin) or are asked for "
        "without echo, never from the command line. Exit 0 done, 1 refused (reason on "
        "stderr), 2 usage error."
    )
    users.command(
        "add",
        help="Create a user. The password is read from stdin with --password-stdin, else "
        "asked for (twice) without echo.",
        short_help="create a user with a role, an agency and counters",
    )(exits(_add_command))
    users.command(
        "list",
        help="List users with role, agency and counters, tab-separated, one per line.",
        short_help="list users with role, agency and counters",
    )(exits(_list_command))
    users.command(
        "deactivate",
        help="Stop a user from signing in and end their tokens and page sessions.",
        short_help="stop a user from signing in and end their sessions",
    )(exits(_deactivate_command))
    users.command(
        "reset-password",
        help="Set a new password (stdin with --password-stdin, else asked twice without "
        "echo); the user's sessions end.",
        short_help="set a new password; sessions end",
    )(exits(_reset_command))
    users.command(
        "set-counters",
        help="Replace the counters a user serves, checked against the catalog and the role.",
        short_help="replace the counters a user serves",
    )(exits(_set_counters_command))
    app.add_typer(
        users,
        name="users",
        short_help="staff accounts: add, list, deactivate, reset-password, set-counters",
        rich_help_panel=PANEL,
    )
    app.command(
        "migrate",
        help="Apply pending database migrations (DATABASE_URL, else the embedded PostgreSQL).",
        short_help="apply pending database migrations",
        rich_help_panel=PANEL,
    )(exits(_migrate_command))


@contextlib.asynccontextmanager
async def database(settings: Settings) -> AsyncIterator[str]:
    """A DSN: DATABASE_URL, or the embedded PostgreSQL under the data folder."""
    if settings.database_url:
        yield settings.database_url
        return
    from loket.embedded import POSTGRES_DIR_NAME, embedded_postgres

    logging.getLogger("pgserver").setLevel(logging.WARNING)
    async with embedded_postgres(settings.data_dir / POSTGRES_DIR_NAME) as dsn:
        yield dsn


_DB_ERRORS = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError)


class DatabaseUnavailable(Exception):
    """The database could not be reached or read (the reason in the message)."""


def on_connection(work: Callable[[Conn], Awaitable[T]], *, migrate_first: bool = True) -> T:
    """Run ``work`` on one connection to the database of the settings."""

    async def main() -> T:
        async with database(get_settings()) as dsn:
            if migrate_first:
                await migrate(dsn)
            # A pool of one: its connections decode JSON columns as the app's do.
            pool = await create_pool(dsn, min_size=1, max_size=1)
            try:
                async with pool.acquire() as conn:
                    return await work(conn)
            finally:
                await pool.close()

    try:
        return asyncio.run(main())
    except _DB_ERRORS as exc:
        raise DatabaseUnavailable(f"database: {exc}") from exc


def read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Repeat password: ") != first:
        raise UserError("the passwords differ")
    return first


def _describe(user: User) -> str:
    state = "active" if user.active else "inactive"
    counters = ", ".join(user.counters) or "no counters"
    return f"{user.username} ({user.role}, {user.agency or '-'}, {counters}, {state})"


def _add_command(
    username: Username,
    role: Annotated[UserRole, typer.Option(help="the user's role", show_default=False)],
    full_name: Annotated[
        str, typer.Option("--name", help="full name as shown", show_default=False)
    ],
    agency: Annotated[
        str | None, typer.Option(help="agency id (derived from --counter when omitted)")
    ] = None,
    counters: Annotated[
        list[str] | None, typer.Option("--counter", metavar="AGENCY/COUNTER", help=_COUNTER_HELP)
    ] = None,
    password_stdin: PasswordStdin = False,
) -> int:
    try:
        agencies, errors = load_agencies(get_settings().definitions_dir)
        if agencies is None:
            raise DefinitionErrors(errors)
        password = read_password(password_stdin)

        async def add(conn: Conn) -> User:
            return await create_user(
                conn,
                agencies,
                username=username,
                full_name=full_name,
                password=password,
                role=role,
                agency=agency,
                counters=counters or [],
            )

        user = on_connection(add)
    except (UserError, DefinitionErrors, DatabaseUnavailable) as exc:
        return fail("users add", exc)
    shown = ", ".join(user.counters) or "no counters"
    out(f"created {user.username} ({user.role}, {user.agency or '-'}, {shown})")
    return EXIT_OK


def _list_command(
    role: Annotated[UserRole | None, typer.Option(help="only this role")] = None,
    agency: Annotated[str | None, typer.Option(help="only users of this agency")] = None,
    counter: Annotated[
        str | None, typer.Option(metavar="AGENCY/COUNTER", help="only users serving it")
    ] = None,
    active: Annotated[bool, typer.Option("--active", help="only active users")] = False,
    inactive: Annotated[bool, typer.Option("--inactive", help="only deactivated users")] = False,
) -> int:
    if active and inactive:
        return fail("users list", "--active and --inactive exclude each other", EXIT_USAGE)

    def wanted(user: User) -> bool:
        return (
            (role is None or user.role == role)
            and (agency is None or user.agency == agency)
            and (counter is None or counter in user.counters)
            and not (active and not user.active)
            and not (inactive and user.active)
        )

    try:
        found = [u for u in on_connection(list_users) if wanted(u)]
    except DatabaseUnavailable as exc:
        return fail("users list", exc)
    out("username\trole\tagency\tcounters\tstate\tname")
    for u in found:
        out(
            f"{u.username}\t{u.role}\t{u.agency or '-'}\t{','.join(u.counters) or '-'}\t"
            f"{'active' if u.active else 'inactive'}\t{u.full_name}"
        )
    return EXIT_OK


def _on_user(command: str, work: Callable[[Conn], Awaitable[User]], done: str) -> int:
    """Run ``work`` on one connection; print ``done user`` or the refusal; the exit code."""
    try:
        user = on_connection(work)
    except (UserError, DatabaseUnavailable) as exc:
        return fail(f"users {command}", exc)
    out(f"{done} {_describe(user)}")
    return EXIT_OK


def _deactivate_command(username: Username) -> int:
    return _on_user("deactivate", lambda conn: deactivate_user(conn, username), "deactivated")


def _reset_command(username: Username, password_stdin: PasswordStdin = False) -> int:
    try:
        password = read_password(password_stdin)
    except UserError as exc:
        return fail("users reset-password", exc)
    return _on_user(
        "reset-password",
        lambda conn: reset_password(conn, username, password),
        "password reset for",
    )


def _set_counters_command(
    username: Username,
    counters: Annotated[
        list[str] | None,
        typer.Option(
            "--counter",
            metavar="AGENCY/COUNTER",
            help="a counter the user serves (repeat for several; none for admins and inspectors)",
        ),
    ] = None,
) -> int:
    agencies, errors = load_agencies(get_settings().definitions_dir)
    if agencies is None:
        return fail("users set-counters", DefinitionErrors(errors))
    return _on_user(
        "set-counters",
        lambda conn: set_counters(conn, agencies, username, counters or []),
        "counters set for",
    )


def _migrate_command() -> int:
    async def apply() -> list[str]:
        async with database(get_settings()) as dsn:
            return await migrate(dsn)

    try:
        applied = asyncio.run(apply())
    except _DB_ERRORS as exc:
        return fail("migrate", f"database: {exc}")
    out(
        f"applied {len(applied)} migration(s): {', '.join(applied)}"
        if applied
        else "the database is up to date"
    )
    return EXIT_OK
