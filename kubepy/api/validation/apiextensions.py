"""Validation of apiextensions.k8s.io/v1 CustomResourceDefinitions.

Upstream validates the internal CRD type, into which a v1 CRD is converted first; that
conversion decides the field paths seen in errors, so this module reproduces it: when
every version carries the same schema (always so with one version), schema errors are
reported under ``spec.validation.openAPIV3Schema``, otherwise under
``spec.versions[i].schema.openAPIV3Schema``; subresources, printer columns and selectable
fields are lifted to ``spec.subresources`` / ``spec.additionalPrinterColumns`` /
``spec.selectableFields`` the same way. Messages are upstream's (validation.go).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubepy.api import field_errors as fe
from kubepy.api.crd import definition
from kubepy.api.crd.schema_rules import validate_schema
from kubepy.api.crd.structural import Node, compile_schema
from kubepy.api.field_errors import FieldError
from kubepy.api.validation import names
from kubepy.api.validation.meta import (
    as_dict,
    as_list,
    as_str,
    validate_immutable,
    validate_object_meta,
    validate_object_meta_update,
)

__all__ = [
    "validate_crd",
    "validate_crd_status_update",
    "validate_crd_update",
]

PRINTER_COLUMN_TYPES = ("boolean", "date", "integer", "number", "string")
PRINTER_COLUMN_FORMATS = ("byte", "date", "date-time", "double", "float", "int32", "int64", "password")
MAX_SELECTABLE_FIELDS = 8


def _dns1035(value: str, path: str, prefix: str = "") -> list[FieldError]:
    msgs = names.is_dns1035_label(value.lower() if prefix else value)
    if not msgs:
        return []
    return [fe.invalid(path, value, prefix + ",".join(msgs))]


def validate_names(names_obj: Any, path: str) -> list[FieldError]:
    n = as_dict(names_obj)
    errs: list[FieldError] = []
    plural, singular = as_str(n.get("plural")), as_str(n.get("singular"))
    kind, list_kind = as_str(n.get("kind")), as_str(n.get("listKind"))
    mixed = "may have mixed case, but should otherwise match: "
    if plural:
        errs.extend(_dns1035(plural, f"{path}.plural"))
    if singular:
        errs.extend(_dns1035(singular, f"{path}.singular"))
    if kind:
        errs.extend(_dns1035(kind, f"{path}.kind", mixed))
    if list_kind:
        errs.extend(_dns1035(list_kind, f"{path}.listKind", mixed))
    for i, short in enumerate(as_list(n.get("shortNames"))):
        errs.extend(_dns1035(as_str(short), f"{path}.shortNames[{i}]"))
    if kind and kind == list_kind:
        errs.append(fe.invalid(f"{path}.listKind", list_kind, "kind and listKind may not be the same"))
    for i, cat in enumerate(as_list(n.get("categories"))):
        errs.extend(_dns1035(as_str(cat), f"{path}.categories[{i}]"))
    return errs


def _simple_json_path(s: str, path: str) -> list[FieldError]:
    if not s:
        return [fe.invalid(path, s, "must not be empty")]
    if s[0] != ".":
        return [fe.invalid(path, s, "must be a simple json path starting with .")]
    return []


def validate_subresources(sub: Any, path: str) -> list[FieldError]:
    s = as_dict(sub)
    scale = s.get("scale")
    if not isinstance(scale, dict):
        return []
    errs: list[FieldError] = []
    for key, prefix, where in (("specReplicasPath", ".spec.", ".spec"), ("statusReplicasPath", ".status.", ".status")):
        value = as_str(scale.get(key))
        if not value:
            errs.append(fe.required(f"{path}.scale.{key}", ""))
            continue
        bad = _simple_json_path(value, f"{path}.scale.{key}")
        if bad:
            errs.extend(bad)
        elif not value.startswith(prefix):
            errs.append(fe.invalid(f"{path}.scale.{key}", value, f"should be a json path under {where}"))
    selector = as_str(scale.get("labelSelectorPath"))
    if selector:
        bad = _simple_json_path(selector, f"{path}.scale.labelSelectorPath")
        if bad:
            errs.extend(bad)
        elif not selector.startswith((".spec.", ".status.")):
            errs.append(fe.invalid(f"{path}.scale.labelSelectorPath", selector,
                                   "should be a json path under either .spec or .status"))
    return errs


def validate_printer_column(col: Any, path: str) -> list[FieldError]:
    c = as_dict(col)
    errs: list[FieldError] = []
    if not as_str(c.get("name")):
        errs.append(fe.required(f"{path}.name", ""))
    t = as_str(c.get("type"))
    must = "must be one of " + ",".join(PRINTER_COLUMN_TYPES)
    if not t:
        errs.append(fe.required(f"{path}.type", must))
    elif t not in PRINTER_COLUMN_TYPES:
        errs.append(fe.invalid(f"{path}.type", t, must))
    f = as_str(c.get("format"))
    if f and f not in PRINTER_COLUMN_FORMATS:
        errs.append(fe.invalid(f"{path}.format", f, "must be one of " + ",".join(PRINTER_COLUMN_FORMATS)))
    jp = as_str(c.get("jsonPath"))
    if not jp:
        errs.append(fe.required(f"{path}.JSONPath", ""))
    else:
        errs.extend(_simple_json_path(jp, f"{path}.JSONPath"))
    return errs


def _field_node(root: Node, json_path: str) -> tuple[Node | None, str]:
    """The schema node a selectable field's ``.a.b`` path points at, and an error text."""
    if not json_path.startswith("."):
        return None, "must be a simple json path starting with ."
    node: Node | None = root
    for part in json_path[1:].split("."):
        if not part or "[" in part:
            return None, f"is an invalid path: invalid path: {json_path}"
        if node is None or node.properties is None or part not in node.properties:
            return None, f"is an invalid path: does not refer to a valid field"
        node = node.properties[part]
    return node, ""


