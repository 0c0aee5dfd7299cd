"""Defaulting: the values upstream's API server fills in before validation and storage.

Upstream runs generated ``SetObjectDefaults_<Kind>`` functions that call hand-written
``SetDefaults_<Type>`` for the object and then for every nested struct of a type that has
one (every PodSpec, Container, Probe, Volume source, ... wherever it appears), plus the
declarative ``+default=`` markers, and rounds every ResourceList quantity up to milli
units. ``apply_defaults`` does the same on plain dicts.

Design: defaulting is keyed by *definition name*, not by kind. Each OpenAPI definition
gets a compiled plan (cached): the defaulters of that type, the properties holding
quantities, and the child properties whose subtree needs any work. The walk visits only
those subtrees, parent before children (the order upstream's generated code uses), so a
Deployment's pod template gets exactly the PodSpec/Container/Probe defaults a Pod gets,
while Pod-only defaults (requests from limits, enableServiceLinks) stay on ``Pod``.
Quantities are rewritten to upstream's canonical string (``0.5`` -> ``500m``).

Deliberately not here (they are strategy/admission work upstream, not defaulting):
Namespace ``spec.finalizers`` (``prepare_namespace_for_create``: re-adding it on every
write would block namespace deletion), Service ``ipFamilyPolicy``/``ipFamilies``/
``clusterIP`` (the IP allocator), Pod ``priority``/``preemptionPolicy`` (the Priority
admission plugin), Job ``spec.selector`` (the Job strategy).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from kubepy.api import openapi_defs
from kubepy.api.quantity import parse as parse_quantity_text

__all__ = [
    "apply_defaults",
    "canonical_quantity",
    "image_pull_policy",
    "prepare_namespace_for_create",
]

Obj = dict[str, Any]
Defaulter = Callable[[Obj], None]

CORE = "io.k8s.api.core.v1."
APPS = "io.k8s.api.apps.v1."
BATCH = "io.k8s.api.batch.v1."
DISCOVERY = "io.k8s.api.discovery.v1."



# ---------------------------------------------------------------------------- helpers


def _spec(obj: Obj) -> Obj:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        spec = obj["spec"] = {}
    return spec


def _sub(obj: Obj, key: str) -> Obj:
    """A non-pointer nested struct: present in Go even when absent from the JSON."""
    value = obj.get(key)
    if not isinstance(value, dict):
        value = obj[key] = {}
    return value


def _set(obj: Obj, key: str, value: Any) -> None:
    if obj.get(key) in (None, ""):
        obj[key] = value


def _unset(obj: Obj, key: str) -> bool:
    return obj.get(key) is None


_DOMAIN_RE = re.compile(
    r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*(?::[0-9]+)?"
)
_PATH_RE = re.compile(r"[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*")
_TAG_RE = re.compile(r"[\w][\w.-]{0,127}")
_DIGEST_RE = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}")
_HEX64_RE = re.compile(r"[a-f0-9]{64}")


def _image_tag(image: str) -> str | None:
    """The tag upstream's ``parsers.ParseImageName`` finds ("latest" when neither tag nor
    digest is given); None when the reference does not parse."""
    name, _, digest = image.partition("@")
    if digest and not _DIGEST_RE.fullmatch(digest):
        return None
    tag = ""
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        name, tag = name[:colon], name[colon + 1:]
        if not _TAG_RE.fullmatch(tag):
            return None
    first, sep, rest = name.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        if not _DOMAIN_RE.fullmatch(first):
            return None
        path = rest
    else:
        path = name
    if not path or path.lower() != path or (not sep and _HEX64_RE.fullmatch(path)):
        return None
    if not all(_PATH_RE.fullmatch(part) for part in path.split("/")):
        return None
    if not tag and not digest:
        return "latest"
    return tag


def image_pull_policy(image: str) -> str:
    """``Always`` for ``:latest`` or an untagged, undigested image, else ``IfNotPresent``
    (an image reference that does not parse counts as untagged-but-unknown: IfNotPresent)."""
    return "Always" if _image_tag(image) == "latest" else "IfNotPresent"


def canonical_quantity(value: Any, *, round_milli: bool = False) -> Any:
    """The canonical string for a quantity value (str or JSON number); bad values unchanged."""
    if type(value) is str:
        text = value.strip()
    elif type(value) is int or type(value) is float:
        text = repr(value)
    else:
        return value
    return _canonical_text(text, round_milli) or value


@functools.lru_cache(maxsize=4096)
def _canonical_text(text: str, round_milli: bool) -> str | None:
    try:
        q = parse_quantity_text(text)
    except ValueError:
        return None
    if round_milli:
        q = q.round_up(-3)
    return str(q)


# ---------------------------------------------------------------------------- core/v1


def _container(c: Obj) -> None:
    if not c.get("imagePullPolicy"):
        c["imagePullPolicy"] = image_pull_policy(c.get("image") or "")
    _set(c, "terminationMessagePath", "/dev/termination-log")
    _set(c, "terminationMessagePolicy", "File")
    if not isinstance(c.get("resources"), dict):
        c["resources"] = {}  # a non-pointer struct: upstream always serialises it


def _protocol_tcp(o: Obj) -> None:
    _set(o, "protocol", "TCP")


def _requests_from_limits(containers: Any) -> None:
    if not isinstance(containers, list):
        return
    for c in containers:
        if not isinstance(c, dict):
            continue
        res = c.get("resources")
        if not isinstance(res, dict):
            continue
        limits = res.get("limits")
        if isinstance(limits, dict):
            requests = res.get("requests")
            if not isinstance(requests, dict):
                requests = res["requests"] = {}
            for key, value in limits.items():
                if key not in requests:
                    requests[key] = value


def _host_network_ports(containers: Any) -> None:
    if not isinstance(containers, list):
        return
    for c in containers:
        if isinstance(c, dict) and isinstance(c.get("ports"), list):
            for p in c["ports"]:
                if isinstance(p, dict) and not p.get("hostPort"):
                    p["hostPort"] = p.get("containerPort")


def _pod(obj: Obj) -> None:
    spec = _spec(obj)
    _requests_from_limits(spec.get("containers"))
    _requests_from_limits(spec.get("initContainers"))
    if _unset(spec, "enableServiceLinks"):
        spec["enableServiceLinks"] = True
    if spec.get("hostNetwork") is True:
        _host_network_ports(spec.get("containers"))
        _host_network_ports(spec.get("initContainers"))


def _pod_spec(spec: Obj) -> None:
    _set(spec, "dnsPolicy", "ClusterFirst")
    _set(spec, "restartPolicy", "Always")
    if not isinstance(spec.get("securityContext"), dict):
        spec["securityContext"] = {}
    if _unset(spec, "terminationGracePeriodSeconds"):
        spec["terminationGracePeriodSeconds"] = 30
    _set(spec, "schedulerName", "default-scheduler")


_VOLUME_SOURCES = (
    "hostPath", "emptyDir", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo", "secret", "nfs",
    "iscsi", "glusterfs", "persistentVolumeClaim", "rbd", "flexVolume", "cinder", "cephfs", "flocker",
    "downwardAPI", "fc", "azureFile", "configMap", "vsphereVolume", "quobyte", "azureDisk",
    "photonPersistentDisk", "projected", "portworxVolume", "scaleIO", "storageos", "csi", "ephemeral",
    "image",
)


def _volume(v: Obj) -> None:
    if not any(v.get(src) is not None for src in _VOLUME_SOURCES):
        v["emptyDir"] = {}


def _default_mode(o: Obj) -> None:
    if _unset(o, "defaultMode"):
        o["defaultMode"] = 420


def _probe(p: Obj) -> None:
    for key, default in (("timeoutSeconds", 1), ("periodSeconds", 10), ("successThreshold", 1), ("failureThreshold", 3)):
        if not p.get(key):
            p[key] = default


def _http_get(h: Obj) -> None:
    _set(h, "path", "/")
    _set(h, "scheme", "HTTP")


def _service(obj: Obj) -> None:
    spec = _spec(obj)
    _set(spec, "sessionAffinity", "None")
    affinity = spec.get("sessionAffinity")
    if affinity == "None":
        spec.pop("sessionAffinityConfig", None)
    elif affinity == "ClientIP":
        cfg = spec.get("sessionAffinityConfig")
        client = cfg.get("clientIP") if isinstance(cfg, dict) else None
        if not isinstance(client, dict) or client.get("timeoutSeconds") is None:
            spec["sessionAffinityConfig"] = {"clientIP": {"timeoutSeconds": 10800}}
    _set(spec, "type", "ClusterIP")
    stype = spec.get("type")
    ports = spec.get("ports")
    if isinstance(ports, list):
        for sp in ports:
            if not isinstance(sp, dict):
                continue
            _set(sp, "protocol", "TCP")
            if sp.get("targetPort") in (None, 0, ""):
                sp["targetPort"] = sp.get("port", 0)
    externally_accessible = stype in ("LoadBalancer", "NodePort") or (
        stype == "ClusterIP" and bool(spec.get("externalIPs"))
    )
    if externally_accessible:
        _set(spec, "externalTrafficPolicy", "Cluster")
    if _unset(spec, "internalTrafficPolicy") and stype in ("NodePort", "LoadBalancer", "ClusterIP"):
        spec["internalTrafficPolicy"] = "Cluster"
    if stype == "LoadBalancer":
        if _unset(spec, "allocateLoadBalancerNodePorts"):
            spec["allocateLoadBalancerNodePorts"] = True
        status = obj.get("status")
        lb = status.get("loadBalancer") if isinstance(status, dict) else None
        ingress = lb.get("ingress") if isinstance(lb, dict) else None
        if isinstance(ingress, list):
            for ing in ingress:
                if isinstance(ing, dict) and ing.get("ip") and ing.get("ipMode") is None:
                    ing["ipMode"] = "VIP"


def _replication_controller(obj: Obj) -> None:
    spec = _spec(obj)
    template = spec.get("template")
    labels = None
    if isinstance(template, dict) and isinstance(template.get("metadata"), dict):
        labels = template["metadata"].get("labels")
    if isinstance(labels, dict):
        if not spec.get("selector"):
            spec["selector"] = dict(labels)
        meta = _sub(obj, "metadata")
        if not meta.get("labels"):
            meta["labels"] = dict(labels)
    if _unset(spec, "replicas"):
        spec["replicas"] = 1


def _persistent_volume(obj: Obj) -> None:
    _set(_sub(obj, "status"), "phase", "Pending")
    spec = _spec(obj)
    _set(spec, "persistentVolumeReclaimPolicy", "Retain")
    if _unset(spec, "volumeMode"):
        spec["volumeMode"] = "Filesystem"


def _pvc(obj: Obj) -> None:
    _set(_sub(obj, "status"), "phase", "Pending")


def _pvc_spec(spec: Obj) -> None:
    if _unset(spec, "volumeMode"):
        spec["volumeMode"] = "Filesystem"


def _namespace(obj: Obj) -> None:
    meta = _sub(obj, "metadata")
    name = meta.get("name")
    if name:
        labels = meta.get("labels")
        if not isinstance(labels, dict):
            labels = meta["labels"] = {}
        labels["kubernetes.io/metadata.name"] = name
    _set(_sub(obj, "status"), "phase", "Active")


def _node(obj: Obj) -> None:
    status = obj.get("status")
    if not isinstance(status, dict):
        return
    capacity = status.get("capacity")
    if status.get("allocatable") is None and isinstance(capacity, dict):
        status["allocatable"] = dict(capacity)


def _limit_range_item(item: Obj) -> None:
    if item.get("type") != "Container":
        return
    default = item.get("default")
    if not isinstance(default, dict):
        default = item["default"] = {}
    request = item.get("defaultRequest")
    if not isinstance(request, dict):
        request = item["defaultRequest"] = {}
    for source, target in ((item.get("max"), default), (default, request), (item.get("min"), request)):
        if isinstance(source, dict):
            for key, value in source.items():
                target.setdefault(key, value)


def _field_selector(o: Obj) -> None:
    _set(o, "apiVersion", "v1")


def _secret(obj: Obj) -> None:
    _set(obj, "type", "Opaque")


def _token_projection(o: Obj) -> None:
    if _unset(o, "expirationSeconds"):
        o["expirationSeconds"] = 3600


def _host_path(o: Obj) -> None:
    if _unset(o, "type"):
        o["type"] = ""


def _grpc(o: Obj) -> None:
    if _unset(o, "service"):
        o["service"] = ""


def _rbd(o: Obj) -> None:
    _set(o, "pool", "rbd")
    _set(o, "user", "admin")
    _set(o, "keyring", "/etc/ceph/keyring")


def _iscsi(o: Obj) -> None:
    _set(o, "iscsiInterface", "default")


def _azure_disk(o: Obj) -> None:
    _set(o, "cachingMode", "ReadWrite")
    _set(o, "fsType", "ext4")
    if _unset(o, "readOnly"):
        o["readOnly"] = False
    _set(o, "kind", "Shared")


def _scale_io(o: Obj) -> None:
    _set(o, "storageMode", "ThinProvisioned")
    _set(o, "fsType", "xfs")


# ---------------------------------------------------------------------------- apps/v1, batch/v1


def _template_spec(spec: Obj) -> None:
    """Pod template specs are non-pointer structs: PodSpec defaults apply even if absent."""
    _sub(_sub(spec, "template"), "spec")


def _deployment(obj: Obj) -> None:
    spec = _spec(obj)
    if _unset(spec, "replicas"):
        spec["replicas"] = 1
    strategy = _sub(spec, "strategy")
    _set(strategy, "type", "RollingUpdate")
    if strategy.get("type") == "RollingUpdate":
        ru = strategy.get("rollingUpdate")
        if not isinstance(ru, dict):
            ru = strategy["rollingUpdate"] = {}
        if _unset(ru, "maxUnavailable"):
            ru["maxUnavailable"] = "25%"
        if _unset(ru, "maxSurge"):
            ru["maxSurge"] = "25%"
    if _unset(spec, "revisionHistoryLimit"):
        spec["revisionHistoryLimit"] = 10
    if _unset(spec, "progressDeadlineSeconds"):
        spec["progressDeadlineSeconds"] = 600
    _template_spec(spec)


def _daemon_set(obj: Obj) -> None:
    spec = _spec(obj)
    strategy = _sub(spec, "updateStrategy")
    _set(strategy, "type", "RollingUpdate")
    if strategy.get("type") == "RollingUpdate":
        ru = strategy.get("rollingUpdate")
        if not isinstance(ru, dict):
            ru = strategy["rollingUpdate"] = {}
        if _unset(ru, "maxUnavailable"):
            ru["maxUnavailable"] = 1
        if _unset(ru, "maxSurge"):
            ru["maxSurge"] = 0
    if _unset(spec, "revisionHistoryLimit"):
        spec["revisionHistoryLimit"] = 10
    _template_spec(spec)


def _stateful_set(obj: Obj) -> None:
    spec = _spec(obj)
    _set(spec, "podManagementPolicy", "OrderedReady")
    strategy = _sub(spec, "updateStrategy")
    if not strategy.get("type"):
        strategy["type"] = "RollingUpdate"
        if not isinstance(strategy.get("rollingUpdate"), dict):
            strategy["rollingUpdate"] = {}
    ru = strategy.get("rollingUpdate")
    if strategy["type"] == "RollingUpdate" and isinstance(ru, dict) and _unset(ru, "partition"):
        ru["partition"] = 0
    policy = spec.get("persistentVolumeClaimRetentionPolicy")
    if not isinstance(policy, dict):
        policy = spec["persistentVolumeClaimRetentionPolicy"] = {}
    _set(policy, "whenDeleted", "Retain")
    _set(policy, "whenScaled", "Retain")
    if _unset(spec, "replicas"):
        spec["replicas"] = 1
    if _unset(spec, "revisionHistoryLimit"):
        spec["revisionHistoryLimit"] = 10
    _template_spec(spec)


def _replica_set(obj: Obj) -> None:
    spec = _spec(obj)
    if _unset(spec, "replicas"):
        spec["replicas"] = 1
    _template_spec(spec)


def _labels_from_template(obj: Obj, spec: Obj) -> None:
    template = spec.get("template")
    meta = template.get("metadata") if isinstance(template, dict) else None
    labels = meta.get("labels") if isinstance(meta, dict) else None
    if isinstance(labels, dict):
        obj_meta = _sub(obj, "metadata")
        if not obj_meta.get("labels"):
            obj_meta["labels"] = dict(labels)


def _job(obj: Obj) -> None:
    spec = _spec(obj)
    if _unset(spec, "completions") and _unset(spec, "parallelism"):
        spec["completions"] = 1
        spec["parallelism"] = 1
    if _unset(spec, "parallelism"):
        spec["parallelism"] = 1
    if _unset(spec, "backoffLimit"):
        spec["backoffLimit"] = 2**31 - 1 if spec.get("backoffLimitPerIndex") is not None else 6
    _labels_from_template(obj, spec)
    if _unset(spec, "completionMode"):
        spec["completionMode"] = "NonIndexed"
    if _unset(spec, "suspend"):
        spec["suspend"] = False
    if _unset(spec, "podReplacementPolicy"):
        spec["podReplacementPolicy"] = "Failed" if spec.get("podFailurePolicy") is not None else "TerminatingOrFailed"
    if _unset(spec, "manualSelector"):
        spec["manualSelector"] = False
    _template_spec(spec)


def _pod_failure_pattern(o: Obj) -> None:
    _set(o, "status", "True")


def _cron_job(obj: Obj) -> None:
    spec = _spec(obj)
    _set(spec, "concurrencyPolicy", "Allow")
    if _unset(spec, "suspend"):
        spec["suspend"] = False
    if _unset(spec, "successfulJobsHistoryLimit"):
        spec["successfulJobsHistoryLimit"] = 3
    if _unset(spec, "failedJobsHistoryLimit"):
        spec["failedJobsHistoryLimit"] = 1
    _template_spec(_sub(_sub(spec, "jobTemplate"), "spec"))


def _discovery_port(o: Obj) -> None:
    if _unset(o, "name"):
        o["name"] = ""
    if _unset(o, "protocol"):
        o["protocol"] = "TCP"


def _pod_template(obj: Obj) -> None:
    _sub(_sub(obj, "template"), "spec")


#: definition name -> defaulters run on every object of that type, wherever it appears
DEFAULTERS: dict[str, tuple[Defaulter, ...]] = {
    CORE + "Pod": (_pod,),
    CORE + "PodSpec": (_pod_spec,),
    CORE + "PodTemplate": (_pod_template,),
    CORE + "Container": (_container,),
    CORE + "EphemeralContainer": (_container,),
    CORE + "ContainerPort": (_protocol_tcp,),
    CORE + "ServicePort": (_protocol_tcp,),
    CORE + "EndpointPort": (_protocol_tcp,),
    CORE + "Service": (_service,),
    CORE + "Volume": (_volume,),
    CORE + "SecretVolumeSource": (_default_mode,),
    CORE + "ConfigMapVolumeSource": (_default_mode,),
    CORE + "DownwardAPIVolumeSource": (_default_mode,),
    CORE + "ProjectedVolumeSource": (_default_mode,),
    CORE + "ServiceAccountTokenProjection": (_token_projection,),
    CORE + "HostPathVolumeSource": (_host_path,),
    CORE + "Probe": (_probe,),
    CORE + "HTTPGetAction": (_http_get,),
    CORE + "GRPCAction": (_grpc,),
    CORE + "ObjectFieldSelector": (_field_selector,),
    CORE + "Secret": (_secret,),
    CORE + "PersistentVolume": (_persistent_volume,),
    CORE + "PersistentVolumeClaim": (_pvc,),
    CORE + "PersistentVolumeClaimSpec": (_pvc_spec,),
    CORE + "Namespace": (_namespace,),
    CORE + "Node": (_node,),
    CORE + "LimitRangeItem": (_limit_range_item,),
    CORE + "ReplicationController": (_replication_controller,),
    CORE + "RBDVolumeSource": (_rbd,),
    CORE + "RBDPersistentVolumeSource": (_rbd,),
    CORE + "ISCSIVolumeSource": (_iscsi,),
    CORE + "ISCSIPersistentVolumeSource": (_iscsi,),
    CORE + "AzureDiskVolumeSource": (_azure_disk,),
    CORE + "ScaleIOVolumeSource": (_scale_io,),
    CORE + "ScaleIOPersistentVolumeSource": (_scale_io,),
    APPS + "Deployment": (_deployment,),
    APPS + "DaemonSet": (_daemon_set,),
    APPS + "StatefulSet": (_stateful_set,),
    APPS + "ReplicaSet": (_replica_set,),
    BATCH + "Job": (_job,),
    BATCH + "CronJob": (_cron_job,),
    BATCH + "PodFailurePolicyOnPodConditionsPattern": (_pod_failure_pattern,),
    DISCOVERY + "EndpointPort": (_discovery_port,),
}


# ---------------------------------------------------------------------------- compiled plans

# child modes
_OBJ, _ARR, _MAP = 0, 1, 2
# quantity modes
_Q_ONE, _Q_LIST = 0, 1


class _Plan:
    __slots__ = ("defaulters", "children", "quantities")

    def __init__(self) -> None:
        self.defaulters: tuple[Defaulter, ...] = ()
        self.children: list[tuple[str, int, _Plan]] = []
        self.quantities: list[tuple[str, int]] = []


_EMPTY = _Plan()


def _classify(schema: dict[str, Any]) -> tuple[str, str | None]:
    """('ref', name) | ('arr', name) | ('map', name) | ('q', None) | ('mapq', None) | ('', None)."""
    ref = openapi_defs.ref_name(schema)
    if ref:
        return ("q", None) if ref == openapi_defs.QUANTITY else ("ref", ref)
    if schema.get("format") == "quantity":
        return "q", None
    typ = schema.get("type")
    if typ == "array" and isinstance(schema.get("items"), dict):
        kind, name = _classify(schema["items"])
        return ("arr", name) if kind == "ref" else ("", None)
    if typ == "object" and isinstance(schema.get("additionalProperties"), dict):
        kind, name = _classify(schema["additionalProperties"])
        if kind == "q":
            return "mapq", None
        return ("map", name) if kind == "ref" else ("", None)
    return "", None


_in_progress: set[str] = set()


@functools.cache
def _plan(name: str) -> _Plan:
    schema = openapi_defs.definitions().get(name)
    if schema is None or name in _in_progress:
        return _EMPTY
    _in_progress.add(name)
    try:
        plan = _Plan()
        plan.defaulters = DEFAULTERS.get(name, ())
        for prop, sub in schema.get("properties", {}).items():
            kind, ref = _classify(sub)
            if kind == "q":
                plan.quantities.append((prop, _Q_ONE))
            elif kind == "mapq":
                plan.quantities.append((prop, _Q_LIST))
            elif ref is not None:
                child = _plan(ref)
                if child is not _EMPTY:
                    plan.children.append((prop, {"ref": _OBJ, "arr": _ARR, "map": _MAP}[kind], child))
        if not plan.defaulters and not plan.children and not plan.quantities:
            return _EMPTY
        return plan
    finally:
        _in_progress.discard(name)


def _run(plan: _Plan, obj: Obj) -> None:
    for fn in plan.defaulters:
        fn(obj)
    for prop, mode in plan.quantities:
        value = obj.get(prop)
        if value is None:
            continue
        if mode == _Q_ONE:
            obj[prop] = canonical_quantity(value)
        elif isinstance(value, dict):
            for key, q in value.items():
                if q is not None:
                    value[key] = canonical_quantity(q, round_milli=True)
    for prop, mode, child in plan.children:
        value = obj.get(prop)
        if value is None:
            continue
        if mode == _OBJ:
            if isinstance(value, dict):
                _run(child, value)
        elif mode == _ARR:
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, dict):
                        _run(child, item)
        elif isinstance(value, dict):
            for item in value.values():
                if isinstance(item, dict):
                    _run(child, item)


def apply_defaults(obj: Obj, schema_name: str) -> None:
    """Fill in upstream's defaults for an object of definition ``schema_name``, in place.

    Idempotent: running it on an already-defaulted object changes nothing. Unknown
    definitions (custom resources) are left alone.
    """
    plan = _plan(schema_name)
    if plan is not _EMPTY:
        _run(plan, obj)


def prepare_namespace_for_create(obj: Obj) -> None:
    """Namespace create-time rules (upstream's strategy, not defaulting): status Active and
    the ``kubernetes`` finalizer appended unless present. Call on create only."""
    obj["status"] = {"phase": "Active"}
    spec = _spec(obj)
    finalizers = spec.get("finalizers")
    if not isinstance(finalizers, list):
        finalizers = spec["finalizers"] = []
    if "kubernetes" not in finalizers:
        finalizers.append("kubernetes")


def _merge_group_defaulters() -> None:
    """The defaulters of the issue-6 groups live in group_defaults (same table shape)."""
    from kubepy.api.group_defaults import DEFAULTERS as GROUP_DEFAULTERS

    for name, fns in GROUP_DEFAULTERS.items():
        DEFAULTERS[name] = DEFAULTERS.get(name, ()) + fns


_merge_group_defaulters()
