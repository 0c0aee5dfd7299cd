"""Validation of apps/v1 kinds: Deployment, ReplicaSet, StatefulSet, DaemonSet, ControllerRevision.

Mirrors ``pkg/apis/apps/validation`` plus the selector-immutability rule that upstream's
apps/v1 registry strategies add on update (``spec.selector: ... field is immutable``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubepy.api.field_errors import FieldError, forbidden, invalid, not_supported, required
from kubepy.api.validation import names
from kubepy.api.validation.core import validate_replica_counts_status
from kubepy.api.validation.meta import (
    as_dict,
    as_int,
    as_str,
    selector_is_empty,
    selector_matches,
    validate_immutable,
    validate_annotations,
    validate_label_selector,
    validate_labels,
    validate_nonnegative,
    validate_object_meta,
    validate_object_meta_update,
)
from kubepy.api.validation.pods import validate_pod_specific_annotations, validate_pod_template_spec

_STATEFULSET_UPDATABLE = (
    "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', "
    "'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"
)


def _meta(obj: Mapping[str, Any]) -> Any:
    return obj.get("metadata")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate_positive_int_or_percent(value: Any, path: str) -> list[FieldError]:
    if isinstance(value, str):
        return [invalid(path, value, m) for m in names.is_valid_percent(value)]
    if _is_int(value):
        return validate_nonnegative(value, path)
    return [invalid(path, value, "must be an integer or percentage (e.g '5%%')")]


def _percent_value(value: Any) -> int | None:
    if isinstance(value, str) and not names.is_valid_percent(value):
        return int(value[:-1])
    return None


def int_or_percent_value(value: Any) -> int:
    pct = _percent_value(value)
    if pct is not None:
        return pct
    if _is_int(value):
        return int(value)
    if isinstance(value, str):  # Go's IntValue() of a non-numeric string is 0
        try:
            return int(value)
        except ValueError:
            return 0
    return 0


def is_not_more_than_100_percent(value: Any, path: str) -> list[FieldError]:
    pct = _percent_value(value)
    if pct is None or pct <= 100:
        return []
    return [invalid(path, value, "must not be greater than 100%")]


def _validate_template_for_replicas(spec: Mapping[str, Any], path: str, kind: str) -> list[FieldError]:
    """ValidatePodTemplateSpecForReplicaSet (Deployment and ReplicaSet)."""
    template = spec.get("template")
    if not isinstance(template, dict):
        return [required(path, "")]
    errs: list[FieldError] = []
    selector = spec.get("selector")
    tlabels = as_dict(template.get("metadata")).get("labels")
    if isinstance(selector, dict) and not selector_is_empty(selector) and not selector_matches(selector, tlabels):
        errs.append(invalid(f"{path}.metadata.labels", as_dict(tlabels), "`selector` does not match template `labels`"))
    errs.extend(validate_pod_template_spec(template, path))
    tspec = as_dict(template.get("spec"))
    if tspec.get("restartPolicy") != "Always":
        errs.append(not_supported(f"{path}.spec.restartPolicy", as_str(tspec.get("restartPolicy")), ("Always",)))
    if tspec.get("activeDeadlineSeconds") is not None:
        errs.append(forbidden(f"{path}.spec.activeDeadlineSeconds", f"activeDeadlineSeconds in {kind} is not Supported"))
    return errs


def _validate_selector(spec: Mapping[str, Any], empty_message: str) -> list[FieldError]:
    selector = spec.get("selector")
    if not isinstance(selector, dict):
        return [required("spec.selector", "")]
    errs = validate_label_selector(selector, "spec.selector")
    if selector_is_empty(selector):
        errs.append(invalid("spec.selector", selector, empty_message))
    return errs


# --- Deployment ---------------------------------------------------------------------------


def _validate_deployment_strategy(strategy: Mapping[str, Any], path: str) -> list[FieldError]:
    stype = as_str(strategy.get("type"))
    rolling = strategy.get("rollingUpdate")
    if stype == "Recreate":
        if rolling is not None:
            return [forbidden(f"{path}.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'")]
        return []
    if stype == "RollingUpdate":
        if not isinstance(rolling, dict):
            return [required(f"{path}.rollingUpdate", "this should be defaulted and never be nil")]
        rp = f"{path}.rollingUpdate"
        max_unavailable, max_surge = rolling.get("maxUnavailable"), rolling.get("maxSurge")
        errs = validate_positive_int_or_percent(max_unavailable, f"{rp}.maxUnavailable")
        errs.extend(validate_positive_int_or_percent(max_surge, f"{rp}.maxSurge"))
        if int_or_percent_value(max_unavailable) == 0 and int_or_percent_value(max_surge) == 0:
            errs.append(invalid(f"{rp}.maxUnavailable", max_unavailable, "may not be 0 when `maxSurge` is 0"))
        errs.extend(is_not_more_than_100_percent(max_unavailable, f"{rp}.maxUnavailable"))
        return errs
    return [not_supported(path, dict(strategy), ("Recreate", "RollingUpdate"))]


def _validate_deployment_spec(spec: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_nonnegative(spec.get("replicas"), "spec.replicas")
    errs.extend(_validate_selector(spec, "empty selector is invalid for deployment"))
    errs.extend(_validate_template_for_replicas(spec, "spec.template", "ReplicaSet"))
    errs.extend(_validate_deployment_strategy(as_dict(spec.get("strategy")), "spec.strategy"))
    errs.extend(validate_nonnegative(spec.get("minReadySeconds"), "spec.minReadySeconds"))
    if spec.get("revisionHistoryLimit") is not None:
        errs.extend(validate_nonnegative(spec.get("revisionHistoryLimit"), "spec.revisionHistoryLimit"))
    if isinstance(spec.get("rollbackTo"), dict):
        errs.extend(validate_nonnegative(spec["rollbackTo"].get("revision"), "spec.rollback.version"))
    pds = spec.get("progressDeadlineSeconds")
    if pds is not None:
        errs.extend(validate_nonnegative(pds, "spec.progressDeadlineSeconds"))
        if as_int(pds) <= as_int(spec.get("minReadySeconds")):
            errs.append(invalid("spec.progressDeadlineSeconds", pds, "must be greater than minReadySeconds"))
    return errs


def validate_deployment(obj: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta(_meta(obj), namespaced=True, name_fn=names.name_is_dns_subdomain)
    errs.extend(_validate_deployment_spec(as_dict(obj.get("spec"))))
    return errs


def _selector_immutable(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    return validate_immutable(as_dict(new.get("spec")).get("selector"), as_dict(old.get("spec")).get("selector"), "spec.selector")


def validate_deployment_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta_update(_meta(new), _meta(old))
    errs.extend(_validate_deployment_spec(as_dict(new.get("spec"))))
    errs.extend(_selector_immutable(new, old))
    return errs


def _collision_count_errors(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    n = as_dict(new.get("status")).get("collisionCount")
    o = as_dict(old.get("status")).get("collisionCount")
    if o is not None and (n is None or as_int(n) < as_int(o)):
        return [invalid("status.collisionCount", as_int(n), "cannot be decremented")]
    return []


def validate_deployment_status_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta_update(_meta(new), _meta(old))
    status = as_dict(new.get("status"))
    errs.extend(
        validate_replica_counts_status(
            status,
            ("observedGeneration", "replicas", "updatedReplicas", "readyReplicas", "availableReplicas", "unavailableReplicas"),
        )
    )
    if status.get("collisionCount") is not None:
        errs.extend(validate_nonnegative(status["collisionCount"], "status.collisionCount"))
    errs.extend(_collision_count_errors(new, old))
    return errs


# --- ReplicaSet --------------------------------------------------------------------------


def _validate_replica_set_spec(spec: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_nonnegative(spec.get("replicas"), "spec.replicas")
    errs.extend(validate_nonnegative(spec.get("minReadySeconds"), "spec.minReadySeconds"))
    errs.extend(_validate_selector(spec, "empty selector is invalid for deployment"))
    errs.extend(_validate_template_for_replicas(spec, "spec.template", "ReplicaSet"))
    return errs


def validate_replica_set(obj: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta(_meta(obj), namespaced=True, name_fn=names.name_is_dns_subdomain)
    errs.extend(_validate_replica_set_spec(as_dict(obj.get("spec"))))
    return errs


def validate_replica_set_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta_update(_meta(new), _meta(old))
    errs.extend(_validate_replica_set_spec(as_dict(new.get("spec"))))
    errs.extend(_selector_immutable(new, old))
    return errs


def validate_replica_set_status_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta_update(_meta(new), _meta(old))
    errs.extend(
        validate_replica_counts_status(
            as_dict(new.get("status")),
            ("replicas", "fullyLabeledReplicas", "readyReplicas", "availableReplicas", "observedGeneration"),
        )
    )
    return errs


# --- StatefulSet -------------------------------------------------------------------------


def _validate_statefulset_spec(spec: Mapping[str, Any]) -> list[FieldError]:
    errs: list[FieldError] = []
    policy = as_str(spec.get("podManagementPolicy"))
    if not policy:
        errs.append(required("spec.podManagementPolicy", ""))
    elif policy not in ("OrderedReady", "Parallel"):
        errs.append(invalid("spec.podManagementPolicy", policy, "must be 'OrderedReady' or 'Parallel'"))
    strategy = as_dict(spec.get("updateStrategy"))
    stype = as_str(strategy.get("type"))
    rolling = strategy.get("rollingUpdate")
    if not stype:
        errs.append(required("spec.updateStrategy", ""))
    elif stype == "OnDelete":
        if rolling is not None:
            errs.append(invalid("spec.updateStrategy.rollingUpdate", rolling, "only allowed for updateStrategy 'RollingUpdate'"))
    elif stype == "RollingUpdate":
        if isinstance(rolling, dict):
            rp = "spec.updateStrategy.rollingUpdate"
            errs.extend(validate_nonnegative(rolling.get("partition"), f"{rp}.partition"))
            mu = rolling.get("maxUnavailable")
            if mu is not None:
                errs.extend(validate_positive_int_or_percent(mu, f"{rp}.maxUnavailable"))
                if int_or_percent_value(mu) == 0:
                    errs.append(invalid(f"{rp}.maxUnavailable", mu, "cannot be 0"))
                errs.extend(is_not_more_than_100_percent(mu, f"{rp}.maxUnavailable"))
    else:
        errs.append(invalid("spec.updateStrategy", dict(strategy), "must be 'RollingUpdate' or 'OnDelete'"))
    retention = spec.get("persistentVolumeClaimRetentionPolicy")
    if isinstance(retention, dict):
        for key in ("whenDeleted", "whenScaled"):
            value = as_str(retention.get(key))
            if value not in ("Retain", "Delete"):
                errs.append(not_supported(f"spec.persistentVolumeClaimRetentionPolicy.{key}", value, ("Retain", "Delete")))
    errs.extend(validate_nonnegative(spec.get("replicas"), "spec.replicas"))
    errs.extend(validate_nonnegative(spec.get("minReadySeconds"), "spec.minReadySeconds"))
    if isinstance(spec.get("ordinals"), dict):
        errs.extend(validate_nonnegative(spec["ordinals"].get("start"), "spec.ordinals.start"))
    errs.extend(_validate_selector(spec, "empty selector is invalid for statefulset"))
    template = as_dict(spec.get("template"))
    tmeta = as_dict(template.get("metadata"))
    selector = spec.get("selector")
    if isinstance(selector, dict) and not selector_is_empty(selector) and not selector_matches(selector, tmeta.get("labels")):
        errs.append(invalid("spec.template.metadata.labels", as_dict(tmeta.get("labels")), "`selector` does not match template `labels`"))
    # upstream checks only the template's labels and annotations here, not its PodSpec
    errs.extend(validate_labels(tmeta.get("labels"), "spec.template.labels"))
    errs.extend(validate_annotations(tmeta.get("annotations"), "spec.template.annotations"))
    errs.extend(validate_pod_specific_annotations(tmeta.get("annotations"), template.get("spec"), "spec.template.annotations"))
    tspec = as_dict(template.get("spec"))
    if tspec.get("restartPolicy") != "Always":
        errs.append(not_supported("spec.template.spec.restartPolicy", as_str(tspec.get("restartPolicy")), ("Always",)))
    if tspec.get("activeDeadlineSeconds") is not None:
        errs.append(forbidden("spec.template.spec.activeDeadlineSeconds", "activeDeadlineSeconds in StatefulSet is not Supported"))
    return errs


def validate_stateful_set(obj: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta(_meta(obj), namespaced=True, name_fn=names.name_is_dns_subdomain)
    errs.extend(_validate_statefulset_spec(as_dict(obj.get("spec"))))
    return errs


_STS_MUTABLE = ("replicas", "template", "updateStrategy", "minReadySeconds", "ordinals", "persistentVolumeClaimRetentionPolicy")


def validate_stateful_set_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta_update(_meta(new), _meta(old))
    nspec, ospec = as_dict(new.get("spec")), as_dict(old.get("spec"))
    errs.extend(_validate_statefulset_spec(nspec))
    if {k: v for k, v in nspec.items() if k not in _STS_MUTABLE} != {k: v for k, v in ospec.items() if k not in _STS_MUTABLE}:
        errs.append(forbidden("spec", _STATEFULSET_UPDATABLE))
    return errs


def validate_stateful_set_status_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    status = as_dict(new.get("status"))
    errs = validate_replica_counts_status(status, ("replicas", "readyReplicas", "currentReplicas", "updatedReplicas", "availableReplicas"))
    for key in ("observedGeneration", "collisionCount"):
        if status.get(key) is not None:
            errs.extend(validate_nonnegative(status[key], f"status.{key}"))
    errs.extend(validate_object_meta_update(_meta(new), _meta(old)))
    errs.extend(_collision_count_errors(new, old))
    return errs


# --- DaemonSet ---------------------------------------------------------------------------


def _validate_daemonset_spec(spec: Mapping[str, Any]) -> list[FieldError]:
    selector = spec.get("selector")
    errs = validate_label_selector(selector, "spec.selector")
    template = as_dict(spec.get("template"))
    tlabels = as_dict(template.get("metadata")).get("labels")
    if isinstance(selector, dict) and not selector_matches(selector, tlabels) and not selector_is_empty(selector):
        errs.append(invalid("spec.template.metadata.labels", as_dict(tlabels), "`selector` does not match template `labels`"))
    if isinstance(selector, dict) and selector_is_empty(selector):
        errs.append(invalid("spec.selector", selector, "empty selector is invalid for daemonset"))
    errs.extend(validate_pod_template_spec(template, "spec.template"))
    tspec = as_dict(template.get("spec"))
    if tspec.get("restartPolicy") != "Always":
        errs.append(not_supported("spec.template.spec.restartPolicy", as_str(tspec.get("restartPolicy")), ("Always",)))
    if tspec.get("activeDeadlineSeconds") is not None:
        errs.append(forbidden("spec.template.spec.activeDeadlineSeconds", "activeDeadlineSeconds in DaemonSet is not Supported"))
    errs.extend(validate_nonnegative(spec.get("minReadySeconds"), "spec.minReadySeconds"))
    strategy = as_dict(spec.get("updateStrategy"))
    stype = as_str(strategy.get("type"))
    sp = "spec.updateStrategy"
    if stype == "RollingUpdate":
        rolling = strategy.get("rollingUpdate")
        if not isinstance(rolling, dict):
            errs.append(required(f"{sp}.rollingUpdate", ""))
        else:
            rp = f"{sp}.rollingUpdate"
            mu, ms = rolling.get("maxUnavailable"), rolling.get("maxSurge")
            errs.extend(validate_positive_int_or_percent(mu, f"{rp}.maxUnavailable"))
            errs.extend(validate_positive_int_or_percent(ms, f"{rp}.maxSurge"))
            errs.extend(is_not_more_than_100_percent(mu, f"{rp}.maxUnavailable"))
            errs.extend(is_not_more_than_100_percent(ms, f"{rp}.maxSurge"))
            has_unavailable, has_surge = int_or_percent_value(mu) != 0, int_or_percent_value(ms) != 0
            if has_unavailable and has_surge:
                errs.append(invalid(f"{rp}.maxSurge", ms, "may not be set when maxUnavailable is non-zero"))
            elif not has_unavailable and not has_surge:
                errs.append(required(f"{rp}.maxUnavailable", "cannot be 0 when maxSurge is 0"))
    elif stype != "OnDelete":
        errs.append(not_supported(sp, dict(strategy), ("RollingUpdate", "OnDelete")))
    if spec.get("revisionHistoryLimit") is not None:
        errs.extend(validate_nonnegative(spec.get("revisionHistoryLimit"), "spec.revisionHistoryLimit"))
    return errs


def validate_daemon_set(obj: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta(_meta(obj), namespaced=True, name_fn=names.name_is_dns_subdomain)
    errs.extend(_validate_daemonset_spec(as_dict(obj.get("spec"))))
    return errs


def validate_daemon_set_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta_update(_meta(new), _meta(old))
    # templateGeneration is not part of apps/v1 (the strategy maintains it), so its rules do not apply
    errs.extend(_validate_daemonset_spec(as_dict(new.get("spec"))))
    errs.extend(_selector_immutable(new, old))
    return errs


def validate_daemon_set_status_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta_update(_meta(new), _meta(old))
    status = as_dict(new.get("status"))
    for key in (
        "currentNumberScheduled", "numberMisscheduled", "desiredNumberScheduled", "numberReady",
        "observedGeneration", "updatedNumberScheduled", "numberAvailable", "numberUnavailable", "collisionCount",
    ):
        errs.extend(validate_nonnegative(status.get(key), f"status.{key}"))
    errs.extend(_collision_count_errors(new, old))
    return errs


# --- ControllerRevision --------------------------------------------------------------------


def validate_controller_revision(obj: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta(_meta(obj), namespaced=True, name_fn=names.name_is_dns_subdomain)
    if obj.get("data") is None:
        errs.append(required("data", "data is mandatory"))
    errs.extend(validate_nonnegative(obj.get("revision"), "revision"))
    return errs


def validate_controller_revision_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta_update(_meta(new), _meta(old))
    errs.extend(validate_controller_revision(new))
    errs.extend(validate_immutable(new.get("data"), old.get("data"), "data"))
    return errs
