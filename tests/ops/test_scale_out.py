"""Scale-out on one machine: two API replicas and two workers as real processes, one database.

An operator migrates and runs ``entente init``; every other party, token and write goes through
the HTTP API, alternating between the replicas, while a real receiver on 127.0.0.1 collects the
webhooks. Tokens signed by one replica must work on the other (shared signing key file), the
workers must share the deliveries and sign with the secret the API sealed (shared secrets key
file), every event the subscriber may see must arrive, and the audit chain must stay whole.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select
from standardwebhooks import Webhook

from service.auth.keys import generate_pem
from service.db import Database, utcnow
from service.webhooks.models import WebhookAttempt, WebhookDelivery
from tests.assurances.helpers import certificate
from tests.consultations.helpers import new_consultation
from tests.domain import permit_body
from tests.notices.helpers import notice_body
from tests.ops import processes
from tests.webhooks.processes import start_worker
from tests.webhooks.receivers import Receiver, Script, eventually, free_port, receiving

pytestmark = pytest.mark.postgres_only

PASSWORD = "scale-out test password"
WORKERS = ("worker-1", "worker-2")
INIT = ["init", "--org-code", "CA-GAC", "--org-name", "Global Affairs Canada", "--country", "CA"]
ORGS = {
    "TR-MFA": "counterpart_ministry",
    "CA-CBSA": "observer",
    "GB-ECJU": "licensing_authority",  # with FR-MEAE, a pair CA-GAC must hear nothing of
    "FR-MEAE": "counterpart_ministry",
}
USERS = {  # persona: organization, roles
    "officer": ("CA-GAC", ["officer"]),
    "approver": ("CA-GAC", ["approver"]),
    "auditor": ("CA-GAC", ["auditor"]),
    "diplomat": ("TR-MFA", ["diplomat"]),
    "gb": ("GB-ECJU", ["admin", "officer"]),
}
NOTICES = [  # kind, permits (by index), whether the accepted assurance is found breached
    ("suspension", slice(0, 4), False),
    ("reinstatement", slice(0, 2), False),
    ("cancellation", slice(4, 6), True),
]
ALL_EVENTS = ["dialogue.*", "permit.*", "assurance.*", "consultation.*", "notice.*", "webhook.*"]


@dataclass
class Cluster:
    url: str
    env: dict[str, str]
    replicas: list[str]
    started: list[Any] = field(default_factory=list)

    async def stop(self) -> list[int]:
        return await processes.stop(self.started)


def operator_environment(url: str, tmp_path: Path) -> dict[str, str]:
    """Shared key files, provisioned before any replica starts, as the operator would."""
    keys = tmp_path / "keys"
    keys.mkdir(mode=0o700)
    (keys / "signing-key.pem").write_text(generate_pem())
    (keys / "secrets.key").write_bytes(Fernet.generate_key())
    for key in keys.iterdir():
        key.chmod(0o600)
    return processes.environment(
        ENTENTE_DATABASE_URL=url,
        ENTENTE_DATA_DIR=str(tmp_path / "data"),
        ENTENTE_SIGNING_KEY_FILE=str(keys / "signing-key.pem"),
        ENTENTE_SECRETS_KEY_FILE=str(keys / "secrets.key"),
        ENTENTE_SERVE_WORKER="false",
        ENTENTE_DATABASE_POOL_SIZE="5",
        ENTENTE_WEBHOOK_ALLOWED_NETWORKS="127.0.0.1",
        ENTENTE_WEBHOOK_ALLOW_HTTP="true",
        ENTENTE_WEBHOOK_RETRY_SCHEDULE="0.5,1,2,4",
        ENTENTE_WEBHOOK_RETRY_JITTER="0",
        ENTENTE_WORKER_POLL_SECONDS="0.5",
        # Two in flight per endpoint per worker: one worker cannot take the whole queue.
        ENTENTE_WORKER_PER_ENDPOINT="2",
        ENTENTE_WORKER_SHUTDOWN_GRACE_SECONDS="5",
        ENTENTE_LOG_LEVEL="WARNING",
    )


@pytest.fixture
async def cluster(empty_database_url, tmp_path: Path) -> AsyncIterator[Cluster]:
    url = await empty_database_url()
    env = operator_environment(url, tmp_path)
    admin = ["--admin-username", "gac-admin", "--admin-password", PASSWORD]
    for command in (["db", "upgrade"], [*INIT, *admin]):
        done = processes.entente(*command, env=env)
        assert done.returncode == 0, done.stdout + done.stderr
    ports = [free_port(), free_port()]
    cluster = Cluster(url, env, [f"http://127.0.0.1:{port}" for port in ports])
    logs = [tmp_path / f"api-{n}.log" for n in (0, 1)] + [tmp_path / f"{w}.log" for w in WORKERS]
    try:
        for port, log in zip(ports, logs, strict=False):
            cluster.started.append(processes.start_api(env, port, log))
        for name, log in zip(WORKERS, logs[2:], strict=True):
            cluster.started.append(start_worker(env, name, log))
        for process, base, log in zip(cluster.started, cluster.replicas, logs, strict=False):
            await processes.until_ready(process, base, log)
        for process, name, log in zip(cluster.started[2:], WORKERS, logs[2:], strict=True):
            await processes.until_logged(process, log, f"worker {name} started")
        yield cluster
    finally:
        await cluster.stop()


class Api:
    """Both replicas; calls alternate between them unless one is named, four at a time."""

    def __init__(self, clients: list[httpx.AsyncClient]) -> None:
        self.clients = clients
        self.turn = 0
        self.writes = 0
        self.limit = asyncio.Semaphore(4)

    def next(self) -> httpx.AsyncClient:
        self.turn += 1
        return self.clients[self.turn % 2]

    async def call(
        self, token: str, method: str, path: str, body: Any = None, *, on: int | None = None
    ) -> Any:
        client = self.clients[on] if on is not None else self.next()
        async with self.limit:
            response = await client.request(
                method, f"/api/v1{path}", json=body, headers={"Authorization": f"Bearer {token}"}
            )
        assert response.status_code in (200, 201), (
            f"{client.base_url} {method} {path}: {response.status_code} {response.text[:500]}"
        )
        self.writes += method == "POST"
        return response.json()

    async def sign_in(self, on: int, **form: str) -> str:
        grant = "password" if "username" in form else "client_credentials"
        response = await self.clients[on].post("/oauth/token", data={"grant_type": grant, **form})
        assert response.status_code == 200, response.text
        token = response.json()["access_token"]
        # A token signed by one replica is accepted by the other.
        me = await self.clients[1 - on].get(
            "/api/v1/me", headers={"Authorization": f"Bearer {token}"}
        )
        assert me.status_code == 200, me.text
        return token


@contextlib.asynccontextmanager
async def connected(cluster: Cluster) -> AsyncIterator[Api]:
    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(httpx.AsyncClient(base_url=base, timeout=60))
            for base in cluster.replicas
        ]
        yield Api(clients)


async def test_two_replicas_and_two_workers_share_one_database(cluster: Cluster):
    async with connected(cluster) as api, receiving() as receiver:
        receiver.scripts["gac"] = Script(delay=0.05)
        admin = await api.sign_in(0, username="gac-admin", password=PASSWORD)
        body = {"url": receiver.url("gac"), "event_types": ALL_EVENTS}
        hook = await api.call(admin, "POST", "/webhooks", body)
        people = await seed_parties(api, admin)
        await play(api, people)
        assert api.writes >= 50
        expected = await event_ids(api, admin)
        foreign = await event_ids(api, people["gb"]) - expected
        assert len(expected) >= 40
        assert foreign

        await eventually(lambda: receiver.ids("gac") >= expected, within=90, interval=0.2)
        await eventually(lambda: delivered(cluster.url, len(expected)), within=60, interval=0.5)
        check_arrivals(receiver, hook["secret"], expected)
        by_worker = await attempts_by_worker(cluster.url)
        assert set(by_worker) == set(WORKERS), by_worker
        for on in (0, 1):
            verified = await api.call(people["auditor"], "GET", "/audit/verify", on=on)
            assert verified["valid"] is True, verified

    # None needed a kill. Workers exit 0; after its graceful shutdown uvicorn re-raises SIGTERM,
    # which ends the API with -15 unless the parent left SIGTERM ignored (then 0).
    codes = await cluster.stop()
    assert codes[2:] == [0, 0], codes
    assert set(codes[:2]) <= {0, -signal.SIGTERM}, codes
    done = processes.entente("audit", "verify", env=cluster.env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "audit chain valid" in done.stdout


async def seed_parties(api: Api, admin: str) -> dict[str, Any]:
    """Organizations, their people and a permit system; each signs in on either replica."""
    orgs = {"CA-GAC": (await api.call(admin, "GET", "/me"))["organization"]["id"]}
    for code, kind in ORGS.items():
        body = {"code": code, "name": code, "country": code[:2], "kind": kind}
        orgs[code] = (await api.call(admin, "POST", "/organizations", body))["id"]
    people: dict[str, Any] = {"admin": admin, "orgs": orgs}
    for n, (persona, (code, roles)) in enumerate(USERS.items()):
        username = f"{code.lower()}-{persona}"
        body = {"organization_id": orgs[code], "username": username, "display_name": persona,
                "password": PASSWORD, "roles": roles}  # fmt: skip
        await api.call(admin, "POST", "/users", body)
        people[persona] = await api.sign_in(n % 2, username=username, password=PASSWORD)
    body = {"organization_id": orgs["CA-GAC"], "name": "permit system", "scopes": ["permits:write"]}
    system = await api.call(admin, "POST", "/clients", body)
    people["system"] = await api.sign_in(
        1, client_id=system["client_id"], client_secret=system["client_secret"]
    )
    return people


async def play(api: Api, people: dict[str, Any]) -> None:
    """The seed case in small: permits, assurances, consultations, notices, and a foreign pair."""
    orgs = people["orgs"]
    dialogue = await open_dialogue(api, people["admin"], orgs, "TR-MFA", ["CA-CBSA"])
    d = f"/dialogues/{dialogue}"
    numbers = [f"GAC-{n:03}" for n in range(12)]
    registered = await asyncio.gather(
        *(api.call(people["system"], "POST", f"{d}/permits", permit_body(n)) for n in numbers)
    )
    ids = [permit["id"] for permit in registered]
    accepted = await assurances(api, people, d, ids)
    await asyncio.gather(*(consult(api, people, d, ids[n::3], close=n < 2) for n in range(3)))
    for kind, chosen, breach in NOTICES:
        body = notice_body(kind, ids[chosen], breached_assurance_ids=[accepted] if breach else [])
        draft = await api.call(people["officer"], "POST", f"{d}/notices", body, on=0)
        await api.call(people["approver"], "POST", f"/notices/{draft['id']}/issue", {}, on=1)
        await api.call(people["diplomat"], "POST", f"/notices/{draft['id']}/acknowledge", {})
    foreign = await open_dialogue(api, people["gb"], orgs, "FR-MEAE", [], authority="GB-ECJU")
    for number in ("GB-1", "GB-2"):
        path = f"/dialogues/{foreign}/permits"
        await api.call(people["gb"], "POST", path, permit_body(number))


async def open_dialogue(
    api: Api, admin: str, orgs: dict, counterpart: str, observers: list, authority: str = "CA-GAC"
) -> str:
    body = {
        "title": f"{authority} and {counterpart}",
        "authority_id": orgs[authority],
        "counterpart_id": orgs[counterpart],
        "observer_ids": [orgs[code] for code in observers],
    }
    return (await api.call(admin, "POST", "/dialogues", body))["id"]


async def assurances(api: Api, people: dict[str, Any], d: str, ids: list[str]) -> str:
    """One requested, submitted and accepted (its id returned); one offered and rejected."""
    officer, diplomat = people["officer"], people["diplomat"]
    due = (utcnow() + timedelta(days=14)).isoformat()
    body = {"permit_ids": ids[:6], "due_at": due}
    asked = await api.call(officer, "POST", f"{d}/assurances", body)
    await api.call(diplomat, "POST", f"/assurances/{asked['id']}/submit", certificate())
    await api.call(officer, "POST", f"/assurances/{asked['id']}/accept", {})
    body = {"permit_ids": ids[6:8]} | certificate()
    offered = await api.call(diplomat, "POST", f"{d}/assurances", body)
    reason = {"reason": "The end user named is not the one on the permit."}
    await api.call(officer, "POST", f"/assurances/{offered['id']}/reject", reason)
    return asked["id"]


async def consult(api: Api, people: dict[str, Any], d: str, ids: list[str], close: bool) -> None:
    body = new_consultation(permit_ids=ids)
    thread = (await api.call(people["officer"], "POST", f"{d}/consultations", body))["id"]
    for n in range(4):
        author = people["officer" if n % 2 == 0 else "diplomat"]
        message = {"body": f"Message {n} about {len(ids)} permits."}
        await api.call(author, "POST", f"/consultations/{thread}/messages", message)
    if close:
        outcome = {"outcome": "resolved"}
        await api.call(people["officer"], "POST", f"/consultations/{thread}/close", outcome)


async def event_ids(api: Api, token: str) -> set[str]:
    """Every event of the events feed as the token's organization sees it."""
    ids: set[str] = set()
    after = None
    while True:
        query = "?limit=200" + (f"&after={after}" if after else "")
        page = await api.call(token, "GET", f"/events{query}")
        ids |= {item["id"] for item in page["items"]}
        if len(page["items"]) < 200:
            return ids
        after = page["next_cursor"]


def check_arrivals(receiver: Receiver, secret: str, expected: set[str]) -> None:
    """Exactly the expected messages, each signed with the webhook's secret, none sent twice."""
    arrivals = receiver.arrivals["gac"]
    assert receiver.ids("gac") == expected
    assert len(arrivals) == len(expected), "a message was delivered twice"
    assert receiver.overlaps == []
    webhook = Webhook(secret)
    for arrival in arrivals:
        message = webhook.verify(arrival.body, arrival.headers)
        assert message["id"] == arrival.headers["webhook-id"]


async def delivered(url: str, count: int) -> bool:
    by_status = select(WebhookDelivery.status, func.count()).group_by(WebhookDelivery.status)
    return await grouped(url, by_status) == {"delivered": count}


async def attempts_by_worker(url: str) -> dict[str, int]:
    return await grouped(url, select(WebhookAttempt.worker, func.count()).group_by("worker"))


async def grouped(url: str, query: Any) -> dict[Any, int]:
    """What the delivery log holds, read straight from the shared database."""
    database = Database(url)
    try:
        async with database.sessions() as session:
            return dict((await session.execute(query)).all())
    finally:
        await database.dispose()
