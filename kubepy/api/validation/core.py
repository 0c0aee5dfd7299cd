"""Validation of the core (``""``) group kinds: create, update and status-update rules.

Each kind has ``validate_<kind>(obj)`` for create and ``validate_<kind>_update(new, old)``
(which also re-runs the create rules where upstream does), mirroring
``pkg/apis/core/validation``. Objects are defaulted JSON dicts. The table in
``kubepy.api.validation`` wires these to (group, kind).

Server-side steps that are *not* validation and must happen before it (in the registry
strategy): Service clusterIP/clusterIPs normalisation and IP/nodePort allocation, merging
Secret ``stringData`` into ``data`` (we also accept un-merged stringData here), and
Pod ``serviceAccountName`` defaulting by admission.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

import orjson

from kubepy.api.field_errors import (
    FieldError,
    duplicate,
    forbidden,
    invalid,
    not_supported,
    required,
    too_long,
)
from kubepy.api.validation import names
from kubepy.api.validation.meta import (
    FIELD_IMMUTABLE,
    as_dict,
    as_int,
    as_list,
    as_str,
    validate_dns1123_label,
    validate_dns1123_subdomain,
    validate_immutable,
    validate_label_name,
    validate_label_selector,
    validate_labels,
    validate_nonnegative,
    validate_object_meta,
    validate_object_meta_update,
    validate_qualified_name,
)
from kubepy.api.validation.pods import (
    SUPPORTED_PORT_PROTOCOLS,
    TAINT_EFFECTS,
    image_whitespace_errors,
    is_overcommit_allowed,
    present,
    validate_container_resource_name,
    validate_node_selector,
    validate_pod_spec,
    validate_pod_specific_annotations,
    validate_pod_template_spec,
    validate_quantity_value,
    validate_resource_name,
    validate_tolerations,
)
from kubepy.api.validation.quantities import canonical, parse_value

MAX_SECRET_SIZE = 1024 * 1024
NODE_PORT_RANGE = (30000, 32767)

_UPDATABLE_POD_SPEC_FIELDS = ",".join(
    (
        "`spec.containers[*].image`",
        "`spec.initContainers[*].image`",
        "`spec.activeDeadlineSeconds`",
        "`spec.tolerations` (only additions to existing tolerations)",
        "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
    )
)


def _meta(obj: Mapping[str, Any]) -> Any:
    return obj.get("metadata")


def spec_diff(old: Mapping[str, Any], new: Mapping[str, Any], type_name: str) -> str:
    """A short cmp.Diff-like listing of the top-level fields that differ."""
    lines = [f"  {type_name}{{"]
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            if key in old:
                lines.append(f"- \t{key}: {orjson.dumps(old[key], option=orjson.OPT_SORT_KEYS).decode()},")
            if key in new:
                lines.append(f"+ \t{key}: {orjson.dumps(new[key], option=orjson.OPT_SORT_KEYS).decode()},")
    lines.append("  }")
    return "\n".join(lines) + "\n"


# --- Pod ---------------------------------------------------------------------------------


def _validate_pod_metadata_and_spec(pod: Mapping[str, Any]) -> list[FieldError]:
    meta = as_dict(_meta(pod))
    spec = as_dict(pod.get("spec"))
    errs = validate_object_meta(meta, namespaced=True, name_fn=names.name_is_dns_subdomain)
    errs.extend(validate_pod_specific_annotations(meta.get("annotations"), spec, "metadata.annotations"))
    errs.extend(validate_pod_spec(spec, "spec", resource_is_pod=True))
    if not as_str(spec.get("serviceAccountName")):
        for vi, vol in enumerate(as_list(spec.get("volumes"))):
            projected = as_dict(vol).get("projected")
            if isinstance(projected, dict):
                for si, src in enumerate(as_list(projected.get("sources"))):
                    if present(as_dict(src), "serviceAccountToken"):
                        errs.append(
                            forbidden(
                                f"spec.volumes[{vi}].projected.sources[{si}].serviceAccountToken",
                                "must not be specified when serviceAccountName is not set",
                            )
                        )
    errs.extend(image_whitespace_errors(spec.get("containers"), "spec.containers"))
    errs.extend(image_whitespace_errors(spec.get("initContainers"), "spec.initContainers"))
    return errs


def validate_pod(pod: Mapping[str, Any]) -> list[FieldError]:
    errs = _validate_pod_metadata_and_spec(pod)
    spec = as_dict(pod.get("spec"))
    if as_list(spec.get("ephemeralContainers")):
        errs.append(forbidden("spec.ephemeralContainers", "cannot be set on create"))
    if as_str(spec.get("nodeName")) and as_list(spec.get("schedulingGates")):
        errs.append(forbidden("spec.nodeName", "cannot be set until all schedulingGates have been cleared"))
    return errs


def _container_updates(new: list[Any], old: list[Any], path: str) -> tuple[list[FieldError], bool]:
    if len(new) != len(old):
        return [forbidden(path, "pod updates may not add or remove containers")], True
    errs: list[FieldError] = []
    for i, raw in enumerate(new):
        image = as_str(as_dict(raw).get("image"))
        if not image:
            errs.append(required(f"{path}[{i}].image", ""))
        if image.strip() != image:
            errs.append(invalid(f"{path}[{i}].image", image, "must not have leading or trailing whitespace"))
    return errs, False


def validate_pod_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta_update(_meta(new), _meta(old))
    errs.extend(_validate_pod_metadata_and_spec(new))
    nspec, ospec = as_dict(new.get("spec")), as_dict(old.get("spec"))
    nann, oann = as_dict(as_dict(_meta(new)).get("annotations")), as_dict(as_dict(_meta(old)).get("annotations"))
    if nann.get("kubernetes.io/config.mirror") != oann.get("kubernetes.io/config.mirror"):
        verb = "add" if "kubernetes.io/config.mirror" not in oann else "remove or update"
        errs.append(forbidden("metadata.annotations[kubernetes.io/config.mirror]", f"may not {verb} mirror pod annotation"))
    for key in ("containers", "initContainers"):
        cerrs, stop = _container_updates(as_list(nspec.get(key)), as_list(ospec.get(key)), f"spec.{key}")
        errs.extend(cerrs)
        if stop:
            return errs
    nads, oads = nspec.get("activeDeadlineSeconds"), ospec.get("activeDeadlineSeconds")
    if nads is not None:
        if as_int(nads) < 0 or as_int(nads) > 2**31 - 1:
            errs.append(invalid("spec.activeDeadlineSeconds", nads, names.inclusive_range_error(0, 2**31 - 1)))
            return errs
        if oads is not None and as_int(oads) < as_int(nads):
            errs.append(invalid("spec.activeDeadlineSeconds", nads, "must be less than or equal to previous value"))
            return errs
    elif oads is not None:
        errs.append(invalid("spec.activeDeadlineSeconds", None, "must not update from a positive integer to nil value"))
    # tolerations: only additions (tolerationSeconds may change)
    new_tols = [as_dict(t) for t in as_list(nspec.get("tolerations"))]
    for old_tol in as_list(ospec.get("tolerations")):
        base = {k: v for k, v in as_dict(old_tol).items() if k != "tolerationSeconds"}
        if not any({k: v for k, v in t.items() if k != "tolerationSeconds"} == base for t in new_tols):
            errs.append(forbidden("spec.tolerations", "existing toleration can not be modified except its tolerationSeconds"))
            break
    else:
        errs.extend(validate_tolerations(nspec.get("tolerations"), "spec.tolerations"))
    old_gates = {as_str(as_dict(g).get("name")) for g in as_list(ospec.get("schedulingGates"))}
    for i, g in enumerate(as_list(nspec.get("schedulingGates"))):
        gate = as_str(as_dict(g).get("name"))
        if gate not in old_gates:
            errs.append(forbidden(f"spec.schedulingGates[{i}].name", f"only deletion is allowed, but found new scheduling gate '{gate}'"))
    if nspec == ospec:
        return errs
    munged = dict(nspec)
    for key in ("containers", "initContainers"):
        olds = as_list(ospec.get(key))
        if key in munged:
            munged[key] = [
                {**as_dict(c), "image": as_dict(olds[i]).get("image")} if "image" in as_dict(olds[i]) else
                {k: v for k, v in as_dict(c).items() if k != "image"}
                for i, c in enumerate(as_list(munged[key]))
            ]
    for key in ("activeDeadlineSeconds", "schedulingGates", "tolerations"):
        munged.pop(key, None)
        if key in ospec:
            munged[key] = ospec[key]
    otg = ospec.get("terminationGracePeriodSeconds")
    if isinstance(otg, int) and otg < 0 and munged.get("terminationGracePeriodSeconds") == 1:
        munged["terminationGracePeriodSeconds"] = otg
    if as_list(ospec.get("schedulingGates")):
        # gated pods may gain nodeSelector entries and node affinity
        new_ns, old_ns = as_dict(munged.get("nodeSelector")), as_dict(ospec.get("nodeSelector"))
        if new_ns != old_ns:
            if any(new_ns.get(k) != v for k, v in old_ns.items()):
                errs.append(invalid("spec.nodeSelector", new_ns, "only additions to spec.nodeSelector are allowed (no mutations or deletions)"))
            munged.pop("nodeSelector", None)
            if "nodeSelector" in ospec:
                munged["nodeSelector"] = ospec["nodeSelector"]
    if munged != ospec:
        errs.append(
            forbidden("spec", f"pod updates may not change fields other than {_UPDATABLE_POD_SPEC_FIELDS}\n{spec_diff(ospec, munged, 'core.PodSpec')}")
        )
    return errs


def validate_pod_status_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta_update(_meta(new), _meta(old))
    status, ostatus = as_dict(new.get("status")), as_dict(old.get("status"))
    for i, cond in enumerate(as_list(status.get("conditions"))):
        ctype = as_str(as_dict(cond).get("type"))
        if ctype not in ("PodScheduled", "Ready", "Initialized"):
            errs.extend(validate_qualified_name(ctype, f"metadata.conditions[{i}].Type"))
    if as_str(as_dict(new.get("spec")).get("nodeName")) != as_str(as_dict(old.get("spec")).get("nodeName")):
        errs.append(forbidden("status.nodeName", "may not be changed directly"))
    nominated = as_str(status.get("nominatedNodeName"))
    if nominated and nominated != as_str(ostatus.get("nominatedNodeName")):
        errs.extend(invalid("status.nominatedNodeName", nominated, m) for m in names.name_is_dns_subdomain(nominated))
    errs.extend(validate_immutable(as_str(status.get("qosClass")), as_str(ostatus.get("qosClass")), "status.qosClass"))
    for i, ip in enumerate(as_list(status.get("podIPs"))):
        value = as_str(as_dict(ip).get("ip"))
        errs.extend(invalid(f"status.podIPs[{i}]", value, m) for m in names.is_valid_ip(value))
    return errs


# --- PodTemplate, ReplicationController -----------------------------------------------------


def validate_pod_template(obj: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta(_meta(obj), namespaced=True, name_fn=names.name_is_dns_subdomain)
    errs.extend(validate_pod_template_spec(obj.get("template"), "template"))
    return errs


def validate_pod_template_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta_update(_meta(new), _meta(old))
    errs.extend(validate_pod_template_spec(new.get("template"), "template"))
    return errs


def _validate_rc_spec(spec: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_nonnegative(spec.get("minReadySeconds"), "spec.minReadySeconds")
    selector = as_dict(spec.get("selector"))
    if not selector:
        errs.append(required("spec.selector", ""))
    errs.extend(validate_nonnegative(spec.get("replicas"), "spec.replicas"))
    template = spec.get("template")
    if not isinstance(template, dict):
        errs.append(required("spec.template", ""))
        return errs
    tlabels = as_dict(as_dict(template.get("metadata")).get("labels"))
    if selector and any(tlabels.get(k) != v for k, v in selector.items()):
        errs.append(invalid("spec.template.metadata.labels", tlabels, "`selector` does not match template `labels`"))
    errs.extend(validate_pod_template_spec(template, "spec.template"))
    tspec = as_dict(template.get("spec"))
    if tspec.get("restartPolicy") != "Always":
        errs.append(not_supported("spec.template.spec.restartPolicy", as_str(tspec.get("restartPolicy")), ("Always",)))
    if tspec.get("activeDeadlineSeconds") is not None:
        errs.append(forbidden("spec.template.spec.activeDeadlineSeconds", "activeDeadlineSeconds in ReplicationController is not Supported"))
    return errs


def validate_replication_controller(obj: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta(_meta(obj), namespaced=True, name_fn=names.name_is_dns_subdomain)
    errs.extend(_validate_rc_spec(as_dict(obj.get("spec"))))
    return errs


def validate_replication_controller_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta_update(_meta(new), _meta(old))
    errs.extend(_validate_rc_spec(as_dict(new.get("spec"))))
    return errs


def validate_replica_counts_status(status: Mapping[str, Any], counters: tuple[str, ...], path: str = "status") -> list[FieldError]:
    """Shared status rules: counters non-negative, ready/available bounded by replicas."""
    errs: list[FieldError] = []
    for key in counters:
        errs.extend(validate_nonnegative(status.get(key), f"{path}.{key}"))
    replicas = as_int(status.get("replicas"))
    for key in ("fullyLabeledReplicas", "readyReplicas", "availableReplicas", "updatedReplicas", "currentReplicas"):
        if key in counters and key != "replicas" and as_int(status.get(key)) > replicas:
            errs.append(invalid(f"{path}.{key}", as_int(status.get(key)), "cannot be greater than status.replicas"))
    if "readyReplicas" in counters and as_int(status.get("availableReplicas")) > as_int(status.get("readyReplicas")):
        errs.append(invalid(f"{path}.availableReplicas", as_int(status.get("availableReplicas")), "cannot be greater than readyReplicas"))
    return errs


def validate_replication_controller_status_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta_update(_meta(new), _meta(old))
    errs.extend(
        validate_replica_counts_status(
            as_dict(new.get("status")),
            ("replicas", "fullyLabeledReplicas", "readyReplicas", "availableReplicas", "observedGeneration"),
        )
    )
    return errs


# --- Service -----------------------------------------------------------------------------

SERVICE_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
SESSION_AFFINITIES = ("ClientIP", "None")
TRAFFIC_POLICIES = ("Cluster", "Local")
IP_FAMILIES = ("IPv4", "IPv6")
IP_FAMILY_POLICIES = ("PreferDualStack", "RequireDualStack", "SingleStack")


def _is_headless(spec: Mapping[str, Any]) -> bool:
    ips = as_list(spec.get("clusterIPs"))
    return len(ips) == 1 and ips[0] == "None"


def _validate_non_special_ip(value: str, path: str) -> list[FieldError]:
    ip = names.parse_ip(value)
    if ip is None:
        return [invalid(path, value, "must be a valid IP address")]
    errs: list[FieldError] = []
    if ip.is_unspecified:
        errs.append(invalid(path, value, f"may not be unspecified ({value})"))
    if ip.is_loopback:
        errs.append(invalid(path, value, "may not be in the loopback range (127.0.0.0/8, ::1/128)"))
    if ip.is_link_local and not ip.is_multicast:
        errs.append(invalid(path, value, "may not be in the link-local range (169.254.0.0/16, fe80::/10)"))
    if ip.is_multicast and (
        (ip.version == 4 and str(ip).startswith("224.0.0.")) or (ip.version == 6 and (int(ip) >> 112) & 0xFF0F == 0xFF02)
    ):
        errs.append(invalid(path, value, "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"))
    return errs


def _validate_cluster_ips(spec: Mapping[str, Any]) -> list[FieldError]:
    if spec.get("type") == "ExternalName":
        return []
    errs: list[FieldError] = []
    cluster_ip = as_str(spec.get("clusterIP"))
    cluster_ips = as_list(spec.get("clusterIPs"))
    if cluster_ip:
        if not cluster_ips:
            errs.append(required("spec.clusterIPs", ""))
        elif cluster_ips[0] != cluster_ip:
            errs.append(invalid("spec.clusterIPs", cluster_ips, "first value must match `clusterIP`"))
    elif cluster_ips:
        errs.append(invalid("spec.clusterIPs", cluster_ips, "must be empty when `clusterIP` is not specified"))
    seen: set[str] = set()
    for i, fam in enumerate(as_list(spec.get("ipFamilies"))):
        if fam not in IP_FAMILIES:
            errs.append(not_supported(f"spec.ipFamilies[{i}]", fam, IP_FAMILIES))
        if fam in seen:
            errs.append(duplicate(f"spec.ipFamilies[{i}]", fam))
        seen.add(fam)
    policy = spec.get("ipFamilyPolicy")
    if policy is not None and policy not in IP_FAMILY_POLICIES:
        errs.append(not_supported("spec.ipFamilyPolicy", policy, IP_FAMILY_POLICIES))
    bad = False
    for i, ip in enumerate(cluster_ips):
        if i == 0 and ip == "None":
            if len(cluster_ips) > 1:
                bad = True
                errs.append(invalid("spec.clusterIPs", cluster_ips, "'None' must be the first and only value"))
            continue
        msgs = names.is_valid_ip(as_str(ip))
        bad = bad or bool(msgs)
        errs.extend(invalid(f"spec.clusterIPs[{i}]", as_str(ip), m) for m in msgs)
    if len(cluster_ips) > 2:
        errs.append(invalid("spec.clusterIPs", cluster_ips, "may only hold up to 2 values"))
    if bad:
        return errs
    parsed = [names.parse_ip(as_str(ip)) for ip in cluster_ips]
    if len(parsed) > 1 and len({p.version for p in parsed if p is not None}) != len(parsed):
        errs.append(invalid("spec.clusterIPs", cluster_ips, "may specify no more than one IP for each IP family"))
    families = as_list(spec.get("ipFamilies"))
    if not _is_headless(spec):
        for i, ip in enumerate(parsed):
            if i >= len(families) or ip is None:
                break
            if families[i] == "IPv4" and ip.version == 6:
                errs.append(invalid(f"spec.clusterIPs[{i}]", cluster_ips[i], f"expected an IPv4 value as indicated by `ipFamilies[{i}]`"))
            if families[i] == "IPv6" and ip.version != 6:
                errs.append(invalid(f"spec.clusterIPs[{i}]", cluster_ips[i], f"expected an IPv6 value as indicated by `ipFamilies[{i}]`"))
    return errs


def _validate_service_port(sp: Mapping[str, Any], require_name: bool, seen: set[str], path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    name = as_str(sp.get("name"))
    if require_name and not name:
        errs.append(required(f"{path}.name", ""))
    elif name:
        errs.extend(validate_dns1123_label(name, f"{path}.name"))
        if name in seen:
            errs.append(duplicate(f"{path}.name", name))
        else:
            seen.add(name)
    port = as_int(sp.get("port"))
    errs.extend(invalid(f"{path}.port", port, m) for m in names.is_valid_port_num(port))
    proto = as_str(sp.get("protocol"))
    if not proto:
        errs.append(required(f"{path}.protocol", ""))
    elif proto not in SUPPORTED_PORT_PROTOCOLS:
        errs.append(not_supported(f"{path}.protocol", proto, SUPPORTED_PORT_PROTOCOLS))
    target = sp.get("targetPort", 0)
    if isinstance(target, str):
        errs.extend(invalid(f"{path}.targetPort", target, m) for m in names.is_valid_port_name(target))
    else:
        t = as_int(target)
        errs.extend(invalid(f"{path}.targetPort", t, m) for m in names.is_valid_port_num(t))
    app_protocol = sp.get("appProtocol")
    if app_protocol is not None:
        errs.extend(validate_qualified_name(as_str(app_protocol), f"{path}.appProtocol"))
    return errs


def _externally_accessible(spec: Mapping[str, Any]) -> bool:
    t = spec.get("type")
    return t in ("LoadBalancer", "NodePort") or (t == "ClusterIP" and bool(as_list(spec.get("externalIPs"))))


def _needs_health_check(spec: Mapping[str, Any]) -> bool:
    return spec.get("type") == "LoadBalancer" and spec.get("externalTrafficPolicy") == "Local"


def validate_service(svc: Mapping[str, Any]) -> list[FieldError]:
    meta = as_dict(_meta(svc))
    spec = as_dict(svc.get("spec"))
    errs = validate_object_meta(meta, namespaced=True, name_fn=names.name_is_dns1035_label)
    ann = as_dict(meta.get("annotations"))
    hints, mode = ann.get("service.kubernetes.io/topology-aware-hints"), ann.get("service.kubernetes.io/topology-mode")
    if hints is not None and mode is not None and hints != mode:
        errs.append(
            invalid(
                "metadata.annotations[service.kubernetes.io/topology-mode]",
                mode,
                "must match annotations[service.kubernetes.io/topology-aware-hints] when both are specified",
            )
        )
    stype = as_str(spec.get("type"))
    ports = [as_dict(p) for p in as_list(spec.get("ports"))]
    headless = _is_headless(spec)
    if not ports and not headless and stype != "ExternalName":
        errs.append(required("spec.ports", ""))
    if stype in ("LoadBalancer", "NodePort") and headless:
        errs.append(invalid("spec.clusterIPs[0]", "None", f"may not be set to 'None' for {stype} services"))
    elif stype == "ExternalName":
        if as_list(spec.get("clusterIPs")):
            errs.append(forbidden("spec.clusterIPs", "may not be set for ExternalName services"))
        if as_list(spec.get("ipFamilies")):
            errs.append(forbidden("spec.ipFamilies", "may not be set for ExternalName services"))
        if spec.get("ipFamilyPolicy") is not None:
            errs.append(forbidden("spec.ipFamilyPolicy", "may not be set for ExternalName services"))
        cname = as_str(spec.get("externalName")).removesuffix(".")
        if cname:
            errs.extend(validate_dns1123_subdomain(cname, "spec.externalName"))
        else:
            errs.append(required("spec.externalName", ""))
    seen_names: set[str] = set()
    for i, port in enumerate(ports):
        errs.extend(_validate_service_port(port, len(ports) > 1, seen_names, f"spec.ports[{i}]"))
    if spec.get("selector") is not None:
        errs.extend(validate_labels(spec.get("selector"), "spec.selector"))
    affinity = as_str(spec.get("sessionAffinity"))
    if not affinity:
        errs.append(required("spec.sessionAffinity", ""))
    elif affinity not in SESSION_AFFINITIES:
        errs.append(not_supported("spec.sessionAffinity", affinity, SESSION_AFFINITIES))
    config = spec.get("sessionAffinityConfig")
    if affinity == "ClientIP":
        timeout = as_dict(as_dict(config).get("clientIP")).get("timeoutSeconds")
        if not isinstance(config, dict):
            errs.append(required("spec.sessionAffinityConfig", "when session affinity type is ClientIP"))
        elif not isinstance(config.get("clientIP"), dict):
            errs.append(required("spec.sessionAffinityConfig.clientIP", "when session affinity type is ClientIP"))
        elif timeout is None:
            errs.append(required("spec.sessionAffinityConfig.clientIP.timeoutSeconds", "when session affinity type is ClientIP"))
        elif as_int(timeout) <= 0 or as_int(timeout) > 86400:
            errs.append(invalid("spec.sessionAffinityConfig.clientIP.timeoutSeconds", timeout, "must be greater than 0 and less than 86400"))
    elif affinity == "None" and config is not None:
        errs.append(forbidden("spec.sessionAffinityConfig", "must not be set when session affinity is None"))
    errs.extend(_validate_cluster_ips(spec))
    for i, ip in enumerate(as_list(spec.get("externalIPs"))):
        value = as_str(ip)
        msgs = names.is_valid_ip(value)
        if msgs:
            errs.extend(invalid(f"spec.externalIPs[{i}]", value, m) for m in msgs)
        else:
            errs.extend(_validate_non_special_ip(value, f"spec.externalIPs[{i}]"))
    if not stype:
        errs.append(required("spec.type", ""))
    elif stype not in SERVICE_TYPES:
        errs.append(not_supported("spec.type", stype, SERVICE_TYPES))
    if stype == "ClusterIP":
        for i, port in enumerate(ports):
            if as_int(port.get("nodePort")) != 0:
                errs.append(forbidden(f"spec.ports[{i}].nodePort", "may not be used when `type` is 'ClusterIP'"))
    node_ports: set[tuple[str, int]] = set()
    for i, port in enumerate(ports):
        np_ = as_int(port.get("nodePort"))
        if np_ == 0:
            continue
        key = (as_str(port.get("protocol")), np_)
        if key in node_ports:
            errs.append(duplicate(f"spec.ports[{i}].nodePort", np_))
        node_ports.add(key)
    port_keys: set[tuple[str, int]] = set()
    for i, port in enumerate(ports):
        key = (as_str(port.get("protocol")), as_int(port.get("port")))
        if key in port_keys:
            errs.append(duplicate(f"spec.ports[{i}]", {"port": key[1], "protocol": key[0]}))
        port_keys.add(key)
    ranges = as_list(spec.get("loadBalancerSourceRanges"))
    if ranges:
        if stype != "LoadBalancer":
            errs.append(forbidden("spec.LoadBalancerSourceRanges", "may only be used when `type` is 'LoadBalancer'"))
        for i, r in enumerate(ranges):
            value = as_str(r).strip()
            errs.extend(invalid(f"spec.LoadBalancerSourceRanges[{i}]", value, m) for m in names.is_valid_cidr(value))
    if spec.get("allocateLoadBalancerNodePorts") is not None and stype != "LoadBalancer":
        errs.append(forbidden("spec.allocateLoadBalancerNodePorts", "may only be used when `type` is 'LoadBalancer'"))
    if stype == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts") is None:
        errs.append(required("allocateLoadBalancerNodePorts", ""))
    lbc = spec.get("loadBalancerClass")
    if lbc is not None:
        if stype == "LoadBalancer":
            errs.extend(validate_qualified_name(as_str(lbc), "spec.loadBalancerClass"))
        else:
            errs.append(forbidden("spec.loadBalancerClass", "may only be used when `type` is 'LoadBalancer'"))
    etp = as_str(spec.get("externalTrafficPolicy"))
    if not _externally_accessible(spec):
        if etp:
            errs.append(invalid("spec.externalTrafficPolicy", etp, "may only be set for externally-accessible services"))
    elif not etp:
        errs.append(required("spec.externalTrafficPolicy", ""))
    elif etp not in TRAFFIC_POLICIES:
        errs.append(not_supported("spec.externalTrafficPolicy", etp, TRAFFIC_POLICIES))
    hcnp = as_int(spec.get("healthCheckNodePort"))
    if not _needs_health_check(spec):
        if hcnp != 0:
            errs.append(invalid("spec.healthCheckNodePort", hcnp, "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"))
    elif hcnp == 0:
        errs.append(required("spec.healthCheckNodePort", ""))
    else:
        errs.extend(invalid("spec.healthCheckNodePort", hcnp, m) for m in names.is_valid_port_num(hcnp))
    itp = spec.get("internalTrafficPolicy")
    if itp is None:
        if stype in ("NodePort", "LoadBalancer", "ClusterIP"):
            errs.append(required("spec.internalTrafficPolicy", ""))
    elif itp not in TRAFFIC_POLICIES:
        errs.append(not_supported("spec.internalTrafficPolicy", itp, TRAFFIC_POLICIES))
    td = spec.get("trafficDistribution")
    if td is not None and td != "PreferClose":
        errs.append(not_supported("spec.trafficDistribution", td, ("PreferClose",)))
    return errs


def validate_service_node_port_range(svc: Mapping[str, Any], port_range: tuple[int, int] = NODE_PORT_RANGE) -> list[FieldError]:
    """The allocator's range check (upstream reports it from the registry, same wording)."""
    lo, hi = port_range
    errs: list[FieldError] = []
    for i, raw in enumerate(as_list(as_dict(svc.get("spec")).get("ports"))):
        np_ = as_int(as_dict(raw).get("nodePort"))
        if np_ and not lo <= np_ <= hi:
            errs.append(
                invalid(f"spec.ports[{i}].nodePort", np_, f"provided port is not in the valid range. The range of valid ports is {lo}-{hi}")
            )
    return errs


