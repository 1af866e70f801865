"""The worker counts attempts by outcome; ``entente worker`` serves its metrics and health."""

from __future__ import annotations

import asyncio
import signal
from datetime import timedelta
from uuid import UUID

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import update

from service.db import utcnow
from service.observability import metrics, worker_server
from service.webhooks.models import WebhookSubscription
from service.webhooks.worker import Worker
from tests.domain import permit_body
from tests.observability.support import names, scrape, value
from tests.webhooks.conftest import worker_settings
from tests.webhooks.processes import environment, start_worker
from tests.webhooks.receivers import Script, eventually, free_port

ATTEMPTS = "entente_webhook_attempts_total"
DISABLED = "entente_webhook_endpoints_disabled_total"


async def register_permit(stage, number: str = "EXP-1") -> None:
    response = await stage.client.post(
        f"/api/v1/dialogues/{stage.world.dialogue_id}/permits",
        json=permit_body(number),
        headers=stage.world.officer.headers,
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("stage_overrides", [{"serve_worker": True}])
async def test_the_in_process_worker_counts_attempts_in_the_api_metrics(stage):
    stage.receiver.scripts["gac"] = Script(answers=[500])
    stage.receiver.scripts["bad"] = Script(otherwise=500)
    await stage.subscribe("host_admin", "gac", event_types=["permit.*"])
    await stage.subscribe("host_admin", "bad", event_types=["permit.*"])
    await register_permit(stage)

    async def settled() -> str | None:
        text = await scrape(stage.client)
        return text if value(text, ATTEMPTS, outcome="failed") == 1 else None

    text = await eventually(settled)
    assert value(text, ATTEMPTS, outcome="delivered") == 1
    assert value(text, ATTEMPTS, outcome="retrying") == 4  # one for "gac", three for "bad"
    assert value(text, ATTEMPTS, outcome="discarded") == 0
    assert value(text, "entente_webhook_attempt_duration_seconds_count") == 6
    assert value(text, "entente_webhook_endpoints_disabled_total") == 0


async def test_an_endpoint_disabled_by_its_failures_is_counted(stage):
    stage.receiver.scripts["bad"] = Script(otherwise=500)
    subscription = await stage.subscribe("host_admin", "bad", event_types=["permit.*"])
    async with stage.app.state.database.sessions() as session:
        await session.execute(
            update(WebhookSubscription)
            .where(WebhookSubscription.id == UUID(subscription["id"]))
            .values(failing_since=utcnow() - timedelta(days=30))
        )
        await session.commit()
    registry = metrics.new_registry()
    worker = Worker(
        stage.app.state.database,
        stage.settings,
        box=stage.app.state.secret_box,
        metrics=metrics.WorkerMetrics(registry),
    )
    async with worker.running():
        await register_permit(stage)
        await eventually(lambda: value(exposed(registry), DISABLED))

    text = exposed(registry)
    assert value(text, ATTEMPTS, outcome="retrying") == 1
    assert value(text, DISABLED) == 1


def exposed(registry) -> str:
    return metrics.exposition(registry).decode()


def probed_worker(stage, **overrides) -> tuple[Worker, metrics.CollectorRegistry]:
    settings = worker_settings(stage.settings, worker_metrics_port=free_port(), **overrides)
    registry = metrics.new_registry()
    worker = Worker(
        stage.app.state.database,
        settings,
        box=stage.app.state.secret_box,
        metrics=metrics.WorkerMetrics(registry),
    )
    return worker, registry


def probes(worker: Worker) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=f"http://127.0.0.1:{worker.settings.worker_metrics_port}")


async def status_of(http: httpx.AsyncClient, path: str) -> int:
    return (await http.get(path)).status_code


async def test_the_probe_server_answers_healthz_while_the_worker_runs(stage):
    worker, registry = probed_worker(stage)
    async with worker_server.serving(worker, registry), probes(worker) as http:
        assert await status_of(http, "/healthz") == 503  # not started yet
        async with worker.running():
            await eventually(lambda: _is(http, "/healthz", 200))
            body = (await http.get("/healthz")).json()
        assert await status_of(http, "/healthz") == 503  # stopped

    assert body == {"status": "ok", "worker": worker.name}


async def test_healthz_fails_when_a_worker_loop_has_died(stage):
    worker, registry = probed_worker(stage)
    async with worker_server.serving(worker, registry), probes(worker) as http, worker.running():
        await eventually(lambda: _is(http, "/healthz", 200))
        worker.loops[-1].cancel()
        await eventually(lambda: _is(http, "/healthz", 503))


async def test_the_probe_server_serves_the_worker_metrics(stage):
    await stage.subscribe("host_admin", "gac", event_types=["permit.*"])
    worker, registry = probed_worker(stage)
    async with worker_server.serving(worker, registry), probes(worker) as http, worker.running():
        await register_permit(stage)
        text = await eventually(lambda: _delivered_metrics(http))

    assert value(text, ATTEMPTS, outcome="delivered") == 1
    assert "process_cpu_seconds_total" in names(text) or "python_info" in names(text)
    assert not [name for name in names(text) if name.startswith("entente_http")]


async def test_a_configured_token_guards_the_worker_metrics(stage):
    worker, registry = probed_worker(stage, metrics_token=SecretStr("s3cret"))
    async with worker_server.serving(worker, registry), probes(worker) as http:
        assert await status_of(http, "/metrics") == 401
        guarded = await http.get("/metrics", headers={"Authorization": "Bearer s3cret"})
        assert guarded.status_code == 200
        assert await status_of(http, "/healthz") == 503  # open, if unhealthy: never started


async def test_no_port_no_probe_server(stage):
    settings = worker_settings(stage.settings)
    worker = Worker(stage.app.state.database, settings, box=stage.app.state.secret_box)
    port = free_port()
    async with worker_server.serving(worker, metrics.new_registry()), httpx.AsyncClient() as http:
        with pytest.raises(httpx.ConnectError):
            await http.get(f"http://127.0.0.1:{port}/healthz")


async def test_entente_worker_serves_probes_and_still_stops_cleanly_on_sigterm(stage, tmp_path):
    port = free_port()
    env = environment(stage.settings, tmp_path, ENTENTE_WORKER_METRICS_PORT=str(port))
    process = start_worker(env, "probed", tmp_path / "worker.log")
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            await eventually(lambda: _is(http, "/healthz", 200), within=30)
            text = (await http.get("/metrics")).text
    finally:
        process.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(process.wait, 30)
    assert code == 0, (tmp_path / "worker.log").read_text()
    assert ATTEMPTS in names(text)


async def _is(http: httpx.AsyncClient, path: str, status: int) -> bool:
    try:
        return await status_of(http, path) == status
    except httpx.TransportError:
        return False  # not listening yet


async def _delivered_metrics(http: httpx.AsyncClient) -> str | None:
    text = (await http.get("/metrics")).text
    return text if value(text, ATTEMPTS, outcome="delivered") == 1 else None
