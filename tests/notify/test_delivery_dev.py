"""Applicant notices end to end on the dev server: a real SMTP server and a real local
WhatsApp/SMS gateway that answers 500 for a while. Each event sends exactly one message
per channel; no contact data reaches Temporal (history, search attributes), the logs or
the staff webhook."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler

import asyncpg
import httpx
import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from loket.calendar import CalendarSnapshot
from loket.contact import ContactIn
from loket.embedded import free_port
from loket.route.loader import Catalog
from loket.services.submission import submit_application
from loket.settings import Settings
from tests.notify.support import CONTACT_IN, EMAIL, PHONE, TOKEN, Gateway, SmtpSink
from tests.support import SIP_FORM, HttpServer, eventually
from tests.workflow.support import open_tasks
from worker import build_worker, channel_config
from workflows.messages import Actor, ApplicationView, DecisionRequest, ResubmitRequest

pytestmark = [pytest.mark.devserver, pytest.mark.slow]

FRONT = Actor(username="rina", role="staff", counters=("dpmptsp/front_office",))
HEALTH = Actor(username="hana", role="staff", counters=("dinkes/health_licensing",))
ISSUANCE = Actor(username="gita", role="staff", counters=("dpmptsp/issuance",))
SECRETS = (EMAIL, PHONE, PHONE[3:], "0812-3456-7890", "andi.pratama")


class Webhook:
    """The staff webhook: keeps every body it is sent."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, object]] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                hook.bodies.append(json.loads(raw))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = HttpServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def settings(smtp: SmtpSink, gateway: Gateway) -> Settings:
    return Settings(
        env="test",
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_from="loket@blorakab.go.id",
        gateway_url=gateway.url,
        gateway_token=TOKEN,
        notify_claim_lease_s=4.0,
        public_url="https://loket.blorakab.go.id",
    )


async def decide(
    client: Client, reg: str, step: str, outcome: str, actor: Actor, note: str
) -> None:
    handle = client.get_workflow_handle(reg, result_type=ApplicationView)
    request = DecisionRequest(step_id=step, outcome=outcome, actor=actor, note=note)
    await handle.execute_update("decide", request, id=f"{reg}:{step}:{outcome}:{datetime.now(UTC)}")


@pytest.mark.timeout(180)
async def test_each_event_sends_one_message_per_channel_through_a_gateway_outage(
    temporal_dev_env: WorkflowEnvironment,
    task_queue: str,
    pool: asyncpg.Pool,
    catalog: Catalog,
    calendar_snapshot: CalendarSnapshot,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    client = temporal_dev_env.client
    webhook = Webhook()
    with SmtpSink() as smtp, Gateway(failing=4) as gateway:
        async with (
            httpx.AsyncClient() as http,
            build_worker(
                client,
                pool,
                task_queue,
                webhook_url=webhook.url,
                http=http,
                channels=channel_config(settings(smtp, gateway)),
            ),
        ):
            started = time.monotonic()
            submitted = await submit_application(
                client=client,
                pool=pool,
                permit=catalog.permit("SIP"),
                calendar=calendar_snapshot,
                form=SIP_FORM,
                task_queue=task_queue,
                now=datetime.now(UTC),
                contact=ContactIn(**CONTACT_IN),
            )
            reg = submitted.registration_number
            await eventually(lambda: open_tasks(pool, reg), lambda s: s == ["registration"])
            await eventually(lambda: asyncio.sleep(0, len(smtp.messages)), bool)
            first_mail_s = time.monotonic() - started
            await decide(client, reg, "registration", "return", FRONT, "STR scan unreadable")
            handle = client.get_workflow_handle(reg, result_type=ApplicationView)
            await handle.execute_update(
                "resubmit",
                ResubmitRequest(actor=Actor(username=f"applicant:{reg}", role="applicant")),
                id=f"{reg}:resubmit",
            )
            await decide(client, reg, "registration", "approve", FRONT, "")
            await decide(client, reg, "health_verification", "approve", HEALTH, "")
            await decide(client, reg, "issuance", "approve", ISSUANCE, "All requirements met")
            assert (await handle.result()).status == "approved"
            history = (await handle.fetch_history()).to_json()
            described = await handle.describe()
            # The workers' outbox dispatcher delivers, not the run: wait for every row.
            await eventually(
                lambda: pool.fetch(
                    "SELECT delivered_at FROM notification_outbox"
                    " WHERE registration_number = $1 AND recipient = 'applicant'",
                    reg,
                ),
                lambda rows: len(rows) == 4 and all(r["delivered_at"] for r in rows),
                within_s=60,
            )

    # The issuing approval's batch holds both "approved" and "permit ready" (same instant,
    # ordered by key).
    kinds = [
        "application_received",
        "application_returned",
        "application_approved",
        "permit_ready",
    ]
    outbox = await pool.fetch(
        "SELECT key, kind, payload, delivered_at FROM notification_outbox"
        " WHERE registration_number = $1 AND recipient = 'applicant' ORDER BY created_at, key",
        reg,
    )
    assert [r["kind"] for r in outbox] == kinds
    keys = [r["key"] for r in outbox]
    assert all(r["delivered_at"] is not None for r in outbox)
    # Exactly one e-mail and one gateway message per event, although the gateway failed.
    assert smtp.keys() == dict.fromkeys(keys, 1)
    assert sorted(gateway.accepted) == sorted(keys)
    assert len(gateway.requests) == len(keys) + 4  # four 500s, each retried
    rows = await pool.fetch(
        "SELECT key, channel, state, attempts, last_error FROM notification_deliveries"
        " WHERE key = ANY($1::text[])",
        keys,
    )
    assert {(r["key"], r["channel"]) for r in rows} == {
        (k, c) for k in keys for c in ("email", "phone")
    }
    assert {r["state"] for r in rows} == {"sent"}
    assert sum(r["attempts"] for r in rows if r["channel"] == "phone") == len(keys) + 4

    # What was sent: the event's facts, in the applicant's language, to the right address.
    by_key = {str(m["X-Loket-Key"]): m for m in smtp.messages}
    returned = by_key[keys[1]]
    assert returned["To"] == EMAIL
    assert reg in returned["Subject"] and "dikembalikan" in returned["Subject"]
    assert "STR scan unreadable" in returned.get_payload()
    assert "All requirements met" in by_key[keys[2]].get_payload()
    assert {b["to"] for b in gateway.accepted.values()} == {PHONE}
    assert all(reg in str(b["text"]) for b in gateway.accepted.values())

    # No contact data in Temporal, in the logs, in the outbox payloads or the staff webhook.
    attributes = json.dumps([str(p.value) for p in described.typed_search_attributes])
    # Every log line of this process but the test SMTP server's own ("mail.log").
    logged = "\n".join(
        f"{r.getMessage()} {r.__dict__}" for r in caplog.records if not r.name.startswith("mail.")
    )
    for secret in SECRETS:
        assert secret not in history
        assert secret not in attributes
        assert secret not in logged
        assert all(secret not in json.dumps(r["payload"]) for r in outbox)
        assert all(secret not in json.dumps(b) for b in webhook.bodies)
    # Applicant notices never go to the staff webhook.
    assert all(b.get("recipient") != "applicant" for b in webhook.bodies)
    webhook.server.shutdown()
    print(
        f"\nfirst e-mail {first_mail_s * 1000:.0f} ms after the submission; "
        f"{len(keys)} notices, {len(gateway.requests)} gateway requests (4 answered 500)"
    )
