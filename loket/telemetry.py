"""OpenTelemetry tracing through the Temporal SDK's interceptor, exported over OTLP/HTTP
only when ``LOKET_OTLP_ENDPOINT`` is set (otherwise nothing is created and nothing sent);
and :class:`RequestTelemetry`, the API's per-request metrics and log line.

The interceptor goes on the client (``Client.connect(interceptors=...)``); workers built on
that client use it too. FastAPI creates the request's server span (and its dependency and
endpoint spans) through the same global provider, joining a caller's ``traceparent``, so one
trace runs from the HTTP request through the Update or workflow start to the activity.
"""

from __future__ import annotations

import logging
import re
import threading
import time

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from temporalio.client import Interceptor
from temporalio.contrib.opentelemetry import TracingInterceptor

from loket import logs, metrics

log = logging.getLogger(__name__)

_lock = threading.Lock()
_provider: TracerProvider | None = None


def tracer_provider(
    endpoint: str, service_name: str = "loket", *, exporter: SpanExporter | None = None
) -> TracerProvider | None:
    """The process's tracer provider exporting to ``endpoint`` (``http://host:4318``), made
    the global one on first call; None when ``endpoint`` is empty and no ``exporter`` given."""
    global _provider
    if not endpoint and exporter is None:
        return None
    with _lock:
        if _provider is None:
            provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service_name}))
            span_exporter = exporter or OTLPSpanExporter(
                endpoint=endpoint.rstrip("/") + "/v1/traces"
            )
            provider.add_span_processor(BatchSpanProcessor(span_exporter))
            trace.set_tracer_provider(provider)
            _provider = provider
            log.info("traces exported over OTLP to %s", endpoint or "a custom exporter")
        return _provider


def client_interceptors(endpoint: str, service_name: str = "loket") -> list[Interceptor]:
    """``[TracingInterceptor]`` when tracing is on, else ``[]``."""
    provider = tracer_provider(endpoint, service_name)
    if provider is None:
        return []
    return [TracingInterceptor(provider.get_tracer("loket"))]


# A registration number in the path (PBG-2026-000123): no personal data, and what an
# operator searches the logs for.
_REGISTRATION = re.compile(r"/([A-Z][A-Z0-9]*-\d{4}-\d{6})(?=/|$)")
http_log = logging.getLogger("loket.http")


class RequestTelemetry:
    """Pure ASGI middleware, for every API request: the HTTP metrics (by method, route
    template and status; the template, ``/api/staff/tasks/{registration_number}/{step_id}``,
    never the raw path, keeps the series bounded; an unmatched path counts as one), one log
    line, and the registration number of its path on every record logged meanwhile.
    (FastAPI makes the request's server span itself, through the global tracer provider.)"""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        found = _REGISTRATION.search(scope.get("path", ""))
        method = scope.get("method", "")
        with logs.bind(registration_number=found[1] if found else None):
            try:
                await self.app(scope, receive, send_status)
            finally:
                route = scope.get("route")
                template = str(getattr(route, "path", "")) or "unmatched"
                seconds = time.perf_counter() - started
                metrics.observe_http(method, template, status, seconds)
                http_log.info(
                    "%s %s %d %.0fms",
                    method,
                    template,
                    status,
                    seconds * 1000,
                    extra={"http_status": status, "duration_ms": round(seconds * 1000, 1)},
                )
