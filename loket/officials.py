"""Signing officials as the development seed declares them (definitions/officials.yaml).

Production keeps the table with ``loket officials add``; this file only fills an empty
table for development and tests. The same model checks what the CLI is given.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from loket.text import Line

OFFICIALS_FILE = "officials.yaml"


class OfficialIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    position: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=100)
    title: Line = Field(min_length=1, max_length=300)
    name: Line = Field(min_length=1, max_length=200)
    nip: str = Field(pattern=r"^[0-9]{18}$", description="NIP: 18 digits")
    valid_from: date
    valid_to: date | None = None
    acting: Literal["definitive", "plt", "plh"] = "definitive"

    @model_validator(mode="after")
    def _dates_in_order(self) -> OfficialIn:
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise ValueError("valid_to is before valid_from")
        return self


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")

    officials: list[OfficialIn]


def load_officials(definitions: Path) -> list[OfficialIn]:
    path = definitions / OFFICIALS_FILE
    if not path.is_file():
        return []
    return _File.model_validate(yaml.safe_load(path.read_text(encoding="utf-8"))).officials
