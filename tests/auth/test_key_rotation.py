"""Rotating the signing key: old tokens and notices keep verifying, every replica follows.

Each test here has its own key directory (the suite's shared key file is never rotated).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import stat
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from jose import jwt as jose_jwt

from service.app import create_app
from service.auth import keyring as keyring_module
from service.auth import keys, rotation
from service.auth.keyring import KeyRing
from service.config import Settings
from tests.auth.helpers import assert_problem, bearer, mint, own_claims
from tests.auth.key_creators import create_secrets_key, create_signing_key
from tests.domain import add_assurance, add_permits
from tests.factories import http_client, running
from tests.notices.helpers import drafted_and_issued
from tests.notices.test_signing import verify

LONG_AGO = datetime.now(UTC) - timedelta(days=401)


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    return tmp_path / "keys" / "signing-key.pem"


@pytest.fixture
def retired_dir(key_file: Path) -> Path:
    return key_file.parent / "retired"


@pytest.fixture
def settings(database_url: str, key_file: Path, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url=database_url,
        signing_key_file=key_file,
        serve_worker=False,
    )


async def signed_notice(app, client, world, prefix: str) -> str:
    """An issued notice's JWS, signed with the key current now."""
    permits = await add_permits(app, world, 1, prefix=prefix)
    assurance = await add_assurance(app, world, [permits[0].id])
    issued = await drafted_and_issued(
        client, world, "cancellation", [permits[0].id], breached_assurance_ids=[str(assurance.id)]
    )
    response = await client.get(
        f"/api/v1/notices/{issued['id']}/signed", headers=world.diplomat.headers
    )
    assert response.status_code == 200, response.text
    return response.text


def follow_files(app) -> None:
    """As if the key ring's check interval had passed since its last look at the files."""
    app.state.tokens.keyring.checked_at -= keyring_module.CHECK_EVERY_SECONDS


def kids(document: dict) -> list[str]:
    return [key["kid"] for key in document["keys"]]


async def test_after_rotation_old_tokens_and_notices_verify_and_new_ones_use_the_new_key(
    app, client, world, key_file, retired_dir
):
    old_notice = await signed_notice(app, client, world, "OLD")
    old_kid = app.state.tokens.signing_key.kid

    old, new = rotation.rotate(key_file, retired_dir)
    follow_files(app)

    assert old.kid == old_kid
    assert app.state.tokens.signing_key.kid == new.kid
    assert kids((await client.get("/.well-known/jwks.json")).json()) == [new.kid, old.kid]
    assert (await client.get("/api/v1/me", headers=world.officer.headers)).status_code == 200
    assert json.loads(await verify(client, old_notice))["kind"] == "cancellation"
    new_notice = await signed_notice(app, client, world, "NEW")
    assert jose_jwt.get_unverified_header(new_notice)["kid"] == new.kid
    await verify(client, new_notice)
    new_token = mint(app, f"user:{world.officer.id}")
    assert jose_jwt.get_unverified_header(new_token)["kid"] == new.kid
    assert (await client.get("/api/v1/me", headers=bearer(new_token))).status_code == 200


async def test_a_retired_key_past_its_window_is_neither_published_nor_accepted(
    app, client, world, key_file, retired_dir
):
    old = app.state.tokens.signing_key
    token = jose_jwt.encode(
        own_claims(app, f"user:{world.officer.id}"),
        old.private_pem,
        algorithm="ES256",
        headers={"kid": old.kid, "typ": "at+jwt"},
    )

    rotation.rotate(key_file, retired_dir, now=LONG_AGO)
    follow_files(app)

    assert old.kid not in kids((await client.get("/.well-known/jwks.json")).json())
    assert_problem(await client.get("/api/v1/me", headers=bearer(token)), 401)


async def test_a_replica_accepts_a_token_signed_with_a_key_rotated_elsewhere(
    app, client, world, settings, database, key_file, retired_dir
):
    async with running(create_app(settings, database=database)) as replica:
        rotation.rotate(key_file, retired_dir)
        follow_files(app)
        token = mint(app, f"user:{world.officer.id}")
        async with http_client(replica) as replica_client:
            # Checked the files just now: the unknown kid waits for the next look.
            assert_problem(await replica_client.get("/api/v1/me", headers=bearer(token)), 401)
            follow_files(replica)
            response = await replica_client.get("/api/v1/me", headers=bearer(token))
    assert response.status_code == 200, response.text


def test_unknown_kids_cost_one_look_at_the_files_per_interval(key_file, retired_dir, monkeypatch):
    keys.load_or_create(key_file)
    now = [0.0]
    ring = KeyRing(key_file, retired_dir, publish_days=400, check_every=5, clock=lambda: now[0])
    looks, loads = counting(monkeypatch, "stamp_of"), counting(monkeypatch, "load")
    _, new = rotation.rotate(key_file, retired_dir)

    for now[0] in (1.0, 2.0, 4.9):
        assert ring.find(new.kid) is None
    assert (looks(), loads()) == (0, 0)
    now[0] = 5.0
    assert ring.find(new.kid) is not None
    assert ring.current.kid == new.kid
    for now[0] in (6.0, 9.0, 10.0, 12.0):
        assert ring.find("no-such-kid") is None
    assert (looks(), loads()) == (2, 1)  # at 5 s (changed: read) and at 10 s (unchanged)


