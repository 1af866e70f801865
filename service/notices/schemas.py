from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import ConfigDict, Field, model_validator

from service.api.types import Distinct, Input, Output, Text, Update
from service.permits.schemas import PermitStatus

NoticeKind = Literal["suspension", "cancellation", "reinstatement", "general"]
NoticeStatus = Literal["draft", "issued", "acknowledged"]

DRAFT_EXAMPLE = {
    "kind": "suspension",
    "permit_ids": ["7c1e4d1a-2b0f-4e53-9d5e-0f8a4b6c2d11"],
    "summary": "Suspension of 29 permits for imaging and targeting components.",
    "rationale": "Credible reports place the optics in a third country's armed conflict.",
    "legal_basis": "Export and Import Permits Act, s. 10(1)",
    "breached_assurance_ids": [],
    "supersedes_id": None,
    "classification": "UNCLASSIFIED",
}


class NoticeCreate(Input):
    """A decision notice as its drafter writes it; it stays a draft until an approver issues it."""

    model_config = ConfigDict(json_schema_extra={"examples": [DRAFT_EXAMPLE]})

    kind: NoticeKind
    permit_ids: Distinct(UUID) = Field(default_factory=list, max_length=500)  # type: ignore[valid-type]
    summary: Text(500)  # type: ignore[valid-type]
    rationale: Text(20000)  # type: ignore[valid-type]
    legal_basis: Text(1000)  # type: ignore[valid-type]
    breached_assurance_ids: Distinct(UUID) = Field(default_factory=list, max_length=500)  # type: ignore[valid-type]
    supersedes_id: UUID | None = None
    classification: Text(40) = "UNCLASSIFIED"  # type: ignore[valid-type]

    @model_validator(mode="after")
    def names_permits(self) -> NoticeCreate:
        if self.kind != "general" and not self.permit_ids:
            raise ValueError(f"a {self.kind} notice names at least one permit")
        return self


class NoticeUpdate(Update):
    """Fields of a draft to change; those left out stay as they are (null clears supersedes_id)."""

    nullable = frozenset({"supersedes_id"})

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"summary": "Suspension of 29 permits (revised)."}]}
    )

    kind: NoticeKind | None = None
    permit_ids: Distinct(UUID) | None = Field(default=None, max_length=500)  # type: ignore[valid-type]
    summary: Text(500) | None = None  # type: ignore[valid-type]
    rationale: Text(20000) | None = None  # type: ignore[valid-type]
    legal_basis: Text(1000) | None = None  # type: ignore[valid-type]
    breached_assurance_ids: Distinct(UUID) | None = Field(default=None, max_length=500)  # type: ignore[valid-type]
    supersedes_id: UUID | None = None
    classification: Text(40) | None = None  # type: ignore[valid-type]


class NoticeIssue(Input):
    """Issuing takes no fields: what is issued is the draft as it stands."""

    model_config = ConfigDict(json_schema_extra={"examples": [{}]})


class NoticeAcknowledge(Input):
    model_config = ConfigDict(json_schema_extra={"examples": [{}]})


class NoticedPermit(Output):
    """A permit the notice names; the transition is filled in once the notice is issued."""

    id: UUID
    number: str
    from_status: PermitStatus | None = Field(description="Null while draft, or for general.")
    to_status: PermitStatus | None = Field(description="Null while draft, or for general.")


class SignedNotice(Output):
    """What the service signs when a notice is issued: the JWS payload, in canonical JSON."""

    id: UUID
    reference: str
    kind: NoticeKind
    dialogue_id: UUID
    authority_id: UUID
    counterpart_id: UUID
    permit_ids: list[UUID]
    permits: list[NoticedPermit]
    summary: str
    rationale: str
    legal_basis: str
    breached_assurance_ids: list[UUID]
    supersedes_id: UUID | None
    classification: str
    issued_at: datetime
    issued_by: UUID


NOTICE_EXAMPLE = DRAFT_EXAMPLE | {
    "id": "0b8f3c2e-5d7a-4f1e-9c6b-2a4d8e0f1b3c",
    "dialogue_id": "5e2d9a7c-1f3b-4c8e-a6d0-9b7f2e4c1a58",
    "authority_id": "3a6c9e1f-4b7d-4a2c-8e5f-1d3b6a9c2e47",
    "counterpart_id": "8d1f4a7c-2e5b-4c9a-b3d6-7f0e2a5c8b91",
    "reference": "CA-GAC-2020-0007",
    "status": "issued",
    "permits": [
        {
            "id": "7c1e4d1a-2b0f-4e53-9d5e-0f8a4b6c2d11",
            "number": "EXP-2020-0417",
            "from_status": "active",
            "to_status": "suspended",
        }
    ],
    "drafted_by": "2f5a8c1e-7b4d-4e9a-a2c6-0d3f6b9e1c74",
    "issued_by": "6b9e2c5f-8a1d-4f7b-b4e0-3c6a9d2f5e18",
    "issued_at": "2020-10-05T14:30:00Z",
    "acknowledged_by": None,
    "acknowledged_at": None,
    "created_at": "2020-10-02T09:12:00Z",
    "updated_at": "2020-10-05T14:30:00Z",
}


class NoticeRead(Output):
    model_config = ConfigDict(json_schema_extra={"examples": [NOTICE_EXAMPLE]})

    id: UUID
    dialogue_id: UUID
    authority_id: UUID
    counterpart_id: UUID
    reference: str | None = Field(description="`{AUTHORITY}-{YYYY}-{NNNN}`, given on issue.")
    kind: NoticeKind
    status: NoticeStatus
    permit_ids: list[UUID]
    permits: list[NoticedPermit]
    summary: str
    rationale: str
    legal_basis: str
    breached_assurance_ids: list[UUID]
    supersedes_id: UUID | None
    classification: str
    drafted_by: UUID
    issued_by: UUID | None
    issued_at: datetime | None
    acknowledged_by: UUID | None
    acknowledged_at: datetime | None
    created_at: datetime
    updated_at: datetime


class NoticeIssued(Output):
    """Data of the ``notice.issued`` event: the notice and its compact JWS, to verify offline."""

    notice: NoticeRead
    jws: str


class NoticeAcknowledged(Output):
    """Data of the ``notice.acknowledged`` event."""

    notice: NoticeRead
