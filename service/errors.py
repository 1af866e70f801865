"""Service errors and their one rendering: RFC 9457 problem details.

Services raise ``ServiceError`` subclasses; they never know about HTTP beyond the status number
each error carries. Access denials (401, 403, 404 on dialogue-scoped things) are recorded in the
audit trail by the handler in ``service.api.problems``.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID


class ServiceError(Exception):
    status: int = 500
    code: str = "internal-error"
    title: str = "Internal error"
    audited: bool = False

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.extra = extra
        self.headers: dict[str, str] = {}
        self.log_reason: str | None = None
        self.dialogue_id: UUID | None = None  # where a refusal happened, for its audit entry


class BadRequest(ServiceError):
    status, code, title = 400, "bad-request", "Bad request"


class Unauthenticated(ServiceError):
    status, code, title, audited = 401, "unauthenticated", "Authentication required", True

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'


class NotAllowed(ServiceError):
    status, code, title, audited = 403, "forbidden", "Not allowed", True


class NotFound(ServiceError):
    """Absent, or not visible to the caller: the two must be indistinguishable."""

    status, code, title, audited = 404, "not-found", "Not found", True

    def __init__(
        self, entity: str, entity_id: UUID | str | None = None, *, label: str | None = None
    ) -> None:
        super().__init__(f"No such {label or entity.replace('_', ' ')}.")
        self.entity = entity
        self.entity_id = entity_id


class StateConflict(ServiceError):
    status, code, title = 409, "conflict", "Conflict with the current state"


class InvalidInput(ServiceError):
    """Well-formed input that breaks a rule (unknown role, duplicate code...)."""

    status, code, title = 422, "invalid-input", "Invalid input"


class TooManyRequests(ServiceError):
    status, code, title = 429, "too-many-requests", "Too many requests"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.headers["Retry-After"] = str(max(1, retry_after))


class Unavailable(ServiceError):
    status, code, title = 503, "unavailable", "Service unavailable"
