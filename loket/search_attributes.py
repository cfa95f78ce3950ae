"""Custom search attributes Loket puts on every permit workflow.

They let the Temporal UI and ``temporal workflow list --query`` answer admin questions
("every PBG held at DPUPR", "everything past due"). Never personal data: search
attributes are not encrypted.
"""

from __future__ import annotations

from temporalio.common import SearchAttributeIndexedValueType, SearchAttributeKey

PERMIT_TYPE = SearchAttributeKey.for_keyword("LoketPermitType")
ROUTE_VERSION = SearchAttributeKey.for_int("LoketRouteVersion")
CURRENT_AGENCY = SearchAttributeKey.for_keyword_list("LoketAgency")
CURRENT_STEP = SearchAttributeKey.for_keyword_list("LoketStep")
DUE_TIME = SearchAttributeKey.for_datetime("LoketDueTime")
ESCALATION_LEVEL = SearchAttributeKey.for_int("LoketEscalationLevel")
STATUS = SearchAttributeKey.for_keyword("LoketStatus")

ALL = (PERMIT_TYPE, ROUTE_VERSION, CURRENT_AGENCY, CURRENT_STEP, DUE_TIME, ESCALATION_LEVEL, STATUS)

# The Temporal CLI's `--search-attribute NAME=TYPE` spelling of each key's type, derived
# from the keys so that the two cannot drift apart.
_CLI_TYPE_NAMES = {
    SearchAttributeIndexedValueType.KEYWORD: "Keyword",
    SearchAttributeIndexedValueType.KEYWORD_LIST: "KeywordList",
    SearchAttributeIndexedValueType.INT: "Int",
    SearchAttributeIndexedValueType.DATETIME: "Datetime",
}
CLI_TYPES = {key.name: _CLI_TYPE_NAMES[key.indexed_value_type] for key in ALL}
