"""The data converter every Loket process talks to Temporal with: pydantic JSON, and
payloads of ``MIN_BYTES`` or more compressed with zlib on the wire.

Why: a permit application's start input carries its pinned route version and calendar
(about 23 KB of JSON), and the SDK keeps several copies of it for every cached workflow:
a bare workflow given a 23 KB input costs a worker as much memory as a whole Loket case
(``bench/memory.py --bare-input-kb 23``). Compressed it is about 5 KB, in the worker, in the
history the server stores and in every replay. Small payloads (requests, most views, search
attributes, which never pass through a codec) stay plain JSON, readable in the Temporal UI.

Decoding passes every payload without the ``binary/zlib`` encoding through untouched, so
histories written before the codec replay as they are. A compressed payload is the whole
original ``Payload`` message (its metadata and data) deflated: nothing is lost.
"""

from __future__ import annotations

import dataclasses
import zlib
from collections.abc import Sequence

from google.protobuf.message import DecodeError
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, PayloadCodec

ENCODING = b"binary/zlib"
MIN_BYTES = 2048  # below this a payload stays plain: the saving would not pay for itself
LEVEL = 1  # JSON: 22.9 KB -> 5.2 KB in 0.15 ms (level 6: 4.5 KB in 0.36 ms)
# Inflating stops here: a payload deflated elsewhere (the ops server's codec endpoint takes
# them from outside) cannot blow up a process. Loket's own are well under 1 MB.
MAX_INFLATED_BYTES = 16 * 1024 * 1024


class CodecError(ValueError):
    """A payload marked ``binary/zlib`` whose data does not inflate to a payload."""


class CompressionCodec(PayloadCodec):
    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [compress(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [decompress(p) for p in payloads]


def compress(payload: Payload) -> Payload:
    if payload.metadata.get("encoding") == ENCODING or len(payload.data) < MIN_BYTES:
        return payload
    raw = payload.SerializeToString(deterministic=True)
    packed = zlib.compress(raw, LEVEL)
    if len(packed) >= len(raw):  # incompressible: keep it as it was
        return payload
    return Payload(metadata={"encoding": ENCODING}, data=packed)


def decompress(payload: Payload) -> Payload:
    if payload.metadata.get("encoding") != ENCODING:
        return payload
    inflater = zlib.decompressobj()
    try:
        raw = inflater.decompress(payload.data, MAX_INFLATED_BYTES)
        if inflater.unconsumed_tail:
            raise CodecError(f"a {ENCODING.decode()} payload inflates past {MAX_INFLATED_BYTES}")
        if not inflater.eof:
            raise CodecError(f"a {ENCODING.decode()} payload is cut short")
        return Payload.FromString(raw)
    except (zlib.error, DecodeError) as exc:
        raise CodecError(f"a {ENCODING.decode()} payload does not inflate: {exc}") from exc


DATA_CONVERTER: DataConverter = dataclasses.replace(
    pydantic_data_converter, payload_codec=CompressionCodec()
)
