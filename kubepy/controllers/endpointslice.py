"""The EndpointSlice controller: discovery.k8s.io/v1 EndpointSlices for Services with selectors.

Job: for each Service that selects pods, keep EndpointSlices (labelled
``kubernetes.io/service-name`` and ``endpointslice.kubernetes.io/managed-by:
endpointslice-controller.k8s.io``, named ``<service>-<random>``, owned by the Service) that
list every selected pod with an IP: its addresses of the slice's address type, conditions
``ready``/``serving``/``terminating``, targetRef, nodeName, the node's
``topology.kubernetes.io/zone`` and the hostname when the pod's subdomain is the service.
Pods whose resolved ports differ go to different slices; a slice holds at most
``max_endpoints_per_slice`` (100) endpoints; a service without endpoints keeps one empty
placeholder slice. Slices of a deleted Service are left to the garbage collector (they are
owned by it), as upstream does.

Design: upstream's reconciler (``k8s.io/endpointslice/reconciler.go``), written as a pure
planning function ``plan_slices`` (compute) and a small executor (act). Churn is kept low
the same way: endpoints already in a slice stay there (updated in place when they
changed), slices that lose endpoints are topped up first, leftovers go into the existing
slice they fill best and only then into new slices, and a slice that would be deleted
while another is created is reused instead. Because slices are named by the server, a
``SliceTracker`` remembers the resourceVersions this controller wrote and deleted so that
a sync working from an informer cache that has not seen its own last writes retries
instead of creating duplicates (upstream's EndpointSliceTracker does this with
generations). EndpointSlice mirroring for selector-less services is a separate upstream
controller, not done here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kubepy.client import (
    NAMESPACE_INDEX,
    ApiError,
    DeletedFinalStateUnknown,
    deepcopy,
    is_forbidden,
    is_not_found,
    object_of,
    split_key,
)
from kubepy.controllers.base import Controller
from kubepy.controllers.context import ControllerContext
from kubepy.controllers.endpoints import (
    HEADLESS,
    LAST_CHANGE_TRIGGER_TIME,
    NAMESPACE_TERMINATING_CAUSE,
    ServiceKeysForPods,
    TriggerTimeTracker,
    find_port,
    format_time,
    is_ipv6,
    is_service_ip_set,
    pod_ips,
    service_matches,
    should_pod_be_in_endpoints,
    should_set_hostname,
    target_ref,
)
from kubepy.controllers.podcontrol import is_ready

Obj = dict[str, Any]

CONTROLLER_NAME = "endpointslice-controller.k8s.io"
LABEL_SERVICE_NAME = "kubernetes.io/service-name"
LABEL_MANAGED_BY = "endpointslice.kubernetes.io/managed-by"
LABEL_ZONE = "topology.kubernetes.io/zone"
MAX_ENDPOINTS_PER_SLICE = 100
SERVICE_INDEX = "endpointslice-controller/service"
RESERVED_LABELS = frozenset({LABEL_SERVICE_NAME, LABEL_MANAGED_BY, HEADLESS})

PortMapKey = tuple[tuple[str, int, str, str], ...]
EndpointKey = tuple[tuple[str, ...], str, str, str]


def service_index(obj: Obj) -> list[str]:
    """Index slices by ``namespace/<kubernetes.io/service-name>``."""
    meta = obj.get("metadata") or {}
    name = (meta.get("labels") or {}).get(LABEL_SERVICE_NAME)
    return [f"{meta.get('namespace', '')}/{name}"] if name else []


# -- building blocks ---------------------------------------------------------------------------

def address_types(service: Mapping[str, Any]) -> list[str]:
    """The slice address types a service wants (its ipFamilies; fallbacks as upstream)."""
    spec = service.get("spec") or {}
    families = [f for f in spec.get("ipFamilies") or () if f in ("IPv4", "IPv6")]
    if families:
        return sorted(set(families))
    cluster_ip = spec.get("clusterIP") or ""
    if cluster_ip and cluster_ip != "None":
        return ["IPv6" if is_ipv6(cluster_ip) else "IPv4"]
    return ["IPv4", "IPv6"]


def endpoint_ports(service: Mapping[str, Any], pod: Mapping[str, Any]) -> list[Obj]:
    spec = service.get("spec") or {}
    out: list[Obj] = []
    if not spec.get("ports") and spec.get("clusterIP") == "None":
        return out
    for sp in spec.get("ports") or ():
        number = find_port(pod, sp)
        if number is None:
            continue
        port: Obj = {"name": sp.get("name") or "", "port": number, "protocol": sp.get("protocol") or "TCP"}
        if sp.get("appProtocol"):
            port["appProtocol"] = sp["appProtocol"]
        out.append(port)
    return out


def port_map_key(ports: Iterable[Mapping[str, Any]]) -> PortMapKey:
    return tuple(sorted((p.get("name") or "", int(p.get("port") or 0), p.get("protocol") or "TCP",
                         p.get("appProtocol") or "") for p in ports))


def pod_to_endpoint(pod: Mapping[str, Any], node: Mapping[str, Any] | None, service: Mapping[str, Any],
                    address_type: str) -> Obj:
    serving = is_ready(pod)
    terminating = bool(pod["metadata"].get("deletionTimestamp"))
    ready = bool((service.get("spec") or {}).get("publishNotReadyAddresses")) or (serving and not terminating)
    want_v6 = address_type == "IPv6"
    ep: Obj = {
        "addresses": [ip for ip in pod_ips(pod) if is_ipv6(ip) == want_v6],
        "conditions": {"ready": ready, "serving": serving, "terminating": terminating},
    }
    if should_set_hostname(pod, service):
        ep["hostname"] = pod["spec"]["hostname"]
    ep["targetRef"] = target_ref(pod)
    node_name = (pod.get("spec") or {}).get("nodeName")
    if node_name:
        ep["nodeName"] = node_name
    zone = ((node or {}).get("metadata") or {}).get("labels", {}).get(LABEL_ZONE) if node else None
    if zone:
        ep["zone"] = zone
    return ep


def endpoint_key(ep: Mapping[str, Any]) -> EndpointKey:
    ref = ep.get("targetRef") or {}
    return (tuple(ep.get("addresses") or ()), ep.get("hostname") or "", ref.get("namespace") or "",
            ref.get("name") or "")


def _comparable(ep: Mapping[str, Any]) -> Obj:
    out = dict(ep)
    out.pop("hints", None)
    if out.get("targetRef"):
        out["targetRef"] = {k: v for k, v in out["targetRef"].items() if k != "resourceVersion"}
    return out


def slice_labels(slice_: Mapping[str, Any] | None, service: Mapping[str, Any]) -> tuple[dict[str, str], bool]:
    """The labels a slice should carry and whether its non-reserved labels differ from the service's."""
    current = {k: v for k, v in (((slice_ or {}).get("metadata") or {}).get("labels") or {}).items()
               if k not in RESERVED_LABELS}
    wanted = {k: v for k, v in ((service.get("metadata") or {}).get("labels") or {}).items()
              if k not in RESERVED_LABELS}
    changed = current != wanted
    if not is_service_ip_set(service):
        wanted[HEADLESS] = ""
    wanted[LABEL_SERVICE_NAME] = service["metadata"]["name"]
    wanted[LABEL_MANAGED_BY] = CONTROLLER_NAME
    return wanted, changed


