"""Smoke test of the benchmark harness (``bench/``): the write scenario end to end, briefly.

It starts the real ``entente serve`` and the bare app on a fresh database of the run's kind,
loads each for one second with wrk (installed with apt-get when missing and running as root),
and writes the report to a temp directory. It checks that the machinery works, not the figures:
a shared CI machine says nothing about speed. About 15-40 s per database.
"""

from __future__ import annotations

import asyncio

from bench.harness import Context
from bench.scenarios import write
from bench.summary import verdicts
from bench.summary import write as write_report


async def test_write_scenario_runs_end_to_end(db_kind, tmp_path):
    ctx = Context(db_kind, tmp_path / "work", rounds=1, duration=1, warmup=1, quick=True)
    (tmp_path / "work").mkdir()

    rows = await asyncio.wait_for(write.run(ctx), timeout=120)

    # Each server has answered a first post with 201 (the scenario checks it before loading);
    # how many more fit in one second on a busy CI machine is not a test.
    assert {row.subject for row in rows if row.metric == "rps"} == {"project", "bare"}
    assert [row.value for row in rows if row.metric == "failures"] == [0, 0]
    found = verdicts(rows, {"write": write.AIMS})
    assert {verdict.aim.metric for verdict in found} == {"rps", "p99_ms"}
    report = write_report(rows, found, [], {"smoke": True}, directory=tmp_path / "results")
    assert "## write" in report.read_text()
    assert (tmp_path / "results" / "report.png").stat().st_size > 0
