"""What every page does with input: query values, form fields into service inputs, redirects."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar
from uuid import UUID

from fastapi import Query, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, ValidationError

from service.errors import InvalidInput
from service.web.templating import gettext_for

QueryText = Annotated[str | None, Query(max_length=200)]
M = TypeVar("M", bound=BaseModel)


def readable(exc: ValidationError) -> str:
    """A pydantic error as the 422 page says it: which field, and what is wrong with it."""

    def where(error: Any) -> str:
        return ".".join(str(part) for part in error["loc"]).replace("_", " ")

    return "; ".join(
        f"{where(e)}: {e['msg']}" if e["loc"] else e["msg"]
        for e in exc.errors(include_url=False)[:10]
    )


def invalid(request: Request, exc: ValidationError) -> InvalidInput:
    _ = gettext_for(request)
    return InvalidInput(
        _("Please correct these fields: %(problems)s") % {"problems": readable(exc)}
    )


def validated(model: type[M], **fields: Any) -> M:
    """A service input built from form fields; what does not fit is a 422 saying why."""
    try:
        return model(**fields)
    except ValidationError as exc:
        raise InvalidInput(readable(exc)) from exc


def optional_id(request: Request, value: str | None, name: str) -> UUID | None:
    """An id from a query string or select; empty means none chosen."""
    if not value:
        return None
    try:
        return UUID(value)
    except ValueError:
        _ = gettext_for(request)
        raise InvalidInput(_("%(name)s is not a valid id.") % {"name": name}) from None


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)
