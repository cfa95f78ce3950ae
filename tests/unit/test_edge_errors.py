"""The edges' mapping of what use cases raise to HTTP: the statuses, codes, params and
headers the API answered before the service layer existed."""

from __future__ import annotations

import pytest

from loket.edge.errors import ApiError, http_error
from loket.fees import AmountOutOfRange
from loket.refusal import RefusalCode, Refused
from loket.route.form import FormError
from loket.services import errors as service
from loket.services.workflow import refusal


def _answer(exc: BaseException) -> ApiError:
    error = http_error(exc)
    assert error is not None
    return error


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (service.task_not_found("PBG-2026-000001", "registration"), 404, "task_not_found"),
        (service.Unauthenticated("wrong_credentials"), 401, "wrong_credentials"),
        (service.Forbidden(), 403, "forbidden"),
        (service.Conflict("update_failed", type=None), 409, "update_failed"),
        (service.Invalid("invalid_duration", extra="x"), 422, "invalid_duration"),
        (service.TooMany("signin_locked", retry_after=30), 429, "signin_locked"),
        (service.Unavailable("update_pending", retry_after=2), 503, "update_pending"),
        (Refused(RefusalCode.STEP_NOT_OPEN, step_id="x"), 409, "step_not_open"),
        (Refused(RefusalCode.WRONG_ROLE, role="staff"), 403, "wrong_role"),
        (Refused(RefusalCode.NOT_YOUR_COUNTER), 404, "not_your_counter"),
        (Refused(RefusalCode.INVALID_TEXT), 422, "invalid_text"),
        (Refused(RefusalCode.CLOSED, result="closed"), 409, "closed"),
    ],
)
def test_each_error_keeps_its_status_and_code(exc: BaseException, status: int, code: str) -> None:
    error = _answer(exc)
    assert (error.status_code, error.code) == (status, code)


def test_brakes_and_faults_carry_retry_after() -> None:
    brake = _answer(service.TooMany("rate_limited", retry_after=0))
    assert brake.headers == {"Retry-After": "1"} and brake.params == {"retry_after": 1}
    pending = _answer(service.Unavailable("update_pending", retry_after=2))
    assert pending.headers == {"Retry-After": "2"} and pending.params == {}
    assert _answer(service.Unauthenticated()).headers == {"WWW-Authenticate": "Bearer"}


def test_bad_fields_are_named() -> None:
    form = _answer(FormError([{"field": "area", "code": "missing", "message": "required"}]))
    assert form.status_code == 422 and form.code == "invalid_form"
    assert form.body()["errors"] == [{"field": "area", "code": "missing", "message": "required"}]
    refused = _answer(Refused(RefusalCode.INVALID_FORM, fields=("area",)))
    assert refused.body()["errors"][0]["field"] == "area"
    amount = _answer(AmountOutOfRange("retribution", fields=("area",)))
    assert amount.status_code == 422 and amount.code == "amount_out_of_range"


def test_an_unknown_workflow_code_is_a_conflict_with_that_code() -> None:
    unknown = refusal("something_new", {"step_id": "x"})
    assert isinstance(unknown, service.Conflict)
    assert (_answer(unknown).status_code, _answer(unknown).code) == (409, "something_new")
    assert isinstance(refusal("closed", {}), Refused)


def test_a_real_bug_is_no_answer() -> None:
    assert http_error(KeyError("bug")) is None
