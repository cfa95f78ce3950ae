"""Runtime configuration, read from the environment (prefix ``LOKET_``) by pydantic-settings.

Development defaults run the whole stack on this machine with embedded services. Outside
development (``LOKET_ENV`` other than ``development``/``test``) the secret key must be set
explicitly: a placeholder secret is refused at start.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from loket.escalation import EscalationSpread

PROJECT_ROOT = Path(__file__).resolve().parent.parent
_PLACEHOLDER_SECRET = "development-only-secret-change-me"
# Billing (issue 11): a payment callback's bank name, and its secret's rules.
BANK_PATTERN = r"^[a-z][a-z0-9_]{1,31}$"
PLACEHOLDER_BANK_SECRET = "development-only-bank-secret-change-me"
MIN_BANK_SECRET = 32


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LOKET_", env_file=None, extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    # Empty means: run an embedded PostgreSQL (pgserver) under data_dir. Read from
    # DATABASE_URL (the name every PostgreSQL tool knows) or LOKET_DATABASE_URL.
    database_url: str = Field(
        default="", validation_alias=AliasChoices("DATABASE_URL", "LOKET_DATABASE_URL")
    )
    data_dir: Path = PROJECT_ROOT / "data"
    definitions_dir: Path = PROJECT_ROOT / "definitions"

    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    temporal_task_queue: str = "loket"
    temporal_ui_url: str = "http://127.0.0.1:8233"
    # Upsert Loket's search attributes from workflows; off only for a Temporal server where
    # they are not registered.
    search_attributes: bool = True
    # Rules of many files due at one instant (the morning after a holiday) fire over this
    # window instead, spread by file (loket.case.escalation.spread): never early, at most
    # the window late. Size it to the peak over the cluster's drain rate (bench/README.md);
    # 0 fires each at its instant. Pinned in each application at submission.
    escalation_spread_s: EscalationSpread = 240

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    secret_key: SecretStr = SecretStr(_PLACEHOLDER_SECRET)
    token_ttl_hours: int = 12

    # Outbound notifications (escalations) are POSTed here when set.
    webhook_url: str = ""

    # Uploaded documents and issued permits (loket/files): empty means a folder under
    # data_dir; file:///path another folder; s3://bucket an S3-compatible object store.
    file_store_url: str = ""

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> Settings:
        if self.env == "production" and self.secret_key.get_secret_value() == _PLACEHOLDER_SECRET:
            raise ValueError("LOKET_SECRET_KEY must be set to a real secret in production")
        return self

    # --- operations: telemetry, health ---------------------------------------------------
    # (docs/operations.md). The ops server of each process (`loket api`, `loket worker`,
    # `loket dev`) answers /livez, /readyz and /metrics; port 0 turns it off.
    ops_host: str = "127.0.0.1"
    ops_port: int = 0
    # Browser origins (the Temporal UI's, e.g. http://temporal-ui:8080) allowed to call the
    # ops server's /codec/decode; the CLI needs none (loket/api/codec.py).
    codec_cors_origins: list[str] = Field(default_factory=list)
    # Loopback address of the Temporal SDK's Prometheus exporter, appended to /metrics;
    # empty: a free loopback port when the ops server is on. Not meant to be scraped directly.
    sdk_metrics_bind: str = ""
    # Seconds each readiness probe (PostgreSQL, Temporal) may take before it counts as down.
    ready_timeout_s: float = 2.0
    # Seconds between refreshes of the gauges read from the store (steps overdue, outbox).
    gauges_refresh_s: float = 30.0
    # A stopping worker lets in-flight activities finish this long, then cancels them; keep
    # it below the container's stop grace period.
    worker_graceful_shutdown_s: float = 20.0
    # Run workflow code in Temporal's sandbox. Off by default: the sandbox re-imports the
    # workflow's modules for every case (a third of a worker's CPU, most of its memory per
    # case, bench/README.md); the replay corpus replays under it in the tests instead.
    workflow_sandbox: bool = False
    # Logs: "json" (one object a line) or "text"; level name.
    log_format: Literal["json", "text"] = "text"
    log_level: str = "INFO"
    # OpenTelemetry traces go to this OTLP/HTTP endpoint (e.g. http://collector:4318); empty: off.
    otlp_endpoint: str = ""
    otel_service_name: str = "loket"
    # Temporal connection through the SDK's environment configuration (temporalio.envconfig):
    # the profile of TEMPORAL_CONFIG_FILE (TOML) and TEMPORAL_* variables (address,
    # namespace, API key, TLS client certificate). LOKET_TEMPORAL_ADDRESS and
    # LOKET_TEMPORAL_NAMESPACE still win when set.
    temporal_profile: str = ""

    # --- brakes: limits, rate limits ---
    # An Update that has not answered within this bound answers 503 update_pending; a retry
    # with the same Idempotency-Key attaches to the same Update.
    update_timeout_s: float = Field(default=15.0, gt=0)
    # Waiting longer than this for a database connection answers 503 database_unavailable.
    db_acquire_timeout_s: float = Field(default=5.0, gt=0)
    # Request bodies are refused before parsing beyond these (413 / 422 body_too_complex).
    max_body_bytes: int = Field(default=256 * 1024, ge=1024)
    max_json_keys: int = Field(default=2000, ge=10)
    max_json_depth: int = Field(default=32, ge=2)
    # Fixed windows of rate_window_s seconds, counted in PostgreSQL (shared by processes).
    rate_window_s: int = Field(default=60, ge=1)
    track_per_ip: int = Field(default=30, ge=1, description="tracking/resubmit per client IP")
    track_per_application: int = Field(default=10, ge=1, description="per registration number")
    signin_per_ip: int = Field(default=30, ge=1)
    # After signin_max_failures failed sign-ins in a row a user name is locked this long.
    signin_max_failures: int = Field(default=5, ge=1)
    signin_lockout_s: int = Field(default=300, ge=1)
    # Proxies whose X-Forwarded-Proto/-For are believed (HSTS, client IP); exact addresses.
    trusted_proxies: list[str] = Field(default_factory=list)

    # --- published performance and open data ---
    # The site's public address (https://...): the open-data catalogue's download links use
    # it, so a forged Host header cannot rewrite them; empty: the address asked (local use).
    public_url: str = ""
    # --- billing and payment (issue 11, docs/payments.md) ---
    # Banks and QRIS aggregators that may call POST /api/payments/callback/{bank}: name ->
    # HMAC-SHA256 secret, e.g. LOKET_PAYMENT_BANKS='{"bjb": "..."}'. Outside production a
    # demo bank with a placeholder secret; production has none unless set, and refuses
    # placeholders and short secrets.
    payment_banks: dict[str, SecretStr] = Field(
        default_factory=lambda: {"demo": SecretStr(PLACEHOLDER_BANK_SECRET)}
    )
    # A callback's signed timestamp may differ from the clock by at most this (replays).
    payment_callback_window_s: int = Field(default=300, ge=1, le=3600)

    @model_validator(mode="after")
    def _refuse_weak_bank_secrets(self) -> Settings:
        if self.env == "production" and "payment_banks" not in self.model_fields_set:
            self.payment_banks = {}  # the demo bank is for development only
        for bank, secret in self.payment_banks.items():
            if not re.fullmatch(BANK_PATTERN, bank):
                raise ValueError(f"LOKET_PAYMENT_BANKS: bank name {bank!r} is not {BANK_PATTERN}")
            value = secret.get_secret_value()
            weak = value == PLACEHOLDER_BANK_SECRET or len(value) < MIN_BANK_SECRET
            if self.env == "production" and weak:
                raise ValueError(
                    f"LOKET_PAYMENT_BANKS: the secret of {bank!r} must be a real secret of at "
                    f"least {MIN_BANK_SECRET} characters in production"
                )
        return self

    # --- documents (10A): credentials of an s3:// file store (LOKET_FILE_STORE_URL) ---
    s3_access_key: SecretStr = SecretStr("")
    s3_secret_key: SecretStr = SecretStr("")
    # --- issued permits (issue 10 §2) ---
    # The public address the permit's QR code points at: <public_base_url>/verify/<number>.
    public_base_url: str = Field(default="http://127.0.0.1:8000", pattern=r"^https?://[^\s]+$")
    # A PDF checked against an issued permit is hashed while it streams in, never stored;
    # larger than this it cannot be one of ours (an issued PDF is a few KB).
    verify_max_bytes: int = Field(default=256 * 1024, ge=1024)
    # Verifications (page, API, PDF checks) per client address and rate window: numbers are
    # sequential, so without a brake one could walk them all and collect holders' names.
    verify_per_ip: int = Field(default=60, ge=1)

    # --- applicant notifications (issue 11 §1, docs/notifications.md) ---
    # E-mail over SMTP; an empty host means "record only" (the delivery row says so).
    smtp_host: str = ""
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_from: str = "loket@localhost"
    smtp_user: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_starttls: bool = False
    # WhatsApp/SMS gateway (one JSON shape); an empty URL means "record only".
    gateway_url: str = ""
    gateway_token: SecretStr = SecretStr("")
    # A delivery attempt's claim; a send must finish within half of it.
    notify_claim_lease_s: float = Field(default=60.0, gt=1)
    # Access-code recovery: requests per registration number per window (and per address,
    # the tracking budget).
    recover_per_application: int = Field(default=3, ge=1)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
