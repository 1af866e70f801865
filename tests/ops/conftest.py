"""Fixtures of the operations tests."""

from __future__ import annotations

import pytest

from service import migrate


@pytest.fixture
async def own_url(empty_database_url) -> str:
    """A migrated database of this test's own (of the kind under test), so that cutting or
    locking it touches no other test's."""
    url = await empty_database_url()
    await migrate.upgrade_async(url)
    return url
