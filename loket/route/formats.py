"""Formats a text field of a form may declare (``format:``), checked when it is submitted.

- ``registration_number``: a Loket registration or tracking number, ``PBG-2026-000123``.
- ``lapor_ticket``: the national complaints system's (SP4N-LAPOR!) ticket: its number
  (``1234567`` or ``#1234567``) or the https address of the report on lapor.go.id.
Pure; a bad value raises ``ValueError`` (reported by the form as that field's error).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Literal
from urllib.parse import urlsplit

Format = Literal["registration_number", "lapor_ticket"]

REGISTRATION_NUMBER = re.compile(r"^[A-Z][A-Z0-9]{1,11}-\d{4}-\d{6}$")
_TICKET = re.compile(r"^#?(\d{5,12})$")
_LAPOR_HOSTS = frozenset({"lapor.go.id", "www.lapor.go.id"})
_URL_CHARS = re.compile(r"^[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+$")


def registration_number(value: str) -> str:
    value = value.strip().upper()
    if not REGISTRATION_NUMBER.match(value):
        raise ValueError("not a registration number (like PBG-2026-000123)")
    return value


def lapor_ticket(value: str) -> str:
    """The ticket number without '#', or the report's address as given."""
    value = value.strip()
    ticket = _TICKET.match(value)
    if ticket:
        return ticket.group(1)
    if not _URL_CHARS.match(value):
        raise ValueError("not a LAPOR! ticket number or address")
    parts = urlsplit(value)
    if parts.scheme != "https" or (parts.hostname or "") not in _LAPOR_HOSTS or parts.port:
        raise ValueError("a LAPOR! address starts with https://www.lapor.go.id/")
    if parts.username or parts.password:
        raise ValueError("not a LAPOR! ticket number or address")
    return value


CHECKS: dict[str, Callable[[str], str]] = {
    "registration_number": registration_number,
    "lapor_ticket": lapor_ticket,
}


def check(kind: Format) -> Callable[[str], str]:
    return CHECKS[kind]
