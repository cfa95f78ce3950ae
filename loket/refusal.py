"""The one refusal contract: a typed code and its parameters, never a sentence.

Raised by the routing core and the case core; every layer above passes the code on, and
only the edges (API, pages, CLI) turn it into words (id/en catalogs) and an HTTP status.
Pure: no I/O, no Temporal, safe inside the workflow sandbox.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

Param = str | int | float | bool | None | tuple[str, ...]


class RefusalCode(StrEnum):
    NOT_REGISTERED = "not_registered"  # the workflow has not recorded its start yet
    CLOSED = "closed"  # the application has ended (approved, rejected, cancelled)
    UNKNOWN_STEP = "unknown_step"  # no such task step in the pinned route version
    STEP_NOT_OPEN = "step_not_open"
    WAITING_FOR_APPLICANT = "waiting_for_applicant"
    UNKNOWN_OUTCOME = "unknown_outcome"
    ALREADY_DECIDED = "already_decided"  # the step's attempt was decided before
    NOT_YOUR_COUNTER = "not_your_counter"  # answered like "not there" at the edge (404)
    CLAIMED_BY_OTHER = "claimed_by_other"
    WRONG_ROLE = "wrong_role"
    NOTHING_TO_RESUBMIT = "nothing_to_resubmit"
    INVALID_FORM = "invalid_form"
    INVALID_TEXT = "invalid_text"
    INVALID_DURATION = "invalid_duration"
    OUTSIDE_CALENDAR = "outside_calendar"  # a deadline beyond the calendar's known years
    ASSIGNEE_NOT_SERVING = "assignee_not_serving"
    AMOUNT_OUT_OF_RANGE = "amount_out_of_range"
    STORE_REFUSED = "store_refused"  # the read model refused the data for good
    # deemed approval and complaints (issue 12b)
    NOT_APPLICANT_OUTCOME = "not_applicant_outcome"  # the applicant may not choose this outcome
    # satisfaction survey (SKM, 12a)
    SURVEY_NOT_OPEN = "survey_not_open"  # only a finished application is surveyed
    SURVEY_ALREADY_ANSWERED = "survey_already_answered"  # one response per application


class Refused(ValueError):
    """An operation the case does not allow now. ``code`` says which rule, ``params`` the
    values a message needs (step ids, states, limits)."""

    def __init__(self, code: RefusalCode, **params: Param) -> None:
        super().__init__(f"{code.value} {dict(params)}" if params else code.value)
        self.code = code
        self.params: Mapping[str, Param] = params
