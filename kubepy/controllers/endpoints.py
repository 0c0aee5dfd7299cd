"""The Endpoints controller: one core/v1 Endpoints object per Service with a selector.

Job: for each Service that selects pods, keep an Endpoints object of the same name whose
subsets list the selected pods' addresses, ready ones under ``addresses`` and the others
under ``notReadyAddresses`` (everything is "ready" with ``publishNotReadyAddresses``), with
ports resolved per pod (a named ``targetPort`` is looked up among the pod's container
ports). Services without a selector and ExternalName services are left alone; the
Endpoints of a deleted Service are deleted. Terminal pods, pods without an IP and (unless
``publishNotReadyAddresses``) terminating pods are left out, as upstream's
``ShouldPodBeInEndpoints`` does.

Design: as upstream's ``endpoints_controller.go``. The subsets are built one address per
port and then *repacked* into the canonical layout (addresses grouped by the exact set of
ports they offer, sorted), so that comparing with the current object is a plain equality
and a resync with nothing changed writes nothing. Over 1000 addresses the object is
truncated (ready addresses first, proportionally per subset) and annotated
``endpoints.kubernetes.io/over-capacity: truncated``; unlike upstream, the comparison is
made after truncating, so an over-capacity service is not rewritten on every sync. The
``endpoints.kubernetes.io/last-change-trigger-time`` annotation is the oldest change
(pod Ready transition or Service creation) not yet reflected, from a per-service tracker.
A write whose result the informer has not yet shown is remembered so that a stale cache
read retries instead of overwriting a newer object.

The pod-to-endpoint helpers (``find_port``, ``should_pod_be_in_endpoints``,
``should_set_hostname``, ``service_matches``, ``TriggerTimeTracker``) are shared with the
EndpointSlice controller.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
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
from kubepy.controllers.base import Controller, key_of
from kubepy.controllers.context import ControllerContext
from kubepy.controllers.podcontrol import is_ready

Obj = dict[str, Any]

MAX_CAPACITY = 1000
OVER_CAPACITY = "endpoints.kubernetes.io/over-capacity"
TRUNCATED = "truncated"
LAST_CHANGE_TRIGGER_TIME = "endpoints.kubernetes.io/last-change-trigger-time"
HEADLESS = "service.kubernetes.io/headless"
LEADER_ANNOTATION = "control-plane.alpha.kubernetes.io/leader"
NAMESPACE_TERMINATING_CAUSE = "NamespaceTerminating"


# -- pod → endpoint helpers (shared with the EndpointSlice controller) ----------------------------

def service_matches(service: Mapping[str, Any], pod: Mapping[str, Any]) -> bool:
    """A Service's (map) selector matches the pod; no selector matches nothing."""
    selector = (service.get("spec") or {}).get("selector")
    if selector is None:
        return False
    labels = (pod.get("metadata") or {}).get("labels") or {}
    return all(labels.get(k) == v for k, v in selector.items())


def should_pod_be_in_endpoints(pod: Mapping[str, Any], include_terminating: bool) -> bool:
    """Upstream's ShouldPodBeInEndpoints: not terminal, has an IP, not terminating unless asked."""
    status = pod.get("status") or {}
    if status.get("phase") in ("Succeeded", "Failed"):
        return False
    if not status.get("podIP") and not status.get("podIPs"):
        return False
    if not include_terminating and (pod.get("metadata") or {}).get("deletionTimestamp"):
        return False
    return True


def should_set_hostname(pod: Mapping[str, Any], service: Mapping[str, Any]) -> bool:
    spec = pod.get("spec") or {}
    return bool(spec.get("hostname")) and spec.get("subdomain") == service["metadata"]["name"] and \
        (pod.get("metadata") or {}).get("namespace") == service["metadata"].get("namespace")


def find_port(pod: Mapping[str, Any], service_port: Mapping[str, Any]) -> int | None:
    """The container port a service port targets on this pod (None: the pod has no such port).

    A numeric (or absent: the port itself) targetPort is used as is; a name is looked up among
    the containers' (and restartable init containers') named ports of the same protocol."""
    target = service_port.get("targetPort", service_port.get("port"))
    if isinstance(target, int):
        return target
    if isinstance(target, str) and target.isdigit():
        return int(target)
    protocol = service_port.get("protocol") or "TCP"
    spec = pod.get("spec") or {}
    containers = list(spec.get("containers") or ())
    containers += [c for c in spec.get("initContainers") or () if c.get("restartPolicy") == "Always"]
    for container in containers:
        for port in container.get("ports") or ():
            if port.get("name") == target and (port.get("protocol") or "TCP") == protocol:
                return int(port["containerPort"])
    return None


