"""Validation of autoscaling HorizontalPodAutoscalers (``pkg/apis/autoscaling/validation``).

Upstream validates the internal form, which is the autoscaling/v2 shape; so do we: an
autoscaling/v1 object is converted first (``kubepy.api.conversion.HPA_V1``), and its
errors name v2 paths (``spec.metrics[0].resource.target.averageUtilization``) exactly as
upstream reports them for v1 requests.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubepy.api.conversion import HPA_V1
from kubepy.api.field_errors import FieldError, forbidden, invalid, not_supported, required
from kubepy.api.validation import names
from kubepy.api.validation.meta import (
    as_dict,
    as_int,
    as_list,
    as_str,
    validate_label_selector,
    validate_object_meta,
    validate_object_meta_update,
)
from kubepy.api.validation.quantities import parse_value

MIN_REPLICAS_LOWER_BOUND = 1
METRIC_SOURCE_TYPES = ("Object", "Pods", "Resource", "External", "ContainerResource")
_SOURCE_FIELD = {"Object": "object", "Pods": "pods", "Resource": "resource", "External": "external",
                 "ContainerResource": "containerResource"}
TARGET_TYPES = ("Utilization", "Value", "AverageValue")
SELECT_POLICIES = ("Disabled", "Max", "Min")
POLICY_TYPES = ("Percent", "Pods")
MAX_STABILIZATION_WINDOW = 3600
MAX_PERIOD_SECONDS = 1800


def _v2(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    if obj.get("apiVersion") == "autoscaling/v1":
        return HPA_V1.to_storage(dict(obj))
    return obj


def _cross_version_ref(ref: Mapping[str, Any], path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    for key in ("kind", "name"):
        value = as_str(ref.get(key))
        if not value:
            errs.append(required(f"{path}.{key}"))
        else:
            errs.extend(invalid(f"{path}.{key}", value, m) for m in names.validate_path_segment_name(value))
    return errs


def _positive_quantity(raw: Any, path: str) -> list[FieldError]:
    q = parse_value(raw)
    if q is None or q.value <= 0:
        return [invalid(path, raw, "must be positive")]
    return []


def _metric_target(target: Mapping[str, Any], path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    t = as_str(target.get("type"))
    if not t:
        errs.append(required(f"{path}.type", "must specify a metric target type"))
    elif t not in TARGET_TYPES:
        errs.append(invalid(f"{path}.type", t, "must be either Utilization, Value, or AverageValue"))
    if target.get("value") is not None:
        errs.extend(_positive_quantity(target["value"], f"{path}.value"))
    if target.get("averageValue") is not None:
        errs.extend(_positive_quantity(target["averageValue"], f"{path}.averageValue"))
    util = target.get("averageUtilization")
    if util is not None and as_int(util) < 1:
        errs.append(invalid(f"{path}.averageUtilization", util, "must be greater than 0"))
    return errs


def _metric_identifier(metric: Mapping[str, Any], path: str) -> list[FieldError]:
    name = as_str(metric.get("name"))
    if not name:
        return [required(f"{path}.name", "must specify a metric name")]
    errs = [invalid(f"{path}.name", name, m) for m in names.validate_path_segment_name(name)]
    errs.extend(validate_label_selector(metric.get("selector"), f"{path}.selector"))
    return errs


def _resource_source(src: Mapping[str, Any], path: str, container: bool) -> list[FieldError]:
    errs: list[FieldError] = []
    if not as_str(src.get("name")):
        errs.append(required(f"{path}.name", "must specify a resource name"))
    if container and not as_str(src.get("container")):
        errs.append(required(f"{path}.container", "must specify a container"))
    target = as_dict(src.get("target"))
    errs.extend(_metric_target(target, f"{path}.target"))
    if target.get("averageUtilization") is None and target.get("averageValue") is None:
        errs.append(required(f"{path}.target.averageUtilization",
                             "must set either a target raw value or a target utilization"))
    if target.get("averageUtilization") is not None and target.get("averageValue") is not None:
        errs.append(forbidden(f"{path}.target.averageValue",
                              "may not set both a target raw value and a target utilization"))
    return errs


def _source(kind: str, src: Mapping[str, Any], path: str) -> list[FieldError]:
    if kind in ("resource", "containerResource"):
        return _resource_source(src, path, kind == "containerResource")
    errs = _metric_identifier(as_dict(src.get("metric")), f"{path}.metric")
    target = as_dict(src.get("target"))
    errs.extend(_metric_target(target, f"{path}.target"))
    if kind == "object":
        errs.extend(_cross_version_ref(as_dict(src.get("describedObject")), f"{path}.describedObject"))
        if target.get("value") is None and target.get("averageValue") is None:
            errs.append(required(f"{path}.target.averageValue", "must set either a target value or averageValue"))
    elif kind == "pods":
        if target.get("averageValue") is None:
            errs.append(required(f"{path}.target.averageValue", "must specify a positive target averageValue"))
    elif kind == "external":
        if target.get("value") is None and target.get("averageValue") is None:
            errs.append(required(f"{path}.target.averageValue", "must set either a target value for metric or a "
                                                                "per-pod target"))
        if target.get("value") is not None and target.get("averageValue") is not None:
            errs.append(forbidden(f"{path}.target.value",
                                  "may not set both a target value for metric and a per-pod target"))
    return errs


def validate_metric_spec(metric: Mapping[str, Any], path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    t = as_str(metric.get("type"))
    if not t:
        errs.append(required(f"{path}.type", "must specify a metric source type"))
    elif t not in METRIC_SOURCE_TYPES:
        errs.append(not_supported(f"{path}.type", t, METRIC_SOURCE_TYPES))
    present = [f for f in _SOURCE_FIELD.values() if metric.get(f) is not None]
    if len(present) == 1:
        errs.extend(_source(present[0], as_dict(metric[present[0]]), f"{path}.{present[0]}"))
    expected = _SOURCE_FIELD.get(t)
    if expected is not None and metric.get(expected) is None:
        errs.append(required(f"{path}.{expected}", "must populate information for the given metric source"))
    if len(present) != 1:
        for f in present:
            if f != expected:
                errs.append(forbidden(f"{path}.{f}", "must populate the given metric source only"))
    return errs


def _scaling_rules(rules: Any, path: str) -> list[FieldError]:
    if not isinstance(rules, dict):
        return []
    errs: list[FieldError] = []
    window = rules.get("stabilizationWindowSeconds")
    if isinstance(window, int):
        if window < 0:
            errs.append(invalid(f"{path}.stabilizationWindowSeconds", window, "must be greater than or equal to zero"))
        elif window > MAX_STABILIZATION_WINDOW:
            errs.append(invalid(f"{path}.stabilizationWindowSeconds", window,
                                f"must be less than or equal to {MAX_STABILIZATION_WINDOW}"))
    select = rules.get("selectPolicy")
    if select is not None and select not in SELECT_POLICIES:
        errs.append(not_supported(f"{path}.selectPolicy", select, SELECT_POLICIES))
    policies = as_list(rules.get("policies"))
    if not policies:
        errs.append(required(f"{path}.policies", "must specify at least one Policy"))
    for i, raw in enumerate(policies):
        p = as_dict(raw)
        ppath = f"{path}.policies[{i}]"
        if p.get("type") not in POLICY_TYPES:
            errs.append(not_supported(f"{ppath}.type", p.get("type"), POLICY_TYPES))
        if as_int(p.get("value")) <= 0:
            errs.append(invalid(f"{ppath}.value", p.get("value"), "must be greater than zero"))
        period = as_int(p.get("periodSeconds"))
        if period <= 0:
            errs.append(invalid(f"{ppath}.periodSeconds", p.get("periodSeconds"), "must be greater than zero"))
        elif period > MAX_PERIOD_SECONDS:
            errs.append(invalid(f"{ppath}.periodSeconds", period,
                                f"must be less than or equal to {MAX_PERIOD_SECONDS}"))
    return errs


def _spec(spec: Mapping[str, Any]) -> list[FieldError]:
    errs: list[FieldError] = []
    min_replicas = spec.get("minReplicas")
    max_replicas = as_int(spec.get("maxReplicas"))
    if min_replicas is not None and as_int(min_replicas) < MIN_REPLICAS_LOWER_BOUND:
        errs.append(invalid("spec.minReplicas", min_replicas,
                            f"must be greater than or equal to {MIN_REPLICAS_LOWER_BOUND}"))
    if max_replicas < 1:
        errs.append(invalid("spec.maxReplicas", max_replicas, "must be greater than 0"))
    if min_replicas is not None and max_replicas < as_int(min_replicas):
        errs.append(invalid("spec.maxReplicas", max_replicas, "must be greater than or equal to `minReplicas`"))
    ref_errs = _cross_version_ref(as_dict(spec.get("scaleTargetRef")), "spec.scaleTargetRef")
    if ref_errs:
        errs.extend(ref_errs)
    else:
        for i, metric in enumerate(as_list(spec.get("metrics"))):
            errs.extend(validate_metric_spec(as_dict(metric), f"spec.metrics[{i}]"))
    behavior = spec.get("behavior")
    if isinstance(behavior, dict):
        errs.extend(_scaling_rules(behavior.get("scaleUp"), "spec.behavior.scaleUp"))
        errs.extend(_scaling_rules(behavior.get("scaleDown"), "spec.behavior.scaleDown"))
    return errs


def validate_hpa(hpa: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta(hpa.get("metadata"), namespaced=True, name_fn=names.name_is_dns_subdomain,
                                core_group=False)
    return errs + _spec(as_dict(_v2(hpa).get("spec")))


def validate_hpa_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta_update(new.get("metadata"), old.get("metadata"), core_group=False)
    return errs + _spec(as_dict(_v2(new).get("spec")))


def validate_hpa_status_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta_update(new.get("metadata"), old.get("metadata"), core_group=False)
    status = as_dict(_v2(new).get("status"))
    for key in ("currentReplicas", "desiredReplicas"):
        value = status.get(key)
        if isinstance(value, int) and value < 0:
            errs.append(invalid(f"status.{key}", value, "must be greater than or equal to 0"))
    return errs
