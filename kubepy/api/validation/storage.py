"""Validation of storage.k8s.io/v1 kinds (``pkg/apis/storage/validation``).

StorageClass: a qualified provisioner name, a Delete/Retain reclaim policy and a binding
mode; provisioner, parameters, reclaim policy and binding mode are fixed after creation.
CSIDriver: a DNS-subdomain name of at most 63 characters and supported lifecycle modes
and fsGroup policy. CSINode: named, unique drivers. VolumeAttachment: attacher, node and
exactly one source; the spec never changes. CSIStorageCapacity: a storage class name
and non-negative capacities.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubepy.api.field_errors import FieldError, duplicate, forbidden, invalid, not_supported, required, too_long
from kubepy.api.validation import names
from kubepy.api.validation.meta import (
    as_dict,
    as_list,
    as_str,
    validate_immutable,
    validate_label_selector,
    validate_object_meta,
    validate_object_meta_update,
)
from kubepy.api.validation.quantities import parse_value

RECLAIM_POLICIES = ("Delete", "Retain")
BINDING_MODES = ("Immediate", "WaitForFirstConsumer")
MAX_PARAMETERS_LEN = 256 * 1024
MAX_PROVISIONER_PARAMETERS = 512
LIFECYCLE_MODES = ("Ephemeral", "Persistent")
FS_GROUP_POLICIES = ("File", "None", "ReadWriteOnceWithFSType")
CSI_DRIVER_NAME_MAX = 63


def _meta_create(obj: Mapping[str, Any], namespaced: bool = False) -> list[FieldError]:
    return validate_object_meta(obj.get("metadata"), namespaced=namespaced, name_fn=names.name_is_dns_subdomain,
                                core_group=False)


def _meta_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    return validate_object_meta_update(new.get("metadata"), old.get("metadata"), core_group=False)


# -- StorageClass -------------------------------------------------------------------------------
def _storage_class(sc: Mapping[str, Any]) -> list[FieldError]:
    errs: list[FieldError] = []
    provisioner = as_str(sc.get("provisioner"))
    if not provisioner:
        errs.append(required("provisioner"))
    else:
        errs.extend(invalid("provisioner", provisioner, m) for m in names.is_qualified_name(provisioner.lower()))
    params = as_dict(sc.get("parameters"))
    if len(params) > MAX_PROVISIONER_PARAMETERS:
        errs.append(too_long("parameters", "", MAX_PROVISIONER_PARAMETERS))
    total = 0
    for k, v in params.items():
        if not k:
            errs.append(invalid("parameters", k, "field can not be empty."))
        total += len(k) + len(as_str(v))
    if total > MAX_PARAMETERS_LEN:
        errs.append(too_long("parameters", "", MAX_PARAMETERS_LEN))
    policy = sc.get("reclaimPolicy")
    if policy is not None and policy not in RECLAIM_POLICIES:
        errs.append(not_supported("reclaimPolicy", policy, RECLAIM_POLICIES))
    mode = sc.get("volumeBindingMode")
    if mode is not None and mode not in BINDING_MODES:
        errs.append(not_supported("volumeBindingMode", mode, BINDING_MODES))
    return errs


def validate_storage_class(sc: Mapping[str, Any]) -> list[FieldError]:
    return _meta_create(sc) + _storage_class(sc)


def validate_storage_class_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    errs = _meta_update(new, old) + _storage_class(new)
    if as_dict(new.get("parameters")) != as_dict(old.get("parameters")):
        errs.append(forbidden("parameters", "updates to parameters are forbidden."))
    if new.get("provisioner") != old.get("provisioner"):
        errs.append(forbidden("provisioner", "updates to provisioner are forbidden."))
    if new.get("reclaimPolicy") != old.get("reclaimPolicy"):
        errs.append(forbidden("reclaimPolicy", "updates to reclaimPolicy are forbidden."))
    errs.extend(validate_immutable(new.get("volumeBindingMode"), old.get("volumeBindingMode"), "volumeBindingMode"))
    return errs


# -- CSIDriver ---------------------------------------------------------------------------------
def _no_name_rule(name: str, prefix: bool = False) -> list[str]:
    return []  # CSIDriver names are checked by _csi_driver_name


def _csi_driver_name(name: str, path: str) -> list[FieldError]:
    if not name:
        return [required(path, name)]
    errs: list[FieldError] = []
    if len(name) > CSI_DRIVER_NAME_MAX:
        errs.append(too_long(path, name, CSI_DRIVER_NAME_MAX))
    errs.extend(invalid(path, name, m) for m in names.is_dns1123_subdomain(name.lower()))
    return errs


def _csi_driver_spec(spec: Mapping[str, Any]) -> list[FieldError]:
    errs: list[FieldError] = []
    for key in ("attachRequired", "podInfoOnMount"):
        if spec.get(key) is None:  # both are defaulted, so missing means an explicit null
            errs.append(required(f"spec.{key}"))
    for i, mode in enumerate(as_list(spec.get("volumeLifecycleModes"))):
        if mode not in LIFECYCLE_MODES:
            errs.append(not_supported(f"spec.volumeLifecycleModes[{i}]", mode, LIFECYCLE_MODES))
    policy = spec.get("fsGroupPolicy")
    if policy is not None and policy not in FS_GROUP_POLICIES:
        errs.append(not_supported("spec.fsGroupPolicy", policy, FS_GROUP_POLICIES))
    for i, req in enumerate(as_list(spec.get("tokenRequests"))):
        seconds = as_dict(req).get("expirationSeconds")
        if isinstance(seconds, int) and seconds < 600:
            errs.append(invalid(f"spec.tokenRequests[{i}].expirationSeconds", seconds,
                                "may not specify a duration less than 10 minutes"))
    return errs


def validate_csi_driver(driver: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta(driver.get("metadata"), namespaced=False, name_fn=_no_name_rule,
                                core_group=False)
    errs.extend(_csi_driver_name(as_str(as_dict(driver.get("metadata")).get("name")), "metadata.name"))
    return errs + _csi_driver_spec(as_dict(driver.get("spec")))


def validate_csi_driver_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    errs = _meta_update(new, old) + _csi_driver_spec(as_dict(new.get("spec")))
    ns, os_ = as_dict(new.get("spec")), as_dict(old.get("spec"))
    for key in ("attachRequired", "fsGroupPolicy", "volumeLifecycleModes"):
        errs.extend(validate_immutable(ns.get(key), os_.get(key), f"spec.{key}"))
    return errs


# -- CSINode -------------------------------------------------------------------------------------
def _csi_node_spec(spec: Mapping[str, Any]) -> list[FieldError]:
    errs: list[FieldError] = []
    seen: set[str] = set()
    for i, raw in enumerate(as_list(spec.get("drivers"))):
        driver = as_dict(raw)
        path = f"spec.drivers[{i}]"
        name = as_str(driver.get("name"))
        errs.extend(_csi_driver_name(name, f"{path}.name"))
        if name in seen:
            errs.append(duplicate(f"{path}.name", name))
        seen.add(name)
        if not as_str(driver.get("nodeID")):
            errs.append(required(f"{path}.nodeID", "nodeID of the driver must be provided"))
        for j, key in enumerate(as_list(driver.get("topologyKeys"))):
            if not as_str(key):
                errs.append(required(f"{path}.topologyKeys[{j}]", str(key)))
        count = as_dict(driver.get("allocatable")).get("count")
        if isinstance(count, int) and count < 0:
            errs.append(invalid(f"{path}.allocatable.count", count, "must be greater than or equal to 0"))
    return errs


def validate_csi_node(node: Mapping[str, Any]) -> list[FieldError]:
    return _meta_create(node) + _csi_node_spec(as_dict(node.get("spec")))


def validate_csi_node_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    errs = _meta_update(new, old) + _csi_node_spec(as_dict(new.get("spec")))
    old_drivers = {as_str(as_dict(d).get("name")): as_dict(d) for d in as_list(as_dict(old.get("spec")).get("drivers"))}
    for i, raw in enumerate(as_list(as_dict(new.get("spec")).get("drivers"))):
        d = as_dict(raw)
        prev = old_drivers.get(as_str(d.get("name")))
        if prev is None:
            continue
        for key in ("nodeID", "topologyKeys", "allocatable"):
            errs.extend(validate_immutable(d.get(key), prev.get(key), f"spec.drivers[{i}].{key}"))
    return errs


# -- VolumeAttachment ------------------------------------------------------------------------------
def _volume_attachment_spec(spec: Mapping[str, Any]) -> list[FieldError]:
    errs: list[FieldError] = []
    attacher = as_str(spec.get("attacher"))
    if not attacher:
        errs.append(required("spec.attacher"))
    else:
        errs.extend(_csi_driver_name(attacher, "spec.attacher"))
    node = as_str(spec.get("nodeName"))
    if not node:
        errs.append(required("spec.nodeName"))
    else:
        errs.extend(invalid("spec.nodeName", node, m) for m in names.is_dns1123_subdomain(node))
    source = as_dict(spec.get("source"))
    count = sum(1 for key in ("persistentVolumeName", "inlineVolumeSpec") if source.get(key))
    if count != 1:
        errs.append(required("spec.source", "must specify exactly one of inlineVolumeSpec and persistentVolumeName"))
    return errs


def validate_volume_attachment(va: Mapping[str, Any]) -> list[FieldError]:
    return _meta_create(va) + _volume_attachment_spec(as_dict(va.get("spec")))


def validate_volume_attachment_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    errs = _meta_update(new, old)
    if as_dict(new.get("spec")) != as_dict(old.get("spec")):
        errs.append(invalid("spec", new.get("spec"), "field is immutable"))
    return errs


def validate_volume_attachment_status_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    errs = _meta_update(new, old)
    status = as_dict(new.get("status"))
    total = sum(len(k) + len(as_str(v)) for k, v in as_dict(status.get("attachmentMetadata")).items())
    if total > MAX_PARAMETERS_LEN:
        errs.append(too_long("status.attachmentMetadata", "", MAX_PARAMETERS_LEN))
    return errs


# -- CSIStorageCapacity ----------------------------------------------------------------------------
def _capacity(cap: Mapping[str, Any]) -> list[FieldError]:
    errs: list[FieldError] = []
    sc = as_str(cap.get("storageClassName"))
    if not sc:
        errs.append(required("storageClassName"))
    else:
        errs.extend(invalid("storageClassName", sc, m) for m in names.is_dns1123_subdomain(sc))
    errs.extend(validate_label_selector(cap.get("nodeTopology"), "nodeTopology"))
    for key in ("capacity", "maximumVolumeSize"):
        raw = cap.get(key)
        if raw is None:
            continue
        q = parse_value(raw)
        if q is None or q.value < 0:
            errs.append(invalid(key, raw, "must be greater than or equal to 0"))
    return errs


def validate_csi_storage_capacity(cap: Mapping[str, Any]) -> list[FieldError]:
    return _meta_create(cap, namespaced=True) + _capacity(cap)


def validate_csi_storage_capacity_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    errs = _meta_update(new, old) + _capacity(new)
    errs.extend(validate_immutable(new.get("storageClassName"), old.get("storageClassName"), "storageClassName"))
    errs.extend(validate_immutable(new.get("nodeTopology"), old.get("nodeTopology"), "nodeTopology"))
    return errs
