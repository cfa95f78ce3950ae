"""An S3-compatible object store as the file store: production (MinIO, or any S3).

``LOKET_FILE_STORE_URL=s3://bucket?endpoint=http://minio:9000&region=us-east-1``; the keys
come from ``LOKET_S3_ACCESS_KEY`` / ``LOKET_S3_SECRET_KEY``. aiobotocore speaks S3 from the
event loop (no thread per request) and does multipart uploads.

The SHA-256 is known only at the end of the stream, so a file larger than one part goes
to a temporary key by multipart upload (``PART`` bytes in memory at a time, never the
whole file), then is copied inside the store to ``ab/<sha256>`` and the temporary key is
removed. A small file goes straight to its final key. Past ``max_size`` or on any error,
the multipart upload is aborted: nothing stays behind.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiobotocore.session import get_session
from botocore.exceptions import ClientError

from loket.files.base import CHUNK, FileMissing, FileTooLarge, StoredFile, is_sha256, one_chunk

log = logging.getLogger(__name__)

PART = 8 * 1024 * 1024  # S3's minimum part is 5 MiB (but the last)
_MISSING = {"404", "NoSuchKey", "NotFound"}


@dataclass(frozen=True)
class S3Config:
    bucket: str
    endpoint: str | None
    region: str
    access_key: str
    secret_key: str

    @classmethod
    def from_url(cls, url: str, access_key: str, secret_key: str) -> S3Config:
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise ValueError(
                f"LOKET_FILE_STORE_URL: expected s3://bucket?endpoint=..., got {url!r}"
            )
        query = parse_qs(parts.query)
        return cls(
            bucket=parts.netloc,
            endpoint=query.get("endpoint", [None])[0],
            region=query.get("region", ["us-east-1"])[0],
            access_key=access_key,
            secret_key=secret_key,
        )


def _missing(exc: ClientError) -> bool:
    return str(exc.response.get("Error", {}).get("Code")) in _MISSING


class S3FileStore:
    def __init__(self, config: S3Config) -> None:
        self.config = config
        self._session = get_session()

    def _client(self) -> AbstractAsyncContextManager[Any]:
        c = self.config
        return self._session.create_client(  # type: ignore[no-any-return]
            "s3",
            endpoint_url=c.endpoint,
            region_name=c.region,
            aws_access_key_id=c.access_key or None,
            aws_secret_access_key=c.secret_key or None,
        )

    @staticmethod
    def key(sha256: str) -> str:
        if not is_sha256(sha256):
            raise FileMissing(sha256)
        return f"{sha256[:2]}/{sha256}"

    async def put(
        self,
        chunks: AsyncIterable[bytes],
        *,
        max_size: int | None = None,
        media_type: str = "application/octet-stream",
    ) -> StoredFile:
        bucket = self.config.bucket
        digest = hashlib.sha256()
        size = 0
        buffer = bytearray()
        upload_id: str | None = None
        tmp_key = f"tmp/{uuid.uuid4().hex}"
        etags: list[dict[str, Any]] = []
        async with self._client() as s3:
            try:
                async for chunk in chunks:
                    size += len(chunk)
                    if max_size is not None and size > max_size:
                        raise FileTooLarge(max_size)
                    digest.update(chunk)
                    buffer += chunk
                    if len(buffer) >= PART:
                        if upload_id is None:
                            started = await s3.create_multipart_upload(
                                Bucket=bucket, Key=tmp_key, ContentType=media_type
                            )
                            upload_id = started["UploadId"]
                        part = await s3.upload_part(
                            Bucket=bucket,
                            Key=tmp_key,
                            UploadId=upload_id,
                            PartNumber=len(etags) + 1,
                            Body=bytes(buffer),
                        )
                        etags.append({"ETag": part["ETag"], "PartNumber": len(etags) + 1})
                        buffer.clear()
                sha = digest.hexdigest()
                final = self.key(sha)
                if upload_id is None:
                    await s3.put_object(
                        Bucket=bucket, Key=final, Body=bytes(buffer), ContentType=media_type
                    )
                    return StoredFile(sha256=sha, size=size, media_type=media_type)
                if buffer:
                    part = await s3.upload_part(
                        Bucket=bucket,
                        Key=tmp_key,
                        UploadId=upload_id,
                        PartNumber=len(etags) + 1,
                        Body=bytes(buffer),
                    )
                    etags.append({"ETag": part["ETag"], "PartNumber": len(etags) + 1})
                await s3.complete_multipart_upload(
                    Bucket=bucket,
                    Key=tmp_key,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": etags},
                )
                upload_id = None
                try:
                    await s3.copy_object(
                        Bucket=bucket,
                        Key=final,
                        CopySource={"Bucket": bucket, "Key": tmp_key},
                        ContentType=media_type,
                        MetadataDirective="REPLACE",
                    )
                finally:
                    await s3.delete_object(Bucket=bucket, Key=tmp_key)
            except BaseException:
                if upload_id is not None:
                    await s3.abort_multipart_upload(Bucket=bucket, Key=tmp_key, UploadId=upload_id)
                raise
        return StoredFile(sha256=sha, size=size, media_type=media_type)

    async def put_bytes(self, data: bytes, media_type: str) -> StoredFile:
        return await self.put(one_chunk(data), media_type=media_type)

    async def open(self, sha256: str) -> AsyncIterator[bytes]:
        key = self.key(sha256)
        async with self._client() as s3:
            try:
                found = await s3.get_object(Bucket=self.config.bucket, Key=key)
            except ClientError as exc:
                if _missing(exc):
                    raise FileMissing(sha256) from None
                raise
            async with found["Body"] as body:
                while chunk := await body.read(CHUNK):
                    yield chunk

    async def read_bytes(self, sha256: str) -> bytes:
        return b"".join([chunk async for chunk in self.open(sha256)])

    async def exists(self, sha256: str) -> bool:
        try:
            key = self.key(sha256)
        except FileMissing:
            return False
        async with self._client() as s3:
            try:
                await s3.head_object(Bucket=self.config.bucket, Key=key)
            except ClientError as exc:
                if _missing(exc):
                    return False
                raise
        return True

    async def delete(self, sha256: str) -> None:
        try:
            key = self.key(sha256)
        except FileMissing:
            return
        async with self._client() as s3:
            await s3.delete_object(Bucket=self.config.bucket, Key=key)
