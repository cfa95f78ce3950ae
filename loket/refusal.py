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
    # billing and payment (issue 11)
    BILL_UNKNOWN = "bill_unknown"  # no bill has this billing code
    BILL_ALREADY_PAID = "bill_already_paid"
    BILL_NOT_OPEN = "bill_not_open"  # cancelled: its payment step closed unpaid
    BILL_EXPIRED = "bill_expired"  # past its pay-by date
    BILL_AMOUNT_MISMATCH = "bill_amount_mismatch"  # only the exact amount pays a bill
    BILL_LIMIT_REACHED = "bill_limit_reached"
    RECEIPT_NUMBER_REQUIRED = "receipt_number_required"  # a teller's approval needs the SSRD
    # Documents (issue 10, 10A)
    UNKNOWN_DOCUMENT = "unknown_document"  # no such upload slot for this application
    DOCUMENT_TYPE_REFUSED = "document_type_refused"  # content is not an accepted type
    DOCUMENT_TOO_LARGE = "document_too_large"
    DOCUMENT_NOT_RETURNED = "document_not_returned"  # the counter did not ask for this slot
    DOCUMENTS_LOCKED = "documents_locked"  # the applicant may upload only now or on return
    CORRECTIONS_REQUIRED = "corrections_required"  # a return here must name the items
    # Issued permit (issue 10 §2)
    PERMIT_NOT_NUMBERED = "permit_not_numbered"  # an issuing approval without its number
    NO_SIGNING_OFFICIAL = "no_signing_official"  # nobody holds the signing position that day
    PERMIT_BEING_ISSUED = "permit_being_issued"  # numbering/rendering in progress: retry
    PERMIT_NOT_RENDERED = "permit_not_rendered"  # the PDF could not be rendered or stored
    # Paged lists (issue 13 goal 6): a page size out of range, a cursor the list did not make
    PAGE_INVALID = "page_invalid"


class Refused(ValueError):
    """An operation the case does not allow now. ``code`` says which rule, ``params`` the
    values a message needs (step ids, states, limits)."""

    def __init__(self, code: RefusalCode, **params: Param) -> None:
        super().__init__(f"{code.value} {dict(params)}" if params else code.value)
        self.code = code
        self.params: Mapping[str, Param] = params
