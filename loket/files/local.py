"""A folder as the file store: the embedded default and single-host production (a volume).

Content goes to a temporary file in the same folder while it is hashed, then is renamed to
``ab/cd/<sha256>``: a rename within one file system is atomic, so a reader never sees half
a file and two uploads of the same content end as one file.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path
from typing import BinaryIO

from loket.files.base import CHUNK, FileMissing, FileTooLarge, StoredFile, is_sha256, one_chunk


class LocalFileStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, sha256: str) -> Path:
        if not is_sha256(sha256):
            raise FileMissing(sha256)
        return self.root / sha256[:2] / sha256[2:4] / sha256

    async def put(
        self,
        chunks: AsyncIterable[bytes],
        *,
        max_size: int | None = None,
        media_type: str = "application/octet-stream",
    ) -> StoredFile:
        tmp_dir = self.root / "tmp"
        await asyncio.to_thread(tmp_dir.mkdir, parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=tmp_dir)
        tmp = Path(tmp_name)
        digest = hashlib.sha256()
        size = 0
        try:
            with os.fdopen(fd, "wb") as out:
                async for chunk in chunks:
                    size += len(chunk)
                    if max_size is not None and size > max_size:
                        raise FileTooLarge(max_size)
                    digest.update(chunk)
                    await asyncio.to_thread(out.write, chunk)
                await asyncio.to_thread(_sync, out)
            sha = digest.hexdigest()
            final = self._path(sha)
            await asyncio.to_thread(final.parent.mkdir, parents=True, exist_ok=True)
            await asyncio.to_thread(os.replace, tmp, final)
        except BaseException:
            tmp.unlink(missing_ok=True)  # noqa: ASYNC240  (must run even when cancelled)
            raise
        return StoredFile(sha256=sha, size=size, media_type=media_type)

    async def put_bytes(self, data: bytes, media_type: str) -> StoredFile:
        return await self.put(one_chunk(data), media_type=media_type)

    async def open(self, sha256: str) -> AsyncIterator[bytes]:
        path = self._path(sha256)
        try:
            handle = await asyncio.to_thread(path.open, "rb")
        except FileNotFoundError:
            raise FileMissing(sha256) from None
        with handle:
            while chunk := await asyncio.to_thread(handle.read, CHUNK):
                yield chunk

    async def read_bytes(self, sha256: str) -> bytes:
        return b"".join([chunk async for chunk in self.open(sha256)])

    async def exists(self, sha256: str) -> bool:
        try:
            path = self._path(sha256)
        except FileMissing:
            return False
        return await asyncio.to_thread(path.is_file)


def _sync(out: BinaryIO) -> None:
    out.flush()
    os.fsync(out.fileno())
