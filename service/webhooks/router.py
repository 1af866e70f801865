from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Depends, Query, Request, Response

from service.api.pagination import Cursor, Limit, Page
from service.api.problems import errors
from service.auth.dependencies import Caller, CallerUoW
from service.webhooks import service as webhook_service
from service.webhooks.schemas import (
    DeliveryDetail,
    DeliveryRead,
    DeliveryStatus,
    QueuedTestMessage,
    RedeliverFailed,
    Requeued,
    SecretRotate,
    SecretRotated,
    WebhookCreate,
    WebhookCreated,
    WebhookRead,
    WebhookUpdate,
)

router = APIRouter(tags=["webhooks"])
READ = errors(401, 403, 404)
LIST = errors(401, 403, 404, 422)
# Every POST may also meet an Idempotency-Key in use (409) or reused with another body (422).
WRITE = errors(401, 403, 404, 409, 422)
StatusFilter = Annotated[DeliveryStatus | None, Query(description="Only this status.")]


async def webhook_tools(request: Request) -> webhook_service.Tools:
    state = request.app.state
    return webhook_service.Tools(egress=state.egress, box=state.secret_box, settings=state.settings)


Tools = Annotated[webhook_service.Tools, Depends(webhook_tools)]


@router.post("/webhooks", status_code=201, responses=errors(401, 403, 409, 422))
async def create_webhook(
    body: WebhookCreate, caller: Caller, uow: CallerUoW, tools: Tools
) -> WebhookCreated:
    """Register a webhook for your organization; its signing secret is in this answer only.

    The URL's host is resolved now: an address that is loopback, private, link-local or
    otherwise not public is refused (422 `webhook-url-refused`) unless the operator's
    allow-list names it, and so is plain `http` unless the operator allows it. Deliveries are
    signed as the Standard Webhooks specification describes (`webhook-id`, `webhook-timestamp`,
    `webhook-signature`). Admins of your organization, or API clients with `webhooks:manage`.
    """
    subscription, secret = await webhook_service.create(uow, caller, data=body, tools=tools)
    read = WebhookRead.model_validate(subscription)
    return WebhookCreated.model_validate({**read.model_dump(), "secret": secret})


@router.get("/webhooks", responses=errors(401, 403, 422))
async def list_webhooks(
    caller: Caller, uow: CallerUoW, limit: Limit = 50, cursor: Cursor = None
) -> Page[WebhookRead]:
    """Your organization's webhooks, oldest first (never their secrets)."""
    rows, next_cursor = await webhook_service.list_subscriptions(
        uow, caller, limit=limit, cursor=cursor
    )
    return Page(items=[WebhookRead.model_validate(row) for row in rows], next_cursor=next_cursor)


@router.get("/webhooks/{webhook_id}", responses=READ)
async def get_webhook(webhook_id: UUID, caller: Caller, uow: CallerUoW) -> WebhookRead:
    """One of your organization's webhooks: its filters, and whether (and why) it is disabled."""
    subscription = await webhook_service.get(uow, caller, subscription_id=webhook_id)
    return WebhookRead.model_validate(subscription)


@router.patch("/webhooks/{webhook_id}", responses=errors(401, 403, 404, 422))
async def update_webhook(
    webhook_id: UUID, body: WebhookUpdate, caller: Caller, uow: CallerUoW, tools: Tools
) -> WebhookRead:
    """Change the URL, filters or description, or turn the webhook off and on.

    `enabled: true` on a disabled webhook (by you, or by Entente after days of failures)
    re-enables it and forgets why it stopped. A webhook turned off keeps its pending
    deliveries until turned on again.
    """
    subscription = await webhook_service.update(
        uow, caller, subscription_id=webhook_id, data=body, tools=tools
    )
    return WebhookRead.model_validate(subscription)


