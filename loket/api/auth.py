"""Sign-in for staff, supervisors, administrators and inspectors: bearer tokens.

``POST /api/auth/token`` takes the OAuth2 password form (so ``/docs`` can sign in) and
answers a random token valid for ``token_ttl_hours``; only its sha256 is stored. Every
staff and admin route requires ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, status
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, ConfigDict

from loket.api import brakes
from loket.api.deps import (
    BearerToken,
    CurrentUser,
    Invalid,
    Services,
    ServicesDep,
    Unauthorized,
    utcnow,
)
from loket.api.errors import AUTH_RESPONSES, ERROR_RESPONSES
from loket.store import users
from loket.store.users import User
from loket.text import text_problem

log = logging.getLogger(__name__)

router = APIRouter(
    prefix="/api/auth", tags=["auth"], responses={**ERROR_RESPONSES, **AUTH_RESPONSES}
)

MAX_USERNAME = 100


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
    """Refuse what no account can have (NUL, control characters, a kilobyte of name) with a
    422 naming the field, before it reaches the store."""
    errors = []
    if text_problem(username, single_line=True) or len(username) > MAX_USERNAME:
        errors.append({"field": "username", "code": "invalid_text", "message": "not a user name"})
    if len(password) > 1024 or any(c == "\x00" or "\ud800" <= c <= "\udfff" for c in password):
        errors.append({"field": "password", "code": "invalid_text", "message": "not a password"})
    if errors:
        raise Invalid("invalid_request", errors=errors, fields=[e["field"] for e in errors])


async def authenticate(services: Services, username: str, password: str) -> User:
    """The user, past the brakes (per-address rate, per-name lockout); failures counted
    and logged. Shared by the API's token endpoint and the sign-in page."""
    check_credentials_text(username, password)
    await brakes.check_signin(services, username)
    async with services.acquire() as conn:
        user = await users.authenticate(conn, username, password)
    if user is None:
        log.info("sign-in refused for %r", username)
        await brakes.signin_failed(services, username)
        raise Unauthorized("wrong_credentials")
    await brakes.signin_succeeded(services, username)
    return user


async def sign_in(services: Services, username: str, password: str) -> TokenOut:
    user = await authenticate(services, username, password)
    async with services.acquire() as conn:
        issued = await users.issue_token(conn, user, now=utcnow(), ttl=services.token_ttl)
    log.info("user %s signed in", user.username)
    return TokenOut(access_token=issued.token, expires_at=issued.expires_at)


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


@router.post("/token", summary="Sign in with username and password (OAuth2 password form)")
async def post_token(
    services: ServicesDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]
) -> TokenOut:
    return await sign_in(services, form.username, form.password)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, summary="Revoke this token")
async def post_logout(services: ServicesDep, user: CurrentUser, token: BearerToken) -> None:
    assert token is not None  # CurrentUser resolved it
    async with services.acquire() as conn:
        await users.revoke_token(conn, token)
    log.info("user %s signed out", user.username)


@router.get("/me", summary="The signed-in user, their agency and counters")
async def get_me(services: ServicesDep, user: CurrentUser) -> Me:
    return describe_user(services, user)
