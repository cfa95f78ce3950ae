"""The satisfaction survey (SKM): one anonymous response per finished application, with
the tracking access code; the index per service and year (rule: ``loket.case.survey``).

Anonymous: the response is stored with its service and month only. The application is
known to it by an HMAC of the registration number under the server's secret, so that a
second response is refused, and never by the number itself. The survey does not go
through the case's workflow on purpose: its history would tie the ratings to the file.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections import defaultdict
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from loket.case.survey import ELEMENTS, RATING_MAX, RATING_MIN, Grade, survey_index
from loket.performance import is_small
from loket.refusal import RefusalCode, Refused
from loket.services import public
from loket.services.context import Services, utcnow
from loket.services.public import TrackBody
from loket.store import survey

log = logging.getLogger(__name__)

FINISHED = ("approved", "rejected")
# Strict: a JSON true or 2.5 is not a rating (pages turn their form's digits into ints).
Rating = Annotated[
    int, Field(strict=True, ge=RATING_MIN, le=RATING_MAX, description="1 (poor) to 4 (very good)")
]


class SurveyBody(TrackBody):
    """The nine elements of Permenpan RB 14/2017, each rated 1-4, and the access code."""

    persyaratan: Rating
    prosedur: Rating
    waktu: Rating
    biaya: Rating
    produk: Rating
    kompetensi: Rating
    perilaku: Rating
    pengaduan: Rating
    sarana: Rating

    def ratings(self) -> dict[str, int]:
        return {e: int(getattr(self, e)) for e in ELEMENTS}


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class SurveyOffer(_Out):
    registration_number: str
    open: bool = Field(description="the application is finished: the survey may be answered")
    answered: bool


class SurveyAnswered(_Out):
    registration_number: str
    permit_type: str
    period: str = Field(description="the month the response counts in, 'YYYY-MM'")


class SurveyResult(_Out):
    """The index of one service in one year; ``None``: withheld (fewer than 5 responses)."""

    permit_type: str
    permit_name: str
    year: str
    respondents: int | None
    ikm: float | None
    grade: Grade | None
    elements: dict[str, float] | None
    suppressed: list[str]


def _mac(services: Services, purpose: str, value: str) -> str:
    key = services.settings.secret_key.get_secret_value().encode()
    return hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def respondent(services: Services, registration_number: str) -> str:
    """What the store knows an application's response by: not the number, an HMAC of it."""
    return _mac(services, "survey-respondent", registration_number)


async def offer(services: Services, registration_number: str, code: str) -> SurveyOffer:
    view = await public.track(services, registration_number, code)
    async with services.acquire() as conn:
        done = await survey.answered(conn, respondent(services, registration_number))
    return SurveyOffer(
        registration_number=registration_number, open=view.status in FINISHED, answered=done
    )


async def answer(
    services: Services, registration_number: str, body: SurveyBody, *, idempotency_key: str
) -> SurveyAnswered:
    """Record the response; a retry of the same key answers the same, another is refused."""
    view = await public.track(services, registration_number, body.access_code)
    if view.status not in FINISHED:
        raise Refused(RefusalCode.SURVEY_NOT_OPEN, status=view.status)
    today = utcnow().astimezone(services.calendar.tz).date()
    period = date(today.year, today.month, 1)
    request = _mac(services, "survey-request", idempotency_key)
    async with services.acquire() as conn:
        stored = await survey.record_response(
            conn,
            respondent=respondent(services, registration_number),
            request=request,
            permit_type=view.permit_type,
            period=period,
            ratings=body.ratings(),
        )
    if stored != request:
        raise Refused(RefusalCode.SURVEY_ALREADY_ANSWERED)
    # Logged without the number: the log must not tie the response to the application.
    log.info("survey response recorded for %s", view.permit_type)
    return SurveyAnswered(
        registration_number=registration_number,
        permit_type=view.permit_type,
        period=period.strftime("%Y-%m"),
    )


async def survey_results(services: Services, year: int) -> list[SurveyResult]:
    tz = services.calendar.tz
    start, end = datetime(year, 1, 1, tzinfo=tz), datetime(year + 1, 1, 1, tzinfo=tz)
    async with services.acquire() as conn:
        rows = await survey.responses(conn, start, end)
    grouped: dict[tuple[str, str], list[dict[str, int]]] = defaultdict(list)
    for r in rows:
        grouped[(r["permit_type"], r["year"])].append({e: r[e] for e in ELEMENTS})
    results = []
    for (permit_type, period), responses in sorted(grouped.items()):
        permit = services.catalog.permits.get(permit_type)
        index = survey_index(responses)
        assert index is not None  # a group has at least one response
        small = is_small(index.respondents)
        results.append(
            SurveyResult(
                permit_type=permit_type,
                permit_name=permit.name if permit else permit_type,
                year=period,
                respondents=None if small else index.respondents,
                ikm=None if small else index.index,
                grade=None if small else index.grade,
                elements=None
                if small
                else {k: round(v, 2) for k, v in index.element_averages.items()},
                suppressed=["respondents", "ikm", "grade", "elements"] if small else [],
            )
        )
    return results
