"""Scenario 1, write: consultation messages posted under load, beside the bare three inserts.

The seed case's parties; the authority's officer opens ``CONSULTATIONS`` consultations over the
API. Then wrk (32 connections) posts messages, ``POST /api/v1/consultations/{id}/messages``, as
the counterpart's diplomat and officer and the authority's officer in turn, with bodies that
vary, to the project (``entente serve``) and to the bare app (``POST /write/...``: token check
and the same three inserts, ``bench/bare/write.py``). Rounds alternate project, bare, project,
bare, ... on the same database, both servers up throughout.
"""

from __future__ import annotations

import json

import httpx

from bench.harness import Aim, Context, Row, Server, bare, project, seed_parties
from bench.load import Request
from bench.scenario import PASSWORD

AUTHORS = ("tr-diplomat", "tr-officer", "gac-officer")
CONSULTATIONS = 4
BODIES = 12
AIMS = [
    Aim("rps", "ratio_at_least", 0.6, "requests/s at least 0.6 of the bare app's"),
    Aim("p99_ms", "ratio_at_most", 1.5, "p99 within 1.5x of the bare app's"),
]


async def open_consultations(api: Server, token: str, dialogue_id: str, count: int) -> list[str]:
    async with httpx.AsyncClient(base_url=api.base_url, timeout=30) as http:
        return await open_through(http, token, dialogue_id, count)


async def open_through(
    http: httpx.AsyncClient, token: str, dialogue_id: str, count: int
) -> list[str]:
    """``count`` new consultations in the dialogue, opened through ``http``; their ids."""
    headers = {"Authorization": f"Bearer {token}"}
    path = f"/api/v1/dialogues/{dialogue_id}/consultations"
    found = []
    for n in range(count):
        body = {"subject": f"Bench consultation {n}", "topic": "end_use_inquiry"}
        response = await http.post(path, json=body, headers=headers)
        response.raise_for_status()
        found.append(response.json()["id"])
    return found


def message_body(n: int) -> str:
    text = f"Message {n}: follow-up on the end use of the optics. " * (1 + n % 6)
    return json.dumps({"body": text.strip(), "classification": "UNCLASSIFIED"})


def requests(prefix: str, consultations: list[str], tokens: dict[str, str]) -> list[Request]:
    """Every consultation x author x body; ``prefix`` "/api/v1" (project) or "/write" (bare)."""
    return [
        Request(
            "POST",
            f"{prefix}/consultations/{consultation}/messages",
            message_body(n),
            {"Authorization": f"Bearer {tokens[author]}", "Content-Type": "application/json"},
        )
        for consultation in consultations
        for author in AUTHORS
        for n in range(BODIES)
    ]


async def prepare(api: Server, dialogue_id: str) -> tuple[list[str], dict[str, str]]:
    """The consultations to post to and the authors' tokens (the parties are seeded already)."""
    tokens = await api.tokens(AUTHORS, PASSWORD)
    consultations = await open_consultations(api, tokens["gac-officer"], dialogue_id, CONSULTATIONS)
    return consultations, tokens


async def check(server: Server, request: Request) -> None:
    """One request first, so a broken route fails the run instead of measuring errors."""
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        response = await http.post(request.path, content=request.body, headers=request.headers)
    if response.status_code != 201:
        raise RuntimeError(f"{server.name}: {response.status_code} {response.text[:300]}")


async def interleaved(ctx: Context, subjects: dict[str, tuple[Server, list[Request]]]) -> list[Row]:
    rows = []
    for round_ in ctx.round_numbers():
        for subject, (server, load) in subjects.items():
            result = await ctx.load(server, load)
            ctx.log(
                f"write {subject} round {round_}: {result.rps:.0f} req/s, "
                f"p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms, "
                f"failures {result.non_2xx + result.socket_errors}"
            )
            rows += result.rows("write", ctx.database, subject, round_)
    return rows


async def run(ctx: Context) -> list[Row]:
    async with ctx.target() as target:
        dialogue_id = await seed_parties(target)
        async with project(target) as api, bare(target) as base:
            consultations, tokens = await prepare(api, dialogue_id)
            subjects = {
                "project": (api, requests("/api/v1", consultations, tokens)),
                "bare": (base, requests("/write", consultations, tokens)),
            }
            for server, load in subjects.values():
                await check(server, load[0])
            return await interleaved(ctx, subjects)
