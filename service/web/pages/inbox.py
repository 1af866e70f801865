from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from service.web import inbox
from service.web.dependencies import WebUoW, WebUser
from service.web.templating import render

router = APIRouter()


@router.get("/")
async def home(request: Request, user: WebUser, uow: WebUoW) -> Response:
    return render(request, "inbox.html", {"inbox": await inbox.build(uow, user.principal)})
