"""The tamper check of one application, anchored outside the database.

The workflow knows every audit hash it wrote (its ``audit_chain`` query); the read model's
rows are compared with that record row by row, so an altered, deleted or inserted row is
reported at its own sequence number even when whoever changed it recomputed every later
hash. Without an anchor (a workflow past retention) only the chain's internal consistency
can be checked. Task and application state are re-derived from the audit events and
compared with their rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from loket.case.audit import audit_hash
from loket.case.derive import derive
from loket.case.messages import AuditEntry
from loket.store.db import Conn


@dataclass(frozen=True)
class ChainReport:
    registration_number: str
    rows: int
    anchored: bool  # compared with the workflow's own record
    missing: list[int] = field(default_factory=list)  # written by the case, gone from the table
    altered: list[int] = field(default_factory=list)  # content or hash differs
    added: list[int] = field(default_factory=list)  # in the table, never written by the case
    state_mismatches: list[str] = field(default_factory=list)  # "task:step#1", "application"

    @property
    def intact(self) -> bool:
        return not (self.missing or self.altered or self.added or self.state_mismatches)


def _entry(row: dict[str, object]) -> AuditEntry:
    return AuditEntry.model_validate({k: row[k] for k in AuditEntry.model_fields if k in row})


def internal_breaks(registration_number: str, rows: Sequence[dict[str, object]]) -> list[int]:
    """Internal consistency only: each row's hash is its content over the previous row's
    hash. Sequence numbers of the rows that break it."""
    broken: list[int] = []
    prev = ""
    for row in rows:
        digest = audit_hash(prev, registration_number, _entry(row).model_dump(mode="json"))
        if row["prev_hash"] != prev or row["hash"] != digest:
            broken.append(int(str(row["seq"])))
        prev = str(row["hash"])
    return broken


async def audit_rows(conn: Conn, registration_number: str) -> list[dict[str, object]]:
    return [
        dict(r)
        for r in await conn.fetch(
            "SELECT * FROM audit_events WHERE registration_number = $1 ORDER BY seq",
            registration_number,
        )
    ]


async def check_chain(
    conn: Conn, registration_number: str, anchor: Sequence[str] | None = None
) -> ChainReport:
    rows = await audit_rows(conn, registration_number)
    by_seq = {int(str(r["seq"])): r for r in rows}
    missing: list[int] = []
    altered: list[int] = []
    added: list[int] = []
    if anchor is None:
        altered = internal_breaks(registration_number, rows)
    else:
        # Each row against the hash the case wrote for its own sequence number.
        for seq, expected in enumerate(anchor, start=1):
            found = by_seq.get(seq)
            if found is None:
                missing.append(seq)
                continue
            before = anchor[seq - 2] if seq > 1 else ""
            digest = audit_hash(before, registration_number, _entry(found).model_dump(mode="json"))
            if found["hash"] != expected or digest != expected:
                altered.append(seq)
        added = sorted(seq for seq in by_seq if seq > len(anchor))
    mismatches = await _state_mismatches(conn, registration_number, rows)
    return ChainReport(
        registration_number=registration_number,
        rows=len(rows),
        anchored=anchor is not None,
        missing=missing,
        altered=sorted(altered),
        added=added,
        state_mismatches=mismatches,
    )


async def _state_mismatches(
    conn: Conn, registration_number: str, rows: Sequence[dict[str, object]]
) -> list[str]:
    derived = derive(rows)
    found: list[str] = []
    status = await conn.fetchval(
        "SELECT status FROM applications WHERE registration_number = $1", registration_number
    )
    if status is not None and status != derived.status:
        found.append("application")
    tasks = await conn.fetch(
        "SELECT step_id, attempt, state, outcome FROM tasks WHERE registration_number = $1",
        registration_number,
    )
    seen = set()
    for t in tasks:
        key = (t["step_id"], t["attempt"])
        seen.add(key)
        if derived.tasks.get(key) != (t["state"], t["outcome"]):
            found.append(f"task:{t['step_id']}#{t['attempt']}")
    found += [f"task:{s}#{a}" for (s, a) in derived.tasks if (s, a) not in seen]
    return sorted(found)


async def chain_heads(conn: Conn) -> list[tuple[str, int, str]]:
    """Every application's chain head (registration number, last seq, last hash)."""
    rows = await conn.fetch(
        "SELECT registration_number, last_seq, last_hash FROM applications"
        " WHERE last_seq > 0 ORDER BY registration_number"
    )
    return [(r["registration_number"], r["last_seq"], r["last_hash"]) for r in rows]


async def hash_at(conn: Conn, registration_number: str, seq: int) -> str | None:
    value: str | None = await conn.fetchval(
        "SELECT hash FROM audit_events WHERE registration_number = $1 AND seq = $2",
        registration_number,
        seq,
    )
    return value


async def rewritten_since(conn: Conn, heads: Sequence[tuple[str, int, str]]) -> list[str]:
    """Applications whose row at a published head's sequence number no longer has the
    published hash: history before that point was rewritten (or deleted). One query for
    every head, in the digest's order."""
    rows = await conn.fetch(
        """
        SELECT h.reg FROM unnest($1::text[], $2::int[], $3::text[]) WITH ORDINALITY
            AS h(reg, seq, hash, n)
        LEFT JOIN audit_events a ON a.registration_number = h.reg AND a.seq = h.seq
        WHERE a.hash IS DISTINCT FROM h.hash
        ORDER BY h.n
        """,
        [r for r, _, _ in heads],
        [s for _, s, _ in heads],
        [d for _, _, d in heads],
    )
    return [row["reg"] for row in rows]
