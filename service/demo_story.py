"""The seed case, played over the REST API by the three organizations (illustrative data).

Everything below is ILLUSTRATIVE: the permits, numbers, names and texts are invented to retell
the published case (``shared/seed``) — 29 permits for drone imaging and targeting components,
the counterpart's end-use assurance, the allegation, a suspension, the counterpart's answer and a
cancellation finding the assurance breached — not copies of any real record.

It talks HTTP to the application in-process (httpx's ASGI transport), exactly as the
governments' systems would, so it also proves the case can be played through the API alone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

ILLUSTRATIVE = "[Illustrative demo data] "
PERMIT_COUNT = 29


class DemoFailed(RuntimeError):
    pass


class Api:
    """A small client that signs each persona in once and fails loudly on any error."""

    def __init__(self, http: httpx.AsyncClient, password: str) -> None:
        self.http = http
        self.password = password
        self.tokens: dict[str, str] = {}

    async def token(self, username: str) -> str:
        if username not in self.tokens:
            form = {"grant_type": "password", "username": username, "password": self.password}
            self.tokens[username] = (await self.check(self.http.post("/oauth/token", data=form)))[
                "access_token"
            ]
        return self.tokens[username]

    async def call(self, username: str, method: str, path: str, body: Any = None) -> Any:
        headers = {"Authorization": f"Bearer {await self.token(username)}"}
        request = self.http.request(method, f"/api/v1{path}", json=body, headers=headers)
        return await self.check(request)

    @staticmethod
    async def check(pending: Any) -> Any:
        response = await pending
        if response.status_code >= 400:
            raise DemoFailed(
                f"{response.request.method} {response.request.url.path}: "
                f"{response.status_code} {response.text[:500]}"
            )
        return response.json() if response.content else None


def permits() -> list[dict[str, Any]]:
    today = date.today()
    return [
        {
            "number": f"GAC-EXP-2019-{4100 + n}",
            "exporter": "Northern Optics Ltd. (illustrative)",
            "consignee": "Anatolian Airframes A.S. (illustrative)",
            "end_user": "Turkish Armed Forces",
            "destination_country": "TR",
            "items": [
                {
                    "description": "Electro-optical imaging and targeting turret for UAV",
                    "control_entry": "2-5.a",
                    "quantity": 2 + n % 3,
                    "value": "845000.00",
                    "currency": "CAD",
                }
            ],
            "valid_from": (today - timedelta(days=400)).isoformat(),
            "valid_until": (today + timedelta(days=700)).isoformat(),
        }
        for n in range(1, PERMIT_COUNT + 1)
    ]


def assurance_certificate(permit_ids: list[str]) -> dict[str, Any]:
    return {
        "end_user": "Turkish Armed Forces",
        "end_use": ILLUSTRATIVE + "For integration on UAVs operated by the Turkish Armed Forces "
        "for national defence only.",
        "destination_country": "TR",
        "retransfer_clause": True,
        "valid_until": (date.today() + timedelta(days=700)).isoformat(),
        "signatory": {"name": "Ayşe Demir (illustrative)", "title": "Director General"},
        "register_number": "TR-EUC-2019-0317",
        "issue_date": (date.today() - timedelta(days=380)).isoformat(),
        "consent_to_verification": True,
    }


def later(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


async def play(http: httpx.AsyncClient, *, dialogue_id: str, password: str) -> dict[str, Any]:
    """Play the case; returns the ids a reader may want to look at."""
    api = Api(http, password)
    gac, tr = "gac-officer", "tr-diplomat"
    d = f"/dialogues/{dialogue_id}"
    registered = await api.call(gac, "POST", f"{d}/permits/bulk", {"permits": permits()})
    permit_ids = [permit["id"] for permit in registered["items"]]
    request = await api.call(
        gac, "POST", f"{d}/assurances", {"permit_ids": permit_ids, "due_at": later(30)}
    )
    assurance = await api.call(
        tr, "POST", f"/assurances/{request['id']}/submit", assurance_certificate(permit_ids)
    )
    await api.call(gac, "POST", f"/assurances/{assurance['id']}/accept", {})
    consultation = await api.call(
        gac,
        "POST",
        f"{d}/consultations",
        {
            "subject": ILLUSTRATIVE
            + "Reports of Canadian-made UAV optics in a third country's war",
            "topic": "allegation",
            "permit_ids": permit_ids,
            "assurance_ids": [assurance["id"]],
        },
    )
    thread = f"/consultations/{consultation['id']}"
    await api.call(
        gac,
        "POST",
        f"{thread}/messages",
        {
            "body": ILLUSTRATIVE
            + "Open-source reports show UAVs fitted with optics exported under "
            "these permits in use in the Nagorno-Karabakh conflict. Please explain how this is "
            "consistent with the end-use assurance.",
            "classification": "PROTECTED A",
            "response_requested_by": later(14),
        },
    )
    suspension = await issue(
        api,
        d,
        {
            "kind": "suspension",
            "permit_ids": permit_ids,
            "summary": ILLUSTRATIVE + "Suspension of 29 permits pending review",
            "rationale": "Credible reports of use outside the assured end use; review opened.",
            "legal_basis": "Export and Import Permits Act, s. 10 (illustrative citation)",
            "breached_assurance_ids": [],
        },
    )
    await api.call(tr, "POST", f"/notices/{suspension['id']}/acknowledge", {})
    await api.call(
        tr,
        "POST",
        f"{thread}/messages",
        {
            "body": ILLUSTRATIVE + "The systems were delivered to and remain under the control of "
            "the Turkish Armed Forces. We request that the suspension be lifted.",
            "classification": "PROTECTED A",
        },
    )
    await api.call(gac, "POST", f"{thread}/read", {})
    cancellation = await issue(
        api,
        d,
        {
            "kind": "cancellation",
            "permit_ids": permit_ids,
            "summary": ILLUSTRATIVE + "Cancellation of 29 permits: end-use assurance breached",
            "rationale": "The review found credible evidence that the exported optics were used "
            "in Nagorno-Karabakh, inconsistent with the end-use assurance given.",
            "legal_basis": "Export and Import Permits Act, s. 10 (illustrative citation)",
            "breached_assurance_ids": [assurance["id"]],
            "supersedes_id": suspension["id"],
        },
    )
    await api.call(tr, "POST", f"/notices/{cancellation['id']}/acknowledge", {})
    await api.call(gac, "POST", f"{thread}/close", {"outcome": "unfavorable"})
    return {
        "permits": len(permit_ids),
        "assurance": assurance["id"],
        "consultation": consultation["id"],
        "suspension": suspension["reference"],
        "cancellation": cancellation["reference"],
    }


async def issue(api: Api, dialogue_path: str, notice: dict[str, Any]) -> dict[str, Any]:
    """Drafted by an officer, issued by an approver (four-eyes)."""
    draft = await api.call("gac-officer", "POST", f"{dialogue_path}/notices", notice)
    return await api.call("gac-approver", "POST", f"/notices/{draft['id']}/issue", {})
