"""``loket users add|list|deactivate|reset-password|set-counters`` and ``loket migrate``:
accounts and the database schema.

The database is ``DATABASE_URL``, or, when that is empty, the embedded PostgreSQL under the
data folder (the one ``loket dev`` runs; both may use it at the same time). Passwords are
read from standard input (``--password-stdin``) or asked for without echo; never taken
from the command line, where they would land in shell history and process lists.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

import asyncpg

from loket.route.loader import DefinitionErrors, load_agencies
from loket.settings import Settings, get_settings
from loket.store.migrate import migrate
from loket.store.users import (
    USER_ROLES,
    User,
    UserError,
    create_user,
    deactivate_user,
    list_users,
    reset_password,
    set_counters,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

# Exit codes of every `loket users` command: 0 done, 1 refused (unknown user or counter,
# password policy...: the reason on stderr), 2 a usage error (argparse).
EXIT_OK = 0
EXIT_FAILED = 1


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    users = sub.add_parser(
        "users", help="staff accounts: add, list, deactivate, reset-password, set-counters"
    )
    commands = users.add_subparsers(dest="users_command", required=True, metavar="ACTION")

    add = commands.add_parser(
        "add",
        help="create a user with a role, an agency and counters",
        description="Create a user. The password is read from stdin with --password-stdin, "
        "else asked for (twice) without echo.",
    )
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=USER_ROLES)
    add.add_argument("--name", required=True, dest="full_name", help="full name as shown")
    add.add_argument("--agency", help="agency id (derived from --counter when omitted)")
    add.add_argument(
        "--counter",
        action="append",
        default=[],
        dest="counters",
        metavar="AGENCY/COUNTER",
        help="a counter the user serves, e.g. dpupr/tpa (repeat for several)",
    )
    add.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    add.set_defaults(func=_add_command)

    listing = commands.add_parser("list", help="list users with role, agency and counters")
    listing.add_argument("--role", choices=USER_ROLES, help="only this role")
    listing.add_argument("--agency", help="only users of this agency")
    listing.add_argument("--counter", metavar="AGENCY/COUNTER", help="only users serving it")
    state = listing.add_mutually_exclusive_group()
    state.add_argument("--active", action="store_true", help="only active users")
    state.add_argument("--inactive", action="store_true", help="only deactivated users")
    listing.set_defaults(func=_list_command)

    deactivate = commands.add_parser(
        "deactivate", help="stop a user from signing in and end their sessions"
    )
    deactivate.add_argument("username")
    deactivate.set_defaults(func=_deactivate_command)

    reset = commands.add_parser(
        "reset-password",
        help="set a new password (stdin with --password-stdin, else asked); sessions end",
    )
    reset.add_argument("username")
    reset.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    reset.set_defaults(func=_reset_command)

    counters = commands.add_parser(
        "set-counters", help="replace the counters a user serves (checked against the catalog)"
    )
    counters.add_argument("username")
    counters.add_argument(
        "--counter",
        action="append",
        default=[],
        dest="counters",
        metavar="AGENCY/COUNTER",
        help="a counter the user serves (repeat for several; none for admins and inspectors)",
    )
    counters.set_defaults(func=_set_counters_command)

    mig = sub.add_parser("migrate", help="apply pending database migrations")
    mig.set_defaults(func=_migrate_command)


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


def _run(work: Callable[[str], Awaitable[T]]) -> T:
    async def main() -> T:
        async with database(get_settings()) as dsn:
            return await work(dsn)

    return asyncio.run(main())


def read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Repeat password: ") != first:
        raise UserError("the passwords differ")
    return first


def _add_command(args: argparse.Namespace) -> int:
    settings = get_settings()
    try:
        agencies, errors = load_agencies(settings.definitions_dir)
        if agencies is None:
            raise DefinitionErrors(errors)
        password = read_password(args.password_stdin)

        async def add(dsn: str) -> str:
            await migrate(dsn)
            conn = await asyncpg.connect(dsn)
            try:
                user = await create_user(
                    conn,
                    agencies,
                    username=args.username,
                    full_name=args.full_name,
                    password=password,
                    role=args.role,
                    agency=args.agency,
                    counters=args.counters,
                )
            finally:
                await conn.close()
            return f"{user.username} ({user.role}, {user.agency or '-'}, {', '.join(user.counters) or 'no counters'})"

        shown = _run(add)
    except (UserError, DefinitionErrors) as exc:
        sys.stderr.write(f"loket users add: {exc}\n")
        return EXIT_FAILED
    sys.stdout.write(f"created {shown}\n")
    return EXIT_OK


def _wanted(args: argparse.Namespace, user: User) -> bool:
    return (
        (args.role is None or user.role == args.role)
        and (args.agency is None or user.agency == args.agency)
        and (args.counter is None or args.counter in user.counters)
        and not (args.active and not user.active)
        and not (args.inactive and user.active)
    )


def _list_command(args: argparse.Namespace) -> int:
    async def fetch(dsn: str) -> list[str]:
        await migrate(dsn)
        conn = await asyncpg.connect(dsn)
        try:
            found = [u for u in await list_users(conn) if _wanted(args, u)]
        finally:
            await conn.close()
        return [
            f"{u.username}\t{u.role}\t{u.agency or '-'}\t{','.join(u.counters) or '-'}\t"
            f"{'active' if u.active else 'inactive'}\t{u.full_name}"
            for u in found
        ]

    lines = _run(fetch)
    sys.stdout.write("username\trole\tagency\tcounters\tstate\tname\n")
    for line in lines:
        sys.stdout.write(line + "\n")
    return EXIT_OK


def _describe(user: User) -> str:
    state = "active" if user.active else "inactive"
    return f"{user.username} ({user.role}, {user.agency or '-'}, {', '.join(user.counters) or 'no counters'}, {state})"


def _on_user(command: str, work: Callable[[asyncpg.Connection], Awaitable[User]], done: str) -> int:
    """Run ``work`` on one connection; print ``done user`` or the refusal; the exit code."""

    async def run(dsn: str) -> User:
        await migrate(dsn)
        conn = await asyncpg.connect(dsn)
        try:
            return await work(conn)
        finally:
            await conn.close()

    try:
        user = _run(run)
    except UserError as exc:
        sys.stderr.write(f"loket users {command}: {exc}\n")
        return EXIT_FAILED
    sys.stdout.write(f"{done} {_describe(user)}\n")
    return EXIT_OK


def _deactivate_command(args: argparse.Namespace) -> int:
    return _on_user("deactivate", lambda conn: deactivate_user(conn, args.username), "deactivated")


def _reset_command(args: argparse.Namespace) -> int:
    try:
        password = read_password(args.password_stdin)
    except UserError as exc:
        sys.stderr.write(f"loket users reset-password: {exc}\n")
        return EXIT_FAILED
    return _on_user(
        "reset-password",
        lambda conn: reset_password(conn, args.username, password),
        "password reset for",
    )


def _set_counters_command(args: argparse.Namespace) -> int:
    agencies, errors = load_agencies(get_settings().definitions_dir)
    if agencies is None:
        sys.stderr.write(f"loket users set-counters: {DefinitionErrors(errors)}\n")
        return EXIT_FAILED
    return _on_user(
        "set-counters",
        lambda conn: set_counters(conn, agencies, args.username, args.counters),
        "counters set for",
    )


def _migrate_command(args: argparse.Namespace) -> int:
    applied = _run(migrate)
    sys.stdout.write(
        f"applied {len(applied)} migration(s): {', '.join(applied)}\n"
        if applied
        else "the database is up to date\n"
    )
    return EXIT_OK
