"""Reading the audit trail as an auditor would, and touching it as an intruder would."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

from sqlalchemy import delete, func, select, update

from service.audit.chain import canonical, link
from service.audit.models import AuditEntry, AuditHead
from tests.factories import PASSWORD


async def all_entries(client, persona, **params: Any) -> list[dict]:
    """Every entry the persona may read, following ``next_cursor`` to the end."""
    items: list[dict] = []
    query = {"limit": 200, **params}
    while True:
        response = await client.get("/api/v1/audit", params=query, headers=persona.headers)
        assert response.status_code == 200, response.text
        items += response.json()["items"]
        if not response.json()["next_cursor"]:
            return items
        query["cursor"] = response.json()["next_cursor"]


async def verify(client, persona) -> dict:
    response = await client.get("/api/v1/audit/verify", headers=persona.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def entry_count(database) -> int:
    async with database.sessions() as session:
        return await session.scalar(select(func.count()).select_from(AuditEntry))


async def head(database) -> tuple[int, str]:
    async with database.sessions() as session:
        row = (await session.execute(select(AuditHead.seq, AuditHead.hash))).one()
    return row.seq, row.hash


async def rewrite(database, seq: int, rehash: bool = False, **values: Any) -> None:
    """Edit an entry's fields as an intruder would: in the JSON its columns are generated from
    (the columns themselves cannot be written). ``rehash`` also gives it a matching hash."""
    async with database.sessions() as session:
        entry = await session.get(AuditEntry, seq)
        fields = json.loads(entry.canonical) | values
        text = canonical(SimpleNamespace(**fields)).decode()
        new = {"canonical": text} | ({"hash": link(entry.prev_hash, text)} if rehash else {})
        await session.execute(update(AuditEntry).where(AuditEntry.seq == seq).values(**new))
        await session.commit()


async def remove(database, *seqs: int) -> None:
    async with database.sessions() as session:
        await session.execute(delete(AuditEntry).where(AuditEntry.seq.in_(seqs)))
        await session.commit()


async def create_user(client, admin, org_id, username: str, roles=("officer",)) -> dict:
    body = {
        "organization_id": str(org_id),
        "username": username,
        "display_name": username,
        "password": PASSWORD,
        "roles": list(roles),
    }
    response = await client.post("/api/v1/users", json=body, headers=admin.headers)
    assert response.status_code == 201, response.text
    return response.json()
