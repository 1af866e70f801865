"""RFC 9457 problem details for every error the service can answer with."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.api.routes import allowed_methods
from service.audit.service import ANONYMOUS, RequestContext
from service.errors import NotFound, ServiceError, Unavailable
from service.uow import UnitOfWork
from service.web.errors import error_page, is_web

log = structlog.get_logger("entente.errors")
MEDIA_TYPE = "application/problem+json"
HTTP_TITLES = {
    400: ("bad-request", "Bad request"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    413: ("too-large", "Request body too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("invalid-input", "Invalid input"),
}


def problem(
    status: int,
    code: str,
    title: str,
    *,
    detail: str | None = None,
    request_id: str | None = None,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = {"type": f"urn:entente:problem:{code}", "title": title, "status": status, "code": code}
    body |= {"detail": detail, "instance": instance, "request_id": request_id}
    body = {key: value for key, value in body.items() if value is not None} | extra
    return JSONResponse(body, status_code=status, headers=headers, media_type=MEDIA_TYPE)


def request_id_of(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


async def service_error(request: Request, exc: ServiceError) -> Response:
    if exc.audited:
        await record_denial(request, exc)
    if is_web(request):
        return error_page(request, exc.status, exc.detail)
    return problem(
        exc.status,
        exc.code,
        exc.title,
        detail=exc.detail,
        request_id=request_id_of(request),
        instance=request.url.path,
        headers=exc.headers,
        **exc.extra,
    )


async def record_denial(request: Request, exc: ServiceError) -> None:
    """Every refused access is an audit entry of its own (the request changed nothing else)."""
    principal = getattr(request.state, "principal", None)
    actor = principal.as_actor() if principal else ANONYMOUS
    context = RequestContext(
        request_id_of(request), request.client.host if request.client else None
    )
    uow = UnitOfWork(request.app.state.database, actor=actor, context=context)
    details = {
        "status": exc.status,
        "reason": exc.log_reason or str(exc),
        "method": request.method,
        "path": request.url.path,
    }
    entity_type = exc.entity if isinstance(exc, NotFound) else None
    entity_id = str(exc.entity_id) if isinstance(exc, NotFound) and exc.entity_id else None
    # A probe of a dialogue is filed under that dialogue, so its parties' auditors see it.
    dialogue_id = exc.entity_id if entity_type == "dialogue" else exc.dialogue_id
    action = "auth.token_rejected" if exc.status == 401 else "access.denied"
    async with uow.transaction() as tx:
        tx.audit(
            action,
            details=details,
            entity_type=entity_type,
            entity_id=entity_id,
            dialogue_id=dialogue_id,
        )


async def validation_error(request: Request, exc: RequestValidationError) -> Response:
    if is_web(request):
        return error_page(request, 422)
    errors = [
        {"loc": list(error.get("loc", ())), "message": error.get("msg"), "type": error.get("type")}
        for error in exc.errors()[:50]
    ]
    return problem(
        422,
        "invalid-input",
        "Invalid input",
        detail="The request does not match the expected shape.",
        request_id=request_id_of(request),
        instance=request.url.path,
        errors=errors,
    )


async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(allowed_methods(request.app.routes, request.scope))
    if is_web(request):
        page = error_page(request, exc.status_code)
        page.headers.update(headers)
        return page
    code, title = HTTP_TITLES.get(exc.status_code, ("http-error", "HTTP error"))
    if exc.status_code == 400:  # FastAPI's "error parsing the body": still a payload problem
        code, title = "invalid-input", "Invalid input"
        return problem(422, code, title, detail=str(exc.detail), request_id=request_id_of(request))
    return problem(
        exc.status_code,
        code,
        title,
        detail=str(exc.detail) if exc.detail else None,
        request_id=request_id_of(request),
        headers=headers,
    )


# SQLSTATEs of a database that cannot serve now: connection exceptions (08), operator
# intervention such as a shutdown or a start-up in progress (57P), too many connections (53300).
UNAVAILABLE_SQLSTATES = ("08", "57P", "53300")


def database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database cannot serve right now (stopped, restarting, full, busy,
    a connection lost or refused), not that the request or our code is wrong."""
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:  # SQLAlchemy discarded the pool: the retry reconnects
            return True
        exc = exc.orig
    state = getattr(exc, "sqlstate", None)
    if isinstance(state, str) and state.startswith(UNAVAILABLE_SQLSTATES):
        return True
    if str(getattr(exc, "sqlite_errorname", "")).startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return True
    return isinstance(exc, ConnectionError)  # refused or reset while connecting