def validate_service_create(svc: Mapping[str, Any]) -> list[FieldError]:
    return validate_service(svc) + validate_service_node_port_range(svc)


def validate_service_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta_update(_meta(new), _meta(old))
    nspec, ospec = as_dict(new.get("spec")), as_dict(old.get("spec"))
    if nspec.get("type") != "ExternalName" and ospec.get("type") != "ExternalName":
        n_ips, o_ips = as_list(nspec.get("clusterIPs")), as_list(ospec.get("clusterIPs"))
        if not (_is_headless(nspec) and _is_headless(ospec)):
            if len(o_ips) == len(n_ips):
                for i, ip in enumerate(o_ips):
                    if ip != n_ips[i]:
                        errs.append(invalid(f"spec.clusterIPs[{i}]", n_ips, "may not change once set"))
            elif len(o_ips) > len(n_ips):
                if not n_ips:
                    errs.append(invalid("spec.clusterIPs[0]", n_ips, "primary clusterIP can not be unset"))
                elif o_ips and n_ips[0] != o_ips[0]:
                    errs.append(invalid("spec.clusterIPs[0]", n_ips, "may not change once set"))
                if len(n_ips) == 1 and nspec.get("ipFamilyPolicy") != "SingleStack":
                    errs.append(invalid("spec.ipFamilyPolicy", nspec.get("ipFamilyPolicy"), "must be set to 'SingleStack' when releasing the secondary clusterIP"))
            elif o_ips and n_ips[0] != o_ips[0]:
                errs.append(invalid("spec.clusterIPs[0]", n_ips, "may not change once set"))
        if _is_headless(nspec) == _is_headless(ospec) and not _is_headless(nspec):
            n_f, o_f = as_list(nspec.get("ipFamilies")), as_list(ospec.get("ipFamilies"))
            if len(n_f) == len(o_f) and n_f != o_f:
                errs.append(invalid("spec.ipFamilies[0]", n_f, "may not change once set"))
            elif len(n_f) < len(o_f) and n_f and n_f[0] != o_f[0]:
                errs.append(invalid("spec.ipFamilies[0]", n_ips, "may not change once set"))
    if nspec.get("type") == "LoadBalancer" and ospec.get("type") == "LoadBalancer":
        if nspec.get("loadBalancerClass") != ospec.get("loadBalancerClass"):
            errs.append(invalid("spec.loadBalancerClass", nspec.get("loadBalancerClass"), "may not change once set"))
    if _needs_health_check(nspec) and _needs_health_check(ospec) and nspec.get("healthCheckNodePort") != ospec.get("healthCheckNodePort"):
        errs.append(forbidden("spec.healthCheckNodePort", FIELD_IMMUTABLE))
    errs.extend(validate_service(new))
    errs.extend(validate_service_node_port_range(new))
    return errs


