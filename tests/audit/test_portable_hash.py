"""What the database stores hashes as it did in memory, on SQLite and PostgreSQL alike."""

import json
from uuid import uuid4

import pytest
from sqlalchemy import select

from service.audit.chain import canonical
from service.audit.models import AuditEntry
from service.uow import UnitOfWork
from tests.audit.helpers import verify

AWKWARD_DETAILS = [
    {"value": 1e20, "quantity": 1.5e300},
    {"ratio": 1e-7, "share": 0.1, "whole": 100.0},
    {"zero": -0.0, "big_int": 2**70, "negative": -12.5},
    {
        "name": "T\u00fcrkiye D\u0131\u015fi\u015fleri Bakanl\u0131\u011f\u0131",
        "emoji": "🛰",
        "quote": '"\\',
    },
    {"nested": {"z": [1, 2.5, None, True], "a": {"b": []}}},
]


@pytest.mark.parametrize("details", AWKWARD_DETAILS)
async def test_stored_entry_still_verifies(client, world, app, details):
    async with UnitOfWork(app.state.database).transaction() as tx:
        tx.audit("test.awkward", details=details)
    result = await verify(client, world.auditor)
    assert result["valid"] is True, result


@pytest.mark.parametrize("details", AWKWARD_DETAILS)
async def test_columns_read_back_what_was_hashed(app, details):
    """The generated columns hold the hashed JSON's values, in each database's own types."""
    async with UnitOfWork(app.state.database).transaction() as tx:
        tx.audit("test.awkward", details=details, dialogue_id=uuid4(), entity_id="é 🛰")
    async with app.state.database.sessions() as session:
        entry = await session.scalar(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1))
    assert canonical(entry).decode() == entry.canonical
    assert entry.details == json.loads(entry.canonical)["details"]
