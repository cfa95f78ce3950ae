"""The S3 file store against a real S3-compatible HTTP server: moto's ThreadedMotoServer
(moto[server], from the package index) on a free port. Same promises as the local store:
content addressing, the size limit while streaming, nothing kept on refusal; a file of
several parts goes by multipart upload."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import AsyncIterator, Iterator

import pytest
from moto.server import ThreadedMotoServer

from loket.embedded import free_port
from loket.files import FileMissing, FileTooLarge, file_store
from loket.files.s3 import PART, S3FileStore
from loket.settings import Settings

BUCKET = "loket-files"


@pytest.fixture(scope="module")
def s3_url() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"s3://{BUCKET}?endpoint=http://127.0.0.1:{port}&region=us-east-1"
    finally:
        server.stop()


@pytest.fixture
async def store(s3_url: str) -> S3FileStore:
    settings = Settings(
        file_store_url=s3_url, s3_access_key="loket-test", s3_secret_key="loket-test-secret"
    )
    chosen = file_store(settings)
    assert isinstance(chosen, S3FileStore)
    async with chosen._client() as s3:
        with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
            await s3.create_bucket(Bucket=BUCKET)
    return chosen


async def keys(store: S3FileStore) -> list[str]:
    async with store._client() as s3:
        listed = await s3.list_objects_v2(Bucket=BUCKET)
        uploads = await s3.list_multipart_uploads(Bucket=BUCKET)
    assert not uploads.get("Uploads"), "an unfinished multipart upload was left"
    return sorted(o["Key"] for o in listed.get("Contents", []))


async def _chunks(parts: list[bytes]) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def test_small_and_multipart_files_are_content_addressed(store: S3FileStore) -> None:
    small = await store.put(_chunks([b"%PDF-1.7\n", b"body"]), media_type="application/pdf")
    assert small.sha256 == hashlib.sha256(b"%PDF-1.7\nbody").hexdigest()
    assert await store.read_bytes(small.sha256) == b"%PDF-1.7\nbody"
    assert await store.put_bytes(b"%PDF-1.7\nbody", "application/pdf") == small

    # Two and a half parts, sent in odd chunk sizes: multipart, then copied to its key.
    big = bytes(range(256)) * ((PART * 5 // 2) // 256)
    pieces = [big[i : i + 1_000_003] for i in range(0, len(big), 1_000_003)]
    stored = await store.put(_chunks(pieces), media_type="application/pdf")
    assert stored.size == len(big) and stored.sha256 == hashlib.sha256(big).hexdigest()
    read = [chunk async for chunk in store.open(stored.sha256)]
    assert b"".join(read) == big
    assert await keys(store) == sorted(
        [S3FileStore.key(small.sha256), S3FileStore.key(stored.sha256)]
    )
    await store.delete(stored.sha256)
    assert not await store.exists(stored.sha256)
    assert await store.exists(small.sha256)


async def test_too_large_keeps_nothing(store: S3FileStore) -> None:
    before = await keys(store)
    with pytest.raises(FileTooLarge):
        await store.put(_chunks([b"x" * PART, b"x" * PART, b"x"]), max_size=2 * PART)
    with pytest.raises(FileTooLarge):
        await store.put(_chunks([b"x" * 600, b"x" * 600]), max_size=1000)
    assert await keys(store) == before  # no temporary key, no aborted upload left


async def test_missing_and_malformed_references(store: S3FileStore) -> None:
    with pytest.raises(FileMissing):
        await store.read_bytes("0" * 64)
    with pytest.raises(FileMissing):
        await store.read_bytes("../../etc/passwd")
    assert not await store.exists("0" * 64)
    assert not await store.exists("../x")