@router.delete("/webhooks/{webhook_id}", status_code=204, responses=READ)
async def delete_webhook(webhook_id: UUID, caller: Caller, uow: CallerUoW) -> Response:
    """Remove a webhook, with its deliveries and their attempt log."""
    await webhook_service.delete(uow, caller, subscription_id=webhook_id)
    return Response(status_code=204)


@router.post("/webhooks/{webhook_id}/rotate-secret", responses=WRITE)
async def rotate_secret(
    webhook_id: UUID,
    caller: Caller,
    uow: CallerUoW,
    tools: Tools,
    body: Annotated[SecretRotate | None, Body()] = None,
) -> SecretRotated:
    """Replace the signing secret; the new one is in this answer only.

    Until `previous_secret_expires_at` every delivery carries two signatures, one per secret,
    so receivers can switch without losing a message. Only the secret replaced last is kept:
    rotating again within the overlap stops the older one at once. The body may be left out.
    """
    overlap = body.overlap_seconds if body else None
    secret, until = await webhook_service.rotate_secret(
        uow, caller, subscription_id=webhook_id, overlap_seconds=overlap, tools=tools
    )
    return SecretRotated(secret=secret, previous_secret_expires_at=until)


@router.post("/webhooks/{webhook_id}/test", status_code=202, responses=WRITE)
async def send_test_message(webhook_id: UUID, caller: Caller, uow: CallerUoW) -> QueuedTestMessage:
    """Queue a `webhook.test` message, signed like any other, to check the receiver.

    It shows up in the delivery log like every delivery. A disabled webhook answers 409.
    """
    delivery = await webhook_service.send_test(uow, caller, subscription_id=webhook_id)
    return QueuedTestMessage(delivery_id=delivery.id, message_id=delivery.message_id)


@router.get("/webhooks/{webhook_id}/deliveries", responses=LIST)
async def list_deliveries(
    webhook_id: UUID,
    caller: Caller,
    uow: CallerUoW,
    status: StatusFilter = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[DeliveryRead]:
    """The webhook's deliveries, newest first."""
    rows, next_cursor = await webhook_service.list_deliveries(
        uow, caller, subscription_id=webhook_id, status=status, limit=limit, cursor=cursor
    )
    return Page(items=[DeliveryRead.model_validate(row) for row in rows], next_cursor=next_cursor)


@router.get("/webhooks/{webhook_id}/deliveries/{delivery_id}", responses=READ)
async def get_delivery(
    webhook_id: UUID, delivery_id: UUID, caller: Caller, uow: CallerUoW
) -> DeliveryDetail:
    """One delivery and every attempt at it, oldest first: status, latency, what came back."""
    delivery, attempts = await webhook_service.get_delivery(
        uow, caller, subscription_id=webhook_id, delivery_id=delivery_id
    )
    read = DeliveryRead.model_validate(delivery)
    return DeliveryDetail.model_validate({**read.model_dump(), "attempts_log": attempts})


@router.post(
    "/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver", status_code=202, responses=WRITE
)
async def redeliver(
    webhook_id: UUID, delivery_id: UUID, caller: Caller, uow: CallerUoW
) -> DeliveryRead:
    """Send a delivery again, now, with a fresh retry schedule (same `webhook-id`).

    409 while an attempt at it is in flight, or when the webhook is disabled.
    """
    delivery = await webhook_service.redeliver(
        uow, caller, subscription_id=webhook_id, delivery_id=delivery_id
    )
    return DeliveryRead.model_validate(delivery)


@router.post("/webhooks/{webhook_id}/redeliver-failed", status_code=202, responses=WRITE)
async def redeliver_failed(
    webhook_id: UUID, body: RedeliverFailed, caller: Caller, uow: CallerUoW
) -> Requeued:
    """Send again every failed delivery created at or after `since` (after an outage, say).

    409 when the webhook is disabled: enable it first.
    """
    count = await webhook_service.redeliver_failed(
        uow, caller, subscription_id=webhook_id, since=body.since
    )
    return Requeued(count=count)
