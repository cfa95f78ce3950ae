"""Logging for every Loket process, configured in one place (``configure``).

``json``: one JSON object a line (python-json-logger) with the time, level, logger and
message, plus what is known of the context: the registration number (a permit's workflow
ID), the workflow and activity IDs and types (from the Temporal SDK's workflow and activity
loggers, which put them in ``temporal_workflow`` / ``temporal_activity``), and the signed-in
user bound with :func:`bind`. ``text`` is the same information for a terminal.

No personal data: only fields named here and ``extra`` keys not in :data:`REDACTED_KEYS`
reach the output; applicants' names, NIKs, e-mail addresses and access codes are never
logged by key, and a key that looks like one is replaced with ``[redacted]``.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import sys
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any

from pythonjsonlogger.json import JsonFormatter
from temporalio import activity as temporal_activity

_HANDLER_NAME = "loket"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
CONTEXT_FIELDS = (
    "registration_number",
    "workflow_id",
    "workflow_type",
    "run_id",
    "activity_id",
    "activity_type",
    "attempt",
    "user",
)
REDACTED_KEYS = frozenset(
    {"password", "access_code", "token", "nik", "name", "full_name", "email", "phone", "address"}
)
# Loggers that are chatty at INFO without telling an operator anything.
_QUIET = {"pgserver": logging.WARNING, "httpx": logging.WARNING, "uvicorn.access": logging.WARNING}

# What every LogRecord has (``name`` is the logger's): only ``extra`` keys are redacted.
_RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({})))

_context: contextvars.ContextVar[Mapping[str, str]] = contextvars.ContextVar(
    "loket_log_context", default=MappingProxyType({})
)


@contextlib.contextmanager
def bind(**fields: str | None) -> Iterator[None]:
    """Add ``fields`` (e.g. ``user=``, ``registration_number=``) to every record logged in
    this block, in this task and the tasks it starts."""
    merged = {**_context.get(), **{k: v for k, v in fields.items() if v is not None}}
    token = _context.set(merged)
    try:
        yield
    finally:
        _context.reset(token)


class ContextFilter(logging.Filter):
    """Puts the context fields on the record as attributes (None when unknown)."""

    def filter(self, record: logging.LogRecord) -> bool:
        found: dict[str, Any] = dict(_context.get())
        workflow = getattr(record, "temporal_workflow", None)
        if isinstance(workflow, Mapping):
            found.setdefault("workflow_id", workflow.get("workflow_id"))
            found.setdefault("workflow_type", workflow.get("workflow_type"))
            found.setdefault("run_id", workflow.get("run_id"))
        activity = getattr(record, "temporal_activity", None)
        if activity is None and temporal_activity.in_activity():
            # Plain module loggers inside an activity get its IDs too, not only activity.logger.
            info = temporal_activity.info()
            activity = {
                "activity_id": info.activity_id,
                "activity_type": info.activity_type,
                "attempt": info.attempt,
                "workflow_id": info.workflow_id,
                "workflow_run_id": info.workflow_run_id,
                "workflow_type": info.workflow_type,
            }
        if isinstance(activity, Mapping):
            found.setdefault("workflow_id", activity.get("workflow_id"))
            found.setdefault("workflow_type", activity.get("workflow_type"))
            found.setdefault("run_id", activity.get("workflow_run_id"))
            found.setdefault("activity_id", activity.get("activity_id"))
            found.setdefault("activity_type", activity.get("activity_type"))
            found.setdefault("attempt", activity.get("attempt"))
        # A permit's workflow ID is its registration number (PBG-2026-000123).
        if found.get("workflow_id") and not found.get("registration_number"):
            found["registration_number"] = found["workflow_id"]
        for field in CONTEXT_FIELDS:
            if getattr(record, field, None) is None:
                setattr(record, field, found.get(field))
        for key in set(vars(record)) - _RECORD_ATTRIBUTES:
            if key.lower() in REDACTED_KEYS:
                setattr(record, key, "[redacted]")
        return True


class _Json(JsonFormatter):
    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        # The SDK's nested dicts are flattened into the context fields above.
        log_data.pop("temporal_workflow", None)
        log_data.pop("temporal_activity", None)
        log_data.pop("temporal_log", None)  # the core's record object, already in the message
        return {k: v for k, v in log_data.items() if v is not None}


class _Text(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        known = [f"{f}={getattr(record, f)}" for f in CONTEXT_FIELDS if getattr(record, f, None)]
        return f"{line} [{' '.join(known)}]" if known else line


def configure(fmt: str = "text", level: str | int = "INFO", *, stream: Any = None) -> None:
    """Give the root logger one handler writing ``fmt`` to ``stream`` (stderr), replacing
    the one an earlier call added. `loket dev`, `loket api` and `loket worker` call it."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(ContextFilter())
    if fmt == "json":
        handler.setFormatter(
            _Json(
                "{asctime}{levelname}{name}{message}",
                style="{",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
                timestamp=False,
            )
        )
    else:
        handler.setFormatter(_Text(TEXT_FORMAT))
    handler.set_name(_HANDLER_NAME)
    root = logging.getLogger()
    for old in list(root.handlers):
        if old.get_name() == _HANDLER_NAME:  # ours from an earlier call; others stay
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level if isinstance(level, int) else level.upper())
    for name, quiet in _QUIET.items():
        logging.getLogger(name).setLevel(max(quiet, root.level))
