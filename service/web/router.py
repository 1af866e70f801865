"""The web client's routes, mounted at ``/app`` with its static files."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from service.web.dependencies import SignInRequired
from service.web.errors import sign_in_required
from service.web.pages import (
    assurances,
    audit,
    auth,
    consultations,
    dialogues,
    inbox,
    notices,
    permits,
    webhooks,
)

STATIC = Path(__file__).parent / "static"
PAGES = [
    auth.router,
    inbox.router,
    dialogues.router,
    consultations.router,
    notices.router,
    permits.router,
    assurances.router,
    audit.router,
    webhooks.router,
]


def pages_router() -> APIRouter:
    web = APIRouter(prefix="/app", include_in_schema=False)
    for pages in PAGES:
        web.include_router(pages)
    return web


def install(app: FastAPI) -> None:
    """What the web client adds to an app beside its pages (``service.app.shared_routes``)."""
    app.mount("/app/static", StaticFiles(directory=STATIC), name="web-static")
    app.add_exception_handler(SignInRequired, sign_in_required)  # type: ignore[arg-type]

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/app/", status_code=307)
