"""Rate limits and the sign-in lockout, counted in PostgreSQL (``loket.store.ratelimit``)
so that several API processes share them; every hit is written to the security log.

Tracking and resubmission: every request counts against the client's address; wrong
access codes also count against the registration number (guessing one file's code from
many addresses). Sign-in: attempts count per address; failures per user name, which is
locked for ``signin_lockout_s`` after ``signin_max_failures`` in a row.
"""

from __future__ import annotations

from loket.services.context import Services, client_ip, utcnow
from loket.services.errors import TooMany
from loket.services.security import log_refused
from loket.store import ratelimit


def _ip() -> str:
    return client_ip.get() or "unknown"


async def _refuse(
    services: Services,
    *,
    action: str,
    code: str,
    retry_after: int,
    registration_number: str | None = None,
    username: str | None = None,
) -> TooMany:
    await log_refused(
        services,
        action=action,
        code=code,
        username=username,
        registration_number=registration_number,
        details={"retry_after": retry_after},
    )
    return TooMany(code, retry_after=retry_after)


async def check_tracking(services: Services, action: str, registration_number: str) -> None:
    """Before an access code is checked: the address's budget, and the file's."""
    s = services.settings
    now = utcnow()
    async with services.acquire() as conn:
        by_ip = await ratelimit.hit(
            conn, f"track:ip:{_ip()}", limit=s.track_per_ip, window_s=s.rate_window_s, now=now
        )
        by_reg = await ratelimit.current(
            conn, f"track:reg:{registration_number}", window_s=s.rate_window_s, now=now
        )
    if not by_ip.allowed:
        raise await _refuse(
            services,
            action=action,
            code="rate_limited",
            retry_after=by_ip.retry_after_s,
            registration_number=registration_number,
        )
    if by_reg.hits >= s.track_per_application:
        raise await _refuse(
            services,
            action=action,
            code="rate_limited",
            retry_after=by_reg.retry_after_s,
            registration_number=registration_number,
        )


async def wrong_access_code(services: Services, action: str, registration_number: str) -> None:
    s = services.settings
    async with services.acquire() as conn:
        await ratelimit.hit(
            conn,
            f"track:reg:{registration_number}",
            limit=s.track_per_application,
            window_s=s.rate_window_s,
            now=utcnow(),
        )
    await log_refused(
        services, action=action, code="tracking_not_found", registration_number=registration_number
    )


async def check_signin(services: Services, username: str) -> None:
    s = services.settings
    now = utcnow()
    async with services.acquire() as conn:
        by_ip = await ratelimit.hit(
            conn, f"signin:ip:{_ip()}", limit=s.signin_per_ip, window_s=s.rate_window_s, now=now
        )
        locked = await ratelimit.locked_for(conn, username, now=now)
    if locked:
        raise await _refuse(
            services, action="sign_in", code="signin_locked", retry_after=locked, username=username
        )
    if not by_ip.allowed:
        raise await _refuse(
            services,
            action="sign_in",
            code="rate_limited",
            retry_after=by_ip.retry_after_s,
            username=username,
        )


async def signin_failed(services: Services, username: str) -> None:
    s = services.settings
    async with services.acquire() as conn:
        lockout = await ratelimit.signin_failed(
            conn,
            username,
            now=utcnow(),
            max_failures=s.signin_max_failures,
            lockout_s=s.signin_lockout_s,
        )
    await log_refused(
        services,
        action="sign_in",
        code="signin_locked" if lockout else "wrong_credentials",
        username=username,
    )


async def signin_succeeded(services: Services, username: str) -> None:
    async with services.acquire() as conn:
        await ratelimit.signin_succeeded(conn, username)
