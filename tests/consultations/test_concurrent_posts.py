"""Many messages posted at once, with real commits: each lands, once, in one unbroken chain.

On SQLite the writers of one process queue on ``Database.writing`` instead of SQLite's busy
handler; on PostgreSQL they serialize on the consultation row and the audit and outbox heads.
"""

from __future__ import annotations

import asyncio
from uuid import UUID

from service.app import create_app
from service.audit import service as audit_service
from service.consultations.models import Message
from tests.consultations.helpers import count, events, open_consultation, post
from tests.factories import build_world, serving

WRITERS = 32


async def test_concurrent_posts_all_land_in_one_chain(settings, committed_database):
    app = create_app(settings, database=committed_database)
    async with serving(app) as client:
        world = await build_world(app, client)
        cid = (await open_consultation(client, world))["id"]
        authors = [world.officer, world.diplomat]
        posts = [post(client, authors[n % 2], cid, f"Message {n}") for n in range(WRITERS)]

        posted = await asyncio.wait_for(asyncio.gather(*posts), timeout=60)

        assert len({message["id"] for message in posted}) == WRITERS
        assert await count(app, Message, Message.consultation_id == UUID(cid)) == WRITERS
        assert len(await events(app, "consultation.message_posted")) == WRITERS
        async with committed_database.sessions() as session:
            verification = await audit_service.verify(session)
        assert verification.valid, verification.reason