def service_owner_reference(service: Mapping[str, Any]) -> Obj:
    meta = service["metadata"]
    return {"apiVersion": "v1", "kind": "Service", "name": meta["name"], "uid": meta.get("uid", ""),
            "controller": True, "blockOwnerDeletion": True}


def owned_by(slice_: Mapping[str, Any], service: Mapping[str, Any]) -> bool:
    uid = service["metadata"].get("uid")
    return any(r.get("uid") == uid and r.get("kind") == "Service" and r.get("apiVersion") == "v1"
               for r in (slice_.get("metadata") or {}).get("ownerReferences") or ())


def new_slice(service: Mapping[str, Any], ports: list[Obj], address_type: str) -> Obj:
    labels, _ = slice_labels(None, service)
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "generateName": f"{service['metadata']['name']}-",
            "namespace": service["metadata"].get("namespace", ""),
            "labels": labels,
            "ownerReferences": [service_owner_reference(service)],
        },
        "addressType": address_type,
        "endpoints": [],
        "ports": [dict(p) for p in ports],
    }


def _is_placeholder_for(slice_: Mapping[str, Any], service: Mapping[str, Any], address_type: str) -> bool:
    placeholder = new_slice(service, [], address_type)
    meta = slice_.get("metadata") or {}
    return (meta.get("namespace") == placeholder["metadata"]["namespace"]
            and (meta.get("labels") or {}) == placeholder["metadata"]["labels"]
            and (meta.get("ownerReferences") or []) == placeholder["metadata"]["ownerReferences"]
            and not slice_.get("endpoints") and not slice_.get("ports")
            and slice_.get("addressType") == address_type)


