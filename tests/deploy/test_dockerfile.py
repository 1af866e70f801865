"""The Dockerfile: hadolint-clean, multi-stage, non-root, and it runs real `entente` commands.

No Docker engine is needed: the file is linted and read, not built.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from service import migrate
from tests.deploy.support import (
    APP_UID,
    ROOT,
    entente_command,
    option,
    run,
    tool,
    unknown_variables,
)

DOCKERFILE = ROOT / "Dockerfile"
BUILD_TOOLS = re.compile(r"\b(apt-get|apt|apk|gcc|g\+\+|cc|make|build-essential|pip|uv)\b")


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [value for key, value in self.instructions if key == keyword]

    def one(self, keyword: str) -> str:
        values = self.all(keyword)
        assert len(values) == 1, f"expected one {keyword} in the final stage, got {values}"
        return values[0]


def instructions(text: str) -> list[tuple[str, str]]:
    """(KEYWORD, arguments) per instruction: comments dropped, continuation lines joined."""
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    found = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, rest = line.strip().partition(" ")
            found.append((keyword.upper(), " ".join(rest.split())))
    return found


def stages(text: str) -> list[Stage]:
    result: list[Stage] = []
    for keyword, value in instructions(text):
        if keyword == "FROM":
            words = value.split()
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            result.append(Stage(base=words[0], name=name))
        elif result:
            result[-1].instructions.append((keyword, value))
    return result


@pytest.fixture(scope="module")
def all_stages() -> list[Stage]:
    return stages(DOCKERFILE.read_text())


@pytest.fixture(scope="module")
def final(all_stages: list[Stage]) -> Stage:
    return all_stages[-1]


def exec_form(value: str) -> list[str]:
    parsed = json.loads(value)
    assert isinstance(parsed, list), f"use the exec (JSON) form, not {value!r}"
    return parsed


def test_hadolint_finds_nothing() -> None:
    result = run(
        [tool("hadolint"), "--format", "json", "--failure-threshold", "info", str(DOCKERFILE)]
    )
    assert result.returncode == 0, f"hadolint findings:\n{result.stdout}{result.stderr}"
    assert json.loads(result.stdout or "[]") == []


def test_multi_stage_on_one_pinned_slim_base(all_stages: list[Stage]) -> None:
    assert len(all_stages) >= 2
    bases = {stage.base for stage in all_stages}
    assert len(bases) == 1, f"builder and runtime on different bases: {bases}"
    (base,) = bases
    assert re.fullmatch(r"python:3\.11[\w.-]*-slim[\w.-]*", base), base


def test_final_stage_builds_nothing(final: Stage) -> None:
    for command in final.all("RUN"):
        assert not BUILD_TOOLS.search(command), f"the runtime stage installs or builds: {command}"
    copied = " ".join(final.all("COPY"))
    assert "--from=builder /opt/venv /opt/venv" in copied


def test_runs_as_a_fixed_non_root_user(final: Stage) -> None:
    user, _, group = final.one("USER").partition(":")
    assert user == str(APP_UID), "a numeric UID lets Kubernetes check runAsNonRoot"
    assert group == str(APP_UID)
    assert any(f"--uid {APP_UID}" in command for command in final.all("RUN"))


def test_entrypoint_and_cmd_are_real_commands(final: Stage) -> None:
    assert exec_form(final.one("ENTRYPOINT")) == ["entente"]
    cmd = exec_form(final.one("CMD"))
    assert entente_command(cmd) == "serve"
    assert option(cmd, "--host") == "0.0.0.0"  # noqa: S104 - inside the container, on purpose
    assert final.one("EXPOSE") == option(cmd, "--port")


def test_healthcheck_probes_healthz_with_python(final: Stage) -> None:
    healthcheck = final.one("HEALTHCHECK")
    probe = exec_form(healthcheck[healthcheck.index("CMD ") + 4 :])
    assert probe[:2] == ["python", "-c"]
    port = option(exec_form(final.one("CMD")), "--port")
    assert f"urllib.request.urlopen('http://127.0.0.1:{port}/healthz'" in probe[2]
    compile(probe[2], "<healthcheck>", "exec")


def test_environment(final: Stage) -> None:
    env = dict(
        shlex.split(item)[0].split("=", 1) for item in shlex.split(" ".join(final.all("ENV")))
    )
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert env["PYTHONUNBUFFERED"] == "1"
    assert env["PATH"].startswith("/opt/venv/bin:")
    assert unknown_variables(env) == []
    data_dir = env["ENTENTE_DATA_DIR"]
    assert any(
        f"--owner={APP_UID}" in command and data_dir in command for command in final.all("RUN")
    ), "the data directory must belong to the app user"


def test_oci_labels(final: Stage) -> None:
    labels = " ".join(final.all("LABEL"))
    for key in ("title", "description", "version", "revision", "licenses"):
        assert f"org.opencontainers.image.{key}=" in labels


def test_migrations_sit_where_migrate_looks_for_them(final: Stage) -> None:
    """service/migrate.py finds alembic.ini and migrations/ in the directory above the package."""
    assert Path(migrate.__file__).resolve().parent.parent == migrate.ROOT
    destinations = {}
    for copy in final.all("COPY"):
        *sources, destination = [word for word in copy.split() if not word.startswith("--")]
        destinations[Path(sources[-1]).name] = Path(destination)
    app = destinations["service"].parent
    assert destinations["alembic.ini"] in (app / "alembic.ini", app)
    assert destinations["migrations"] == app / "migrations"
    assert final.one("WORKDIR") == str(app)


def test_the_builder_installs_the_project_with_the_lock(all_stages: list[Stage]) -> None:
    install = " ".join(all_stages[0].all("RUN"))
    assert "--constraint requirements.lock" in install
    assert "'.[otel]'" in install


# -- .dockerignore -------------------------------------------------------------------------------


def ignore_patterns() -> list[tuple[bool, re.Pattern[str]]]:
    """(excluded?, regex) per .dockerignore line, in order: the last match decides."""
    patterns = []
    for raw in (ROOT / ".dockerignore").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        glob = line.removeprefix("!").strip("/")
        regex = re.escape(glob).replace(r"\*\*", ".*").replace(r"\*", "[^/]*").replace(r"\?", ".")
        patterns.append((not negated, re.compile(regex.replace(r"\[co\]", "[co]"))))
    return patterns


def in_context(path: str) -> bool:
    """Docker's rule: a pattern matches a path or any directory above it; the last match wins."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: index + 1]) for index in range(len(parts))]
    excluded = False
    for excludes, pattern in ignore_patterns():
        if any(pattern.fullmatch(prefix) for prefix in prefixes):
            excluded = excludes
    return not excluded


@pytest.mark.parametrize(
    "path",
    [
        ".venv/bin/python",
        ".git/HEAD",
        "var/entente.db",
        "var/keys/signing-key.pem",
        "tests/conftest.py",
        "bench/webhooks.py",
        "docs/screenshots/inbox.png",
        "deploy/compose/secrets/signing-key.pem",
        "deploy/compose/.env",
        "service/__pycache__/cli.cpython-311.pyc",
        ".pytest_cache/v/cache/nodeids",
        ".ruff_cache/CACHEDIR.TAG",
    ],
)
def test_dockerignore_keeps_out(path: str) -> None:
    assert not in_context(path)


def test_dockerignore_lets_in_every_copied_source(all_stages: list[Stage]) -> None:
    copied = [
        source
        for stage in all_stages
        for copy in stage.all("COPY")
        if "--from=" not in copy
        for source in copy.split()[:-1]
    ]
    assert copied
    for source in copied:
        assert in_context(source.rstrip("/")), f"{source} is copied but .dockerignore drops it"
    assert in_context("service/web/templates/base.html")
    assert in_context("migrations/env.py")
