"""The dialogue workflow in random order, by random parties, with its invariants after each step.

See ``tests.stateful.machine``; the run's size is set in ``tests/stateful/conftest.py``.
"""

from __future__ import annotations

import asyncio

from hypothesis.stateful import run_state_machine_as_test

from tests.stateful.machine import DialogueMachine


async def test_the_dialogue_workflow_keeps_its_invariants(stage, machine_settings):
    DialogueMachine.stage = stage
    DialogueMachine.loop = asyncio.get_running_loop()
    DialogueMachine.random_refusals = {}
    await asyncio.to_thread(run_state_machine_as_test, DialogueMachine, settings=machine_settings)
