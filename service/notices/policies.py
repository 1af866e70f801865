"""Pure rules of decision notices, shared by the API and the web client."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from service.auth.principal import Principal
from service.permits import transitions


def is_own_draft(caller: Principal, author_ids: list[str]) -> bool:
    """Four-eyes (SPEC section 2): whoever wrote or changed a draft may not also issue it."""
    return str(caller.id) in author_ids


@dataclass(frozen=True)
class Plan:
    """How issuing a notice of ``kind`` moves the permits it names."""

    moves: list[tuple[Any, str]]  # (permit, to_status), in the notice's order
    blocked: list[Any]  # permits that cannot make the transition


def plan(kind: str, permits: list[Any]) -> Plan:
    if kind == "general":  # a general notice names permits without changing them
        return Plan([], [])
    moves, blocked = [], []
    for permit in permits:
        to_status = transitions.target_status(kind, permit.status)
        if to_status is None:
            blocked.append(permit)
        else:
            moves.append((permit, to_status))
    return Plan(moves, blocked)


def describe_blocked(kind: str, blocked: list[Any]) -> str:
    named = ", ".join(f"{permit.number} ({permit.status})" for permit in blocked)
    return f"A {kind} notice cannot move {len(blocked)} of its permits: {named}."
