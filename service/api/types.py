"""Input types shared by the schemas of every domain."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    StringConstraints,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic.types import Strict
from pydantic_core import CoreSchema


def no_control_characters(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    if any(unicodedata.category(ch) == "Cc" and ch not in "\t\n\r" for ch in value):
        raise ValueError("must not contain control characters")
    return value


def printable(value: str | None) -> str | None:
    return None if value is None else no_control_characters(value)


# Free text in a query string or a form field: a NUL or control character there is refused (422)
# like in a body, not handed to the database (PostgreSQL cannot take a NUL in text: a 500).
Printable = AfterValidator(printable)


def integral_number(value: Any) -> Any:
    # JSON Schema's integer is any number without a fraction: 3.0 is one, "3" and true are not.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def WholeNumber(**bounds: int) -> Any:
    """An integer as the OpenAPI document defines it: ``3`` and ``3.0``, never ``"3"`` or
    ``true``; ``bounds`` are Field's (``ge``, ``le``, ...)."""
    # The conversion wraps the bounded integer, so the bounds stay minimum/maximum in the schema.
    return Annotated[int, Strict(), Field(**bounds), BeforeValidator(integral_number)]


# What the validators accept, as JSON Schema patterns for the OpenAPI document. WHITE is what
# ``strip_whitespace`` strips (Unicode White_Space); no control character but tab, newline and
# carriage return may remain; a required text needs one printed character. (Lone surrogates are
# refused too, as invalid Unicode, but a pattern cannot say so: the regex engines validators use
# have no such characters.)
WHITE = r"[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
ALLOWED = r"[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]"
PRINTED = r"[^ \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0000-\u001f\u007f-\u009f]"
CORE = f"{ALLOWED}*{PRINTED}{ALLOWED}*"


class Documented:
    """Annotated metadata that adds keywords to a type's schema (a ``pattern``, ``uniqueItems``)
    and validates nothing: the validators next to it do, in Python."""

    def __init__(self, **keywords: Any) -> None:
        self.keywords = keywords

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        schema.update(self.keywords)
        return schema


NOT_BLANK = Documented(pattern=f"^{CORE}$")  # kept as sent: no control character, not blank
STRIPPED = Documented(pattern=f"^{WHITE}*{CORE}{WHITE}*$")  # stripped, then not empty
STRIPPED_OR_EMPTY = Documented(pattern=f"^{WHITE}*(?:{CORE})?{WHITE}*$")


def no_repeats(values: list[Any]) -> list[Any]:
    if len(set(values)) != len(values):
        raise ValueError("must not repeat a value")
    return values


def Distinct(item: Any) -> Any:
    """A list that refuses a repeated value (422), and says so in the document (``uniqueItems``).
    Its lengths are the field's own (``Field(max_length=...)``)."""
    return Annotated[list[item], AfterValidator(no_repeats), Documented(uniqueItems=True)]


def rfc3339(value: Any) -> Any:
    # Pydantic would also take a number of seconds; a time here is written as RFC 3339 text.
    if isinstance(value, str | datetime):
        return value
    raise ValueError("must be an RFC 3339 time such as 2026-01-31T00:00:00Z")


def in_utc(value: datetime) -> datetime:
    """The instant in UTC, as the database keeps it. An offset can carry a time written within
    years 1 to 9999 outside them in UTC (9999-12-31T23:00:00-14:00): refused here (422), not
    left to overflow when it is stored or compared (500)."""
    if value.tzinfo is None:
        raise ValueError("must carry a time zone (RFC 3339)")
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("must fall within the years 1 to 9999 in UTC") from None


# An instant sent by a caller: RFC 3339 text with its zone, within the years UTC can represent.
Instant = Annotated[datetime, BeforeValidator(rfc3339), AfterValidator(in_utc)]


def Text(max_length: int, min_length: int = 1) -> type[str]:
    return Annotated[  # type: ignore[return-value]
        str,
        StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length),
        AfterValidator(no_control_characters),
        STRIPPED if min_length else STRIPPED_OR_EMPTY,
    ]


class Input(BaseModel):
    """Request bodies: unknown fields are refused (no mass assignment)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Update(Input):
    """A partial update: a field left out stays as it is. An explicit null would empty a required
    column, so it is refused (422) except for the fields in ``nullable``, which null clears; the
    OpenAPI schema offers null for those fields only."""

    nullable: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def no_nulls(self) -> Self:
        nulls = sorted(
            name
            for name in self.model_fields_set
            if getattr(self, name) is None and name not in self.nullable
        )
        if nulls:
            raise ValueError(f"must not be null: {', '.join(nulls)}")
        return self

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        properties = handler.resolve_ref_schema(schema).get("properties", {})
        for name, field in properties.items():
            if name not in cls.nullable:
                drop_null(field)
        return schema


def drop_null(field: dict[str, Any]) -> None:
    """``anyOf: [X, {type: null}]`` becomes X (the field's other keys kept); a null default,
    which only means "left out", goes too."""
    if "default" in field and field["default"] is None:
        del field["default"]
    options = [each for each in field.get("anyOf", []) if each.get("type") != "null"]
    if "anyOf" in field and len(options) == 1:
        del field["anyOf"]
        field.update(options[0])
    elif "anyOf" in field:
        field["anyOf"] = options


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)
