"""Client-certificate authentication: subject CN is the user, each O is a group.

Job: `X509Authenticator` turns the client certificate that the TLS layer already
verified against the cluster CA into a UserInfo, as upstream's
CommonNameUserConversion does (plus the `credential-id` extra `X509SHA256=<hex>`);
`peer_certificate(transport)` fetches that certificate from an asyncio TLS connection.

Design: chain verification happens once, in the handshake (tls.server_ssl_context uses
CERT_OPTIONAL with the client CA), so per request only two cheap checks remain: the
clientAuth extended key usage (what upstream's verify options demand) and the validity
window (a keep-alive connection can outlive its certificate). Parsing the DER and the
subject costs tens of microseconds, so the parsed certificate is cached per TLS
connection (weakly keyed by the SSL object, gone with the connection), and the
resulting user per certificate in a small bounded map.
"""

from __future__ import annotations

import datetime
import hashlib
import time
import weakref
from collections.abc import Callable
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID

from kubepy.apiserver.authn import (
    CREDENTIAL_ID_KEY,
    AuthenticationError,
    Credentials,
    UserInfo,
)
from kubepy.pki.certs import subject_user

__all__ = ["X509Authenticator", "peer_certificate", "user_from_certificate"]

_NO_CERT = object()
_peer_cache: weakref.WeakKeyDictionary[Any, object] = weakref.WeakKeyDictionary()


def peer_certificate(transport: Any) -> x509.Certificate | None:
    """The verified client certificate of an asyncio TLS transport, or None.

    None for plain-TCP transports and for TLS clients that sent no certificate. With a
    CERT_OPTIONAL server context, a certificate returned here chained to the client CA.
    Cached per connection.
    """
    if transport is None:
        return None
    ssl_object = transport.get_extra_info("ssl_object")
    if ssl_object is None:
        return None
    cached = _peer_cache.get(ssl_object)
    if cached is None:
        der = ssl_object.getpeercert(binary_form=True)
        cached = x509.load_der_x509_certificate(der) if der else _NO_CERT
        _peer_cache[ssl_object] = cached
    return None if cached is _NO_CERT else cached  # type: ignore[return-value]


def user_from_certificate(cert: x509.Certificate) -> UserInfo | None:
    """CN -> username, O values -> groups; None when the subject has no CN."""
    cn, groups = subject_user(cert)
    if not cn:
        return None
    fingerprint = hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest()
    return UserInfo(
        username=cn,
        groups=groups,
        extra={CREDENTIAL_ID_KEY: [f"X509SHA256={fingerprint}"]},
    )


def _client_auth_allowed(cert: x509.Certificate) -> bool:
    try:
        usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return True  # no EKU extension: any usage
    return (
        ExtendedKeyUsageOID.CLIENT_AUTH in usages
        or ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE in usages
    )


class X509Authenticator:
    """Authenticates requests that carry a (TLS-verified) client certificate."""

    def __init__(self, *, clock: Callable[[], float] = time.time, cache_size: int = 1024) -> None:
        self._clock = clock
        self._cache_size = cache_size
        # cert -> (user or None, not_before, not_after, client_auth_ok)
        self._cache: dict[x509.Certificate, tuple[UserInfo | None, float, float, bool]] = {}

    async def authenticate(self, creds: Credentials) -> UserInfo | None:
        cert = creds.client_cert
        if cert is None:
            return None
        entry = self._cache.get(cert)
        if entry is None:
            entry = (
                user_from_certificate(cert),
                cert.not_valid_before_utc.timestamp(),
                cert.not_valid_after_utc.timestamp(),
                _client_auth_allowed(cert),
            )
            if len(self._cache) >= self._cache_size:
                self._cache.pop(next(iter(self._cache)))
            self._cache[cert] = entry
        user, not_before, not_after, client_auth = entry
        if not client_auth:
            raise AuthenticationError(
                "x509: certificate specifies an incompatible key usage"
            )
        now = self._clock()
        if now < not_before or now > not_after:
            when = datetime.datetime.fromtimestamp(now, datetime.timezone.utc)
            raise AuthenticationError(
                "x509: certificate has expired or is not yet valid: current time "
                f"{when:%Y-%m-%dT%H:%M:%SZ}"
            )
        return user
