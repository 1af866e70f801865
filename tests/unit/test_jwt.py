"""service.auth.jwt.decode: every malformed input is a TokenError, never anything else."""

from __future__ import annotations

import base64
import json
import random
import time
from typing import Any

import pytest
from jose import jwk

from service.auth import jwt
from service.auth.jwt import TokenError
from service.auth.keys import SigningKey, generate_pem

ISSUER, AUDIENCE = "urn:entente:local", "entente"
KEY = SigningKey.from_pem(generate_pem())


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def signed(payload: bytes, header: dict[str, Any] | None = None) -> str:
    """A correctly ES256-signed token over raw payload bytes (which need not be sane JSON)."""
    header = {"alg": "ES256", "typ": "at+jwt", "kid": KEY.kid} | (header or {})
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(payload)}"
    signature = jwk.construct(KEY.private_pem, "ES256").sign(signing_input.encode())
    return f"{signing_input}.{b64url(signature)}"


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {"iss": ISSUER, "aud": AUDIENCE, "sub": "user:x", "iat": now, "exp": now + 60}
    return base | overrides


def decode(token: str) -> dict[str, Any]:
    return jwt.decode(
        token, KEY.jwk(), algorithms=["ES256"], issuer=ISSUER, audience=AUDIENCE, leeway=0
    )


def test_a_sound_token_decodes():
    token = jwt.sign(claims(), KEY.private_pem, kid=KEY.kid)
    assert decode(token)["sub"] == "user:x"
    assert decode(signed(json.dumps(claims()).encode()))["iss"] == ISSUER


def garbage_strings(count: int = 40) -> list[str]:
    rng = random.Random(20240611)
    alphabet = "ABCDEFabcdef0123456789-_=+/.!~ é\u00ff\x00\U0001f4a5"
    strings = [
        "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80))) for _ in range(count)
    ]
    dotted = [
        ".".join(b64url(rng.randbytes(rng.randint(0, 40))) for _ in range(3)) for _ in range(count)
    ]
    return strings + dotted


FIXED_GARBAGE = [
    "",
    ".",
    "..",
    "...",
    "abc",
    "a.b.c",
    "a.b.c.d.e",
    "e30.e30.",
    "e30.e30.e30",
    "bnVsbA.bnVsbA.",  # null.null
    "W10.W10.W10",  # [].[]
    "MQ.MQ.MQ",  # 1.1
    "====.====.====",
    "eyJhbGciOiJFUzI1NiJ9",  # a header alone
    "eyJhbGciOiJFUzI1NiJ9..",
    "\x00\x00.\x00.\x00",
    "ü.ö.ä",
    "x" * 10_000,
]


@pytest.mark.parametrize("token", FIXED_GARBAGE + garbage_strings())
def test_garbage_is_a_token_error(token):
    with pytest.raises(TokenError):
        decode(token)


ODD_PAYLOADS = {
    "exp 1e400": lambda: json.dumps(claims()).replace('"exp": ', '"exp": 1e400, "x": '),
    "exp -1e400": lambda: json.dumps(claims()).replace('"exp": ', '"exp": -1e400, "x": '),
    "exp NaN": lambda: json.dumps(claims()).replace('"exp": ', '"exp": NaN, "x": '),
    "exp true": lambda: json.dumps(claims(exp=True)),
    "iat true": lambda: json.dumps(claims(iat=True)),
    "exp float": lambda: json.dumps(claims(exp=time.time() + 60.5)),
    "exp string": lambda: json.dumps(claims(exp=str(int(time.time()) + 60))),
    "exp words": lambda: json.dumps(claims(exp="tomorrow")),
    "exp null": lambda: json.dumps(claims(exp=None)),
    "exp list": lambda: json.dumps(claims(exp=[1, 2])),
    "exp object": lambda: json.dumps(claims(exp={"at": 1})),
    "nbf object": lambda: json.dumps(claims(nbf={"at": 1})),
    "nbf string": lambda: json.dumps(claims(nbf="now")),
    "iat list": lambda: json.dumps(claims(iat=[])),
    "aud list without ours": lambda: json.dumps(claims(aud=["other", "third"])),
    "aud object": lambda: json.dumps(claims(aud={"entente": True})),
    "aud number": lambda: json.dumps(claims(aud=7)),
    "aud list of objects": lambda: json.dumps(claims(aud=[{"a": 1}, [AUDIENCE]])),
    "iss object": lambda: json.dumps(claims(iss={"url": ISSUER})),
    "iss list": lambda: json.dumps(claims(iss=[ISSUER])),
    "sub object": lambda: json.dumps(claims(sub={"id": "x"})),
    "sub number": lambda: json.dumps(claims(sub=7)),
    "sub null": lambda: json.dumps(claims(sub=None)),
    "no exp": lambda: json.dumps({k: v for k, v in claims().items() if k != "exp"}),
    "no iat": lambda: json.dumps({k: v for k, v in claims().items() if k != "iat"}),
    "no aud": lambda: json.dumps({k: v for k, v in claims().items() if k != "aud"}),
    "no iss": lambda: json.dumps({k: v for k, v in claims().items() if k != "iss"}),
    "no sub": lambda: json.dumps({k: v for k, v in claims().items() if k != "sub"}),
    "deeply nested array": lambda: "[" * 3000 + "]" * 3000,
    "deeply nested claim": lambda: (
        json.dumps(claims())[:-1] + ', "x": ' + "[" * 3000 + "]" * 3000 + "}"
    ),
    "array payload": lambda: "[]",
    "null payload": lambda: "null",
    "number payload": lambda: "12",
    "string payload": lambda: '"claims"',
    "not json": lambda: "{not json",
    "duplicate exp keys": lambda: json.dumps(claims()).replace("}", ', "exp": "later"}'),
}