def is_ipv6(ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip).version == 6
    except ValueError:
        return False


def service_ip_family(service: Mapping[str, Any], pod: Mapping[str, Any] | None = None) -> str:
    """IPv4 or IPv6: the service's first family, else its clusterIP's, else the pod's IP's."""
    spec = service.get("spec") or {}
    families = spec.get("ipFamilies") or ()
    if families:
        return str(families[0])
    cluster_ip = spec.get("clusterIP") or ""
    if cluster_ip and cluster_ip != "None":
        return "IPv6" if is_ipv6(cluster_ip) else "IPv4"
    pod_ip = ((pod or {}).get("status") or {}).get("podIP") or ""
    return "IPv6" if is_ipv6(pod_ip) else "IPv4"


def pod_ips(pod: Mapping[str, Any]) -> list[str]:
    status = pod.get("status") or {}
    ips = [p.get("ip", "") for p in status.get("podIPs") or () if p.get("ip")]
    if not ips and status.get("podIP"):
        ips = [status["podIP"]]
    return ips


def is_service_ip_set(service: Mapping[str, Any]) -> bool:
    cluster_ip = (service.get("spec") or {}).get("clusterIP") or ""
    return cluster_ip not in ("", "None")


def target_ref(pod: Mapping[str, Any]) -> Obj:
    meta = pod["metadata"]
    return {"kind": "Pod", "namespace": meta.get("namespace", ""), "name": meta["name"], "uid": meta.get("uid", "")}


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def format_time(t: datetime) -> str:
    """Go's RFC3339Nano in UTC (fraction only when there is one, trailing zeros trimmed)."""
    t = t.astimezone(timezone.utc)
    base = t.strftime("%Y-%m-%dT%H:%M:%S")
    if t.microsecond:
        base += ("." + f"{t.microsecond:06d}").rstrip("0")
    return base + "Z"


def pod_trigger_time(pod: Mapping[str, Any]) -> datetime | None:
    """When the pod last changed in a way endpoints care about: its Ready transition."""
    for c in (pod.get("status") or {}).get("conditions") or ():
        if c.get("type") == "Ready":
            return _parse_time(c.get("lastTransitionTime"))
    return None


class TriggerTimeTracker:
    """Upstream's TriggerTimeTracker: per service, the trigger times seen at the last sync.

    ``compute`` returns the oldest trigger time (a pod's Ready transition, the service's
    creation) that changed since the previous call for that service, or None."""

    def __init__(self) -> None:
        self._states: dict[str, tuple[dict[str, datetime], datetime | None]] = {}

    def compute(self, service: Mapping[str, Any], pods: Iterable[Mapping[str, Any]]) -> datetime | None:
        key = key_of(service)
        old_pods, old_service_time = self._states.get(key, ({}, None))
        new_pods: dict[str, datetime] = {}
        oldest: datetime | None = None
        for pod in pods:
            t = pod_trigger_time(pod)
            if t is None:
                continue
            name = pod["metadata"]["name"]
            new_pods[name] = t
            prev = old_pods.get(name)
            if (prev is None or t > prev) and (oldest is None or t < oldest):
                oldest = t
        service_time = _parse_time((service.get("metadata") or {}).get("creationTimestamp"))
        if service_time is not None and (old_service_time is None or service_time > old_service_time) and \
                (oldest is None or service_time < oldest):
            oldest = service_time
        self._states[key] = (new_pods, service_time)
        return oldest

    def delete(self, key: str) -> None:
        self._states.pop(key, None)


