"""Authentication: who is making this request?

Job: define the contract every authenticator implements (`Authenticator`), what it is
given (`Credentials`: the verified TLS client certificate and/or the bearer token of one
request) and what it answers (`UserInfo`, the user.Info of upstream: username, uid,
groups, extra). Implementations live beside this module: x509 (client certificates),
token_file (static tokens), serviceaccount_token (service-account JWTs), and union,
which chains them and adds `system:authenticated`.

Design: three outcomes, as upstream's `(response, ok, err)`: a UserInfo (authenticated),
None (these are not my kind of credentials, or there are none: let the next one try),
or AuthenticationError (my kind, but invalid: expired, bad signature, revoked). The API
server answers 401 when the chain yields no user. Authenticators are called for every
request, so they must be cheap and safe to call concurrently; those that do real work
cache their answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

# Imported by name: the submodule authn.x509 would shadow a module-level `x509` here.
from cryptography.x509 import Certificate

__all__ = [
    "UserInfo",
    "Credentials",
    "Authenticator",
    "AuthenticationError",
    "ALL_AUTHENTICATED",
    "ALL_UNAUTHENTICATED",
    "ANONYMOUS_USER",
    "CREDENTIAL_ID_KEY",
]

ALL_AUTHENTICATED = "system:authenticated"
ALL_UNAUTHENTICATED = "system:unauthenticated"
ANONYMOUS_USER = "system:anonymous"
# user.Info extra key naming the credential used (X509SHA256=..., JTI=...).
CREDENTIAL_ID_KEY = "authentication.kubernetes.io/credential-id"


@dataclass(frozen=True, slots=True)
class UserInfo:
    """An authenticated identity (upstream user.Info)."""

    username: str
    uid: str = ""
    groups: tuple[str, ...] = ()
    extra: dict[str, list[str]] = field(default_factory=dict)

    def to_wire(self) -> dict[str, object]:
        """The authentication.k8s.io/v1 UserInfo JSON (SelfSubjectReview, TokenReview)."""
        out: dict[str, object] = {"username": self.username}
        if self.uid:
            out["uid"] = self.uid
        out["groups"] = list(self.groups)
        out["extra"] = {k: list(v) for k, v in self.extra.items()}
        return out


@dataclass(frozen=True, slots=True)
class Credentials:
    """What one request presented: a CA-verified client certificate and/or a bearer token."""

    client_cert: Certificate | None = None
    bearer_token: str | None = None


class AuthenticationError(Exception):
    """Credentials of an authenticator's kind were presented but are invalid (-> 401)."""


class Authenticator(Protocol):
    """Maps one request's credentials to a user.

    Returns the user, or None when the credentials are absent or not of this
    authenticator's kind; raises AuthenticationError when they are of its kind but
    invalid. Called on every request: must be cheap and concurrency-safe, and must not
    mutate the credentials.
    """

    async def authenticate(self, creds: Credentials) -> UserInfo | None: ...
