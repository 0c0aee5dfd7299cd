"""The garbage collector: deletes objects whose owners are gone, and carries out cascading
deletion (Background, Foreground, Orphan) over ``metadata.ownerReferences``.

Job, as upstream's ``pkg/controller/garbagecollector``:
- *Monitors*: every resource the server serves with list, watch and delete (from
  discovery; events excluded) is watched by a metadata-light informer; discovery is
  repeated every 30 s so resources that appear later (custom resources) are watched too.
- *Graph builder*: every informer event updates a dependency graph ``uid → Node`` (owners
  and dependents). An owner that is referenced but not (yet) observed gets a *virtual*
  node, which is checked against the API server. Transitions decide the work: an object
  that starts deleting with the ``orphan`` finalizer goes to the orphan queue; one that
  starts deleting with ``foregroundDeletion`` marks itself "deleting dependents" and
  sends its dependents to the delete queue; a removed object sends its dependents (and
  owners waiting for it) to the delete queue.
- *attempt to delete* (key = uid): re-reads the object with a live GET; classifies each
  owner reference as *solid* (owner exists), *dangling* (owner absent: 404 or another
  uid, remembered in an absent-owner cache) or *waiting for dependents deletion* (owner
  deleting in the foreground). No solid owner → delete the object (Background, or the
  policy its own finalizers ask for; Foreground when a foreground-deleting owner waits and
  the object has dependents of its own); solid plus dangling/waiting → drop those
  references. An owner deleting in the foreground drops its ``foregroundDeletion``
  finalizer once no dependent with ``blockOwnerDeletion: true`` remains.
- *attempt to orphan*: removes the owner's reference from every dependent, then its
  ``orphan`` finalizer.
- An ownerReference from a namespaced object to a namespaced owner in another namespace
  is invalid: a Warning ``OwnerRefInvalidNamespace`` event is recorded and the owner is
  treated as absent (the GET in the dependent's namespace does not find it).

Design: the graph is updated synchronously inside the informer callbacks: one event
loop means the callbacks already run one at a time, in order, which is what upstream's
single graph-changes goroutine provides. Workers only ``await`` API calls and then apply
their conclusions (a "virtual delete" of a node the server denies) to the graph
synchronously. Cached objects keep only the metadata the collector reads (uid, owner
references, finalizers, deletionTimestamp), so watching every resource costs little
memory. Decisions are always re-checked with live reads before a delete, so a stale or
incomplete graph can delay collection but never cause a wrong deletion.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from kubepy.client import (
    ApiError,
    DeleteOptions,
    Preconditions,
    RateLimitingQueue,
    ResourceListerWatcher,
    ShutDown,
    SharedInformer,
    default_controller_rate_limiter,
    is_conflict,
    is_not_found,
    object_of,
)
from kubepy.controllers.base import Controller
from kubepy.controllers.context import ControllerContext
from kubepy.controllers.discovery import APIDiscovery, Discoverer, DiscoveryResult, ServedResource

__all__ = [
    "GarbageCollector",
    "Identity",
    "Node",
    "new",
    "deletable_resources",
    "IGNORED_RESOURCES",
    "RESYNC_PERIOD",
]

log = logging.getLogger(__name__)

Obj = dict[str, Any]
Policy = Literal["Orphan", "Background", "Foreground"]

ORPHAN = "orphan"
FOREGROUND = "foregroundDeletion"
#: upstream's default ignored resources (events churn and are never owners)
IGNORED_RESOURCES: frozenset[tuple[str, str]] = frozenset({("", "events"), ("events.k8s.io", "events")})
#: how often discovery is repeated to pick up new resources (upstream: 30 s)
RESYNC_PERIOD = 30.0
ABSENT_OWNER_CACHE_SIZE = 500
FINALIZER_RETRIES = 5
#: how long workers wait for the first list of every monitor before starting anyway
INITIAL_SYNC_TIMEOUT = 60.0


@dataclass(frozen=True, slots=True)
class Identity:
    """An object's coordinates (upstream's objectReference: owner-reference fields + namespace)."""

    api_version: str
    kind: str
    name: str
    uid: str
    namespace: str = ""

    def __str__(self) -> str:
        return f"[{self.api_version}/{self.kind}, namespace: {self.namespace}, name: {self.name}, uid: {self.uid}]"

    def coordinates(self) -> tuple[str, str, str, str]:
        return (self.api_version, self.kind, self.name, self.uid)

    def as_object(self) -> Obj:
        """A minimal object for the event recorder."""
        meta: Obj = {"name": self.name, "uid": self.uid}
        if self.namespace:
            meta["namespace"] = self.namespace
        return {"apiVersion": self.api_version, "kind": self.kind, "metadata": meta}


def ref_coordinates(ref: Mapping[str, Any]) -> tuple[str, str, str, str]:
    return (str(ref.get("apiVersion") or ""), str(ref.get("kind") or ""), str(ref.get("name") or ""),
            str(ref.get("uid") or ""))


def ref_identity(ref: Mapping[str, Any], namespace: str) -> Identity:
    api_version, kind, name, uid = ref_coordinates(ref)
    return Identity(api_version, kind, name, uid, namespace)


@dataclass(eq=False)
class Node:
    """One object in the dependency graph. ``virtual``: referenced as an owner, not yet seen."""

    identity: Identity
    owners: list[Obj] = field(default_factory=list)
    dependents: set[Node] = field(default_factory=set)
    being_deleted: bool = False
    deleting_dependents: bool = False
    virtual: bool = False

    @property
    def uid(self) -> str:
        return self.identity.uid

    def blocking_dependents(self) -> list[Node]:
        """Dependents whose reference to this node has ``blockOwnerDeletion: true``."""
        out = []
        for dep in self.dependents:
            for ref in dep.owners:
                if ref.get("uid") == self.uid and ref.get("blockOwnerDeletion"):
                    out.append(dep)
                    break
        return out


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, Mapping) else {}


def being_deleted(obj: Mapping[str, Any] | None) -> bool:
    return obj is not None and bool(_meta(obj).get("deletionTimestamp"))


def has_finalizer(obj: Mapping[str, Any] | None, name: str) -> bool:
    return obj is not None and name in (_meta(obj).get("finalizers") or ())


def _starts_waiting(old: Mapping[str, Any] | None, new: Mapping[str, Any], finalizer: str) -> bool:
    if not (being_deleted(new) and has_finalizer(new, finalizer)):
        return False
    return old is None or not (being_deleted(old) and has_finalizer(old, finalizer))


def references_diffs(old: list[Obj], new: list[Obj]) -> tuple[list[Obj], list[Obj], list[tuple[Obj, Obj]]]:
    """(added, removed, changed (old, new)) owner references, matched by uid."""
    old_by = {str(r.get("uid")): r for r in old}
    new_by = {str(r.get("uid")): r for r in new}
    added = [r for u, r in new_by.items() if u not in old_by]
    removed = [r for u, r in old_by.items() if u not in new_by]
    changed = [(old_by[u], r) for u, r in new_by.items() if u in old_by and old_by[u] != r]
    return added, removed, changed


def deletable_resources(result: DiscoveryResult) -> list[ServedResource]:
    """The preferred view of resources supporting delete, list and watch, minus ignored ones."""
    return [r for r in result.preferred
            if r.supports("delete", "list", "watch") and (r.group, r.plural) not in IGNORED_RESOURCES]


def strip_to_metadata(obj: Mapping[str, Any], api_version: str, kind: str) -> Obj:
    """What the collector keeps of an object (upstream watches PartialObjectMetadata)."""
    meta = _meta(obj)
    out_meta: Obj = {}
    for key in ("name", "namespace", "uid", "resourceVersion", "deletionTimestamp", "finalizers", "ownerReferences"):
        value = meta.get(key)
        if value:
            out_meta[key] = value
    return {"apiVersion": obj.get("apiVersion") or api_version, "kind": obj.get("kind") or kind,
            "metadata": out_meta}


class _MetadataListerWatcher:
    """A ResourceListerWatcher whose objects are reduced to the metadata the collector reads."""

    def __init__(self, client: Any, res: ServedResource) -> None:
        self.inner = ResourceListerWatcher(client, res.ref)
        self.res = res

    async def list(self, *, resource_version: str | None, limit: int | None, continue_: str | None) -> Obj:
        page = await self.inner.list(resource_version=resource_version, limit=limit, continue_=continue_)
        page["items"] = [strip_to_metadata(o, self.res.api_version, self.res.kind) for o in page.get("items") or ()]
        return page

    def watch(self, *, resource_version: str, timeout_seconds: int, allow_watch_bookmarks: bool) -> Any:
        return _StrippedWatch(self.inner.watch(resource_version=resource_version, timeout_seconds=timeout_seconds,
                                               allow_watch_bookmarks=allow_watch_bookmarks), self.res)


class _StrippedWatch:
    def __init__(self, inner: Any, res: ServedResource) -> None:
        self.inner = inner
        self.res = res

    def __aiter__(self) -> _StrippedWatch:
        return self

    async def __anext__(self) -> tuple[str, Obj]:
        kind, obj = await self.inner.__anext__()
        if kind == "BOOKMARK":
            return kind, obj
        return kind, strip_to_metadata(obj, self.res.api_version, self.res.kind)

    async def aclose(self) -> None:
        await self.inner.aclose()


class RestMappingError(Exception):
    """An owner reference names a kind the server does not serve (yet)."""


class _VirtualDeleted(Exception):
    """The item was found absent; a virtual delete was applied to the graph."""


class _NotObserved(Exception):
    """A virtual node exists on the server but no informer has delivered it yet."""


class _NamespacedOwnerOfClusterScoped(Exception):
    """A cluster-scoped object names a namespaced owner: invalid, will not heal by retrying."""


@dataclass
class _Monitor:
    resource: ServedResource
    informer: SharedInformer


class GarbageCollector(Controller):
    NAME = "garbagecollector"
    WORKERS = 5
    ORPHAN_WORKERS = 2

    def __init__(self, ctx: ControllerContext, discovery: Discoverer | None = None, *,
                 resync_period: float = RESYNC_PERIOD) -> None:
        super().__init__(ctx)
        self.discovery: Discoverer = discovery or APIDiscovery(ctx.client)
        self.resync_period = resync_period
        self.graph: dict[str, Node] = {}
        self.orphan_queue: RateLimitingQueue[str] = RateLimitingQueue(
            name=f"{self.NAME}-orphan", rate_limiter=default_controller_rate_limiter(ctx.clock), clock=ctx.clock)
        self.absent_owners: collections.OrderedDict[Identity, None] = collections.OrderedDict()
        self.monitors: dict[tuple[str, str], _Monitor] = {}
        self.mapping: DiscoveryResult = DiscoveryResult()

    # -- graph builder ------------------------------------------------------------------------

    def observe(self, event: Literal["add", "update", "delete"], obj: Mapping[str, Any],
                old: Mapping[str, Any] | None = None) -> None:
        """Apply one informer event to the graph and queue the work it implies."""
        meta = _meta(obj)
        uid = str(meta.get("uid") or "")
        if not uid:
            return
        identity = Identity(str(obj.get("apiVersion") or ""), str(obj.get("kind") or ""), str(meta.get("name") or ""),
                            uid, str(meta.get("namespace") or ""))
        existing = self.graph.get(uid)
        if existing is not None and existing.virtual:
            if identity != existing.identity:
                _, invalid = self._partition_dependents(existing.dependents, identity)
                for dep in invalid:
                    if identity.namespace and dep.identity.namespace != identity.namespace:
                        self._report_invalid_namespace(dep, uid)
                    self.queue.add(dep.uid)
                existing.identity = identity
            existing.virtual = False
        owners = [dict(r) for r in meta.get("ownerReferences") or ()]
        if event in ("add", "update") and existing is None:
            node = Node(identity=identity, owners=owners, being_deleted=being_deleted(obj),
                        deleting_dependents=being_deleted(obj) and has_finalizer(obj, FOREGROUND))
            self.graph[uid] = node
            self._add_dependent_to_owners(node, node.owners)
            self._process_transitions(old, obj, node)
        elif event in ("add", "update") and existing is not None:
            added, removed, changed = references_diffs(existing.owners, owners)
            if added or removed or changed:
                self._add_unblocked_owners_to_delete_queue(removed, changed)
                existing.owners = owners
                self._add_dependent_to_owners(existing, added)
                self._remove_dependent_from_owners(existing, removed)
            if being_deleted(obj):
                existing.being_deleted = True
            self._process_transitions(old, obj, existing)
        elif event == "delete" and existing is not None:
            self._remove_observed(existing, identity)

    def _remove_observed(self, node: Node, identity: Identity) -> None:
        self._remove_node(node)
        if node.dependents:
            self._mark_absent(identity)
        for dep in node.dependents:
            self.queue.add(dep.uid)
        for ref in node.owners:
            owner = self.graph.get(str(ref.get("uid") or ""))
            if owner is not None and owner.deleting_dependents:
                self.queue.add(owner.uid)

    def virtual_delete(self, identity: Identity) -> None:
        """The API server says ``identity`` does not exist: drop it (as upstream's virtual
        delete event), unless dependents know the node by other coordinates."""
        node = self.graph.get(identity.uid)
        if node is None:
            return
        remove = True
        if node.virtual:
            matching, nonmatching = self._partition_dependents(node.dependents, identity)
            if nonmatching:
                remove = False
                if matching:
                    self._mark_absent(identity)
                    for dep in matching:
                        self.queue.add(dep.uid)
                if node.identity == identity:
                    alternate = self._alternate_identity(nonmatching, identity)
                    if alternate is not None:
                        node.identity = alternate
                        self.queue.add_rate_limited(node.uid)
        elif node.identity != identity:
            remove = False
            matching, _ = self._partition_dependents(node.dependents, identity)
            if matching:
                self._mark_absent(identity)
                for dep in matching:
                    self.queue.add(dep.uid)
        if remove:
            self._remove_observed(node, identity)

    def _process_transitions(self, old: Mapping[str, Any] | None, new: Mapping[str, Any], node: Node) -> None:
        if _starts_waiting(old, new, ORPHAN):
            self.orphan_queue.add(node.uid)
            return
        if _starts_waiting(old, new, FOREGROUND):
            node.deleting_dependents = True
            for dep in node.dependents:
                self.queue.add(dep.uid)
            self.queue.add(node.uid)

    def _add_dependent_to_owners(self, node: Node, owners: Iterable[Mapping[str, Any]]) -> None:
        potentially_invalid = False
        for ref in owners:
            owner_uid = str(ref.get("uid") or "")
            owner = self.graph.get(owner_uid)
            if owner is None:
                owner = Node(identity=ref_identity(ref, node.identity.namespace), virtual=True)
                self.graph[owner_uid] = owner
                owner.dependents.add(node)
                self.queue.add(owner_uid)
                continue
            owner.dependents.add(node)
            if potentially_invalid:
                continue
            owner_namespaced = bool(owner.identity.namespace)
            if owner_namespaced and owner.identity.namespace != node.identity.namespace:
                if not owner.virtual:
                    self._report_invalid_namespace(node, owner_uid)
                potentially_invalid = True
            elif ref_coordinates(ref) != owner.identity.coordinates():
                potentially_invalid = True
            elif not owner_namespaced and owner.identity.namespace != node.identity.namespace and owner.virtual:
                potentially_invalid = True
        if potentially_invalid:
            self.queue.add(node.uid)

    def _remove_dependent_from_owners(self, node: Node, owners: Iterable[Mapping[str, Any]]) -> None:
        for ref in owners:
            owner = self.graph.get(str(ref.get("uid") or ""))
            if owner is not None:
                owner.dependents.discard(node)

    def _remove_node(self, node: Node) -> None:
        if self.graph.get(node.uid) is node:
            del self.graph[node.uid]
        self._remove_dependent_from_owners(node, node.owners)

    def _add_unblocked_owners_to_delete_queue(self, removed: list[Obj], changed: list[tuple[Obj, Obj]]) -> None:
        unblocked = [r for r in removed if r.get("blockOwnerDeletion")]
        unblocked += [new for old, new in changed if old.get("blockOwnerDeletion") and not new.get("blockOwnerDeletion")]
        for ref in unblocked:
            owner = self.graph.get(str(ref.get("uid") or ""))
            if owner is not None and owner.deleting_dependents:
                self.queue.add(owner.uid)

    @staticmethod
    def _partition_dependents(deps: Iterable[Node], identity: Identity) -> tuple[list[Node], list[Node]]:
        """Dependents whose reference to ``identity.uid`` matches its coordinates (and
        namespace, for a namespaced owner), and those whose reference does not."""
        matching, nonmatching = [], []
        for dep in deps:
            found_match = found_mismatch = False
            if identity.namespace and dep.identity.namespace != identity.namespace:
                found_mismatch = True
            else:
                for ref in dep.owners:
                    if ref.get("uid") == identity.uid:
                        if ref_coordinates(ref) == identity.coordinates():
                            found_match = True
                        else:
                            found_mismatch = True
            if found_match:
                matching.append(dep)
            if found_mismatch:
                nonmatching.append(dep)
        return matching, nonmatching

    @staticmethod
    def _alternate_identity(deps: list[Node], verified_absent: Identity) -> Identity | None:
        candidates: list[Identity] = []
        for dep in deps:
            for ref in dep.owners:
                if ref.get("uid") == verified_absent.uid:
                    ident = ref_identity(ref, dep.identity.namespace)
                    if ident != verified_absent:
                        candidates.append(ident)
        if not candidates:
            return None
        candidates.sort(key=lambda i: (i.api_version, i.kind, i.name, i.namespace))
        # prefer an identity after the verified-absent one, so repeated attempts cycle through all
        for c in candidates:
            if (c.api_version, c.kind, c.name, c.namespace) > (verified_absent.api_version, verified_absent.kind,
                                                               verified_absent.name, verified_absent.namespace):
                return c
        return candidates[0]

    def _report_invalid_namespace(self, node: Node, owner_uid: str) -> None:
        for ref in node.owners:
            if ref.get("uid") == owner_uid:
                invalid = ref_identity(ref, node.identity.namespace)
                self.recorder.event(
                    node.identity.as_object(), "Warning", "OwnerRefInvalidNamespace",
                    f'ownerRef {invalid} does not exist in namespace "{node.identity.namespace}"',
                )
                return

    def _mark_absent(self, identity: Identity) -> None:
        self.absent_owners[identity] = None
        self.absent_owners.move_to_end(identity)
        while len(self.absent_owners) > ABSENT_OWNER_CACHE_SIZE:
            self.absent_owners.popitem(last=False)

    # -- API access -----------------------------------------------------------------------------

    def _resource(self, api_version: str, kind: str) -> ServedResource:
        res = self.mapping.by_kind(api_version, kind)
        if res is None:
            raise RestMappingError(f"unable to get REST mapping for {api_version}/{kind}")
        return res

    async def _get(self, identity: Identity) -> Obj:
        res = self._resource(identity.api_version, identity.kind)
        if res.namespaced and not identity.namespace:
            raise _NamespacedOwnerOfClusterScoped()  # nowhere to look: not evidence of absence
        got: Obj = await self.client.get(res.ref, identity.name, namespace=identity.namespace if res.namespaced else None)
        return got

    async def _delete(self, identity: Identity, policy: Policy) -> None:
        res = self._resource(identity.api_version, identity.kind)
        self.log.debug("deleting %s with propagation policy %s", identity, policy)
        await self.client.delete(res.ref, identity.name, namespace=identity.namespace if res.namespaced else None,
                                 options=DeleteOptions(propagation_policy=policy,
                                                       preconditions=Preconditions(uid=identity.uid)))

    async def _patch_owner_refs(self, item: Node, strategic: Obj, merge_refs: Any) -> None:
        """Patch ``item``'s owner references: a strategic-merge patch, or (for resources that
        do not take one, like custom resources) a JSON merge patch computed from a fresh GET."""
        res = self._resource(item.identity.api_version, item.identity.kind)
        ns = item.identity.namespace if res.namespaced else None
        try:
            await self.client.patch(res.ref, item.identity.name, strategic, namespace=ns, type="strategic")
            return
        except ApiError as e:
            if e.code != 415:
                raise
        latest = await self._get(item.identity)
        meta = _meta(latest)
        if meta.get("uid") != item.uid:
            raise _VirtualDeleted()
        refs = merge_refs(list(meta.get("ownerReferences") or ()))
        patch = {"metadata": {"uid": item.uid, "resourceVersion": meta.get("resourceVersion"),
                              "ownerReferences": refs or None}}
        await self.client.patch(res.ref, item.identity.name, patch, namespace=ns, type="merge")

    async def _delete_owner_refs(self, item: Node, owner_uids: list[str]) -> None:
        strategic = {"metadata": {"ownerReferences": [{"$patch": "delete", "uid": u} for u in owner_uids],
                                  "uid": item.uid}}
        await self._patch_owner_refs(item, strategic,
                                     lambda refs: [r for r in refs if r.get("uid") not in owner_uids])

    async def _unblock_owner_refs(self, item: Node) -> None:
        blocking = [r for r in item.owners if r.get("blockOwnerDeletion")]
        strategic = {"metadata": {"ownerReferences": [{"uid": r.get("uid"), "blockOwnerDeletion": False}
                                                      for r in blocking], "uid": item.uid}}

        def unblock(refs: list[Obj]) -> list[Obj]:
            return [{**r, "blockOwnerDeletion": False} if r.get("blockOwnerDeletion") else r for r in refs]

        await self._patch_owner_refs(item, strategic, unblock)

    async def _remove_finalizer(self, node: Node, finalizer: str) -> None:
        res = self._resource(node.identity.api_version, node.identity.kind)
        ns = node.identity.namespace if res.namespaced else None
        for _ in range(FINALIZER_RETRIES):
            try:
                obj = await self._get(node.identity)
            except ApiError as e:
                if is_not_found(e):
                    return
                raise
            meta = _meta(obj)
            finalizers = list(meta.get("finalizers") or ())
            if finalizer not in finalizers:
                return
            kept = [f for f in finalizers if f != finalizer]
            patch = {"metadata": {"resourceVersion": meta.get("resourceVersion"), "finalizers": kept or None}}
            try:
                await self.client.patch(res.ref, node.identity.name, patch, namespace=ns, type="merge")
                self.log.debug("removed the %s finalizer from %s", finalizer, node.identity)
                return
            except ApiError as e:
                if is_not_found(e):
                    return
                if not is_conflict(e):
                    raise
        raise RuntimeError(f"could not remove the {finalizer} finalizer from {node.identity}: "
                           f"{FINALIZER_RETRIES} conflicts; will retry")

    # -- attempt to delete ----------------------------------------------------------------------

    async def sync(self, key: str) -> None:
        """attemptToDelete worker step for the node with uid ``key``."""
        item = self.graph.get(key)
        if item is None:
            return
        try:
            await self.attempt_to_delete(item)
        except (_VirtualDeleted, _NamespacedOwnerOfClusterScoped):
            return
        if item.virtual and self.graph.get(key) is item:
            # not observed by an informer yet: look again later (upstream issue 56121)
            raise _NotObserved(f"{item.identity} has not been observed by an informer yet")

    async def attempt_to_delete(self, item: Node) -> None:
        if item.being_deleted and not item.deleting_dependents:
            return
        try:
            latest = await self._get(item.identity)
        except ApiError as e:
            if not is_not_found(e):
                raise
            self.virtual_delete(item.identity)
            raise _VirtualDeleted() from None
        if _meta(latest).get("uid") != item.uid:
            self.virtual_delete(item.identity)
            raise _VirtualDeleted()
        if item.deleting_dependents:
            await self._process_deleting_dependents(item)
            return
        refs: list[Obj] = list(_meta(latest).get("ownerReferences") or ())
        if not refs:
            return
        solid, dangling, waiting = await self.classify_references(item, refs)
        if solid:
            if not dangling and not waiting:
                return
            uids = [str(r.get("uid")) for r in dangling + waiting]
            self.log.debug("removing dangling/waiting owner references %s from %s", uids, item.identity)
            await self._delete_owner_refs(item, uids)
            return
        if waiting and item.dependents:
            if any(dep.deleting_dependents for dep in item.dependents):
                # a cycle of foreground deletions: unblock our owners so they are not stuck
                await self._unblock_owner_refs(item)
            await self._delete(item.identity, "Foreground")
            return
        policy: Policy = "Background"
        if has_finalizer(latest, ORPHAN):
            policy = "Orphan"
        elif has_finalizer(latest, FOREGROUND):
            policy = "Foreground"
        await self._delete(item.identity, policy)

    async def classify_references(self, item: Node, refs: list[Obj]) -> tuple[list[Obj], list[Obj], list[Obj]]:
        """(solid, dangling, waiting for dependents deletion) owner references of ``item``."""
        solid: list[Obj] = []
        dangling: list[Obj] = []
        waiting: list[Obj] = []
        for ref in refs:
            is_dangling, owner = await self._is_dangling(ref, item)
            if is_dangling:
                dangling.append(ref)
            elif owner is not None and being_deleted(owner) and has_finalizer(owner, FOREGROUND):
                waiting.append(ref)
            else:
                solid.append(ref)
        return solid, dangling, waiting

    async def _is_dangling(self, ref: Mapping[str, Any], item: Node) -> tuple[bool, Obj | None]:
        key = ref_identity(ref, "")
        if key in self.absent_owners:
            return True, None
        key = ref_identity(ref, item.identity.namespace)
        if key in self.absent_owners:
            return True, None
        res = self._resource(str(ref.get("apiVersion") or ""), str(ref.get("kind") or ""))
        if not res.namespaced:
            key = ref_identity(ref, "")
        if not item.identity.namespace and res.namespaced:
            self.log.info("%s is cluster-scoped, but refers to a namespaced owner of type %s/%s",
                          item.identity, ref.get("apiVersion"), ref.get("kind"))
            raise _NamespacedOwnerOfClusterScoped()
        try:
            owner: Obj = await self.client.get(res.ref, str(ref.get("name") or ""),
                                               namespace=item.identity.namespace if res.namespaced else None)
        except ApiError as e:
            if not is_not_found(e):
                raise
            self._mark_absent(key)
            return True, None
        if _meta(owner).get("uid") != ref.get("uid"):
            self._mark_absent(key)
            return True, None
        return False, owner

    async def _process_deleting_dependents(self, item: Node) -> None:
        blocking = item.blocking_dependents()
        if not blocking:
            self.log.debug("removing the %s finalizer from %s", FOREGROUND, item.identity)
            await self._remove_finalizer(item, FOREGROUND)
            return
        for dep in blocking:
            if not dep.deleting_dependents:
                self.queue.add(dep.uid)

    # -- attempt to orphan ----------------------------------------------------------------------

    async def attempt_to_orphan(self, key: str) -> None:
        owner = self.graph.get(key)
        if owner is None:
            return
        dependents = list(owner.dependents)
        results = await asyncio.gather(*(self._orphan_one(dep, owner.uid) for dep in dependents),
                                       return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        for r in errors:
            if isinstance(r, asyncio.CancelledError):
                raise r
        if errors:
            raise RuntimeError(f"orphaning dependents of {owner.identity}: {'; '.join(map(str, errors))}")
        await self._remove_finalizer(owner, ORPHAN)

    async def _orphan_one(self, dep: Node, owner_uid: str) -> None:
        try:
            await self._delete_owner_refs(dep, [owner_uid])
        except _VirtualDeleted:
            return
        except ApiError as e:
            if not is_not_found(e):
                raise

    # -- monitors -------------------------------------------------------------------------------

    async def resync_monitors(self, *, start: bool = True) -> bool:
        """Discover served resources; watch new deletable ones, stop watching vanished ones.
        Returns True if the set of monitors changed."""
        result = await self.discovery.discover()
        if result.resources:
            self.mapping = result
        wanted = {(r.group, r.plural): r for r in deletable_resources(result)}
        changed = False
        for key, gone in list(self.monitors.items()):
            if key not in wanted and not result.group_failed(key[0]):
                del self.monitors[key]
                await gone.informer.stop()
                changed = True
        for key, res in wanted.items():
            current = self.monitors.get(key)
            if current is not None and current.resource.version == res.version:
                continue
            if current is not None:
                await current.informer.stop()
            informer = SharedInformer(_MetadataListerWatcher(self.client, res), name=f"gc {res.group_resource}",
                                      clock=self.clock)
            self._wire(informer)
            self.monitors[key] = _Monitor(res, informer)
            if start:
                informer.start()
            changed = True
        return changed

    def _wire(self, informer: SharedInformer) -> None:
        informer.add_event_handler(
            on_add=lambda obj: self.observe("add", obj),
            on_update=lambda old, new: self.observe("update", new, old),
            on_delete=lambda obj: self.observe("delete", object_of(obj)),
        )

    async def _discovery_loop(self) -> None:
        while True:
            await self.clock.sleep(self.resync_period)
            try:
                if await self.resync_monitors():
                    self.log.info("resource monitors changed: %d resources watched", len(self.monitors))
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - retried next period
                self.log.warning("discovery failed: %s", e)

    async def run(self, workers: int | None = None) -> None:
        while True:
            try:
                await self.resync_monitors()
                break
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001
                self.log.warning("initial discovery failed: %s; retrying", e)
                await self.clock.sleep(1.0)
        tasks: list[asyncio.Task[None]] = []
        try:
            pending = [m for m in self.monitors.values()]
            synced = await asyncio.gather(*(m.informer.wait_for_sync(INITIAL_SYNC_TIMEOUT) for m in pending))
            if all(synced):
                self.log.info("all resource monitors have synced (%d resources)", len(self.monitors))
            else:
                # safe to go on: every deletion is confirmed by live reads first
                self.log.warning("starting before these monitors synced: %s",
                                 ", ".join(m.resource.group_resource for m, ok in zip(pending, synced) if not ok))
            tasks.append(asyncio.create_task(self._discovery_loop(), name=f"{self.NAME}-discovery"))
            tasks += [asyncio.create_task(self._run_queue(self.queue, self.sync, "deleting"), name=f"{self.NAME}-{i}")
                      for i in range(workers or self.WORKERS)]
            tasks += [asyncio.create_task(self._run_queue(self.orphan_queue, self.attempt_to_orphan, "orphaning"),
                                          name=f"{self.NAME}-orphan-{i}") for i in range(self.ORPHAN_WORKERS)]
            await asyncio.gather(*tasks)
        finally:
            self.queue.shutdown()
            self.orphan_queue.shutdown()
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for mon in self.monitors.values():
                with contextlib.suppress(Exception):
                    await mon.informer.stop()

    async def _run_queue(self, q: RateLimitingQueue[str], step: Any, what: str) -> None:
        """A worker: take a uid, run ``step`` on it, retry failures with per-key back-off."""
        while True:
            try:
                key = await q.get()
            except ShutDown:
                return
            try:
                await step(key)
            except asyncio.CancelledError:
                q.done(key)
                raise
            except _NotObserved:
                q.add_rate_limited(key)  # quietly: normal while informers catch up
            except Exception as e:  # noqa: BLE001 - retried with back-off
                level = logging.DEBUG if isinstance(e, RestMappingError) else logging.INFO
                self.log.log(level, "error %s %s: %s", what, key, e)
                q.add_rate_limited(key)
            else:
                q.forget(key)
            finally:
                q.done(key)


def new(ctx: ControllerContext) -> GarbageCollector:
    return GarbageCollector(ctx)
