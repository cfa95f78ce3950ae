"""The edge of the app: errors answered inside it, bodies bounded before parsing, and the
headers every answer needs (no-store, HSTS).

Why a middleware for unexpected errors: starlette's ``ServerErrorMiddleware`` re-raises
after answering 500, and uvicorn then closes the keep-alive connection, so the client's
next request fails too. :class:`CatchAll` answers inside the app and returns normally.
"""

from __future__ import annotations

import logging
import re

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from loket.edge.errors import ApiError, Invalid, TooLarge, http_error
from loket.edge.messages import pick_language
from loket.edge.uploads import streams_upload
from loket.services.context import client_ip
from loket.settings import Settings

log = logging.getLogger(__name__)

HSTS = b"max-age=31536000; includeSubDomains"
_NO_CACHE_EXEMPT = ("/static/",)  # everything else may carry tokens or personal data
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def error_response(exc: ApiError, scope: Scope) -> JSONResponse:
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
    lang = pick_language(headers.get("accept-language"))
    return JSONResponse(exc.body(lang), status_code=exc.status_code, headers=exc.headers)


class CatchAll:
    """Innermost user middleware: any exception not handled by a route answers here."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:  # half an answer is out: nothing better than closing remains
                raise
            error = http_error(exc)
            if error is None:
                log.error("unhandled error on %s %s", scope["method"], scope["path"], exc_info=exc)
                error = ApiError("internal_error")
                error.status_code = 500
            await error_response(error, scope)(scope, receive, send)


_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_BRACKET = re.compile(rb"[\[\]{}]")


def json_shape(body: bytes) -> tuple[int, int]:
    """(members, depth) of a JSON text without parsing it: strings blanked, then keys and
    array items counted by their ':' and ',' and nesting by brackets. Linear, no objects."""
    bare = _JSON_STRING.sub(b'""', body)
    members = bare.count(b":") + bare.count(b",")
    depth = deepest = 0
    for found in _BRACKET.finditer(bare):
        depth += 1 if found.group() in (b"{", b"[") else -1
        deepest = max(deepest, depth)
    return members, deepest


class Edge:
    """Outermost: the client's address for the security log, body limits, cache and HSTS
    headers. Bodies are read into memory only up to ``max_body_bytes``."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    def _client(self, scope: Scope, headers: dict[bytes, bytes]) -> tuple[str | None, bool]:
        settings = self.settings
        peer = scope.get("client")
        ip = peer[0] if peer else None
        https = scope.get("scheme") == "https"
        if ip is not None and ip in settings.trusted_proxies:
            forwarded = headers.get(b"x-forwarded-for", b"").decode("latin-1")
            if forwarded:
                ip = forwarded.split(",")[-1].strip() or ip
            https = https or headers.get(b"x-forwarded-proto", b"").lower() == b"https"
        return ip, https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        ip, https = self._client(scope, headers)
        token = client_ip.set(ip)
        path: str = scope.get("path", "")
        no_store = not path.startswith(_NO_CACHE_EXEMPT)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = list(message.get("headers", []))
                present = {name.lower() for name, _ in out}
                if no_store and b"cache-control" not in present:
                    out.append((b"cache-control", b"no-store"))
                if https:
                    out.append((b"strict-transport-security", HSTS))
                message["headers"] = out
            await send(message)

        try:
            # Uploads (10A) stream past this buffer: their handlers bound what they read.
            kind = headers.get(b"content-type", b"")
            if scope["method"] in _BODY_METHODS and not streams_upload(scope["method"], path, kind):
                refusal, replay = await self._bounded_body(scope, headers, receive)
                if refusal is not None:
                    await error_response(refusal, scope)(scope, receive, send_with_headers)
                    return
                receive = replay
            await self.app(scope, receive, send_with_headers)
        finally:
            client_ip.reset(token)

    async def _bounded_body(
        self, scope: Scope, headers: dict[bytes, bytes], receive: Receive
    ) -> tuple[ApiError | None, Receive]:
        settings = self.settings
        limit = settings.max_body_bytes
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            return TooLarge("body_too_large", limit=limit), receive
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None, receive  # the client left; the app sees the disconnect
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return TooLarge("body_too_large", limit=limit), receive
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        kind = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if kind == b"application/json" or kind.endswith(b"+json"):
            members, depth = json_shape(body)
            if members > settings.max_json_keys:
                return Invalid(
                    "body_too_complex", limit=settings.max_json_keys, what="keys"
                ), receive
            if depth > settings.max_json_depth:
                return Invalid(
                    "body_too_complex", limit=settings.max_json_depth, what="levels"
                ), receive
        elif kind == b"application/x-www-form-urlencoded" and (
            body.count(b"&") + 1 > settings.max_json_keys
        ):
            return Invalid("body_too_complex", limit=settings.max_json_keys, what="fields"), receive
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return None, replay
