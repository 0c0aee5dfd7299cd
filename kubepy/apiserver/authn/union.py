"""The authenticator chain: the first authenticator that recognises the request wins.

Job: `UnionAuthenticator` asks each authenticator in order; the first UserInfo is the
request's user, with `system:authenticated` added (once). None means nobody recognised
any credentials (the API server answers 401, anonymous access being disabled).

Design: as upstream's union handler, an AuthenticationError from one authenticator does
not stop the chain (a client certificate may still authenticate a request whose bearer
token some other issuer minted); errors are only raised, joined, when no authenticator
produced a user. Order matters and is the caller's: x509 first, then token
authenticators, as kube-apiserver builds it.
"""

from __future__ import annotations

from collections.abc import Iterable

from kubepy.apiserver.authn import (
    ALL_AUTHENTICATED,
    ANONYMOUS_USER,
    AuthenticationError,
    Authenticator,
    Credentials,
    UserInfo,
)

__all__ = ["UnionAuthenticator", "with_authenticated_group"]


def with_authenticated_group(user: UserInfo) -> UserInfo:
    """`user` with `system:authenticated` appended unless present (or anonymous)."""
    if user.username == ANONYMOUS_USER or ALL_AUTHENTICATED in user.groups:
        return user
    return UserInfo(
        username=user.username,
        uid=user.uid,
        groups=(*user.groups, ALL_AUTHENTICATED),
        extra=user.extra,
    )


class UnionAuthenticator:
    """Tries each authenticator in turn; adds `system:authenticated` to the winner."""

    def __init__(self, authenticators: Iterable[Authenticator]) -> None:
        self._authenticators = tuple(authenticators)

    async def authenticate(self, creds: Credentials) -> UserInfo | None:
        errors: list[str] = []
        for authenticator in self._authenticators:
            try:
                user = await authenticator.authenticate(creds)
            except AuthenticationError as e:
                errors.append(str(e))
                continue
            if user is not None:
                return with_authenticated_group(user)
        if errors:
            raise AuthenticationError(errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]")
        return None
