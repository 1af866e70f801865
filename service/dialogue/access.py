"""The caller's standing in a dialogue, and the access table of SPEC section 2.

Every use case of the dialogue domains starts with ``standing(...)``: it loads the dialogue only
if the caller's organization is a party to it (else 404, like an id that does not exist) and
says on which side the caller stands. ``require(...)`` then checks the table below; the web
client calls the same functions, so the rules live in one place.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar
from uuid import UUID

from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.auth.principal import Principal
from service.errors import NotAllowed, NotFound
from service.parties import repository
from service.parties.models import Dialogue

T = TypeVar("T")


class Side(StrEnum):
    AUTHORITY = "authority"
    COUNTERPART = "counterpart"
    OBSERVER = "observer"


class Action(StrEnum):
    READ_PERMITS = "read_permits"
    REGISTER_PERMITS = "register_permits"
    READ_ASSURANCES = "read_assurances"
    REQUEST_ASSURANCE = "request_assurance"
    SUBMIT_ASSURANCE = "submit_assurance"
    DECIDE_ASSURANCE = "decide_assurance"
    READ_CONSULTATIONS = "read_consultations"
    CONSULT = "consult"  # open a consultation, post a message, mark read
    CLOSE_CONSULTATION = "close_consultation"
    READ_NOTICES = "read_notices"
    DRAFT_NOTICE = "draft_notice"
    ISSUE_NOTICE = "issue_notice"
    ACKNOWLEDGE_NOTICE = "acknowledge_notice"
    READ_EVENTS = "read_events"


AUT, CTP, OBS = Side.AUTHORITY, Side.COUNTERPART, Side.OBSERVER
ANY_ROLE = frozenset({"officer", "approver", "diplomat", "auditor", "admin"})

# action -> (sides allowed, user roles allowed, client scope that grants it or None)
TABLE: dict[Action, tuple[frozenset[Side], frozenset[str], str | None]] = {
    Action.READ_PERMITS: (frozenset({AUT, CTP, OBS}), ANY_ROLE, "permits:read"),
    Action.REGISTER_PERMITS: (frozenset({AUT}), frozenset({"officer"}), "permits:write"),
    Action.READ_ASSURANCES: (frozenset({AUT, CTP}), ANY_ROLE, "assurances:read"),
    Action.REQUEST_ASSURANCE: (frozenset({AUT}), frozenset({"officer"}), "assurances:write"),
    Action.SUBMIT_ASSURANCE: (
        frozenset({CTP}),
        frozenset({"officer", "diplomat"}),
        "assurances:write",
    ),
    Action.DECIDE_ASSURANCE: (frozenset({AUT}), frozenset({"officer"}), "assurances:write"),
    Action.READ_CONSULTATIONS: (frozenset({AUT, CTP}), ANY_ROLE, "consultations:read"),
    Action.CONSULT: (
        frozenset({AUT, CTP}),
        frozenset({"officer", "diplomat"}),
        "consultations:write",
    ),
    Action.CLOSE_CONSULTATION: (
        frozenset({AUT, CTP}),
        frozenset({"officer"}),
        "consultations:write",
    ),
    Action.READ_NOTICES: (frozenset({AUT, CTP, OBS}), ANY_ROLE, "notices:read"),
    Action.DRAFT_NOTICE: (frozenset({AUT}), frozenset({"officer"}), "notices:write"),
    # No scope: an API client never issues a decision; a human approver signs it off.
    Action.ISSUE_NOTICE: (frozenset({AUT}), frozenset({"approver"}), None),
    Action.ACKNOWLEDGE_NOTICE: (
        frozenset({CTP}),
        frozenset({"officer", "diplomat"}),
        "notices:acknowledge",
    ),
    Action.READ_EVENTS: (frozenset({AUT, CTP, OBS}), ANY_ROLE, "events:read"),
}

# What each side may see at all: observers never see assurances or consultations.
VISIBLE_TO_OBSERVERS = frozenset({Action.READ_PERMITS, Action.READ_NOTICES, Action.READ_EVENTS})


LABELS = {"end_use_assurance": "end-use assurance", "decision_notice": "notice"}


@dataclass(frozen=True)
class Standing:
    dialogue: Dialogue
    side: Side


def side_of(org_id: UUID, dialogue: Dialogue, observer: bool) -> Side | None:
    if org_id == dialogue.authority_id:
        return Side.AUTHORITY
    if org_id == dialogue.counterpart_id:
        return Side.COUNTERPART
    return Side.OBSERVER if observer else None


def allows(caller: Principal, side: Side, action: Action) -> bool:
    sides, roles, scope = TABLE[action]
    if side not in sides:
        return False
    if caller.kind == "client":
        return scope is not None and caller.has_scope(scope)
    return bool(caller.roles & roles)


def may_see(side: Side, action: Action) -> bool:
    """Whether the side may know that things of this kind exist (else they answer 404)."""
    return side is not Side.OBSERVER or action in VISIBLE_TO_OBSERVERS


def require(caller: Principal, standing: Standing, action: Action) -> None:
    if not allows(caller, standing.side, action):
        error = NotAllowed(f"Your side or role may not {action.value.replace('_', ' ')} here.")
        error.dialogue_id = standing.dialogue.id  # the dialogue's auditors see the refusal
        raise error


async def standing(session: AsyncSession, caller: Principal, dialogue_id: UUID) -> Standing:
    dialogue = await repository.get_visible_dialogue(session, caller, dialogue_id)
    if dialogue is None:
        raise NotFound("dialogue", dialogue_id)
    side = side_of(caller.org_id, dialogue, observer=True)
    assert side is not None  # visible means party or observer
    return Standing(dialogue, side)


async def standing_for_reading(
    session: AsyncSession, caller: Principal, dialogue_id: UUID, action: Action
) -> Standing:
    """The dialogue's standing, where things of ``action``'s kind must be visible to the side."""
    found = await standing(session, caller, dialogue_id)
    if not may_see(found.side, action):
        raise NotFound("dialogue", dialogue_id)
    return found


async def permitted(
    session: AsyncSession, caller: Principal, dialogue_id: UUID, action: Action
) -> Standing:
    """The caller's standing, once it is known the caller may do ``action`` in the dialogue."""
    found = await standing_for_reading(session, caller, dialogue_id, action)
    require(caller, found, action)
    return found


