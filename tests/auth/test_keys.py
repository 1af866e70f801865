"""The service's signing key: published as a public JWK, kept private on disk, stable."""

from __future__ import annotations

import stat

from jose import jwt as jose_jwt

from service.auth import keys


async def test_jwks_publishes_one_public_p256_key(app, client):
    response = await client.get("/.well-known/jwks.json")

    assert response.status_code == 200, response.text
    [key] = response.json()["keys"]
    assert (key["kty"], key["crv"], key["alg"], key["use"]) == ("EC", "P-256", "ES256", "sig")
    assert key["kid"] == app.state.tokens.signing_key.kid
    assert "d" not in key
    assert set(key) == {"kty", "crv", "x", "y", "kid", "alg", "use"}


async def test_published_key_verifies_issued_tokens(client, world):
    [key] = (await client.get("/.well-known/jwks.json")).json()["keys"]
    token = world.officer.token

    assert jose_jwt.get_unverified_header(token)["kid"] == key["kid"]
    claims = jose_jwt.decode(token, key, algorithms=["ES256"], audience="entente")
    assert claims["sub"] == f"user:{world.officer.id}"


def test_key_file_is_private_and_reloads_with_the_same_kid(tmp_path):
    path = tmp_path / "keys" / "signing-key.pem"

    first = keys.load_or_create(path)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    second = keys.load_or_create(path)
    assert second.kid == first.kid
    assert second.private_pem == first.private_pem


def test_kid_is_the_rfc7638_thumbprint(tmp_path):
    key = keys.load_or_create(tmp_path / "k.pem")
    assert key.kid == keys.thumbprint(key.public)
    assert len(key.kid) == 43  # base64url of a SHA-256 digest, unpadded


def test_separate_key_files_get_separate_keys(tmp_path):
    one = keys.load_or_create(tmp_path / "one.pem")
    two = keys.load_or_create(tmp_path / "two.pem")
    assert one.kid != two.kid
