"""Races between real transactions on PostgreSQL: row locks keep every issue consistent."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from datetime import UTC, datetime

import pytest

from service.app import create_app
from tests.domain import add_permits
from tests.factories import build_world, serving
from tests.notices.helpers import draft, events, history, issue, new_user, statuses

pytestmark = pytest.mark.postgres_only


@pytest.fixture
async def live(settings, committed_database):
    """An app whose commits are real, its client and its world."""
    app = create_app(settings, database=committed_database)
    async with serving(app) as client:
        yield app, client, await build_world(app, client)


async def test_two_approvers_issuing_one_draft_at_once(live):
    app, client, world = live
    permits = await add_permits(app, world, 5)
    notice = await draft(client, world, "suspension", [p.id for p in permits])
    other = await new_user(app, client, world, "approver-2", ["approver"])
    responses = await asyncio.gather(
        issue(client, world.approver, notice["id"]), issue(client, other, notice["id"])
    )
    assert sorted(r.status_code for r in responses) == [200, 409]
    assert len(await events(app, "notice.issued")) == 1
    for permit in permits:
        assert len(await history(app, permit.id)) == 1


async def test_a_suspension_and_a_cancellation_racing_on_one_permit(live):
    app, client, world = live
    other = await new_user(app, client, world, "approver-2", ["approver"])
    for round_ in range(5):
        [permit] = await add_permits(app, world, 1, prefix=f"R{round_}")
        suspension = await draft(client, world, "suspension", [permit.id])
        cancellation = await draft(client, world, "cancellation", [permit.id])
        responses = await asyncio.gather(
            issue(client, world.approver, suspension["id"]),
            issue(client, other, cancellation["id"]),
        )
        codes = [r.status_code for r in responses]
        # Suspension first: both succeed. Cancellation first: the suspension cannot follow.
        assert codes in ([200, 200], [409, 200]), codes
        steps = await history(app, permit.id)
        assert len(steps) == codes.count(200)
        assert steps[0].from_status == "active"
        for before, after in itertools.pairwise(steps):
            assert after.from_status == before.to_status
        final = (await statuses(app, [permit.id]))[permit.number]
        assert final == steps[-1].to_status == "cancelled"


async def test_concurrent_issues_take_distinct_consecutive_references(live):
    app, client, world = live
    permits = await add_permits(app, world, 8)
    notices = [await draft(client, world, "suspension", [p.id]) for p in permits]
    responses = await asyncio.gather(*(issue(client, world.approver, n["id"]) for n in notices))
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    year = datetime.now(UTC).year
    references = Counter(r.json()["reference"] for r in responses)
    assert sorted(references) == [f"CA-GAC-{year}-{n:04d}" for n in range(1, 9)]