@dataclass(kw_only=True)
class SlicePlan:
    """What one sync writes: new slices, replaced slices (with their names), slices to delete."""

    create: list[Obj] = field(default_factory=list)
    update: list[Obj] = field(default_factory=list)
    delete: list[Obj] = field(default_factory=list)

    def empty(self) -> bool:
        return not (self.create or self.update or self.delete)


NodeLookup = Callable[[str], Mapping[str, Any] | None]


def plan_slices(
    service: Mapping[str, Any],
    pods: Iterable[Mapping[str, Any]],
    existing: Iterable[Mapping[str, Any]],
    node_of: NodeLookup,
    *,
    max_per_slice: int = MAX_ENDPOINTS_PER_SLICE,
) -> tuple[SlicePlan, list[str]]:
    """Decide the slice writes for one service (pure). Returns the plan and the names of pods
    skipped because their node is unknown (the caller retries later)."""
    plan = SlicePlan()
    missing_nodes: list[str] = []
    wanted_types = address_types(service)
    by_type: dict[str, list[Mapping[str, Any]]] = {}
    for s in existing:
        if s.get("addressType") not in wanted_types:
            plan.delete.append(dict(s))
        else:
            by_type.setdefault(s["addressType"], []).append(s)
    pods = list(pods)
    for address_type in wanted_types:
        _plan_address_type(plan, service, pods, by_type.get(address_type, []), node_of, address_type,
                           max_per_slice, missing_nodes)
    return plan, missing_nodes


def _plan_address_type(
    plan: SlicePlan, service: Mapping[str, Any], pods: list[Mapping[str, Any]],
    existing: list[Mapping[str, Any]], node_of: NodeLookup, address_type: str, max_per_slice: int,
    missing_nodes: list[str],
) -> None:
    to_create: list[Obj] = []
    to_update: list[Obj] = []
    to_delete: list[Obj] = []
    existing_by_ports: dict[PortMapKey, list[Mapping[str, Any]]] = {}
    for s in existing:
        if owned_by(s, service):
            existing_by_ports.setdefault(port_map_key(s.get("ports") or ()), []).append(s)
        else:
            to_delete.append(dict(s))

    publish = bool((service.get("spec") or {}).get("publishNotReadyAddresses"))
    desired: dict[PortMapKey, dict[EndpointKey, Obj]] = {}
    desired_ports: dict[PortMapKey, list[Obj]] = {}
    for pod in pods:
        if not should_pod_be_in_endpoints(pod, True):
            continue
        ports = endpoint_ports(service, pod)
        pkey = port_map_key(ports)
        desired.setdefault(pkey, {})
        desired_ports.setdefault(pkey, ports)
        node_name = (pod.get("spec") or {}).get("nodeName") or ""
        node = node_of(node_name) if node_name else None
        if node is None and not publish:
            missing_nodes.append(pod["metadata"]["name"])
            continue
        ep = pod_to_endpoint(pod, node, service, address_type)
        if ep["addresses"]:
            desired[pkey][endpoint_key(ep)] = ep

    for pkey, wanted in desired.items():
        c, u, d = _plan_port_map(service, existing_by_ports.get(pkey, []), dict(wanted), desired_ports[pkey],
                                 address_type, max_per_slice)
        to_create += c
        to_update += u
        to_delete += d
    for pkey, slices in existing_by_ports.items():
        if pkey not in desired:
            to_delete += [dict(s) for s in slices]

    if len(existing) == len(to_delete) and not to_create:
        if len(to_delete) == 1 and _is_placeholder_for(to_delete[0], service, address_type):
            to_delete = []
        else:
            to_create.append(new_slice(service, [], address_type))

    # reuse slices about to be deleted for slices about to be created
    i = 0
    while i < len(to_delete) and to_create:
        victim = to_delete[i]
        if victim.get("addressType") == address_type and owned_by(victim, service):
            reused = to_create.pop()
            reused["metadata"].pop("generateName", None)
            reused["metadata"]["name"] = victim["metadata"]["name"]
            reused["metadata"]["resourceVersion"] = victim["metadata"].get("resourceVersion", "")
            if (victim["metadata"].get("annotations")):
                reused["metadata"]["annotations"] = dict(victim["metadata"]["annotations"])
            to_update.append(reused)
            del to_delete[i]
        else:
            i += 1
    plan.create += to_create
    plan.update += to_update
    plan.delete += to_delete


