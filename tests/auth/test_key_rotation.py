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
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from jose import jwt as jose_jwt

from service import files
from service.app import create_app
from service.auth import jwt, keys, rotation
from service.auth import keyring as keyring_module
from service.auth.jwt import TokenError
from service.auth.keyring import KeyRing
from service.auth.tokens import TokenService
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

    rotated = rotation.rotate(key_file, retired_dir)
    old, new = rotated.old, rotated.new
    follow_files(app)

    assert old.kid == old_kid
    assert not rotated.staged
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
    new = rotation.rotate(key_file, retired_dir).new

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

    rotated = rotation.rotate(key_file, retired_dir)
    old, new = rotated.old, rotated.new

    path = retired_dir / f"{old.kid}.json"
    document = json.loads(path.read_text())
    assert set(document) == {"kty", "crv", "x", "y", "kid", "alg", "use", "status", "retired_at"}
    assert document["status"] == "retired"
    assert document["kid"] == old.kid
    assert datetime.fromisoformat(document["retired_at"]) <= datetime.now(UTC)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert keys.load_or_create(key_file).kid == new.kid
    assert [p.name for p in key_file.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_bad_retired_files_are_skipped_and_the_current_key_listed_once(key_file, retired_dir):
    current = keys.load_or_create(key_file)
    rotation.write_published(retired_dir, keys.retire(current, at=datetime.now(UTC)))  # a crash
    stranger = keys.SigningKey.from_pem(keys.generate_pem())
    private = {**stranger.jwk(), "d": "x", "retired_at": "2026-01-01T00:00:00Z"}
    (retired_dir / f"{stranger.kid}.json").write_text(json.dumps(private))
    (retired_dir / "misnamed.json").write_text(
        json.dumps(keys.retire(stranger, at=LONG_AGO).document())
    )
    (retired_dir / "garbage.json").write_text("{not json")
    for document in ({"status": "next", "retired_at": "2026-01-01T00:00:00Z"}, {"status": "later"}):
        odd = keys.SigningKey.from_pem(keys.generate_pem())
        (retired_dir / f"{odd.kid}.json").write_text(json.dumps({**odd.jwk(), **document}))

    ring = KeyRing(key_file, retired_dir, publish_days=400)

    assert [jwk["kid"] for jwk in ring.published()] == [current.kid]
    assert all("d" not in jwk for jwk in ring.published())


def test_keys_commands_rotate_list_and_prune(tmp_path, key_file, retired_dir):
    keys.load_or_create(key_file)
    first = rotation.rotate(key_file, retired_dir, now=LONG_AGO).old
    second = keys.load_or_create(key_file)

    rotated = entente_keys(tmp_path, "rotate")
    third = keys.load_or_create(key_file)
    listing = entente_keys(tmp_path, "list").splitlines()
    pruned = entente_keys(tmp_path, "prune")

    assert f"retired {second.kid}" in rotated
    assert f"current {third.kid}: " in rotated
    assert "`entente keys stage` first" in rotated  # nothing was staged
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


# Staged rotation: the next key is published everywhere before anyone signs with it.


@dataclass(frozen=True)
class KeyFiles:
    """The key files as one replica (or the operator's local copy) sees them."""

    key_file: Path
    retired_dir: Path

    @classmethod
    def at(cls, root: Path) -> KeyFiles:
        return cls(root / "keys" / "signing-key.pem", root / "retired")

    def ring(self) -> KeyRing:
        return KeyRing(self.key_file, self.retired_dir, publish_days=400, check_every=0)


def deliver(source: KeyFiles, to: KeyFiles, *, secret: bool, config_map: bool) -> None:
    """What the kubelet does, separately for each volume: the new files replace the old ones."""
    if secret:
        files.replace(to.key_file, source.key_file.read_bytes(), mode=0o600)
    if config_map:
        to.retired_dir.mkdir(parents=True, exist_ok=True)
        for stale in set(to.retired_dir.glob("*.json")):
            if not (source.retired_dir / stale.name).exists():
                stale.unlink()
        for path in source.retired_dir.glob("*.json"):
            files.replace(to.retired_dir / path.name, path.read_bytes(), mode=0o644)


def accepts(service: TokenService, token: str) -> bool:
    try:
        service.verify_own(token, jwt.unverified_header(token))
    except TokenError:
        return False
    return True


def replicas(tmp_path: Path, settings: Settings):
    """The operator's local copy of the key, and two replicas that have the same files."""
    local, a, b = (KeyFiles.at(tmp_path / name) for name in ("local", "a", "b"))
    keys.load_or_create(local.key_file)
    for replica in (a, b):
        deliver(local, replica, secret=True, config_map=True)
    return local, *(TokenService(settings, replica.ring(), None) for replica in (a, b)), a, b


@pytest.mark.parametrize(
    ("secret", "config_map"),
    [(False, False), (True, False), (False, True), (True, True)],
    ids=["b-has-stage-only", "b-has-new-secret", "b-has-new-config-map", "b-has-both"],
)
def test_during_a_staged_rotation_every_replica_accepts_every_token(
    settings, tmp_path, secret, config_map
):
    local, on_a, on_b, a, b = replicas(tmp_path, settings)
    old = on_a.signing_key
    before = on_a.issue("user:before", ttl=300, claims={})

    staged = rotation.stage(local.key_file, local.retired_dir).key
    for replica in (a, b):  # step 1: the ConfigMap, everywhere
        deliver(local, replica, secret=False, config_map=True)
    rotation.rotate(local.key_file, local.retired_dir)
    deliver(local, a, secret=True, config_map=True)  # step 2 reached A, and maybe part of it B
    deliver(local, b, secret=secret, config_map=config_map)

    signed_by_a = on_a.issue("user:a", ttl=300, claims={})
    signed_by_b = on_b.issue("user:b", ttl=300, claims={})
    assert jwt.unverified_header(signed_by_a)["kid"] == staged.kid
    assert on_b.signing_key.kid == (staged.kid if secret else old.kid)
    for service in (on_a, on_b):
        assert all(accepts(service, token) for token in (before, signed_by_a, signed_by_b))


def test_without_staging_a_replica_refuses_tokens_of_the_new_key_until_it_has_it(
    settings, tmp_path
):
    local, on_a, on_b, a, b = replicas(tmp_path, settings)

    rotation.rotate(local.key_file, local.retired_dir)
    deliver(local, a, secret=True, config_map=True)

    assert not accepts(on_b, on_a.issue("user:a", ttl=300, claims={}))
    deliver(local, b, secret=False, config_map=True)
    assert not accepts(on_b, on_a.issue("user:a", ttl=300, claims={}))  # still not published


async def test_a_replica_with_only_the_staged_key_accepts_tokens_of_a_promoted_replica(
    app, client, world, settings, database, key_file, retired_dir, tmp_path
):
    a, local, b = KeyFiles(key_file, retired_dir), *(KeyFiles.at(tmp_path / n) for n in "lb")
    deliver(a, local, secret=True, config_map=True)  # the operator copies the Secret out
    deliver(local, b, secret=True, config_map=True)
    b_settings = Settings(
        data_dir=tmp_path / "b",
        database_url=settings.database_url,
        signing_key_file=b.key_file,
        signing_key_retired_dir=b.retired_dir,
        serve_worker=False,
    )
    async with running(create_app(b_settings, database=database)) as replica:
        staged = rotation.stage(local.key_file, local.retired_dir).key
        deliver(local, a, secret=False, config_map=True)
        deliver(local, b, secret=False, config_map=True)
        rotation.rotate(local.key_file, local.retired_dir)
        deliver(local, a, secret=True, config_map=True)
        follow_files(app)
        follow_files(replica)
        token = mint(app, f"user:{world.officer.id}")
        async with http_client(replica) as b_client:
            response = await b_client.get("/api/v1/me", headers=bearer(token))
            published = kids((await b_client.get("/.well-known/jwks.json")).json())
    assert jose_jwt.get_unverified_header(token)["kid"] == staged.kid
    assert replica.state.tokens.signing_key.kid != staged.kid  # B has not seen the new Secret
    assert response.status_code == 200, response.text
    assert staged.kid in published


async def test_a_staged_key_is_published_and_accepted_but_nothing_is_signed_with_it(
    app, client, world, key_file, retired_dir
):
    current = app.state.tokens.signing_key
    staged = rotation.stage(key_file, retired_dir).key
    follow_files(app)

    published = kids((await client.get("/.well-known/jwks.json")).json())
    issued = app.state.tokens.issue(f"user:{world.officer.id}", ttl=300, claims={})
    notice = await signed_notice(app, client, world, "STG")
    by_staged = jose_jwt.encode(
        own_claims(app, f"user:{world.officer.id}"),
        staged.private_pem,
        algorithm="ES256",
        headers={"kid": staged.kid, "typ": "at+jwt"},
    )

    assert published == [current.kid, staged.kid]
    assert jose_jwt.get_unverified_header(issued)["kid"] == current.kid
    assert jose_jwt.get_unverified_header(notice)["kid"] == current.kid
    assert (await client.get("/api/v1/me", headers=bearer(by_staged))).status_code == 200


def test_stage_creates_the_next_key_once(key_file, retired_dir):
    current = keys.load_or_create(key_file)

    umask = os.umask(0o077)  # as the README has it for a local copy of the key
    try:
        first = rotation.stage(key_file, retired_dir)
        again = rotation.stage(key_file, retired_dir)
    finally:
        os.umask(umask)

    next_file = key_file.with_name("signing-key.pem.next")
    assert again.key == first.key
    assert [path.name for path in first.written] == [f"{current.kid}.json", f"{first.key.kid}.json"]
    assert again.written == []
    assert next_file.read_text() == first.key.private_pem
    assert stat.S_IMODE(next_file.stat().st_mode) == 0o600
    assert {stat.S_IMODE(path.stat().st_mode) for path in first.written} == {0o644}  # public
    assert statuses_in(retired_dir) == {current.kid: "current", first.key.kid: "next"}
    assert "retired_at" not in json.loads((retired_dir / f"{first.key.kid}.json").read_text())
    assert keys.load_or_create(key_file) == current
    assert [p.name for p in key_file.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_rotate_promotes_the_staged_key(key_file, retired_dir):
    old = keys.load_or_create(key_file)
    staged = rotation.stage(key_file, retired_dir).key

    rotated = rotation.rotate(key_file, retired_dir)

    assert (rotated.old, rotated.new, rotated.staged) == (old, staged, True)
    assert key_file.read_text() == staged.private_pem
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert not rotation.next_file(key_file).exists()
    assert statuses_in(retired_dir) == {old.kid: "retired", staged.kid: "current"}
    retired_at = json.loads((retired_dir / f"{old.kid}.json").read_text())["retired_at"]
    assert datetime.fromisoformat(retired_at) <= datetime.now(UTC)
    assert rotation.rotate(key_file, retired_dir).staged is False  # nothing staged any more


def test_a_staged_key_never_expires_and_files_without_status_are_retired(key_file, retired_dir):
    current = keys.load_or_create(key_file)
    staged = rotation.stage(key_file, retired_dir).key
    legacy = keys.SigningKey.from_pem(keys.generate_pem())
    document = {**legacy.jwk(), "retired_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    (retired_dir / f"{legacy.kid}.json").write_text(json.dumps(document))  # the format before

    ring = KeyRing(key_file, retired_dir, publish_days=1)
    no_window = KeyRing(key_file, retired_dir, publish_days=0)

    assert [jwk["kid"] for jwk in ring.published()] == [current.kid, staged.kid, legacy.kid]
    assert [jwk["kid"] for jwk in no_window.published()] == [current.kid, staged.kid]
    assert ring.current.kid == current.kid
    pruned = rotation.prune(key_file, retired_dir, publish_days=0, now=datetime.now(UTC))
    assert [key.kid for key in pruned] == [legacy.kid]
    assert statuses_in(retired_dir) == {current.kid: "current", staged.kid: "next"}


def statuses_in(retired_dir: Path) -> dict[str, str]:
    documents = (json.loads(path.read_text()) for path in retired_dir.glob("*.json"))
    return {document["kid"]: document["status"] for document in documents}


def test_keys_commands_stage_list_prune_and_rotate(tmp_path, key_file, retired_dir):
    keys.load_or_create(key_file)
    first = rotation.rotate(key_file, retired_dir, now=LONG_AGO).old
    second = keys.load_or_create(key_file)

    staged = entente_keys(tmp_path, "stage")
    again = entente_keys(tmp_path, "stage")
    upcoming = keys.SigningKey.from_pem(rotation.next_file(key_file).read_text())
    listing = entente_keys(tmp_path, "list").splitlines()
    pruned = entente_keys(tmp_path, "prune")
    rotated = entente_keys(tmp_path, "rotate")
    after = entente_keys(tmp_path, "list").splitlines()

    assert f"staged next {upcoming.kid}" in staged
    assert f"published {retired_dir / f'{upcoming.kid}.json'}" in staged
    assert f"next {upcoming.kid} is staged already" in again
    assert "published" not in again
    assert [line.split()[:2] for line in listing[1:]] == [
        [second.kid, "current"],
        [upcoming.kid, "next"],
        [first.kid, "expired"],
    ]
    assert f"deleted {first.kid}" in pruned
    assert "1 retired key(s) pruned" in pruned
    assert f"current {upcoming.kid} (was staged)" in rotated
    assert "hint" not in rotated
    assert [line.split()[:2] for line in after[1:]] == [
        [upcoming.kid, "current"],
        [second.kid, "retired"],
    ]


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
