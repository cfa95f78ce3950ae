"""Message templates for applicant notices, versioned with the definitions.

Layout: ``definitions/notifications/v<N>/<kind>.yaml``, one file per kind of the contract
(``loket.case.notices.KINDS``) plus ``access_code_reset``; each holds, per language (``id``,
``en``), a ``subject`` and ``text`` for e-mail and a ``short`` text for WhatsApp/SMS, in
Jinja syntax over the notice's payload. The highest version folder is the live one.

Validated like the route definitions: every kind must have its file (a missing one is an
error naming the file), every template must compile and render a sample payload of its
kind with no undefined name. Rendering runs in Jinja's sandbox: templates are data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import jinja2
from jinja2.sandbox import SandboxedEnvironment
from pydantic import BaseModel, ConfigDict, Field

from loket.case.notices import KINDS
from loket.route.loader import DefinitionError, DefinitionErrors, parse_model

NOTIFICATIONS_DIR = "notifications"
RESET_KIND = "access_code_reset"  # not a case notice: sent by access-code recovery
TEMPLATE_KINDS: tuple[str, ...] = (*KINDS, RESET_KIND)
SHORT_MAX = 1000  # a WhatsApp/SMS text beyond this is a template mistake
_VERSION = re.compile(r"v([1-9][0-9]*)")
Language = Literal["id", "en"]

_WIB = "+07:00"
SAMPLES: dict[str, dict[str, Any]] = {
    "application_received": {},
    "application_returned": {
        "step_id": "completeness_check",
        "step_name": "Document completeness check",
        "items": [{"id": "site_plan", "name": "Site plan"}],
        "note": "The site plan is not signed.",
        "due_at": f"2026-12-10T16:00:00{_WIB}",
    },
    "fee_billed": {"amount": 1250000, "billing_code": "8800123456789", "pay_by": "2026-12-10"},
    "payment_received": {
        "amount": 1250000,
        "billing_code": "8800123456789",
        "receipt_number": "SSRD/2026/000123",
    },
    "payment_reminder": {
        "billing_code": "8800123456789",
        "amount": 1250000,
        "pay_by": "2026-12-10",
    },
    "application_approved": {"note": "Meets every requirement."},
    "application_rejected": {"note": "The site is in a protected zone."},
    "permit_ready": {
        "permit_number": "503/0112/PBG/DPM-PTSP/2026",
        "verify_path": "/verify/503-0112-PBG-DPM-PTSP-2026",
    },
    RESET_KIND: {"access_code": "ABCD234567"},
}


class _Text(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    subject: str = Field(min_length=1, max_length=200)
    text: str = Field(min_length=1)
    short: str = Field(min_length=1)


class TemplateFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str
    id: _Text
    en: _Text


class TemplateProblem(ValueError):
    """A notice that no template of the live version can render (unknown kind, a fact
    missing from its payload)."""


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    short: str


def links_base(public_url: str, api_host: str, api_port: int) -> str:
    """Where links in messages point: the site's public address, else (local use) the API's
    own; a message read in a mail client has no page to be relative to."""
    return public_url.rstrip("/") or f"http://{api_host}:{api_port}"


def rupiah(amount: object) -> str:
    """1250000 -> 'Rp 1.250.000' (Indonesian grouping)."""
    return "Rp " + f"{int(str(amount)):,}".replace(",", ".")


def day(value: object) -> str:
    """An ISO date or time as YYYY-MM-DD (HH:MM when it has a time)."""
    text = str(value)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return text
    return parsed.strftime("%Y-%m-%d %H:%M") if "T" in text else parsed.strftime("%Y-%m-%d")


def _environment() -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True
    )
    env.filters["rupiah"] = rupiah
    env.filters["day"] = day
    return env


class NoticeTemplates:
    """The live template version, compiled."""

    def __init__(self, version: str, files: dict[str, TemplateFile]) -> None:
        self.version = version
        self._env = _environment()
        self._compiled = {
            (kind, lang, part): self._env.from_string(getattr(getattr(f, lang), part))
            for kind, f in files.items()
            for lang in ("id", "en")
            for part in ("subject", "text", "short")
        }

    def render(
        self, kind: str, language: Language, payload: dict[str, Any], base_url: str
    ) -> Rendered:
        context = {"base_url": base_url.rstrip("/"), **payload}
        try:
            parts = {
                part: self._compiled[(kind, language, part)].render(context).strip()
                for part in ("subject", "text", "short")
            }
        except KeyError:
            raise TemplateProblem(f"no template for kind {kind!r}") from None
        except jinja2.TemplateError as exc:
            raise TemplateProblem(f"{kind}: {exc}") from None
        # A subject is one header line, whatever the payload held.
        parts["subject"] = " ".join(parts["subject"].split())
        return Rendered(**parts)


def _versions(folder: Path) -> list[tuple[int, Path]]:
    found = [
        (int(m.group(1)), p)
        for p in folder.iterdir()
        if p.is_dir() and (m := _VERSION.fullmatch(p.name))
    ]
    return sorted(found)


def load_templates(definitions_dir: Path, version: str | None = None) -> NoticeTemplates:
    """The templates of ``version`` (default: the highest); DefinitionErrors naming files."""
    base = definitions_dir / NOTIFICATIONS_DIR
    versions = _versions(base) if base.is_dir() else []
    if not versions:
        raise DefinitionErrors(
            [DefinitionError(f"{NOTIFICATIONS_DIR}/", "", "no template version folder (v1...)")]
        )
    chosen = next((p for _, p in versions if p.name == version), None) if version else None
    folder = chosen or versions[-1][1]
    errors: list[DefinitionError] = []
    files: dict[str, TemplateFile] = {}
    for kind in TEMPLATE_KINDS:
        display = f"{NOTIFICATIONS_DIR}/{folder.name}/{kind}.yaml"
        path = folder / f"{kind}.yaml"
        if not path.is_file():
            errors.append(DefinitionError(display, "", f"missing: no template for kind {kind}"))
            continue
        parsed, problems = parse_model(TemplateFile, path, display)
        errors.extend(problems)
        if parsed is None:
            continue
        if parsed.kind != kind:
            errors.append(DefinitionError(display, "kind", f"says {parsed.kind!r}, not {kind!r}"))
            continue
        files[kind] = parsed
        errors.extend(_check(display, parsed))
    if errors:
        raise DefinitionErrors(errors)
    return NoticeTemplates(folder.name, files)


def _check(display: str, parsed: TemplateFile) -> list[DefinitionError]:
    """Each template compiles and renders its kind's sample with no undefined name."""
    env = _environment()
    context = {
        "base_url": "https://loket.example.go.id",
        "registration_number": "PBG-2026-000001",
        "permit_type": "PBG",
        **SAMPLES[parsed.kind],
    }
    errors = []
    for lang in ("id", "en"):
        for part in ("subject", "text", "short"):
            source = getattr(getattr(parsed, lang), part)
            try:
                out = env.from_string(source).render(context)
            except jinja2.TemplateError as exc:
                errors.append(DefinitionError(display, f"{lang}.{part}", str(exc)))
                continue
            if part == "short" and len(out) > SHORT_MAX:
                errors.append(
                    DefinitionError(display, f"{lang}.{part}", f"renders beyond {SHORT_MAX} chars")
                )
    return errors
