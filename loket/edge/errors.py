"""One error model for every error answer: ``ErrorOut``, and the HTTP status of each code.

``{"code", "message", "params", "errors"?}``: ``code`` is the contract (a
:class:`loket.refusal.RefusalCode` value, a service error's code or one of the edge's own),
``message`` the sentence for people (id/en from :mod:`loket.edge.messages`), ``params``
the values it names, ``errors`` one entry per bad field of a 422. :func:`http_error` turns
what the service layer raises into the :class:`ApiError` the API and the pages answer.
"""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
from fastapi import status
from pydantic import BaseModel, Field
from temporalio.service import RPCError

from loket.edge.messages import message
from loket.fees import AmountOutOfRange
from loket.refusal import RefusalCode, Refused
from loket.route.form import FormError
from loket.services import errors as service
from loket.services.fields import amount_invalid, form_invalid

log = logging.getLogger(__name__)


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
    """An answer with a code for the caller; rendered as :class:`ErrorOut` (the API) or an
    error page (the pages)."""

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
    RefusalCode.NOT_APPLICANT_OUTCOME: Conflict,  # issue 12b: the step's state says no
    RefusalCode.SURVEY_NOT_OPEN: Conflict,
    RefusalCode.SURVEY_ALREADY_ANSWERED: Conflict,
    # billing and payment (issue 11)
    RefusalCode.BILL_UNKNOWN: NotFound,
    RefusalCode.BILL_ALREADY_PAID: Conflict,
    RefusalCode.BILL_NOT_OPEN: Conflict,
    RefusalCode.BILL_EXPIRED: Conflict,
    RefusalCode.BILL_AMOUNT_MISMATCH: Invalid,
    RefusalCode.BILL_LIMIT_REACHED: Conflict,
    RefusalCode.RECEIPT_NUMBER_REQUIRED: Invalid,
    # documents (10A): a slot that is not there, a file that breaks its slot's rule
    RefusalCode.UNKNOWN_DOCUMENT: NotFound,
    RefusalCode.DOCUMENT_TYPE_REFUSED: Invalid,
    RefusalCode.DOCUMENT_TOO_LARGE: TooLarge,
    RefusalCode.DOCUMENT_NOT_RETURNED: Conflict,
    RefusalCode.DOCUMENTS_LOCKED: Conflict,
    RefusalCode.CORRECTIONS_REQUIRED: Invalid,
    # Issued permit (issue 10 §2): a missing official is the office's to fix (409); the
    # rest pass with time (503).
    RefusalCode.PERMIT_NOT_NUMBERED: Conflict,
    RefusalCode.NO_SIGNING_OFFICIAL: Conflict,
    RefusalCode.PERMIT_BEING_ISSUED: Unavailable,
    RefusalCode.PERMIT_NOT_RENDERED: Unavailable,
    RefusalCode.PAGE_INVALID: Invalid,  # paged lists (issue 13 goal 6)
}


def refusal_error(refused: Refused) -> ApiError:
    code = refused.code
    params: dict[str, Any] = dict(refused.params)
    cls = _REFUSAL_STATUS.get(code, Conflict)
    if code is RefusalCode.RECEIPT_NUMBER_REQUIRED:  # names the field it needs
        errors = [{"field": "receipt_number", "code": "missing", "message": ""}]
        return Invalid(code.value, errors=errors, **params)
    if code is RefusalCode.PAGE_INVALID:  # names the query parameter: limit or after
        errors = [{"field": str(params.get("field")), "code": "invalid", "message": ""}]
        return Invalid(code.value, errors=errors, **params)
    if code is RefusalCode.INVALID_FORM:
        fields = params.get("fields") or ()
        return Invalid(
            code.value,
            errors=[{"field": str(f), "code": "invalid", "message": ""} for f in fields],
            **params,
        )
    return cls(code.value, **params)


# --- service errors and faults -----------------------------------------------------------

_SERVICE_STATUS: dict[type[service.ServiceError], type[ApiError]] = {
    service.NotFound: NotFound,
    service.Forbidden: Forbidden,
    service.Conflict: Conflict,
    service.Invalid: Invalid,
}

# Connection-level faults of asyncpg (class 08, startup/shutdown, too many clients).
DB_FAULTS: tuple[type[Exception], ...] = (
    OSError,  # refused, reset, and TimeoutError (a subclass)
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.InterfaceError,  # "pool is closed", "connection is closed"
    # What a new connection meets when the database is closed, gone or refuses us.
    asyncpg.ObjectNotInPrerequisiteStateError,  # "not currently accepting connections"
    asyncpg.InvalidCatalogNameError,
    asyncpg.InvalidAuthorizationSpecificationError,
)
FAULT_RETRY_AFTER_S = 5


def fault_error(exc: BaseException) -> ApiError | None:
    """The 503 for a fault that will pass (a server down), or None for a real bug."""
    if isinstance(exc, RPCError):
        log.warning("Temporal unavailable: %s (%s)", exc, exc.status)
        return Unavailable("temporal_unavailable", retry_after=FAULT_RETRY_AFTER_S)
    if isinstance(exc, DB_FAULTS):
        log.warning("PostgreSQL unavailable: %r", exc)
        return Unavailable("database_unavailable", retry_after=FAULT_RETRY_AFTER_S)
    if isinstance(exc, RuntimeError) and "client connect" in str(exc).lower():
        return Unavailable("temporal_unavailable", retry_after=FAULT_RETRY_AFTER_S)
    return None


def _from_service(exc: service.ServiceError) -> ApiError:
    if isinstance(exc, service.Unauthenticated):
        return Unauthorized(exc.code, **exc.params)
    if isinstance(exc, service.TooMany):
        params = {k: v for k, v in exc.params.items() if k != "retry_after"}
        return TooMany(exc.code, retry_after=exc.retry_after, **params)
    if isinstance(exc, service.Unavailable):
        return Unavailable(exc.code, retry_after=exc.retry_after, **exc.params)
    cls = next((c for t, c in _SERVICE_STATUS.items() if isinstance(exc, t)), ApiError)
    return cls(exc.code, errors=exc.errors, **exc.params)


def http_error(exc: BaseException) -> ApiError | None:
    """The answer for what a use case raised (or a fault); None: a real bug."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, service.ServiceError):
        return _from_service(exc)
    if isinstance(exc, Refused):
        return refusal_error(exc)
    if isinstance(exc, FormError):
        return http_error(form_invalid(exc))
    if isinstance(exc, AmountOutOfRange):
        return http_error(amount_invalid(exc))
    return fault_error(exc)


# What a handler registers for: everything :func:`http_error` answers besides faults.
HANDLED: tuple[type[Exception], ...] = (
    ApiError,
    service.ServiceError,
    Refused,
    FormError,
    AmountOutOfRange,
)
