from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)

from service.api.types import Input, Output, Text, WholeNumber

PermitStatus = Literal["active", "suspended", "cancelled", "expired"]
Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
PermitNumber = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9./_-]{0,63}$")]
# An amount of money: at most 15 digits before the point and 2 after, as a string (exact) or a
# number. Documented as what is accepted; pydantic's own schema would allow any string.
Amount = Annotated[
    Decimal,
    Field(ge=0, max_digits=17, decimal_places=2),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": r"^[0-9]{1,15}(\.[0-9]{1,2})?$"},
                {"type": "number", "minimum": 0, "maximum": 999999999999999, "multipleOf": 0.01},
            ],
            "examples": ["1250000.00"],
        },
        mode="validation",
    ),
]

PERMIT_EXAMPLE = {
    "number": "EXP-2020-0417",
    "exporter": "Wescam Optics Inc.",
    "consignee": "Baykar Defence",
    "end_user": "Turkish Armed Forces",
    "destination_country": "TR",
    "items": [
        {
            "description": "MX-15D imaging and targeting turret",
            "control_entry": "2-5.a",
            "quantity": 2,
            "value": "1250000.00",
            "currency": "CAD",
        }
    ],
    "valid_from": "2020-01-15",
    "valid_until": "2021-01-14",
}


class PermitItem(Input):
    description: Text(500)  # type: ignore[valid-type]
    control_entry: Text(40)  # type: ignore[valid-type]
    quantity: WholeNumber(gt=0, le=10**9)  # type: ignore[valid-type]
    value: Amount
    currency: Currency


class PermitCreate(Input):
    model_config = ConfigDict(json_schema_extra={"examples": [PERMIT_EXAMPLE]})

    number: PermitNumber = Field(examples=["EXP-2020-0417"])
    exporter: Text(200)  # type: ignore[valid-type]
    consignee: Text(200)  # type: ignore[valid-type]
    end_user: Text(200)  # type: ignore[valid-type]
    destination_country: Country = Field(examples=["TR"])
    items: list[PermitItem] = Field(min_length=1, max_length=100)
    valid_from: date
    valid_until: date

    @model_validator(mode="after")
    def validity(self) -> PermitCreate:
        if self.valid_from > self.valid_until:
            raise ValueError("valid_from must not be after valid_until")
        return self


class PermitBulkCreate(Input):
    model_config = ConfigDict(json_schema_extra={"examples": [{"permits": [PERMIT_EXAMPLE]}]})

    permits: list[PermitCreate] = Field(min_length=1, max_length=500)


class PermitItemRead(Output):
    description: str
    control_entry: str
    quantity: int
    value: Decimal
    currency: str


class PermitRead(Output):
    id: UUID
    dialogue_id: UUID
    number: str
    exporter: str
    consignee: str
    end_user: str
    destination_country: str
    items: list[PermitItemRead]
    valid_from: date
    valid_until: date
    status: PermitStatus
    created_at: datetime
    updated_at: datetime


class PermitBulkRead(Output):
    items: list[PermitRead]


class PermitStatusChangeRead(Output):
    from_status: PermitStatus
    to_status: PermitStatus
    notice_id: UUID | None = Field(description="The notice that caused it; null for expiry.")
    at: datetime


class PermitHistory(Output):
    items: list[PermitStatusChangeRead]


class PermitStatusChanged(Output):
    """Data of the ``permit.status_changed`` event."""

    permit: PermitRead
    from_status: PermitStatus
    to_status: PermitStatus
    notice_id: UUID | None
    notice_reference: str | None


class PermitFilters(BaseModel):
    """What a permit list may be narrowed to; every filter given must match."""

    status: PermitStatus | None = None
    number: str | None = None
    exporter: str | None = None
