"""Access tokens from a trusted external OpenID Connect issuer, with keys from a real JWKS URL."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jose import jwk
from jose import jwt as jose_jwt

from service.app import create_app
from service.config import ExternalIssuer
from tests.auth.helpers import bearer, compact, hs256_signer
from tests.factories import World, audit_actions, build_world, serving

ISSUER = "https://idp.test"


class IdpKey:
    """A key pair of the identity provider, able to sign tokens and publish itself."""

    def __init__(self, kid: str, algorithm: str, private: Any) -> None:
        self.kid, self.algorithm = kid, algorithm
        self.private_pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        self.public_pem = private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def jwk(self) -> dict[str, Any]:
        public = jwk.construct(self.private_pem, self.algorithm).public_key().to_dict()
        return public | {"kid": self.kid, "use": "sig", "alg": self.algorithm}

    def sign(self, claims: dict[str, Any], kid: str | None = None) -> str:
        headers = {"kid": kid or self.kid}
        return jose_jwt.encode(claims, self.private_pem, self.algorithm, headers=headers)


@pytest.fixture(scope="module")
def rsa_key() -> IdpKey:
    return IdpKey("rsa-1", "RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048))


@pytest.fixture(scope="module")
def ec_key() -> IdpKey:
    return IdpKey("ec-2", "ES256", ec.generate_private_key(ec.SECP256R1()))


def idp_claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": "entente",
        "sub": "idp-subject-42",
        "iat": now,
        "exp": now + 300,
        "org": "CA-GAC",
        "roles": ["export-officer", "coffee-drinker"],
        "preferred_username": "jdoe",
        "name": "Jane Doe",
    }
    return claims | overrides


def issuer_settings(settings, jwks_url: str, min_refresh: int):
    issuer = ExternalIssuer(
        issuer=ISSUER,
        jwks_url=jwks_url,
        audience="entente",
        org_claim="org",
        role_map={"export-officer": "officer"},
        roles_claim="roles",
    )
    changes = {"trusted_issuers": [issuer], "jwks_min_refresh_seconds": min_refresh}
    return settings.model_copy(update=changes)


@pytest.fixture
def oidc_app(settings, database, jwks_server, rsa_key):
    jwks_server.publish(rsa_key.jwk())
    return create_app(issuer_settings(settings, jwks_server.url, 0), database=database)


@pytest.fixture
async def oidc_client(oidc_app) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(oidc_app) as client:
        yield client


@pytest.fixture
async def oidc_world(oidc_app, oidc_client) -> World:
    """The seed parties (the host organization is CA-GAC) in the service under test."""
    return await build_world(oidc_app, oidc_client)


async def me(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get("/api/v1/me", headers=bearer(token))


async def test_issuer_token_provisions_the_user_once(oidc_app, oidc_client, oidc_world, rsa_key):
    token = rsa_key.sign(idp_claims())

    first = await me(oidc_client, token)
    second = await me(oidc_client, token)

    assert first.status_code == 200, first.text
    assert second.json() == first.json()
    body = first.json()
    assert body["roles"] == ["officer"]
    assert body["organization"]["code"] == "CA-GAC"
    assert (body["name"], body["display_name"]) == (f"jdoe@{ISSUER}", "Jane Doe")
    assert await audit_actions(oidc_app, action="user.provisioned") == ["user.provisioned"]


async def test_changed_roles_update_the_provisioned_user(
    oidc_app, oidc_client, oidc_world, rsa_key
):
    await me(oidc_client, rsa_key.sign(idp_claims()))

    response = await me(oidc_client, rsa_key.sign(idp_claims(roles=["auditor"])))

    assert response.json()["roles"] == ["auditor"]
    assert await audit_actions(oidc_app, action="user.provisioned") == ["user.provisioned"]
    assert await audit_actions(oidc_app, action="user.updated") == ["user.updated"]


async def test_rotated_key_is_fetched_on_first_sight(
    oidc_client, oidc_world, jwks_server, rsa_key, ec_key
):
    assert (await me(oidc_client, rsa_key.sign(idp_claims()))).status_code == 200
    jwks_server.publish(ec_key.jwk())

    response = await me(oidc_client, ec_key.sign(idp_claims()))

    assert response.status_code == 200, response.text
    assert (await me(oidc_client, rsa_key.sign(idp_claims()))).status_code == 401


async def test_known_key_is_served_from_the_cache(oidc_client, oidc_world, jwks_server, rsa_key):
    for _ in range(3):
        response = await me(oidc_client, rsa_key.sign(idp_claims()))
        assert response.status_code == 200, response.text

    assert jwks_server.request_count() == 1


def hs256_keyed_with_public_pem(rsa_key: IdpKey) -> str:
    header = {"alg": "HS256", "typ": "JWT", "kid": rsa_key.kid}
    payload = json.dumps(idp_claims()).encode()
    return compact(header, payload, hs256_signer(rsa_key.public_pem))


REJECTED = {
    "kid not in the jwks": lambda key: key.sign(idp_claims(), kid="never-published"),
    "hs256 keyed with the public pem": hs256_keyed_with_public_pem,
    "unknown organization code": lambda key: key.sign(idp_claims(org="XX-NOWHERE")),
    "no organization claim": lambda key: key.sign(idp_claims(org=None)),
    "wrong audience": lambda key: key.sign(idp_claims(aud="someone-else")),
    "issuer not configured": lambda key: key.sign(idp_claims(iss="https://evil.test")),
    "expired": lambda key: key.sign(idp_claims(exp=int(time.time()) - 3600)),
    "no exp": lambda key: key.sign({k: v for k, v in idp_claims().items() if k != "exp"}),
    "sub not a string": lambda key: key.sign(idp_claims(sub=42)),
    "sub too long": lambda key: key.sign(idp_claims(sub="s" * 300)),
}


@pytest.mark.parametrize("build", REJECTED.values(), ids=REJECTED.keys())
async def test_bad_issuer_tokens_are_rejected(oidc_app, oidc_client, oidc_world, rsa_key, build):
    before = await audit_actions(oidc_app, action="auth.token_rejected")

    response = await me(oidc_client, build(rsa_key))

    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert len(await audit_actions(oidc_app, action="auth.token_rejected")) == len(before) + 1
    assert await audit_actions(oidc_app, action="user.provisioned") == []


async def test_key_signed_by_someone_else_is_rejected(oidc_client, oidc_world, rsa_key, ec_key):
    """The attacker reuses the published kid but signs with a key of their own."""
    token = ec_key.sign(idp_claims(), kid=rsa_key.kid)
    assert (await me(oidc_client, token)).status_code == 401


async def test_deactivated_external_user_is_locked_out(oidc_app, oidc_client, oidc_world, rsa_key):
    token = rsa_key.sign(idp_claims())
    user_id = (await me(oidc_client, token)).json()["id"]
    response = await oidc_client.patch(
        f"/api/v1/users/{user_id}", json={"active": False}, headers=oidc_world.host_admin.headers
    )
    assert response.status_code == 200, response.text

    assert (await me(oidc_client, token)).status_code == 401


async def test_forged_kids_do_not_hammer_the_issuer(settings, database, jwks_server, rsa_key):
    """Within jwks_min_refresh_seconds, unknown kids are refused from the cache."""
    jwks_server.publish(rsa_key.jwk())
    application = create_app(issuer_settings(settings, jwks_server.url, 30), database=database)
    async with serving(application) as client:
        await build_world(application, client)
        for n in range(5):
            token = rsa_key.sign(idp_claims(), kid=f"forged-{n}")
            assert (await me(client, token)).status_code == 401

    assert jwks_server.request_count() == 1
