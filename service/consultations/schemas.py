from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints

from service.api.types import (
    NOT_BLANK,
    Distinct,
    Input,
    Instant,
    Output,
    Text,
    no_control_characters,
)
from service.db import utcnow

Topic = Literal["end_use_inquiry", "allegation", "pre_licensing", "general"]
Outcome = Literal["favorable", "unfavorable", "no_action", "resolved"]
ConsultationStatus = Literal["open", "awaiting_response", "closed"]
PartySide = Literal["authority", "counterpart"]
Classification = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Z](?:[A-Z0-9 /,.()-]{0,38}[A-Z0-9)])?$"),
]
MAX_BODY = 20_000


def verbatim(value: str) -> str:
    # Unlike Text, the body is not stripped: its sha256 must match what the sender hashed.
    if not value.strip():
        raise ValueError("must not be blank")
    return no_control_characters(value)


def in_the_future(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("must carry a time zone (RFC 3339)")
    if value <= utcnow():
        raise ValueError("must be in the future")
    return value


MessageBody = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_BODY), AfterValidator(verbatim), NOT_BLANK
]
Deadline = Annotated[Instant | None, AfterValidator(in_the_future)]


class ConsultationCreate(Input):
    subject: Text(300) = Field(  # type: ignore[valid-type]
        examples=["Reports of MX-15D optics in a third country's armed conflict"]
    )
    topic: Topic = Field(examples=["end_use_inquiry"])
    permit_ids: Distinct(UUID) = Field(default_factory=list, max_length=500)  # type: ignore[valid-type]
    assurance_ids: Distinct(UUID) = Field(default_factory=list, max_length=500)  # type: ignore[valid-type]


class MessageCreate(Input):
    body: MessageBody = Field(
        description="Stored and returned verbatim; rendering it safely is the client's job.",
        examples=["Please confirm that the turrets remain with the end user named in TR-EUC-17."],
    )
    classification: Classification = Field(
        "UNCLASSIFIED",
        description="A security marking in capitals.",
        examples=["UNCLASSIFIED", "PROTECTED B"],
    )
    response_requested_by: Deadline = Field(
        None,
        description="Asks the other side to answer by then; the consultation awaits its reply.",
        examples=["2030-05-01T12:00:00Z"],
    )


class ConsultationClose(Input):
    outcome: Outcome = Field(examples=["resolved"])


class ReadReceiptRead(Output):
    side: PartySide
    read_up_to: datetime = Field(description="Every message created up to here has been read.")
    read_by: UUID
    read_at: datetime


class ConsultationRead(Output):
    id: UUID
    dialogue_id: UUID
    subject: str
    topic: Topic
    status: ConsultationStatus
    permit_ids: list[UUID]
    assurance_ids: list[UUID]
    opened_by: UUID | None
    opened_by_side: PartySide
    awaiting_side: PartySide | None = Field(description="Whose answer is awaited, if anyone's.")
    response_due_at: datetime | None
    overdue: bool = Field(description="The awaited answer is past its deadline.")
    outcome: Outcome | None
    closed_by: UUID | None
    closed_at: datetime | None
    read_receipts: list[ReadReceiptRead]
    created_at: datetime
    updated_at: datetime

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "5b0f3c1e-8a51-4f3b-9a43-6f0d2a1c9e10",
                    "dialogue_id": "0d7c6a55-2f43-4f2e-8f8e-1b9a3c5d7e21",
                    "subject": "Reports of MX-15D optics in a third country's armed conflict",
                    "topic": "end_use_inquiry",
                    "status": "awaiting_response",
                    "permit_ids": ["a3c1f0de-4b5e-4c7f-9d2a-0e1f2a3b4c5d"],
                    "assurance_ids": [],
                    "opened_by": "7e2d9c1b-6a5f-4e3d-8c2b-1a0f9e8d7c6b",
                    "opened_by_side": "authority",
                    "awaiting_side": "counterpart",
                    "response_due_at": "2030-05-01T12:00:00Z",
                    "overdue": False,
                    "outcome": None,
                    "closed_by": None,
                    "closed_at": None,
                    "read_receipts": [],
                    "created_at": "2030-04-01T09:00:00Z",
                    "updated_at": "2030-04-01T09:05:00Z",
                }
            ]
        }
    )


class MessageRead(Output):
    id: UUID
    consultation_id: UUID
    dialogue_id: UUID
    body: str
    classification: str
    sha256: str = Field(description="SHA-256 of the UTF-8 body, in hex.")
    author_id: UUID
    author_name: str
    organization_id: UUID
    side: PartySide
    response_requested_by: datetime | None
    read_by_other_side: bool = Field(description="The other side has marked it read.")
    created_at: datetime

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "c2b1a0f9-8e7d-4c6b-9a5f-4e3d2c1b0a9f",
                    "consultation_id": "5b0f3c1e-8a51-4f3b-9a43-6f0d2a1c9e10",
                    "dialogue_id": "0d7c6a55-2f43-4f2e-8f8e-1b9a3c5d7e21",
                    "body": "Please confirm the turrets remain with the assured end user.",
                    "classification": "UNCLASSIFIED",
                    "sha256": "9f2c4e0b1a7d3c5e8f6a2b4d0c1e3f5a7b9d2c4e6f8a0b1c3d5e7f9a1b3c5d7e",
                    "author_id": "7e2d9c1b-6a5f-4e3d-8c2b-1a0f9e8d7c6b",
                    "author_name": "officer",
                    "organization_id": "1f2e3d4c-5b6a-4978-8a9b-0c1d2e3f4a5b",
                    "side": "authority",
                    "response_requested_by": "2030-05-01T12:00:00Z",
                    "read_by_other_side": False,
                    "created_at": "2030-04-01T09:05:00Z",
                }
            ]
        }
    )


class MessagePosted(Output):
    """Data of the ``consultation.message_posted`` event."""

    message: MessageRead
    consultation: ConsultationRead


class ResponseOverdue(Output):
    """Data of the ``consultation.response_overdue`` event."""

    consultation: ConsultationRead
    awaiting_side: PartySide
    response_due_at: datetime
