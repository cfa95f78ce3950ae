"""What a file is, by its first bytes: never by its name or the browser's word.

A table of signatures for the few types documents may have (loket.route.documents); a
file whose start matches none is ``application/octet-stream``.
"""

from __future__ import annotations

SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)
HEAD_BYTES = max(len(magic) for magic, _ in SIGNATURES)
UNKNOWN = "application/octet-stream"


def media_type(head: bytes) -> str:
    for magic, kind in SIGNATURES:
        if head.startswith(magic):
            return kind
    return UNKNOWN
