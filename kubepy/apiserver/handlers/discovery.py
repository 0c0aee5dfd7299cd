"""API discovery documents: legacy (/api, /apis, /api/v1, ...) and aggregated (v2).

Built from the resource Registry and cached as encoded bytes until the registry changes
(custom resources come and go): kubectl fetches these on most invocations.
"""

from __future__ import annotations

from typing import Any

import orjson

from kubepy.api.resources import Registry, ResourceInfo

AGGREGATED_V2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
AGGREGATED_V2BETA1 = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"

#: Upstream's group order in /apis (higher priority first); unknown groups follow by name.
GROUP_ORDER = (
    "apiregistration.k8s.io",
    "apps",
    "events.k8s.io",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "autoscaling",
    "batch",
    "certificates.k8s.io",
    "networking.k8s.io",
    "policy",
    "rbac.authorization.k8s.io",
    "storage.k8s.io",
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "scheduling.k8s.io",
    "coordination.k8s.io",
    "node.k8s.io",
    "discovery.k8s.io",
    "flowcontrol.apiserver.k8s.io",
)


def aggregated_kind(accept: str) -> str | None:
    """The aggregated discovery content type the client asked for, if any."""
    if "as=APIGroupDiscoveryList" not in accept:
        return None
    for part in accept.split(","):
        if "as=APIGroupDiscoveryList" in part and "g=apidiscovery.k8s.io" in part:
            if "v=v2beta1" in part:
                return AGGREGATED_V2BETA1
            if "v=v2" in part:
                return AGGREGATED_V2
    return None


class Discovery:
    def __init__(self, registry: Registry, server_address: str = "") -> None:
        self.registry = registry
        self.server_address = server_address
        self._cache: dict[str, bytes] = {}

    def invalidate(self) -> None:
        self._cache.clear()

    def _cached(self, key: str, build: Any) -> bytes:
        out = self._cache.get(key)
        if out is None:
            out = self._cache[key] = orjson.dumps(build())
        return out

    def groups(self) -> list[str]:
        names = [g for g in self.registry.groups() if g]
        order = {g: i for i, g in enumerate(GROUP_ORDER)}
        return sorted(names, key=lambda g: (order.get(g, len(order)), g))

    # -- legacy -------------------------------------------------------------------------
    def api_versions(self) -> bytes:
        return self._cached("api", lambda: {
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": self.server_address}],
        })

    def _group(self, group: str) -> dict[str, Any]:
        versions = self.registry.groups().get(group, [])
        gvs = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
        return {"name": group, "versions": gvs, "preferredVersion": gvs[0]}

    def api_group_list(self) -> bytes:
        return self._cached("apis", lambda: {
            "kind": "APIGroupList",
            "apiVersion": "v1",
            "groups": [self._group(g) for g in self.groups()],
        })

    def api_group(self, group: str) -> bytes | None:
        if group not in self.registry.groups() or not group:
            return None
        return self._cached(f"group/{group}", lambda: {"kind": "APIGroup", "apiVersion": "v1", **self._group(group)})

    def resource_list(self, group: str, version: str) -> bytes | None:
        infos = self.registry.in_group_version(group, version)
        if not infos:
            return None
        gv = f"{group}/{version}" if group else version

        def build() -> dict[str, Any]:
            resources: list[dict[str, Any]] = []
            for info in sorted(infos, key=lambda i: i.plural):
                resources.append(_legacy_resource(info))
                for sub in info.subresources:
                    entry: dict[str, Any] = {
                        "name": f"{info.plural}/{sub.name}",
                        "singularName": "",
                        "namespaced": info.namespaced,
                        "kind": sub.kind,
                        "verbs": list(sub.verbs),
                    }
                    if sub.group is not None:
                        entry["group"] = sub.group
                        entry["version"] = sub.version
                    resources.append(entry)
            return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}

        return self._cached(f"rl/{gv}", build)

    # -- aggregated ---------------------------------------------------------------------
    def aggregated(self, core: bool, content_type: str) -> bytes:
        api_version = "apidiscovery.k8s.io/" + ("v2beta1" if "v2beta1" in content_type else "v2")

        def build() -> dict[str, Any]:
            groups = [""] if core else self.groups()
            items = []
            for g in groups:
                versions = []
                for v in self.registry.groups().get(g, []):
                    infos = sorted(self.registry.in_group_version(g, v), key=lambda i: i.plural)
                    versions.append(
                        {"version": v, "resources": [_aggregated_resource(i) for i in infos], "freshness": "Current"}
                    )
                items.append({"metadata": {"name": g, "creationTimestamp": None}, "versions": versions})
            return {"kind": "APIGroupDiscoveryList", "apiVersion": api_version, "metadata": {}, "items": items}

        return self._cached(f"agg/{core}/{api_version}", build)


def _legacy_resource(info: ResourceInfo) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": info.plural,
        "singularName": info.singular,
        "namespaced": info.namespaced,
        "kind": info.kind,
        "verbs": sorted(info.verbs),
    }
    if info.short_names:
        entry["shortNames"] = list(info.short_names)
    if info.categories:
        entry["categories"] = list(info.categories)
    return entry


def _aggregated_resource(info: ResourceInfo) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "resource": info.plural,
        "responseKind": {"group": info.group, "version": info.version, "kind": info.kind},
        "scope": "Namespaced" if info.namespaced else "Cluster",
        "singularResource": info.singular,
        "verbs": sorted(info.verbs),
    }
    if info.short_names:
        entry["shortNames"] = list(info.short_names)
    if info.categories:
        entry["categories"] = list(info.categories)
    subs = []
    for sub in info.subresources:
        subs.append({
            "subresource": sub.name,
            "responseKind": {
                "group": info.group if sub.group is None else sub.group,
                "version": info.version if sub.version is None else sub.version,
                "kind": sub.kind,
            },
            "verbs": list(sub.verbs),
        })
    if subs:
        entry["subresources"] = subs
    return entry
