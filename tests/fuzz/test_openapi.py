"""Every operation of the OpenAPI document, fuzzed by Schemathesis as each kind of party.

The requests go over real HTTP to ``entente serve`` and reach the objects of a played case (see
``scene.py``). Whatever the input and whoever asks: no 5xx, the status is one the document lists,
the body and its content type are the documented ones, an undeclared method answers 405, and
input the document calls valid is not refused as invalid.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings

from tests.fuzz import fuzzing
from tests.fuzz.conftest import PARTIES

schema = fuzzing.load_schema()


@pytest.mark.parametrize("party", PARTIES)
@schema.parametrize()
@settings(deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
def test_operation(case, party, target, fuzz_session) -> None:
    fuzz_session.send(case, target.world.people[party])
