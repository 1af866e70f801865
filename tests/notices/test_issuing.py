"""Issuing: four-eyes, each kind's transitions, and all-or-nothing."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from service.errors import ServiceError
from service.events.models import OutboxEvent
from service.notices.models import DecisionNotice
from tests.api.support import assert_problem
from tests.domain import add_assurance, add_permits
from tests.factories import audit_actions
from tests.notices.helpers import (
    acknowledge,
    assurance_status,
    audit_entries,
    count,
    count_history,
    draft,
    drafted_and_issued,
    events,
    history,
    issue,
    new_user,
    rows,
    statuses,
)

KINDS = [
    ("suspension", "active", "suspended"),
    ("reinstatement", "suspended", "active"),
    ("cancellation", "active", "cancelled"),
    ("cancellation", "suspended", "cancelled"),
]


@pytest.mark.parametrize(("kind", "before", "after"), KINDS)
async def test_each_kind_moves_its_permits(app, client, world, kind, before, after):
    permits = await add_permits(app, world, 3, status=before)
    ids = [p.id for p in permits]
    issued = await drafted_and_issued(client, world, kind, ids)
    assert issued["status"] == "issued"
    assert issued["issued_by"] == str(world.approver.id)
    assert [(p["from_status"], p["to_status"]) for p in issued["permits"]] == [(before, after)] * 3
    assert set((await statuses(app, ids)).values()) == {after}
    for permit in permits:
        [step] = await history(app, permit.id)
        assert (step.from_status, step.to_status) == (before, after)
        assert str(step.notice_id) == issued["id"]
    changed = await events(app, "permit.status_changed")
    assert [e.data["notice_reference"] for e in changed] == [issued["reference"]] * 3


FORBIDDEN = [
    ("suspension", "suspended"),
    ("suspension", "cancelled"),
    ("suspension", "expired"),
    ("reinstatement", "active"),
    ("reinstatement", "cancelled"),
    ("cancellation", "cancelled"),
    ("cancellation", "expired"),
]


@pytest.mark.parametrize(("kind", "status"), FORBIDDEN)
async def test_each_forbidden_transition_is_a_conflict(app, client, world, kind, status):
    [permit] = await add_permits(app, world, 1, status=status)
    notice = await draft(client, world, kind, [permit.id])
    problem = assert_problem(await issue(client, world.approver, notice["id"]), 409)
    assert problem["permits"] == [{"id": str(permit.id), "number": "EXP-0001", "status": status}]
    assert await statuses(app, [permit.id]) == {"EXP-0001": status}
    assert await count_history(app) == 0
    stored = await client.get(f"/api/v1/notices/{notice['id']}", headers=world.officer.headers)
    assert stored.json() == notice


async def test_a_general_notice_changes_no_permit(app, client, world):
    [permit] = await add_permits(app, world, 1, status="suspended")
    issued = await drafted_and_issued(client, world, "general", [permit.id])
    assert issued["permits"][0]["from_status"] is None
    assert await statuses(app, [permit.id]) == {"EXP-0001": "suspended"}
    assert await count_history(app) == 0


async def test_one_cancelled_permit_among_29_changes_nothing(app, client, world):
    permits = await add_permits(app, world, 28)
    [done] = await add_permits(app, world, 1, status="cancelled", prefix="OLD")
    assurance = await add_assurance(app, world, [p.id for p in permits])
    ids = [p.id for p in permits[:14]] + [done.id] + [p.id for p in permits[14:]]
    notice = await draft(
        client, world, "cancellation", ids, breached_assurance_ids=[str(assurance.id)]
    )
    events_before = await count(app, OutboxEvent)
    audit_before = await audit_actions(app)

    problem = assert_problem(await issue(client, world.approver, notice["id"]), 409)

    assert problem["permits"] == [{"id": str(done.id), "number": "OLD-0001", "status": "cancelled"}]
    assert "OLD-0001 (cancelled)" in problem["detail"]
    assert set((await statuses(app, [p.id for p in permits])).values()) == {"active"}
    assert await count_history(app) == 0
    assert await count(app, OutboxEvent) == events_before
    assert await audit_actions(app) == audit_before  # a 409 is no denial: nothing is written
    assert (await assurance_status(app, assurance.id)).status == "accepted"
    [row] = await rows(app, select(DecisionNotice))
    assert (row.status, row.reference, row.signed_jws) == ("draft", None, None)


async def test_breached_assurances_are_marked_and_announced(app, client, world):
    permits = await add_permits(app, world, 2)
    assurance = await add_assurance(app, world, [p.id for p in permits])
    issued = await drafted_and_issued(
        client, world, "cancellation", [p.id for p in permits],
        breached_assurance_ids=[str(assurance.id)],
    )  # fmt: skip
    stored = await assurance_status(app, assurance.id)
    assert (stored.status, str(stored.breached_by_notice_id)) == ("breached", issued["id"])
    [event] = await events(app, "assurance.breached")
    assert event.data["status"] == "breached"
    assert event.data["breached_by_notice_id"] == issued["id"]
    assert sorted(event.data["permit_ids"]) == sorted(str(p.id) for p in permits)
    assert len(await audit_entries(app, "assurance.breached")) == 1


@pytest.mark.parametrize("status", ["submitted", "rejected", "withdrawn", "breached"])
async def test_only_accepted_assurances_can_be_breached(app, client, world, status):
    [permit] = await add_permits(app, world, 1)
    assurance = await add_assurance(app, world, [permit.id], status=status)
    notice = await draft(
        client, world, "cancellation", [permit.id], breached_assurance_ids=[str(assurance.id)]
    )
    problem = assert_problem(await issue(client, world.approver, notice["id"]), 409)
    assert problem["assurances"] == [{"id": str(assurance.id), "status": status}]
    assert await statuses(app, [permit.id]) == {"EXP-0001": "active"}
    assert (await assurance_status(app, assurance.id)).status == status


async def test_references_follow_the_authority_and_year(app, client, world):
    permits = await add_permits(app, world, 3)
    year = datetime.now(UTC).year
    references = [
        (await drafted_and_issued(client, world, "suspension", [p.id]))["reference"]
        for p in permits
    ]
    assert references == [f"CA-GAC-{year}-{n:04d}" for n in (1, 2, 3)]
    assert all(re.fullmatch(r"[A-Z-]+-\d{4}-\d{4}", ref) for ref in references)


async def test_a_refused_issue_gives_its_number_back(app, client, world):
    [good] = await add_permits(app, world, 1)
    [bad] = await add_permits(app, world, 1, status="cancelled", prefix="OLD")
    refused = await draft(client, world, "suspension", [bad.id])
    assert_problem(await issue(client, world.approver, refused["id"]), 409)
    issued = await drafted_and_issued(client, world, "suspension", [good.id])
    assert issued["reference"].endswith("-0001")


async def test_the_drafter_cannot_issue_even_as_approver(app, client, world):
    [permit] = await add_permits(app, world, 1)
    both = await new_user(app, client, world, "officer-approver", ["officer", "approver"])
    notice = await draft(client, world, "suspension", [permit.id], persona=both)
    assert_problem(await issue(client, both, notice["id"]), 403)
    assert await statuses(app, [permit.id]) == {"EXP-0001": "active"}
    other = await new_user(app, client, world, "approver-2", ["approver"])
    response = await issue(client, other, notice["id"])
    assert response.status_code == 200, response.text
    assert response.json()["issued_by"] == str(other.id)


async def test_whoever_edited_a_draft_cannot_issue_it(app, client, world):
    permits = await add_permits(app, world, 2)
    both = await new_user(app, client, world, "officer-approver", ["officer", "approver"])
    notice = await draft(client, world, "suspension", [permits[0].id])
    edit = {"permit_ids": [str(permits[1].id)]}
    url = f"/api/v1/notices/{notice['id']}"
    assert (await client.patch(url, json=edit, headers=both.headers)).status_code == 200
    assert_problem(await issue(client, both, notice["id"]), 403)
    assert (await issue(client, world.approver, notice["id"])).status_code == 200


async def test_an_issued_notice_cannot_be_issued_again(app, client, world):
    [permit] = await add_permits(app, world, 1)
    issued = await drafted_and_issued(client, world, "cancellation", [permit.id])
    other = await new_user(app, client, world, "approver-2", ["approver"])
    assert_problem(await issue(client, other, issued["id"]), 409)
    assert len(await history(app, permit.id)) == 1
    assert len(await events(app, "notice.issued")) == 1


async def test_issue_emits_and_audits_together(app, client, world):
    [permit] = await add_permits(app, world, 1)
    issued = await drafted_and_issued(client, world, "suspension", [permit.id])
    [event] = await events(app, "notice.issued")
    assert event.data["notice"] == issued
    assert str(event.dialogue_id) == str(world.dialogue_id)
    [entry] = await audit_entries(app, "notice.issued")
    assert entry.entity_id == issued["id"]
    assert entry.actor_id == world.approver.id
    assert entry.details["reference"] == issued["reference"]


async def test_a_retried_issue_replays_the_first_answer(app, client, world):
    [permit] = await add_permits(app, world, 1)
    notice = await draft(client, world, "suspension", [permit.id])
    first = await issue(client, world.approver, notice["id"], key="issue-1")
    again = await issue(client, world.approver, notice["id"], key="issue-1")
    assert first.status_code == again.status_code == 200
    assert again.headers.get("idempotent-replayed") == "true"
    assert again.json() == first.json()
    assert len(await events(app, "notice.issued")) == 1
    assert len(await history(app, permit.id)) == 1


async def test_acknowledge_by_the_counterpart(app, client, world):
    [permit] = await add_permits(app, world, 1)
    issued = await drafted_and_issued(client, world, "suspension", [permit.id])
    response = await acknowledge(client, world.diplomat, issued["id"])
    assert response.status_code == 200, response.text
    acknowledged = response.json()
    assert acknowledged["status"] == "acknowledged"
    assert acknowledged["reference"] == issued["reference"]
    assert acknowledged["acknowledged_by"] == str(world.diplomat.id)
    assert acknowledged["acknowledged_at"] is not None
    [event] = await events(app, "notice.acknowledged")
    assert event.data["notice"] == acknowledged
    assert_problem(await acknowledge(client, world.diplomat, issued["id"]), 409)
    assert len(await events(app, "notice.acknowledged")) == 1


async def test_a_draft_cannot_be_acknowledged(app, client, world):
    [permit] = await add_permits(app, world, 1)
    notice = await draft(client, world, "suspension", [permit.id])
    assert_problem(await acknowledge(client, world.diplomat, notice["id"]), 404)


async def test_a_retried_acknowledgement_replays_the_first_answer(app, client, world):
    [permit] = await add_permits(app, world, 1)
    issued = await drafted_and_issued(client, world, "suspension", [permit.id])
    first = await acknowledge(client, world.diplomat, issued["id"], key="ack-1")
    again = await acknowledge(client, world.diplomat, issued["id"], key="ack-1")
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert len(await events(app, "notice.acknowledged")) == 1


async def test_a_failure_at_the_last_step_leaves_no_trace(app, client, world, monkeypatch):
    from service.notices import service as notice_service

    permits = await add_permits(app, world, 3)
    assurance = await add_assurance(app, world, [permits[0].id])
    notice = await draft(
        client, world, "cancellation", [p.id for p in permits],
        breached_assurance_ids=[str(assurance.id)],
    )  # fmt: skip
    events_before, audit_before = await count(app, OutboxEvent), await audit_actions(app)

    async def broken(*_args, **_kwargs):
        raise ServiceError("disk full")  # a 500 that skips the slow pretty traceback

    # Permits have moved and events are queued by the time assurances are breached.
    monkeypatch.setattr(notice_service, "breach", broken)
    assert (await issue(client, world.approver, notice["id"])).status_code == 500
    assert set((await statuses(app, [p.id for p in permits])).values()) == {"active"}
    assert await count_history(app) == 0
    assert await count(app, OutboxEvent) == events_before
    assert await audit_actions(app) == audit_before
    monkeypatch.undo()
    issued = await drafted_and_issued(client, world, "suspension", [permits[1].id])
    assert issued["reference"].endswith("-0001")  # the failed issue took no number
