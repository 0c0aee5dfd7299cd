"""Where bearer tokens come from: the Authorization header, or a WebSocket subprotocol.

Job: extract the token a request carries, as upstream's bearertoken and websocket
request authenticators do: `Authorization: Bearer <token>` (scheme case-insensitive,
an empty token is no token), and, for WebSocket upgrades made by clients that cannot set
headers (browsers, the Python client's stream()), a `Sec-WebSocket-Protocol` entry
`base64url.bearer.authorization.k8s.io.<unpadded base64url token>`.

Design: pure string functions, no request type, so the HTTP layer (whatever its
framework) calls them and passes the result in Credentials.
"""

from __future__ import annotations

import base64
import binascii

from kubepy.apiserver.authn import AuthenticationError

__all__ = ["bearer_token", "websocket_bearer_token", "WEBSOCKET_TOKEN_PREFIX"]

WEBSOCKET_TOKEN_PREFIX = "base64url.bearer.authorization.k8s.io."


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header value, else None."""
    if not authorization:
        return None
    parts = authorization.split(" ", 2)
    if len(parts) < 2 or parts[0].lower() != "bearer" or not parts[1]:
        return None
    return parts[1]


def websocket_bearer_token(protocols: str | None) -> tuple[str | None, list[str]]:
    """(token, remaining protocols) from a `Sec-WebSocket-Protocol` header value.

    The token protocol is removed from the list that the server may echo back. Raises
    AuthenticationError for a malformed token protocol, for more than one, or when no
    other protocol would remain to be negotiated.
    """
    if not protocols:
        return None, []
    token: str | None = None
    rest: list[str] = []
    for raw in protocols.split(","):
        proto = raw.strip()
        if not proto:
            continue
        if not proto.startswith(WEBSOCKET_TOKEN_PREFIX):
            rest.append(proto)
            continue
        if token is not None:
            raise AuthenticationError("multiple base64.bearer.authorization tokens specified")
        encoded = proto[len(WEBSOCKET_TOKEN_PREFIX):]
        try:
            token = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode("utf-8")
        except (binascii.Error, ValueError, UnicodeDecodeError) as e:
            raise AuthenticationError("invalid base64.bearer.authorization token encoding") from e
        if not token:
            raise AuthenticationError("invalid base64.bearer.authorization token")
    if token is not None and not rest:
        raise AuthenticationError("missing additional subprotocol")
    return token, rest
