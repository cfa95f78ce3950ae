"""OpenTelemetry tracing through the Temporal SDK's interceptor, exported over OTLP/HTTP
only when ``LOKET_OTLP_ENDPOINT`` is set (otherwise nothing is created and nothing sent).

The interceptor goes on the client (``Client.connect(interceptors=...)``); workers built on
that client use it too, so one trace runs from the API's Update through the workflow to the
activity.
"""

from __future__ import annotations

import logging
import threading

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from temporalio.client import Interceptor
from temporalio.contrib.opentelemetry import TracingInterceptor

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