def _plan_port_map(
    service: Mapping[str, Any], existing: list[Mapping[str, Any]], wanted: dict[EndpointKey, Obj],
    ports: list[Obj], address_type: str, max_per_slice: int,
) -> tuple[list[Obj], list[Obj], list[Obj]]:
    by_name: dict[str, Obj] = {}
    unchanged: list[str] = []
    updating: list[str] = []
    deleting: list[str] = []
    # 1. keep desired endpoints where they are, drop the others
    for s in existing:
        name = s["metadata"]["name"]
        kept: list[Obj] = []
        changed = False
        for ep in s.get("endpoints") or ():
            want = wanted.pop(endpoint_key(ep), None)
            if want is None:
                continue
            kept.append(want)
            if _comparable(want) != _comparable(ep):
                changed = True
        labels, labels_changed = slice_labels(s, service)
        if changed or len(kept) != len(s.get("endpoints") or ()):
            if not kept:
                by_name[name] = dict(s)
                deleting.append(name)
            else:
                copy = deepcopy(dict(s))
                copy["endpoints"] = kept
                copy["metadata"]["labels"] = labels
                by_name[name] = copy
                updating.append(name)
        elif labels_changed:
            copy = deepcopy(dict(s))
            copy["metadata"]["labels"] = labels
            by_name[name] = copy
            updating.append(name)
        else:
            by_name[name] = dict(s)
            unchanged.append(name)

    remaining = list(wanted.values())
    # 2. top up the slices being updated anyway, fullest first
    if remaining and updating:
        for name in sorted(updating, key=lambda n: -len(by_name[n]["endpoints"])):
            s = by_name[name]
            room = max_per_slice - len(s["endpoints"])
            if room > 0:
                s["endpoints"] += remaining[:room]
                remaining = remaining[room:]
            if not remaining:
                break

    # 3. fit the rest into the unchanged slice they fill best, else into new slices
    created: list[Obj] = []
    while remaining:
        target: Obj | None = None
        if len(remaining) < max_per_slice and unchanged:
            best = max_per_slice
            for name in unchanged:
                diff = max_per_slice - (len(remaining) + len(by_name[name].get("endpoints") or ()))
                if 0 <= diff < best:
                    best, target = diff, by_name[name]
            if target is not None:
                target = deepcopy(target)
                target.setdefault("endpoints", [])
                by_name[target["metadata"]["name"]] = target
        if target is None:
            target = new_slice(service, ports, address_type)
        room = max_per_slice - len(target["endpoints"])
        target["endpoints"] += remaining[:room]
        remaining = remaining[room:]
        name = target["metadata"].get("name")
        if name:
            unchanged.remove(name)
            updating.append(name)
        else:
            created.append(target)
    return created, [by_name[n] for n in updating], [by_name[n] for n in deleting]


# -- the tracker -----------------------------------------------------------------------------

def _rv_int(rv: Any) -> int | None:
    try:
        return int(rv)
    except (TypeError, ValueError):
        return None


