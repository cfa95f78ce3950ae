"""Custom search attributes Loket puts on every permit workflow.

They let the Temporal UI and ``temporal workflow list --query`` answer admin questions
("every PBG held at DPUPR", "everything past due"). Never personal data: search
attributes are not encrypted.
"""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

PERMIT_TYPE = SearchAttributeKey.for_keyword("LoketPermitType")
ROUTE_VERSION = SearchAttributeKey.for_int("LoketRouteVersion")
CURRENT_AGENCY = SearchAttributeKey.for_keyword_list("LoketAgency")
CURRENT_STEP = SearchAttributeKey.for_keyword_list("LoketStep")
DUE_TIME = SearchAttributeKey.for_datetime("LoketDueTime")
ESCALATION_LEVEL = SearchAttributeKey.for_int("LoketEscalationLevel")
STATUS = SearchAttributeKey.for_keyword("LoketStatus")

ALL = (PERMIT_TYPE, ROUTE_VERSION, CURRENT_AGENCY, CURRENT_STEP, DUE_TIME, ESCALATION_LEVEL, STATUS)

# Names as the Temporal CLI's `--search-attribute NAME=TYPE` flag spells the types.
CLI_TYPES = {
    "LoketPermitType": "Keyword",
    "LoketRouteVersion": "Int",
    "LoketAgency": "KeywordList",
    "LoketStep": "KeywordList",
    "LoketDueTime": "Datetime",
    "LoketEscalationLevel": "Int",
    "LoketStatus": "Keyword",
}
