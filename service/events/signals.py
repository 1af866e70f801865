"""Waking the webhook workers the moment there is something to send, instead of polling slowly.

On PostgreSQL a committing transaction sends ``NOTIFY entente_wake`` (delivered only if it
commits), which workers in any process ``LISTEN`` for. In one process (the embedded default on
SQLite, where ``entente serve`` runs the worker beside the API) an asyncio event does the same.
Workers still poll at a modest interval, so a lost wake-up only delays, never loses, a delivery.
"""

from __future__ import annotations

import asyncio
import weakref

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

CHANNEL = "entente_wake"
_listeners: weakref.WeakSet[asyncio.Event] = weakref.WeakSet()


async def notify_in_transaction(session: AsyncSession) -> None:
    if session.bind.dialect.name == "postgresql":
        await session.execute(text(f"NOTIFY {CHANNEL}"))


def wake_local() -> None:
    for event in list(_listeners):
        event.set()


def listen_local() -> asyncio.Event:
    """An event set at every local commit that gives workers work; keep a reference to it."""
    event = asyncio.Event()
    _listeners.add(event)
    return event
