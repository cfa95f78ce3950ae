"""The service layer: one function per use case, called by the JSON API and the pages.

Each use case takes the :class:`Services` context (settings, pool, Temporal client,
catalog, calendar) and, where someone signed in asks, the :class:`User`. It returns
pydantic or row values and raises domain errors only: :class:`loket.refusal.Refused` for a
rule of the case, :class:`ServiceError` subclasses (``loket.services.errors``) for the
rest. Turning codes into HTTP statuses and words is the edges' job (``loket.edge``).
All SQL stays in ``loket.store``; the workflow is reached through ``loket.services.workflow``.
"""

from __future__ import annotations

from loket.services.context import Services, utcnow
from loket.services.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    ServiceError,
    TooMany,
    Unauthenticated,
    Unavailable,
)
from loket.services.rows import User

__all__ = [
    "Conflict",
    "Forbidden",
    "Invalid",
    "NotFound",
    "ServiceError",
    "Services",
    "TooMany",
    "Unauthenticated",
    "Unavailable",
    "User",
    "utcnow",
]
