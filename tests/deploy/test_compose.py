"""deploy/compose: valid Compose, real `entente` commands and settings, two replicas each, secrets.

No Docker engine is needed: the file is validated against the Compose specification's JSON schema
(vendored by check-jsonschema) and read.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from service.auth import keys
from service.webhooks import signing
from tests.deploy.support import (
    DEPLOY,
    entente_command,
    option,
    run,
    settings_from,
    tool,
    unknown_variables,
)

COMPOSE = DEPLOY / "compose" / "compose.yaml"
IMAGE = "entente:local"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


@pytest.fixture(scope="module")
def entente_services(services: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {name: service for name, service in services.items() if service["image"] == IMAGE}


def check_jsonschema(path: Path) -> tuple[int, str]:
    result = run([tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(path)])
    return result.returncode, result.stdout + result.stderr


def probe_url(service: dict[str, Any]) -> str:
    test = service["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"], test
    found = re.search(r"urlopen\('([^']+)'", test[3])
    assert found, test[3]
    return found.group(1)


def test_valid_against_the_compose_specification() -> None:
    code, output = check_jsonschema(COMPOSE)
    assert code == 0, output


def test_the_schema_check_is_not_vacuous(tmp_path: Path) -> None:
    broken = tmp_path / "compose.yaml"
    broken.write_text("services:\n  api:\n    image: x\n    restrat: always\n")
    code, _ = check_jsonschema(broken)
    assert code != 0


def test_services(services: dict[str, dict[str, Any]]) -> None:
    assert set(services) == {"postgres", "migrate", "api", "worker", "proxy"}
    assert services["postgres"]["image"] == "postgres:15"


def test_every_command_is_an_entente_command(
    entente_services: dict[str, dict[str, Any]],
) -> None:
    commands = {name: entente_command(s["command"]) for name, s in entente_services.items()}
    assert commands == {"migrate": "db upgrade", "api": "serve", "worker": "worker"}


def test_every_variable_is_a_setting(entente_services: dict[str, dict[str, Any]]) -> None:
    for name, service in entente_services.items():
        assert unknown_variables(service["environment"]) == [], name


def test_settings_accept_the_environment(
    entente_services: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    for service in entente_services.values():
        settings = settings_from(service["environment"], monkeypatch)
        assert settings.resolved_database_url.startswith("postgresql+asyncpg://")
        assert "@postgres:5432/" in settings.resolved_database_url
    api = settings_from(entente_services["api"]["environment"], monkeypatch)
    assert api.runs_worker_in_process is False


def test_two_replicas_after_the_migration(services: dict[str, dict[str, Any]]) -> None:
    for name in ("api", "worker"):
        assert services[name]["deploy"]["replicas"] == 2
        assert services[name]["depends_on"] == {
            "postgres": {"condition": "service_healthy"},
            "migrate": {"condition": "service_completed_successfully"},
        }
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}


def test_restart_policies(services: dict[str, dict[str, Any]]) -> None:
    assert services["migrate"]["restart"] == "no"
    for name, service in services.items():
        if name != "migrate":
            assert service["restart"] in {"unless-stopped", "on-failure", "always"}, name


def test_healthchecks(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        if name != "migrate":
            assert service["healthcheck"]["test"], name
    assert services["migrate"]["healthcheck"] == {"disable": True}
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"][1]


def test_api_readiness_on_the_served_port(services: dict[str, dict[str, Any]]) -> None:
    api = services["api"]
    port = option(api["command"], "--port")
    assert option(api["command"], "--host") == "0.0.0.0"  # noqa: S104 - inside the container
    assert probe_url(api) == f"http://127.0.0.1:{port}/readyz"


def test_worker_health_on_its_metrics_port(services: dict[str, dict[str, Any]]) -> None:
    worker = services["worker"]
    environment = worker["environment"]
    assert environment["ENTENTE_WORKER_METRICS_HOST"] == "0.0.0.0"  # noqa: S104
    port = environment["ENTENTE_WORKER_METRICS_PORT"]
    assert probe_url(worker) == f"http://127.0.0.1:{port}/healthz"


def test_key_files_are_compose_secrets(
    compose: dict[str, Any], entente_services: dict[str, dict[str, Any]]
) -> None:
    for name, service in entente_services.items():
        given = set(service.get("secrets", []))
        for variable, value in service["environment"].items():
            if variable.endswith("_FILE"):
                assert value.startswith("/run/secrets/"), variable
                assert value.removeprefix("/run/secrets/") in given, f"{name}: {variable}"
    assert set(entente_services["api"]["secrets"]) == {"entente-signing-key", "entente-secrets-key"}
    assert entente_services["worker"]["secrets"] == ["entente-secrets-key"]
    assert "secrets" not in entente_services["migrate"]
    for secret in compose["secrets"].values():
        assert secret["file"].startswith("./secrets/")


def test_generated_files_are_never_committed() -> None:
    ignored = (DEPLOY / "compose" / ".gitignore").read_text().split()
    assert {"secrets/", ".env"} <= set(ignored)


def test_the_proxy_spreads_over_the_api_and_hides_metrics(
    services: dict[str, dict[str, Any]],
) -> None:
    assert services["proxy"]["depends_on"] == {"api": {"condition": "service_healthy"}}
    config = (DEPLOY / "compose" / "nginx.conf").read_text()
    port = option(services["api"]["command"], "--port")
    assert f"server api:{port} resolve;" in config
    assert re.search(r"location = /metrics \{\s*return 404;", config)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="make-secrets.sh needs openssl")
def test_make_secrets_writes_keys_the_service_reads(tmp_path: Path) -> None:
    script = tmp_path / "make-secrets.sh"
    shutil.copy(DEPLOY / "compose" / "make-secrets.sh", script)
    assert run(["sh", str(script)]).returncode == 0

    pem = (tmp_path / "secrets" / "signing-key.pem").read_text()
    assert pem.startswith("-----BEGIN PRIVATE KEY-----")  # PKCS#8
    assert keys.SigningKey.from_pem(pem).public["crv"] == "P-256"
    box = signing.load_or_create_box(None, tmp_path / "secrets" / "secrets.key")
    assert box.open(box.seal("whsec_x")) == "whsec_x"
    assert re.fullmatch(r"POSTGRES_PASSWORD=[0-9a-f]{48}\n", (tmp_path / ".env").read_text())
    assert (tmp_path / "secrets").stat().st_mode & 0o777 == 0o700

    assert (tmp_path / "secrets" / "retired").is_dir()  # for `entente keys rotate`

    before = {path.name: path.read_bytes() for path in key_files(tmp_path / "secrets")}
    assert run(["sh", str(script)]).returncode == 0
    after = {path.name: path.read_bytes() for path in key_files(tmp_path / "secrets")}
    assert after == before, "a second run must keep the existing keys"
    if os.geteuid() == 0:
        assert (tmp_path / "secrets" / "secrets.key").stat().st_uid == 10001


def key_files(folder: Path) -> list[Path]:
    return [path for path in folder.iterdir() if path.is_file()]
