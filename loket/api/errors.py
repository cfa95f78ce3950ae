"""The error answers every operation declares in its OpenAPI ``responses``.

The model (``ErrorOut``) and the status of each code are the edges' shared
``loket.edge.errors``; this module only documents them for the JSON API.
"""

from __future__ import annotations

from typing import Any

from loket.edge.errors import ErrorOut


def _response(description: str) -> dict[str, Any]:
    return {"model": ErrorOut, "description": description}


# Declared on every router: the answers any operation may give besides its own.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: _response("not found, or not yours: the two are answered alike"),
    413: _response("the request body is too large (code body_too_large)"),
    422: _response(
        "a bad field: `errors` names each one (invalid_request, invalid_form, invalid_text, "
        "idempotency_key_missing, amount_out_of_range, body_too_complex, page_invalid)"
    ),
    429: _response("too many requests (rate_limited, signin_locked); see Retry-After"),
    503: _response(
        "a fault that passes: temporal_unavailable, database_unavailable, update_pending; "
        "see Retry-After"
    ),
}
AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _response("not signed in, or the token expired (code unauthorized)"),
    403: _response("the role may not do this (forbidden, wrong_role)"),
}
CHANGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    409: _response("the case refused the change: the code says which rule (refusal codes)"),
}
# Paged lists (issue 13 goal 6): the header of a page that has a next one.
NEXT_LINK: dict[str, Any] = {
    "description": 'the next page, `<URL>; rel="next"` (its `after` is an opaque cursor);'
    " absent on the last page",
    "schema": {"type": "string"},
}