async def database_error(request: Request, exc: DBAPIError) -> Response:
    """503 with Retry-After when the database cannot serve for now; any other error is a 500."""
    if database_unavailable(exc):
        return await unavailable(request, exc)
    return await unexpected_error(request, exc)


async def unavailable(request: Request, exc: BaseException) -> Response:
    log.warning("database unavailable", path=request.url.path, error=repr(exc)[:300])
    busy = Unavailable("The database is unavailable for a moment; retry shortly.")
    busy.headers["Retry-After"] = "1"
    return await service_error(request, busy)


async def unexpected_error(request: Request, exc: Exception) -> Response:
    request_id = request_id_of(request)
    # Starlette sends this answer from outside every middleware, so echo the request id here.
    echo = {"X-Request-ID": request_id} if request_id else {}
    if database_unavailable(exc):  # raised while connecting, before SQLAlchemy could wrap it
        response = await unavailable(request, exc)
        response.headers.update(echo)
        return response
    log.exception("unhandled error", path=request.url.path)
    if is_web(request):
        return error_page(request, 500)
    return problem(
        500,
        "internal-error",
        "Internal error",
        detail="Something went wrong on our side; the request id helps us find it.",
        request_id=request_id,
        headers=echo or None,
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(ServiceError, service_error)  # type: ignore[arg-type]
    app.add_exception_handler(DBAPIError, database_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, validation_error)  # type: ignore[arg-type]
    # A connection to the database refused or reset while connecting is not wrapped by
    # SQLAlchemy. Handled here, not by the catch-all below: Starlette re-raises what reaches that
    # one after answering, so uvicorn logs a trace and drops the client's connection.
    app.add_exception_handler(OSError, unexpected_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, http_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, unexpected_error)


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    code: str
    detail: str | None = None
    instance: str | None = None
    request_id: str | None = None


class InvalidField(BaseModel):
    loc: list[str | int]
    message: str
    type: str


class ValidationProblem(Problem):
    """Problem details of a request that does not match its schema."""

    errors: list[InvalidField] = []


def document_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """Describe 422 answers as what they are (``ValidationProblem``), not FastAPI's default."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name, model in (
        ("Problem", Problem),
        ("ValidationProblem", ValidationProblem),
        ("InvalidField", InvalidField),
    ):
        components[name] = model.model_json_schema(ref_template="#/components/schemas/{model}")
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    ref = {"$ref": "#/components/schemas/ValidationProblem"}
    for path, operations in schema.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            if "422" in responses:
                responses["422"] = {
                    "description": "Invalid input",
                    "content": {MEDIA_TYPE: {"schema": ref}},
                }
            if "requestBody" in operation:
                responses.setdefault("413", TOO_LARGE)
                if path.startswith("/api/v1/"):
                    responses.setdefault("415", NOT_JSON)
            if path not in WITHOUT_DATABASE:
                responses.setdefault("503", DATABASE_UNAVAILABLE)
    return schema


# Every other operation reads or writes the database, so it can meet it unavailable.
WITHOUT_DATABASE = {"/healthz", "/.well-known/jwks.json"}
# The body limit is checked before anything else, so every operation that takes a body has it.
TOO_LARGE = {
    "description": "The body is larger than the operator's limit (1 MiB unless changed).",
    "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
}
# Bodies of the API are JSON; one declared as another media type is refused before it is read.
NOT_JSON = {
    "description": "The body is declared as something other than `application/json`.",
    "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
}
DATABASE_UNAVAILABLE = {
    "description": "The database is unavailable for a moment (restarting, unreachable, or busy"
    " with another process's write); retry after `Retry-After` seconds. Nothing was changed.",
    "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds."}},
    "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
}


DESCRIPTIONS = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Not allowed",
    404: "Not found, or not visible to you",
    409: "Conflicts with the current state",
    413: "Body too large",
    422: "Invalid input",
    429: "Too many requests",
    503: "Not ready (the database is unreachable)",
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the problems a route can answer with."""
    return {
        status: {
            "description": DESCRIPTIONS[status],
            "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }
