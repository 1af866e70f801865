"""Bearer tokens with exactly one thing wrong, built by hand (SECURITY.md, Tokens).

Each builder takes the app and the world and returns the request's Authorization header.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives import serialization
from jose import jwt as jose_jwt

from service.auth.keys import SigningKey, generate_pem
from tests.auth.helpers import (
    DROP,
    b64json,
    b64url,
    bearer,
    compact,
    es256_signer,
    hs256_signer,
    mint,
    own_claims,
)
from tests.factories import World

Attack = Callable[[Any, World], dict[str, str]]


def subject(world: World) -> str:
    return f"user:{world.officer.id}"


def public_key(app: Any, encoding: serialization.Encoding) -> bytes:
    private = serialization.load_pem_private_key(
        app.state.tokens.signing_key.private_pem.encode(), password=None
    )
    return private.public_key().public_bytes(
        encoding, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def hs256_with(secret: bytes) -> Attack:
    """Algorithm confusion: HMAC keyed with our *public* key, which anyone can fetch."""

    def build(app: Any, world: World) -> dict[str, str]:
        header = {"alg": "HS256", "typ": "at+jwt", "kid": app.state.tokens.signing_key.kid}
        payload = json.dumps(own_claims(app, subject(world))).encode()
        return bearer(compact(header, payload, hs256_signer(secret)))

    return build


def hs256_public_pem(app: Any, world: World) -> dict[str, str]:
    return hs256_with(public_key(app, serialization.Encoding.PEM))(app, world)


def hs256_public_der(app: Any, world: World) -> dict[str, str]:
    return hs256_with(public_key(app, serialization.Encoding.DER))(app, world)


def hs256_public_jwk(app: Any, world: World) -> dict[str, str]:
    jwk_json = json.dumps(app.state.tokens.signing_key.jwk()).encode()
    return hs256_with(jwk_json)(app, world)


def alg_none(app: Any, world: World) -> dict[str, str]:
    header = {"alg": "none", "typ": "at+jwt", "kid": app.state.tokens.signing_key.kid}
    return bearer(f"{b64json(header)}.{b64json(own_claims(app, subject(world)))}.")


def tampered(app: Any, world: World) -> dict[str, str]:
    """A genuine officer token whose subject was changed to the host admin's."""
    head, _, signature = mint(app, subject(world)).split(".")
    forged = own_claims(app, f"user:{world.host_admin.id}")
    return bearer(f"{head}.{b64json(forged)}.{signature}")


def oversize(app: Any, world: World) -> dict[str, str]:
    token = mint(app, subject(world), padding="x" * 9000)
    assert len(token) > 8192
    return bearer(token)


def untyped(app: Any, world: World) -> dict[str, str]:
    header = {"alg": "ES256", "kid": app.state.tokens.signing_key.kid}
    payload = json.dumps(own_claims(app, subject(world))).encode()
    signer = es256_signer(app.state.tokens.signing_key.private_pem)
    return bearer(compact(header, payload, signer))


def attacker_key_in_header(header_names: tuple[str, ...], kid_of: str) -> Attack:
    """Signed with the attacker's key, which the header offers by value (jwk) or URL (jku)."""

    def build(app: Any, world: World) -> dict[str, str]:
        attacker = SigningKey.from_pem(generate_pem())
        offered = {
            "jwk": attacker.jwk(),
            "jku": "http://127.0.0.1:9/jwks.json",
            "x5u": "http://127.0.0.1:9/cert.pem",
        }
        header = {name: offered[name] for name in header_names}
        header["kid"] = attacker.kid if kid_of == "attacker" else app.state.tokens.signing_key.kid
        header["typ"] = "at+jwt"
        claims = own_claims(app, subject(world))
        return bearer(jose_jwt.encode(claims, attacker.private_pem, "ES256", headers=header))

    return build


def minted(headers: dict[str, Any] | None = None, **claims: Any) -> Attack:
    return lambda app, world: bearer(mint(app, subject(world), headers=headers, **claims))


def beyond_leeway(app: Any) -> int:
    """Seconds that are clearly outside the accepted clock skew."""
    return app.state.settings.token_leeway_seconds + 60


def expired(app: Any, world: World) -> dict[str, str]:
    now = int(time.time())
    long_ago = now - 600
    exp = now - beyond_leeway(app)
    return minted(exp=exp, iat=long_ago, nbf=long_ago)(app, world)


def not_yet_valid(app: Any, world: World) -> dict[str, str]:
    return minted(nbf=int(time.time()) + beyond_leeway(app))(app, world)


def exp_as_string(app: Any, world: World) -> dict[str, str]:
    return minted(exp=str(int(time.time()) + 300))(app, world)