def validate_service_status_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta_update(_meta(new), _meta(old))
    ingress = as_list(as_dict(as_dict(new.get("status")).get("loadBalancer")).get("ingress"))
    if ingress and as_dict(new.get("spec")).get("type") != "LoadBalancer":
        errs.append(forbidden("status.loadBalancer.ingress", "may only be used when `spec.type` is 'LoadBalancer'"))
        return errs
    for i, raw in enumerate(ingress):
        ing = as_dict(raw)
        p = f"status.loadBalancer.ingress[{i}]"
        ip = as_str(ing.get("ip"))
        if ip:
            errs.extend(invalid(f"{p}.ip", ip, m) for m in names.is_valid_ip(ip))
        if ing.get("ipMode") is not None and not ip:
            errs.append(forbidden(f"{p}.ipMode", "may not be specified when `ip` is not set"))
        elif ing.get("ipMode") is not None and ing["ipMode"] not in ("Proxy", "VIP"):
            errs.append(not_supported(f"{p}.ipMode", ing["ipMode"], ("Proxy", "VIP")))
        hostname = as_str(ing.get("hostname"))
        if hostname:
            errs.extend(invalid(f"{p}.hostname", hostname, m) for m in names.is_dns1123_subdomain(hostname))
            if names.parse_ip(hostname) is not None:
                errs.append(invalid(f"{p}.hostname", hostname, "must be a DNS name, not an IP address"))
    return errs


