"""Decisions racing on one assurance: the row lock lets exactly one through (PostgreSQL)."""

from __future__ import annotations

import asyncio

import pytest

from service.app import create_app
from service.assurances import service as assurance_service
from service.errors import StateConflict
from service.uow import UnitOfWork
from tests.assurances.helpers import events, stored
from tests.domain import add_assurance, add_permits
from tests.factories import build_world, http_client, running


@pytest.fixture
async def real_app(settings, committed_database):
    async with running(create_app(settings, database=committed_database)) as application:
        yield application


async def outcome(work) -> str:
    try:
        await work
    except StateConflict:
        return "conflict"
    return "done"


@pytest.mark.postgres_only
async def test_accept_reject_and_withdraw_at_once_one_wins(real_app):
    async with http_client(real_app) as client:
        world = await build_world(real_app, client)
    permits = await add_permits(real_app, world, 1)
    assurance = await add_assurance(real_app, world, [permits[0].id], status="submitted")
    uow = UnitOfWork(real_app.state.database)
    officer, diplomat = world.officer.principal, world.diplomat.principal

    def attempts():
        return [
            assurance_service.accept(uow, officer, assurance_id=assurance.id),
            assurance_service.reject(uow, officer, assurance_id=assurance.id, reason="no"),
            assurance_service.withdraw(uow, diplomat, assurance_id=assurance.id),
        ]

    results = await asyncio.gather(*(outcome(w) for _ in range(3) for w in attempts()))

    assert sorted(results) == ["conflict"] * 8 + ["done"]
    final = (await stored(real_app, assurance.id)).status
    assert [e.data["status"] for e in await events(real_app)] == [final]
