"""The audit chain's one hash rule, shared by the case core (which knows every hash it
wrote) and the store (which writes and verifies the rows)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from loket.case.messages import AuditEntry


def audit_hash(prev_hash: str, registration_number: str, entry: Mapping[str, Any]) -> str:
    """sha256 over the previous hash and the canonical JSON of this event."""
    canonical = json.dumps(
        {"registration_number": registration_number, **entry},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


def entry_hash(prev_hash: str, registration_number: str, entry: AuditEntry) -> str:
    return audit_hash(prev_hash, registration_number, entry.model_dump(mode="json"))
