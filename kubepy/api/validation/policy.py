"""Validation of policy/v1 PodDisruptionBudget (``pkg/apis/policy/validation``).

A budget sets minAvailable or maxUnavailable (an integer or a percentage up to 100%),
never both, selects pods with a label selector, and may name an unhealthy-pod eviction
policy. The spec is fully mutable in policy/v1. Status writes (the disruption controller
and evictions) keep every counter non-negative.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubepy.api.field_errors import FieldError, invalid, not_supported
from kubepy.api.validation import names
from kubepy.api.validation.apps import is_not_more_than_100_percent, validate_positive_int_or_percent
from kubepy.api.validation.meta import (
    as_dict,
    validate_label_selector,
    validate_nonnegative,
    validate_object_meta,
    validate_object_meta_update,
)

UNHEALTHY_POD_EVICTION_POLICIES = ("AlwaysAllow", "IfHealthyBudget")
STATUS_COUNTERS = ("disruptionsAllowed", "currentHealthy", "desiredHealthy", "expectedPods")


def validate_pdb_spec(spec: Mapping[str, Any], path: str = "spec") -> list[FieldError]:
    errs: list[FieldError] = []
    min_available = spec.get("minAvailable")
    max_unavailable = spec.get("maxUnavailable")
    if min_available is not None and max_unavailable is not None:
        errs.append(invalid(path, dict(spec), "minAvailable and maxUnavailable cannot be both set"))
    for key, value in (("minAvailable", min_available), ("maxUnavailable", max_unavailable)):
        if value is not None:
            errs.extend(validate_positive_int_or_percent(value, f"{path}.{key}"))
            errs.extend(is_not_more_than_100_percent(value, f"{path}.{key}"))
    errs.extend(validate_label_selector(spec.get("selector"), f"{path}.selector"))
    policy = spec.get("unhealthyPodEvictionPolicy")
    if policy is not None and policy not in UNHEALTHY_POD_EVICTION_POLICIES:
        errs.append(not_supported(f"{path}.unhealthyPodEvictionPolicy", policy, UNHEALTHY_POD_EVICTION_POLICIES))
    return errs


def validate_pdb(pdb: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta(pdb.get("metadata"), namespaced=True, name_fn=names.name_is_dns_subdomain,
                                core_group=False)
    return errs + validate_pdb_spec(as_dict(pdb.get("spec")))


def validate_pdb_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta_update(new.get("metadata"), old.get("metadata"), core_group=False)
    return errs + validate_pdb_spec(as_dict(new.get("spec")))


def validate_pdb_status_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta_update(new.get("metadata"), old.get("metadata"), core_group=False)
    status = as_dict(new.get("status"))
    for key in STATUS_COUNTERS:
        errs.extend(validate_nonnegative(status.get(key), f"status.{key}"))
    return errs
