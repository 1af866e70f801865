"""What the state machine expects of one dialogue: statuses, events, and each answer's status.

The predictions follow SPEC.md: 404 for what the caller's organization may not see (another
dialogue, assurances and consultations for observers, drafts for anyone but the authority),
then 403 for what its side or role may not do, then 409 for a transition the current state
does not allow, then 422 for references that are not of the dialogue.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from tests.stateful.parties import (
    AUTHORITY,
    COUNTERPART,
    OBSERVER,
    PARTIES,
    Party,
    allowed,
)

# SPEC section 3: notice kind -> {permit status: status after issue}
MOVES = {
    "suspension": {"active": "suspended"},
    "reinstatement": {"suspended": "active"},
    "cancellation": {"active": "cancelled", "suspended": "cancelled"},
    "general": None,  # names permits without moving them
}
HIDDEN_FROM_OBSERVERS = ("assurance", "consultation")


@dataclass
class Assurance:
    status: str
    permit_ids: list[str]


@dataclass
class Consultation:
    status: str = "open"
    awaiting: str | None = None  # the side whose answer is awaited


@dataclass
class Notice:
    kind: str
    permit_ids: list[str]
    assurance_ids: list[str]
    authors: set[str]
    status: str = "draft"


@dataclass
class Model:
    observers: set[str] = field(default_factory=lambda: {OBSERVER})
    permits: dict[str, str] = field(default_factory=dict)  # id -> status
    numbers: set[str] = field(default_factory=set)
    assurances: dict[str, Assurance] = field(default_factory=dict)
    consultations: dict[str, Consultation] = field(default_factory=dict)
    notices: dict[str, Notice] = field(default_factory=dict)
    events: Counter[tuple[str, str]] = field(default_factory=Counter)  # (type, entity id)
    denials: int = 0  # answers 403 and 404: each is an audit entry

    def side(self, party: Party) -> str | None:
        if party.org == AUTHORITY:
            return "authority"
        if party.org == COUNTERPART:
            return "counterpart"
        if party.org in self.observers:
            return "observer"
        return None

    def outsiders(self) -> list[str]:
        """Parties whose organization is not in the dialogue (now)."""
        return [name for name, party in PARTIES.items() if self.side(party) is None]

    def objects(self) -> list[tuple[str, str]]:
        return [
            (kind, entity_id)
            for kind, table in (
                ("permit", self.permits),
                ("assurance", self.assurances),
                ("consultation", self.consultations),
                ("notice", self.notices),
            )
            for entity_id in table
        ]

    def status_of(self, kind: str, entity_id: str) -> str:
        if kind == "permit":
            return self.permits[entity_id]
        table = {"assurance": self.assurances, "consultation": self.consultations}
        return table.get(kind, self.notices)[entity_id].status  # type: ignore[attr-defined]

    # -- predictions: None means "no refusal so far, go on checking"

    def in_dialogue(self, party: Party, action: str, *, hidden_from_observers: bool) -> int | None:
        side = self.side(party)
        if side is None or (side == "observer" and hidden_from_observers):
            return 404
        return None if allowed(party, side, action) else 403

    def on_object(self, party: Party, kind: str, action: str) -> int | None:
        """Acting on an existing object of ``kind`` ("permit", "notice"...)."""
        side = self.side(party)
        if side is None or (side == "observer" and kind in HIDDEN_FROM_OBSERVERS):
            return 404
        return None if allowed(party, side, action) else 403

    def on_notice(self, party: Party, notice_id: str, action: str) -> int | None:
        side = self.side(party)
        if side is None or (self.notices[notice_id].status == "draft" and side != "authority"):
            return 404
        return None if allowed(party, side, action) else 403

    def unknown(self, permit_ids: list[str], assurance_ids: list[str]) -> bool:
        return any(p not in self.permits for p in permit_ids) or any(
            a not in self.assurances for a in assurance_ids
        )

    def issue_conflict(self, notice: Notice) -> bool:
        """A notice that cannot be issued as it stands: nothing changes (SPEC section 3)."""
        if notice.status != "draft":
            return True
        moves = MOVES[notice.kind]
        if moves is not None and any(self.permits[p] not in moves for p in notice.permit_ids):
            return True
        return any(self.assurances[a].status != "accepted" for a in notice.assurance_ids)

    # -- what a success changes

    def issued(self, notice_id: str) -> None:
        notice = self.notices[notice_id]
        notice.status = "issued"
        self.events[("notice.issued", notice_id)] += 1
        moves = MOVES[notice.kind]
        for permit_id in notice.permit_ids if moves else []:
            self.permits[permit_id] = moves[self.permits[permit_id]]
            self.events[("permit.status_changed", permit_id)] += 1
        for assurance_id in notice.assurance_ids:
            self.assurances[assurance_id].status = "breached"
            self.events[("assurance.breached", assurance_id)] += 1

    def message_posted(self, consultation_id: str, side: str, asks: bool) -> None:
        consultation = self.consultations[consultation_id]
        if consultation.status == "awaiting_response" and consultation.awaiting == side:
            consultation.status, consultation.awaiting = "open", None
        if asks:
            other = "counterpart" if side == "authority" else "authority"
            consultation.status, consultation.awaiting = "awaiting_response", other

    def add_observer(self, org: str) -> None:
        self.observers.add(org)
