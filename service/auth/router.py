from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Request, Response
from pydantic import BaseModel

from service.api.problems import errors
from service.api.types import Printable
from service.auth import signin
from service.auth.dependencies import AnonymousUoW

router = APIRouter(tags=["auth"])

Field = Annotated[str | None, Form(max_length=512), Printable]


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - a type name, not a secret
    expires_in: int
    scope: str | None = None


@router.post(
    "/oauth/token",
    response_model=TokenResponse,
    response_model_exclude_none=True,
    responses=errors(400, 401, 422, 429),
)
async def token(
    request: Request,
    response: Response,
    uow: AnonymousUoW,
    grant_type: Annotated[str, Form(min_length=1, max_length=64)],
    username: Field = None,
    password: Field = None,
    client_id: Field = None,
    client_secret: Field = None,
) -> Any:
    """OAuth 2.0 token endpoint: `client_credentials` for API clients, `password` for users."""
    response.headers["Cache-Control"] = "no-store"
    state = request.app.state
    if grant_type == "password" and username and password:
        issued = await signin.password_grant(
            uow, state.tokens, state.settings, username=username, password=password
        )
    elif grant_type == "client_credentials" and client_id and client_secret:
        issued = await signin.client_credentials_grant(
            uow, state.tokens, state.settings, client_id=client_id, secret=client_secret
        )
    elif grant_type in {"password", "client_credentials"}:
        raise signin.MissingCredentials(grant_type)
    else:
        raise signin.UnsupportedGrant(grant_type)
    return TokenResponse(
        access_token=issued.access_token, expires_in=issued.expires_in, scope=issued.scope
    )


@router.get("/.well-known/jwks.json", tags=["auth"])
async def jwks(request: Request) -> dict[str, Any]:
    """The public keys that verify our tokens and signed documents."""
    return request.app.state.tokens.jwks_document()
