from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import (
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    field_validator,
)

from service.api.types import Distinct, Input, Output, Text, Update
from service.auth.principal import SCOPES

OrgKind = Literal["licensing_authority", "counterpart_ministry", "observer"]
Role = Literal["officer", "approver", "diplomat", "auditor", "admin"]
Scope = Literal[tuple(sorted(SCOPES))]  # type: ignore[valid-type]
OrgCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{1,31}$")]
Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
Username = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]{2,149}$")]
Password = Annotated[str, StringConstraints(min_length=12, max_length=256)]


class OrganizationCreate(Input):
    code: OrgCode = Field(examples=["CA-GAC"])
    name: Text(200)  # type: ignore[valid-type]
    country: Country = Field(description="ISO 3166-1 alpha-2", examples=["CA"])
    kind: OrgKind


class OrganizationUpdate(Update):
    model_config = ConfigDict(json_schema_extra={"examples": [{"active": False}]})

    name: Text(200) | None = None  # type: ignore[valid-type]
    active: StrictBool | None = None


class OrganizationRead(Output):
    id: UUID
    code: str
    name: str
    country: str
    kind: OrgKind
    is_host: bool
    active: bool
    created_at: datetime


def in_order(values: list[str] | None) -> list[str] | None:
    """Roles and scopes are kept sorted (an update's explicit null is refused by Update)."""
    return None if values is None else sorted(values)


class UserCreate(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "organization_id": "3f1c9b7e-2a4d-4c8e-9f10-5b6a7c8d9e01",
                    "username": "tr-diplomat",
                    "display_name": "Embassy Counsellor, Ottawa",
                    "password": "a long passphrase of yours",
                    "roles": ["diplomat"],
                }
            ]
        }
    )

    organization_id: UUID
    username: Username
    display_name: Text(200)  # type: ignore[valid-type]
    password: Password
    roles: Distinct(Role) = Field(min_length=1, max_length=5)  # type: ignore[valid-type]

    _unique_roles = field_validator("roles")(in_order)


class UserUpdate(Update):
    model_config = ConfigDict(json_schema_extra={"examples": [{"roles": ["officer", "approver"]}]})

    display_name: Text(200) | None = None  # type: ignore[valid-type]
    password: Password | None = None
    roles: Distinct(Role) | None = Field(None, min_length=1, max_length=5)  # type: ignore[valid-type]
    active: StrictBool | None = None

    _unique_roles = field_validator("roles")(in_order)


class UserRead(Output):
    id: UUID
    organization_id: UUID
    username: str
    display_name: str
    roles: list[Role]
    active: bool
    external_issuer: str | None
    created_at: datetime


class ClientCreate(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "organization_id": "3f1c9b7e-2a4d-4c8e-9f10-5b6a7c8d9e01",
                    "name": "Permit register (EXCOL)",
                    "scopes": ["permits:read", "permits:write", "notices:read", "events:read"],
                }
            ]
        }
    )

    organization_id: UUID
    name: Text(200)  # type: ignore[valid-type]
    scopes: Distinct(Scope) = Field(min_length=1, max_length=len(SCOPES))  # type: ignore[valid-type]

    _unique_scopes = field_validator("scopes")(in_order)


class ClientRead(Output):
    id: UUID
    organization_id: UUID
    name: str
    client_id: str
    scopes: list[str]
    active: bool
    created_at: datetime


class ClientCreated(ClientRead):
    client_secret: str = Field(description="Shown only in this answer; store it now.")


class DialogueCreate(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "title": "Canada/Türkiye: military export permits",
                    "authority_id": "3f1c9b7e-2a4d-4c8e-9f10-5b6a7c8d9e01",
                    "counterpart_id": "8b2d4f6a-1c3e-4a5b-9d7f-0e1f2a3b4c5d",
                    "observer_ids": ["c4e6a8b0-2d4f-4a6c-8e0a-1b3d5f7a9c2e"],
                }
            ]
        }
    )

    title: Text(200)  # type: ignore[valid-type]
    authority_id: UUID
    counterpart_id: UUID
    observer_ids: list[UUID] = Field(default_factory=list, max_length=20)


class ObserversAdd(Input):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"observer_ids": ["c4e6a8b0-2d4f-4a6c-8e0a-1b3d5f7a9c2e"]}]}
    )

    observer_ids: list[UUID] = Field(min_length=1, max_length=20)


class DialogueRead(Output):
    id: UUID
    title: str
    authority_id: UUID
    counterpart_id: UUID
    observer_ids: list[UUID]
    my_side: Literal["authority", "counterpart", "observer"]
    created_at: datetime


class Me(Output):
    kind: Literal["user", "client"]
    id: UUID
    name: str
    display_name: str | None
    organization: OrganizationRead
    roles: list[str]
    scopes: list[str]
