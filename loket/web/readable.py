"""What the templates call to show data as words (12c): labels in the page's language,
names of counters, steps, fields and choices, numbers in Indonesian format, audit details.

One :class:`Readable` per rendered page (``r`` in every template). It reads only the
catalog already loaded by the services, so the pages stay on the service layer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timezone
from typing import Any

from loket.calendar import WorkDuration
from loket.fees import FeeItem, Rounding
from loket.label import Label
from loket.route.loader import Catalog
from loket.route.model import FieldType, PermitType, TaskStep
from loket.web import audit_text, i18n
from loket.web import format as fmt

_ROUNDING = {
    "down": "rounded down to a multiple of",
    "up": "rounded up to a multiple of",
    "half_up": "rounded to the nearest multiple of",
}

# Where an outcome leads, when it is not another step (loket.route.model.Target).
_TARGETS = {
    "applicant": "the applicant",
    "finish": "finished: the permit is granted",
    "reject": "end: rejected",
    "join": "the end of the parallel reviews",
}

# A decision once taken (the outcome names are the buttons' verbs).
_DECIDED = {
    "approve": "approved",
    "reject": "rejected",
    "return": "returned to the applicant for corrections",
}


class Readable:
    def __init__(
        self, catalog: Catalog, lang: str, tz: timezone, permit_type: str | None = None
    ) -> None:
        self.catalog = catalog
        self.lang = lang
        self.tz = tz
        self.permit_type = permit_type  # whose steps and fields an audit trail names

    def of(self, permit_type: str) -> Readable:
        """The same, for one application's permit type (step ids repeat across types)."""
        return Readable(self.catalog, self.lang, self.tz, permit_type)

    # --- words ---------------------------------------------------------------------------

    def t(self, text: str) -> str:
        return i18n.translate(text, self.lang)

    def label(self, label: Label | None, fallback: str = "") -> str:
        return label.text(self.lang) if label is not None else fallback

    def word(self, value: Any) -> str:
        """An identifier from the data (an action, a role) as a word."""
        return self.t(str(value)) if value not in (None, "") else ""

    def text(self, value: Any) -> str:
        """Any detail value as text: numbers Indonesian, lists joined, never a Python repr."""
        if value is None:
            return ""
        if isinstance(value, bool):
            return self.t("yes") if value else self.t("no")
        if isinstance(value, int | float):
            return fmt.number(value)
        if isinstance(value, list | tuple):
            return ", ".join(self.text(v) for v in value)
        if isinstance(value, Mapping):
            return "; ".join(f"{k}: {self.text(v)}" for k, v in value.items())
        return str(value)

    # --- numbers, money, time ------------------------------------------------------------

    def number(self, value: Any) -> str:
        return fmt.number(value)

    def rupiah(self, value: Any) -> str:
        return fmt.rupiah(value) if isinstance(value, int | float) else ""

    def when_iso(self, value: Any) -> str:
        if not value:
            return ""
        try:
            return fmt.when(datetime.fromisoformat(str(value)), self.tz)
        except ValueError:
            return str(value)

    def day_iso(self, value: Any) -> str:
        """An ISO calendar date ('2026-12-01') as the pages write dates."""
        if not value:
            return ""
        try:
            return fmt.day(date.fromisoformat(str(value)))
        except ValueError:
            return str(value)

    def duration(self, value: Any) -> str:
        """A working duration ('28d', {working_days: 28}) as '28 hari kerja'."""
        if value in (None, ""):
            return ""
        try:
            d = value if isinstance(value, WorkDuration) else WorkDuration.model_validate(value)
        except ValueError:
            return str(value)
        if d.working_days:
            return f"{d.working_days} {self.t('working days')}"
        return f"{d.working_hours} {self.t('working hours')}"

    def working_seconds(self, value: Any) -> str:
        if not isinstance(value, int | float):
            return ""
        return f"{fmt.hours(value)} {self.t('working hours')}"

    def rounding(self, rounding: Rounding) -> str:
        return f"{self.t(_ROUNDING[rounding.mode])} {fmt.rupiah(rounding.to)}"

    # --- the catalog's names -------------------------------------------------------------

    def permit(self, permit_type: Any = None) -> PermitType | None:
        wanted = permit_type or self.permit_type
        return self.catalog.permits.get(str(wanted)) if wanted else None

    def _permits(self, permit_type: Any = None) -> list[PermitType]:
        """The permit in question, or every one when it is not known."""
        found = self.permit(permit_type)
        return [found] if found else list(self.catalog.permits.values())

    def permit_name(self, permit_type: Any) -> str:
        permit = self.permit(permit_type)
        if permit is None:
            return self.text(permit_type)
        return permit.name_en if self.lang == "en" and permit.name_en else permit.name

    def counter(self, agency_id: str, counter_id: str) -> str:
        """'DPUPR · Tim Profesi Ahli / Tim Penilai Teknis' for 'dpupr', 'tpa'."""
        agency = next((a for a in self.catalog.agencies.agencies if a.id == agency_id), None)
        if agency is None:
            return f"{agency_id} · {counter_id}"
        counter = next((c for c in agency.counters if c.id == counter_id), None)
        return f"{agency.short} · {counter.name if counter else counter_id}"

    def agency_name(self, agency_id: str) -> str:
        agency = next((a for a in self.catalog.agencies.agencies if a.id == agency_id), None)
        return agency.name if agency else agency_id

    def counter_key(self, key: str) -> str:
        """A user's counter ('agency/counter') by its names."""
        agency, _, counter = key.partition("/")
        return self.counter(agency, counter)

    def step_name(self, step_id: Any, permit_type: Any = None) -> str:
        if not step_id:
            return ""
        for permit in self._permits(permit_type):
            step = next((s for s in permit.steps if s.id == step_id), None)
            if step is not None:
                return step.name
        return str(step_id)

    def step_condition(self, step_id: Any) -> list[audit_text.Line]:
        for permit in self._permits():
            step = next((s for s in permit.steps if s.id == step_id), None)
            if isinstance(step, TaskStep) and step.when_label is not None:
                return [audit_text.Line(self.t("only when"), self.label(step.when_label))]
        return []

    def target(self, target: Any) -> str:
        if target in _TARGETS:
            return self.t(_TARGETS[str(target)])
        return self.step_name(target)

    def outcome(self, outcome: Any) -> str:
        """A decision as it reads afterwards: 'disetujui', not the button's 'setujui'."""
        return self.word(_DECIDED.get(str(outcome), outcome))

    def recipient(self, value: Any) -> str:
        """An escalation's recipient: 'head:dpupr', 'counter:dpupr/tpa', a user name."""
        text = str(value or "")
        kind, _, rest = text.partition(":")
        agencies = {a.id: a for a in self.catalog.agencies.agencies}
        if kind == "head" and rest in agencies:
            return agencies[rest].head_title
        if kind == "supervisor" and rest in agencies:
            return f"{self.t('supervisor of')} {agencies[rest].short}"
        if kind == "counter":
            return f"{self.t('counter of')} {self.counter_key(rest)}"
        return self.word(text) if text == "inspectorate" else text

    def field_label(self, permit_type: Any, name: str) -> str:
        spec = next((p.form[name] for p in self._permits(permit_type) if name in p.form), None)
        return self.form_label(spec) if spec is not None else str(name)

    def document_name(self, slot: Any, permit_type: Any = None) -> str:
        """A document slot's name from the definition (the id when no permit knows it)."""
        for permit in self._permits(permit_type):
            found = next((d.name for d in permit.documents if d.id == slot), None)
            if found is not None:
                return found
        return self.text(slot)

    def document_names(self, slots: Any, permit_type: Any = None) -> str:
        if not isinstance(slots, list | tuple):
            return self.document_name(slots, permit_type)
        return ", ".join(self.document_name(s, permit_type) for s in slots)

    def field_names(self, names: Any, permit_type: Any = None) -> str:
        if not isinstance(names, list | tuple):
            return self.text(names)
        return ", ".join(self.field_label(permit_type, str(n)) for n in names)

    def value(self, permit_type: Any, name: str, value: Any) -> str:
        """A form value as people read it: the choice's name, yes/no, 12,5."""
        permit = self.permit(permit_type)
        spec = permit.form.get(name) if permit else None
        if spec is not None and spec.type is FieldType.CHOICE and spec.choice_labels:
            found = spec.choice_labels.get(str(value))
            if found is not None:
                return found.text(self.lang)
        return self.text(value)

    def choice(self, spec: Any, value: str) -> str:
        labels = getattr(spec, "choice_labels", None) or {}
        found = labels.get(value)
        return found.text(self.lang) if found is not None else value

    def form_label(self, spec: Any) -> str:
        en = getattr(spec, "label_en", "")
        return en if self.lang == "en" and en else str(spec.label)

    def fee_item(self, permit_type: Any, item_id: str) -> FeeItem | None:
        permit = self.permit(permit_type)
        if permit is None:
            return None
        return next((i for i in permit.fees.items if i.id == item_id), None)

    def service_rule(self, permit_type: Any, rule: Any) -> str:
        """The service-time rule that applied: 'standard' or a variant's label."""
        if rule in (None, ""):
            return ""
        if rule == "standard":
            return self.t("Standard service time")
        permit = self.permit(permit_type)
        for variant in permit.service_time.variants if permit else []:
            if variant.label == rule:
                return variant.label_en if self.lang == "en" and variant.label_en else rule
        return str(rule)

    def variant_label(self, variant: Any) -> str:
        en = getattr(variant, "label_en", "")
        return en if self.lang == "en" and en else str(variant.label)

    # --- refusals ------------------------------------------------------------------------

    def params(self, params: Mapping[str, Any], registration_number: str = "") -> dict[str, Any]:
        """A refusal's params as its message shows them on a page: the step's name for its
        id, outcomes as words (the registration number's prefix is its permit type)."""
        permit_type = registration_number.split("-", 1)[0] or None
        shown = dict(params)
        if "step_id" in shown:
            shown["step_id"] = self.step_name(shown["step_id"], permit_type)
        if "outcome" in shown:
            shown["outcome"] = self.word(shown["outcome"])
        if isinstance(shown.get("outcomes"), list | tuple):
            shown["outcomes"] = ", ".join(self.word(o) for o in shown["outcomes"])
        return shown

    # --- audit ---------------------------------------------------------------------------

    def details(self, event: str, details: Mapping[str, Any]) -> audit_text.Rendered:
        return audit_text.render(self, event, details)

    def event(self, event: str) -> str:
        return i18n.event_label(event, self.lang)

    def join(self, items: Iterable[str]) -> str:
        return ", ".join(items)
