"""The ops server's remote codec (loket/api/codec.py): the Temporal CLI reads a case's
deflated start input through it, on a real dev server; bad input answers 4xx naming the
field; browsers get CORS only from the configured origins."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
import zlib

import httpx
import pytest
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.testing import WorkflowEnvironment

from loket import embedded as services
from loket.api import ops
from loket.temporal_codec import ENCODING, MAX_INFLATED_BYTES, compress
from tests.unit.test_shared_input import _start_payloads

UI = "http://127.0.0.1:8233"


def _body(*payloads: Payload) -> str:
    return json_format.MessageToJson(Payloads(payloads=list(payloads)))


async def _post(port: int, path: str, body: str, **headers: str) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.post(f"http://127.0.0.1:{port}{path}", content=body, headers=headers)


async def test_decode_gives_back_the_plain_payload_and_encode_deflates_it() -> None:
    plain = _start_payloads()[-1]
    packed = compress(plain)
    assert packed.metadata["encoding"] == ENCODING
    port = services.free_port()
    async with ops.ops_server("127.0.0.1", port, {}):
        decoded = await _post(port, "/codec/decode", _body(packed, Payload(data=b"small")))
        encoded = await _post(port, "/codec/encode", _body(plain))
    assert decoded.status_code == 200
    assert json_format.Parse(decoded.text, Payloads()).payloads == [plain, Payload(data=b"small")]
    assert json_format.Parse(encoded.text, Payloads()).payloads == [packed]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ("not json", 400, "bad_payloads"),
        ('{"payloads": [{"data": 12}]}', 400, "bad_payloads"),
        (_body(Payload(metadata={"encoding": ENCODING}, data=b"not zlib")), 400, "bad_payloads"),
        # A deflate bomb (a valid payload past the limit): inflating stops at the limit.
        (
            _body(
                Payload(
                    metadata={"encoding": ENCODING},
                    data=zlib.compress(
                        Payload(data=b"\0" * (MAX_INFLATED_BYTES + 1)).SerializeToString(), 9
                    ),
                )
            ),
            400,
            "bad_payloads",
        ),
        ("x" * (5 * 1024 * 1024), 413, "too_large"),
    ],
    ids=["not-json", "wrong-type", "not-zlib", "bomb", "too-large"],
)
async def test_bad_payloads_answer_4xx_naming_the_field(body: str, status: int, code: str) -> None:
    port = services.free_port()
    async with ops.ops_server("127.0.0.1", port, {}):
        r = await _post(port, "/codec/decode", body)
    assert (r.status_code, r.json()["code"], r.json()["params"]["field"].split(":")[0]) == (
        status,
        code,
        "payloads",
    )


async def test_cors_only_for_the_configured_origins() -> None:
    port = services.free_port()
    async with ops.ops_server("127.0.0.1", port, {}, [UI]), httpx.AsyncClient() as client:
        url = f"http://127.0.0.1:{port}/codec/decode"
        allowed = await client.options(url, headers={"Origin": UI})
        other = await client.options(url, headers={"Origin": "http://evil.example"})
        posted = await client.post(url, content=_body(), headers={"Origin": UI})
    assert allowed.status_code == 204
    assert allowed.headers["access-control-allow-origin"] == UI
    assert "x-namespace" in allowed.headers["access-control-allow-headers"].lower()
    assert other.status_code == 403
    assert "access-control-allow-origin" not in other.headers
    assert posted.headers["access-control-allow-origin"] == UI


@pytest.mark.devserver
async def test_the_temporal_cli_reads_a_deflated_start_input_through_it(
    temporal_dev_env: WorkflowEnvironment,
) -> None:
    client = temporal_dev_env.client
    workflow_id = f"codec-{uuid.uuid4().hex[:8]}"
    big = {"route": "x" * 10_000, "marker": workflow_id}
    # No worker: the started event (its input deflated by the client's codec) is enough.
    await client.start_workflow("NoSuchWorkflow", big, id=workflow_id, task_queue="codec-test")
    address = client.service_client.config.target_host

    async def show(*extra: str) -> dict[str, object]:
        proc = await asyncio.create_subprocess_exec(
            str(services.temporal_cli_path()),
            "workflow",
            "show",
            "--address",
            address,
            "--workflow-id",
            workflow_id,
            "--output",
            "json",
            *extra,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await proc.communicate()
        assert proc.returncode == 0, err.decode()
        events = json.loads(out)["events"]
        started = events[0]["workflowExecutionStartedEventAttributes"]["input"]["payloads"][0]
        return dict(started)

    port = services.free_port()
    async with ops.ops_server("127.0.0.1", port, {}):
        raw = await show()
        decoded = await show("--codec-endpoint", f"http://127.0.0.1:{port}/codec")
    assert base64.b64decode(raw["metadata"]["encoding"]) == ENCODING  # type: ignore[index]
    assert base64.b64decode(decoded["metadata"]["encoding"]) == b"json/plain"  # type: ignore[index]
    assert json.loads(base64.b64decode(decoded["data"])) == big  # type: ignore[arg-type]
