"""Wire models of the issued-documents API (docs/documents.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Status = Literal["valid", "revoked"]
LevelOut = Literal["B-B", "B-T", "B-LT"]


class FieldOut(BaseModel):
    name: str
    label: str
    kind: Literal["text", "multiline", "date"]
    required: bool
    max_length: int
    value: str


class TemplateOut(BaseModel):
    id: str
    title: str
    suggested: bool
    fields: list[FieldOut]


class TemplatesOut(BaseModel):
    templates: list[TemplateOut]


# A template's field names and values; the factory checks them against the template.
FieldName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
FieldValue = Annotated[str, StringConstraints(max_length=2000)]


class FieldsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    template_id: str = Field(min_length=1, max_length=64)
    fields: dict[FieldName, FieldValue] = Field(max_length=50, json_schema_extra={"additionalProperties": False})


class IssueIn(FieldsIn):
    idempotency_key: str = Field(pattern=r"^[A-Za-z0-9_-]{16,64}$")


class RevokeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=3, max_length=500)


class DocOut(BaseModel):
    id: str
    template_id: str
    title: str
    issued_at: datetime
    level: LevelOut
    sha256: str
    status: Status
    revoked_at: datetime | None
    check_code: str
    verify_url: str
    download_url: str


class DocumentOut(BaseModel):
    document: DocOut


class DocumentsOut(BaseModel):
    documents: list[DocOut]


class CitizenDocOut(BaseModel):
    id: str
    title: str
    issued_at: datetime
    level: LevelOut
    status: Status
    revoked_at: datetime | None
    verify_url: str
    download_url: str


class CitizenDocumentsOut(BaseModel):
    documents: list[CitizenDocOut]


class DownloadQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    download: Literal["0", "1"] | None = None


class CheckCodeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    check_code: str = Field(min_length=1, max_length=20)


class VerifiedDocument(BaseModel):
    title: str
    issued_at: datetime
    office: str
    level: LevelOut
    holder: str
    sha256: str
    revoked_at: datetime | None


class VerdictOut(BaseModel):
    verdict: Literal["valid", "revoked", "unverifiable"]
    reason: str
    document: VerifiedDocument | None
