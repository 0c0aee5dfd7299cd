"""Authorization: decide whether a user may perform a request.

An ``Authorizer`` answers allow / deny / no opinion for request attributes; the chain
asks each in turn (upstream's union authorizer). RBAC and Node authorizers plug in here.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

from kubepy.apiserver.authn import UserInfo


class Decision(enum.Enum):
    ALLOW = "allow"
    DENY = "deny"
    NO_OPINION = "no-opinion"


@dataclass(frozen=True, slots=True)
class Attributes:
    user: UserInfo
    verb: str
    is_resource: bool
    path: str = ""
    group: str = ""
    version: str = ""
    resource: str = ""
    subresource: str = ""
    namespace: str = ""
    name: str = ""


class Authorizer(Protocol):
    async def authorize(self, attrs: Attributes) -> tuple[Decision, str]: ...


class AllowAuthenticated:
    """Allows every authenticated user (the default until RBAC lands)."""

    async def authorize(self, attrs: Attributes) -> tuple[Decision, str]:
        if "system:authenticated" in attrs.user.groups:
            return Decision.ALLOW, ""
        return Decision.NO_OPINION, ""


class AlwaysAllow:
    async def authorize(self, attrs: Attributes) -> tuple[Decision, str]:
        return Decision.ALLOW, ""


class Union:
    def __init__(self, authorizers: list[Authorizer]) -> None:
        self.authorizers = authorizers

    async def authorize(self, attrs: Attributes) -> tuple[Decision, str]:
        reasons = []
        for a in self.authorizers:
            decision, reason = await a.authorize(attrs)
            if decision is not Decision.NO_OPINION:
                return decision, reason
            if reason:
                reasons.append(reason)
        return Decision.NO_OPINION, "; ".join(reasons)
