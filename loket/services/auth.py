"""Signing in and who is signed in: bearer tokens for the API, sessions for the pages.

Both sign-ins pass the same brakes (per-address rate, per-name lockout) and the same
security log. Only hashes of tokens and sessions are stored (``loket.store``).
"""

from __future__ import annotations

import logging
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from loket.services import brakes
from loket.services.context import Services, utcnow
from loket.services.errors import Invalid, Unauthenticated
from loket.store import sessions, users
from loket.store.users import User
from loket.text import text_problem

log = logging.getLogger(__name__)

MAX_USERNAME = 100
MAX_PASSWORD = 1024
MAX_TOKEN = 200  # longer than any token we issue: refused before the store is asked


class TokenOut(BaseModel):
    model_config = ConfigDict(frozen=True)

    access_token: str
    token_type: str = "bearer"
    expires_at: datetime


class CounterOut(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    agency: str
    counter: str
    name: str


class Me(BaseModel):
    model_config = ConfigDict(frozen=True)

    username: str
    full_name: str
    role: str
    agency: str | None
    agency_name: str | None
    counters: list[CounterOut]


def check_credentials_text(username: str, password: str) -> None:
    """Refuse what no account can have (NUL, control characters, a kilobyte of name),
    naming the field, before it reaches the store."""
    errors = []
    if text_problem(username, single_line=True) or len(username) > MAX_USERNAME:
        errors.append({"field": "username", "code": "invalid_text", "message": "not a user name"})
    if len(password) > MAX_PASSWORD or any(
        c == "\x00" or "\ud800" <= c <= "\udfff" for c in password
    ):
        errors.append({"field": "password", "code": "invalid_text", "message": "not a password"})
    if errors:
        raise Invalid("invalid_request", errors=errors, fields=[e["field"] for e in errors])


async def authenticate(services: Services, username: str, password: str) -> User:
    """The user, past the brakes; failures counted and logged."""
    check_credentials_text(username, password)
    await brakes.check_signin(services, username)
    async with services.acquire() as conn:
        user = await users.authenticate(conn, username, password)
    if user is None:
        log.info("sign-in refused for %r", username)
        await brakes.signin_failed(services, username)
        raise Unauthenticated("wrong_credentials")
    await brakes.signin_succeeded(services, username)
    return user


async def sign_in(services: Services, username: str, password: str) -> TokenOut:
    """The API's sign-in: a bearer token valid for ``token_ttl_hours``."""
    user = await authenticate(services, username, password)
    async with services.acquire() as conn:
        issued = await users.issue_token(conn, user, now=utcnow(), ttl=services.token_ttl)
    log.info("user %s signed in", user.username)
    return TokenOut(access_token=issued.token, expires_at=issued.expires_at)


async def token_user(services: Services, token: str | None) -> User:
    """The active user of a bearer token, or ``Unauthenticated``."""
    if not token or len(token) > MAX_TOKEN:
        raise Unauthenticated()
    async with services.acquire() as conn:
        user = await users.resolve_token(conn, token, now=utcnow())
    if user is None:
        raise Unauthenticated()
    return user


async def sign_out(services: Services, user: User, token: str) -> None:
    async with services.acquire() as conn:
        await users.revoke_token(conn, token)
    log.info("user %s signed out", user.username)


async def start_session(services: Services, username: str, password: str) -> tuple[User, str]:
    """The pages' sign-in: the user and a new session's cookie value."""
    user = await authenticate(services, username, password)
    async with services.acquire() as conn:
        token = await sessions.create_session(conn, user, now=utcnow(), ttl=services.token_ttl)
    log.info("user %s signed in on the web", user.username)
    return user, token


async def session_user(services: Services, session: str) -> User | None:
    async with services.acquire() as conn:
        return await sessions.session_user(conn, session, now=utcnow())


async def end_session(services: Services, session: str) -> None:
    async with services.acquire() as conn:
        await sessions.end_session(conn, session)


def describe_user(services: Services, user: User) -> Me:
    agencies = {a.id: a for a in services.catalog.agencies.agencies}
    counters: list[CounterOut] = []
    for key in user.counters:
        agency_id, _, counter_id = key.partition("/")
        agency = agencies.get(agency_id)
        counter = next((c for c in agency.counters if c.id == counter_id), None) if agency else None
        counters.append(
            CounterOut(
                key=key, agency=agency_id, counter=counter_id, name=counter.name if counter else key
            )
        )
    agency = agencies.get(user.agency) if user.agency else None
    return Me(
        username=user.username,
        full_name=user.full_name,
        role=user.role,
        agency=user.agency,
        agency_name=agency.name if agency else None,
        counters=counters,
    )
