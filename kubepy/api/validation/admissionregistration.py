"""Validation of admissionregistration.k8s.io/v1 kinds (``pkg/apis/admissionregistration/validation``).

The objects are stored only (no webhook is called, no policy evaluated yet), but they
are checked as upstream checks them so that what is accepted here is accepted there:
webhook names are fully qualified and unique, a client config names exactly one of url
or service, sideEffects and admissionReviewVersions are required, enums (failurePolicy,
matchPolicy, reinvocationPolicy, rule operations and scope) hold known values, timeouts
are 1-30 s. Validating admission policies need validations or audit annotations;
bindings name a policy and at least one validation action.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubepy.api.field_errors import FieldError, duplicate, invalid, not_supported, required
from kubepy.api.validation import names
from kubepy.api.validation.meta import (
    as_dict,
    as_list,
    as_str,
    validate_label_selector,
    validate_object_meta,
    validate_object_meta_update,
)

FAILURE_POLICIES = ("Fail", "Ignore")
MATCH_POLICIES = ("Equivalent", "Exact")
REINVOCATION_POLICIES = ("IfNeeded", "Never")
SIDE_EFFECTS = ("None", "NoneOnDryRun")
REVIEW_VERSIONS = ("v1", "v1beta1")
OPERATIONS = ("*", "CONNECT", "CREATE", "DELETE", "UPDATE")
SCOPES = ("*", "Cluster", "Namespaced")
VALIDATION_ACTIONS = ("Audit", "Deny", "Warn")


def _meta(obj: Mapping[str, Any]) -> list[FieldError]:
    return validate_object_meta(obj.get("metadata"), namespaced=False, name_fn=names.name_is_dns_subdomain,
                                core_group=False)


def _meta_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    return validate_object_meta_update(new.get("metadata"), old.get("metadata"), core_group=False)


def _enum(errs: list[FieldError], value: Any, path: str, allowed: tuple[str, ...]) -> None:
    if value is not None and value not in allowed:
        errs.append(not_supported(path, value, allowed))


def _rules(rules: Any, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, raw in enumerate(as_list(rules)):
        rule = as_dict(raw)
        rpath = f"{path}[{i}]"
        ops = as_list(rule.get("operations"))
        if not ops:
            errs.append(required(f"{rpath}.operations"))
        for j, op in enumerate(ops):
            _enum(errs, op, f"{rpath}.operations[{j}]", OPERATIONS)
        if not as_list(rule.get("apiGroups")):
            errs.append(required(f"{rpath}.apiGroups"))
        if not as_list(rule.get("apiVersions")):
            errs.append(required(f"{rpath}.apiVersions"))
        if not as_list(rule.get("resources")):
            errs.append(required(f"{rpath}.resources"))
        _enum(errs, rule.get("scope"), f"{rpath}.scope", SCOPES)
    return errs


def _client_config(cfg: Mapping[str, Any], path: str) -> list[FieldError]:
    url = cfg.get("url")
    service = cfg.get("service")
    if (url is None) == (service is None):
        return [required(path, "exactly one of url or service is required")]
    errs: list[FieldError] = []
    if url is not None:
        text = as_str(url)
        if not text.startswith("https://"):
            errs.append(invalid(f"{path}.url", text, "'https' is the only allowed URL scheme"))
    else:
        svc = as_dict(service)
        if not as_str(svc.get("name")):
            errs.append(required(f"{path}.service.name", "service name is required"))
        if not as_str(svc.get("namespace")):
            errs.append(required(f"{path}.service.namespace", "service namespace is required"))
        port = svc.get("port")
        if isinstance(port, int):
            errs.extend(invalid(f"{path}.service.port", port, m) for m in names.is_valid_port_num(port))
    return errs


def _webhooks(cfg: Mapping[str, Any], mutating: bool) -> list[FieldError]:
    errs: list[FieldError] = []
    seen: set[str] = set()
    for i, raw in enumerate(as_list(cfg.get("webhooks"))):
        hook = as_dict(raw)
        path = f"webhooks[{i}]"
        name = as_str(hook.get("name"))
        if not name:
            errs.append(required(f"{path}.name"))
        else:
            errs.extend(invalid(f"{path}.name", name, m) for m in names.is_dns1123_subdomain(name))
            if name.count(".") < 2:
                errs.append(invalid(f"{path}.name", name, "should be a domain with at least three segments "
                                                          "separated by dots"))
            if name in seen:
                errs.append(duplicate(f"{path}.name", name))
            seen.add(name)
        errs.extend(_rules(hook.get("rules"), f"{path}.rules"))
        _enum(errs, hook.get("failurePolicy"), f"{path}.failurePolicy", FAILURE_POLICIES)
        _enum(errs, hook.get("matchPolicy"), f"{path}.matchPolicy", MATCH_POLICIES)
        if mutating:
            _enum(errs, hook.get("reinvocationPolicy"), f"{path}.reinvocationPolicy", REINVOCATION_POLICIES)
        side = hook.get("sideEffects")
        if side is None:
            errs.append(required(f"{path}.sideEffects", "must specify one of " + ", ".join(SIDE_EFFECTS)))
        else:
            _enum(errs, side, f"{path}.sideEffects", SIDE_EFFECTS)
        versions = as_list(hook.get("admissionReviewVersions"))
        if not versions:
            errs.append(required(f"{path}.admissionReviewVersions",
                                 "must specify one of " + ", ".join(REVIEW_VERSIONS)))
        elif not any(v in REVIEW_VERSIONS for v in versions):
            errs.append(invalid(f"{path}.admissionReviewVersions", versions,
                                "must include at least one of " + ", ".join(REVIEW_VERSIONS)))
        timeout = hook.get("timeoutSeconds")
        if isinstance(timeout, int) and not 1 <= timeout <= 30:
            errs.append(invalid(f"{path}.timeoutSeconds", timeout, "the timeout value must be between 1 and 30 seconds"))
        errs.extend(validate_label_selector(hook.get("namespaceSelector"), f"{path}.namespaceSelector"))
        errs.extend(validate_label_selector(hook.get("objectSelector"), f"{path}.objectSelector"))
        errs.extend(_client_config(as_dict(hook.get("clientConfig")), f"{path}.clientConfig"))
    return errs


def validate_mutating_webhook_configuration(cfg: Mapping[str, Any]) -> list[FieldError]:
    return _meta(cfg) + _webhooks(cfg, True)


def validate_mutating_webhook_configuration_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    return _meta_update(new, old) + _webhooks(new, True)


def validate_validating_webhook_configuration(cfg: Mapping[str, Any]) -> list[FieldError]:
    return _meta(cfg) + _webhooks(cfg, False)


def validate_validating_webhook_configuration_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    return _meta_update(new, old) + _webhooks(new, False)


def _policy_spec(spec: Mapping[str, Any]) -> list[FieldError]:
    errs: list[FieldError] = []
    validations = as_list(spec.get("validations"))
    audits = as_list(spec.get("auditAnnotations"))
    if not validations and not audits:
        errs.append(required("spec.validations", "validations or auditAnnotations must contain at least one item"))
    for i, raw in enumerate(validations):
        if not as_str(as_dict(raw).get("expression")):
            errs.append(required(f"spec.validations[{i}].expression"))
    for i, raw in enumerate(audits):
        a = as_dict(raw)
        if not as_str(a.get("key")):
            errs.append(required(f"spec.auditAnnotations[{i}].key"))
        if not as_str(a.get("valueExpression")):
            errs.append(required(f"spec.auditAnnotations[{i}].valueExpression"))
    _enum(errs, spec.get("failurePolicy"), "spec.failurePolicy", FAILURE_POLICIES)
    constraints = as_dict(spec.get("matchConstraints"))
    if spec.get("matchConstraints") is None:
        errs.append(required("spec.matchConstraints", "must be specified"))
    errs.extend(_rules(constraints.get("resourceRules"), "spec.matchConstraints.resourceRules"))
    _enum(errs, constraints.get("matchPolicy"), "spec.matchConstraints.matchPolicy", MATCH_POLICIES)
    param_kind = spec.get("paramKind")
    if isinstance(param_kind, dict):
        if not as_str(param_kind.get("kind")):
            errs.append(required("spec.paramKind.kind"))
        if not as_str(param_kind.get("apiVersion")):
            errs.append(required("spec.paramKind.apiVersion"))
    return errs


def validate_validating_admission_policy(p: Mapping[str, Any]) -> list[FieldError]:
    return _meta(p) + _policy_spec(as_dict(p.get("spec")))


def validate_validating_admission_policy_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    return _meta_update(new, old) + _policy_spec(as_dict(new.get("spec")))


def _binding_spec(spec: Mapping[str, Any]) -> list[FieldError]:
    errs: list[FieldError] = []
    policy = as_str(spec.get("policyName"))
    if not policy:
        errs.append(required("spec.policyName"))
    else:
        errs.extend(invalid("spec.policyName", policy, m) for m in names.is_dns1123_subdomain(policy))
    actions = as_list(spec.get("validationActions"))
    if not actions:
        errs.append(required("spec.validationActions", "at least one validation action is required"))
    seen: set[str] = set()
    for i, action in enumerate(actions):
        if action not in VALIDATION_ACTIONS:
            errs.append(not_supported(f"spec.validationActions[{i}]", action, VALIDATION_ACTIONS))
        elif action in seen:
            errs.append(duplicate(f"spec.validationActions[{i}]", action))
        seen.add(as_str(action))
    if "Deny" in seen and "Warn" in seen:
        errs.append(invalid("spec.validationActions", actions,
                            "must not contain both Deny and Warn (repeating the same validation failure "
                            "information in the API response and headers serves no purpose)"))
    return errs


def validate_validating_admission_policy_binding(b: Mapping[str, Any]) -> list[FieldError]:
    return _meta(b) + _binding_spec(as_dict(b.get("spec")))


def validate_validating_admission_policy_binding_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    return _meta_update(new, old) + _binding_spec(as_dict(new.get("spec")))
