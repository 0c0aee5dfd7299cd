"""Which resources the API server serves, read from its discovery documents.

Job: ``APIDiscovery.discover()`` reads ``/api``, ``/api/<v>``, ``/apis`` and
``/apis/<group>/<version>`` (the legacy discovery documents every Kubernetes API server
serves) and returns a ``DiscoveryResult``: every served top-level resource with its kind,
scope and verbs, which of them are the server's *preferred* view of each resource, and
which group versions failed to answer. The garbage collector and the namespace controller
both start from it, as upstream's do from ``ServerPreferredResources`` and
``ServerPreferredNamespacedResources``.

Design: discovery is a small protocol (``Discoverer``) so controllers take it in their
constructor and unit tests hand in ``StaticDiscovery`` (e.g. built from kubepy.api's
registry with ``builtin_discovery``). A failing group version does not fail the whole
discovery: its resources are missing from the answer and its error is kept in
``failed``, because upstream's controllers carry on with what they could discover and
report the rest (the namespace controller as ``NamespaceDeletionDiscoveryFailure``).
Group versions are fetched concurrently; the preferred view keeps, per (group, plural),
the resource from the group's preferred version first, then from the others in the order
the server lists them (as client-go's ServerPreferredResources).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from kubepy.client import ResourceRef

__all__ = [
    "ServedResource",
    "DiscoveryResult",
    "Discoverer",
    "APIDiscovery",
    "StaticDiscovery",
    "builtin_discovery",
    "parse_group_version",
]

Obj = dict[str, Any]


@dataclass(frozen=True, kw_only=True, slots=True)
class ServedResource:
    """One top-level resource as discovery describes it."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    verbs: frozenset[str] = frozenset()

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def ref(self) -> ResourceRef:
        return ResourceRef(self.group, self.version, self.plural, self.namespaced)

    @property
    def group_resource(self) -> str:
        """``pods`` / ``deployments.apps`` (upstream's GroupResource string)."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def supports(self, *verbs: str) -> bool:
        return all(v in self.verbs for v in verbs)


@dataclass(kw_only=True)
class DiscoveryResult:
    #: every served top-level resource of every group version
    resources: list[ServedResource] = field(default_factory=list)
    #: one entry per (group, plural): the preferred version's, else the first served
    preferred: list[ServedResource] = field(default_factory=list)
    #: group versions whose discovery failed -> the error
    failed: dict[str, str] = field(default_factory=dict)
    #: group versions that could not be parsed -> the error
    unparsable: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._by_kind: dict[tuple[str, str], ServedResource] = {}
        for r in self.resources:
            self._by_kind.setdefault((r.api_version, r.kind), r)

    def by_kind(self, api_version: str, kind: str) -> ServedResource | None:
        """The resource serving ``kind`` in ``api_version`` (the REST mapping)."""
        return self._by_kind.get((api_version, kind))

    def group_failed(self, group: str) -> bool:
        return any(parse_group_version(gv)[0] == group for gv in self.failed)


def parse_group_version(gv: str) -> tuple[str, str]:
    """``"apps/v1"`` → ``("apps", "v1")``, ``"v1"`` → ``("", "v1")``; ValueError if malformed."""
    if not gv or gv.count("/") > 1:
        raise ValueError(f"unexpected GroupVersion string: {gv}")
    group, _, version = gv.rpartition("/")
    if not version or (gv.count("/") == 1 and not group):
        raise ValueError(f"unexpected GroupVersion string: {gv}")
    return group, version


class Discoverer(Protocol):
    """Where controllers learn the served resources. ``discover`` may be called often (every
    30 s by the garbage collector); it raises only if nothing at all could be discovered."""

    async def discover(self) -> DiscoveryResult: ...


def preferred_view(resources: Iterable[ServedResource], preferred_versions: dict[str, str]) -> list[ServedResource]:
    """Keep one resource per (group, plural): the preferred version's when it serves it."""
    chosen: dict[tuple[str, str], ServedResource] = {}
    for r in resources:
        key = (r.group, r.plural)
        cur = chosen.get(key)
        if cur is None or (cur.version != preferred_versions.get(r.group) and r.version == preferred_versions.get(r.group)):
            chosen[key] = r
    return list(chosen.values())


