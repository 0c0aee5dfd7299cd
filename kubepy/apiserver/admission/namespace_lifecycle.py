"""NamespaceLifecycle: no content in missing or terminating namespaces; system namespaces stay.

As upstream's plugin: creating a namespaced object needs its namespace to exist (404) and
not be terminating (403 with cause NamespaceTerminating); the default, kube-system and
kube-public namespaces may not be deleted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubepy.apiserver import errors
from kubepy.apiserver.admission import Attributes

IMMORTAL = frozenset({"default", "kube-system", "kube-public"})
#: Kinds that may be written in a terminating namespace (upstream lets events through).
EXEMPT = frozenset({("", "events"), ("events.k8s.io", "events")})


class NamespaceLifecycle:
    name = "NamespaceLifecycle"

    def __init__(self, lookup: Callable[[str], dict[str, Any] | None]) -> None:
        self._lookup = lookup

    async def admit(self, attrs: Attributes) -> None:
        return None

    async def validate(self, attrs: Attributes) -> None:
        info = attrs.info
        if attrs.operation == "DELETE" and info.group == "" and info.plural == "namespaces" and not attrs.subresource:
            if attrs.name in IMMORTAL:
                raise errors.forbidden("namespaces", "", attrs.name, "this namespace may not be deleted")
            return
        if attrs.operation != "CREATE" or not info.namespaced or attrs.subresource:
            return
        ns = self._lookup(attrs.namespace)
        if ns is None:
            raise errors.not_found("namespaces", "", attrs.namespace)
        if (info.group, info.plural) in EXEMPT:
            return
        if ns.get("metadata", {}).get("deletionTimestamp") or ns.get("status", {}).get("phase") == "Terminating":
            message = (
                f"unable to create new content in namespace {attrs.namespace} because it is being terminated"
            )
            err = errors.forbidden(info.plural, info.group, attrs.name, message)
            assert err.details is not None
            err.details["causes"] = [
                {"reason": "NamespaceTerminating", "message": message, "field": "metadata.namespace"}
            ]
            raise err
