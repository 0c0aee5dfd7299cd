"""Service-account JWT authentication.

Job: `ServiceAccountAuthenticator` accepts bearer tokens signed with the cluster's
service-account key(s) for our issuer and API audiences, and maps them to the user
`system:serviceaccount:<ns>:<name>` in groups `system:serviceaccounts` and
`system:serviceaccounts:<ns>`, uid = the ServiceAccount's uid, and the extras upstream
sets: `authentication.kubernetes.io/credential-id` (`JTI=<jti>`), pod-name/pod-uid for
pod-bound tokens, node-name/node-uid when the token names a node.

Design: signature checks are the expensive part (tens of microseconds for RS256), and a
client sends the same token on every request, so verified tokens are cached (bounded,
insertion-ordered eviction) with their time window; expiry is still checked on every
use. Whether the ServiceAccount (and a bound pod/secret/node) still exists is the API
server's knowledge, not ours: it is asked through optional async callbacks on every
request, never cached here. JWTs of other issuers, and anything that is not a JWT, are
"not mine" (None) so that static tokens and other authenticators may still match.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from kubepy.apiserver.authn import (
    CREDENTIAL_ID_KEY,
    AuthenticationError,
    Credentials,
    UserInfo,
)
from kubepy.pki.certs import PublicKey
from kubepy.pki.serviceaccount import (
    DEFAULT_LEEWAY_SECONDS,
    ForeignTokenError,
    TokenError,
    make_username,
    verify_token,
)

__all__ = [
    "ServiceAccountAuthenticator",
    "ServiceAccountLookup",
    "BoundObjectLookup",
    "ALL_SERVICE_ACCOUNTS_GROUP",
    "POD_NAME_KEY",
    "POD_UID_KEY",
    "NODE_NAME_KEY",
    "NODE_UID_KEY",
    "service_account_user",
]

ALL_SERVICE_ACCOUNTS_GROUP = "system:serviceaccounts"
POD_NAME_KEY = "authentication.kubernetes.io/pod-name"
POD_UID_KEY = "authentication.kubernetes.io/pod-uid"
NODE_NAME_KEY = "authentication.kubernetes.io/node-name"
NODE_UID_KEY = "authentication.kubernetes.io/node-uid"

# lookup(namespace, name, uid) -> does that ServiceAccount (with that uid) still exist?
ServiceAccountLookup = Callable[[str, str, str], Awaitable[bool]]
# bound(kind, namespace, name, uid) -> does the bound Pod/Secret/Node still exist?
# (`namespace` is "" for a Node.)
BoundObjectLookup = Callable[[str, str, str, str], Awaitable[bool]]


def service_account_user(
    *,
    namespace: str,
    name: str,
    uid: str,
    pod: tuple[str, str] | None = None,
    node: tuple[str, str] | None = None,
    credential_id: str = "",
) -> UserInfo:
    """The user of a service account (upstream ServiceAccountInfo.UserInfo)."""
    extra: dict[str, list[str]] = {}
    if pod is not None and pod[0] and pod[1]:
        extra[POD_NAME_KEY] = [pod[0]]
        extra[POD_UID_KEY] = [pod[1]]
    if credential_id:
        extra[CREDENTIAL_ID_KEY] = [credential_id]
    if node is not None and node[0]:
        extra[NODE_NAME_KEY] = [node[0]]
        if node[1]:
            extra[NODE_UID_KEY] = [node[1]]
    return UserInfo(
        username=make_username(namespace, name),
        uid=uid,
        groups=(ALL_SERVICE_ACCOUNTS_GROUP, f"system:serviceaccounts:{namespace}"),
        extra=extra,
    )


class _Verified:
    """A cached verification result: the user plus what each use must still check."""

    __slots__ = ("user", "exp", "nbf", "namespace", "name", "uid", "bound")

    def __init__(self, user: UserInfo, claims: dict[str, Any]) -> None:
        k8s = claims["kubernetes.io"]
        sa = k8s["serviceaccount"]
        self.user = user
        self.exp = float(claims["exp"])
        nbf = claims.get("nbf")
        self.nbf = float(nbf) if isinstance(nbf, (int, float)) else None
        self.namespace: str = k8s["namespace"]
        self.name: str = sa["name"]
        self.uid: str = sa.get("uid", "")
        self.bound: list[tuple[str, str, str, str]] = []
        for kind, key in (("Pod", "pod"), ("Secret", "secret")):
            ref = k8s.get(key)
            if isinstance(ref, dict):
                self.bound.append((kind, self.namespace, str(ref.get("name", "")), str(ref.get("uid", ""))))


class ServiceAccountAuthenticator:
    """Bearer tokens that are service-account JWTs issued by this cluster."""

    def __init__(
        self,
        keys: PublicKey | Sequence[PublicKey],
        issuer: str | Sequence[str],
        audiences: Sequence[str],
        *,
        lookup: ServiceAccountLookup | None = None,
        bound_lookup: BoundObjectLookup | None = None,
        clock: Callable[[], float] = time.time,
        leeway: float = DEFAULT_LEEWAY_SECONDS,
        cache_size: int = 4096,
    ) -> None:
        self._keys = keys
        self._issuers = (issuer,) if isinstance(issuer, str) else tuple(issuer)
        self._audiences = tuple(audiences)
        self._lookup = lookup
        self._bound_lookup = bound_lookup
        self._clock = clock
        self._leeway = leeway
        self._cache_size = cache_size
        self._cache: dict[str, _Verified] = {}

    async def authenticate(self, creds: Credentials) -> UserInfo | None:
        token = creds.bearer_token
        if not token:
            return None
        now = self._clock()
        entry = self._cache.get(token)
        if entry is None:
            entry = self._verify(token, now)
            if entry is None:
                return None
            if len(self._cache) >= self._cache_size:
                self._cache.pop(next(iter(self._cache)))
            self._cache[token] = entry
        else:
            if now > entry.exp + self._leeway:
                del self._cache[token]
                raise AuthenticationError("service account token has expired")
            if entry.nbf is not None and now + self._leeway < entry.nbf:
                raise AuthenticationError("service account token is not valid yet")
        await self._check_live(entry)
        return entry.user

    def _verify(self, token: str, now: float) -> _Verified | None:
        try:
            claims = verify_token(
                self._keys,
                token,
                audiences=self._audiences,
                issuer=self._issuers,
                now=now,
                leeway=self._leeway,
            )
        except ForeignTokenError:
            return None
        except TokenError as e:
            raise AuthenticationError(str(e)) from e
        k8s = claims.get("kubernetes.io")
        sa = k8s.get("serviceaccount") if isinstance(k8s, dict) else None
        if (
            not isinstance(k8s, dict)
            or not isinstance(sa, dict)
            or not k8s.get("namespace")
            or not sa.get("name")
            or claims.get("sub") != make_username(k8s["namespace"], sa["name"])
        ):
            raise AuthenticationError(
                "service account token claims could not be validated due to unexpected private claim"
            )
        pod = k8s.get("pod") if isinstance(k8s.get("pod"), dict) else None
        node = k8s.get("node") if isinstance(k8s.get("node"), dict) else None
        jti = claims.get("jti")
        user = service_account_user(
            namespace=str(k8s["namespace"]),
            name=str(sa["name"]),
            uid=str(sa.get("uid", "")),
            pod=(str(pod.get("name", "")), str(pod.get("uid", ""))) if pod else None,
            node=(str(node.get("name", "")), str(node.get("uid", ""))) if node else None,
            credential_id=f"JTI={jti}" if isinstance(jti, str) and jti else "",
        )
        return _Verified(user, claims)

    async def _check_live(self, entry: _Verified) -> None:
        if self._lookup is not None and not await self._lookup(entry.namespace, entry.name, entry.uid):
            raise AuthenticationError(
                f"service account {entry.namespace}/{entry.name} (uid {entry.uid}) no longer exists"
            )
        if self._bound_lookup is not None:
            for kind, namespace, name, uid in entry.bound:
                if not await self._bound_lookup(kind, namespace, name, uid):
                    raise AuthenticationError("service account token has been invalidated")