def _resources_of(doc: Obj, group: str, version: str) -> list[ServedResource]:
    out: list[ServedResource] = []
    for entry in doc.get("resources") or ():
        name = str(entry.get("name") or "")
        if not name or "/" in name:
            continue  # subresources are not collections
        out.append(ServedResource(
            group=group, version=version, plural=name, kind=str(entry.get("kind") or ""),
            namespaced=bool(entry.get("namespaced")), verbs=frozenset(entry.get("verbs") or ()),
        ))
    return out


class APIDiscovery:
    """Discovery through a ``Client`` (``client.request("GET", path)``)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    async def _get(self, path: str) -> Obj:
        doc = await self.client.request("GET", path)
        if not isinstance(doc, dict):
            raise ValueError(f"GET {path}: empty discovery document")
        return doc

    async def discover(self) -> DiscoveryResult:
        core_doc, groups_doc = await asyncio.gather(self._get("/api"), self._get("/apis"))
        gvs: list[str] = [str(v) for v in core_doc.get("versions") or ()]
        preferred_versions: dict[str, str] = {}
        if gvs:
            preferred_versions[""] = gvs[0]
        for g in groups_doc.get("groups") or ():
            name = str(g.get("name") or "")
            pref = (g.get("preferredVersion") or {}).get("version")
            if pref:
                preferred_versions[name] = str(pref)
            for v in g.get("versions") or ():
                gv = str(v.get("groupVersion") or "")
                if gv:
                    gvs.append(gv)
        result = DiscoveryResult()
        parsed: list[tuple[str, str, str]] = []
        for gv in gvs:
            try:
                group, version = parse_group_version(gv)
            except ValueError as e:
                result.unparsable[gv] = str(e)
                continue
            parsed.append((gv, group, version))
        docs = await asyncio.gather(
            *(self._get(f"/apis/{gv}" if group else f"/api/{version}") for gv, group, version in parsed),
            return_exceptions=True,
        )
        resources: list[ServedResource] = []
        for (gv, group, version), doc in zip(parsed, docs):
            if isinstance(doc, BaseException):
                if isinstance(doc, asyncio.CancelledError):
                    raise doc
                result.failed[gv] = str(doc)
                continue
            resources.extend(_resources_of(doc, group, version))
        return DiscoveryResult(
            resources=resources, preferred=preferred_view(resources, preferred_versions),
            failed=result.failed, unparsable=result.unparsable,
        )


class StaticDiscovery:
    """A fixed answer (unit tests; or a caller that knows the resources already)."""

    def __init__(self, resources: Sequence[ServedResource], *, failed: dict[str, str] | None = None,
                 unparsable: dict[str, str] | None = None) -> None:
        self.resources = list(resources)
        self.failed = dict(failed or {})
        self.unparsable = dict(unparsable or {})
        self.calls = 0

    async def discover(self) -> DiscoveryResult:
        self.calls += 1
        preferred: dict[str, str] = {}
        for r in self.resources:
            preferred.setdefault(r.group, r.version)
        return DiscoveryResult(resources=list(self.resources), preferred=preferred_view(self.resources, preferred),
                               failed=dict(self.failed), unparsable=dict(self.unparsable))


def builtin_discovery() -> StaticDiscovery:
    """What kubepy's own API server serves for built-in types (from kubepy.api's registry)."""
    from kubepy.api.resources import Registry

    reg = Registry()
    out: list[ServedResource] = []
    for group, versions in reg.groups().items():
        for version in versions:
            for info in reg.in_group_version(group, version):
                out.append(ServedResource(group=info.group, version=info.version, plural=info.plural, kind=info.kind,
                                          namespaced=info.namespaced, verbs=frozenset(info.verbs)))
    return StaticDiscovery(out)
