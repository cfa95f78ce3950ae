"""Keyset paging cursors: where the next page of an ordered list starts.

A cursor is the sort key of the last row a page showed (integers, or none for "no
value", e.g. a paused step's missing deadline), encoded as an opaque URL-safe string. It
carries no authority: the query still filters by the caller's counters, so a cursor
made up by hand only moves the caller around their own list. Decoding is strict (one
spelling per key, integers within PostgreSQL's bigint) so that whatever decodes can be
bound to the query as it is.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

BIGINT_MAX = 2**63 - 1
MAX_CURSOR_LENGTH = 200  # an encoded cursor of a few bigints is far shorter
DEFAULT_LIMIT = 50
MAX_LIMIT = 200

_VERSION = "1:"  # a later change of the key's shape refuses the old cursors
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_INT = re.compile(r"-?(0|[1-9][0-9]{0,18})")
_ALPHABET = re.compile(r"[A-Za-z0-9_-]+")

Key = tuple[int | None, ...]


class CursorInvalid(ValueError):
    """The text is not a cursor this list made."""


def encode(key: Sequence[int | None]) -> str:
    text = _VERSION + ",".join("" if v is None else str(v) for v in key)
    return base64.urlsafe_b64encode(text.encode("ascii")).decode("ascii").rstrip("=")


def decode(cursor: str, arity: int) -> Key:
    """The key ``cursor`` encodes, with ``arity`` parts; :class:`CursorInvalid` otherwise."""
    if not cursor or len(cursor) > MAX_CURSOR_LENGTH or not _ALPHABET.fullmatch(cursor):
        raise CursorInvalid(cursor)
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise CursorInvalid(cursor) from exc
    if not raw.startswith(_VERSION):
        raise CursorInvalid(cursor)
    parts = raw[len(_VERSION) :].split(",")
    if len(parts) != arity:
        raise CursorInvalid(cursor)
    key: list[int | None] = []
    for part in parts:
        if part == "":
            key.append(None)
            continue
        if not _INT.fullmatch(part) or abs(int(part)) > BIGINT_MAX:
            raise CursorInvalid(cursor)
        key.append(int(part))
    if encode(key) != cursor:  # one spelling per key: no padding or alias accepted
        raise CursorInvalid(cursor)
    return tuple(key)


def micros(at: datetime) -> int:
    """``at`` as microseconds since 1970 (exact: timestamptz keeps microseconds)."""
    delta = at - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def instant(us: int) -> datetime:
    """The instant ``us`` microseconds after 1970; :class:`CursorInvalid` outside
    Python's (and so the store's usable) range of datetimes."""
    try:
        return _EPOCH + timedelta(microseconds=us)
    except OverflowError as exc:
        raise CursorInvalid(str(us)) from exc
