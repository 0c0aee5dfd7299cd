"""Service-account tokens: sign and verify upstream-shaped JWTs (RS256, or ES256 for EC keys).

Job: `issue_token` produces the compact JWS that TokenRequest returns and that projected
service-account volumes carry; `verify_token` checks one against the signing public key,
the accepted issuers, the API audiences and the clock, returning its claims.

Design: JWS compact serialisation is three base64url segments and one signature, so it
is done here with `cryptography` directly instead of adding a JWT dependency. The claim
layout follows upstream (pkg/serviceaccount/claims.go): registered claims `iss`, `sub`
(`system:serviceaccount:<ns>:<name>`), `aud` (always a list), `exp`, `iat`, `nbf`,
`jti`, and the private `kubernetes.io` claim `{namespace, serviceaccount:{name,uid},
pod?, secret?, node?, warnafter?}`; the header carries `kid`, the unpadded base64url
SHA-256 of the public key's DER (SubjectPublicKeyInfo), as upstream computes it. Time
checks allow upstream's one-minute leeway. Errors distinguish "not a token of this
issuer" (ForeignTokenError: another authenticator may own it) from "ours but invalid"
(TokenError), because the authenticator chain must treat them differently.
"""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from kubepy.pki.certs import PrivateKey, PublicKey

__all__ = [
    "TokenError",
    "ForeignTokenError",
    "DEFAULT_LEEWAY_SECONDS",
    "USERNAME_PREFIX",
    "make_username",
    "split_username",
    "service_account_claims",
    "issue_token",
    "verify_token",
    "key_id",
]

DEFAULT_LEEWAY_SECONDS = 60.0
USERNAME_PREFIX = "system:serviceaccount:"


class TokenError(ValueError):
    """The token belongs to this issuer but is invalid (signature, time, audience, claims)."""


class ForeignTokenError(TokenError):
    """Not a JWT, or a JWT of another issuer: some other authenticator may accept it."""


def make_username(namespace: str, name: str) -> str:
    """`system:serviceaccount:<namespace>:<name>`."""
    return f"{USERNAME_PREFIX}{namespace}:{name}"


def split_username(username: str) -> tuple[str, str] | None:
    """(namespace, name) of a service-account username, or None for any other user."""
    if not username.startswith(USERNAME_PREFIX):
        return None
    parts = username[len(USERNAME_PREFIX):].split(":")
    if len(parts) != 2 or not parts[0] or not parts[1]:
        return None
    return parts[0], parts[1]


def service_account_claims(
    *,
    namespace: str,
    name: str,
    uid: str,
    pod: tuple[str, str] | None = None,
    secret: tuple[str, str] | None = None,
    node: tuple[str, str] | None = None,
    warn_after: int | None = None,
) -> dict[str, Any]:
    """The private `kubernetes.io` claim; `pod`/`secret`/`node` are (name, uid) bindings.

    Upstream binds a token to at most one of pod or secret; a pod binding may carry the
    pod's node too. `warn_after` is a unix time (projected-token expiry extension).
    """
    body: dict[str, Any] = {"namespace": namespace}
    if node is not None:
        body["node"] = _ref(*node)
    if pod is not None:
        body["pod"] = _ref(*pod)
    elif secret is not None:
        body["secret"] = _ref(*secret)
    body["serviceaccount"] = _ref(name, uid)
    if warn_after:
        body["warnafter"] = int(warn_after)
    return {"kubernetes.io": body}


def _ref(name: str, uid: str) -> dict[str, str]:
    ref = {"name": name}
    if uid:
        ref["uid"] = uid
    return ref


# --------------------------------------------------------------------------- encoding


def _b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64d(segment: str) -> bytes:
    pad = -len(segment) % 4
    return base64.urlsafe_b64decode(segment + "=" * pad)


def key_id(public_key: PublicKey) -> str:
    """Upstream's `kid`: unpadded base64url of SHA-256 over the PKIX DER public key."""
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return _b64e(hashlib.sha256(der).digest())


def _alg(key: PrivateKey | PublicKey) -> str:
    if isinstance(key, (rsa.RSAPrivateKey, rsa.RSAPublicKey)):
        return "RS256"
    if isinstance(key.curve, ec.SECP256R1):
        return "ES256"
    raise ValueError(f"unsupported EC curve {key.curve.name} (only P-256)")


