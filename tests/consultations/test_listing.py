"""Listing a dialogue's consultations by status and by the side whose answer is awaited."""

from __future__ import annotations

from service.consultations import service as consultation_service
from service.uow import UnitOfWork
from tests.consultations.helpers import in_days, open_consultation, post


async def test_awaiting_one_side_is_filtered_in_the_query_not_after_it(app, client, world):
    due = in_days(3)
    for n in range(2):  # older, and awaiting the other side: a page of one must skip them
        theirs = (await open_consultation(client, world, subject=f"For us {n}"))["id"]
        await post(client, world.diplomat, theirs, "Ours.", response_requested_by=due)
    ours = (await open_consultation(client, world, subject="For the ministry"))["id"]
    await post(client, world.officer, ours, "Yours.", response_requested_by=due)

    rows, next_cursor = await consultation_service.list_consultations(
        UnitOfWork(app.state.database),
        world.diplomat.principal,
        dialogue_id=world.dialogue_id,
        status="awaiting_response",
        awaiting_side="counterpart",
        limit=1,
        cursor=None,
    )

    assert [row.subject for row in rows] == ["For the ministry"]
    assert next_cursor is None
