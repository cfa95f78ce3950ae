"""One error model for every error answer of the JSON API: ``ErrorOut``.

``{"code", "message", "params", "errors"?}``: ``code`` is the contract (a
:class:`loket.refusal.RefusalCode` value or one of the edge's own codes), ``message`` the
sentence for people (id/en from :mod:`loket.api.messages`), ``params`` the values it names,
``errors`` one entry per bad field of a 422. Every operation declares these answers in its
OpenAPI ``responses`` (:data:`ERROR_RESPONSES`).
"""

from __future__ import annotations

from typing import Any

from fastapi import status
from pydantic import BaseModel, Field

from loket.api.messages import message
from loket.refusal import RefusalCode


class FieldErrorOut(BaseModel):
    field: str = Field(description="the field's name; nested fields joined with '.'")
    code: str = Field(description="what is wrong: missing, invalid_text, too_large, ...")
    message: str


class ErrorOut(BaseModel):
    code: str = Field(description="stable error code; clients branch on this, never on text")
    message: str = Field(description="for people, in the language asked for (id or en)")
    params: dict[str, Any] = Field(default_factory=dict)
    errors: list[FieldErrorOut] | None = Field(
        default=None, description="422 only: one entry per field that is wrong"
    )


class ApiError(Exception):
    """An answer with a code for the caller; the app renders it as :class:`ErrorOut`."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "bad_request"

    def __init__(
        self,
        code: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        errors: list[dict[str, str]] | None = None,
        **params: Any,
    ) -> None:
        self.code = code or self.default_code
        self.params = params
        self.headers = headers
        self.errors = errors
        super().__init__(self.code)

    def message(self, lang: str = "en") -> str:
        return message(self.code, self.params, lang)

    @property
    def detail(self) -> str:
        """The English sentence (logs, and callers that want one line)."""
        return self.message("en")

    def body(self, lang: str = "en") -> dict[str, Any]:
        out = ErrorOut(code=self.code, message=self.message(lang), params=self.params)
        if self.errors is not None:
            out.errors = [
                FieldErrorOut(
                    field=e["field"],
                    code=e.get("code", "invalid"),
                    message=e.get("message", ""),
                )
                for e in self.errors
            ]
        return out.model_dump(mode="json", exclude_none=True)


class NotFound(ApiError):
    status_code = status.HTTP_404_NOT_FOUND
    default_code = "not_found"


class Unauthorized(ApiError):
    status_code = status.HTTP_401_UNAUTHORIZED
    default_code = "unauthorized"

    def __init__(self, code: str | None = None, **params: Any) -> None:
        super().__init__(code, headers={"WWW-Authenticate": "Bearer"}, **params)


class Forbidden(ApiError):
    status_code = status.HTTP_403_FORBIDDEN
    default_code = "forbidden"


class Conflict(ApiError):
    """The workflow (or the application's state) refused the change; ``code`` says why."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


class Invalid(ApiError):
    status_code = status.HTTP_422_UNPROCESSABLE_CONTENT
    default_code = "invalid_request"


class TooLarge(ApiError):
    status_code = status.HTTP_413_CONTENT_TOO_LARGE
    default_code = "body_too_large"


class TooMany(ApiError):
    """A brake: 429 with Retry-After (whole seconds, at least 1)."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "rate_limited"

    def __init__(self, code: str | None = None, *, retry_after: int, **params: Any) -> None:
        retry_after = max(1, retry_after)
        super().__init__(
            code, headers={"Retry-After": str(retry_after)}, retry_after=retry_after, **params
        )


class Unavailable(ApiError):
    """A fault that will pass (Temporal or PostgreSQL down, an Update still running)."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "service_unavailable"

    def __init__(self, code: str | None = None, *, retry_after: int = 5, **params: Any) -> None:
        super().__init__(code, headers={"Retry-After": str(retry_after)}, **params)


def task_not_found(registration_number: str, step_id: str) -> NotFound:
    """The one answer for a task that does not exist and a task that is not yours."""
    return NotFound("task_not_found", registration_number=registration_number, step_id=step_id)


def application_not_found(registration_number: str) -> NotFound:
    return NotFound("application_not_found", registration_number=registration_number)


# --- refusals ----------------------------------------------------------------------------

# "Not yours" and "not there" answer alike (404); the caller's role (403); a value that
# cannot be accepted (422); everything else is the case's state saying no (409).
_REFUSAL_STATUS: dict[RefusalCode, type[ApiError]] = {
    RefusalCode.NOT_YOUR_COUNTER: NotFound,
    RefusalCode.UNKNOWN_STEP: NotFound,
    RefusalCode.WRONG_ROLE: Forbidden,
    RefusalCode.INVALID_FORM: Invalid,
    RefusalCode.INVALID_TEXT: Invalid,
    RefusalCode.INVALID_DURATION: Invalid,
    RefusalCode.OUTSIDE_CALENDAR: Invalid,
    RefusalCode.AMOUNT_OUT_OF_RANGE: Invalid,
    RefusalCode.STORE_REFUSED: Invalid,
}
HIDDEN_REFUSALS = frozenset({RefusalCode.NOT_YOUR_COUNTER, RefusalCode.UNKNOWN_STEP})


def refusal_error(code: str, params: dict[str, Any]) -> ApiError:
    try:
        known = RefusalCode(code)
    except ValueError:
        return Conflict(code, **params)
    cls = _REFUSAL_STATUS.get(known, Conflict)
    if cls is Invalid and known is RefusalCode.INVALID_FORM:
        fields = params.get("fields") or ()
        return Invalid(
            code,
            errors=[{"field": str(f), "code": "invalid", "message": ""} for f in fields],
            **params,
        )
    return cls(code, **params)


# --- OpenAPI -----------------------------------------------------------------------------


def _response(description: str) -> dict[str, Any]:
    return {"model": ErrorOut, "description": description}


# Declared on every router: the answers any operation may give besides its own.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: _response("not found, or not yours: the two are answered alike"),
    413: _response("the request body is too large (code body_too_large)"),
    422: _response(
        "a bad field: `errors` names each one (invalid_request, invalid_form, invalid_text, "
        "idempotency_key_missing, amount_out_of_range, body_too_complex)"
    ),
    429: _response("too many requests (rate_limited, signin_locked); see Retry-After"),
    503: _response(
        "a fault that passes: temporal_unavailable, database_unavailable, update_pending; "
        "see Retry-After"
    ),
}
AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _response("not signed in, or the token expired (code unauthorized)"),
    403: _response("the role may not do this (forbidden, wrong_role)"),
}
CHANGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    409: _response("the case refused the change: the code says which rule (refusal codes)"),
}
