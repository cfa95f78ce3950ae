"""The wire codec: big payloads deflated, small ones and old histories' plain payloads
untouched, nothing lost either way."""

from __future__ import annotations

import asyncio
import random
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st
from temporalio.api.common.v1 import Payload

from loket.temporal_codec import (
    ENCODING,
    MIN_BYTES,
    CodecError,
    CompressionCodec,
    compress,
    decompress,
)
from tests.unit.test_shared_input import _start_payloads

payloads = st.builds(
    lambda meta, data: Payload(metadata=meta, data=data),
    st.dictionaries(st.text(min_size=1, max_size=20), st.binary(max_size=40), max_size=3),
    st.one_of(st.binary(max_size=5000), st.text(max_size=6000).map(str.encode)),
)


@given(st.lists(payloads, max_size=5))
def test_decode_undoes_encode(batch: list[Payload]) -> None:
    codec = CompressionCodec()
    encoded = asyncio.run(codec.encode(batch))
    assert asyncio.run(codec.decode(encoded)) == batch
    for before, after in zip(batch, encoded, strict=True):
        if after.metadata.get("encoding") == ENCODING:
            assert len(before.data) >= MIN_BYTES and len(after.data) < len(before.data)
        else:
            assert after == before  # left as it was


def test_a_small_payload_stays_plain_json() -> None:
    payload = Payload(metadata={"encoding": b"json/plain"}, data=b'{"step_id":"registration"}')
    assert compress(payload) is payload


def test_a_permit_start_input_travels_at_under_a_quarter_of_its_size() -> None:
    payload = _start_payloads()[-1]
    assert len(payload.data) > 15_000
    packed = compress(payload)
    assert packed.metadata["encoding"] == ENCODING
    assert len(packed.data) * 4 < len(payload.data)
    assert decompress(packed) == payload


def test_plain_payloads_of_old_histories_pass_through_decode() -> None:
    payload = Payload(metadata={"encoding": b"json/plain"}, data=b"x" * (MIN_BYTES * 2))
    assert decompress(payload) is payload


@pytest.mark.parametrize(
    "data", [b"not zlib at all", zlib.compress(b"\xff\xff\xff not a protobuf message")]
)
def test_a_damaged_compressed_payload_is_an_error_not_garbage(data: bytes) -> None:
    with pytest.raises(CodecError):
        decompress(Payload(metadata={"encoding": ENCODING}, data=data))


def test_an_incompressible_payload_stays_as_it_was() -> None:
    payload = Payload(
        metadata={"encoding": b"binary/plain"}, data=random.Random(13).randbytes(4096)
    )
    assert compress(payload) is payload
