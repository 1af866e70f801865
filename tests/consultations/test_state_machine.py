"""The awaiting_response state machine on its own, without a database."""

from __future__ import annotations

from datetime import timedelta

from service.consultations.models import Consultation
from service.consultations.service import apply_message, is_overdue
from service.db import utcnow

DUE = utcnow() + timedelta(days=7)


def consultation(**state) -> Consultation:
    return Consultation(subject="s", topic="general", opened_by_side="authority", **state)


def awaiting(side: str) -> Consultation:
    return consultation(
        status="awaiting_response",
        awaiting_side=side,
        response_due_at=DUE,
        overdue_notified_at=DUE + timedelta(days=1),
    )


def state(c: Consultation) -> tuple:
    return c.status, c.awaiting_side, c.response_due_at, c.overdue_notified_at


def test_a_request_awaits_the_other_side():
    for side, other in (("authority", "counterpart"), ("counterpart", "authority")):
        c = consultation(status="open")
        apply_message(c, side, DUE)
        assert state(c) == ("awaiting_response", other, DUE, None)


def test_the_awaited_side_answers():
    c = awaiting("counterpart")
    apply_message(c, "counterpart", None)
    assert state(c) == ("open", None, None, None)


def test_the_asking_side_does_not_answer_itself():
    c = awaiting("counterpart")
    apply_message(c, "authority", None)
    assert state(c)[:3] == ("awaiting_response", "counterpart", DUE)


def test_a_new_deadline_from_the_asking_side_replaces_the_old_and_rearms_the_alarm():
    c = awaiting("counterpart")
    later = DUE + timedelta(days=3)
    apply_message(c, "authority", later)
    assert state(c) == ("awaiting_response", "counterpart", later, None)


def test_an_answer_that_asks_back_turns_the_wait_around():
    c = awaiting("counterpart")
    apply_message(c, "counterpart", DUE)
    assert state(c) == ("awaiting_response", "authority", DUE, None)


def test_overdue_only_while_awaiting_past_the_deadline():
    c = awaiting("counterpart")
    assert not is_overdue(c, DUE)
    assert is_overdue(c, DUE + timedelta(seconds=1))
    c.status = "closed"
    assert not is_overdue(c, DUE + timedelta(seconds=1))
