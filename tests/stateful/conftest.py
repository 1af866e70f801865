"""The stage of the dialogue state machine, and how long it runs.

Default: a bounded, derandomized run, the same in CI every time. For a longer local run set
``ENTENTE_STATEFUL_EXAMPLES`` and/or ``ENTENTE_STATEFUL_STEPS``; the examples are then drawn
afresh each run (Hypothesis prints how to reproduce a failure it finds).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

from tests.stateful.parties import Stage, build_stage

EXAMPLES, STEPS = 15, 30


@pytest.fixture
def machine_settings() -> settings:
    examples = os.environ.get("ENTENTE_STATEFUL_EXAMPLES")
    steps = os.environ.get("ENTENTE_STATEFUL_STEPS")
    return settings(
        max_examples=int(examples or EXAMPLES),
        stateful_step_count=int(steps or STEPS),
        deadline=None,
        derandomize=not (examples or steps),
        database=None,
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow],
    )


@pytest.fixture
async def stage(app, client, world, connection) -> Stage:
    return await build_stage(app, client, world, connection)