# --- ConfigMap, Secret -------------------------------------------------------------------


def _b64_len(value: str) -> int:
    try:
        return len(base64.b64decode(value, validate=True))
    except (binascii.Error, ValueError):
        return len(value)


def validate_config_map(cm: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta(_meta(cm), namespaced=True, name_fn=names.name_is_dns_subdomain)
    data, binary = as_dict(cm.get("data")), as_dict(cm.get("binaryData"))
    total = 0
    for key, value in data.items():
        errs.extend(invalid(f"data[{key}]", key, m) for m in names.is_config_map_key(key))
        if key in binary:
            errs.append(invalid(f"data[{key}]", key, "duplicate of key present in binaryData"))
        total += len(as_str(value).encode())
    for key, value in binary.items():
        errs.extend(invalid(f"binaryData[{key}]", key, m) for m in names.is_config_map_key(key))
        total += _b64_len(as_str(value))
    if total > MAX_SECRET_SIZE:
        errs.append(too_long("", "", MAX_SECRET_SIZE))
    return errs


def _immutable_data_errors(new: Mapping[str, Any], old: Mapping[str, Any], keys: tuple[str, ...]) -> list[FieldError]:
    errs: list[FieldError] = []
    if old.get("immutable") is True:
        if new.get("immutable") is not True:
            errs.append(forbidden("immutable", "field is immutable when `immutable` is set"))
        for key in keys:
            if (new.get(key) or None) != (old.get(key) or None):
                errs.append(forbidden(key, "field is immutable when `immutable` is set"))
    return errs


def validate_config_map_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta_update(_meta(new), _meta(old))
    errs.extend(_immutable_data_errors(new, old, ("data", "binaryData")))
    errs.extend(validate_config_map(new))
    return errs


def _secret_data(secret: Mapping[str, Any]) -> dict[str, bytes | None]:
    """Keys with decoded values (None when not valid base64); stringData wins, as upstream merges it."""
    out: dict[str, bytes | None] = {}
    for key, value in as_dict(secret.get("data")).items():
        try:
            out[key] = base64.b64decode(as_str(value), validate=True)
        except (binascii.Error, ValueError):
            out[key] = None
    for key, value in as_dict(secret.get("stringData")).items():
        out[key] = as_str(value).encode()
    return out


def _json_error(raw: bytes) -> str | None:
    text = raw.decode("utf-8", "replace")
    if not text.strip():
        return "unexpected end of JSON input"
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        first = text.lstrip()[0]
        if first not in '{["-0123456789tfn':
            return f"invalid character '{first}' looking for beginning of value"
        return "unexpected end of JSON input"
    if not isinstance(value, dict):
        kind = {list: "array", str: "string", bool: "bool"}.get(type(value), "number")
        return f"json: cannot unmarshal {kind} into Go value of type map[string]interface {{}}"
    return None


def validate_secret(secret: Mapping[str, Any]) -> list[FieldError]:
    meta = as_dict(_meta(secret))
    errs = validate_object_meta(meta, namespaced=True, name_fn=names.name_is_dns_subdomain)
    data = _secret_data(secret)
    total = 0
    for key, value in data.items():
        errs.extend(invalid(f"data[{key}]", key, m) for m in names.is_config_map_key(key))
        total += len(value or b"")
    if total > MAX_SECRET_SIZE:
        errs.append(too_long("data", "", MAX_SECRET_SIZE))
    stype = as_str(secret.get("type"))
    if stype == "kubernetes.io/service-account-token":
        if not as_str(as_dict(meta.get("annotations")).get("kubernetes.io/service-account.name")):
            errs.append(required("metadata.annotations[kubernetes.io/service-account.name]", ""))
    elif stype in ("kubernetes.io/dockercfg", "kubernetes.io/dockerconfigjson"):
        key = ".dockercfg" if stype == "kubernetes.io/dockercfg" else ".dockerconfigjson"
        if key not in data:
            errs.append(required(f"data[{key}]", ""))
        else:
            message = _json_error(data[key] or b"")
            if message:
                errs.append(invalid(f"data[{key}]", "<secret contents redacted>", message))
    elif stype == "kubernetes.io/basic-auth":
        if "username" not in data and "password" not in data:
            errs.append(required("data[username]", ""))
            errs.append(required("data[password]", ""))
    elif stype == "kubernetes.io/ssh-auth":
        if not data.get("ssh-privatekey"):
            errs.append(required("data[ssh-privatekey]", ""))
    elif stype == "kubernetes.io/tls":
        if "tls.crt" not in data:
            errs.append(required("data[tls.crt]", ""))
        if "tls.key" not in data:
            errs.append(required("data[tls.key]", ""))
    return errs


def validate_secret_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta_update(_meta(new), _meta(old))
    errs.extend(validate_immutable(as_str(new.get("type")), as_str(old.get("type")), "type"))
    errs.extend(_immutable_data_errors(new, old, ("data",)))
    errs.extend(validate_secret(new))
    return errs


# --- Namespace, ServiceAccount, Node -------------------------------------------------------


def _namespace_finalizers(ns: Mapping[str, Any], indexed: bool) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, f in enumerate(as_list(as_dict(ns.get("spec")).get("finalizers"))):
        p = f"spec.finalizers[{i}]" if indexed else "spec.finalizers"
        name = as_str(f)
        errs.extend(validate_qualified_name(name, p))
        if "/" not in name and name not in ("kubernetes", "orphan", "foregroundDeletion"):
            errs.append(invalid(p, name, "name is neither a standard finalizer name nor is it fully qualified"))
    return errs


def validate_namespace(ns: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta(_meta(ns), namespaced=False, name_fn=names.name_is_dns_label)
    errs.extend(_namespace_finalizers(ns, indexed=False))
    return errs


def validate_namespace_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    return validate_object_meta_update(_meta(new), _meta(old))


def validate_namespace_status_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta_update(_meta(new), _meta(old))
    phase = as_str(as_dict(new.get("status")).get("phase"))
    if not as_dict(_meta(new)).get("deletionTimestamp"):
        if phase != "Active":
            errs.append(invalid("status.Phase", phase, "may only be 'Active' if `deletionTimestamp` is empty"))
    elif phase != "Terminating":
        errs.append(invalid("status.Phase", phase, "may only be 'Terminating' if `deletionTimestamp` is not empty"))
    return errs


def validate_namespace_finalize_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    return validate_object_meta_update(_meta(new), _meta(old)) + _namespace_finalizers(new, indexed=True)


def validate_service_account(sa: Mapping[str, Any]) -> list[FieldError]:
    return validate_object_meta(_meta(sa), namespaced=True, name_fn=names.name_is_dns_subdomain)


def validate_service_account_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    return validate_object_meta_update(_meta(new), _meta(old)) + validate_service_account(new)


def _validate_taints(taints: Any, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    unique: set[tuple[str, str]] = set()
    for i, raw in enumerate(as_list(taints)):
        t = as_dict(raw)
        p = f"{path}[{i}]"
        key, value, effect = as_str(t.get("key")), as_str(t.get("value")), as_str(t.get("effect"))
        errs.extend(validate_label_name(key, f"{p}.key"))
        msgs = names.is_valid_label_value(value)
        if msgs:
            errs.append(invalid(f"{p}.value", value, ";".join(msgs)))
        if not effect:
            errs.append(required(f"{p}.effect", ""))
        elif effect not in TAINT_EFFECTS:
            errs.append(not_supported(f"{p}.effect", effect, TAINT_EFFECTS))
        if (effect, key) in unique:
            err = duplicate(p, dict(t))
            errs.append(FieldError(err.reason, err.field, f"{err.body}: taints must be unique by key and effect pair"))
            continue
        unique.add((effect, key))
    return errs


def _validate_node_resources(node: Mapping[str, Any]) -> list[FieldError]:
    errs: list[FieldError] = []
    status = as_dict(node.get("status"))
    for section in ("capacity", "allocatable"):
        for k, v in as_dict(status.get(section)).items():
            errs.extend(validate_quantity_value(k, v, f"status.{section}.{k}")[1])
    return errs


def _validate_pod_cidrs(node: Mapping[str, Any]) -> list[FieldError]:
    cidrs = as_list(as_dict(node.get("spec")).get("podCIDRs"))
    errs: list[FieldError] = []
    for i, c in enumerate(cidrs):
        errs.extend(invalid(f"spec.podCIDRs[{i}]", as_str(c), m) for m in names.is_valid_cidr(as_str(c)))
    if len(cidrs) > 1 and not errs:
        versions = set()
        for c in cidrs:
            versions.add(4 if ":" not in as_str(c) else 6)
        if len(versions) != len(cidrs) or len(cidrs) > 2:
            errs.append(invalid("spec.podCIDRs", cidrs, "may specify no more than one CIDR for each IP family"))
        seen: set[str] = set()
        for i, c in enumerate(cidrs):
            if c in seen:
                errs.append(duplicate(f"spec.podCIDRs[{i}]", c))
            seen.add(as_str(c))
    return errs


def validate_node(node: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta(_meta(node), namespaced=False, name_fn=names.name_is_dns_subdomain)
    errs.extend(_validate_taints(as_dict(node.get("spec")).get("taints"), "metadata.taints"))
    errs.extend(_validate_node_resources(node))
    errs.extend(_validate_pod_cidrs(node))
    return errs


def validate_node_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta_update(_meta(new), _meta(old))
    errs.extend(_validate_node_resources(new))
    seen: list[Any] = []
    for i, addr in enumerate(as_list(as_dict(new.get("status")).get("addresses"))):
        if addr in seen:
            errs.append(duplicate(f"status.addresses[{i}]", addr))
        seen.append(addr)
    nspec, ospec = as_dict(new.get("spec")), as_dict(old.get("spec"))
    old_cidrs, new_cidrs = as_list(ospec.get("podCIDRs")), as_list(nspec.get("podCIDRs"))
    if old_cidrs:
        msg = 'node updates may not change podCIDR except from "" to valid'
        if len(old_cidrs) != len(new_cidrs):
            errs.append(forbidden("spec.podCIDRs", msg))
        else:
            errs.extend(forbidden("spec.podCIDRs", msg) for o, n in zip(old_cidrs, new_cidrs) if o != n)
    old_provider = as_str(ospec.get("providerID"))
    if old_provider and old_provider != as_str(nspec.get("providerID")):
        errs.append(forbidden("spec.providerID", 'node updates may not change providerID except from "" to valid'))
    errs.extend(_validate_taints(nspec.get("taints"), "metadata.taints"))
    if as_str(nspec.get("externalID")) != as_str(ospec.get("externalID")):
        errs.append(forbidden("spec.externalID", "may not be updated"))
    return errs


# --- Endpoints ------------------------------------------------------------------------------


def _validate_endpoint_address(addr: Mapping[str, Any], path: str) -> list[FieldError]:
    ip = as_str(addr.get("ip"))
    errs = [invalid(f"{path}.ip", ip, m) for m in names.is_valid_ip(ip)]
    hostname = as_str(addr.get("hostname"))
    if hostname:
        errs.extend(validate_dns1123_label(hostname, f"{path}.hostname"))
    node_name = addr.get("nodeName")
    if node_name is not None:
        errs.extend(invalid(f"{path}.nodeName", as_str(node_name), m) for m in names.name_is_dns_subdomain(as_str(node_name)))
    errs.extend(_validate_non_special_ip(ip, f"{path}.ip"))
    return errs


def validate_endpoints(ep: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta(_meta(ep), namespaced=True, name_fn=names.name_is_dns_subdomain)
    for i, raw in enumerate(as_list(ep.get("subsets"))):
        ss = as_dict(raw)
        p = f"subsets[{i}]"
        addresses, not_ready = as_list(ss.get("addresses")), as_list(ss.get("notReadyAddresses"))
        if not addresses and not not_ready:
            errs.append(required(p, "must specify `addresses` or `notReadyAddresses`"))
        for j, a in enumerate(addresses):
            errs.extend(_validate_endpoint_address(as_dict(a), f"{p}.addresses[{j}]"))
        for j, a in enumerate(not_ready):
            errs.extend(_validate_endpoint_address(as_dict(a), f"{p}.notReadyAddresses[{j}]"))
        ports = as_list(ss.get("ports"))
        for j, raw_port in enumerate(ports):
            port = as_dict(raw_port)
            pp = f"{p}.ports[{j}]"
            name = as_str(port.get("name"))
            if len(ports) > 1 and not name:
                errs.append(required(f"{pp}.name", ""))
            elif name:
                errs.extend(validate_dns1123_label(name, f"{pp}.name"))
            num = as_int(port.get("port"))
            errs.extend(invalid(f"{pp}.port", num, m) for m in names.is_valid_port_num(num))
            proto = as_str(port.get("protocol"))
            if not proto:
                errs.append(required(f"{pp}.protocol", ""))
            elif proto not in SUPPORTED_PORT_PROTOCOLS:
                errs.append(not_supported(f"{pp}.protocol", proto, SUPPORTED_PORT_PROTOCOLS))
            if port.get("appProtocol") is not None:
                errs.extend(validate_qualified_name(as_str(port["appProtocol"]), f"{pp}.appProtocol"))
    return errs


def validate_endpoints_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    return validate_object_meta_update(_meta(new), _meta(old)) + validate_endpoints(new)


# --- Event (core/v1: legacy rules only, as upstream for this API version) -----------------


def validate_event(ev: Mapping[str, Any]) -> list[FieldError]:
    meta = as_dict(_meta(ev))
    namespace = as_str(meta.get("namespace"))
    involved_ns = as_str(as_dict(ev.get("involvedObject")).get("namespace"))
    errs: list[FieldError] = []
    if not ev.get("eventTime"):
        if not involved_ns:
            if namespace not in ("", "default"):
                errs.append(invalid("involvedObject.namespace", involved_ns, "does not match event.namespace"))
        elif namespace != involved_ns:
            errs.append(invalid("involvedObject.namespace", involved_ns, "does not match event.namespace"))
    else:
        if not involved_ns and namespace not in ("default", "kube-system"):
            errs.append(invalid("involvedObject.namespace", involved_ns, "does not match event.namespace"))
        controller = as_str(ev.get("reportingComponent"))
        if not controller:
            errs.append(required("reportingController", ""))
        errs.extend(invalid("reportingController", controller, m) for m in names.is_qualified_name(controller))
        for field, limit in (("reportingInstance", 128), ("action", 128), ("reason", 128)):
            value = as_str(ev.get(field))
            if not value:
                errs.append(required(field, ""))
            if len(value) > limit:
                errs.append(invalid(field, "", f"can have at most {limit} characters"))
        if len(as_str(ev.get("message"))) > 1024:
            errs.append(invalid("message", "", "can have at most 1024 characters"))
    errs.extend(invalid("namespace", namespace, m) for m in names.is_dns1123_subdomain(namespace))
    return errs


def validate_event_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    return validate_event(new)


# --- LimitRange, ResourceQuota -----------------------------------------------------------------


def validate_limit_range(lr: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta(_meta(lr), namespaced=True, name_fn=names.name_is_dns_subdomain)
    types_seen: set[str] = set()
    for i, raw in enumerate(as_list(as_dict(lr.get("spec")).get("limits"))):
        limit = as_dict(raw)
        p = f"spec.limits[{i}]"
        ltype = as_str(limit.get("type"))
        type_errs = [invalid(f"{p}.type", ltype, m) for m in names.is_qualified_name(ltype)]
        if not type_errs and "/" not in ltype and ltype not in ("Pod", "Container", "PersistentVolumeClaim"):
            type_errs.append(invalid(f"{p}.type", ltype, "must be a standard limit type or fully qualified"))
        errs.extend(type_errs)
        if ltype in types_seen:
            errs.append(duplicate(f"{p}.type", ltype))
        types_seen.add(ltype)
        name_fn = validate_container_resource_name if ltype in ("Pod", "Container") else validate_resource_name
        values: dict[str, dict[str, Any]] = {}
        sections = ["max", "min"]
        if ltype == "Pod":
            for key in ("default", "defaultRequest"):
                if as_dict(limit.get(key)):
                    errs.append(forbidden(f"{p}.{key}", "may not be specified when `type` is 'Pod'"))
        else:
            sections += ["default", "defaultRequest"]
        sections.append("maxLimitRequestRatio")
        for section in sections:
            for k, v in as_dict(limit.get(section)).items():
                errs.extend(name_fn(k, f"{p}.{section}[{k}]"))
                q = parse_value(v)
                if q is not None:
                    values.setdefault(k, {})[section] = q
        if ltype == "PersistentVolumeClaim" and "storage" not in as_dict(limit.get("min")) and "storage" not in as_dict(limit.get("max")):
            errs.append(required(f"{p}.limits", "either minimum or maximum storage value is required, but neither was provided"))
        for k, qs in values.items():
            mn, mx, df, dr, ratio = (qs.get(s) for s in ("min", "max", "default", "defaultRequest", "maxLimitRequestRatio"))
            if mn is not None and mx is not None and mn.value > mx.value:
                errs.append(invalid(f"{p}.min[{k}]", canonical(mn), f"min value {canonical(mn)} is greater than max value {canonical(mx)}"))
            if dr is not None and mn is not None and mn.value > dr.value:
                errs.append(invalid(f"{p}.defaultRequest[{k}]", canonical(dr), f"min value {canonical(mn)} is greater than default request value {canonical(dr)}"))
            if dr is not None and mx is not None and dr.value > mx.value:
                errs.append(invalid(f"{p}.defaultRequest[{k}]", canonical(dr), f"default request value {canonical(dr)} is greater than max value {canonical(mx)}"))
            if dr is not None and df is not None and dr.value > df.value:
                errs.append(invalid(f"{p}.defaultRequest[{k}]", canonical(dr), f"default request value {canonical(dr)} is greater than default limit value {canonical(df)}"))
            if df is not None and mn is not None and mn.value > df.value:
                errs.append(invalid(f"{p}.default[{k}]", canonical(mn), f"min value {canonical(mn)} is greater than default value {canonical(df)}"))
            if df is not None and mx is not None and df.value > mx.value:
                errs.append(invalid(f"{p}.default[{k}]", canonical(mx), f"default value {canonical(df)} is greater than max value {canonical(mx)}"))
            if ratio is not None and ratio.value < 1:
                errs.append(invalid(f"{p}.maxLimitRequestRatio[{k}]", canonical(ratio), f"ratio {canonical(ratio)} is less than 1"))
            if not is_overcommit_allowed(k) and df is not None and dr is not None and df.value != dr.value:
                errs.append(invalid(f"{p}.defaultRequest[{k}]", canonical(dr), f"default value {canonical(df)} must equal to defaultRequest value {canonical(dr)} in {k}"))
    return errs


def validate_limit_range_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    return validate_object_meta_update(_meta(new), _meta(old)) + validate_limit_range(new)


_STANDARD_QUOTA_RESOURCES = frozenset(
    {
        "pods", "services", "replicationcontrollers", "resourcequotas", "cpu", "memory", "requests.cpu",
        "requests.memory", "requests.storage", "requests.ephemeral-storage", "limits.cpu", "limits.memory",
        "limits.ephemeral-storage", "persistentvolumeclaims", "configmaps", "secrets", "services.nodeports",
        "services.loadbalancers", "ephemeral-storage",
    }
)
_QUOTA_SCOPES = ("Terminating", "NotTerminating", "BestEffort", "NotBestEffort", "PriorityClass", "CrossNamespacePodAffinity")


def _validate_quota_resources(resources: Any, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    for k, v in as_dict(resources).items():
        p = f"{path}[{k}]"
        errs.extend(validate_resource_name(k, p))
        if "/" not in k and k not in _STANDARD_QUOTA_RESOURCES and not k.startswith(("hugepages-", "requests.hugepages-")):
            errs.append(invalid(p, k, "must be a standard resource for quota"))
        errs.extend(validate_quantity_value(k, v, p)[1])
    return errs


def _validate_quota_spec(spec: Mapping[str, Any]) -> list[FieldError]:
    errs = _validate_quota_resources(spec.get("hard"), "spec.hard")
    scopes = as_list(spec.get("scopes"))
    for scope in scopes:
        if scope not in _QUOTA_SCOPES:
            errs.append(invalid("spec.scopes", scopes, "unsupported scope"))
    for a, b in (("BestEffort", "NotBestEffort"), ("Terminating", "NotTerminating")):
        if a in scopes and b in scopes:
            errs.append(invalid("spec.scopes", scopes, "conflicting scopes"))
    return errs


def validate_resource_quota(rq: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta(_meta(rq), namespaced=True, name_fn=names.name_is_dns_subdomain)
    errs.extend(_validate_quota_spec(as_dict(rq.get("spec"))))
    status = as_dict(rq.get("status"))
    errs.extend(_validate_quota_resources(status.get("hard"), "status.hard"))
    errs.extend(_validate_quota_resources(status.get("used"), "status.used"))
    return errs


def validate_resource_quota_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta_update(_meta(new), _meta(old))
    errs.extend(_validate_quota_spec(as_dict(new.get("spec"))))
    n_scopes = set(map(as_str, as_list(as_dict(new.get("spec")).get("scopes"))))
    o_scopes = set(map(as_str, as_list(as_dict(old.get("spec")).get("scopes"))))
    if n_scopes != o_scopes:
        errs.append(invalid("spec.scopes", as_list(as_dict(new.get("spec")).get("scopes")), FIELD_IMMUTABLE))
    return errs


def validate_resource_quota_status_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta_update(_meta(new), _meta(old))
    status = as_dict(new.get("status"))
    errs.extend(_validate_quota_resources(status.get("hard"), "status.hard"))
    errs.extend(_validate_quota_resources(status.get("used"), "status.used"))
    return errs


# --- PersistentVolume, PersistentVolumeClaim ------------------------------------------------

ACCESS_MODES = ("ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod")
RECLAIM_POLICIES = ("Delete", "Recycle", "Retain")
VOLUME_MODES = ("Block", "Filesystem")
PV_SOURCES = (
    "hostPath", "gcePersistentDisk", "awsElasticBlockStore", "glusterfs", "flocker", "nfs", "rbd", "quobyte",
    "cephfs", "iscsi", "cinder", "fc", "flexVolume", "azureFile", "vsphereVolume", "photonPersistentDisk",
    "portworxVolume", "azureDisk", "scaleIO", "local", "storageos", "csi",
)
_PV_NON_SOURCE_FIELDS = frozenset(
    {"capacity", "accessModes", "claimRef", "persistentVolumeReclaimPolicy", "storageClassName", "mountOptions",
     "volumeMode", "nodeAffinity", "volumeAttributesClassName"}
)


def _validate_access_modes(modes: Any, path: str, required_detail: str) -> list[FieldError]:
    items = as_list(modes)
    errs: list[FieldError] = []
    if not items:
        errs.append(required(path, required_detail))
    rwop = other = False
    for mode in items:
        if mode not in ACCESS_MODES:
            errs.append(not_supported(path, mode, ACCESS_MODES))
        if mode == "ReadWriteOncePod":
            rwop = True
        elif mode in ACCESS_MODES:
            other = True
    if rwop and other:
        errs.append(forbidden(path, "may not use ReadWriteOncePod with other access modes"))
    return errs


def validate_persistent_volume(pv: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta(_meta(pv), namespaced=False, name_fn=names.name_is_dns_subdomain)
    spec = as_dict(pv.get("spec"))
    errs.extend(_validate_access_modes(spec.get("accessModes"), "spec.accessModes", ""))
    capacity = as_dict(spec.get("capacity"))
    if not capacity:
        errs.append(required("spec.capacity", ""))
    if "storage" not in capacity or len(capacity) > 1:
        errs.append(not_supported("spec.capacity", dict(capacity), ("storage",)))
    for k, v in capacity.items():
        q = parse_value(v)
        if q is not None and q.value <= 0:
            errs.append(invalid(f"spec.capacity[{k}]", canonical(q), "must be greater than zero"))
    policy = as_str(spec.get("persistentVolumeReclaimPolicy"))
    if policy and policy not in RECLAIM_POLICIES:
        errs.append(not_supported("spec.persistentVolumeReclaimPolicy", policy, RECLAIM_POLICIES))
    node_affinity = spec.get("nodeAffinity")
    if isinstance(node_affinity, dict):
        req = node_affinity.get("required")
        if isinstance(req, dict):
            errs.extend(validate_node_selector(req, "spec.nodeAffinity.required"))
        else:
            errs.append(required("spec.nodeAffinity.required", "must specify required node constraints"))
    count = 0
    for key in PV_SOURCES:
        if not present(spec, key):
            continue
        if count:
            errs.append(forbidden(f"spec.{key}", "may not specify more than 1 volume type"))
            continue
        count += 1
        src = as_dict(spec[key])
        if key in ("hostPath", "local"):
            path = as_str(src.get("path"))
            if not path:
                errs.append(required(f"spec.{key}.path", ""))
            elif ".." in path.split("/"):
                errs.append(invalid(f"spec.{key}.path", path, "must not contain '..'"))
            if key == "local" and not isinstance(node_affinity, dict):
                errs.append(required("spec.nodeAffinity", "Local volume requires node affinity"))
        elif key == "nfs":
            if not as_str(src.get("server")):
                errs.append(required("spec.nfs.server", ""))
            nfs_path = as_str(src.get("path"))
            if not nfs_path:
                errs.append(required("spec.nfs.path", ""))
            if not nfs_path.startswith("/"):
                errs.append(invalid("spec.nfs.path", nfs_path, "must be an absolute path"))
        elif key == "csi":
            if not as_str(src.get("driver")):
                errs.append(required("spec.csi.driver", ""))
            if not as_str(src.get("volumeHandle")):
                errs.append(required("spec.csi.volumeHandle", ""))
    if count == 0:
        errs.append(required("spec", "must specify a volume type"))
    host_path = as_dict(spec.get("hostPath")).get("path")
    if host_path is not None and as_str(host_path).rstrip("/") == "" and policy == "Recycle":
        errs.append(forbidden("spec.persistentVolumeReclaimPolicy", "may not be 'recycle' for a hostPath mount of '/'"))
    scn = as_str(spec.get("storageClassName"))
    if scn:
        errs.extend(invalid("spec.storageClassName", scn, m) for m in names.name_is_dns_subdomain(scn))
    mode = spec.get("volumeMode")
    if mode is not None and mode not in VOLUME_MODES:
        errs.append(not_supported("spec.volumeMode", mode, VOLUME_MODES))
    return errs


def _pv_source(spec: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in spec.items() if k not in _PV_NON_SOURCE_FIELDS}


def validate_persistent_volume_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta_update(_meta(new), _meta(old)) + validate_persistent_volume(new)
    nspec, ospec = as_dict(new.get("spec")), as_dict(old.get("spec"))
    nsrc, osrc = _pv_source(nspec), _pv_source(ospec)
    if isinstance(nsrc.get("csi"), dict) and isinstance(osrc.get("csi"), dict) and "controllerExpandSecretRef" not in osrc["csi"]:
        nsrc["csi"] = {k: v for k, v in nsrc["csi"].items() if k != "controllerExpandSecretRef"}
    if nsrc != osrc:
        errs.append(
            forbidden("spec.persistentvolumesource", "spec.persistentvolumesource is immutable after creation\n" + spec_diff(osrc, nsrc, "core.PersistentVolumeSource"))
        )
    errs.extend(validate_immutable(nspec.get("volumeMode"), ospec.get("volumeMode"), "volumeMode"))
    if ospec.get("nodeAffinity") is not None and nspec.get("nodeAffinity") != ospec.get("nodeAffinity"):
        errs.append(invalid("nodeAffinity", nspec.get("nodeAffinity"), FIELD_IMMUTABLE + ", except for updating from beta label to GA"))
    return errs


def _validate_pvc_spec(spec: Mapping[str, Any], path: str) -> list[FieldError]:
    errs = _validate_access_modes(spec.get("accessModes"), f"{path}.accessModes", "at least 1 access mode is required")
    if spec.get("selector") is not None:
        errs.extend(validate_label_selector(spec.get("selector"), f"{path}.selector"))
    storage_path = f"{path}.resources[storage]"
    requests = as_dict(as_dict(spec.get("resources")).get("requests"))
    if "storage" not in requests:
        errs.append(required(storage_path, ""))
    else:
        q = parse_value(requests["storage"])
        if q is not None and q.value <= 0:
            errs.append(invalid(storage_path, canonical(q), "must be greater than zero"))
    scn = spec.get("storageClassName")
    if isinstance(scn, str) and scn:
        errs.extend(invalid(f"{path}.storageClassName", scn, m) for m in names.name_is_dns_subdomain(scn))
    mode = spec.get("volumeMode")
    if mode is not None and mode not in VOLUME_MODES:
        errs.append(not_supported(f"{path}.volumeMode", mode, VOLUME_MODES))
    for key in ("dataSource", "dataSourceRef"):
        ds = spec.get(key)
        if not isinstance(ds, dict):
            continue
        if not as_str(ds.get("name")):
            errs.append(required(f"{path}.{key}.name", ""))
        if not as_str(ds.get("kind")):
            errs.append(required(f"{path}.{key}.kind", ""))
        group = as_str(ds.get("apiGroup"))
        if not group and ds.get("kind") != "PersistentVolumeClaim":
            errs.append(invalid(f"{path}.{key}", as_str(ds.get("kind")), "must be 'PersistentVolumeClaim' when referencing the default apiGroup"))
        if group:
            errs.extend(invalid(f"{path}.{key}.apiGroup", group, m) for m in names.is_dns1123_subdomain(group))
    return errs


def validate_persistent_volume_claim(pvc: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta(_meta(pvc), namespaced=True, name_fn=names.name_is_dns_subdomain)
    errs.extend(_validate_pvc_spec(as_dict(pvc.get("spec")), "spec"))
    return errs


def validate_persistent_volume_claim_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta_update(_meta(new), _meta(old)) + validate_persistent_volume_claim(new)
    nspec, ospec = dict(as_dict(new.get("spec"))), dict(as_dict(old.get("spec")))
    if not as_str(ospec.get("volumeName")):
        ospec["volumeName"] = nspec.get("volumeName")
        if ospec["volumeName"] is None:
            del ospec["volumeName"]
    if ospec.get("storageClassName") is None and nspec.get("storageClassName") is not None:
        beta = as_dict(as_dict(_meta(old)).get("annotations")).get("volume.beta.kubernetes.io/storage-class")
        if beta is None or beta == nspec["storageClassName"]:
            ospec["storageClassName"] = nspec["storageClassName"]
    bound = as_dict(new.get("status")).get("phase") == "Bound"
    if bound:
        n_res = dict(as_dict(nspec.get("resources")))
        n_req = dict(as_dict(n_res.get("requests")))
        if "storage" in as_dict(as_dict(ospec.get("resources")).get("requests")):
            n_req["storage"] = as_dict(as_dict(ospec.get("resources")).get("requests"))["storage"]
        else:
            n_req.pop("storage", None)
        n_res["requests"] = n_req
        nspec["resources"] = n_res
        if "volumeAttributesClassName" in nspec:
            nspec["volumeAttributesClassName"] = ospec.get("volumeAttributesClassName")
    if nspec != ospec:
        errs.append(
            forbidden(
                "spec",
                "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n"
                + spec_diff(ospec, nspec, "core.PersistentVolumeClaimSpec"),
            )
        )
    old_size = parse_value(as_dict(as_dict(as_dict(old.get("spec")).get("resources")).get("requests")).get("storage"))
    new_size = parse_value(as_dict(as_dict(as_dict(new.get("spec")).get("resources")).get("requests")).get("storage"))
    if old_size is not None and new_size is not None and new_size.value < old_size.value:
        errs.append(forbidden("spec.resources.requests.storage", "field can not be less than previous value"))
    errs.extend(validate_immutable(as_dict(new.get("spec")).get("volumeMode"), as_dict(old.get("spec")).get("volumeMode"), "volumeMode"))
    return errs


def validate_persistent_volume_claim_status_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta_update(_meta(new), _meta(old))
    if not as_list(as_dict(new.get("spec")).get("accessModes")):
        errs.append(required("Spec.accessModes", ""))
    for k, v in as_dict(as_dict(new.get("status")).get("capacity")).items():
        q = parse_value(v)
        if q is not None and q.value < 0:
            errs.append(invalid(f"status.capacity[{k}]", q.value, "must be a valid resource quantity"))
    return errs


def validate_status_only_meta_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    return validate_object_meta_update(_meta(new), _meta(old))