class SliceTracker:
    """The slices this controller wrote or deleted that the informer may not show yet.

    ``wrote(slice)`` after a create/update, ``deleted(slice)`` after a delete; ``observe`` /
    ``observe_delete`` from the informer's handlers; ``stale(service_key, cached)`` is True
    while the cache lacks one of our writes or still holds a slice we deleted."""

    def __init__(self) -> None:
        self._written: dict[str, dict[str, str]] = {}  # service key -> slice name -> RV
        self._deleted: dict[str, dict[str, str]] = {}

    def wrote(self, service_key: str, slice_: Mapping[str, Any]) -> None:
        meta = slice_["metadata"]
        self._written.setdefault(service_key, {})[meta["name"]] = str(meta.get("resourceVersion") or "")
        self._deleted.get(service_key, {}).pop(meta["name"], None)

    def deleted(self, service_key: str, slice_: Mapping[str, Any]) -> None:
        meta = slice_["metadata"]
        self._deleted.setdefault(service_key, {})[meta["name"]] = str(meta.get("resourceVersion") or "")
        self._written.get(service_key, {}).pop(meta["name"], None)

    def observe(self, service_key: str, slice_: Mapping[str, Any]) -> None:
        meta = slice_["metadata"]
        written = self._written.get(service_key)
        if written and meta["name"] in written and _caught_up(meta.get("resourceVersion"), written[meta["name"]]):
            del written[meta["name"]]

    def observe_delete(self, service_key: str, slice_: Mapping[str, Any]) -> None:
        name = slice_["metadata"]["name"]
        self._deleted.get(service_key, {}).pop(name, None)
        self._written.get(service_key, {}).pop(name, None)

    def stale(self, service_key: str, cached: Iterable[Mapping[str, Any]]) -> bool:
        have = {s["metadata"]["name"]: s["metadata"].get("resourceVersion") for s in cached}
        for name, rv in (self._written.get(service_key) or {}).items():
            if name not in have or not _caught_up(have[name], rv):
                return True
        for name, rv in (self._deleted.get(service_key) or {}).items():
            if name in have and not _newer(have[name], rv):
                return True
        return False

    def forget(self, service_key: str) -> None:
        self._written.pop(service_key, None)
        self._deleted.pop(service_key, None)


def _caught_up(seen: Any, wanted: str) -> bool:
    a, b = _rv_int(seen), _rv_int(wanted)
    if a is not None and b is not None:
        return a >= b
    return str(seen) == wanted


def _newer(seen: Any, than: str) -> bool:
    a, b = _rv_int(seen), _rv_int(than)
    if a is not None and b is not None:
        return a > b
    return str(seen) != than


# -- the controller --------------------------------------------------------------------------

