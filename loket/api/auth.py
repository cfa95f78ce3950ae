"""Sign-in for staff, supervisors, administrators and inspectors: bearer tokens.

``POST /api/auth/token`` takes the OAuth2 password form (so ``/docs`` can sign in) and
answers a random token valid for ``token_ttl_hours``; only its sha256 is stored. Every
staff and admin route requires ``Authorization: Bearer <token>`` (``loket.services.auth``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status
from fastapi.security import OAuth2PasswordRequestForm

from loket.api.deps import BearerToken, CurrentUser, ServicesDep
from loket.api.errors import AUTH_RESPONSES, ERROR_RESPONSES
from loket.services import auth
from loket.services.auth import Me, TokenOut

router = APIRouter(
    prefix="/api/auth", tags=["auth"], responses={**ERROR_RESPONSES, **AUTH_RESPONSES}
)


@router.post("/token", summary="Sign in with username and password (OAuth2 password form)")
async def post_token(
    services: ServicesDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]
) -> TokenOut:
    return await auth.sign_in(services, form.username, form.password)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, summary="Revoke this token")
async def post_logout(services: ServicesDep, user: CurrentUser, token: BearerToken) -> None:
    assert token is not None  # CurrentUser resolved it
    await auth.sign_out(services, user, token)


@router.get("/me", summary="The signed-in user, their agency and counters")
async def get_me(services: ServicesDep, user: CurrentUser) -> Me:
    return auth.describe_user(services, user)
