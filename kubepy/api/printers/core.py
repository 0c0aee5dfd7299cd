"""Table printers for the core ("") group: pods, services, nodes, events, volumes, ...

Columns and cell rules follow upstream's ``pkg/printers/internalversion`` for v1.32,
printed wide (the server always is). The pod Status cell is the one users read most; its
algorithm (``pod_status``) is kept as a pure function so other code can reuse it.
LimitRange has no upstream printer and falls back to the default table.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from .columns import (
    Cell,
    CellsFn,
    Column,
    Obj,
    TablePrinter,
    age_column,
    containers_column,
    doc_column,
    images_column,
    name_column,
)
from .helpers import (
    NONE,
    UNKNOWN,
    UNSET,
    access_modes,
    age,
    format_labels,
    human_duration,
    join_host_port,
    name,
    parse_time,
    since,
    template_containers,
)

CORE = "io.k8s.api.core.v1."
NODE_UNREACHABLE_REASON = "NodeLost"

_POD_SUCCEEDED = [
    {"type": "Completed", "status": "True", "reason": "Succeeded", "message": "The pod has completed successfully."}
]
_POD_FAILED = [{"type": "Completed", "status": "True", "reason": "Failed", "message": "The pod failed."}]


# ---------------------------------------------------------------- pods


def _is_restartable_init(container: dict[str, Any] | None) -> bool:
    return container is not None and container.get("restartPolicy") == "Always"


def _terminated_reason(term: dict[str, Any], prefix: str) -> str:
    reason = term.get("reason") or ""
    if reason:
        return prefix + reason
    signal = term.get("signal") or 0
    if signal:
        return f"{prefix}Signal:{signal}"
    return f"{prefix}ExitCode:{term.get('exitCode') or 0}"


def _later(current: _dt.datetime | None, candidate: Any) -> _dt.datetime | None:
    t = parse_time(candidate)
    if t is None:
        return current
    if current is None or current < t:
        return t
    return current


def pod_status(pod: Obj) -> tuple[int, int, str, int, _dt.datetime | None]:
    """The pod's (ready, total, status reason, restarts, last restart time), as upstream.

    Status starts from ``status.reason`` or the phase; a failed or running init container
    turns it into ``Init:...``; otherwise the last container with a waiting/terminated
    reason wins; ``Completed`` with a container still running becomes ``Running`` or
    ``NotReady``; a deletion timestamp makes it ``Terminating`` (``Unknown`` on a lost node).
    Restartable (sidecar) init containers count toward the total and, once started, ready.
    """
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    conditions = status.get("conditions") or ()
    phase = status.get("phase") or ""
    reason = status.get("reason") or phase
    for cond in conditions:
        if cond.get("type") == "PodScheduled" and cond.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"

    total = len(spec.get("containers") or ())
    ready = 0
    restarts = 0
    sidecar_restarts = 0
    last_restart: _dt.datetime | None = None
    last_sidecar_restart: _dt.datetime | None = None

    init_specs = spec.get("initContainers") or ()
    init_by_name: dict[str, dict[str, Any]] = {}
    for c in init_specs:
        init_by_name[c.get("name", "")] = c
        if _is_restartable_init(c):
            total += 1

    initializing = False
    for i, cs in enumerate(status.get("initContainerStatuses") or ()):
        count = cs.get("restartCount") or 0
        restarts += count
        last_term = (cs.get("lastState") or {}).get("terminated")
        if last_term is not None:
            last_restart = _later(last_restart, last_term.get("finishedAt"))
        restartable = _is_restartable_init(init_by_name.get(cs.get("name", "")))
        if restartable:
            sidecar_restarts += count
            if last_term is not None:
                last_sidecar_restart = _later(last_sidecar_restart, last_term.get("finishedAt"))
        state = cs.get("state") or {}
        terminated = state.get("terminated")
        waiting = state.get("waiting")
        if terminated is not None and (terminated.get("exitCode") or 0) == 0:
            continue
        if restartable and cs.get("started"):
            if cs.get("ready"):
                ready += 1
            continue
        if terminated is not None:
            reason = _terminated_reason(terminated, "Init:")
        elif waiting is not None and waiting.get("reason") and waiting.get("reason") != "PodInitializing":
            reason = "Init:" + waiting["reason"]
        else:
            reason = f"Init:{i}/{len(init_specs)}"
        initializing = True
        break

    initialized = False
    for cond in conditions:
        if cond.get("type") == "Initialized":
            initialized = cond.get("status") == "True"
            break

    if not initializing or initialized:
        restarts = sidecar_restarts
        last_restart = last_sidecar_restart
        has_running = False
        for cs in reversed(status.get("containerStatuses") or ()):
            restarts += cs.get("restartCount") or 0
            last_term = (cs.get("lastState") or {}).get("terminated")
            if last_term is not None:
                last_restart = _later(last_restart, last_term.get("finishedAt"))
            state = cs.get("state") or {}
            waiting = state.get("waiting")
            terminated = state.get("terminated")
            if waiting is not None and waiting.get("reason"):
                reason = waiting["reason"]
            elif terminated is not None:
                reason = _terminated_reason(terminated, "")
            elif cs.get("ready") and state.get("running") is not None:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            pod_ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
            reason = "Running" if pod_ready else "NotReady"

    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        if status.get("reason") == NODE_UNREACHABLE_REASON:
            reason = "Unknown"
        elif phase not in ("Succeeded", "Failed"):
            reason = "Terminating"
    return ready, total, reason, restarts, last_restart


def _pod_cells(pod: Obj, now: _dt.datetime) -> list[Cell]:
    ready, total, reason, restarts, last_restart = pod_status(pod)
    restarts_cell = str(restarts)
    if restarts and last_restart is not None:
        restarts_cell = f"{restarts} ({human_duration(now - last_restart)} ago)"
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    ips = status.get("podIPs") or ()
    ip = (ips[0].get("ip") if ips else status.get("podIP")) or NONE
    gates = spec.get("readinessGates") or ()
    gates_cell = NONE
    if gates:
        conditions = status.get("conditions") or ()
        true_count = 0
        for gate in gates:
            for cond in conditions:
                if cond.get("type") == gate.get("conditionType"):
                    if cond.get("status") == "True":
                        true_count += 1
                    break
        gates_cell = f"{true_count}/{len(gates)}"
    return [
        name(pod),
        f"{ready}/{total}",
        reason,
        restarts_cell,
        age(pod, now),
        ip,
        spec.get("nodeName") or NONE,
        status.get("nominatedNodeName") or NONE,
        gates_cell,
    ]


def _pod_conditions(pod: Obj) -> list[dict[str, str]] | None:
    phase = (pod.get("status") or {}).get("phase")
    if phase == "Succeeded":
        return _POD_SUCCEEDED
    if phase == "Failed":
        return _POD_FAILED
    return None


def _pod_printer() -> TablePrinter:
    return TablePrinter(
        columns=(
            name_column(),
            Column("Ready", description="The aggregate readiness state of this pod for accepting traffic."),
            Column("Status", description="The aggregate status of the containers in this pod."),
            Column(
                "Restarts",
                description="The number of times the containers in this pod have been restarted "
                "and when the last container in this pod has restarted.",
            ),
            age_column(),
            doc_column("IP", CORE + "PodStatus", "podIP", priority=1),
            doc_column("Node", CORE + "PodSpec", "nodeName", priority=1),
            doc_column("Nominated Node", CORE + "PodStatus", "nominatedNodeName", priority=1),
            doc_column("Readiness Gates", CORE + "PodSpec", "readinessGates", priority=1),
        ),
        cells=_pod_cells,
        conditions=_pod_conditions,
    )


def _pod_template_printer() -> TablePrinter:
    def cells(obj: Obj, now: _dt.datetime) -> list[Cell]:
        template = obj.get("template") or {}
        names, images = template_containers(template)
        return [name(obj), names, images, format_labels((template.get("metadata") or {}).get("labels"))]

    return TablePrinter(
        columns=(
            name_column(),
            Column("Containers", description="Names of each container in the template."),
            Column("Images", description="Images referenced by each container in the template."),
            Column("Pod Labels", description="The labels for the pod template."),
        ),
        cells=cells,
    )


def _replication_controller_printer() -> TablePrinter:
    def cells(obj: Obj, now: _dt.datetime) -> list[Cell]:
        spec = obj.get("spec") or {}
        status = obj.get("status") or {}
        names, images = template_containers(spec.get("template"))
        replicas = spec.get("replicas")
        return [
            name(obj),
            1 if replicas is None else replicas,
            status.get("replicas") or 0,
            status.get("readyReplicas") or 0,
            age(obj, now),
            names,
            images,
            format_labels(spec.get("selector")),
        ]

    return TablePrinter(
        columns=(
            name_column(),
            doc_column("Desired", CORE + "ReplicationControllerSpec", "replicas", type="integer"),
            doc_column("Current", CORE + "ReplicationControllerStatus", "replicas", type="integer"),
            doc_column("Ready", CORE + "ReplicationControllerStatus", "readyReplicas", type="integer"),
            age_column(),
            containers_column(),
            images_column(),
            doc_column("Selector", CORE + "ReplicationControllerSpec", "selector", priority=1),
        ),
        cells=cells,
    )


# ---------------------------------------------------------------- services and endpoints


def _service_external_ip(spec: dict[str, Any], status: dict[str, Any]) -> str:
    svc_type = spec.get("type") or "ClusterIP"
    external = spec.get("externalIPs") or []
    if svc_type in ("ClusterIP", "NodePort"):
        return ",".join(external) if external else NONE
    if svc_type == "LoadBalancer":
        lb: set[str] = set()
        for ing in (status.get("loadBalancer") or {}).get("ingress") or ():
            if ing.get("ip"):
                lb.add(ing["ip"])
            elif ing.get("hostname"):
                lb.add(ing["hostname"])
        lb_ips = sorted(lb)
        if external:
            return ",".join(lb_ips + list(external))
        return ",".join(lb_ips) if lb_ips else "<pending>"
    if svc_type == "ExternalName":
        return str(spec.get("externalName") or "")
    return UNKNOWN


def service_ports(ports: Any) -> str:
    """``makePortString``: ``80/TCP``, ``80:30080/TCP`` with a node port, joined by ``,``."""
    pieces = []
    for p in ports or ():
        proto = p.get("protocol") or "TCP"
        node_port = p.get("nodePort") or 0
        if node_port > 0:
            pieces.append(f"{p.get('port', 0)}:{node_port}/{proto}")
        else:
            pieces.append(f"{p.get('port', 0)}/{proto}")
    return ",".join(pieces)


def _service_printer() -> TablePrinter:
    def cells(obj: Obj, now: _dt.datetime) -> list[Cell]:
        spec = obj.get("spec") or {}
        status = obj.get("status") or {}
        cluster_ips = spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else [])
        return [
            name(obj),
            spec.get("type") or "ClusterIP",
            cluster_ips[0] if cluster_ips else NONE,
            _service_external_ip(spec, status),
            service_ports(spec.get("ports")) or NONE,
            age(obj, now),
            format_labels(spec.get("selector")),
        ]

    spec = CORE + "ServiceSpec"
    return TablePrinter(
        columns=(
            name_column(),
            doc_column("Type", spec, "type"),
            doc_column("Cluster-IP", spec, "clusterIP"),
            doc_column("External-IP", spec, "externalIPs"),
            doc_column("Port(s)", spec, "ports"),
            age_column(),
            doc_column("Selector", spec, "selector", priority=1),
        ),
        cells=cells,
    )


def format_endpoints(subsets: Any) -> str:
    """``formatEndpoints``: up to three ``ip:port`` (or bare IPs), then `` + N more...``."""
    if not subsets:
        return NONE
    items: list[str] = []
    limit = 3
    more = False
    count = 0
    for ss in subsets:
        addresses = ss.get("addresses") or ()
        ports = ss.get("ports") or ()
        if not ports:
            count += len(addresses)
            for addr in addresses:
                if len(items) == limit:
                    more = True
                    break
                items.append(addr.get("ip", ""))
            continue
        for port in ports:
            count += len(addresses)
            for addr in addresses:
                if len(items) == limit:
                    more = True
                    break
                items.append(join_host_port(addr.get("ip", ""), port.get("port", 0)))
    text = ",".join(items)
    if more:
        return f"{text} + {count - limit} more..."
    return text


def _endpoints_printer() -> TablePrinter:
    def cells(obj: Obj, now: _dt.datetime) -> list[Cell]:
        return [name(obj), format_endpoints(obj.get("subsets")), age(obj, now)]

    return TablePrinter(
        columns=(name_column(), doc_column("Endpoints", CORE + "Endpoints", "subsets"), age_column()),
        cells=cells,
    )


# ---------------------------------------------------------------- config and identity


def _configmap_printer() -> TablePrinter:
    def cells(obj: Obj, now: _dt.datetime) -> list[Cell]:
        return [name(obj), len(obj.get("data") or ()) + len(obj.get("binaryData") or ()), age(obj, now)]

    return TablePrinter(
        columns=(name_column(), doc_column("Data", CORE + "ConfigMap", "data"), age_column()),
        cells=cells,
    )


def _secret_printer() -> TablePrinter:
    def cells(obj: Obj, now: _dt.datetime) -> list[Cell]:
        return [name(obj), obj.get("type") or "Opaque", len(obj.get("data") or ()), age(obj, now)]

    return TablePrinter(
        columns=(
            name_column(),
            doc_column("Type", CORE + "Secret", "type"),
            doc_column("Data", CORE + "Secret", "data"),
            age_column(),
        ),
        cells=cells,
    )


def _service_account_printer() -> TablePrinter:
    def cells(obj: Obj, now: _dt.datetime) -> list[Cell]:
        return [name(obj), len(obj.get("secrets") or ()), age(obj, now)]

    return TablePrinter(
        columns=(name_column(), doc_column("Secrets", CORE + "ServiceAccount", "secrets"), age_column()),
        cells=cells,
    )


def _namespace_printer() -> TablePrinter:
    def cells(obj: Obj, now: _dt.datetime) -> list[Cell]:
        return [name(obj), (obj.get("status") or {}).get("phase") or "", age(obj, now)]

    return TablePrinter(
        columns=(name_column(), Column("Status", description="The status of the namespace"), age_column()),
        cells=cells,
    )


# ---------------------------------------------------------------- nodes

NODE_ROLE_PREFIX = "node-role.kubernetes.io/"
NODE_ROLE_LABEL = "kubernetes.io/role"


def node_roles(labels: dict[str, str] | None) -> list[str]:
    """``findNodeRoles``: ``node-role.kubernetes.io/<role>`` suffixes and ``kubernetes.io/role``."""
    roles: set[str] = set()
    for key, value in (labels or {}).items():
        if key.startswith(NODE_ROLE_PREFIX):
            role = key[len(NODE_ROLE_PREFIX):]
            if role:
                roles.add(role)
        elif key == NODE_ROLE_LABEL and value:
            roles.add(value)
    return sorted(roles)


def _node_address(status: dict[str, Any], kind: str) -> str:
    for addr in status.get("addresses") or ():
        if addr.get("type") == kind:
            return str(addr.get("address", ""))
    return NONE


def _node_printer() -> TablePrinter:
    def cells(obj: Obj, now: _dt.datetime) -> list[Cell]:
        spec = obj.get("spec") or {}
        status = obj.get("status") or {}
        states: list[str] = []
        ready = None
        for cond in status.get("conditions") or ():
            if cond.get("type") == "Ready":
                ready = cond  # the last one wins, as upstream's condition map
        if ready is not None:
            states.append("Ready" if ready.get("status") == "True" else "NotReady")
        else:
            states.append("Unknown")
        if spec.get("unschedulable"):
            states.append("SchedulingDisabled")
        info = status.get("nodeInfo") or {}
        roles = ",".join(node_roles((obj.get("metadata") or {}).get("labels")))
        return [
            name(obj),
            ",".join(states),
            roles or NONE,
            age(obj, now),
            info.get("kubeletVersion") or "",
            _node_address(status, "InternalIP"),
            _node_address(status, "ExternalIP"),
            info.get("osImage") or UNKNOWN,
            info.get("kernelVersion") or UNKNOWN,
            info.get("containerRuntimeVersion") or UNKNOWN,
        ]

    info = CORE + "NodeSystemInfo"
    return TablePrinter(
        columns=(
            name_column(),
            Column("Status", description="The status of the node"),
            Column("Roles", description="The roles of the node"),
            age_column(),
            doc_column("Version", info, "kubeletVersion"),
            doc_column("Internal-IP", CORE + "NodeStatus", "addresses", priority=1),
            doc_column("External-IP", CORE + "NodeStatus", "addresses", priority=1),
            doc_column("OS-Image", info, "osImage", priority=1),
            doc_column("Kernel-Version", info, "kernelVersion", priority=1),
            doc_column("Container-Runtime", info, "containerRuntimeVersion", priority=1),
        ),
        cells=cells,
    )


# ---------------------------------------------------------------- events


class EventFields:
    """Where an Event kind keeps the fields the printer reads (core/v1 vs events.k8s.io/v1)."""

    __slots__ = ("regarding", "message", "first", "last", "count", "source")

    def __init__(self, *, regarding: str, message: str, first: str, last: str, count: str, source: str) -> None:
        self.regarding = regarding
        self.message = message
        self.first = first
        self.last = last
        self.count = count
        self.source = source


CORE_EVENT_FIELDS = EventFields(
    regarding="involvedObject",
    message="message",
    first="firstTimestamp",
    last="lastTimestamp",
    count="count",
    source="source",
)


def event_cells(fields: EventFields) -> CellsFn:
    """The cells function of the event printer for one field layout."""

    def cells(obj: Obj, now: _dt.datetime) -> list[Cell]:
        first = obj.get(fields.first)
        first_seen = since(first, now) if first else since(obj.get("eventTime"), now)
        last = obj.get(fields.last)
        last_seen = since(last, now) if last else first_seen
        count = obj.get(fields.count) or 0
        series = obj.get("series")
        if series is not None:
            last_seen = since(series.get("lastObservedTime"), now)
            count = series.get("count") or 0
        elif count == 0:
            count = 1
        regarding = obj.get(fields.regarding) or {}
        kind = str(regarding.get("kind") or "").lower()
        target = f"{kind}/{regarding['name']}" if regarding.get("name") else kind
        source = obj.get(fields.source) or {}
        component = source.get("component") or obj.get("reportingController") or ""
        host = source.get("host") or obj.get("reportingInstance") or ""
        return [
            last_seen,
            obj.get("type") or "",
            obj.get("reason") or "",
            target,
            regarding.get("fieldPath") or "",
            f"{component}, {host}" if host else component,
            str(obj.get(fields.message) or "").strip(),
            first_seen,
            count,
            name(obj),
        ]

    return cells


def event_printer(fields: EventFields = CORE_EVENT_FIELDS) -> TablePrinter:
    ev = CORE + "Event"
    return TablePrinter(
        columns=(
            doc_column("Last Seen", ev, "lastTimestamp"),
            doc_column("Type", ev, "type"),
            doc_column("Reason", ev, "reason"),
            doc_column("Object", ev, "involvedObject"),
            doc_column("Subobject", CORE + "ObjectReference", "fieldPath", priority=1),
            doc_column("Source", ev, "source", priority=1),
            doc_column("Message", ev, "message"),
            doc_column("First Seen", ev, "firstTimestamp", priority=1),
            doc_column("Count", ev, "count", priority=1),
            name_column(priority=1),
        ),
        cells=event_cells(fields),
    )


# ---------------------------------------------------------------- quotas


def _resource_quota_printer() -> TablePrinter:
    def cells(obj: Obj, now: _dt.datetime) -> list[Cell]:
        status = obj.get("status") or {}
        hard = status.get("hard") or {}
        used = status.get("used") or {}
        requests: list[str] = []
        limits: list[str] = []
        for resource in sorted(hard):
            target = limits if resource.split(".", 1)[0] == "limits" and "." in resource else requests
            target.append(f"{resource}: {used.get(resource, '0')}/{hard[resource]}")
        # v1.32 order: Age before Request/Limit (moved to the end only in v1.33)
        return [name(obj), age(obj, now), ", ".join(requests), ", ".join(limits)]

    return TablePrinter(
        columns=(
            name_column(),
            age_column(),
            Column(
                "Request",
                description="Request represents a minimum amount of cpu/memory that a container may consume.",
            ),
            Column(
                "Limit",
                description="Limits control the maximum amount of cpu/memory that a container may use "
                "independent of contention on the node.",
            ),
        ),
        cells=cells,
    )


# ---------------------------------------------------------------- volumes

STORAGE_CLASS_ANNOTATION = "volume.beta.kubernetes.io/storage-class"


def _volume_class(obj: Obj) -> str:
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    if STORAGE_CLASS_ANNOTATION in annotations:
        return str(annotations[STORAGE_CLASS_ANNOTATION])
    return str((obj.get("spec") or {}).get("storageClassName") or "")


def _persistent_volume_printer() -> TablePrinter:
    def cells(obj: Obj, now: _dt.datetime) -> list[Cell]:
        spec = obj.get("spec") or {}
        status = obj.get("status") or {}
        claim = spec.get("claimRef")
        claim_cell = f"{claim.get('namespace', '')}/{claim.get('name', '')}" if claim else ""
        phase = status.get("phase") or ""
        if (obj.get("metadata") or {}).get("deletionTimestamp"):
            phase = "Terminating"
        vac = spec.get("volumeAttributesClassName")
        return [
            name(obj),
            str((spec.get("capacity") or {}).get("storage", "0")),
            access_modes(spec.get("accessModes")),
            spec.get("persistentVolumeReclaimPolicy") or "",
            phase,
            claim_cell,
            _volume_class(obj),
            UNSET if vac is None else vac,
            status.get("reason") or "",
            age(obj, now),
            spec.get("volumeMode") or UNSET,
        ]

    pv = CORE + "PersistentVolumeSpec"
    return TablePrinter(
        columns=(
            name_column(),
            doc_column("Capacity", pv, "capacity"),
            doc_column("Access Modes", pv, "accessModes"),
            doc_column("Reclaim Policy", pv, "persistentVolumeReclaimPolicy"),
            doc_column("Status", CORE + "PersistentVolumeStatus", "phase"),
            doc_column("Claim", pv, "claimRef"),
            Column("StorageClass", description="StorageClass of the pv"),
            Column("VolumeAttributesClass", description="VolumeAttributesClass of the pv"),
            doc_column("Reason", CORE + "PersistentVolumeStatus", "reason"),
            age_column(),
            doc_column("VolumeMode", pv, "volumeMode", priority=1),
        ),
        cells=cells,
    )


def _persistent_volume_claim_printer() -> TablePrinter:
    def cells(obj: Obj, now: _dt.datetime) -> list[Cell]:
        spec = obj.get("spec") or {}
        status = obj.get("status") or {}
        phase = status.get("phase") or ""
        if (obj.get("metadata") or {}).get("deletionTimestamp"):
            phase = "Terminating"
        capacity = ""
        modes = ""
        volume = spec.get("volumeName") or ""
        if volume:
            modes = access_modes(status.get("accessModes"))
            capacity = str((status.get("capacity") or {}).get("storage", "0"))
        vac = spec.get("volumeAttributesClassName")
        return [
            name(obj),
            phase,
            volume,
            capacity,
            modes,
            _volume_class(obj),
            UNSET if vac is None else vac,
            age(obj, now),
            spec.get("volumeMode") or UNSET,
        ]

    return TablePrinter(
        columns=(
            name_column(),
            doc_column("Status", CORE + "PersistentVolumeClaimStatus", "phase"),
            doc_column("Volume", CORE + "PersistentVolumeClaimSpec", "volumeName"),
            doc_column("Capacity", CORE + "PersistentVolumeClaimStatus", "capacity"),
            doc_column("Access Modes", CORE + "PersistentVolumeClaimStatus", "accessModes"),
            Column("StorageClass", description="StorageClass of the pvc"),
            Column("VolumeAttributesClass", description="VolumeAttributesClass of the pvc"),
            age_column(),
            doc_column("VolumeMode", CORE + "PersistentVolumeClaimSpec", "volumeMode", priority=1),
        ),
        cells=cells,
    )


def _component_status_printer() -> TablePrinter:
    def cells(obj: Obj, now: _dt.datetime) -> list[Cell]:
        state, message, error = "Unknown", "", ""
        for cond in obj.get("conditions") or ():
            if cond.get("type") == "Healthy":
                state = "Healthy" if cond.get("status") == "True" else "Unhealthy"
                message = cond.get("message") or ""
                error = cond.get("error") or ""
                break
        return [name(obj), state, message, error]

    return TablePrinter(
        columns=(
            name_column(),
            Column("Status", description="Status of the component conditions"),
            Column("Message", description="Message of the component conditions"),
            Column("Error", description="Error of the component conditions"),
        ),
        cells=cells,
    )


def printers() -> dict[tuple[str, str], TablePrinter]:
    """The core group's printers by (group, kind)."""
    return {
        ("", "Pod"): _pod_printer(),
        ("", "PodTemplate"): _pod_template_printer(),
        ("", "ReplicationController"): _replication_controller_printer(),
        ("", "Service"): _service_printer(),
        ("", "Endpoints"): _endpoints_printer(),
        ("", "ConfigMap"): _configmap_printer(),
        ("", "Secret"): _secret_printer(),
        ("", "ServiceAccount"): _service_account_printer(),
        ("", "Namespace"): _namespace_printer(),
        ("", "Node"): _node_printer(),
        ("", "Event"): event_printer(),
        ("", "ResourceQuota"): _resource_quota_printer(),
        ("", "PersistentVolume"): _persistent_volume_printer(),
        ("", "PersistentVolumeClaim"): _persistent_volume_claim_printer(),
        ("", "ComponentStatus"): _component_status_printer(),
    }


__all__ = ["pod_status", "node_roles", "service_ports", "format_endpoints", "event_printer", "printers"]
