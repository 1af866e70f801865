"""Pages: my organization's webhooks and their latest deliveries, for its admins.

A rotated secret is shown once, in the answer to the POST itself (no redirect): it never
appears in a URL, a later page or anything stored, and the page is sent with ``no-store``.
"""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from service.web.dependencies import FormUser, WebUoW, WebUser
from service.web.forms import QueryText, optional_id
from service.web.pages.permits import PAGE
from service.web.templating import render
from service.webhooks import service as webhook_service
from service.webhooks.schemas import DeliveryRead, WebhookRead

router = APIRouter()
LAST_DELIVERIES = 10


def tools(request: Request) -> webhook_service.Tools:
    state = request.app.state
    return webhook_service.Tools(egress=state.egress, box=state.secret_box, settings=state.settings)


@router.get("/webhooks")
async def webhooks(
    request: Request,
    user: WebUser,
    uow: WebUoW,
    cursor: QueryText = None,
    tested: QueryText = None,
) -> Response:
    caller = user.principal
    rows, next_cursor = await webhook_service.list_subscriptions(
        uow, caller, limit=PAGE, cursor=cursor
    )
    subscriptions = []
    for row in rows:
        deliveries, _ = await webhook_service.list_deliveries(
            uow, caller, subscription_id=row.id, status=None, limit=LAST_DELIVERIES, cursor=None
        )
        subscriptions.append(
            (WebhookRead.model_validate(row), [DeliveryRead.model_validate(d) for d in deliveries])
        )
    context = {
        "subscriptions": subscriptions,
        "next_cursor": next_cursor,
        "tested": optional_id(request, tested, "tested"),
    }
    return render(request, "webhooks.html", context)


@router.post("/webhooks/{subscription_id}/rotate")
async def rotate(request: Request, subscription_id: UUID, user: FormUser, uow: WebUoW) -> Response:
    secret, until = await webhook_service.rotate_secret(
        uow,
        user.principal,
        subscription_id=subscription_id,
        overlap_seconds=None,
        tools=tools(request),
    )
    subscription = await webhook_service.get(uow, user.principal, subscription_id=subscription_id)
    context = {
        "subscription": WebhookRead.model_validate(subscription),
        "secret": secret,
        "until": until,
    }
    return render(request, "webhook_secret.html", context)


@router.post("/webhooks/{subscription_id}/test")
async def test(request: Request, subscription_id: UUID, user: FormUser, uow: WebUoW) -> Response:
    await webhook_service.send_test(uow, user.principal, subscription_id=subscription_id)
    return RedirectResponse(f"/app/webhooks?tested={subscription_id}", status_code=303)
