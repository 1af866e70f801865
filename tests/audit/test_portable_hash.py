"""What the database stores hashes as it did in memory, on SQLite and PostgreSQL alike."""

import pytest

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