def _sign(key: PrivateKey, data: bytes) -> bytes:
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def _verify(key: PublicKey, signature: bytes, data: bytes) -> None:
    """Raises InvalidSignature."""
    if isinstance(key, rsa.RSAPublicKey):
        key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        return
    if len(signature) != 64:
        raise InvalidSignature("bad ES256 signature length")
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:], "big")
    key.verify(encode_dss_signature(r, s), data, ec.ECDSA(hashes.SHA256()))


# --------------------------------------------------------------------------- issue / verify


def issue_token(
    key: PrivateKey,
    *,
    subject: str,
    audiences: Sequence[str],
    expiration_seconds: int,
    issuer: str,
    claims: Mapping[str, Any],
    now: float | None = None,
    jti: str | None = None,
) -> str:
    """A signed JWT: registered claims + `claims` (e.g. service_account_claims(...)).

    `now` is a unix time (default: the wall clock); `jti` defaults to a random UUID.
    """
    issued = int(time.time() if now is None else now)
    header = {"alg": _alg(key), "kid": key_id(key.public_key())}
    payload: dict[str, Any] = dict(claims)
    payload.update(  # registered claims win over anything in `claims`
        aud=list(audiences),
        exp=issued + int(expiration_seconds),
        iat=issued,
        iss=issuer,
        jti=jti or str(uuid.uuid4()),
        nbf=issued,
        sub=subject,
    )
    signing_input = (
        _b64e(orjson.dumps(header)) + "." + _b64e(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS))
    ).encode("ascii")
    return signing_input.decode("ascii") + "." + _b64e(_sign(key, signing_input))


def _decode_segment(segment: str, what: str) -> dict[str, Any]:
    try:
        value = orjson.loads(_b64d(segment))
    except (ValueError, orjson.JSONDecodeError) as e:
        raise ForeignTokenError(f"malformed JWT {what}") from e
    if not isinstance(value, dict):
        raise ForeignTokenError(f"malformed JWT {what}")
    return value


def verify_token(
    keys: PublicKey | Sequence[PublicKey],
    token: str,
    *,
    audiences: Sequence[str],
    issuer: str | Sequence[str],
    now: float | None = None,
    leeway: float = DEFAULT_LEEWAY_SECONDS,
) -> dict[str, Any]:
    """The verified claims of `token`.

    Raises ForeignTokenError when `token` is not a JWT or names another issuer, and
    TokenError when it is ours but the signature (against any of `keys`), expiry,
    not-before, or audience (must share one with `audiences`) is wrong.
    """
    parts = token.split(".")
    if len(parts) != 3 or not all(parts):
        raise ForeignTokenError("not a JWT")
    header = _decode_segment(parts[0], "header")
    claims = _decode_segment(parts[1], "payload")
    accepted = (issuer,) if isinstance(issuer, str) else tuple(issuer)
    if claims.get("iss") not in accepted:
        raise ForeignTokenError("token issuer is not accepted")

    alg = header.get("alg")
    try:
        signature = _b64d(parts[2])
    except ValueError as e:
        raise TokenError("invalid bearer token, malformed signature") from e
    signing_input = (parts[0] + "." + parts[1]).encode("ascii")
    candidates = (keys,) if isinstance(keys, (rsa.RSAPublicKey, ec.EllipticCurvePublicKey)) else keys
    for key in candidates:
        if alg != _alg(key):
            continue
        try:
            _verify(key, signature, signing_input)
            break
        except InvalidSignature:
            continue
    else:
        raise TokenError("invalid bearer token, token could not be verified")

    at = time.time() if now is None else now
    exp, nbf, iat = claims.get("exp"), claims.get("nbf"), claims.get("iat")
    if not isinstance(exp, (int, float)) or at > exp + leeway:
        raise TokenError("service account token has expired")
    if isinstance(nbf, (int, float)) and at + leeway < nbf:
        raise TokenError("service account token is not valid yet")
    if isinstance(iat, (int, float)) and at + leeway < iat:
        raise TokenError("service account token is issued in the future")

    aud = claims.get("aud")
    token_auds = [aud] if isinstance(aud, str) else list(aud or ())
    if not set(token_auds) & set(audiences):
        raise TokenError(
            f"token audiences {_go_quote(token_auds)} is invalid for the target audiences "
            f"{_go_quote(list(audiences))}"
        )
    return claims


def _go_quote(values: list[str]) -> str:
    """Go's %q of a []string: ["a" "b"]."""
    return "[" + " ".join(orjson.dumps(v).decode() for v in values) + "]"
