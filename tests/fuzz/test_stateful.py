"""Sequences of calls that feed one answer into the next request (Schemathesis's state machine).

The links come from the document and from Schemathesis's dependency analysis of its schemas (a
created consultation's ``id`` is the ``consultation_id`` of its messages, and so on). Each step
is checked as in ``test_openapi.py``. The authority's officer and the counterpart's diplomat
take turns at the two ends of the dialogue.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings

from tests.fuzz import fuzzing


@pytest.mark.parametrize("party", ["officer", "diplomat"])
def test_linked_calls(target, fuzz_session, party) -> None:
    machine = fuzzing.load_schema().as_state_machine()
    persona = target.world.people[party]

    class AsParty(machine):
        def get_call_kwargs(self, case):
            fuzzing.fresh_idempotency_key(case)
            return {
                "base_url": target.base_url,
                "session": fuzz_session.session,
                "headers": persona.headers,
                "timeout": 30,
            }

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=fuzzing.CHECKS, transport_kwargs=kwargs)

    runs, steps = fuzzing.stateful_size()
    AsParty.run(
        settings=settings(
            max_examples=runs,
            stateful_step_count=steps,
            deadline=None,
            derandomize=True,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
    )
