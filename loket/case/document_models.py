"""What a case knows of its documents: uploaded versions, staff verdicts, open corrections.

Only references travel here (SHA-256, size, media type), never content: these values ride
in Temporal payloads and audit entries. Pure pydantic, no imports from the rest of the case
core, so ``state`` and ``messages`` can both carry them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Verdict = Literal["complete", "incomplete", "not_applicable"]
UploaderRole = Literal["applicant", "staff", "supervisor"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FileRef(_Frozen):
    """A stored file's reference (the same fields as ``loket.files.StoredFile``)."""

    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(ge=0)
    media_type: str = Field(min_length=1, max_length=100)


class DocumentVersion(_Frozen):
    """One upload into one slot; a later upload is the next version, the earlier stay."""

    slot: str
    version: int = Field(ge=1)
    file: FileRef
    uploaded_at: datetime
    uploaded_by: str
    uploaded_by_role: UploaderRole
    audit_seq: int


class VerdictInput(_Frozen):
    """What a member of staff says of one document at their step."""

    slot: str = Field(min_length=1, max_length=64)
    verdict: Verdict
    note: str = Field(default="", max_length=1000)


class DocumentVerdict(_Frozen):
    slot: str
    version: int | None = Field(description="the version checked; None: nothing uploaded")
    step_id: str
    attempt: int
    verdict: Verdict
    note: str = ""
    decided_by: str
    decided_at: datetime
    audit_seq: int


class DocumentsState(_Frozen):
    versions: tuple[DocumentVersion, ...] = ()
    verdicts: tuple[DocumentVerdict, ...] = ()
    # Slots a return asked the applicant to correct, until the applicant resubmits.
    corrections: tuple[str, ...] = ()

    def latest(self, slot: str) -> DocumentVersion | None:
        found = [v for v in self.versions if v.slot == slot]
        return found[-1] if found else None