class EndpointSliceController(Controller):
    NAME = "endpointslice"
    WORKERS = 5

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx)
        self.max_per_slice = int(ctx.options.get("max_endpoints_per_slice") or MAX_ENDPOINTS_PER_SLICE)
        self.slices_ref = self.client.resource("discovery.k8s.io/v1", "endpointslices")
        self.services = ctx.informers.for_resource("v1", "services")
        self.pods = ctx.informers.for_resource("v1", "pods")
        self.nodes = ctx.informers.for_resource("v1", "nodes")
        self.slices = ctx.informers.for_resource(
            "discovery.k8s.io/v1", "endpointslices", label_selector=f"{LABEL_MANAGED_BY}={CONTROLLER_NAME}",
            indexers={SERVICE_INDEX: service_index})
        self.membership = ServiceKeysForPods(self.services)
        self.trigger_times = TriggerTimeTracker()
        self.tracker = SliceTracker()
        self.services.add_event_handler(
            on_add=self.enqueue, on_update=lambda old, new: self.enqueue(new), on_delete=self.enqueue)
        self.pods.add_event_handler(
            on_add=self._pod_added,
            on_update=self._pod_updated,
            on_delete=lambda obj: self._pod_added(object_of(obj)))
        self.nodes.add_event_handler(on_update=self._node_updated)
        self.slices.add_event_handler(on_add=self._slice_changed, on_update=lambda old, new: self._slice_changed(new),
                                      on_delete=self._slice_deleted)

    def informers(self) -> list[Any]:
        return [self.services, self.pods, self.nodes, self.slices]

    # -- event handlers -----------------------------------------------------------------------
    def _pod_added(self, pod: Obj) -> None:
        for key in self.membership.for_pod(pod):
            self.queue.add(key)

    def _pod_updated(self, old: Obj, new: Obj) -> None:
        for key in self.membership.for_update(old, new):
            self.queue.add(key)

    def _node_updated(self, old: Obj, new: Obj) -> None:
        if (old["metadata"].get("labels") or {}).get(LABEL_ZONE) == (new["metadata"].get("labels") or {}).get(LABEL_ZONE):
            return
        name = new["metadata"]["name"]
        for pod in self.pods.indexer.list():
            if (pod.get("spec") or {}).get("nodeName") == name:
                self._pod_added(pod)

    def _slice_changed(self, slice_: Obj) -> None:
        for key in service_index(slice_):
            self.tracker.observe(key, slice_)
            self.queue.add(key)

    def _slice_deleted(self, obj: Obj | DeletedFinalStateUnknown) -> None:
        slice_ = object_of(obj)
        for key in service_index(slice_):
            self.tracker.observe_delete(key, slice_)
            self.queue.add(key)

    # -- reconcile ----------------------------------------------------------------------------
    async def sync(self, key: str) -> None:
        namespace, _name = split_key(key)
        service = self.services.indexer.get_by_key(key)
        if service is None:
            self.trigger_times.delete(key)
            self.tracker.forget(key)
            return
        spec = service.get("spec") or {}
        if spec.get("type") == "ExternalName" or spec.get("selector") is None:
            return
        existing = self.slices.indexer.by_index(SERVICE_INDEX, key)
        if self.tracker.stale(key, existing):
            raise RuntimeError(f"EndpointSlice informer cache is out of date for service {key}")
        pods = [p for p in self.pods.indexer.by_index(NAMESPACE_INDEX, namespace) if service_matches(service, p)]
        trigger = self.trigger_times.compute(service, pods)
        plan, missing = plan_slices(service, pods, existing, self.nodes.indexer.get_by_key,
                                    max_per_slice=self.max_per_slice)
        await self._execute(key, service, plan, trigger)
        if missing:
            raise RuntimeError(f"pods of service {key} on unknown nodes skipped: {', '.join(sorted(missing))}")

    async def _execute(self, key: str, service: Obj, plan: SlicePlan, trigger: datetime | None) -> None:
        namespace = service["metadata"].get("namespace", "")
        if not service["metadata"].get("deletionTimestamp"):
            for s in plan.create:
                _set_trigger_time(s, trigger)
                try:
                    created = await self.client.create(self.slices_ref, s, namespace=namespace)
                except ApiError as e:
                    if is_forbidden(e) and any(c.get("type") == NAMESPACE_TERMINATING_CAUSE
                                               for c in e.details.get("causes") or ()):
                        return
                    raise
                self.tracker.wrote(key, created)
        for s in plan.update:
            _set_trigger_time(s, trigger)
            updated = await self.client.update(self.slices_ref, s, namespace=namespace)
            self.tracker.wrote(key, updated)
        for s in plan.delete:
            try:
                await self.client.delete(self.slices_ref, s["metadata"]["name"], namespace=namespace)
            except ApiError as e:
                if not is_not_found(e):
                    raise
            self.tracker.deleted(key, s)


def _set_trigger_time(slice_: Obj, trigger: datetime | None) -> None:
    annotations = dict(slice_["metadata"].get("annotations") or {})
    if trigger is not None:
        annotations[LAST_CHANGE_TRIGGER_TIME] = format_time(trigger)
    else:
        annotations.pop(LAST_CHANGE_TRIGGER_TIME, None)
    if annotations:
        slice_["metadata"]["annotations"] = annotations
    else:
        slice_["metadata"].pop("annotations", None)


def new(ctx: ControllerContext) -> EndpointSliceController:
    return EndpointSliceController(ctx)
