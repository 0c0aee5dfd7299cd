"""Addressing resources: ``ResourceRef`` and the URL paths of the Kubernetes REST API.

Job: turn (group, version, plural, namespaced) plus a namespace, name and subresource into
the upstream path (``/api/v1/namespaces/ns/pods/p/status``,
``/apis/apps/v1/deployments``), and look built-in resources up by ``apiVersion`` and
plural in kubepy.api's registry.

Design: a ref is a small frozen value (hashable, so informer factories can share by it)
that knows nothing of HTTP; custom resources are addressed by building a ref by hand, as
client-go's dynamic client takes a GroupVersionResource.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote

from kubepy.api.resources import Registry, ResourceInfo

__all__ = ["ResourceRef", "builtin_resource", "split_api_version"]


def split_api_version(api_version: str) -> tuple[str, str]:
    """``"apps/v1"`` → ``("apps", "v1")``; ``"v1"`` → ``("", "v1")``."""
    group, _, version = api_version.rpartition("/")
    return group, version


@dataclass(frozen=True, slots=True)
class ResourceRef:
    """Where a resource lives in the API: its group, version, plural name and scope."""

    group: str
    version: str
    plural: str
    namespaced: bool = True

    @classmethod
    def from_info(cls, info: ResourceInfo) -> ResourceRef:
        return cls(info.group, info.version, info.plural, info.namespaced)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def root(self) -> str:
        return f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"

    def path(self, namespace: str | None = None, name: str | None = None, subresource: str | None = None) -> str:
        """The collection path, or with ``name`` the object path (and its subresource).

        A namespaced resource without a namespace addresses every namespace (list/watch).
        """
        parts = [self.root]
        if self.namespaced and namespace:
            parts.append("namespaces/" + quote(namespace, safe=""))
        parts.append(self.plural)
        if name is not None:
            if not name:
                raise ValueError(f"resource name may not be empty ({self.plural})")
            parts.append(quote(name, safe=""))
            if subresource:
                parts.append(subresource)
        elif subresource:
            raise ValueError("a subresource needs an object name")
        return "/".join(parts)

    def __str__(self) -> str:
        return f"{self.plural}.{self.group}/{self.version}" if self.group else f"{self.plural}/{self.version}"


@lru_cache(maxsize=1)
def _registry() -> Registry:
    return Registry()


def builtin_resource(api_version: str, plural: str) -> ResourceRef:
    """The ref of a built-in resource, e.g. ``builtin_resource("apps/v1", "deployments")``.

    Raises KeyError for a resource kubepy.api does not know (use ``ResourceRef`` directly).
    """
    group, version = split_api_version(api_version)
    info = _registry().get(group, version, plural)
    if info is None:
        raise KeyError(f"unknown built-in resource {plural!r} in {api_version!r}")
    return ResourceRef.from_info(info)
