"""Real providers for the notification tests: an SMTP server (aiosmtpd) and a WhatsApp/SMS
gateway (an HTTP server following docs/notifications.md), both on free loopback ports."""

from __future__ import annotations

import asyncio
import email
import json
import threading
from collections import Counter
from email.message import Message
from http.server import BaseHTTPRequestHandler
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from loket.contact import CONSENT_VERSION
from loket.embedded import free_port
from tests.support import HttpServer

PHONE = "+6281234567890"
EMAIL = "andi.pratama@example.co.id"
TOKEN = "gateway-test-token"
CONTACT = {"phone": "0812-3456-7890", "email": EMAIL, "consent": True}
CONTACT_IN: dict[str, Any] = {**CONTACT, "consent_version": CONSENT_VERSION}


class SmtpSink:
    """Keeps every message it accepted. ``hold_first``: the first session waits in RCPT
    until ``release`` is set (a delivery in flight, to kill the worker under)."""

    def __init__(self, *, hold_first: bool = False) -> None:
        self.messages: list[Message] = []
        self.sessions = 0
        self.hold_first = hold_first
        self.held = threading.Event()
        self.release = threading.Event()
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        self.sessions += 1
        if self.hold_first and not self.held.is_set():
            self.held.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        self.messages.append(email.message_from_bytes(content))
        return "250 Message accepted for delivery"

    def keys(self) -> Counter[str]:
        return Counter(str(m["X-Loket-Key"]) for m in self.messages)

    def __enter__(self) -> SmtpSink:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.controller.stop()


class Gateway:
    """A WhatsApp/SMS gateway as documented: bearer token, JSON body, deduplication on
    Idempotency-Key. Fails its first ``failing`` requests with 500. ``hold_first``: takes
    the first message, then waits for ``release`` before answering (the provider has it,
    the sender does not know yet: the window a killed worker leaves)."""

    def __init__(self, *, failing: int = 0, hold_first: bool = False) -> None:
        self.requests: list[dict[str, Any]] = []
        self.accepted: dict[str, dict[str, Any]] = {}
        self.failing = failing
        self.hold_first = hold_first
        self.held = threading.Event()
        self.release = threading.Event()
        self.lock = threading.Lock()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    self._answer(401, {"error": "unauthorized"})
                    return
                body = json.loads(raw)
                key = self.headers.get("Idempotency-Key", "")
                hold = False
                with gateway.lock:
                    gateway.requests.append({"key": key, **body})
                    if len(gateway.requests) <= gateway.failing:
                        self._answer(500, {"error": "down"})
                        return
                    if key not in gateway.accepted:
                        gateway.accepted[key] = body
                        hold = gateway.hold_first and not gateway.held.is_set()
                if hold:
                    gateway.held.set()
                    gateway.release.wait(60)
                self._answer(200, {"id": f"gw-{abs(hash(key)) % 10**8}", "status": "queued"})

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the sender is gone (killed mid-request)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = HttpServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/messages"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Gateway:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def channel_env(smtp: SmtpSink, gateway: Gateway, lease_s: float = 4.0) -> dict[str, str]:
    """The worker's settings for both providers (LOKET_* variables)."""
    return {
        "LOKET_SMTP_HOST": "127.0.0.1",
        "LOKET_SMTP_PORT": str(smtp.port),
        "LOKET_SMTP_FROM": "loket@blorakab.go.id",
        "LOKET_GATEWAY_URL": gateway.url,
        "LOKET_GATEWAY_TOKEN": TOKEN,
        "LOKET_NOTIFY_CLAIM_LEASE_S": str(lease_s),
    }
