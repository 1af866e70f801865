"""Workers racing on the same deadline, and readers racing with writers (real commits)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from service.app import create_app
from service.consultations import service as consultation_service
from service.db import utcnow
from service.uow import UnitOfWork
from tests.consultations.helpers import events, in_days, open_consultation, post
from tests.factories import build_world, serving

pytestmark = pytest.mark.postgres_only


async def test_racing_workers_report_a_deadline_once(settings, committed_database):
    app = create_app(settings, database=committed_database)
    async with serving(app) as client:
        world = await build_world(app, client)
        for _ in range(3):
            cid = (await open_consultation(client, world))["id"]
            await post(client, world.officer, cid, "Answer?", response_requested_by=in_days(1))

        later = utcnow() + timedelta(days=2)
        runs = [
            consultation_service.flag_overdue(UnitOfWork(committed_database), now=later)
            for _ in range(4)
        ]
        counts = await asyncio.gather(*runs)

        assert sum(counts) == 3
        assert len(await events(app, "consultation.response_overdue")) == 3
