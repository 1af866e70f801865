"""Scenario 2, read at scale: a diplomat's inbox and a consultation's messages, 10k vs 1M.

Two databases are loaded (``bench/dataset.py``): 10,000 and 1,000,000 consultation messages,
with their events, read receipts and notices. On each, the project and the bare app
(``bench/bare/read.py``) serve the counterpart's diplomat ``tr-diplomat``:

- inbox: the web client's ``GET /app/`` (server-rendered; the only inbox there is), signed in
  with a session cookie; bare: ``GET /bare/read/inbox`` (token check, the same queries, JSON);
- messages: ``GET /api/v1/consultations/{id}/messages?limit=50`` of the biggest consultation
  (1.5% of all messages), in turn without a cursor and with cursors at 25, 50, 75 and 99% of
  the thread; bare: ``GET /bare/read/consultations/{id}/messages`` with the same cursors.

Each round measures the 10k database, then the 1M one (project, bare, project, bare), so drift
hits both sizes alike. The servers of a size run for its turn only: four pools at once would
take most of PostgreSQL's 100 connections. The figure of the scenario is p99 at 1M over p99
at 10k (target <= 1.5).
``EXPLAIN`` of the project's own queries goes to ``bench/results/explain-<db>.txt``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet

from bench import dataset, explain
from bench.harness import Aim, Context, Row, Target, bare, median, project
from bench.load import Request
from bench.scenario import PASSWORD
from service.api.pagination import encode_cursor
from service.auth.keys import generate_pem

DIPLOMAT = "tr-diplomat"
SIZES = {"10k": 10_000, "1m": 1_000_000}
QUICK_SIZES = {"10k": 2_000, "1m": 20_000}
ENDPOINTS = ("inbox", "messages")
AIMS = [
    Aim(f"{endpoint}_p99_1m_over_10k", "at_most", 1.5, f"{endpoint}: p99 at 1M <= 1.5x p99 at 10k",
        subject="derived")
    for endpoint in ENDPOINTS
]  # fmt: skip
RESULTS = Path(__file__).resolve().parent.parent / "results"


@dataclass
class Setup:
    label: str
    target: Target
    loaded: dataset.Loaded
    cookie: str
    cursors: list[str | None]


@contextlib.asynccontextmanager
async def dataset_target(ctx: Context, label: str, messages: int) -> AsyncIterator[Setup]:
    """A copy of the size's cached database, as a ``Target`` the harness can serve."""
    workdir = ctx.workdir / f"read-{label}"
    (workdir / "keys").mkdir(parents=True)
    (workdir / "data").mkdir()
    key_file = workdir / "keys" / "signing-key.pem"
    key_file.write_text(generate_pem())
    async with dataset.copy_of(ctx.database, messages, workdir) as loaded:
        target = Target(ctx.database, loaded.url, workdir, key_file, Fernet.generate_key().decode())
        cookie = await dataset.web_session(loaded.url, DIPLOMAT)
        cursors = [None, *await thread_cursors(loaded)]
        yield Setup(label, target, loaded, cookie, cursors)


async def thread_cursors(loaded: dataset.Loaded) -> list[str]:
    positions = await dataset.thread_positions(loaded, (0.25, 0.5, 0.75, 0.99))
    return [encode_cursor(created_at, row_id) for created_at, row_id in positions]


def requests(setup: Setup, token: str, subject: str) -> dict[str, list[Request]]:
    consultation = setup.loaded.target_id
    bearer = {"Authorization": f"Bearer {token}"}
    if subject == "project":
        inbox = Request("GET", "/app/", headers={"Cookie": f"entente_session={setup.cookie}"})
        path = f"/api/v1/consultations/{consultation}/messages?limit=50"
    else:
        inbox = Request("GET", "/bare/read/inbox", headers=bearer)
        path = f"/bare/read/consultations/{consultation}/messages?limit=50"
    pages = [Request("GET", path + (f"&cursor={c}" if c else ""), headers=bearer)
             for c in setup.cursors]  # fmt: skip
    return {"inbox": [inbox], "messages": pages}


async def measure_size(ctx: Context, setup: Setup, round_: int) -> list[Row]:
    """Both endpoints on one size: project then bare, servers started for this round only."""
    rows = []
    async with project(setup.target) as api, bare(setup.target) as base:
        token = (await api.tokens([DIPLOMAT], PASSWORD))[DIPLOMAT]
        servers = {"project": api, "bare": base}
        for endpoint in ENDPOINTS:
            for subject, server in servers.items():
                result = await ctx.load(server, requests(setup, token, subject)[endpoint])
                ctx.log(
                    f"read {endpoint} {setup.label} {subject} round {round_}: "
                    f"{result.rps:.0f} req/s, p50 {result.p50_ms:.1f} ms, "
                    f"p99 {result.p99_ms:.1f} ms, failures {result.non_2xx + result.socket_errors}"
                )
                for row in result.rows("read", ctx.database, subject, round_):
                    row.metric = f"{endpoint}_{setup.label}_{row.metric}"
                    rows.append(row)
    return rows


def ratios(ctx: Context, rows: list[Row]) -> list[Row]:
    """p99 (and p50) at 1M over 10k, of the medians over rounds, for each endpoint."""

    def middle(subject: str, metric: str) -> float:
        return median(r.value for r in rows if r.subject == subject and r.metric == metric)

    found = []
    for endpoint in ENDPOINTS:
        for figure in ("p99", "p50"):
            for subject in ("project", "bare"):
                big = middle(subject, f"{endpoint}_1m_{figure}_ms")
                small = middle(subject, f"{endpoint}_10k_{figure}_ms")
                metric = f"{endpoint}_{figure}_1m_over_10k"
                if not small:  # nothing answered at 10k: no ratio, the aim reads "not measured"
                    continue
                found.append(Row("read", ctx.database, "derived" if subject == "project" else
                                 "bare", metric, round(big / small, 3), "ratio",
                                 note=f"{subject}: {big:.1f} ms / {small:.1f} ms"))  # fmt: skip
    return found


async def run(ctx: Context) -> list[Row]:
    sizes = QUICK_SIZES if ctx.quick else SIZES
    async with contextlib.AsyncExitStack() as stack:
        setups, plans = [], []
        for label, messages in sizes.items():
            setup = await stack.enter_async_context(dataset_target(ctx, label, messages))
            ctx.log(f"read {label}: {messages} messages at {setup.loaded.url}")
            plans.append(await explain.plans(setup.loaded, DIPLOMAT, setup.cursors[-1]))
            setups.append(setup)
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / f"explain-{ctx.database}.txt").write_text("\n\n".join(plans))
        rows = []
        for round_ in ctx.round_numbers():
            for setup in setups:
                rows += await measure_size(ctx, setup, round_)
    return rows + ratios(ctx, rows)
