"""A workflow's input decoded with its immutable parts shared between workflows.

Every application carries its route version and calendar in its input, pinned at start:
about 24 KB of JSON that decoded costs some 125 KB of memory and 2 ms, for each of the
thousands of cases a worker keeps in its cache. Applications pinned to the same content
share one decoded copy, the way :func:`loket.calendar.calendar_for` shares calendars. The
models are frozen and the case core never mutates them, so a shared copy behaves exactly
like a private one: sharing is as deterministic as decoding.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from loket.calendar import shared_calendar
from loket.case.messages import PermitInput
from loket.route.model import PermitType

# sha256 of the route version's JSON -> its decoded model. Keyed by content, not by
# "id@vN": a definition edited without a version bump (development, tests) is another key.
_PERMITS: dict[bytes, PermitType] = {}
_PERMITS_MAX = 64


def shared_permit(raw: Any) -> PermitType:
    """The route version of ``raw`` (its JSON form), decoded once per content."""
    text = json.dumps(raw, ensure_ascii=False, separators=(",", ":"))
    key = hashlib.sha256(text.encode()).digest()
    permit = _PERMITS.get(key)
    if permit is None:
        permit = PermitType.model_validate_json(text)
        if len(_PERMITS) >= _PERMITS_MAX:
            _PERMITS.pop(next(iter(_PERMITS)))  # oldest first; versions rarely change
        _PERMITS[key] = permit
    return permit


def permit_input_from_json(data: bytes) -> PermitInput:
    """Decode a workflow's JSON input as :class:`PermitInput` would, sharing its route
    version and calendar with every other input pinned to the same content."""
    raw = json.loads(data)
    if not isinstance(raw, dict) or "permit" not in raw or "calendar" not in raw:
        return PermitInput.model_validate_json(data)  # its own errors name the field
    raw["permit"] = shared_permit(raw["permit"])
    raw["calendar"] = shared_calendar(raw["calendar"]).snapshot
    # Python mode for the rest, so the shared models pass through as they are (pydantic
    # does not revalidate instances); it decodes the JSON types the same way: tests check
    # it against the converter over the replay corpus.
    return PermitInput.model_validate(raw)
