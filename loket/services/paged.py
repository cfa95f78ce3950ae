"""What a paged list asks (a page size, the cursor of the previous page), checked once for
every paged list (the staff inbox, the stalled list): a bad value is ``PAGE_INVALID``
naming the query parameter, which the edges answer 422."""

from __future__ import annotations

from loket.refusal import RefusalCode, Refused
from loket.store import paging


def page_request(limit: int | None, after: str | None) -> tuple[int, str | None]:
    """The page size (default :data:`paging.DEFAULT_LIMIT`) and cursor (empty: none)."""
    size = paging.DEFAULT_LIMIT if limit is None else limit
    if not 1 <= size <= paging.MAX_LIMIT:
        raise Refused(RefusalCode.PAGE_INVALID, field="limit", max_limit=paging.MAX_LIMIT)
    return size, after or None


def cursor_refused() -> Refused:
    return Refused(RefusalCode.PAGE_INVALID, field="after", max_limit=paging.MAX_LIMIT)
