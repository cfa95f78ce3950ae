"""The query parameters and the ``Link`` header of every paged list in the API (the staff
inbox, the stalled list): one spelling, one description, one way to say where the next
page starts."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import Query, Request, Response

PageLimit = Annotated[int | None, Query(description="rows per page (default 50, at most 200)")]
PageAfter = Annotated[
    str | None, Query(description="the cursor of the next page, from the previous page's Link")
]


def link_next(request: Request, response: Response, shown: int, next_after: str | None) -> None:
    """``Link: <path?limit=&after=>; rel="next"`` when a next page exists (RFC 8288)."""
    if next_after is not None:
        query = urlencode({"limit": shown, "after": next_after})
        response.headers["Link"] = f'<{request.url.path}?{query}>; rel="next"'