@pytest.mark.parametrize("payload", ODD_PAYLOADS.values(), ids=ODD_PAYLOADS.keys())
def test_odd_claims_are_token_errors(payload):
    with pytest.raises(TokenError):
        decode(signed(payload().encode()))


ODD_HEADERS = {
    "alg none": {"alg": "none"},
    "alg HS256": {"alg": "HS256"},
    "alg list": {"alg": ["ES256"]},
    "alg object": {"alg": {"name": "ES256"}},
    "alg null": {"alg": None},
}


@pytest.mark.parametrize("header", ODD_HEADERS.values(), ids=ODD_HEADERS.keys())
def test_odd_headers_are_token_errors(header):
    with pytest.raises(TokenError):
        decode(signed(json.dumps(claims()).encode(), header))


@pytest.mark.parametrize("raw_header", ["[]", "null", "1", '"ES256"', "{bad"])
def test_headers_that_are_not_objects_are_token_errors(raw_header):
    payload = b64url(json.dumps(claims()).encode())
    token = f"{b64url(raw_header.encode())}.{payload}.{b64url(b'sig')}"
    with pytest.raises(TokenError):
        decode(token)
    with pytest.raises(TokenError):
        jwt.unverified_header(token)


def test_wrong_key_is_a_token_error():
    other = SigningKey.from_pem(generate_pem())
    token = jwt.sign(claims(), other.private_pem, kid=KEY.kid)
    with pytest.raises(TokenError):
        decode(token)


def test_key_that_is_not_a_key_is_a_token_error():
    token = jwt.sign(claims(), KEY.private_pem, kid=KEY.kid)
    with pytest.raises(TokenError):
        jwt.decode(
            token, {"kty": "EC"}, algorithms=["ES256"], issuer=ISSUER, audience=AUDIENCE, leeway=0
        )


@pytest.mark.parametrize("payload", ["[]", "null", "7", "{bad", "[" * 3000 + "]" * 3000])
def test_unverified_claims_reject_non_objects(payload):
    token = f"{b64url(b'{}')}.{b64url(payload.encode())}.{b64url(b'sig')}"
    with pytest.raises(TokenError):
        jwt.unverified_claims(token)


HARMLESS_ODDITIES = {
    "nested extra claim": {"extra": {"a": {"b": {"c": [1, {"d": None}]}}}},
    "huge exp": {"exp": 10**30},
    "unicode subject": {"sub": "user:\u00e9\u2603"},
    "aud list with ours": {"aud": ["other", AUDIENCE]},
    "kid object in claims": {"kid": {"k": 1}},
}


@pytest.mark.parametrize("extra", HARMLESS_ODDITIES.values(), ids=HARMLESS_ODDITIES.keys())
def test_odd_but_sound_tokens_decode(extra):
    """Oddities that break no rule are accepted, and never crash the decoder."""
    decoded = decode(signed(json.dumps(claims(**extra)).encode()))
    assert decoded["iss"] == ISSUER


def test_decode_ignores_the_header_kid():
    """The key is chosen by the caller, so decode ignores kid; callers check kid's type."""
    token = signed(json.dumps(claims()).encode(), {"kid": {"k": 1}})
    assert decode(token)["sub"] == "user:x"
