"""A change and its audit entry commit together or not at all."""

import pytest
from sqlalchemy import select

from service import journal
from service.parties.models import Organization
from service.uow import UnitOfWork
from tests.audit.helpers import entry_count, head, verify


class Boom(Exception):
    pass


def new_org(code: str = "XX-GHOST") -> Organization:
    return Organization(
        code=code, code_key=code.casefold(), name="Ghost", country="XX", kind="observer"
    )


async def org_exists(app, code: str) -> bool:
    async with app.state.database.sessions() as session:
        found = await session.scalar(select(Organization).where(Organization.code == code))
    return found is not None


async def assert_untouched(client, world, app, before_count, before_head) -> None:
    assert not await org_exists(app, "XX-GHOST")
    assert await entry_count(app.state.database) == before_count
    assert await head(app.state.database) == before_head
    assert (await verify(client, world.auditor))["valid"] is True


async def create_then_fail(database) -> None:
    """A use case that fails after its change and audit entry are in the session."""
    async with UnitOfWork(database).transaction() as tx:
        org = new_org()
        tx.session.add(org)
        await tx.session.flush()
        tx.audit("organization.created", org, details={"code": org.code})
        raise Boom


async def create_ghost(database) -> None:
    async with UnitOfWork(database).transaction() as tx:
        org = new_org()
        tx.session.add(org)
        tx.audit("organization.created", org)


async def audit_then_fail(database) -> None:
    async with UnitOfWork(database).transaction() as tx:
        tx.audit("test.rolled_back")
        raise Boom


async def test_failure_after_audit_leaves_nothing(client, world, app):
    count, tip = await entry_count(app.state.database), await head(app.state.database)
    with pytest.raises(Boom):
        await create_then_fail(app.state.database)
    await assert_untouched(client, world, app, count, tip)


async def test_failed_commit_after_chaining_leaves_nothing(client, world, app, monkeypatch):
    count, tip = await entry_count(app.state.database), await head(app.state.database)
    real_record = journal.record

    async def record_then_fail(connection, pending, events, context, rows=(), **_options):
        await real_record(connection, pending, events, context, rows)  # and no COMMIT with it
        raise Boom  # the entries, the moved head and the events are in the database now

    monkeypatch.setattr(journal, "record", record_then_fail)
    with pytest.raises(Boom):
        await create_ghost(app.state.database)
    await assert_untouched(client, world, app, count, tip)


async def test_next_writer_continues_the_chain_after_a_rollback(client, world, app):
    seq, _ = await head(app.state.database)
    with pytest.raises(Boom):
        await audit_then_fail(app.state.database)
    async with UnitOfWork(app.state.database).transaction() as tx:
        tx.audit("test.kept")
    assert (await head(app.state.database))[0] == seq + 1
    assert (await verify(client, world.auditor))["valid"] is True


async def test_refused_change_writes_no_change_entry(client, world, app):
    count, tip = await entry_count(app.state.database), await head(app.state.database)
    body = {"code": "tr-mfa", "name": "Copy", "country": "TR", "kind": "counterpart_ministry"}
    response = await client.post(
        "/api/v1/organizations", json=body, headers=world.host_admin.headers
    )
    assert response.status_code == 409, response.text
    assert await entry_count(app.state.database) == count
    assert await head(app.state.database) == tip
