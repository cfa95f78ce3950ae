"""Published performance, open data and the satisfaction survey (no sign-in):
``loket.services.performance``, ``.opendata`` and ``.survey``.

The survey needs the tracking access code, in the body (POST), never in a URL.
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status

from loket.api.deps import IdempotencyKey, ServicesDep
from loket.api.errors import CHANGE_RESPONSES, ERROR_RESPONSES
from loket.edge.params import RegistrationNumber
from loket.services import opendata, survey
from loket.services.performance import Performance, current_year, published_performance
from loket.services.public import TrackBody
from loket.services.survey import SurveyAnswered, SurveyBody, SurveyOffer

router = APIRouter(tags=["public"], responses=ERROR_RESPONSES)

Year = Annotated[int | None, Query(ge=2000, le=2100, description="default: this year")]
OPEN_DATA_CACHE = "public, max-age=300"


@router.get("/api/public/performance", summary="Published service performance of a year")
async def get_performance(services: ServicesDep, year: Year = None) -> Performance:
    return await published_performance(services, year or current_year(services))


@router.post(
    "/api/public/applications/{registration_number}/survey/offer",
    summary="Whether the satisfaction survey is open for a finished application",
)
async def post_survey_offer(
    services: ServicesDep, registration_number: RegistrationNumber, body: TrackBody
) -> SurveyOffer:
    return await survey.offer(services, registration_number, body.access_code)


@router.post(
    "/api/public/applications/{registration_number}/survey",
    status_code=status.HTTP_201_CREATED,
    summary="Answer the satisfaction survey (SKM) of a finished application, once",
    responses=CHANGE_RESPONSES,
)
async def post_survey(
    services: ServicesDep,
    registration_number: RegistrationNumber,
    body: SurveyBody,
    idempotency_key: IdempotencyKey,
) -> SurveyAnswered:
    return await survey.answer(services, registration_number, body, idempotency_key=idempotency_key)


@router.get("/data.json", summary="Open data catalogue (DCAT-US 1.1, harvested by Satu Data)")
async def get_catalogue(services: ServicesDep, request: Request) -> Response:
    body = opendata.catalogue(services, services.settings.public_url or str(request.base_url))
    return Response(
        json.dumps(body, ensure_ascii=False, indent=1),
        media_type="application/json",
        headers={"Cache-Control": OPEN_DATA_CACHE},
    )


@router.get("/open-data/{year}/{filename}", summary="One open dataset of a year, CSV or JSON")
async def get_dataset(
    services: ServicesDep,
    year: Annotated[int, Path(ge=2000, le=2100)],
    filename: Annotated[str, Path(pattern=r"^[a-z][a-z-]{0,40}\.(csv|json)$")],
) -> Response:
    dataset_id, fmt = filename.rsplit(".", 1)
    body, media_type = await opendata.dataset_file(services, dataset_id, year, fmt)
    return Response(
        body,
        media_type=media_type,
        headers={
            "Cache-Control": OPEN_DATA_CACHE,
            "Content-Disposition": f'inline; filename="{year}-{filename}"',
        },
    )
