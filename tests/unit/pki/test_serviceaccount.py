"""Service-account JWTs: issue, verify, and every way verification must fail."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from kubepy.pki import certs
from kubepy.pki.serviceaccount import (
    ForeignTokenError,
    TokenError,
    issue_token,
    key_id,
    make_username,
    service_account_claims,
    split_username,
    verify_token,
)

ISSUER = "https://kubernetes.default.svc.cluster.local"
AUDS = [ISSUER]
NOW = 1_800_000_000


@pytest.fixture(scope="module")
def rsa_key() -> certs.PrivateKey:
    return certs.generate_rsa_key()


def _token(key: certs.PrivateKey, *, jti: str | None = None) -> str:
    return issue_token(
        key,
        subject=make_username("ns1", "builder"),
        audiences=AUDS,
        expiration_seconds=3600,
        issuer=ISSUER,
        claims=service_account_claims(namespace="ns1", name="builder", uid="sa-uid",
                                      pod=("p1", "pod-uid"), node=("n1", "node-uid")),
        now=NOW,
        jti=jti,
    )


def _segments(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    def dec(s: str) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))
        return value
    h, p, _ = token.split(".")
    return dec(h), dec(p)


def test_issued_token_has_the_upstream_claim_layout(rsa_key: certs.PrivateKey) -> None:
    header, payload = _segments(_token(rsa_key, jti="fixed-jti"))
    assert header == {"alg": "RS256", "kid": key_id(rsa_key.public_key())}
    assert payload == {
        "aud": AUDS,
        "exp": NOW + 3600,
        "iat": NOW,
        "iss": ISSUER,
        "jti": "fixed-jti",
        "kubernetes.io": {
            "namespace": "ns1",
            "node": {"name": "n1", "uid": "node-uid"},
            "pod": {"name": "p1", "uid": "pod-uid"},
            "serviceaccount": {"name": "builder", "uid": "sa-uid"},
        },
        "nbf": NOW,
        "sub": "system:serviceaccount:ns1:builder",
    }


def test_kid_is_the_sha256_of_the_pkix_public_key(rsa_key: certs.PrivateKey) -> None:
    der = rsa_key.public_key().public_bytes(serialization.Encoding.DER,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
    expected = base64.urlsafe_b64encode(hashlib.sha256(der).digest()).rstrip(b"=").decode()
    assert key_id(rsa_key.public_key()) == expected


def test_random_jti_per_token(rsa_key: certs.PrivateKey) -> None:
    assert _segments(_token(rsa_key))[1]["jti"] != _segments(_token(rsa_key))[1]["jti"]


@pytest.mark.parametrize("use_ec", [False, True], ids=["RS256 with an RSA key verifies",
                                                        "ES256 with a P-256 key verifies"])
def test_valid_token_verifies(rsa_key: certs.PrivateKey, use_ec: bool) -> None:
    key = certs.generate_key() if use_ec else rsa_key
    claims = verify_token(key.public_key(), _token(key), audiences=AUDS, issuer=ISSUER, now=NOW + 10)
    assert claims["sub"] == "system:serviceaccount:ns1:builder"
    assert claims["kubernetes.io"]["serviceaccount"]["uid"] == "sa-uid"


def test_any_of_several_keys_may_verify(rsa_key: certs.PrivateKey) -> None:
    other = certs.generate_key().public_key()
    verify_token([other, rsa_key.public_key()], _token(rsa_key), audiences=AUDS, issuer=ISSUER,
                 now=NOW)


def _tamper_payload(token: str) -> str:
    h, p, s = token.split(".")
    payload = json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
    payload["sub"] = "system:serviceaccount:kube-system:admin"
    p2 = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    return f"{h}.{p2}.{s}"


def _flip_signature(token: str) -> str:
    h, p, s = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))
    raw[10] ^= 0x01
    return f"{h}.{p}." + base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()


def _alg_none(token: str) -> str:
    _, p, _ = token.split(".")
    h = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
    return f"{h}.{p}.AAAA"


@pytest.mark.parametrize(
    "mutate, now, audiences, message",
    [
        (_tamper_payload, NOW, AUDS, "could not be verified"),
        (_flip_signature, NOW, AUDS, "could not be verified"),
        (_alg_none, NOW, AUDS, "could not be verified"),
        (None, NOW + 3600 + 61, AUDS, "has expired"),
        (None, NOW - 61, AUDS, "not valid yet"),
        (None, NOW, ["vault"], 'token audiences \\["https://kubernetes.default.svc.cluster.local"\\] '
                               'is invalid for the target audiences \\["vault"\\]'),
    ],
    ids=[
        "a tampered payload fails the signature check",
        "a tampered signature fails",
        "alg none is never accepted",
        "an expired token (beyond one minute of leeway) is rejected",
        "a token used before nbf (beyond leeway) is rejected",
        "a token for another audience is rejected",
    ],
)
def test_invalid_tokens_are_rejected(
    rsa_key: certs.PrivateKey,
    mutate: Callable[[str], str] | None,
    now: float,
    audiences: list[str],
    message: str,
) -> None:
    token = _token(rsa_key)
    if mutate is not None:
        token = mutate(token)
    with pytest.raises(TokenError, match=message) as info:
        verify_token(rsa_key.public_key(), token, audiences=audiences, issuer=ISSUER, now=now)
    assert not isinstance(info.value, ForeignTokenError)


def test_expiry_leeway_is_one_minute(rsa_key: certs.PrivateKey) -> None:
    verify_token(rsa_key.public_key(), _token(rsa_key), audiences=AUDS, issuer=ISSUER,
                 now=NOW + 3600 + 59)


def test_a_key_that_did_not_sign_is_rejected(rsa_key: certs.PrivateKey) -> None:
    other = certs.generate_rsa_key()
    with pytest.raises(TokenError, match="could not be verified"):
        verify_token(other.public_key(), _token(rsa_key), audiences=AUDS, issuer=ISSUER, now=NOW)


@pytest.mark.parametrize(
    "token",
    ["static-token-abc", "a.b", "a.b.c", "eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0.c2ln"],
    ids=["an opaque static token is foreign", "two segments are foreign",
         "undecodable segments are foreign", "a JWT of another issuer is foreign"],
)
def test_foreign_tokens_are_told_apart(rsa_key: certs.PrivateKey, token: str) -> None:
    with pytest.raises(ForeignTokenError):
        verify_token(rsa_key.public_key(), token, audiences=AUDS, issuer=ISSUER, now=NOW)


@pytest.mark.parametrize(
    "username, expected",
    [
        ("system:serviceaccount:ns:sa", ("ns", "sa")),
        ("system:serviceaccount:ns", None),
        ("system:serviceaccount:ns:sa:x", None),
        ("alice", None),
    ],
    ids=["a service-account username splits", "a missing name is not one",
         "an extra segment is not one", "a plain user is not one"],
)
def test_split_username(username: str, expected: tuple[str, str] | None) -> None:
    assert split_username(username) == expected
