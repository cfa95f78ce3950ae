"""The local file store: content addressing, streaming size limit, nothing kept on refusal."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loket.files import FileMissing, FileTooLarge, LocalFileStore, file_store
from loket.settings import Settings


async def _chunks(parts: list[bytes]) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def test_content_is_stored_once_under_its_sha256(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path)
    first = await store.put(_chunks([b"%PDF-1.7\n", b"body"]), media_type="application/pdf")
    again = await store.put_bytes(b"%PDF-1.7\nbody", "application/pdf")
    assert first == again
    assert first.sha256 == hashlib.sha256(b"%PDF-1.7\nbody").hexdigest()
    assert first.size == 13
    assert await store.read_bytes(first.sha256) == b"%PDF-1.7\nbody"
    stored = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert [p.name for p in stored] == [first.sha256]  # no temporary file left


async def test_too_large_keeps_nothing(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path)
    with pytest.raises(FileTooLarge) as refused:
        await store.put(_chunks([b"x" * 600, b"x" * 600]), max_size=1000)
    assert refused.value.limit == 1000
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
    ok = await store.put(_chunks([b"x" * 1000]), max_size=1000)  # exactly the limit is fine
    assert ok.size == 1000


async def test_missing_and_malformed_references(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path)
    with pytest.raises(FileMissing):
        await store.read_bytes("0" * 64)
    with pytest.raises(FileMissing):  # never a path outside the store
        await store.read_bytes("../../etc/passwd")
    assert not await store.exists("../x")
    assert not await store.exists("0" * 64)


def test_backend_from_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOKET_FILE_STORE_URL", raising=False)  # tests/conftest.py sets it
    default = file_store(Settings(data_dir=tmp_path))
    assert isinstance(default, LocalFileStore) and default.root == tmp_path / "files"
    other = file_store(Settings(file_store_url=f"file://{tmp_path}/elsewhere"))
    assert isinstance(other, LocalFileStore) and other.root == tmp_path / "elsewhere"
    with pytest.raises(ValueError, match="LOKET_FILE_STORE_URL"):
        file_store(Settings(file_store_url="ftp://nowhere"))


@settings(max_examples=25, deadline=None)
@given(parts=st.lists(st.binary(max_size=300), max_size=8))
async def test_any_chunking_gives_the_same_reference(parts: list[bytes]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        store = LocalFileStore(Path(tmp))
        ref = await store.put(_chunks(parts))
        data = b"".join(parts)
        assert ref.sha256 == hashlib.sha256(data).hexdigest() and ref.size == len(data)
        assert await store.read_bytes(ref.sha256) == data
