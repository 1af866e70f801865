"""The seed case's parties, set up through the service's own functions and REST API.

``service.demo.load`` creates the three organizations of the case (the licensing authority, the
counterpart ministry, the customs observer), their users and their dialogue; the observer also
gets an admin here, so that each organization can register its own webhooks. Everything after
that goes over the REST API of the app running in-process, as a government system would.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from service import demo, demo_story
from service.parties import bootstrap, repository
from service.uow import UnitOfWork

PASSWORD = "bench-password-2026"  # noqa: S105 - a throwaway database
OFFICER, APPROVER = "gac-officer", "gac-approver"
# One admin per organization of the dialogue: authority, counterpart, observer.
ADMINS = ("gac-admin", "tr-admin", "cbsa-admin")


async def seed(uow: UnitOfWork) -> str:
    """The parties and users of the seed case; the id of their dialogue."""
    result = await demo.load(uow, password=PASSWORD)
    host = await bootstrap.host_organization(uow)
    assert host is not None
    assert result.dialogue_id is not None
    admin = await demo.host_admin(uow, host)
    async with uow.reading() as session:
        observer = await repository.org_by_code(session, "CA-CBSA")
    assert observer is not None
    await demo.ensure_user(
        uow, admin, observer, "cbsa-admin", "CBSA Administrator", ["admin"], PASSWORD
    )
    return str(result.dialogue_id)


@dataclass
class Scene:
    api: demo_story.Api
    dialogue_id: str

    async def register_permits(self, count: int) -> list[str]:
        """``count`` active permits, registered in one bulk call."""
        permits = [
            {**permit, "number": f"BENCH-{n:04d}"}
            for n, permit in enumerate(demo_story.permits() * (count // 29 + 1))
        ][:count]
        path = f"/dialogues/{self.dialogue_id}/permits/bulk"
        answer = await self.api.call(OFFICER, "POST", path, {"permits": permits})
        return [permit["id"] for permit in answer["items"]]

    async def subscribe(self, admin: str, url: str, event_types: list[str]) -> dict[str, Any]:
        body = {"url": url, "event_types": event_types, "description": "bench"}
        return await self.api.call(admin, "POST", "/webhooks", body)

    async def unsubscribe(self, admin: str, webhook_id: str) -> None:
        await self.api.call(admin, "DELETE", f"/webhooks/{webhook_id}")

    async def draft(self, kind: str, permit_ids: list[str]) -> str:
        """A notice drafted by the officer; its id."""
        body = {
            "kind": kind,
            "permit_ids": permit_ids,
            "summary": f"Bench: {kind} of {len(permit_ids)} permit(s)",
            "rationale": "Benchmark of webhook delivery.",
            "legal_basis": "None: benchmark data.",
            "breached_assurance_ids": [],
        }
        draft = await self.api.call(OFFICER, "POST", f"/dialogues/{self.dialogue_id}/notices", body)
        return draft["id"]

    async def issue(self, notice_id: str) -> dict[str, Any]:
        """Issued by the approver, who did not draft it (four-eyes)."""
        return await self.api.call(APPROVER, "POST", f"/notices/{notice_id}/issue", {})

    async def sign_in_all(self) -> None:
        for username in (OFFICER, APPROVER, *ADMINS):
            await self.api.token(username)
