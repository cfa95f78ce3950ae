"""Temporal's remote codec protocol on the ops server: the Temporal UI and CLI
(``temporal workflow show --codec-endpoint http://HOST:OPS_PORT/codec``) post payloads to
``/codec/decode`` and read the deflated ones (``loket.temporal_codec``) as plain JSON.

Only what the caller sent comes back, inflated: nothing is read from a store, so the
endpoint reveals nothing its caller does not hold already (compression is not secrecy).
Browsers need CORS: ``LOKET_CODEC_CORS_ORIGINS`` lists the UI origins allowed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from google.protobuf import json_format
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from temporalio.api.common.v1 import Payload, Payloads

from loket.temporal_codec import CodecError, compress, decompress

MAX_BODY_BYTES = 4 * 1024 * 1024  # Temporal refuses payloads over 2 MB anyway
BAD_PAYLOADS = "bad_payloads"
TOO_LARGE = "too_large"


def codec_routes(cors_origins: Sequence[str] = ()) -> list[Route]:
    allowed = frozenset(cors_origins)

    def cors(request: Request) -> dict[str, str]:
        origin = request.headers.get("origin", "")
        if origin not in allowed:
            return {}
        return {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Methods": "POST, OPTIONS",
            "Access-Control-Allow-Headers": "Content-Type, X-Namespace, Authorization",
            "Vary": "Origin",
        }

    def endpoint(transform: Callable[[Payload], Payload]) -> Callable[..., object]:
        async def handle(request: Request) -> Response:
            headers = cors(request)
            if request.method == "OPTIONS":
                return Response(status_code=204 if headers else 403, headers=headers)
            body = await request.body()
            if len(body) > MAX_BODY_BYTES:
                return _refuse(413, TOO_LARGE, "payloads", headers)
            try:
                payloads = json_format.Parse(body, Payloads())
                out = Payloads(payloads=[transform(p) for p in payloads.payloads])
            except (json_format.ParseError, UnicodeDecodeError) as exc:
                return _refuse(400, BAD_PAYLOADS, f"payloads: {exc}", headers)
            except CodecError as exc:
                return _refuse(400, BAD_PAYLOADS, f"payloads: {exc}", headers)
            return Response(
                json_format.MessageToJson(out), media_type="application/json", headers=headers
            )

        return handle

    return [
        Route("/codec/decode", endpoint(decompress), methods=["POST", "OPTIONS"]),
        Route("/codec/encode", endpoint(compress), methods=["POST", "OPTIONS"]),
    ]


_MESSAGES = {
    BAD_PAYLOADS: "the body is not Temporal payloads that this codec can read",
    TOO_LARGE: f"the body is over {MAX_BODY_BYTES} bytes",
}


def _refuse(status: int, code: str, field: str, headers: dict[str, str]) -> JSONResponse:
    return JSONResponse(
        {"code": code, "message": _MESSAGES[code], "params": {"field": field}, "errors": []},
        status_code=status,
        headers=headers,
    )
