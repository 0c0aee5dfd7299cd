"""PodSpec and PodTemplateSpec validation: containers, volumes, probes, resources, scheduling.

Follows upstream ``ValidatePodSpec`` and its helpers rule for rule and message for
message, over defaulted JSON (camelCase) dicts. Where upstream's internal types keep
``hostNetwork``/``hostPID``/``hostIPC`` under the security context, the v1 JSON keeps
them on the spec; the rules are the same. Workload kinds (apps, batch, core RC/PodTemplate)
reuse ``validate_pod_template_spec``.

Deliberate omissions (documented rather than guessed): Windows host-process rules,
resource claims (DRA) beyond name checks, AppArmor annotation/field matching, and the
Go ``cmp.Diff`` text appended to the "pod updates may not change fields" message (we
append our own short field list instead).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubepy.api.field_errors import (
    FieldError,
    duplicate,
    forbidden,
    invalid,
    not_found,
    not_supported,
    required,
)
from kubepy.api.validation import names
from kubepy.api.validation.meta import (
    IS_NEGATIVE,
    as_dict,
    as_int,
    as_list,
    as_str,
    validate_annotations,
    validate_dns1123_label,
    validate_dns1123_subdomain,
    validate_label_name,
    validate_label_selector,
    validate_labels,
    validate_nonnegative,
    validate_qualified_name,
)
from kubepy.api.validation.quantities import Quantity, canonical, parse_value

IS_NOT_POSITIVE = "must be greater than zero"
FILE_MODE_ERROR = "must be a number between 0 and 0777 (octal), both inclusive"
MAX_INT32 = 2**31 - 1

SUPPORTED_PORT_PROTOCOLS = ("SCTP", "TCP", "UDP")
PULL_POLICIES = ("Always", "IfNotPresent", "Never")
RESTART_POLICIES = ("Always", "OnFailure", "Never")
DNS_POLICIES = ("ClusterFirstWithHostNet", "ClusterFirst", "Default", "None")
TERMINATION_MESSAGE_POLICIES = ("File", "FallbackToLogsOnError")
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
HOST_PATH_TYPES = ("", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File", "FileOrCreate", "Socket")
MOUNT_PROPAGATIONS = ("Bidirectional", "HostToContainer", "None")
HTTP_SCHEMES = ("HTTP", "HTTPS")
SECCOMP_TYPES = ("Localhost", "RuntimeDefault", "Unconfined")
APPARMOR_TYPES = ("Localhost", "RuntimeDefault", "Unconfined")
FS_GROUP_CHANGE_POLICIES = ("Always", "OnRootMismatch")
PROC_MOUNT_TYPES = ("Default", "Unmasked")
WHEN_UNSATISFIABLE = ("DoNotSchedule", "ScheduleAnyway")
NODE_INCLUSION_POLICIES = ("Honor", "Ignore")
VALID_OS = ("linux", "windows")
PREEMPTION_POLICIES = ("PreemptLowerPriority", "Never")
RESIZE_RESOURCES = ("cpu", "memory")
RESIZE_POLICIES = ("NotRequired", "RestartContainer")
SUPPLEMENTAL_GROUPS_POLICIES = ("Merge", "Strict")
SELINUX_CHANGE_POLICIES = ("MountOption", "Recursive")

# Volume source keys in upstream's check order, with the path used in the
# "more than 1 volume type" error (upstream spells two of them oddly; kept).
VOLUME_SOURCES: tuple[tuple[str, str], ...] = (
    ("emptyDir", "emptyDir"),
    ("hostPath", "hostPath"),
    ("gitRepo", "gitRepo"),
    ("gcePersistentDisk", "gcePersistentDisk"),
    ("awsElasticBlockStore", "awsElasticBlockStore"),
    ("secret", "secret"),
    ("nfs", "nfs"),
    ("iscsi", "iscsi"),
    ("glusterfs", "glusterfs"),
    ("flocker", "flocker"),
    ("persistentVolumeClaim", "persistentVolumeClaim"),
    ("rbd", "rbd"),
    ("cinder", "cinder"),
    ("cephfs", "cephFS"),
    ("quobyte", "quobyte"),
    ("downwardAPI", "downwarAPI"),
    ("fc", "fc"),
    ("flexVolume", "flexVolume"),
    ("configMap", "configMap"),
    ("azureFile", "azureFile"),
    ("vsphereVolume", "vsphereVolume"),
    ("photonPersistentDisk", "photonPersistentDisk"),
    ("portworxVolume", "portworxVolume"),
    ("azureDisk", "azureDisk"),
    ("storageos", "storageos"),
    ("projected", "projected"),
    ("scaleIO", "scaleIO"),
    ("csi", "csi"),
    ("ephemeral", "ephemeral"),
    ("image", "image"),
)

_ENV_FIELD_PATHS = (
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
)
_VOLUME_FIELD_PATHS = ("metadata.annotations", "metadata.labels", "metadata.name", "metadata.namespace", "metadata.uid")
# paths the downward-API field label conversion accepts for pods
_CONVERTIBLE_POD_FIELDS = frozenset(
    {
        "metadata.annotations",
        "metadata.labels",
        "metadata.name",
        "metadata.namespace",
        "metadata.uid",
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.serviceAccountName",
        "spec.schedulerName",
        "status.phase",
        "status.hostIP",
        "status.hostIPs",
        "status.podIP",
        "status.podIPs",
    }
)
_CONTAINER_RESOURCE_FIELDS = (
    "limits.cpu",
    "limits.ephemeral-storage",
    "limits.memory",
    "requests.cpu",
    "requests.ephemeral-storage",
    "requests.memory",
)

# resource-name helpers (pkg/apis/core/helper)
_STANDARD_CONTAINER_RESOURCES = frozenset({"cpu", "memory", "ephemeral-storage"})
_STANDARD_RESOURCES = frozenset(
    {
        "cpu",
        "memory",
        "ephemeral-storage",
        "requests.cpu",
        "requests.memory",
        "requests.ephemeral-storage",
        "limits.cpu",
        "limits.memory",
        "limits.ephemeral-storage",
        "pods",
        "services",
        "replicationcontrollers",
        "resourcequotas",
        "secrets",
        "configmaps",
        "persistentvolumeclaims",
        "storage",
        "requests.storage",
        "services.nodeports",
        "services.loadbalancers",
    }
)
_INTEGER_RESOURCES = frozenset(
    {
        "pods",
        "services",
        "replicationcontrollers",
        "resourcequotas",
        "secrets",
        "configmaps",
        "persistentvolumeclaims",
        "services.nodeports",
        "services.loadbalancers",
    }
)


def is_hugepage_resource(name: str) -> bool:
    return name.startswith("hugepages-")


def is_native_resource(name: str) -> bool:
    return "/" not in name or "kubernetes.io/" in name


def is_extended_resource(name: str) -> bool:
    if is_native_resource(name) or name.startswith("requests."):
        return False
    return not names.is_qualified_name("requests." + name)


def is_overcommit_allowed(name: str) -> bool:
    return is_native_resource(name) and not is_hugepage_resource(name)


def is_integer_resource(name: str) -> bool:
    return name in _INTEGER_RESOURCES or is_extended_resource(name)


def is_standard_resource(name: str) -> bool:
    return name in _STANDARD_RESOURCES or name.startswith(("hugepages-", "requests.hugepages-"))


def present(obj: Mapping[str, Any], key: str) -> bool:
    return obj.get(key) is not None


# --- resources --------------------------------------------------------------------------


def validate_resource_name(name: str, path: str) -> list[FieldError]:
    errs = [invalid(path, name, m) for m in names.is_qualified_name(name)]
    if errs:
        return errs
    if "/" not in name and not is_standard_resource(name):
        errs.append(invalid(path, name, "must be a standard resource type or fully qualified"))
    return errs


def validate_container_resource_name(name: str, path: str) -> list[FieldError]:
    errs = validate_resource_name(name, path)
    if "/" not in name:
        if name not in _STANDARD_CONTAINER_RESOURCES and not is_hugepage_resource(name):
            errs.append(invalid(path, name, "must be a standard resource for containers"))
    elif not is_native_resource(name) and not is_extended_resource(name):
        errs.append(invalid(path, name, "doesn't follow extended resource name standard"))
    return errs


def validate_quantity_value(resource: str, raw: Any, path: str) -> tuple[Quantity | None, list[FieldError]]:
    q = parse_value(raw)
    if q is None:  # the schema check rejects unparsable quantities first; be safe
        return None, [invalid(path, raw, "must be a valid resource quantity")]
    errs: list[FieldError] = []
    if q.value < 0:
        errs.append(invalid(path, canonical(q), IS_NEGATIVE))
    if is_integer_resource(resource) and q.value.denominator != 1:
        errs.append(invalid(path, canonical(q), "must be an integer"))
    return q, errs


def validate_resource_requirements(resources: Any, path: str, claim_names: set[str]) -> list[FieldError]:
    r = as_dict(resources)
    errs: list[FieldError] = []
    lim_path, req_path = f"{path}.limits", f"{path}.requests"
    limits = as_dict(r.get("limits"))
    requests = as_dict(r.get("requests"))
    lim_qty: dict[str, Quantity] = {}
    lim_cpu_mem = req_cpu_mem = lim_huge = req_huge = False
    for name, raw in limits.items():
        p = f"{lim_path}[{name}]"
        errs.extend(validate_container_resource_name(name, p))
        q, qerrs = validate_quantity_value(name, raw, p)
        errs.extend(qerrs)
        if q is not None:
            lim_qty[name] = q
        lim_huge = lim_huge or is_hugepage_resource(name)
        lim_cpu_mem = lim_cpu_mem or name in ("cpu", "memory")
    for name, raw in requests.items():
        p = f"{req_path}[{name}]"
        errs.extend(validate_container_resource_name(name, p))
        q, qerrs = validate_quantity_value(name, raw, p)
        errs.extend(qerrs)
        limit = lim_qty.get(name)
        if name in limits:
            if q is not None and limit is not None:
                if q.value != limit.value and not is_overcommit_allowed(name):
                    errs.append(
                        invalid(req_path, canonical(q), f"must be equal to {name} limit of {canonical(limit)}")
                    )
                elif q.value > limit.value:
                    errs.append(
                        invalid(req_path, canonical(q), f"must be less than or equal to {name} limit of {canonical(limit)}")
                    )
        elif not is_overcommit_allowed(name):
            errs.append(required(lim_path, "Limit must be set for non overcommitable resources"))
        req_huge = req_huge or is_hugepage_resource(name)
        req_cpu_mem = req_cpu_mem or name in ("cpu", "memory")
    if not lim_cpu_mem and not req_cpu_mem and (req_huge or lim_huge):
        errs.append(forbidden(path, "HugePages require cpu or memory"))
    seen: set[str] = set()
    for i, raw in enumerate(as_list(r.get("claims"))):
        claim = as_str(as_dict(raw).get("name"))
        if not claim:
            errs.append(required(f"{path}.claims[{i}]", ""))
            continue
        if claim in seen:
            errs.append(duplicate(f"{path}.claims[{i}]", claim))
        seen.add(claim)
        if claim not in claim_names:
            detail = "must be one of the names in pod.spec.resourceClaims"
            detail += (": " + ", ".join(sorted(claim_names))) if claim_names else " which is empty"
            err = not_found(f"{path}.claims[{i}]", claim)
            errs.append(FieldError(err.reason, err.field, f"{err.body}: {detail}"))
    return errs


# --- paths -------------------------------------------------------------------------------


def _validate_path_no_backsteps(target: str, path: str) -> list[FieldError]:
    if ".." in target.replace("\\", "/").split("/"):
        return [invalid(path, target, "must not contain '..'")]
    return []


def validate_local_descending_path(target: str, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    if target.startswith("/"):
        errs.append(invalid(path, target, "must be a relative path"))
    errs.extend(_validate_path_no_backsteps(target, path))
    return errs


def validate_local_non_reserved_path(target: str, path: str) -> list[FieldError]:
    errs = validate_local_descending_path(target, path)
    if target.startswith("..") and not target.startswith("../"):
        errs.append(invalid(path, target, "must not start with '..'"))
    return errs


def _validate_file_mode(mode: Any, path: str) -> list[FieldError]:
    if isinstance(mode, int) and not isinstance(mode, bool) and (mode > 0o777 or mode < 0):
        return [invalid(path, mode, FILE_MODE_ERROR)]
    return []


def _validate_key_to_path(kp: Mapping[str, Any], path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    if not as_str(kp.get("key")):
        errs.append(required(f"{path}.key", ""))
    target = as_str(kp.get("path"))
    if not target:
        errs.append(required(f"{path}.path", ""))
    errs.extend(validate_local_non_reserved_path(target, f"{path}.path"))
    errs.extend(_validate_file_mode(kp.get("mode"), f"{path}.mode"))
    return errs


# --- volumes -------------------------------------------------------------------------------


def _validate_object_field_selector(fs: Mapping[str, Any], allowed: tuple[str, ...], path: str) -> list[FieldError]:
    api_version = as_str(fs.get("apiVersion"))
    field_path = as_str(fs.get("fieldPath"))
    if not api_version:
        return [required(f"{path}.apiVersion", "")]
    if not field_path:
        return [required(f"{path}.fieldPath", "")]
    if api_version != "v1":
        return [invalid(f"{path}.fieldPath", field_path, f"error converting fieldPath: unsupported pod version: {api_version}")]
    base, subscript = field_path, None
    if field_path.endswith("']") and "['" in field_path:
        base, _, rest = field_path.partition("['")
        subscript = rest[:-2]
    if base not in _CONVERTIBLE_POD_FIELDS:
        return [invalid(f"{path}.fieldPath", field_path, f"error converting fieldPath: field label not supported: {field_path}")]
    if subscript is not None:
        if base == "metadata.annotations":
            return validate_qualified_name(subscript.lower(), path)
        if base == "metadata.labels":
            return validate_qualified_name(subscript, path)
        return [invalid(path, base, "does not support subscript")]
    if base not in allowed:
        return [not_supported(f"{path}.fieldPath", base, sorted(allowed))]
    return []


def _validate_resource_field_selector(fs: Mapping[str, Any], path: str, volume: bool) -> list[FieldError]:
    resource = as_str(fs.get("resource"))
    if volume and not as_str(fs.get("containerName")):
        return [required(f"{path}.containerName", "")]
    if not resource:
        return [required(f"{path}.resource", "")]
    if resource not in _CONTAINER_RESOURCE_FIELDS and not resource.startswith(("requests.hugepages-", "limits.hugepages-")):
        return [not_supported(f"{path}.resource", resource, _CONTAINER_RESOURCE_FIELDS)]
    return []


def _validate_downward_api_file(item: Mapping[str, Any], path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    target = as_str(item.get("path"))
    if not target:
        errs.append(required(f"{path}.path", ""))
    errs.extend(validate_local_non_reserved_path(target, f"{path}.path"))
    if present(item, "fieldRef"):
        errs.extend(_validate_object_field_selector(as_dict(item["fieldRef"]), _VOLUME_FIELD_PATHS, f"{path}.fieldRef"))
        if present(item, "resourceFieldRef"):
            errs.append(invalid(path, "resource", "fieldRef and resourceFieldRef can not be specified simultaneously"))
    elif present(item, "resourceFieldRef"):
        errs.extend(_validate_resource_field_selector(as_dict(item["resourceFieldRef"]), f"{path}.resourceFieldRef", True))
    else:
        errs.append(required(path, "one of fieldRef and resourceFieldRef is required"))
    errs.extend(_validate_file_mode(item.get("mode"), f"{path}.mode"))
    return errs


def _validate_projected(src: Mapping[str, Any], path: str) -> list[FieldError]:
    errs = _validate_file_mode(src.get("defaultMode"), f"{path}.defaultMode")
    all_paths: set[str] = set()
    for i, raw in enumerate(as_list(src.get("sources"))):
        s = as_dict(raw)
        sp = f"{path}.sources[{i}]"
        count = 0
        for kind, name_key in (("secret", "name"), ("configMap", "name")):
            if not present(s, kind):
                continue
            count += 1
            inner = as_dict(s[kind])
            if not as_str(inner.get(name_key)):
                errs.append(required(f"{sp}.{kind}.name", ""))
            for j, kp in enumerate(as_list(inner.get("items"))):
                kpd = as_dict(kp)
                errs.extend(_validate_key_to_path(kpd, f"{sp}.{kind}.items[{j}]"))
                target = as_str(kpd.get("path"))
                if target:
                    if target in all_paths:
                        errs.append(invalid(path, as_str(inner.get(name_key)), "conflicting duplicate paths"))
                    all_paths.add(target)
        if present(s, "downwardAPI"):
            count += 1
            for item in as_list(as_dict(s["downwardAPI"]).get("items")):
                itemd = as_dict(item)
                errs.extend(_validate_downward_api_file(itemd, f"{sp}.downwardAPI"))
                target = as_str(itemd.get("path"))
                if target:
                    if target in all_paths:
                        errs.append(invalid(path, target, "conflicting duplicate paths"))
                    all_paths.add(target)
        if present(s, "serviceAccountToken"):
            count += 1
            tok = as_dict(s["serviceAccountToken"])
            exp = as_int(tok.get("expirationSeconds"))
            if exp < 600:
                errs.append(invalid(f"{sp}.serviceAccountToken.expirationSeconds", exp, "may not specify a duration less than 10 minutes"))
            if exp > 1 << 32:
                errs.append(invalid(f"{sp}.serviceAccountToken.expirationSeconds", exp, "may not specify a duration larger than 2^32 seconds"))
            target = as_str(tok.get("path"))
            if not target:
                errs.append(required(f"{path}.path", ""))
            else:
                errs.extend(validate_local_non_reserved_path(target, f"{path}.path"))
        if present(s, "clusterTrustBundle"):
            count += 1
            ctb = as_dict(s["clusterTrustBundle"])
            if not as_str(ctb.get("path")):
                errs.append(required(f"{sp}.clusterTrustBundle.path", ""))
        if count > 1:
            errs.append(forbidden(sp, "may not specify more than 1 volume type per source"))
    return errs


def _validate_volume_source(vol: Mapping[str, Any], path: str, *, resource_is_pod: bool) -> list[FieldError]:
    errs: list[FieldError] = []
    count = 0
    for key, err_key in VOLUME_SOURCES:
        if not present(vol, key):
            continue
        if count > 0:
            errs.append(forbidden(f"{path}.{err_key}", "may not specify more than 1 volume type"))
            continue
        count += 1
        src = as_dict(vol[key])
        p = f"{path}.{key}"
        if key == "emptyDir":
            q = parse_value(src.get("sizeLimit")) if src.get("sizeLimit") is not None else None
            if q is not None and q.value < 0:
                errs.append(forbidden(f"{p}.sizeLimit", "SizeLimit field must be a valid resource quantity"))
        elif key == "hostPath":
            hp = as_str(src.get("path"))
            if not hp:
                errs.append(required(f"{p}.path", ""))
            else:
                errs.extend(_validate_path_no_backsteps(hp, f"{p}.path"))
                t = src.get("type")
                if t is not None and t not in HOST_PATH_TYPES:
                    errs.append(not_supported(f"{p}.type", t, HOST_PATH_TYPES))
        elif key == "secret":
            if not as_str(src.get("secretName")):
                errs.append(required(f"{p}.secretName", ""))
            errs.extend(_validate_file_mode(src.get("defaultMode"), f"{p}.defaultMode"))
            for j, kp in enumerate(as_list(src.get("items"))):
                errs.extend(_validate_key_to_path(as_dict(kp), f"{p}.items[{j}]"))
        elif key == "configMap":
            if not as_str(src.get("name")):
                errs.append(required(f"{p}.name", ""))
            errs.extend(_validate_file_mode(src.get("defaultMode"), f"{p}.defaultMode"))
            for j, kp in enumerate(as_list(src.get("items"))):
                errs.extend(_validate_key_to_path(as_dict(kp), f"{p}.items[{j}]"))
        elif key == "persistentVolumeClaim":
            if not as_str(src.get("claimName")):
                errs.append(required(f"{p}.claimName", ""))
        elif key == "nfs":
            if not as_str(src.get("server")):
                errs.append(required(f"{p}.server", ""))
            nfs_path = as_str(src.get("path"))
            if not nfs_path:
                errs.append(required(f"{p}.path", ""))
            if not nfs_path.startswith("/"):
                errs.append(invalid(f"{p}.path", nfs_path, "must be an absolute path"))
        elif key == "gitRepo":
            if not as_str(src.get("repository")):
                errs.append(required(f"{p}.repository", ""))
            errs.extend(validate_local_descending_path(as_str(src.get("directory")), f"{p}.directory"))
        elif key == "downwardAPI":
            errs.extend(_validate_file_mode(src.get("defaultMode"), f"{p}.defaultMode"))
            for item in as_list(src.get("items")):
                errs.extend(_validate_downward_api_file(as_dict(item), p))
        elif key == "projected":
            errs.extend(_validate_projected(src, p))
        elif key == "csi":
            driver = as_str(src.get("driver"))
            if not driver:
                errs.append(required(f"{p}.driver", ""))
            if len(driver) > 63:
                errs.append(FieldError("FieldValueTooLong", f"{p}.driver", "Too long: may not be more than 63 bytes"))
            errs.extend(invalid(f"{p}.driver", driver, m) for m in names.is_dns1123_subdomain(driver.lower()))
        elif key == "ephemeral":
            if not present(src, "volumeClaimTemplate"):
                errs.append(required(f"{p}.volumeClaimTemplate", ""))
        elif key == "image":
            if resource_is_pod and not as_str(src.get("reference")):
                errs.append(required(f"{p}.reference", ""))
            errs.extend(_validate_pull_policy(src.get("pullPolicy"), f"{p}.pullPolicy"))
    if count == 0:
        errs.append(required(path, "must specify a volume type"))
    return errs


def validate_volumes(volumes: Any, path: str, *, resource_is_pod: bool) -> tuple[dict[str, Mapping[str, Any]], list[FieldError]]:
    """Returns the valid volumes by name (for mount checks) and the errors."""
    vols: dict[str, Mapping[str, Any]] = {}
    errs: list[FieldError] = []
    for i, raw in enumerate(as_list(volumes)):
        vol = as_dict(raw)
        p = f"{path}[{i}]"
        name = as_str(vol.get("name"))
        el = _validate_volume_source(vol, p, resource_is_pod=resource_is_pod)
        if not name:
            el.append(required(f"{p}.name", ""))
        else:
            el.extend(validate_dns1123_label(name, f"{p}.name"))
        if name in vols:
            el.append(duplicate(f"{p}.name", name))
        if not el:
            vols[name] = vol
        else:
            errs.extend(el)
    return vols, errs


# --- containers ------------------------------------------------------------------------


def _validate_pull_policy(policy: Any, path: str) -> list[FieldError]:
    p = as_str(policy)
    if p in PULL_POLICIES:
        return []
    if not p:
        return [required(path, "")]
    return [not_supported(path, p, PULL_POLICIES)]


def _validate_port_num_or_name(port: Any, path: str) -> list[FieldError]:
    if isinstance(port, bool) or port is None:
        return [invalid(path, port, names.inclusive_range_error(1, 65535))]
    if isinstance(port, int):
        return [invalid(path, port, m) for m in names.is_valid_port_num(port)]
    if isinstance(port, str):
        return [invalid(path, port, m) for m in names.is_valid_port_name(port)]
    return [invalid(path, port, "unknown type")]


def validate_container_ports(ports: Any, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    seen: set[str] = set()
    for i, raw in enumerate(as_list(ports)):
        port = as_dict(raw)
        p = f"{path}[{i}]"
        name = as_str(port.get("name"))
        if name:
            msgs = names.is_valid_port_name(name)
            if msgs:
                errs.extend(invalid(f"{p}.name", name, m) for m in msgs)
            elif name in seen:
                errs.append(duplicate(f"{p}.name", name))
            else:
                seen.add(name)
        cp = as_int(port.get("containerPort"))
        if cp == 0:
            errs.append(required(f"{p}.containerPort", ""))
        else:
            errs.extend(invalid(f"{p}.containerPort", cp, m) for m in names.is_valid_port_num(cp))
        hp = as_int(port.get("hostPort"))
        if hp != 0:
            errs.extend(invalid(f"{p}.hostPort", hp, m) for m in names.is_valid_port_num(hp))
        proto = as_str(port.get("protocol"))
        if not proto:
            errs.append(required(f"{p}.protocol", ""))
        elif proto not in SUPPORTED_PORT_PROTOCOLS:
            errs.append(not_supported(f"{p}.protocol", proto, SUPPORTED_PORT_PROTOCOLS))
    return errs


def _validate_key_selector(sel: Mapping[str, Any], path: str) -> list[FieldError]:
    name = as_str(sel.get("name"))
    errs = [invalid(f"{path}.name", name, m) for m in names.name_is_dns_subdomain(name)]
    key = as_str(sel.get("key"))
    if not key:
        errs.append(required(f"{path}.key", ""))
    else:
        errs.extend(invalid(f"{path}.key", key, m) for m in names.is_config_map_key(key))
    return errs


def validate_env(env: Any, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, raw in enumerate(as_list(env)):
        ev = as_dict(raw)
        p = f"{path}[{i}]"
        name = as_str(ev.get("name"))
        if not name:
            errs.append(required(f"{p}.name", ""))
        else:
            errs.extend(invalid(f"{p}.name", name, m) for m in names.is_relaxed_env_var_name(name))
        if not present(ev, "valueFrom"):
            continue
        vf = as_dict(ev["valueFrom"])
        vp = f"{p}.valueFrom"
        count = 0
        if present(vf, "fieldRef"):
            count += 1
            errs.extend(_validate_object_field_selector(as_dict(vf["fieldRef"]), _ENV_FIELD_PATHS, f"{vp}.fieldRef"))
        if present(vf, "resourceFieldRef"):
            count += 1
            errs.extend(_validate_resource_field_selector(as_dict(vf["resourceFieldRef"]), f"{vp}.resourceFieldRef", False))
        if present(vf, "configMapKeyRef"):
            count += 1
            errs.extend(_validate_key_selector(as_dict(vf["configMapKeyRef"]), f"{vp}.configMapKeyRef"))
        if present(vf, "secretKeyRef"):
            count += 1
            errs.extend(_validate_key_selector(as_dict(vf["secretKeyRef"]), f"{vp}.secretKeyRef"))
        if count == 0:
            errs.append(invalid(vp, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"))
        elif as_str(ev.get("value")):
            errs.append(invalid(vp, "", "may not be specified when `value` is not empty"))
        elif count > 1:
            errs.append(invalid(vp, "", "may not have more than one field specified at a time"))
    return errs


def validate_env_from(env_from: Any, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, raw in enumerate(as_list(env_from)):
        ef = as_dict(raw)
        p = f"{path}[{i}]"
        prefix = as_str(ef.get("prefix"))
        if prefix:
            errs.extend(invalid(f"{p}.prefix", prefix, m) for m in names.is_relaxed_env_var_name(prefix))
        count = 0
        for key in ("configMapRef", "secretRef"):
            if present(ef, key):
                count += 1
                name = as_str(as_dict(ef[key]).get("name"))
                if not name:
                    errs.append(required(f"{p}.{key}.name", ""))
                else:
                    errs.extend(invalid(f"{p}.{key}.name", name, m) for m in names.name_is_dns_subdomain(name, True))
        if count == 0:
            errs.append(invalid(path, "", "must specify one of: `configMapRef` or `secretRef`"))
        elif count > 1:
            errs.append(invalid(path, "", "may not have more than one field specified at a time"))
    return errs


def validate_volume_mounts(
    mounts: Any, devices: dict[str, str], volumes: dict[str, Mapping[str, Any]], container: Mapping[str, Any], path: str
) -> list[FieldError]:
    errs: list[FieldError] = []
    mountpoints: set[str] = set()
    privileged = as_dict(container.get("securityContext")).get("privileged") is True
    for i, raw in enumerate(as_list(mounts)):
        m = as_dict(raw)
        p = f"{path}[{i}]"
        name = as_str(m.get("name"))
        mount_path = as_str(m.get("mountPath"))
        if not name:
            errs.append(required(f"{p}.name", ""))
        if name not in volumes:
            errs.append(not_found(f"{p}.name", name))
        if not mount_path:
            errs.append(required(f"{p}.mountPath", ""))
        if mount_path in mountpoints:
            errs.append(invalid(f"{p}.mountPath", mount_path, "must be unique"))
        mountpoints.add(mount_path)
        if name in devices:
            errs.append(invalid(f"{p}.name", name, "must not already exist in volumeDevices"))
        if mount_path in devices.values():
            errs.append(invalid(f"{p}.mountPath", mount_path, "must not already exist as a path in volumeDevices"))
        vol = volumes.get(name)
        sub_path = as_str(m.get("subPath"))
        sub_path_expr = as_str(m.get("subPathExpr"))
        if vol is not None and present(vol, "image"):
            if sub_path:
                errs.append(invalid(f"{p}.subPath", sub_path, "not allowed in image volume sources"))
            if sub_path_expr:
                errs.append(invalid(f"{p}.subPathExpr", sub_path_expr, "not allowed in image volume sources"))
        if sub_path:
            errs.extend(validate_local_descending_path(sub_path, f"{path}.subPath"))
        if sub_path_expr:
            if sub_path:
                errs.append(invalid(f"{p}.subPathExpr", sub_path_expr, "subPathExpr and subPath are mutually exclusive"))
            errs.extend(validate_local_descending_path(sub_path_expr, f"{path}.subPathExpr"))
        prop = m.get("mountPropagation")
        if prop is not None:
            if prop not in MOUNT_PROPAGATIONS:
                errs.append(not_supported(f"{path}.mountPropagation", prop, MOUNT_PROPAGATIONS))
            if prop == "Bidirectional" and not privileged:
                errs.append(forbidden(f"{path}.mountPropagation", "Bidirectional mount propagation is available only to privileged containers"))
        rro = m.get("recursiveReadOnly")
        if rro is not None:
            rp = f"{path}.recursiveReadOnly"
            if rro in ("Enabled", "IfPossible"):
                if m.get("readOnly") is not True:
                    errs.append(forbidden(rp, "may only be specified when readOnly is true"))
                if prop not in (None, "None"):
                    errs.append(forbidden(rp, "may only be specified when mountPropagation is None or not specified"))
            elif rro != "Disabled":
                errs.append(not_supported(rp, rro, ("Disabled", "Enabled", "IfPossible")))
    return errs


def validate_volume_devices(
    devices: Any, mounts: dict[str, str], volumes: dict[str, Mapping[str, Any]], path: str
) -> list[FieldError]:
    errs: list[FieldError] = []
    device_paths: set[str] = set()
    device_names: set[str] = set()
    for i, raw in enumerate(as_list(devices)):
        d = as_dict(raw)
        p = f"{path}[{i}]"
        name = as_str(d.get("name"))
        dev_path = as_str(d.get("devicePath"))
        vol = volumes.get(name)
        if not name:
            errs.append(required(f"{p}.name", ""))
        if name in device_names:
            errs.append(invalid(f"{p}.name", name, "must be unique"))
        if vol is not None and not (present(vol, "persistentVolumeClaim") or present(vol, "ephemeral")):
            errs.append(invalid(f"{p}.name", name, "can only use volume source type of PersistentVolumeClaim or Ephemeral for block mode"))
        if vol is None:
            errs.append(not_found(f"{p}.name", name))
        if not dev_path:
            errs.append(required(f"{p}.devicePath", ""))
        if dev_path in device_paths:
            errs.append(invalid(f"{p}.devicePath", dev_path, "must be unique"))
        if dev_path and _validate_path_no_backsteps(dev_path, p):
            errs.append(invalid(f"{p}.devicePath", dev_path, "can not contain backsteps ('..')"))
        else:
            device_paths.add(dev_path)
        if name in mounts:
            errs.append(invalid(f"{p}.name", name, "must not already exist in volumeMounts"))
        if dev_path in mounts.values():
            errs.append(invalid(f"{p}.devicePath", dev_path, "must not already exist as a path in volumeMounts"))
        if name:
            device_names.add(name)
    return errs


def _validate_handler(handler: Mapping[str, Any], grace: int | None, path: str, *, lifecycle: bool) -> list[FieldError]:
    errs: list[FieldError] = []
    count = 0
    kinds = ("exec", "httpGet", "tcpSocket", "sleep") if lifecycle else ("exec", "httpGet", "tcpSocket", "grpc")
    for kind in kinds:
        if not present(handler, kind):
            continue
        if count > 0:
            errs.append(forbidden(f"{path}.{kind}", "may not specify more than 1 handler type"))
            continue
        count += 1
        h = as_dict(handler[kind])
        p = f"{path}.{kind}"
        if kind == "exec":
            if not as_list(h.get("command")):
                errs.append(required(f"{p}.command", ""))
        elif kind == "httpGet":
            if not as_str(h.get("path")):
                errs.append(required(f"{p}.path", ""))
            errs.extend(_validate_port_num_or_name(h.get("port"), f"{p}.port"))
            scheme = as_str(h.get("scheme"))
            if scheme not in HTTP_SCHEMES:
                errs.append(not_supported(f"{p}.scheme", scheme, HTTP_SCHEMES))
            for header in as_list(h.get("httpHeaders")):
                hn = as_str(as_dict(header).get("name"))
                errs.extend(invalid(f"{p}.httpHeaders", hn, m) for m in names.is_http_header_name(hn))
        elif kind == "tcpSocket":
            errs.extend(_validate_port_num_or_name(h.get("port"), f"{p}.port"))
        elif kind == "grpc":
            errs.extend(_validate_port_num_or_name(as_int(h.get("port")), f"{p}.port"))
        elif kind == "sleep":
            seconds = as_int(h.get("seconds"))
            if grace is not None and (seconds <= 0 or seconds > grace):
                errs.append(
                    invalid(
                        p,
                        seconds,
                        f"must be greater than 0 and less than terminationGracePeriodSeconds ({grace}). "
                        "Enable AllowPodLifecycleSleepActionZeroValue feature gate for zero sleep.",
                    )
                )
    if count == 0:
        errs.append(required(path, "must specify a handler type"))
    return errs


def _validate_probe(probe: Mapping[str, Any], grace: int | None, path: str) -> list[FieldError]:
    errs = _validate_handler(probe, grace, path, lifecycle=False)
    for key in ("initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold"):
        errs.extend(validate_nonnegative(probe.get(key), f"{path}.{key}"))
    tgps = probe.get("terminationGracePeriodSeconds")
    if isinstance(tgps, int) and not isinstance(tgps, bool) and tgps <= 0:
        errs.append(invalid(f"{path}.terminationGracePeriodSeconds", tgps, "must be greater than 0"))
    return errs


def _validate_probes(ctr: Mapping[str, Any], grace: int | None, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    for kind in ("livenessProbe", "readinessProbe", "startupProbe"):
        if not present(ctr, kind):
            continue
        probe = as_dict(ctr[kind])
        p = f"{path}.{kind}"
        errs.extend(_validate_probe(probe, grace, p))
        if kind == "readinessProbe":
            if probe.get("terminationGracePeriodSeconds") is not None:
                errs.append(invalid(f"{p}.terminationGracePeriodSeconds", probe["terminationGracePeriodSeconds"], "must not be set for readinessProbes"))
        elif as_int(probe.get("successThreshold")) != 1:
            errs.append(invalid(f"{p}.successThreshold", as_int(probe.get("successThreshold")), "must be 1"))
    return errs


def _validate_lifecycle(lifecycle: Mapping[str, Any], grace: int | None, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    for kind in ("postStart", "preStop"):
        if present(lifecycle, kind):
            errs.extend(_validate_handler(as_dict(lifecycle[kind]), grace, f"{path}.{kind}", lifecycle=True))
    return errs


def _validate_seccomp_profile(sp: Any, path: str) -> list[FieldError]:
    if not isinstance(sp, dict):
        return []
    errs: list[FieldError] = []
    t = as_str(sp.get("type"))
    if not t:
        errs.append(required(f"{path}.type", "type is required when seccompProfile is set"))
    elif t not in SECCOMP_TYPES:
        errs.append(not_supported(f"{path}.type", t, SECCOMP_TYPES))
    if t == "Localhost":
        if sp.get("localhostProfile") is None:
            errs.append(required(f"{path}.localhostProfile", "must be set when seccomp type is Localhost"))
        else:
            errs.extend(validate_local_descending_path(as_str(sp.get("localhostProfile")), f"{path}.localhostProfile"))
    elif sp.get("localhostProfile") is not None:
        errs.append(invalid(f"{path}.localhostProfile", sp, "can only be set when seccomp type is Localhost"))
    return errs


def _validate_apparmor_profile(profile: Any, path: str) -> list[FieldError]:
    if not isinstance(profile, dict):
        return []
    t = as_str(profile.get("type"))
    local = profile.get("localhostProfile")
    if t == "Localhost":
        if local is None:
            return [required(f"{path}.localhostProfile", "must be set when AppArmor type is Localhost")]
        text = as_str(local)
        if text.strip() != text:
            return [invalid(f"{path}.localhostProfile", text, "must not be padded with whitespace")]
        if not text:
            return [required(f"{path}.localhostProfile", "must be set when AppArmor type is Localhost")]
        return []
    if t in ("RuntimeDefault", "Unconfined"):
        if local is not None:
            return [invalid(f"{path}.localhostProfile", local, "can only be set when AppArmor type is Localhost")]
        return []
    if not t:
        return [required(f"{path}.type", "type is required when appArmorProfile is set")]
    return [not_supported(f"{path}.type", t, APPARMOR_TYPES)]


def _validate_id(value: Any, path: str) -> list[FieldError]:
    if isinstance(value, int) and not isinstance(value, bool):
        return [invalid(path, value, m) for m in names.is_valid_user_id(value)]
    return []


def validate_security_context(sc: Any, path: str, host_users: bool) -> list[FieldError]:
    if not isinstance(sc, dict):
        return []
    errs: list[FieldError] = []
    errs.extend(_validate_id(sc.get("runAsUser"), f"{path}.runAsUser"))
    errs.extend(_validate_id(sc.get("runAsGroup"), f"{path}.runAsGroup"))
    proc_mount = sc.get("procMount")
    if proc_mount is not None:
        if proc_mount not in PROC_MOUNT_TYPES:
            errs.append(not_supported(f"{path}.procMount", proc_mount, PROC_MOUNT_TYPES))
        if host_users and proc_mount == "Unmasked":
            errs.append(invalid(f"{path}.procMount", proc_mount, "`hostUsers` must be false to use `Unmasked`"))
    errs.extend(_validate_seccomp_profile(sc.get("seccompProfile"), f"{path}.seccompProfile"))
    if sc.get("allowPrivilegeEscalation") is False:
        if sc.get("privileged") is True:
            errs.append(invalid(path, sc, "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"))
        for cap in as_list(as_dict(sc.get("capabilities")).get("add")):
            if cap == "CAP_SYS_ADMIN":
                errs.append(invalid(path, sc, "cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN"))
    errs.extend(_validate_apparmor_profile(sc.get("appArmorProfile"), f"{path}.appArmorProfile"))
    return errs


def _validate_resize_policy(policies: Any, path: str, restart_policy: str) -> list[FieldError]:
    errs: list[FieldError] = []
    seen: set[str] = set()
    for i, raw in enumerate(as_list(policies)):
        p = as_dict(raw)
        res = as_str(p.get("resourceName"))
        if res in seen:
            errs.append(duplicate(f"{path}[{i}]", res))
        seen.add(res)
        if not res:
            errs.append(required(path, ""))
        elif res not in RESIZE_RESOURCES:
            errs.append(not_supported(path, res, RESIZE_RESOURCES))
        rp = as_str(p.get("restartPolicy"))
        if not rp:
            errs.append(required(path, ""))
        elif rp not in RESIZE_POLICIES:
            errs.append(not_supported(path, rp, RESIZE_POLICIES))
        if restart_policy == "Never" and rp != "NotRequired":
            errs.append(invalid(path, rp, "must be 'NotRequired' when `restartPolicy` is 'Never'"))
    return errs


def _validate_container_common(
    ctr: Mapping[str, Any],
    volumes: dict[str, Mapping[str, Any]],
    claim_names: set[str],
    path: str,
    restart_policy: str,
    host_users: bool,
) -> list[FieldError]:
    errs: list[FieldError] = []
    name = as_str(ctr.get("name"))
    if not name:
        errs.append(required(f"{path}.name", ""))
    else:
        errs.extend(validate_dns1123_label(name, f"{path}.name"))
    if not as_str(ctr.get("image")):
        errs.append(required(f"{path}.image", ""))
    tmp = as_str(ctr.get("terminationMessagePolicy"))
    if not tmp:
        errs.append(required(f"{path}.terminationMessagePolicy", ""))
    elif tmp not in TERMINATION_MESSAGE_POLICIES:
        errs.append(not_supported(f"{path}.terminationMessagePolicy", tmp, TERMINATION_MESSAGE_POLICIES))
    mounts = {as_str(as_dict(m).get("name")): as_str(as_dict(m).get("mountPath")) for m in as_list(ctr.get("volumeMounts"))}
    devices = {as_str(as_dict(d).get("name")): as_str(as_dict(d).get("devicePath")) for d in as_list(ctr.get("volumeDevices"))}
    errs.extend(validate_container_ports(ctr.get("ports"), f"{path}.ports"))
    errs.extend(validate_env(ctr.get("env"), f"{path}.env"))
    errs.extend(validate_env_from(ctr.get("envFrom"), f"{path}.envFrom"))
    errs.extend(validate_volume_mounts(ctr.get("volumeMounts"), devices, volumes, ctr, f"{path}.volumeMounts"))
    errs.extend(validate_volume_devices(ctr.get("volumeDevices"), mounts, volumes, f"{path}.volumeDevices"))
    errs.extend(_validate_pull_policy(ctr.get("imagePullPolicy"), f"{path}.imagePullPolicy"))
    errs.extend(validate_resource_requirements(ctr.get("resources"), f"{path}.resources", claim_names))
    errs.extend(_validate_resize_policy(ctr.get("resizePolicy"), f"{path}.resizePolicy", restart_policy))
    errs.extend(validate_security_context(ctr.get("securityContext"), f"{path}.securityContext", host_users))
    return errs


def _host_port_conflicts(containers: list[Any], path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    seen: set[str] = set()
    for ci, raw in enumerate(containers):
        for pi, port_raw in enumerate(as_list(as_dict(raw).get("ports"))):
            port = as_dict(port_raw)
            hp = as_int(port.get("hostPort"))
            if hp == 0:
                continue
            key = f"{as_str(port.get('protocol'))}/{as_str(port.get('hostIP'))}/{hp}"
            if key in seen:
                errs.append(duplicate(f"{path}[{ci}].ports[{pi}].hostPort", key))
            else:
                seen.add(key)
    return errs


def _validate_containers(
    containers: Any, volumes: dict[str, Mapping[str, Any]], claim_names: set[str], grace: int | None, path: str,
    restart_policy: str, host_users: bool,
) -> list[FieldError]:
    items = as_list(containers)
    if not items:
        return [required(path, "")]
    errs: list[FieldError] = []
    seen: set[str] = set()
    for i, raw in enumerate(items):
        ctr = as_dict(raw)
        p = f"{path}[{i}]"
        errs.extend(_validate_container_common(ctr, volumes, claim_names, p, restart_policy, host_users))
        name = as_str(ctr.get("name"))
        if name in seen:
            errs.append(duplicate(f"{p}.name", name))
        else:
            seen.add(name)
        if present(ctr, "lifecycle"):
            errs.extend(_validate_lifecycle(as_dict(ctr["lifecycle"]), grace, f"{p}.lifecycle"))
        errs.extend(_validate_probes(ctr, grace, p))
        if present(ctr, "restartPolicy"):
            errs.append(forbidden(f"{p}.restartPolicy", "may not be set for non-init containers"))
    errs.extend(_host_port_conflicts(items, path))
    return errs


def _validate_init_containers(
    containers: Any, regular: Any, volumes: dict[str, Mapping[str, Any]], claim_names: set[str], grace: int | None,
    path: str, restart_policy: str, host_users: bool,
) -> list[FieldError]:
    errs: list[FieldError] = []
    all_names = {as_str(as_dict(c).get("name")) for c in as_list(regular)}
    for i, raw in enumerate(as_list(containers)):
        ctr = as_dict(raw)
        p = f"{path}[{i}]"
        errs.extend(_validate_container_common(ctr, volumes, claim_names, p, restart_policy, host_users))
        restart_always = False
        crp = ctr.get("restartPolicy")
        if crp is not None:
            if crp != "Always":
                errs.append(not_supported(f"{p}.restartPolicy", crp, ("Always",)))
            restart_always = crp == "Always"
        name = as_str(ctr.get("name"))
        if name in all_names:
            errs.append(duplicate(f"{p}.name", name))
        elif name:
            all_names.add(name)
        errs.extend(_host_port_conflicts([ctr], path))
        if restart_always:
            if present(ctr, "lifecycle"):
                errs.extend(_validate_lifecycle(as_dict(ctr["lifecycle"]), grace, f"{p}.lifecycle"))
            errs.extend(_validate_probes(ctr, grace, p))
        else:
            for kind in ("lifecycle", "livenessProbe", "readinessProbe", "startupProbe"):
                if present(ctr, kind):
                    errs.append(forbidden(f"{p}.{kind}", "may not be set for init containers without restartPolicy=Always"))
        if as_list(ctr.get("resizePolicy")):
            errs.append(invalid(f"{p}.resizePolicy", ctr["resizePolicy"], "must not be set for init containers"))
    return errs


# --- scheduling ----------------------------------------------------------------------------


def validate_tolerations(tolerations: Any, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, raw in enumerate(as_list(tolerations)):
        t = as_dict(raw)
        p = f"{path}[{i}]"
        key = as_str(t.get("key"))
        op = as_str(t.get("operator"))
        effect = as_str(t.get("effect"))
        value = as_str(t.get("value"))
        if key:
            errs.extend(validate_label_name(key, f"{p}.key"))
        if not key and op != "Exists":
            errs.append(invalid(f"{p}.operator", op, 'operator must be Exists when `key` is empty, which means "match all values and all keys"'))
        if t.get("tolerationSeconds") is not None and effect != "NoExecute":
            errs.append(invalid(f"{p}.effect", effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"))
        if op in ("Equal", ""):
            msgs = names.is_valid_label_value(value)
            if msgs:
                errs.append(invalid(f"{p}.operator", value, ";".join(msgs)))
        elif op == "Exists":
            if value:
                errs.append(invalid(f"{p}.operator", value, "value must be empty when `operator` is 'Exists'"))
        else:
            errs.append(not_supported(f"{p}.operator", op, ("Equal", "Exists")))
        if effect and effect not in TAINT_EFFECTS:
            errs.append(not_supported(f"{p}.effect", effect, TAINT_EFFECTS))
    return errs


def _validate_node_selector_requirement(req: Mapping[str, Any], path: str, allow_invalid_value: bool) -> list[FieldError]:
    errs: list[FieldError] = []
    op = as_str(req.get("operator"))
    values = as_list(req.get("values"))
    if op in ("In", "NotIn"):
        if not values:
            errs.append(required(f"{path}.values", "must be specified when `operator` is 'In' or 'NotIn'"))
    elif op in ("Exists", "DoesNotExist"):
        if values:
            errs.append(forbidden(f"{path}.values", "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
    elif op in ("Gt", "Lt"):
        if len(values) != 1:
            errs.append(required(f"{path}.values", "must be specified single value when `operator` is 'Lt' or 'Gt'"))
    else:
        errs.append(invalid(f"{path}.operator", op, "not a valid selector operator"))
    errs.extend(validate_label_name(as_str(req.get("key")), f"{path}.key"))
    if not allow_invalid_value:
        for j, v in enumerate(values):
            value = as_str(v)
            errs.extend(invalid(f"{path}.values[{j}]", value, m) for m in names.is_valid_label_value(value))
    return errs


def _validate_node_selector_term(term: Mapping[str, Any], path: str, allow_invalid_value: bool) -> list[FieldError]:
    errs: list[FieldError] = []
    for j, req in enumerate(as_list(term.get("matchExpressions"))):
        errs.extend(_validate_node_selector_requirement(as_dict(req), f"{path}.matchExpressions[{j}]", allow_invalid_value))
    for j, raw in enumerate(as_list(term.get("matchFields"))):
        req = as_dict(raw)
        p = f"{path}.matchFields[{j}]"
        values = as_list(req.get("values"))
        if as_str(req.get("operator")) in ("In", "NotIn"):
            if len(values) != 1:
                errs.append(required(f"{p}.values", "must be only one value when `operator` is 'In' or 'NotIn' for node field selector"))
        else:
            errs.append(invalid(f"{p}.operator", as_str(req.get("operator")), "not a valid selector operator"))
        if as_str(req.get("key")) != "metadata.name":
            errs.append(invalid(f"{p}.key", as_str(req.get("key")), "not a valid field selector key"))
        else:
            for k, v in enumerate(values):
                errs.extend(invalid(f"{p}.values[{k}]", as_str(v), m) for m in names.name_is_dns_subdomain(as_str(v)))
    return errs


def validate_node_selector(selector: Mapping[str, Any], path: str, allow_invalid_value: bool = False) -> list[FieldError]:
    terms = as_list(selector.get("nodeSelectorTerms"))
    tp = f"{path}.nodeSelectorTerms"
    if not terms:
        return [required(tp, "must have at least one node selector term")]
    errs: list[FieldError] = []
    for i, term in enumerate(terms):
        errs.extend(_validate_node_selector_term(as_dict(term), f"{tp}[{i}]", allow_invalid_value))
    return errs


def _validate_pod_affinity_term(term: Mapping[str, Any], path: str) -> list[FieldError]:
    errs = validate_label_selector(term.get("labelSelector"), f"{path}.labelSelector")
    errs.extend(validate_label_selector(term.get("namespaceSelector"), f"{path}.namespaceSelector"))
    for ns in as_list(term.get("namespaces")):
        errs.extend(invalid(f"{path}.namespace", as_str(ns), m) for m in names.name_is_dns_label(as_str(ns)))
    for key_list in ("matchLabelKeys", "mismatchLabelKeys"):
        keys = as_list(term.get(key_list))
        if keys and not isinstance(term.get("labelSelector"), dict):
            errs.append(forbidden(f"{path}.{key_list}", "must not be specified when labelSelector is not set"))
        else:
            for j, k in enumerate(keys):
                errs.extend(validate_label_name(as_str(k), f"{path}.{key_list}[{j}]"))
    topology_key = as_str(term.get("topologyKey"))
    if not topology_key:
        errs.append(required(f"{path}.topologyKey", "can not be empty"))
    errs.extend(validate_label_name(topology_key, f"{path}.topologyKey"))
    return errs


def _validate_pod_affinity(aff: Mapping[str, Any], path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, term in enumerate(as_list(aff.get("requiredDuringSchedulingIgnoredDuringExecution"))):
        errs.extend(_validate_pod_affinity_term(as_dict(term), f"{path}.requiredDuringSchedulingIgnoredDuringExecution[{i}]"))
    for i, raw in enumerate(as_list(aff.get("preferredDuringSchedulingIgnoredDuringExecution"))):
        wt = as_dict(raw)
        p = f"{path}.preferredDuringSchedulingIgnoredDuringExecution[{i}]"
        weight = as_int(wt.get("weight"))
        if weight <= 0 or weight > 100:
            errs.append(invalid(f"{p}.weight", weight, "must be in the range 1-100"))
        errs.extend(_validate_pod_affinity_term(as_dict(wt.get("podAffinityTerm")), f"{p}.podAffinityTerm"))
    return errs


def validate_affinity(affinity: Any, path: str) -> list[FieldError]:
    if not isinstance(affinity, dict):
        return []
    errs: list[FieldError] = []
    if present(affinity, "nodeAffinity"):
        na = as_dict(affinity["nodeAffinity"])
        np = f"{path}.nodeAffinity"
        req = na.get("requiredDuringSchedulingIgnoredDuringExecution")
        if isinstance(req, dict):
            errs.extend(validate_node_selector(req, f"{np}.requiredDuringSchedulingIgnoredDuringExecution"))
        for i, raw in enumerate(as_list(na.get("preferredDuringSchedulingIgnoredDuringExecution"))):
            term = as_dict(raw)
            p = f"{np}.preferredDuringSchedulingIgnoredDuringExecution[{i}]"
            weight = as_int(term.get("weight"))
            if weight <= 0 or weight > 100:
                errs.append(invalid(f"{p}.weight", weight, "must be in the range 1-100"))
            errs.extend(_validate_node_selector_term(as_dict(term.get("preference")), f"{p}.preference", True))
    for kind in ("podAffinity", "podAntiAffinity"):
        if present(affinity, kind):
            errs.extend(_validate_pod_affinity(as_dict(affinity[kind]), f"{path}.{kind}"))
    return errs


def _validate_topology_spread(constraints: Any, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    items = [as_dict(c) for c in as_list(constraints)]
    for i, c in enumerate(items):
        p = f"{path}[{i}]"
        max_skew = as_int(c.get("maxSkew"))
        if max_skew <= 0:
            errs.append(invalid(f"{p}.maxSkew", max_skew, IS_NOT_POSITIVE))
        key = as_str(c.get("topologyKey"))
        if not key:
            errs.append(required(f"{p}.topologyKey", "can not be empty"))
        action = as_str(c.get("whenUnsatisfiable"))
        if action not in WHEN_UNSATISFIABLE:
            errs.append(not_supported(f"{p}.whenUnsatisfiable", action, WHEN_UNSATISFIABLE))
        for later in items[i + 1 :]:
            if as_str(later.get("topologyKey")) == key and as_str(later.get("whenUnsatisfiable")) == action:
                errs.append(duplicate(f"{p}.{{topologyKey, whenUnsatisfiable}}", f"{{{key}, {action}}}"))
                break
        min_domains = c.get("minDomains")
        if min_domains is not None:
            if as_int(min_domains) <= 0:
                errs.append(invalid(f"{p}.minDomains", min_domains, IS_NOT_POSITIVE))
            if action != "DoNotSchedule":
                errs.append(invalid(f"{p}.minDomains", min_domains, f"can only use minDomains if whenUnsatisfiable=DoNotSchedule, not {action}"))
        for policy in ("nodeAffinityPolicy", "nodeTaintsPolicy"):
            v = c.get(policy)
            if v is not None and v not in NODE_INCLUSION_POLICIES:
                errs.append(not_supported(f"{p}.{policy}", v, NODE_INCLUSION_POLICIES))
        errs.extend(validate_label_selector(c.get("labelSelector"), f"{p}.labelSelector"))
    return errs


def _validate_dns_config(config: Any, dns_policy: str, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    if dns_policy == "None":
        if not isinstance(config, dict):
            return [required(path, "must provide `dnsConfig` when `dnsPolicy` is None")]
        if not as_list(config.get("nameservers")):
            return [required(f"{path}.nameservers", "must provide at least one DNS nameserver when `dnsPolicy` is None")]
    if not isinstance(config, dict):
        return errs
    nameservers = as_list(config.get("nameservers"))
    if len(nameservers) > 3:
        errs.append(invalid(f"{path}.nameservers", nameservers, "must not have more than 3 nameservers"))
    for i, ns in enumerate(nameservers):
        errs.extend(invalid(f"{path}.nameservers[{i}]", as_str(ns), m) for m in names.is_valid_ip(as_str(ns)))
    searches = as_list(config.get("searches"))
    if len(searches) > 32:
        errs.append(invalid(f"{path}.searches", searches, "must not have more than 32 search paths"))
    if len(" ".join(map(as_str, searches))) > 2048:
        errs.append(invalid(f"{path}.searches", searches, "must not have more than 2048 characters (including spaces) in the search list"))
    for i, s in enumerate(searches):
        errs.extend(validate_dns1123_subdomain(as_str(s).removesuffix("."), f"{path}.searches[{i}]"))
    for i, opt in enumerate(as_list(config.get("options"))):
        if not as_str(as_dict(opt).get("name")):
            errs.append(required(f"{path}.options[{i}]", "must not be empty"))
    return errs


def _validate_pod_security_context(spec: Mapping[str, Any], path: str) -> list[FieldError]:
    sc = spec.get("securityContext")
    if not isinstance(sc, dict):
        return []
    errs: list[FieldError] = []
    errs.extend(_validate_id(sc.get("fsGroup"), f"{path}.fsGroup"))
    errs.extend(_validate_id(sc.get("runAsUser"), f"{path}.runAsUser"))
    errs.extend(_validate_id(sc.get("runAsGroup"), f"{path}.runAsGroup"))
    for i, gid in enumerate(as_list(sc.get("supplementalGroups"))):
        errs.extend(_validate_id(gid, f"{path}.supplementalGroups[{i}]"))
    if spec.get("shareProcessNamespace") is True and spec.get("hostPID") is True:
        errs.append(invalid(f"{path}.shareProcessNamespace", True, "ShareProcessNamespace and HostPID cannot both be enabled"))
    seen: set[str] = set()
    for i, raw in enumerate(as_list(sc.get("sysctls"))):
        name = as_str(as_dict(raw).get("name"))
        p = f"{path}.sysctls[{i}].name"
        if not name:
            errs.append(required(p, ""))
        elif name in seen:
            errs.append(duplicate(p, name))
        seen.add(name)
    policy = sc.get("fsGroupChangePolicy")
    if policy is not None and policy not in FS_GROUP_CHANGE_POLICIES:
        errs.append(not_supported(f"{path}.fsGroupChangePolicy", policy, FS_GROUP_CHANGE_POLICIES))
    errs.extend(_validate_seccomp_profile(sc.get("seccompProfile"), f"{path}.seccompProfile"))
    errs.extend(_validate_apparmor_profile(sc.get("appArmorProfile"), f"{path}.appArmorProfile"))
    sgp = sc.get("supplementalGroupsPolicy")
    if sgp is not None and sgp not in SUPPLEMENTAL_GROUPS_POLICIES:
        errs.append(not_supported(f"{path}.supplementalGroupsPolicy", sgp, SUPPLEMENTAL_GROUPS_POLICIES))
    slcp = sc.get("seLinuxChangePolicy")
    if slcp is not None and slcp not in SELINUX_CHANGE_POLICIES:
        errs.append(not_supported(f"{path}.seLinuxChangePolicy", slcp, SELINUX_CHANGE_POLICIES))
    return errs


# --- PodSpec -----------------------------------------------------------------------------


def validate_pod_spec(spec: Any, path: str, *, resource_is_pod: bool) -> list[FieldError]:
    s = as_dict(spec)
    errs: list[FieldError] = []
    grace_raw = s.get("terminationGracePeriodSeconds")
    if grace_raw is None:
        errs.append(required(f"{path}.terminationGracePeriodSeconds", ""))
    grace = grace_raw if isinstance(grace_raw, int) and not isinstance(grace_raw, bool) else None
    sc = as_dict(s.get("securityContext"))
    host_users = sc.get("hostUsers") is not False
    restart_policy = as_str(s.get("restartPolicy"))

    volumes, vol_errs = validate_volumes(s.get("volumes"), f"{path}.volumes", resource_is_pod=resource_is_pod)
    errs.extend(vol_errs)
    claim_names = {as_str(as_dict(c).get("name")) for c in as_list(s.get("resourceClaims")) if as_str(as_dict(c).get("name"))}
    seen_claims: set[str] = set()
    for i, raw in enumerate(as_list(s.get("resourceClaims"))):
        name = as_str(as_dict(raw).get("name"))
        p = f"{path}.resourceClaims[{i}].name"
        if not name:
            errs.append(required(p, ""))
        elif name in seen_claims:
            errs.append(duplicate(p, name))
        else:
            errs.extend(validate_dns1123_label(name, p))
            seen_claims.add(name)
    errs.extend(_validate_containers(s.get("containers"), volumes, claim_names, grace, f"{path}.containers", restart_policy, host_users))
    errs.extend(
        _validate_init_containers(
            s.get("initContainers"), s.get("containers"), volumes, claim_names, grace, f"{path}.initContainers", restart_policy, host_users
        )
    )
    # hostNetwork: hostPort must match containerPort
    if s.get("hostNetwork") is True:
        for i, ctr in enumerate(as_list(s.get("containers"))):
            for j, raw in enumerate(as_list(as_dict(ctr).get("ports"))):
                port = as_dict(raw)
                hp, cp = as_int(port.get("hostPort")), as_int(port.get("containerPort"))
                if (resource_is_pod or hp != 0) and hp != cp:
                    errs.append(invalid(f"{path}.containers[{i}].ports[{j}].hostPort", hp, "must match `containerPort` when `hostNetwork` is true"))
    if restart_policy not in RESTART_POLICIES:
        errs.append(required(f"{path}.restartPolicy", "") if not restart_policy else not_supported(f"{path}.restartPolicy", restart_policy, RESTART_POLICIES))
    dns_policy = as_str(s.get("dnsPolicy"))
    if dns_policy not in DNS_POLICIES:
        errs.append(required(f"{path}.dnsPolicy", "") if not dns_policy else not_supported(f"{path}.dnsPolicy", dns_policy, DNS_POLICIES))
    errs.extend(validate_labels(s.get("nodeSelector"), f"{path}.nodeSelector"))
    errs.extend(_validate_pod_security_context(s, f"{path}.securityContext"))
    for i, raw in enumerate(as_list(s.get("imagePullSecrets"))):
        ref = as_dict(raw)
        if set(ref) - {"name"}:
            errs.append(invalid(f"{path}.imagePullSecrets[{i}]", ref, "only name may be set"))
    errs.extend(validate_affinity(s.get("affinity"), f"{path}.affinity"))
    errs.extend(_validate_dns_config(s.get("dnsConfig"), dns_policy, f"{path}.dnsConfig"))
    for i, raw in enumerate(as_list(s.get("readinessGates"))):
        errs.extend(validate_qualified_name(as_str(as_dict(raw).get("conditionType")), f"{path}.readinessGates[{i}].conditionType"))
    gates_seen: set[str] = set()
    for i, raw in enumerate(as_list(s.get("schedulingGates"))):
        gate = as_str(as_dict(raw).get("name"))
        errs.extend(validate_qualified_name(gate, f"{path}.schedulingGates[{i}]"))
        if gate in gates_seen:
            errs.append(duplicate(f"{path}.schedulingGates[{i}]", gate))
        gates_seen.add(gate)
    errs.extend(_validate_topology_spread(s.get("topologySpreadConstraints"), f"{path}.topologySpreadConstraints"))
    if not host_users:
        for key in ("hostNetwork", "hostPID", "hostIPC"):
            if s.get(key) is True:
                errs.append(forbidden(f"{path}.{key if key == 'hostNetwork' else key.replace('host', 'Host')}", "when `pod.Spec.HostUsers` is false"))
    sa = as_str(s.get("serviceAccountName"))
    if sa:
        errs.extend(invalid(f"{path}.serviceAccountName", sa, m) for m in names.name_is_dns_subdomain(sa))
    node_name = as_str(s.get("nodeName"))
    if node_name:
        errs.extend(invalid(f"{path}.nodeName", node_name, m) for m in names.name_is_dns_subdomain(node_name))
    ads = s.get("activeDeadlineSeconds")
    if isinstance(ads, int) and not isinstance(ads, bool) and (ads < 1 or ads > MAX_INT32):
        errs.append(invalid(f"{path}.activeDeadlineSeconds", ads, names.inclusive_range_error(1, MAX_INT32)))
    for key in ("hostname", "subdomain"):
        value = as_str(s.get(key))
        if value:
            errs.extend(validate_dns1123_label(value, f"{path}.{key}"))
    errs.extend(validate_tolerations(s.get("tolerations"), f"{path}.tolerations"))
    for i, raw in enumerate(as_list(s.get("hostAliases"))):
        ha = as_dict(raw)
        ip = as_str(ha.get("ip"))
        errs.extend(invalid(f"{path}.hostAliases[{i}].ip", ip, m) for m in names.is_valid_ip(ip))
        for j, hn in enumerate(as_list(ha.get("hostnames"))):
            errs.extend(validate_dns1123_subdomain(as_str(hn), f"{path}.hostAliases[{i}].hostnames[{j}]"))
    pcn = as_str(s.get("priorityClassName"))
    if pcn:
        errs.extend(invalid(f"{path}.priorityClassName", pcn, m) for m in names.name_is_dns_subdomain(pcn))
    rcn = s.get("runtimeClassName")
    if rcn is not None:
        errs.extend(invalid(f"{path}.runtimeClassName", as_str(rcn), m) for m in names.name_is_dns_subdomain(as_str(rcn)))
    pp = s.get("preemptionPolicy")
    if pp is not None and pp not in PREEMPTION_POLICIES:
        errs.append(required(f"{path}.preemptionPolicy", "") if pp == "" else not_supported(f"{path}.preemptionPolicy", pp, PREEMPTION_POLICIES))
    if s.get("overhead") is not None:
        errs.extend(validate_resource_requirements({"limits": s.get("overhead")}, f"{path}.overhead", claim_names))
    if isinstance(s.get("os"), dict):
        os_name = as_str(s["os"].get("name"))
        if not os_name:
            errs.append(required(f"{path}.os.name", "cannot be empty"))
        elif os_name not in VALID_OS:
            errs.append(not_supported(f"{path}.os", os_name, VALID_OS))
    return errs


def validate_pod_specific_annotations(annotations: Any, spec: Any, path: str) -> list[FieldError]:
    ann = as_dict(annotations)
    errs: list[FieldError] = []
    if "kubernetes.io/config.mirror" in ann and not as_str(as_dict(spec).get("nodeName")):
        errs.append(invalid(f"{path}[kubernetes.io/config.mirror]", as_str(ann["kubernetes.io/config.mirror"]), "must set spec.nodeName if mirror pod annotation is set"))
    cost = ann.get("controller.kubernetes.io/pod-deletion-cost")
    if cost is not None:
        ok = False
        text = as_str(cost)
        try:
            ok = text == str(int(text, 10)) and -(2**31) <= int(text) <= MAX_INT32
        except ValueError:
            ok = False
        if not ok:
            errs.append(invalid(f"{path}[controller.kubernetes.io/pod-deletion-cost]", text, "must be a 32bit integer"))
    return errs


def validate_pod_template_spec(template: Any, path: str) -> list[FieldError]:
    """A PodTemplateSpec embedded in a workload (not a Pod: images may carry whitespace)."""
    t = as_dict(template)
    meta = as_dict(t.get("metadata"))
    errs = validate_labels(meta.get("labels"), f"{path}.labels")
    errs.extend(validate_annotations(meta.get("annotations"), f"{path}.annotations"))
    errs.extend(validate_pod_specific_annotations(meta.get("annotations"), t.get("spec"), f"{path}.annotations"))
    errs.extend(validate_pod_spec(t.get("spec"), f"{path}.spec", resource_is_pod=False))
    if as_list(as_dict(t.get("spec")).get("ephemeralContainers")):
        errs.append(forbidden(f"{path}.spec.ephemeralContainers", "ephemeral containers not allowed in pod template"))
    return errs


def image_whitespace_errors(containers: Any, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, raw in enumerate(as_list(containers)):
        image = as_str(as_dict(raw).get("image"))
        if image.strip() != image:
            errs.append(invalid(f"{path}[{i}].image", image, "must not have leading or trailing whitespace"))
    return errs
