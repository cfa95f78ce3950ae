"""Path parameters of the API and the pages, each with its pattern: a value that cannot
name anything (NUL, a path of a kilobyte) is refused before it reaches the store."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

from loket.route.model import IDENT

REGISTRATION_PATTERN = r"^[A-Z][A-Z0-9]{1,11}-[0-9]{4}-[0-9]{6}$"
PERMIT_PATTERN = r"^[A-Z][A-Z0-9]{1,11}$"

RegistrationNumber = Annotated[
    str,
    Path(
        pattern=REGISTRATION_PATTERN,
        max_length=30,
        description="e.g. PBG-2026-000123",
        examples=["PBG-2026-000123"],
    ),
]
StepId = Annotated[str, Path(pattern=IDENT, max_length=64, description="a step id of the route")]
PermitId = Annotated[str, Path(pattern=PERMIT_PATTERN, max_length=12, examples=["PBG"])]

# An Idempotency-Key (a page form's nonce) becomes part of a Temporal Update ID: keep it
# short and plain.
IDEMPOTENCY_KEY_PATTERN = r"^[A-Za-z0-9._:-]{1,100}$"