def pod_endpoints_changed(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[bool, bool]:
    """(endpoint-relevant fields changed, labels changed) between two versions of a pod."""
    labels_changed = (old["metadata"].get("labels") or {}) != (new["metadata"].get("labels") or {})
    if bool(old["metadata"].get("deletionTimestamp")) != bool(new["metadata"].get("deletionTimestamp")):
        return True, labels_changed
    if is_ready(old) != is_ready(new):
        return True, labels_changed
    if pod_ips(old) != pod_ips(new):
        return True, labels_changed
    old_status, new_status = old.get("status") or {}, new.get("status") or {}
    if old_status.get("phase") != new_status.get("phase"):
        return True, labels_changed
    old_spec, new_spec = old.get("spec") or {}, new.get("spec") or {}
    for field in ("nodeName", "hostname", "subdomain"):
        if old_spec.get(field) != new_spec.get(field):
            return True, labels_changed
    return False, labels_changed


class ServiceKeysForPods:
    """Maps pod events to the keys of the services that select (or selected) the pod."""

    def __init__(self, services: Any) -> None:
        self.services = services

    def for_pod(self, pod: Mapping[str, Any]) -> set[str]:
        ns = (pod.get("metadata") or {}).get("namespace") or ""
        return {key_of(s) for s in self.services.indexer.by_index(NAMESPACE_INDEX, ns) if service_matches(s, pod)}

    def for_update(self, old: Mapping[str, Any], new: Mapping[str, Any]) -> set[str]:
        if old["metadata"].get("resourceVersion") == new["metadata"].get("resourceVersion"):
            return set()
        changed, labels_changed = pod_endpoints_changed(old, new)
        if not changed and not labels_changed:
            return set()
        keys = self.for_pod(new)
        if labels_changed:
            old_keys = self.for_pod(old)
            keys = keys | old_keys if changed else keys ^ old_keys
        return keys


# -- subsets ---------------------------------------------------------------------------------------

PortKey = tuple[str, int, str, str]
AddrKey = tuple[str, str]
_NO_PORT: PortKey = ("", -1, "", "")


def _port_key(port: Mapping[str, Any] | None) -> PortKey:
    if port is None:
        return _NO_PORT
    return (port.get("name") or "", int(port.get("port") or 0), port.get("protocol") or "", port.get("appProtocol") or "")


def _port_obj(key: PortKey) -> Obj:
    name, number, protocol, app = key
    out: Obj = {}
    if name:
        out["name"] = name
    out["port"] = number
    if protocol:
        out["protocol"] = protocol
    if app:
        out["appProtocol"] = app
    return out


def _addr_key(addr: Mapping[str, Any]) -> AddrKey:
    return (addr.get("ip", ""), (addr.get("targetRef") or {}).get("uid", ""))


def repack_subsets(entries: Iterable[tuple[Obj, Obj | None, bool]]) -> list[Obj]:
    """Canonical subsets from (address, port or None, ready) triples.

    Addresses are de-duplicated by (ip, target uid); "not ready" wins over "ready" for the
    same address and port; addresses offering exactly the same ports share a subset;
    addresses, ports and subsets are sorted so equal inputs give equal output."""
    addresses: dict[AddrKey, Obj] = {}
    by_port: dict[PortKey, dict[AddrKey, bool]] = {}
    for addr, port, is_up in entries:
        akey = _addr_key(addr)
        addresses.setdefault(akey, addr)
        states = by_port.setdefault(_port_key(port), {})
        if states.get(akey, True):
            states[akey] = is_up
    groups: dict[frozenset[tuple[AddrKey, bool]], list[PortKey]] = {}
    for pkey, states in by_port.items():
        groups.setdefault(frozenset(states.items()), []).append(pkey)
    subsets: list[Obj] = []
    for members, ports in groups.items():
        ready = sorted(k for k, r in members if r)
        not_ready = sorted(k for k, r in members if not r)
        subset: Obj = {}
        if ready:
            subset["addresses"] = [addresses[k] for k in ready]
        if not_ready:
            subset["notReadyAddresses"] = [addresses[k] for k in not_ready]
        real_ports = sorted(p for p in ports if p != _NO_PORT)
        if real_ports:
            subset["ports"] = [_port_obj(p) for p in real_ports]
        subsets.append(subset)
    subsets.sort(key=_subset_sort_key)
    return subsets


def _subset_sort_key(subset: Mapping[str, Any]) -> tuple[list[PortKey], list[AddrKey], list[AddrKey]]:
    return ([_port_key(p) for p in subset.get("ports") or ()],
            [_addr_key(a) for a in subset.get("addresses") or ()],
            [_addr_key(a) for a in subset.get("notReadyAddresses") or ()])


def desired_subsets(service: Mapping[str, Any], pods: Iterable[Mapping[str, Any]]) -> list[Obj]:
    """The Endpoints subsets for a service over the pods its selector matches."""
    spec = service.get("spec") or {}
    publish = bool(spec.get("publishNotReadyAddresses"))
    ports = spec.get("ports") or []
    headless = spec.get("clusterIP") == "None"
    entries: list[tuple[Obj, Obj | None, bool]] = []
    for pod in pods:
        if not should_pod_be_in_endpoints(pod, publish):
            continue
        family = service_ip_family(service, pod)
        ip = next((i for i in pod_ips(pod) if is_ipv6(i) == (family == "IPv6")), None)
        if ip is None:
            continue
        addr: Obj = {"ip": ip}
        if should_set_hostname(pod, service):
            addr["hostname"] = pod["spec"]["hostname"]
        node_name = (pod.get("spec") or {}).get("nodeName")
        if node_name:
            addr["nodeName"] = node_name
        addr["targetRef"] = target_ref(pod)
        ready = publish or is_ready(pod)
        if not ports:
            if headless:
                entries.append((addr, None, ready))
            continue
        for sp in ports:
            number = find_port(pod, sp)
            if number is None:
                continue
            port: Obj = {"name": sp.get("name") or "", "port": number, "protocol": sp.get("protocol") or "TCP"}
            if sp.get("appProtocol"):
                port["appProtocol"] = sp["appProtocol"]
            entries.append((addr, port, ready))
    return repack_subsets(entries)


def count_addresses(subsets: Iterable[Mapping[str, Any]]) -> int:
    return sum(len(s.get("addresses") or ()) + len(s.get("notReadyAddresses") or ()) for s in subsets)


def truncate_subsets(subsets: list[Obj]) -> bool:
    """Cut subsets down to MAX_CAPACITY addresses in place, as upstream: not-ready addresses
    go first; if the ready ones alone are too many, they are cut proportionally per subset."""
    total_ready = sum(len(s.get("addresses") or ()) for s in subsets)
    total_not_ready = sum(len(s.get("notReadyAddresses") or ()) for s in subsets)
    if total_ready + total_not_ready <= MAX_CAPACITY:
        return False
    truncate_ready = total_ready > MAX_CAPACITY
    limit = MAX_CAPACITY if truncate_ready else MAX_CAPACITY - total_ready
    total = total_ready if truncate_ready else total_not_ready
    can_add = limit
    for subset in subsets:
        field = "addresses" if truncate_ready else "notReadyAddresses"
        items = subset.get(field) or []
        take = min(math.ceil(len(items) / total * limit) if total else 0, can_add)
        kept = items[:take]
        if kept:
            subset[field] = kept
        else:
            subset.pop(field, None)
        if truncate_ready:
            subset.pop("notReadyAddresses", None)
        can_add -= len(kept)
    subsets[:] = [s for s in subsets if s.get("addresses") or s.get("notReadyAddresses")]
    return True


def _strip_rv(subsets: Any) -> Any:
    """Subsets without targetRef resourceVersions (pod RV changes alone must not cause writes)."""
    out = []
    for s in subsets or ():
        s2 = dict(s)
        for field in ("addresses", "notReadyAddresses"):
            if field in s2:
                s2[field] = [
                    {**a, "targetRef": {k: v for k, v in a["targetRef"].items() if k != "resourceVersion"}}
                    if a.get("targetRef") else a for a in s2[field]
                ]
        out.append(s2)
    return out


# -- the controller --------------------------------------------------------------------------------

class EndpointsController(Controller):
    NAME = "endpoints"
    WORKERS = 5

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx)
        self.endpoints_ref = self.client.resource("v1", "endpoints")
        self.services = ctx.informers.for_resource("v1", "services")
        self.pods = ctx.informers.for_resource("v1", "pods")
        self.endpoints = ctx.informers.for_resource("v1", "endpoints")
        self.membership = ServiceKeysForPods(self.services)
        self.trigger_times = TriggerTimeTracker()
        #: key -> resourceVersion we replaced: seeing it again in the cache means it is stale
        self._stale: dict[str, str] = {}
        #: keys of Endpoints created here that the informer has not shown yet
        self._created: set[str] = set()
        self._leftovers_checked = False
        self.services.add_event_handler(
            on_add=self.enqueue, on_update=lambda old, new: self.enqueue(new), on_delete=self.enqueue)
        self.pods.add_event_handler(on_add=self._pod_added, on_update=self._pod_updated,
                                    on_delete=self._pod_deleted)
        self.endpoints.add_event_handler(on_add=lambda ep: self._created.discard(key_of(ep)),
                                         on_delete=self._endpoints_deleted)

    def informers(self) -> list[Any]:
        return [self.services, self.pods, self.endpoints]

    # -- event handlers -----------------------------------------------------------------------
    def _pod_added(self, pod: Obj) -> None:
        for key in self.membership.for_pod(pod):
            self.queue.add(key)

    def _pod_updated(self, old: Obj, new: Obj) -> None:
        for key in self.membership.for_update(old, new):
            self.queue.add(key)

    def _pod_deleted(self, obj: Obj | DeletedFinalStateUnknown) -> None:
        self._pod_added(object_of(obj))

    def _endpoints_deleted(self, obj: Obj | DeletedFinalStateUnknown) -> None:
        self._created.discard(key_of(obj))
        self.enqueue(obj)

    async def run(self, workers: int | None = None) -> None:
        for inf in self.informers():
            await inf.wait_for_sync()
        self.check_leftover_endpoints()
        await super().run(workers)

    def check_leftover_endpoints(self) -> None:
        """Queue every existing Endpoints' key once, so those whose Service is gone get deleted."""
        for ep in self.endpoints.indexer.list():
            if LEADER_ANNOTATION in ((ep.get("metadata") or {}).get("annotations") or {}):
                continue
            self.enqueue(ep)

    # -- reconcile ----------------------------------------------------------------------------
    async def sync(self, key: str) -> None:
        namespace, name = split_key(key)
        service = self.services.indexer.get_by_key(key)
        if service is None:
            try:
                await self.client.delete(self.endpoints_ref, name, namespace=namespace)
            except ApiError as e:
                if not is_not_found(e):
                    raise
            self.trigger_times.delete(key)
            self._stale.pop(key, None)
            self._created.discard(key)
            return
        spec = service.get("spec") or {}
        if spec.get("type") == "ExternalName" or spec.get("selector") is None:
            return
        pods = [p for p in self.pods.indexer.by_index(NAMESPACE_INDEX, namespace) if service_matches(service, p)]
        trigger = self.trigger_times.compute(service, pods)
        subsets = desired_subsets(service, pods)

        truncated = truncate_subsets(subsets)

        current = self.endpoints.indexer.get_by_key(key)
        if (current is None and key in self._created) or \
                (current is not None and self._stale.get(key) == current["metadata"].get("resourceVersion")):
            raise RuntimeError(f"endpoints informer cache is out of date for {key}")
        service_labels = (service.get("metadata") or {}).get("labels") or {}
        if current is not None:
            labels = dict((current.get("metadata") or {}).get("labels") or {})
            labels.pop(HEADLESS, None)
            marked = OVER_CAPACITY in (current["metadata"].get("annotations") or {})
            if _strip_rv(current.get("subsets")) == subsets and labels == service_labels and marked == truncated:
                return
            new = deepcopy(current)
        else:
            new = {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": name, "namespace": namespace}}
        meta = new["metadata"]
        annotations = dict(meta.get("annotations") or {})
        if trigger is not None:
            annotations[LAST_CHANGE_TRIGGER_TIME] = format_time(trigger)
        else:
            annotations.pop(LAST_CHANGE_TRIGGER_TIME, None)
        if truncated:
            annotations[OVER_CAPACITY] = TRUNCATED
        else:
            annotations.pop(OVER_CAPACITY, None)
        labels = dict(service_labels)
        if is_service_ip_set(service):
            labels.pop(HEADLESS, None)
        else:
            labels[HEADLESS] = ""
        meta["labels"] = labels
        meta["annotations"] = annotations
        if not labels:
            meta.pop("labels")
        if not annotations:
            meta.pop("annotations")
        if subsets:
            new["subsets"] = subsets
        else:
            new.pop("subsets", None)
        try:
            if current is None:
                await self.client.create(self.endpoints_ref, new, namespace=namespace)
                self._created.add(key)
            else:
                updated = await self.client.update(self.endpoints_ref, new, namespace=namespace)
                old_rv = current["metadata"].get("resourceVersion")
                if updated["metadata"].get("resourceVersion") != old_rv and old_rv:
                    self._stale[key] = old_rv
        except ApiError as e:
            if current is None and is_forbidden(e) and any(
                    c.get("type") == NAMESPACE_TERMINATING_CAUSE for c in e.details.get("causes") or ()):
                return
            if current is None:
                self.recorder.event(new, "Warning", "FailedToCreateEndpoint",
                                    f"Failed to create endpoint for service {namespace}/{name}: {e}")
            else:
                self.recorder.event(new, "Warning", "FailedToUpdateEndpoint",
                                    f"Failed to update endpoint {namespace}/{name}: {e}")
            raise


def new(ctx: ControllerContext) -> EndpointsController:
    return EndpointsController(ctx)