@functools.lru_cache(maxsize=64)
def scoped_query(model: type[T], for_update: bool) -> Select[tuple[T, Dialogue]]:
    """``model``'s row by ``:entity_id`` with its dialogue, if ``:org_id`` may see that dialogue.

    Built once per model: building it per request cost more than running it. The visibility
    condition is on the joined dialogue itself, no subquery.
    """
    query = (
        select(model, Dialogue)
        .join(Dialogue, model.dialogue_id == Dialogue.id)  # type: ignore[attr-defined]
        .where(
            model.id == bindparam("entity_id"),  # type: ignore[attr-defined]
            repository.visible_to(bindparam("org_id")),
        )
    )
    return query.with_for_update(of=model) if for_update else query


async def load_scoped(
    session: AsyncSession,
    caller: Principal,
    model: type[T],
    entity_id: UUID,
    action: Action,
    *,
    for_update: bool = False,
) -> tuple[T, Standing]:
    """A dialogue-scoped row and the caller's standing, or 404 when the caller may not know it."""
    query = scoped_query(model, for_update)
    parameters = {"entity_id": entity_id, "org_id": caller.org_id}
    row = (await session.execute(query, parameters)).first()
    name = model.__tablename__  # type: ignore[attr-defined]
    label = LABELS.get(name)
    if row is None:
        raise NotFound(name, entity_id, label=label)
    entity, dialogue = row
    side = side_of(caller.org_id, dialogue, observer=True)
    if side is None or not may_see(side, action):
        raise NotFound(name, entity_id, label=label)
    return entity, Standing(dialogue, side)
