"""Builders for dialogue-domain rows, written straight to the database (no API involved).

Tests of one domain use them to set the scene with another domain's objects.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

from service.assurances.models import AssurancePermit, EndUseAssurance
from service.db import utcnow
from service.parties.repository import normalize
from service.permits.models import Permit
from tests.factories import World


def permit_body(number: str, **overrides: Any) -> dict[str, Any]:
    """A permit as the API takes it (SPEC section 3)."""
    today = date.today()
    body = {
        "number": number,
        "exporter": "Wescam Optics Inc.",
        "consignee": "Baykar Defence",
        "end_user": "Turkish Armed Forces",
        "destination_country": "TR",
        "items": [
            {
                "description": "MX-15D imaging and targeting turret",
                "control_entry": "2-5.a",
                "quantity": 2,
                "value": "1250000.00",
                "currency": "CAD",
            }
        ],
        "valid_from": (today - timedelta(days=30)).isoformat(),
        "valid_until": (today + timedelta(days=365)).isoformat(),
    }
    return body | overrides


async def add_permits(
    app: Any, world: World, count: int = 1, *, status: str = "active", prefix: str = "EXP"
) -> list[Permit]:
    """``count`` permits in the world's dialogue, registered by its authority."""
    today = date.today()
    rows = [
        Permit(
            dialogue_id=world.dialogue_id,
            authority_id=world.orgs["CA-GAC"].id,
            number=f"{prefix}-{index:04d}",
            number_key=normalize(f"{prefix}-{index:04d}"),
            exporter="Wescam Optics Inc.",
            consignee="Baykar Defence",
            end_user="Turkish Armed Forces",
            destination_country="TR",
            items=[
                {
                    "description": "imaging turret",
                    "control_entry": "2-5.a",
                    "quantity": 1,
                    "value": "100.00",
                    "currency": "CAD",
                }
            ],
            valid_from=today - timedelta(days=30),
            valid_until=today + timedelta(days=365),
            status=status,
        )
        for index in range(1, count + 1)
    ]
    async with app.state.database.sessions() as session:
        session.add_all(rows)
        await session.commit()
    return rows


async def add_assurance(
    app: Any, world: World, permit_ids: list[UUID], *, status: str = "accepted"
) -> EndUseAssurance:
    """A submitted-and-decided assurance from the counterpart covering ``permit_ids``."""
    now = utcnow()
    assurance = EndUseAssurance(
        dialogue_id=world.dialogue_id,
        status=status,
        end_user="Turkish Armed Forces",
        end_use="Own use by the armed forces; no re-export",
        destination_country="TR",
        retransfer_clause=True,
        valid_until=date.today() + timedelta(days=365),
        signatory_name="A. Diplomat",
        signatory_title="Director General",
        register_number="TR-EUC-2020-17",
        issue_date=date.today() - timedelta(days=60),
        consent_to_verification=True,
        submitted_by=world.diplomat.id,
        submitted_at=now,
    )
    async with app.state.database.sessions() as session:
        session.add(assurance)
        await session.flush()
        session.add_all(
            AssurancePermit(assurance_id=assurance.id, permit_id=pid) for pid in permit_ids
        )
        await session.commit()
    return assurance
