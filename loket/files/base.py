"""What every file store backend promises."""

from __future__ import annotations

import re
from collections.abc import AsyncIterable, AsyncIterator
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

CHUNK = 256 * 1024  # read and write in pieces: a 2 GB upload never sits in memory
_SHA256 = re.compile(r"[0-9a-f]{64}")


def is_sha256(value: str) -> bool:
    return _SHA256.fullmatch(value) is not None


class StoredFile(BaseModel):
    """A stored file's reference: all that Temporal, the audit and the read model carry."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(ge=0)
    media_type: str = Field(min_length=1, max_length=100)


class FileTooLarge(Exception):
    """The content passed ``max_size``; nothing was stored."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"file larger than {limit} bytes")
        self.limit = limit


class FileMissing(Exception):
    """No file is stored under this reference."""


class FileStore(Protocol):
    async def put(
        self,
        chunks: AsyncIterable[bytes],
        *,
        max_size: int | None = None,
        media_type: str = "application/octet-stream",
    ) -> StoredFile:
        """Store the streamed content under its SHA-256 (idempotent: the same content is
        stored once). Raises ``FileTooLarge`` past ``max_size`` and keeps nothing."""
        ...

    async def put_bytes(self, data: bytes, media_type: str) -> StoredFile: ...

    def open(self, sha256: str) -> AsyncIterator[bytes]:
        """The content in chunks; raises ``FileMissing`` on first iteration if absent."""
        ...

    async def read_bytes(self, sha256: str) -> bytes: ...

    async def exists(self, sha256: str) -> bool: ...


async def one_chunk(data: bytes) -> AsyncIterator[bytes]:
    yield data
