"""The seed case, played end to end over the REST API by the three organizations."""

from __future__ import annotations

from service import demo
from service.uow import UnitOfWork
from tests.factories import http_client

PASSWORD = "demo password for tests"


async def play(app, settings):
    uow = UnitOfWork(app.state.database)
    loaded = await demo.load(uow, password=PASSWORD)
    story = await demo.play_story(uow, settings, loaded.dialogue_id, PASSWORD)
    return loaded, story


async def token(client, username: str) -> dict[str, str]:
    form = {"grant_type": "password", "username": username, "password": PASSWORD}
    response = await client.post("/oauth/token", data=form)
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def test_the_case_ends_with_29_cancelled_permits_and_a_breached_assurance(app, settings):
    loaded, story = await play(app, settings)
    assert story["permits"] == 29
    async with http_client(app) as client:
        officer = await token(client, "gac-officer")
        base = f"/api/v1/dialogues/{loaded.dialogue_id}"
        permits = (await client.get(f"{base}/permits?limit=50", headers=officer)).json()["items"]
        assert [p["status"] for p in permits] == ["cancelled"] * 29
        history = await client.get(f"/api/v1/permits/{permits[0]['id']}/history", headers=officer)
        steps = [(h["from_status"], h["to_status"]) for h in history.json()["items"]]
        assert steps == [("active", "suspended"), ("suspended", "cancelled")]
        assurance = await client.get(f"/api/v1/assurances/{story['assurance']}", headers=officer)
        assert assurance.json()["status"] == "breached"
        thread = await client.get(f"/api/v1/consultations/{story['consultation']}", headers=officer)
        assert thread.json()["status"] == "closed"
        notices = (await client.get(f"{base}/notices", headers=officer)).json()["items"]
        assert {(n["kind"], n["status"]) for n in notices} == {
            ("suspension", "acknowledged"),
            ("cancellation", "acknowledged"),
        }


async def test_customs_learns_of_every_permit_change_and_nothing_else(app, settings):
    await play(app, settings)
    async with http_client(app) as client:
        customs = await token(client, "cbsa-officer")
        events = (await client.get("/api/v1/events?limit=200", headers=customs)).json()["items"]
    kinds = {event["type"] for event in events}
    assert kinds == {
        "permit.registered",
        "permit.status_changed",
        "notice.issued",
        "notice.acknowledged",
    }
    changes = [e for e in events if e["type"] == "permit.status_changed"]
    assert len(changes) == 58  # 29 suspended, then 29 cancelled
    issued = [e for e in events if e["type"] == "notice.issued"]
    assert all(e["data"]["jws"].count(".") == 2 for e in issued)


async def test_the_audit_trail_of_the_case_verifies(app, settings):
    await play(app, settings)
    async with http_client(app) as client:
        auditor = await token(client, "tr-auditor")
        result = (await client.get("/api/v1/audit/verify", headers=auditor)).json()
    assert result["valid"] is True
    assert result["entries"] > 100


async def test_loading_twice_changes_nothing(app):
    uow = UnitOfWork(app.state.database)
    assert (await demo.load(uow, password=PASSWORD)).created is True
    assert (await demo.load(uow, password=PASSWORD)).created is False


async def test_a_story_cut_short_is_played_on_the_next_run(app):
    uow = UnitOfWork(app.state.database)
    first = await demo.load(uow, password=PASSWORD)  # parties only: the story never ran
    again = await demo.load(uow, password=PASSWORD)
    assert (again.created, again.story_needed) == (False, True)
    assert again.dialogue_id == first.dialogue_id
