"""Validation of node.k8s.io/v1 RuntimeClass (``pkg/apis/node/validation``).

The handler names a CRI runtime handler: a DNS label, fixed for the object's life.
Overhead quantities must be valid and non-negative; the scheduling node selector and
tolerations follow the pod rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubepy.api.field_errors import FieldError, invalid, not_supported, required
from kubepy.api.validation import names
from kubepy.api.validation.meta import (
    as_dict,
    as_list,
    as_str,
    validate_immutable,
    validate_labels,
    validate_object_meta,
    validate_object_meta_update,
)
from kubepy.api.validation.quantities import parse_value

TOLERATION_OPERATORS = ("Equal", "Exists")
TAINT_EFFECTS = ("NoExecute", "NoSchedule", "PreferNoSchedule")


def _spec(rc: Mapping[str, Any]) -> list[FieldError]:
    errs: list[FieldError] = []
    handler = as_str(rc.get("handler"))
    if not handler:
        errs.append(required("handler"))
    else:
        errs.extend(invalid("handler", handler, m) for m in names.name_is_dns_label(handler))
    for key, value in as_dict(as_dict(rc.get("overhead")).get("podFixed")).items():
        q = parse_value(value)
        if q is None:
            errs.append(invalid(f"overhead.podFixed[{key}]", value, "must be a valid resource quantity"))
        elif q.value < 0:
            errs.append(invalid(f"overhead.podFixed[{key}]", value, "must be greater than or equal to 0"))
    sched = as_dict(rc.get("scheduling"))
    errs.extend(validate_labels(sched.get("nodeSelector"), "scheduling.nodeSelector"))
    for i, raw in enumerate(as_list(sched.get("tolerations"))):
        tol = as_dict(raw)
        path = f"scheduling.tolerations[{i}]"
        op = as_str(tol.get("operator")) or "Equal"
        if op not in TOLERATION_OPERATORS:
            errs.append(not_supported(f"{path}.operator", op, TOLERATION_OPERATORS))
        if op == "Exists" and as_str(tol.get("value")):
            errs.append(invalid(f"{path}.operator", tol.get("value"), "value must be empty when `operator` is 'Exists'"))
        effect = as_str(tol.get("effect"))
        if effect and effect not in TAINT_EFFECTS:
            errs.append(not_supported(f"{path}.effect", effect, TAINT_EFFECTS))
    return errs


def validate_runtime_class(rc: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta(rc.get("metadata"), namespaced=False, name_fn=names.name_is_dns_subdomain,
                                core_group=False)
    return errs + _spec(rc)


def validate_runtime_class_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta_update(new.get("metadata"), old.get("metadata"), core_group=False)
    errs.extend(validate_immutable(new.get("handler"), old.get("handler"), "handler"))
    return errs + _spec(new)