def raw_payload(text: str) -> Attack:
    """Our own signature over a payload that ``json.dumps`` would not write (NaN, huge numbers)."""

    def build(app: Any, world: World) -> dict[str, str]:
        claims = own_claims(app, subject(world))
        claims["exp"] = "@EXP@"
        payload = json.dumps(claims).replace('"@EXP@"', text).encode()
        header = {"alg": "ES256", "typ": "at+jwt", "kid": app.state.tokens.signing_key.kid}
        return bearer(
            compact(header, payload, es256_signer(app.state.tokens.signing_key.private_pem))
        )

    return build


def issuer_list(app: Any, world: World) -> dict[str, str]:
    return minted(iss=[app.state.settings.token_issuer])(app, world)


def client_subject_of_a_user(app: Any, world: World) -> dict[str, str]:
    return bearer(mint(app, f"client:{world.officer.id}"))


def two_tokens(app: Any, world: World) -> dict[str, str]:
    token = mint(app, subject(world))
    return {"Authorization": f"Bearer {token} {token}"}


ATTACKS: dict[str, Attack] = {
    "missing header": lambda app, world: {},
    "basic scheme": lambda app, world: {"Authorization": "Basic b2ZmaWNlcjpwdw=="},
    "empty bearer": lambda app, world: {"Authorization": "Bearer "},
    "not a jwt": lambda app, world: bearer("abc"),
    "three junk segments": lambda app, world: bearer("a.b.c"),
    "garbage base64": lambda app, world: bearer("!!!$$$.%%%^^^.&&&***"),
    "base64 of non-json": lambda app, world: bearer(
        f"{b64url(b'not json')}.{b64url(b'nor this')}.{b64url(b'sig')}"
    ),
    "deeply nested payload": lambda app, world: bearer(
        f"{b64json({'alg': 'ES256'})}.{b64url(b'[' * 3000 + b']' * 3000)}.{b64url(b'sig')}"
    ),
    "alg none": alg_none,
    "hs256 keyed with public pem": hs256_public_pem,
    "hs256 keyed with public der": hs256_public_der,
    "hs256 keyed with public jwk": hs256_public_jwk,
    "expired": expired,
    "not yet valid": not_yet_valid,
    "wrong issuer": minted(iss="urn:entente:elsewhere"),
    "wrong audience": minted(aud="another-service"),
    "audience list without ours": minted(aud=["another-service", "third"]),
    "unknown kid": minted(headers={"kid": "no-such-key"}),
    "kid an object": minted(headers={"kid": {"id": "x"}}),
    "kid a list": minted(headers={"kid": ["x"]}),
    "tampered payload": tampered,
    "oversize": oversize,
    "no exp": minted(exp=DROP),
    "no iat": minted(iat=DROP),
    "no sub": minted(sub=DROP),
    "exp as string": exp_as_string,
    "iat as bool": minted(iat=True),
    "typ JWT": minted(headers={"typ": "JWT"}),
    "typ id token": minted(headers={"typ": "id_token+jwt"}),
    "no typ": untyped,
    "sub not a string": minted(sub=12345),
    "sub of nobody": minted(sub="user:00000000-0000-0000-0000-000000000000"),
    "sub not a uuid": minted(sub="user:officer"),
    "jwk header with attacker kid": attacker_key_in_header(("jwk",), "attacker"),
    "jwk header with our kid": attacker_key_in_header(("jwk",), "ours"),
    "jku header with attacker kid": attacker_key_in_header(("jku",), "attacker"),
    "jku and jwk headers": attacker_key_in_header(("jku", "jwk"), "ours"),
    "x5u header with attacker kid": attacker_key_in_header(("x5u",), "attacker"),
    "no iss": minted(iss=DROP),
    "no aud": minted(aud=DROP),
    "iss a list": issuer_list,
    "iss an integer": minted(iss=7),
    "aud an integer": minted(aud=7),
    "aud an object": minted(aud={"aud": "entente"}),
    "exp a float": minted(exp=time.time() + 300.5),
    "exp a bool": minted(exp=True),
    "exp NaN": raw_payload("NaN"),
    "exp Infinity": raw_payload("Infinity"),
    "exp negative": minted(exp=-(10**18)),
    "nbf a string": minted(nbf="now"),
    "sub empty": minted(sub=""),
    "sub a client id of a user": client_subject_of_a_user,
    "crit header": minted(headers={"crit": ["exp"], "exp": 1}),
    "alg ES384 over ES256": minted(headers={"alg": "ES384"}),
    "two tokens": two_tokens,
    "lowercase scheme of garbage": lambda app, world: {"Authorization": "bearer a.b.c"},
}
