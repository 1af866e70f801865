"""Forged tokens all get the same answer; the audit keeps the reason; no key is ever fetched.

The catalogue of attacks itself (each → 401, nothing stored, audited) is tests/abuse/test_tokens.py.
"""

from __future__ import annotations

from jose import jwt as jose_jwt

from service.auth.keys import SigningKey, generate_pem
from tests.abuse.tokens import ATTACKS, expired, subject
from tests.auth.helpers import audit_entries, bearer, mint, own_claims


async def test_baseline_minted_token_is_accepted(app, client, world):
    """The attack tokens below differ from this accepted one in one property only."""
    response = await client.get("/api/v1/me", headers=bearer(mint(app, subject(world))))
    assert response.status_code == 200, response.text
    assert response.json()["id"] == str(world.officer.id)


async def test_bad_tokens_all_get_the_same_answer(app, client, world):
    """The caller learns nothing about why a token failed (the reason is in the audit only)."""
    names = ("alg none", "expired", "unknown kid", "tampered payload", "sub of nobody")
    details = set()
    for name in names:
        response = await client.get("/api/v1/me", headers=ATTACKS[name](app, world))
        details.add(response.json()["detail"])
    assert len(details) == 1


async def test_audit_entry_keeps_the_reason(app, client, world):
    await client.get("/api/v1/me", headers=expired(app, world))

    [entry] = await audit_entries(app, "auth.token_rejected")
    assert entry.details["status"] == 401
    assert entry.details["path"] == "/api/v1/me"
    assert "expired" in entry.details["reason"].lower()


async def test_keys_offered_in_jku_and_x5u_are_never_fetched(app, client, world, jwks_server):
    attacker = SigningKey.from_pem(generate_pem())
    jwks_server.publish(attacker.jwk())
    header = {"kid": attacker.kid, "typ": "at+jwt", "jku": jwks_server.url, "x5u": jwks_server.url}
    claims = own_claims(app, subject(world))
    token = jose_jwt.encode(claims, attacker.private_pem, "ES256", headers=header)

    response = await client.get("/api/v1/me", headers=bearer(token))

    assert response.status_code == 401
    assert jwks_server.request_count() == 0
