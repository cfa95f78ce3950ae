"""Connecting to Temporal the one way every process does (worker, API, CLI): the SDK's
environment configuration, the pydantic data converter, metrics and traces."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.envconfig import ClientConfigProfile, ClientConnectConfig

from loket import metrics, telemetry
from loket.settings import Settings


def connect_config(
    settings: Settings, environ: dict[str, str] | None = None
) -> ClientConnectConfig:
    """Where and how to reach Temporal: the SDK's environment configuration (the profile
    ``LOKET_TEMPORAL_PROFILE`` of TEMPORAL_CONFIG_FILE, TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
    TEMPORAL_API_KEY, TEMPORAL_TLS_*), then LOKET_TEMPORAL_ADDRESS and _NAMESPACE when set,
    else Loket's defaults (docs/operations.md)."""
    profile = ClientConfigProfile.load(
        profile=settings.temporal_profile or None, override_env_vars=environ
    )
    config = profile.to_client_connect_config()
    explicit = settings.model_fields_set
    if "temporal_address" in explicit or "target_host" not in config:
        config["target_host"] = settings.temporal_address
    if "temporal_namespace" in explicit or "namespace" not in config:
        config["namespace"] = settings.temporal_namespace
    return config


async def connect(settings: Settings) -> Client:
    from loket.embedded import free_port
    from loket.temporal_codec import DATA_CONVERTER

    bind = ""
    if settings.ops_port:  # the SDK's metrics are served through the ops server's /metrics
        bind = settings.sdk_metrics_bind or f"127.0.0.1:{free_port()}"
    runtime = metrics.temporal_runtime(bind)
    return await Client.connect(
        **connect_config(settings),
        data_converter=DATA_CONVERTER,
        interceptors=telemetry.client_interceptors(
            settings.otlp_endpoint, settings.otel_service_name
        ),
        runtime=runtime,
    )