def counting(monkeypatch, name: str):
    real = getattr(keyring_module, name)
    calls = []

    def counted(*args):
        calls.append(args)
        return real(*args)

    monkeypatch.setattr(keyring_module, name, counted)
    return lambda: len(calls)


def test_retired_files_hold_the_public_jwk_only(key_file, retired_dir):
    keys.load_or_create(key_file)

    old, new = rotation.rotate(key_file, retired_dir)

    path = retired_dir / f"{old.kid}.json"
    document = json.loads(path.read_text())
    assert set(document) == {"kty", "crv", "x", "y", "kid", "alg", "use", "retired_at"}
    assert document["kid"] == old.kid
    assert datetime.fromisoformat(document["retired_at"]) <= datetime.now(UTC)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert keys.load_or_create(key_file).kid == new.kid
    assert [p.name for p in key_file.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_bad_retired_files_are_skipped_and_the_current_key_listed_once(key_file, retired_dir):
    current = keys.load_or_create(key_file)
    rotation.write_retired(retired_dir, keys.retire(current, at=datetime.now(UTC)))  # a crash
    stranger = keys.SigningKey.from_pem(keys.generate_pem())
    private = {**stranger.jwk(), "d": "x", "retired_at": "2026-01-01T00:00:00Z"}
    (retired_dir / f"{stranger.kid}.json").write_text(json.dumps(private))
    (retired_dir / "misnamed.json").write_text(
        json.dumps(keys.retire(stranger, at=LONG_AGO).document())
    )
    (retired_dir / "garbage.json").write_text("{not json")

    ring = KeyRing(key_file, retired_dir, publish_days=400)

    assert [jwk["kid"] for jwk in ring.published()] == [current.kid]
    assert all("d" not in jwk for jwk in ring.published())


def test_keys_commands_rotate_list_and_prune(tmp_path, key_file, retired_dir):
    keys.load_or_create(key_file)
    first, second = rotation.rotate(key_file, retired_dir, now=LONG_AGO)

    rotated = entente_keys(tmp_path, "rotate")
    third = keys.load_or_create(key_file)
    listing = entente_keys(tmp_path, "list").splitlines()
    pruned = entente_keys(tmp_path, "prune")

    assert f"retired {second.kid}" in rotated
    assert f"current {third.kid}" in rotated
    assert [line.split()[:2] for line in listing[1:]] == [
        [third.kid, "current"],
        [second.kid, "retired"],
        [first.kid, "expired"],
    ]
    assert f"deleted {first.kid}" in pruned
    assert [path.stem for path in retired_dir.glob("*.json")] == [second.kid]


def entente_keys(data_dir: Path, *args: str) -> str:
    env = {**os.environ, "ENTENTE_DATA_DIR": str(data_dir)}
    result = subprocess.run(  # noqa: S603 - our own command
        [sys.executable, "-m", "service", "keys", *args],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_rotate_without_a_key_says_where_it_looked(tmp_path):
    env = {**os.environ, "ENTENTE_DATA_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "service", "keys", "rotate"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 1, result.stdout
    assert "no signing key at" in result.stderr
    assert "Traceback" not in result.stderr


# Replicas starting at once: one key, and nobody reads a half-written file.

CREATORS = 12
PROCESSES = 6


@pytest.mark.parametrize("create", [create_signing_key, create_secrets_key])
@pytest.mark.parametrize("round_", range(5))
def test_threads_creating_a_key_at_once_all_read_the_same_whole_key(tmp_path, create, round_):
    path = tmp_path / "keys" / "key"
    barrier, results = threading.Barrier(CREATORS), QueueList()
    threads = [
        threading.Thread(target=create, args=(path, barrier, results)) for _ in range(CREATORS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert_one_key(path, results.items, create)


@pytest.mark.parametrize("create", [create_signing_key, create_secrets_key])
def test_processes_creating_a_key_at_once_all_read_the_same_whole_key(tmp_path, create):
    path = tmp_path / "keys" / "key"
    context = multiprocessing.get_context("spawn")
    barrier, queue = context.Barrier(PROCESSES), context.Queue()
    processes = [
        context.Process(target=create, args=(path, barrier, queue)) for _ in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    results = [queue.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    assert_one_key(path, results, create, PROCESSES)


class QueueList:
    def __init__(self) -> None:
        self.items: list = []

    def put(self, item) -> None:
        self.items.append(item)


def assert_one_key(path: Path, results: list, create, count: int = CREATORS) -> None:
    assert len(results) == count
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    if create is create_signing_key:
        assert len(set(results)) == 1
        assert results[0] == (keys.load_or_create(path).kid, path.read_text())
    else:
        fernet = Fernet(path.read_bytes().strip())
        assert {fernet.decrypt(sealed.encode()) for sealed in results} == {b"probe"}
