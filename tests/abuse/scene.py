"""The scene every row of the catalogue plays in, and what a row may leave behind.

The world of ``tests.factories`` (CA-GAC ↔ TR-MFA observed by CA-CBSA; GB-ECJU ↔ FR-MEAE apart),
plus one object of each kind on each side: ours in the CA-GAC dialogue, theirs (another
organization's) in the GB-ECJU dialogue. Rows name them by key in their paths: ``{permit}``,
``{their_permit}``...
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import httpx
from sqlalchemy import LargeBinary, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from service.audit.models import AuditEntry
from service.consultations.models import Consultation
from service.db import utcnow
from service.models import metadata
from service.notices.models import DecisionNotice
from service.parties.models import ApiClient, User
from service.parties.repository import normalize
from service.permits.models import Permit
from service.webhooks.models import WebhookSubscription
from tests.domain import add_assurance, add_permits
from tests.factories import World

# The audit trail is checked entry by entry (``new_entries``); every other table must be left as
# it was, row for row, unless a row of the catalogue names it.
AUDIT_TABLES = {"audit_entry", "audit_head"}
WATCHED = [t for t in metadata.sorted_tables if t.name not in AUDIT_TABLES]


@dataclass
class Scene:
    app: Any
    client: httpx.AsyncClient
    world: World
    connection: AsyncConnection
    ids: dict[str, str] = field(default_factory=dict)

    def persona_headers(self, persona: str | None) -> dict[str, str]:
        return self.world.people[persona].headers if persona else {}

    def path(self, template: str) -> str:
        return template.format(**self.ids)


async def build_scene(
    app: Any, client: httpx.AsyncClient, world: World, connection: AsyncConnection
) -> Scene:
    scene = Scene(app, client, world, connection)
    ids = scene.ids
    ids |= {"dialogue": str(world.dialogue_id), "their_dialogue": str(world.other_dialogue_id)}
    [permit] = await add_permits(app, world, 1, prefix="OURS")
    assurance = await add_assurance(app, world, [permit.id], status="submitted")
    ids |= {"permit": str(permit.id), "assurance": str(assurance.id)}
    ids |= await add_objects(app, world, world.dialogue_id, "CA-GAC", world.officer.id, "our")
    ids |= await add_theirs(app, world)
    ids |= {
        "officer": str(world.officer.id),
        "tr_admin": str(world.tr_admin.id),
        "diplomat": str(world.diplomat.id),
        "their_user": str(world.other_auditor.id),
        "their_org": str(world.orgs["FR-MEAE"].id),
        "host_org": str(world.orgs["CA-GAC"].id),
        "tr_org": str(world.orgs["TR-MFA"].id),
    }
    return scene


async def add_theirs(app: Any, world: World) -> dict[str, str]:
    """Objects of the GB-ECJU ↔ FR-MEAE dialogue, where none of our personas belongs."""
    today = date.today()
    gb = world.orgs["GB-ECJU"].id
    permit = Permit(
        dialogue_id=world.other_dialogue_id,
        authority_id=gb,
        number="GB-0001",
        number_key=normalize("GB-0001"),
        exporter="Exporter Ltd",
        consignee="Consignee SA",
        end_user="French Army",
        destination_country="FR",
        items=[],
        valid_from=today - timedelta(days=1),
        valid_until=today + timedelta(days=30),
        status="active",
    )
    async with app.state.database.sessions() as session:
        session.add(permit)
        await session.commit()
    foreign = World(orgs=world.orgs, dialogue_id=world.other_dialogue_id)
    foreign.people["diplomat"] = world.other_admin
    assurance = await add_assurance(app, foreign, [permit.id], status="submitted")
    ids = await add_objects(app, world, world.other_dialogue_id, "GB-ECJU", world.other_admin.id)
    return ids | {"their_permit": str(permit.id), "their_assurance": str(assurance.id)}


async def add_objects(
    app: Any, world: World, dialogue_id: UUID, org: str, author: UUID, side: str = "their"
) -> dict[str, str]:
    """A consultation, a draft notice, a webhook and an API client of ``org``."""
    org_id = world.orgs[org].id
    rows = {
        "consultation": Consultation(
            dialogue_id=dialogue_id, subject="Optics", topic="general", opened_by_side="authority"
        ),
        "notice": DecisionNotice(
            dialogue_id=dialogue_id,
            kind="general",
            summary="A draft",
            rationale="Because",
            legal_basis="Export and Import Permits Act",
            drafted_by=author,
            author_ids=[str(author)],
        ),
        "webhook": WebhookSubscription(
            organization_id=org_id,
            url="https://receiver.example/hook",
            event_types=["notice.issued"],
            dialogue_ids=[],
            secret="sealed",
        ),
        "client": ApiClient(
            organization_id=org_id,
            name=f"{org} system",
            client_id=f"{org.lower()}-system",
            secret_digest="0" * 64,
            scopes=["permits:read"],
        ),
    }
    async with app.state.database.sessions() as session:
        session.add_all(rows.values())
        await session.commit()
    return {f"{side}_{name}": str(row.id) for name, row in rows.items()}


async def snapshot(scene: Scene) -> dict[str, list[str]]:
    """Every row of every table but the audit trail's, in a stable order: one statement."""
    dialect = scene.connection.dialect.name
    result = await scene.connection.execute(text(snapshot_statement(dialect)))
    return {
        name: sorted(json.dumps(row, sort_keys=True) for row in json.loads(rows or "[]"))
        for name, rows in result.all()
    }


@functools.cache
def snapshot_statement(dialect: str) -> str:
    """``SELECT name, <its rows as a JSON array>`` for each watched table, joined by UNION ALL."""
    parts = []
    for table in WATCHED:
        if dialect == "postgresql":
            rows = f"SELECT json_agg(t)::text FROM {table.name} t"
        else:  # SQLite's JSON holds no BLOB: those columns as hex
            columns = ", ".join(
                f'hex("{c.name}")' if isinstance(c.type, LargeBinary) else f'"{c.name}"'
                for c in table.columns
            )
            rows = f"SELECT json_group_array(json_array({columns})) FROM {table.name}"
        parts.append(f"SELECT '{table.name}', ({rows})")
    return " UNION ALL ".join(parts)


def changed_tables(before: dict[str, list], after: dict[str, list]) -> dict[str, int]:
    """The tables whose rows differ, each with its change in row count."""
    return {
        name: len(after[name]) - len(before[name]) for name in before if before[name] != after[name]
    }


async def audit_tip(scene: Scene) -> int:
    query = select(func.coalesce(func.max(AuditEntry.seq), 0))
    return (await scene.connection.execute(query)).scalar_one()


async def new_entries(scene: Scene, after_seq: int) -> list[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.seq > after_seq).order_by(AuditEntry.seq)
    async with scene.app.state.database.sessions() as session:
        return list((await session.scalars(query)).all())


async def chain_is_intact(scene: Scene) -> bool:
    head = await scene.connection.execute(text("SELECT seq FROM audit_head WHERE id = 1"))
    return head.scalar_one() == await audit_tip(scene)


async def deactivate_user(scene: Scene, persona: str) -> None:
    user_id = scene.world.people[persona].id
    await scene.connection.execute(
        User.__table__.update().where(User.id == user_id).values(active=False)
    )


def now_iso(days: int = 0) -> str:
    return (utcnow() + timedelta(days=days)).isoformat()
