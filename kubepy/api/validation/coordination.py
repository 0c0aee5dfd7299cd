"""Validation of coordination.k8s.io/v1 Lease (``pkg/apis/coordination/validation``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubepy.api.field_errors import FieldError, forbidden, invalid, not_supported
from kubepy.api.validation import names
from kubepy.api.validation.meta import as_dict, as_str, validate_object_meta, validate_object_meta_update

LEASE_STRATEGIES = ("OldestEmulationVersion",)


def _validate_lease_spec(spec: Mapping[str, Any]) -> list[FieldError]:
    errs: list[FieldError] = []
    duration = spec.get("leaseDurationSeconds")
    if isinstance(duration, int) and duration <= 0:
        errs.append(invalid("spec.leaseDurationSeconds", duration, "must be greater than 0"))
    transitions = spec.get("leaseTransitions")
    if isinstance(transitions, int) and transitions < 0:
        errs.append(invalid("spec.leaseTransitions", transitions, "must be greater than or equal to 0"))
    strategy = spec.get("strategy")
    if strategy is not None:
        text = as_str(strategy)
        if "/" not in text:
            if text not in LEASE_STRATEGIES:
                errs.append(not_supported("spec.strategy.strategy", text, LEASE_STRATEGIES))
        else:
            errs.extend(invalid("spec.strategy.strategy", text, m) for m in names.is_qualified_name(text))
    if as_str(spec.get("preferredHolder")) and not as_str(strategy):
        errs.append(forbidden("spec.preferredHolder", "may only be specified if `strategy` is defined"))
    return errs


def validate_lease(lease: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta(lease.get("metadata"), namespaced=True, name_fn=names.name_is_dns_subdomain, core_group=False)
    errs.extend(_validate_lease_spec(as_dict(lease.get("spec"))))
    return errs


def validate_lease_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta_update(new.get("metadata"), old.get("metadata"), core_group=False)
    errs.extend(_validate_lease_spec(as_dict(new.get("spec"))))
    return errs
