"""Multipart uploads, streamed: a file part reaches the file store chunk by chunk.

FastAPI's ``UploadFile`` (starlette's parser) spools every file to a temporary file before
the handler runs and knows no per-file limit, so a 2 GB body would be written to disk
before any rule is checked. Here python-multipart's push parser is fed from
``request.stream()`` and each file part is an async iterator over its data: the handler
checks the type from the first bytes and the size while it streams. Text fields are small
(``MAX_FIELD_BYTES``) and read whole.

The ``Edge`` middleware buffers ordinary bodies (``max_body_bytes``); upload routes
(:func:`streams_upload`) pass through it unbuffered: their handlers bound what they read.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass, field

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from loket.edge.errors import Invalid, TooLarge

MAX_FIELD_BYTES = 64 * 1024
MAX_PARTS = 50

# Routes whose multipart body is streamed to the handler (documents, 10A).
_UPLOAD_PATH = re.compile(
    r"^/((api/)?(public|staff)/applications/[^/]+/documents/[a-z][a-z0-9_]*"
    r"|track/documents/[a-z][a-z0-9_]*)$"
)


def streams_upload(method: str, path: str, content_type: bytes) -> bool:
    return (
        method == "POST"
        and content_type.split(b";")[0].strip().lower() == b"multipart/form-data"
        and _UPLOAD_PATH.match(path) is not None
    )


@dataclass
class _Event:
    kind: str  # begin, header, data, end
    data: bytes = b""
    name: bytes = b""


@dataclass
class Part:
    name: str
    filename: str | None
    content_type: str
    _stream: MultipartStream
    _done: bool = False

    async def chunks(self) -> AsyncIterator[bytes]:
        while not self._done:
            event = await self._stream.next_event()
            if event is None or event.kind == "end":
                self._done = True
                return
            if event.kind == "data" and event.data:
                yield event.data

    async def text(self, limit: int = MAX_FIELD_BYTES) -> str:
        data = b""
        async for chunk in self.chunks():
            data += chunk
            if len(data) > limit:
                raise TooLarge("body_too_large", limit=limit)
        return data.decode("utf-8", errors="replace")

    async def drain(self) -> None:
        async for _ in self.chunks():
            pass


@dataclass
class MultipartStream:
    body: AsyncIterator[bytes]
    parser: MultipartParser | None = None
    events: deque[_Event] = field(default_factory=deque)
    _field: bytes = b""
    _value: bytes = b""
    _finished: bool = False

    def _on(self, kind: str, data: bytes = b"", name: bytes = b"") -> None:
        self.events.append(_Event(kind, data, name))

    async def next_event(self) -> _Event | None:
        while not self.events:
            if self._finished:
                return None
            assert self.parser is not None
            try:
                chunk = await anext(self.body)
            except StopAsyncIteration:
                self._finished = True
                chunk = None
            try:
                if chunk is None:
                    self.parser.finalize()
                else:
                    self.parser.write(chunk)
            except FormParserError:
                # A body that is not the multipart it says: the client's fault, never a 500.
                self._finished = True
                raise Invalid("invalid_request", fields="body (malformed multipart)") from None
        return self.events.popleft()


def _stream(body: AsyncIterable[bytes], content_type: str) -> MultipartStream:
    kind, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise Invalid("invalid_request", fields="body (multipart/form-data with a boundary)")
    stream = MultipartStream(aiter(body))

    def header_field(data: bytes, start: int, end: int) -> None:
        stream._field += data[start:end]

    def header_value(data: bytes, start: int, end: int) -> None:
        stream._value += data[start:end]

    def header_end() -> None:
        stream._on("header", stream._value, stream._field.lower())
        stream._field = stream._value = b""

    stream.parser = MultipartParser(
        boundary,
        {
            "on_part_begin": lambda: stream._on("begin"),
            "on_part_data": lambda data, start, end: stream._on("data", data[start:end]),
            "on_part_end": lambda: stream._on("end"),
            "on_header_field": header_field,
            "on_header_value": header_value,
            "on_header_end": header_end,
        },
    )
    return stream


async def parts(body: AsyncIterable[bytes], content_type: str) -> AsyncIterator[Part]:
    """Each part in order; a part its consumer left unread is skipped before the next."""
    stream = _stream(body, content_type)
    previous: Part | None = None
    count = 0
    while True:
        if previous is not None and not previous._done:
            await previous.drain()
        event = await stream.next_event()
        if event is None:
            return
        if event.kind != "begin":
            continue
        count += 1
        if count > MAX_PARTS:
            raise Invalid("body_too_complex", limit=MAX_PARTS, what="parts")
        headers: dict[bytes, bytes] = {}
        while (nxt := await stream.next_event()) is not None and nxt.kind == "header":
            headers[nxt.name] = nxt.data
        if nxt is None:
            return
        stream.events.appendleft(nxt)  # the part's first data (or its end)
        _, disposition = parse_options_header(headers.get(b"content-disposition", b""))
        filename = disposition.get(b"filename")
        previous = Part(
            name=disposition.get(b"name", b"").decode("utf-8", errors="replace"),
            filename=filename.decode("utf-8", errors="replace") if filename is not None else None,
            content_type=headers.get(b"content-type", b"").decode("latin-1"),
            _stream=stream,
        )
        yield previous
