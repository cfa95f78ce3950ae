"""The store's row types as the service layer hands them out.

The edges name these (response models, templates) through here: they never import
``loket.store`` themselves.
"""

from __future__ import annotations

from loket.store.inbox import InboxPage
from loket.store.queries import ApplicationRow, AuditRow, InboxRow, TaskRow, Tracking
from loket.store.security import SecurityEvent
from loket.store.users import USERNAME_PATTERN, User

__all__ = [
    "USERNAME_PATTERN",
    "ApplicationRow",
    "AuditRow",
    "InboxPage",
    "InboxRow",
    "SecurityEvent",
    "TaskRow",
    "Tracking",
    "User",
]
