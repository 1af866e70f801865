"""Which subscriptions receive which event: pure rules, no database.

A subscription receives an event only when its organization may see it (SPEC section 4): the
dialogue's two parties every event of the dialogue, its observers ``permit.*`` and ``notice.*``
only, and an event addressed to one organization that organization alone. On top of that come
the subscription's own filters (event types, dialogues), and it receives nothing older than itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from uuid import UUID

from service.events.models import OutboxEvent
from service.events.service import OBSERVER_TYPE_PREFIXES
from service.webhooks.models import WebhookSubscription


@dataclass(frozen=True)
class Parties:
    """Who belongs to one dialogue."""

    authority_id: UUID
    counterpart_id: UUID
    observer_ids: frozenset[UUID] = field(default_factory=frozenset)

    def may_see(self, org_id: UUID, event_type: str) -> bool:
        if org_id in (self.authority_id, self.counterpart_id):
            return True
        return org_id in self.observer_ids and event_type.startswith(OBSERVER_TYPE_PREFIXES)


def type_matches(patterns: Iterable[str], event_type: str) -> bool:
    """``notice.issued`` matches itself; ``notice.*`` every type of the family."""
    return any(
        event_type.startswith(p[:-1]) if p.endswith(".*") else event_type == p for p in patterns
    )


def receives(
    subscription: WebhookSubscription, event: OutboxEvent, parties: Parties | None
) -> bool:
    if event.occurred_at < subscription.created_at:
        return False
    if not type_matches(subscription.event_types, event.type):
        return False
    if event.organization_id is not None:
        return event.organization_id == subscription.organization_id
    if parties is None:
        return False
    if subscription.dialogue_ids and str(event.dialogue_id) not in subscription.dialogue_ids:
        return False
    return parties.may_see(subscription.organization_id, event.type)


def recipients(
    subscriptions: Sequence[WebhookSubscription], event: OutboxEvent, parties: Parties | None
) -> list[WebhookSubscription]:
    return [s for s in subscriptions if receives(s, event, parties)]
