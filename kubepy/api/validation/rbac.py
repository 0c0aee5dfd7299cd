"""Validation of rbac.authorization.k8s.io/v1 kinds (``pkg/apis/rbac/validation``).

Roles and ClusterRoles: every rule names verbs, and either resources (with API groups)
or non-resource URLs (cluster roles only), never both. Bindings: a roleRef in the RBAC
group naming a Role or ClusterRole (ClusterRole only for a ClusterRoleBinding), which can
never change, and subjects of kind User, Group or ServiceAccount. Names only have to be
usable as URL path segments, as upstream's ``ValidateRBACName``.
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
    validate_label_selector,
    validate_object_meta,
    validate_object_meta_update,
)

GROUP = "rbac.authorization.k8s.io"
SUBJECT_KINDS = ("ServiceAccount", "User", "Group")


def _meta(obj: Mapping[str, Any], namespaced: bool) -> list[FieldError]:
    return validate_object_meta(obj.get("metadata"), namespaced=namespaced,
                                name_fn=names.validate_path_segment_name, core_group=False)


def validate_policy_rule(rule: Mapping[str, Any], namespaced: bool, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    if not as_list(rule.get("verbs")):
        errs.append(required(f"{path}.verbs", "verbs must contain at least one value"))
    urls = as_list(rule.get("nonResourceURLs"))
    if urls:
        if namespaced:
            errs.append(invalid(f"{path}.nonResourceURLs", urls, "namespaced rules cannot apply to non-resource URLs"))
        if as_list(rule.get("apiGroups")) or as_list(rule.get("resources")) or as_list(rule.get("resourceNames")):
            errs.append(invalid(f"{path}.nonResourceURLs", urls,
                                "rules cannot apply to both regular resources and non-resource URLs"))
        return errs
    if not as_list(rule.get("apiGroups")):
        errs.append(required(f"{path}.apiGroups", "resource rules must supply at least one api group"))
    if not as_list(rule.get("resources")):
        errs.append(required(f"{path}.resources", "resource rules must supply at least one resource"))
    return errs


def _rules(obj: Mapping[str, Any], namespaced: bool) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, rule in enumerate(as_list(obj.get("rules"))):
        errs.extend(validate_policy_rule(as_dict(rule), namespaced, f"rules[{i}]"))
    return errs


def validate_role(role: Mapping[str, Any]) -> list[FieldError]:
    return _meta(role, True) + _rules(role, True)


def validate_role_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    return validate_object_meta_update(new.get("metadata"), old.get("metadata"), core_group=False) + _rules(new, True)


def _aggregation(role: Mapping[str, Any]) -> list[FieldError]:
    rule = role.get("aggregationRule")
    if not isinstance(rule, dict):
        return []
    selectors = as_list(rule.get("clusterRoleSelectors"))
    errs: list[FieldError] = []
    if not selectors:
        errs.append(required("aggregationRule.clusterRoleSelectors",
                             "at least one clusterRoleSelector required if aggregationRule is non-nil"))
    for i, sel in enumerate(selectors):
        errs.extend(validate_label_selector(sel, f"aggregationRule.clusterRoleSelectors[{i}]"))
    return errs


def validate_cluster_role(role: Mapping[str, Any]) -> list[FieldError]:
    return _meta(role, False) + _rules(role, False) + _aggregation(role)


def validate_cluster_role_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta_update(new.get("metadata"), old.get("metadata"), core_group=False)
    return errs + _rules(new, False) + _aggregation(new)


def validate_subject(subject: Mapping[str, Any], namespaced: bool, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    name = as_str(subject.get("name"))
    if not name:
        errs.append(required(f"{path}.name"))
    kind = as_str(subject.get("kind"))
    group = as_str(subject.get("apiGroup"))
    if kind == "ServiceAccount":
        if name:
            errs.extend(invalid(f"{path}.name", name, m) for m in names.name_is_dns_subdomain(name))
        if group:
            errs.append(not_supported(f"{path}.apiGroup", group, [""]))
        if not namespaced and not as_str(subject.get("namespace")):
            errs.append(required(f"{path}.namespace"))
    elif kind in ("User", "Group"):
        if group != GROUP:
            errs.append(not_supported(f"{path}.apiGroup", group, [GROUP]))
    else:
        errs.append(not_supported(f"{path}.kind", kind, SUBJECT_KINDS))
    return errs


def _binding(binding: Mapping[str, Any], namespaced: bool) -> list[FieldError]:
    errs: list[FieldError] = []
    ref = as_dict(binding.get("roleRef"))
    if as_str(ref.get("apiGroup")) != GROUP:
        errs.append(not_supported("roleRef.apiGroup", as_str(ref.get("apiGroup")), [GROUP]))
    kinds = ("Role", "ClusterRole") if namespaced else ("ClusterRole",)
    if as_str(ref.get("kind")) not in kinds:
        errs.append(not_supported("roleRef.kind", as_str(ref.get("kind")), kinds))
    ref_name = as_str(ref.get("name"))
    if not ref_name:
        errs.append(required("roleRef.name"))
    else:
        errs.extend(invalid("roleRef.name", ref_name, m) for m in names.validate_path_segment_name(ref_name))
    for i, subject in enumerate(as_list(binding.get("subjects"))):
        errs.extend(validate_subject(as_dict(subject), namespaced, f"subjects[{i}]"))
    return errs


def _role_ref_unchanged(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    if as_dict(new.get("roleRef")) != as_dict(old.get("roleRef")):
        return [invalid("roleRef", new.get("roleRef"), "cannot change roleRef")]
    return []


def validate_role_binding(binding: Mapping[str, Any]) -> list[FieldError]:
    return _meta(binding, True) + _binding(binding, True)


def validate_role_binding_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta_update(new.get("metadata"), old.get("metadata"), core_group=False)
    return errs + _role_ref_unchanged(new, old) + _binding(new, True)


def validate_cluster_role_binding(binding: Mapping[str, Any]) -> list[FieldError]:
    return _meta(binding, False) + _binding(binding, False)


def validate_cluster_role_binding_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta_update(new.get("metadata"), old.get("metadata"), core_group=False)
    return errs + _role_ref_unchanged(new, old) + _binding(new, False)
