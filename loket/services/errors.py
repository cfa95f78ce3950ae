"""The service layer's own errors: a code, its params and, for bad fields, one entry each.

Not HTTP: the edges (``loket.edge.errors``) decide statuses and words. A rule of the case
refusing is :class:`loket.refusal.Refused`; these are the rest (not there, not signed in,
a bad value, a brake, a fault that passes).
"""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """A use case that cannot answer as asked; ``code`` is the contract."""

    default_code = "bad_request"

    def __init__(
        self, code: str | None = None, *, errors: list[dict[str, str]] | None = None, **params: Any
    ) -> None:
        self.code = code or self.default_code
        self.params = params
        self.errors = errors
        super().__init__(self.code)


class NotFound(ServiceError):
    """Not there, or not yours: the two are answered alike so nothing leaks."""

    default_code = "not_found"


class Unauthenticated(ServiceError):
    """Not signed in, or the credentials are wrong."""

    default_code = "unauthorized"


class Forbidden(ServiceError):
    default_code = "forbidden"


class Conflict(ServiceError):
    """The application's state refused the change (beyond the case core's refusals)."""

    default_code = "conflict"


class Invalid(ServiceError):
    """A value that cannot be accepted; ``errors`` names each bad field."""

    default_code = "invalid_request"


class TooMany(ServiceError):
    """A brake: try again after ``retry_after`` seconds (at least 1)."""

    default_code = "rate_limited"

    def __init__(self, code: str | None = None, *, retry_after: int, **params: Any) -> None:
        self.retry_after = max(1, retry_after)
        super().__init__(code, retry_after=self.retry_after, **params)


class Unavailable(ServiceError):
    """A fault that will pass (Temporal or PostgreSQL down, an Update still running)."""

    default_code = "service_unavailable"

    def __init__(self, code: str | None = None, *, retry_after: int = 5, **params: Any) -> None:
        self.retry_after = retry_after
        super().__init__(code, **params)


def task_not_found(registration_number: str, step_id: str) -> NotFound:
    """The one answer for a task that does not exist and a task that is not yours."""
    return NotFound("task_not_found", registration_number=registration_number, step_id=step_id)


def application_not_found(registration_number: str) -> NotFound:
    return NotFound("application_not_found", registration_number=registration_number)
