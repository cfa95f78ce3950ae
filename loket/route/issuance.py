"""The issued permit as a definition declares it (issue 10 §2): its number format, validity,
issuing office, signing position and which form fields name the holder and the object.

Pure: the number format's grammar, the validity's end date and NIK masking live here, so the
definition validator, the numbering activity, the PDF and the verification page share one
implementation of each.
"""

from __future__ import annotations

import re
from datetime import date

from pydantic import BaseModel, ConfigDict, Field

# A permit number goes into a URL path (/verify/<number>) and a QR code: only characters
# that need no escaping there. Placeholders: {seq} or {seq:0N}, {year}, {month}.
_LITERAL = r"[A-Za-z0-9./_-]"
_PLACEHOLDER = re.compile(r"\{(seq|year|month)(?::(0[1-9]))?\}")
_FORMAT = re.compile(rf"(?:{_LITERAL}|\{{(?:seq|year|month)(?::0[1-9])?\}})+")
NUMBER_MAX_LENGTH = 100  # the permits.number column
NUMBER_PATTERN = r"^[A-Za-z0-9./_-]{1,100}$"  # what a well-formed number looks like
MAX_SEQ = 999_999  # the largest sequence value a format is checked against
# The PDF templates loket/permit_pdf.py has (a new look is a new version, never an edit).
KNOWN_TEMPLATES = frozenset({"pbg-v1", "sip-v1", "ptka-v1"})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NumberFormat(_Strict):
    format: str = Field(
        min_length=1,
        max_length=NUMBER_MAX_LENGTH,
        description="e.g. '503/{seq:04}/PBG/DPMPTSP/{year}'; placeholders {seq}, {seq:0N}, "
        "{year}, {month}; other characters: letters, digits, . / _ -",
    )


class Validity(_Strict):
    years: int = Field(ge=1, le=100)


class IssuedPermitSpec(_Strict):
    """What the permit document says besides the application's own data."""

    template: str = Field(
        pattern=r"^[a-z][a-z0-9_]*-v[1-9][0-9]*$",
        description="versioned PDF template, e.g. 'pbg-v1' (loket/permit_pdf.py)",
    )
    title: str = Field(min_length=1, max_length=200, description="the document's heading")
    number: NumberFormat
    validity: Validity | None = Field(default=None, description="absent: valid indefinitely")
    issuing_office: str = Field(min_length=1, max_length=200)
    signer_position: str = Field(
        pattern=r"^[a-z][a-z0-9_]*$", description="position id in the officials table"
    )
    holder_name: str = Field(description="form field with the holder's name")
    holder_id: str | None = Field(default=None, description="form field with the NIK (masked)")
    object_fields: list[str] = Field(
        default_factory=list, description="form fields printed as the permit's object"
    )


def format_problems(fmt: str) -> list[str]:
    """Why ``fmt`` is not a usable number format (empty when it is)."""
    if not _FORMAT.fullmatch(fmt):
        return [
            "only letters, digits, '. / _ -' and the placeholders {seq}, {seq:0N}, {year}, "
            "{month} are allowed"
        ]
    names = [m.group(1) for m in _PLACEHOLDER.finditer(fmt)]
    problems = []
    if names.count("seq") != 1:
        problems.append("needs exactly one {seq}: the number must differ for each permit")
    if "year" not in names:
        problems.append("needs {year}: the sequence restarts every year")
    longest = len(render_number(fmt, MAX_SEQ, 2026, 12)) if not problems else 0
    if longest > NUMBER_MAX_LENGTH:
        problems.append(f"gives numbers longer than {NUMBER_MAX_LENGTH} characters")
    return problems


def render_number(fmt: str, seq: int, year: int, month: int) -> str:
    """The number for ``seq`` in ``year``; ``fmt`` must have passed :func:`format_problems`."""

    def one(match: re.Match[str]) -> str:
        name, width = match.group(1), match.group(2)
        value = {"seq": seq, "year": year, "month": month}[name]
        return format(value, width) if width else str(value)

    return _PLACEHOLDER.sub(one, fmt)


def valid_until(spec: IssuedPermitSpec, issued_on: date) -> date | None:
    """The last day of validity: the day before the anniversary (29 Feb: 28 Feb)."""
    if spec.validity is None:
        return None
    year = issued_on.year + spec.validity.years
    day = issued_on.day if not (issued_on.month == 2 and issued_on.day == 29) else 28
    end = date(year, issued_on.month, day)
    return date.fromordinal(end.toordinal() - 1)


def mask_id(value: str) -> str:
    """A NIK as the public may see it: first 4 (the regency's code) and last 4 characters,
    the rest hidden (3316********0001). Shorter values keep at most their last 2: never
    more than half shows."""
    value = value.strip()
    if len(value) >= 16:
        return value[:4] + "*" * (len(value) - 8) + value[-4:]
    keep = min(2, len(value) // 3)
    return "*" * (len(value) - keep) + value[len(value) - keep :]
