"""The published performance as open data: CSV and JSON per dataset and year, and a
``data.json`` catalogue (DCAT-US 1.1, the schema Satu Data Indonesia's portals harvest).

Each dataset declares its columns (name, type, description) in the catalogue; the files
hold exactly those columns. A withheld figure (a small cell) is empty in the CSV and null
in the JSON, and its column is named in the row's ``suppressed`` column.
"""

from __future__ import annotations

import csv
import io
import json
import types
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

from loket.case.survey import ELEMENTS
from loket.performance import SMALL_CELL
from loket.services.context import Services
from loket.services.errors import NotFound
from loket.services.performance import (
    CounterRow,
    PerformanceRow,
    counter_rows,
    current_year,
    published_performance,
)
from loket.services.survey import SurveyResult, survey_results

LICENSE = "https://creativecommons.org/licenses/by/4.0/"
MONTHLY = "R/P1M"  # ISO 8601 repeating duration: updated every month
FORMATS = {"csv": "text/csv", "json": "application/json"}
ColumnType = Literal["string", "integer", "number"]


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    description: str


@dataclass(frozen=True)
class Dataset:
    id: str
    title: str
    description: str
    keywords: tuple[str, ...]
    columns: tuple[Column, ...]
    rows: Callable[[Services, int], Awaitable[list[dict[str, Any]]]]


def _type_of(annotation: Any) -> ColumnType:
    args = [a for a in get_args(annotation) if a is not type(None)]
    if get_origin(annotation) in (Union, types.UnionType) and args:
        annotation = args[0]
    if annotation is int:
        return "integer"
    if annotation is float:
        return "number"
    return "string"


def _columns(model: type[BaseModel], skip: Sequence[str] = ()) -> tuple[Column, ...]:
    return tuple(
        Column(name, _type_of(f.annotation), f.description or name.replace("_", " "))
        for name, f in model.model_fields.items()
        if name not in skip and name != "suppressed"
    )


SUPPRESSED = Column(
    "suppressed",
    "string",
    f"columns withheld in this row (fewer than {SMALL_CELL} applications), space-separated",
)


def _flat(row: BaseModel, skip: Sequence[str] = ()) -> dict[str, Any]:
    data = row.model_dump(mode="json", exclude=set(skip))
    data["suppressed"] = " ".join(data.get("suppressed") or [])
    return data


async def _monthly(services: Services, year: int) -> list[dict[str, Any]]:
    return [_flat(r) for r in (await published_performance(services, year)).monthly]


async def _yearly(services: Services, year: int) -> list[dict[str, Any]]:
    return [_flat(r) for r in (await published_performance(services, year)).yearly]


async def _counters(services: Services, year: int) -> list[dict[str, Any]]:
    return [_flat(r) for r in await counter_rows(services, year)]


def _survey_row(result: SurveyResult) -> dict[str, Any]:
    data = _flat(result, skip=("elements",))
    for element in ELEMENTS:
        data[f"u_{element}"] = result.elements[element] if result.elements else None
    return data


async def _survey(services: Services, year: int) -> list[dict[str, Any]]:
    return [_survey_row(r) for r in await survey_results(services, year)]


_ELEMENT_COLUMNS = tuple(
    Column(f"u_{e}", "number", f"average rating (1-4) of the element '{e}'") for e in ELEMENTS
)

DATASETS: dict[str, Dataset] = {
    d.id: d
    for d in (
        Dataset(
            "kinerja-bulanan",
            "Kinerja pelayanan perizinan per bulan",
            "Per permit type and month: applications received and finished, on time and late "
            "against the published service time, median and p90 working days, returns to "
            "applicants, fees billed and collected, share of free and waived applications.",
            ("perizinan", "kinerja", "SLA", "MPP"),
            (*_columns(PerformanceRow), SUPPRESSED),
            _monthly,
        ),
        Dataset(
            "kinerja-tahunan",
            "Kinerja pelayanan perizinan per tahun",
            "The same figures as kinerja-bulanan over the whole year, per permit type.",
            ("perizinan", "kinerja", "SLA", "MPP"),
            (*_columns(PerformanceRow), SUPPRESSED),
            _yearly,
        ),
        Dataset(
            "waktu-loket",
            "Waktu kerja per loket",
            "Per counter and month: steps closed and the median working time a step was held "
            "at the counter (hours, pauses for the applicant excluded).",
            ("loket", "waktu pelayanan", "MPP"),
            (*_columns(CounterRow), SUPPRESSED),
            _counters,
        ),
        Dataset(
            "ikm",
            "Indeks Kepuasan Masyarakat (SKM, Permenpan RB 14/2017)",
            "Per service and year: respondents, the satisfaction index IKM (25-100), its "
            "grade A-D and the average rating of each of the nine elements.",
            ("SKM", "IKM", "kepuasan masyarakat"),
            (*_columns(SurveyResult, skip=("elements",)), *_ELEMENT_COLUMNS, SUPPRESSED),
            _survey,
        ),
    )
}


def dataset(dataset_id: str) -> Dataset:
    found = DATASETS.get(dataset_id)
    if found is None:
        raise NotFound("dataset_not_found", dataset_id=dataset_id)
    return found


async def dataset_file(
    services: Services, dataset_id: str, year: int, fmt: str
) -> tuple[bytes, str]:
    """The dataset of ``year`` as CSV or JSON bytes, with its media type."""
    spec = dataset(dataset_id)
    rows = await spec.rows(services, year)
    names = [c.name for c in spec.columns]
    if fmt == "json":
        body = [{n: row.get(n) for n in names} for row in rows]
        return json.dumps(body, ensure_ascii=False, indent=1).encode(), FORMATS["json"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(names)
    for row in rows:
        writer.writerow(["" if row.get(n) is None else row.get(n) for n in names])
    return out.getvalue().encode(), FORMATS["csv"]


def publisher(services: Services) -> str:
    agencies = {a.id: a.name for a in services.catalog.agencies.agencies}
    return agencies.get("dpmptsp", "Mal Pelayanan Publik")


def catalogue(services: Services, base_url: str) -> dict[str, Any]:
    """``data.json``: every dataset with its columns and a CSV and JSON per year."""
    base = base_url.rstrip("/")
    years = range(services.calendar.first_year, current_year(services) + 1)
    org = {"@type": "org:Organization", "name": publisher(services)}
    entries = []
    for d in DATASETS.values():
        entries.append(
            {
                "@type": "dcat:Dataset",
                "identifier": f"{base}/open-data/{d.id}",
                "title": d.title,
                "description": d.description
                + f" Figures over fewer than {SMALL_CELL} applications are withheld.",
                "keyword": list(d.keywords),
                "publisher": org,
                "contactPoint": {"@type": "vcard:Contact", "fn": org["name"]},
                "accessLevel": "public",
                "license": LICENSE,
                "accrualPeriodicity": MONTHLY,
                "language": ["id"],
                "columns": [
                    {"name": c.name, "type": c.type, "description": c.description}
                    for c in d.columns
                ],
                "distribution": [
                    {
                        "@type": "dcat:Distribution",
                        "title": f"{d.title} {year} ({fmt.upper()})",
                        "format": fmt.upper(),
                        "mediaType": media,
                        "downloadURL": f"{base}/open-data/{year}/{d.id}.{fmt}",
                    }
                    for year in years
                    for fmt, media in FORMATS.items()
                ],
            }
        )
    return {
        "@context": "https://project-open-data.cio.gov/v1.1/schema/catalog.jsonld",
        "@type": "dcat:Catalog",
        "conformsTo": "https://project-open-data.cio.gov/v1.1/schema",
        "dataset": entries,
    }