def validate_selectable_fields(fields: Any, schema: Any, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    root = compile_schema(schema)
    seen: set[str] = set()
    for i, item in enumerate(as_list(fields)):
        p = f"{path}[{i}].jsonPath"
        jp = as_str(as_dict(item).get("jsonPath"))
        if not jp:
            errs.append(fe.required(p, ""))
            continue
        node, problem = _field_node(root, jp)
        if node is None:
            errs.append(fe.invalid(p, jp, problem))
            continue
        if jp.split(".")[1] == "metadata":
            errs.append(fe.invalid(p, jp, "must not point to fields in metadata"))
        if node.type not in ("string", "boolean", "integer"):
            errs.append(fe.invalid(p, jp, "must point to a field of type string, boolean or integer. "
                                          "Enum string fields and strings with formats are allowed."))
        if jp in seen:
            errs.append(fe.duplicate(p, jp))
        seen.add(jp)
    if len(seen) > MAX_SELECTABLE_FIELDS:
        errs.append(fe.too_many(path, len(seen), MAX_SELECTABLE_FIELDS))
    return errs


def _identical(values: list[Any]) -> bool:
    return bool(values) and all(v is not None and v == values[0] for v in values)


def validate_crd_spec(spec_obj: Any, path: str = "spec") -> list[FieldError]:
    spec = as_dict(spec_obj)
    errs: list[FieldError] = []
    group = as_str(spec.get("group"))
    if not group:
        errs.append(fe.required(f"{path}.group", ""))
    elif names.is_dns1123_subdomain(group):
        errs.append(fe.invalid(f"{path}.group", group, ",".join(names.is_dns1123_subdomain(group))))
    elif len(group.split(".")) < 2:
        errs.append(fe.invalid(f"{path}.group", group, "should be a domain with at least one dot"))
    scope = as_str(spec.get("scope"))
    if not scope:
        errs.append(fe.required(f"{path}.scope", ""))
    elif scope not in ("Cluster", "Namespaced"):
        errs.append(fe.not_supported(f"{path}.scope", scope, ("Cluster", "Namespaced")))
    versions = [as_dict(v) for v in as_list(spec.get("versions"))]
    schemas = [definition.schema_of(v) for v in versions]
    subresources = [v.get("subresources") for v in versions]
    columns = [v.get("additionalPrinterColumns") or None for v in versions]
    selectable = [v.get("selectableFields") or None for v in versions]
    lift_schema = _identical(schemas)
    lift_subs = _identical(subresources)
    lift_columns = _identical(columns)
    lift_selectable = _identical(selectable) and lift_schema
    any_status = any(isinstance(s, dict) and s.get("status") is not None for s in subresources)
    if spec.get("preserveUnknownFields") is True:
        errs.append(fe.invalid(f"{path}.preserveUnknownFields", True,
                               "cannot set to true, set x-kubernetes-preserve-unknown-fields to true in "
                               "spec.versions[*].schema instead"))
    storage = 0
    seen: set[str] = set()
    unique = True
    for i, v in enumerate(versions):
        vpath = f"{path}.versions[{i}]"
        name = as_str(v.get("name"))
        if v.get("storage") is True:
            storage += 1
        if name in seen:
            unique = False
        seen.add(name)
        msgs = names.is_dns1035_label(name)
        if msgs:
            errs.append(fe.invalid(f"{vpath}.name", name, ",".join(msgs)))
        if schemas[i] is None:
            errs.append(fe.required(f"{vpath}.schema.openAPIV3Schema", "schemas are required"))
        warning = v.get("deprecationWarning")
        if warning is not None and not v.get("deprecated"):
            errs.append(fe.invalid(f"{vpath}.deprecationWarning", warning, "can only be set for deprecated versions"))
        elif isinstance(warning, str) and len(warning) > 256:
            errs.append(fe.invalid(f"{vpath}.deprecationWarning", warning, "must be <= 256 characters long"))
        sub_i = subresources[i]
        status_here = isinstance(sub_i, dict) and sub_i.get("status") is not None
        if not lift_schema and schemas[i] is not None:
            errs.extend(validate_schema(schemas[i], f"{vpath}.schema.openAPIV3Schema", status_enabled=status_here))
        if not lift_subs:
            errs.extend(validate_subresources(subresources[i], f"{vpath}.subresources"))
        if not lift_columns:
            for j, col in enumerate(as_list(columns[i])):
                errs.extend(validate_printer_column(col, f"{vpath}.additionalPrinterColumns[{j}]"))
        if not lift_selectable and selectable[i]:
            if schemas[i] is None:
                errs.append(fe.invalid(f"{vpath}.selectableFields", "",
                                       "selectableFields may only be set when version.schema.openAPIV3Schema "
                                       "is not included"))
            else:
                errs.extend(validate_selectable_fields(selectable[i], schemas[i], f"{vpath}.selectableFields"))
    if not unique:
        errs.append(fe.invalid(f"{path}.versions", versions, "must contain unique version names"))
    if storage != 1:
        errs.append(fe.invalid(f"{path}.versions", versions, "must have exactly one version marked as storage version"))
    n = as_dict(spec.get("names"))
    for key in ("plural", "singular", "kind", "listKind"):
        if not as_str(n.get(key)):
            errs.append(fe.required(f"{path}.names.{key}", ""))
    errs.extend(validate_names(n, f"{path}.names"))
    if lift_schema:
        errs.extend(validate_schema(schemas[0], f"{path}.validation.openAPIV3Schema", status_enabled=any_status))
    if lift_subs:
        errs.extend(validate_subresources(subresources[0], f"{path}.subresources"))
    if lift_columns:
        for j, col in enumerate(as_list(columns[0])):
            errs.extend(validate_printer_column(col, f"{path}.additionalPrinterColumns[{j}]"))
    if lift_selectable and selectable[0]:
        errs.extend(validate_selectable_fields(selectable[0], schemas[0], f"{path}.selectableFields"))
    errs.extend(_validate_conversion(spec.get("conversion"), f"{path}.conversion"))
    return errs


def _validate_conversion(conv: Any, path: str) -> list[FieldError]:
    c = as_dict(conv)
    if not c:
        return []
    strategy = as_str(c.get("strategy"))
    if not strategy:
        return [fe.required(f"{path}.strategy", "")]
    if strategy not in ("None", "Webhook"):
        return [fe.not_supported(f"{path}.strategy", strategy, ("None", "Webhook"))]
    errs: list[FieldError] = []
    webhook = as_dict(c.get("webhook"))
    if strategy == "Webhook":
        client = webhook.get("clientConfig")
        if not isinstance(client, dict):
            errs.append(fe.required(f"{path}.webhook.clientConfig", "required when strategy is set to Webhook"))
        elif (client.get("url") is None) == (client.get("service") is None):
            errs.append(fe.required(f"{path}.webhook.clientConfig", "exactly one of url or service is required"))
        if not as_list(webhook.get("conversionReviewVersions")):
            errs.append(fe.required(f"{path}.webhook.conversionReviewVersions", ""))
    elif webhook:
        errs.append(fe.forbidden(f"{path}.webhook", "should not be set when strategy is not set to Webhook"))
    return errs


def _validate_status(status: Any) -> list[FieldError]:
    return validate_names(as_dict(status).get("acceptedNames"), "status.acceptedNames")


def _stored_versions(crd: Mapping[str, Any]) -> list[FieldError]:
    stored = [as_str(v) for v in as_list(as_dict(crd.get("status")).get("storedVersions"))]
    path = "status.storedVersions"
    if not stored:
        return [fe.invalid(path, stored, "must have at least one stored version")]
    errs: list[FieldError] = []
    remaining = {v: i for i, v in enumerate(stored)}
    for version in definition.versions(crd):
        name = as_str(version.get("name"))
        if version.get("storage") and name not in remaining and name not in stored:
            errs.append(fe.invalid(path, stored, f"must have the storage version {name}"))
        remaining.pop(name, None)
    for v, i in remaining.items():
        errs.append(fe.invalid(f"{path}[{i}]", v,
                               f"missing from spec.versions; {v} was previously a storage version, and must remain in "
                               f"spec.versions until a storage migration ensures no data remains persisted in {v} and "
                               f"removes {v} from status.storedVersions"))
    return errs


def _name_fn(crd: Mapping[str, Any]) -> Any:
    spec = as_dict(crd.get("spec"))
    required_name = as_str(as_dict(spec.get("names")).get("plural")) + "." + as_str(spec.get("group"))

    def fn(name: str, prefix: bool) -> list[str]:
        out = names.name_is_dns_subdomain(name, prefix)
        if name != required_name:
            out.append('must be spec.names.plural+"."+spec.group')
        return out

    return fn


def validate_crd(crd: Mapping[str, Any]) -> list[FieldError]:
    """Errors of creating ``crd`` (already defaulted)."""
    errs = validate_object_meta(crd.get("metadata"), namespaced=False, name_fn=_name_fn(crd), core_group=False)
    errs.extend(validate_crd_spec(crd.get("spec")))
    errs.extend(_validate_status(crd.get("status")))
    errs.extend(_stored_versions(crd))
    return errs


def validate_crd_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta_update(new.get("metadata"), old.get("metadata"), core_group=False)
    errs.extend(validate_crd_spec(new.get("spec")))
    ns, os_ = as_dict(new.get("spec")), as_dict(old.get("spec"))
    if definition.is_condition_true(old, "Established"):
        errs.extend(validate_immutable(ns.get("scope"), os_.get("scope"), "spec.scope"))
        errs.extend(validate_immutable(as_dict(ns.get("names")).get("kind"), as_dict(os_.get("names")).get("kind"),
                                       "spec.names.kind"))
    errs.extend(validate_immutable(ns.get("group"), os_.get("group"), "spec.group"))
    errs.extend(validate_immutable(as_dict(ns.get("names")).get("plural"), as_dict(os_.get("names")).get("plural"),
                                   "spec.names.plural"))
    errs.extend(_validate_status(new.get("status")))
    errs.extend(_stored_versions(new))
    return errs


def validate_crd_status_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    errs = validate_object_meta_update(new.get("metadata"), old.get("metadata"), core_group=False)
    errs.extend(_validate_status(new.get("status")))
    return errs
