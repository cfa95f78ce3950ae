"""A label people read in place of something technical (a CEL condition, a fee formula, a
choice value): Bahasa Indonesia always, English when the definition gives it.

Definitions write either a plain string (Indonesian only) or ``{id: ..., en: ...}``.
Pure, so the route models, the fee schedule and the pages share one type.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Label(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, description="Bahasa Indonesia: what the public pages show")
    en: str = Field(default="", description="English for the English pages; Indonesian if blank")

    @model_validator(mode="before")
    @classmethod
    def _plain_string(cls, value: Any) -> Any:
        # `when_label: bukan rumah MBR` is the common case: Indonesian only.
        return {"id": value} if isinstance(value, str) else value

    def text(self, lang: str) -> str:
        return self.en if lang == "en" and self.en else self.id


def label_text(label: Label | None, lang: str, fallback: str = "") -> str:
    """The label in ``lang``, or ``fallback`` when there is none."""
    return label.text(lang) if label is not None else fallback
