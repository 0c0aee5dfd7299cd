"""Validation of scheduling.k8s.io/v1 PriorityClass (``pkg/apis/scheduling/validation``).

Names starting with ``system-`` are reserved for the two built-in classes (with their
exact values); other classes may not exceed one billion. ``value`` and
``preemptionPolicy`` never change once created.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubepy.api.field_errors import FieldError, forbidden, not_supported
from kubepy.api.validation import names
from kubepy.api.validation.meta import (
    as_dict,
    as_int,
    as_str,
    validate_immutable,
    validate_object_meta,
    validate_object_meta_update,
)

SYSTEM_PREFIX = "system-"
HIGHEST_USER_DEFINABLE_PRIORITY = 1_000_000_000
SYSTEM_CRITICAL_PRIORITY = 2 * HIGHEST_USER_DEFINABLE_PRIORITY
#: name -> (value, description) of the classes the API server creates at start
SYSTEM_PRIORITY_CLASSES: dict[str, tuple[int, str]] = {
    "system-node-critical": (SYSTEM_CRITICAL_PRIORITY + 1000,
                             "Used for system critical pods that must not be moved from their current node."),
    "system-cluster-critical": (SYSTEM_CRITICAL_PRIORITY,
                                "Used for system critical pods that must run in the cluster, but can be moved "
                                "to another node if necessary."),
}
PREEMPTION_POLICIES = ("Never", "PreemptLowerPriority")


def known_system_class_error(name: str, value: int, global_default: bool) -> str:
    """Why (name, value, globalDefault) is not a built-in class ("" if it is one)."""
    known = SYSTEM_PRIORITY_CLASSES.get(name)
    if known is None:
        return f"{name} is not a known system priority class"
    if value != known[0]:
        return f"value of {name} PriorityClass must be {known[0]}"
    if global_default:
        return f"globalDefault of {name} PriorityClass must be false"
    return ""


def validate_priority_class(pc: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta(pc.get("metadata"), namespaced=False, name_fn=names.name_is_dns_subdomain,
                                core_group=False)
    name = as_str(as_dict(pc.get("metadata")).get("name"))
    value = as_int(pc.get("value"))
    if name.startswith(SYSTEM_PREFIX):
        why = known_system_class_error(name, value, pc.get("globalDefault") is True)
        if why:
            errs.append(forbidden("metadata.name", f"priority class names with '{SYSTEM_PREFIX}' prefix are "
                                                   f"reserved for system use only. error: {why}"))
    elif value > HIGHEST_USER_DEFINABLE_PRIORITY:
        errs.append(forbidden("value", f"maximum allowed value of a user defined priority is "
                                       f"{HIGHEST_USER_DEFINABLE_PRIORITY}"))
    policy = pc.get("preemptionPolicy")
    if policy is not None and policy not in PREEMPTION_POLICIES:
        errs.append(not_supported("preemptionPolicy", policy, PREEMPTION_POLICIES))
    return errs


def validate_priority_class_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta_update(new.get("metadata"), old.get("metadata"), core_group=False)
    if as_int(new.get("value")) != as_int(old.get("value")):
        errs.append(forbidden("value", "may not be changed in an update."))
    errs.extend(validate_immutable(new.get("preemptionPolicy"), old.get("preemptionPolicy"), "preemptionPolicy"))
    return errs
