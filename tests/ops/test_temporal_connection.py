"""The Temporal connection through the SDK's environment configuration (profiles, API key,
TLS client certificates) with Loket's own variables on top, and tracing through the SDK's
OpenTelemetry interceptor from the API's request to the workflow and its activity."""

from __future__ import annotations

from pathlib import Path

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from temporalio.client import Client
from temporalio.service import TLSConfig
from temporalio.testing import WorkflowEnvironment

from loket import telemetry
from loket.settings import Settings
from loket.temporal_codec import DATA_CONVERTER
from tests.api.harness import idempotent, running_api
from tests.support import PBG_FORM, eventually
from worker import connect, connect_config


def test_defaults_without_any_configuration() -> None:
    config = connect_config(Settings(env="test"), environ={})
    assert config == {"target_host": "127.0.0.1:7233", "namespace": "default"}


def test_temporal_cloud_with_an_api_key_from_the_environment() -> None:
    environ = {
        "TEMPORAL_ADDRESS": "ap-southeast-1.aws.api.temporal.io:7233",
        "TEMPORAL_NAMESPACE": "blora-mpp.a1b2c",
        "TEMPORAL_API_KEY": "key-from-the-cloud-console",
    }
    config = connect_config(Settings(env="test"), environ=environ)
    assert config["target_host"] == environ["TEMPORAL_ADDRESS"]
    assert config["namespace"] == environ["TEMPORAL_NAMESPACE"]
    assert config["api_key"] == environ["TEMPORAL_API_KEY"]
    assert config["tls"] is True  # an API key implies TLS


def test_a_self_hosted_mtls_cluster_from_a_profile(tmp_path: Path) -> None:
    cert, key, ca = (tmp_path / n for n in ("client.pem", "client.key", "ca.pem"))
    for path in (cert, key, ca):
        path.write_bytes(f"-----BEGIN {path.name}-----\n".encode())
    toml = tmp_path / "temporal.toml"
    toml.write_text(
        f"""
[profile.production]
address = "temporal.internal.example:7233"
namespace = "loket"
[profile.production.tls]
client_cert_path = "{cert}"
client_key_path = "{key}"
server_ca_cert_path = "{ca}"
server_name = "temporal.internal.example"
"""
    )
    settings = Settings(env="test", temporal_profile="production")
    config = connect_config(settings, environ={"TEMPORAL_CONFIG_FILE": str(toml)})
    assert config["target_host"] == "temporal.internal.example:7233"
    assert config["namespace"] == "loket"
    tls = config["tls"]
    assert isinstance(tls, TLSConfig)
    assert tls.client_cert == cert.read_bytes() and tls.client_private_key == key.read_bytes()
    assert tls.server_root_ca_cert == ca.read_bytes()
    assert tls.domain == "temporal.internal.example"


def test_loket_variables_win_over_the_sdk_configuration() -> None:
    settings = Settings(env="test", temporal_address="temporal:7233", temporal_namespace="ns")
    config = connect_config(settings, environ={"TEMPORAL_ADDRESS": "elsewhere:7233"})
    assert (config["target_host"], config["namespace"]) == ("temporal:7233", "ns")


async def test_connect_reaches_the_server_named_by_temporal_address(
    temporal_dev_env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    address = temporal_dev_env.client.service_client.config.target_host
    monkeypatch.setenv("TEMPORAL_ADDRESS", address)
    client = await connect(Settings(env="test"))
    assert client.service_client.config.target_host == address
    assert await client.service_client.check_health()


async def test_one_trace_from_the_api_to_the_workflow_and_its_activity(
    temporal_dev_env: WorkflowEnvironment, db_dsn: str, task_queue: str
) -> None:
    exporter = InMemorySpanExporter()
    provider = telemetry.tracer_provider("", exporter=exporter)
    assert provider is not None
    interceptors = telemetry.client_interceptors("http://127.0.0.1:4318")
    assert len(interceptors) == 1
    assert telemetry.client_interceptors("") == []  # no endpoint: tracing stays off
    client = await Client.connect(
        temporal_dev_env.client.service_client.config.target_host,
        data_converter=DATA_CONVERTER,
        interceptors=interceptors,
    )
    caller_trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    async with running_api(client, db_dsn, task_queue) as api:
        r = await api.http.post(
            "/api/public/applications",
            json={"permit_type": "PBG", "form": PBG_FORM},
            headers={"traceparent": f"00-{caller_trace}-00f067aa0ba902b7-01", **idempotent()},
        )
        assert r.status_code == 201
        reg = r.json()["registration_number"]

        async def spans() -> list[str]:
            provider.force_flush()
            return [s.name for s in exporter.get_finished_spans()]

        names = await eventually(spans, lambda n: "RunActivity:record_transition" in n)
    assert "StartWorkflow:PBG" in names and "RunWorkflow:PBG" in names
    started = next(s for s in exporter.get_finished_spans() if s.name == "StartWorkflow:PBG")
    ran = next(
        s for s in exporter.get_finished_spans() if s.name == "RunActivity:record_transition"
    )
    by_id = {s.context.span_id: s for s in exporter.get_finished_spans()}

    def ancestors(span: ReadableSpan) -> list[str]:
        names = []
        while span.parent is not None and span.parent.span_id in by_id:
            span = by_id[span.parent.span_id]
            names.append(span.name)
        return names

    # One trace: the caller's request -> FastAPI's server span -> the workflow start ->
    # the workflow -> the activity.
    assert f"{started.context.trace_id:032x}" == caller_trace
    assert ran.context.trace_id == started.context.trace_id
    assert "POST /api/public/applications" in ancestors(started)
    assert "StartWorkflow:PBG" in ancestors(ran)
    sql = next(s for s in exporter.get_finished_spans() if s.name == "postgresql apply_batch")
    assert sql.context.trace_id == started.context.trace_id  # ... -> activity -> SQL
    assert "RunActivity:record_transition" in ancestors(sql)
    assert started.attributes and started.attributes.get("temporalWorkflowID") == reg
