"""The rules a CRD's ``openAPIV3Schema`` must follow: OpenAPI subset, structural, defaults, CEL.

Upstream checks a CRD schema in three layers, all reproduced here with their messages and
field paths (``<base>.properties[spec].type``):
- the supported OpenAPI subset (``specStandardValidatorV3`` and
  ``ValidateCustomResourceDefinitionOpenAPISchema``): no ``$ref``, ``id``,
  ``patternProperties``, ``definitions``, ``dependencies``, ``additionalItems``,
  ``uniqueItems``, ``type: null``; ``additionalProperties`` and ``properties`` are
  mutually exclusive; list/map type extensions are coherent; CEL rules compile;
- structurality (``schema.ValidateStructural``): a ``type`` on every node, array ``items``,
  no ``additionalProperties`` at the root, the int-or-string and embedded-resource rules,
  ``metadata`` restricted to name/generateName at the root and absent from value
  validations, value validations (``allOf``/``anyOf``/``oneOf``/``not``) free of types,
  defaults, descriptions and extensions;
- defaults (``defaulting.ValidateDefaults``): a default must itself validate against the
  schema at its place, and is forbidden in the root ``metadata``/``apiVersion``/``kind``.

Structural errors are sorted by their text, as upstream sorts them.
"""

from __future__ import annotations

from typing import Any

import orjson

from kubepy.api import field_errors as fe
from kubepy.api.crd import validation as value_validation
from kubepy.api.crd.cel import CompileError, compile_rule
from kubepy.api.crd.structural import compile_schema, go_regex
from kubepy.api.field_errors import FieldError

__all__ = ["validate_schema"]

OPENAPI_TYPES = ("array", "boolean", "integer", "number", "object", "string")
ALLOWED_AT_ROOT_WITH_STATUS = (
    "description", "type", "format", "title", "maximum", "exclusiveMaximum", "minimum",
    "exclusiveMinimum", "maxLength", "minLength", "pattern", "maxItems", "minItems", "uniqueItems",
    "multipleOf", "required", "items", "properties", "externalDocs", "example",
    "x-kubernetes-preserve-unknown-fields", "x-kubernetes-validations",
)
_META_FIELDS = ("metadata", "kind", "apiVersion")
_VALIDATION_REASONS = ("FieldValueDuplicate", "FieldValueForbidden", "FieldValueInvalid", "FieldValueRequired")


def validate_schema(schema: Any, path: str, *, status_enabled: bool) -> list[FieldError]:
    """Every error of one ``openAPIV3Schema`` at ``path`` (``spec.validation.openAPIV3Schema``)."""
    if not isinstance(schema, dict):
        return [fe.required(path, "schemas are required")]
    errs: list[FieldError] = []
    if status_enabled:
        for key in schema:
            if key == "type":
                if schema["type"] != "object":
                    errs.append(fe.invalid(f"{path}.type", schema["type"],
                                           'only "object" is allowed as the type at the root of the schema '
                                           "if the status subresource is enabled"))
                    break
                continue
            if key not in ALLOWED_AT_ROOT_WITH_STATUS:
                fields = "[" + " ".join(_go_field(k) for k in ALLOWED_AT_ROOT_WITH_STATUS) + "]"
                errs.append(fe.invalid(path, schema, f"only {fields} fields are allowed at the root of the schema "
                                                     "if the status subresource is enabled"))
                break
    if schema.get("nullable") is True:
        errs.append(fe.forbidden(f"{path}.nullable", "nullable cannot be true at the root"))
    structural = sorted(_structural(schema, "root", path), key=lambda e: e.text)
    errs.extend(structural)
    openapi = _openapi(schema, path, root=True, in_meta=False, defaults_reason="")
    errs.extend(openapi)
    if not structural and not openapi:
        errs.extend(_defaults(schema, path))
    return errs


def _go_field(key: str) -> str:
    names = {
        "x-kubernetes-preserve-unknown-fields": "XPreserveUnknownFields",
        "x-kubernetes-validations": "XValidations",
        "externalDocs": "ExternalDocs",
    }
    return names.get(key, key[:1].upper() + key[1:])


# -- the supported OpenAPI subset -------------------------------------------------------
def _openapi(s: Any, path: str, *, root: bool, in_meta: bool, defaults_reason: str) -> list[FieldError]:
    if not isinstance(s, dict):
        return []
    errs: list[FieldError] = []
    t = s.get("type")
    if isinstance(t, str) and t and t not in OPENAPI_TYPES:
        if t == "null":
            errs.append(fe.forbidden(f"{path}.type", "type cannot be set to null, use nullable as an alternative"))
        else:
            errs.append(fe.not_supported(f"{path}.type", t, OPENAPI_TYPES))
    if "default" in s and defaults_reason:
        errs.append(fe.forbidden(f"{path}.default", f"must not be set {defaults_reason}"))
    for key, what in (("id", "id"), ("additionalItems", "additionalItems"), ("patternProperties", "patternProperties"),
                      ("definitions", "definitions"), ("dependencies", "dependencies"), ("$ref", "$ref")):
        if s.get(key) not in (None, "", {}, []):
            errs.append(fe.forbidden(f"{path}.{key}", f"{what} is not supported"))
    if isinstance(s.get("items"), list):
        errs.append(fe.forbidden(f"{path}.items", "items must be a schema object and not an array"))
    if in_meta and s.get("x-kubernetes-embedded-resource") is True:
        errs.append(fe.forbidden(f"{path}.x-kubernetes-embedded-resource", "must not be used inside of resource meta"))
    if s.get("uniqueItems") is True:
        errs.append(fe.forbidden(f"{path}.uniqueItems",
                                 "uniqueItems cannot be set to true since the runtime complexity becomes quadratic"))
    props: dict[str, Any] = s["properties"] if isinstance(s.get("properties"), dict) else {}
    additional = s.get("additionalProperties")
    if additional is not None:
        if props and (additional is False or isinstance(additional, dict)):
            errs.append(fe.forbidden(f"{path}.additionalProperties",
                                     "additionalProperties and properties are mutual exclusive"))
        reason = "inside additionalProperties applying to object metadata" if in_meta else defaults_reason
        errs.extend(_openapi(additional, f"{path}.additionalProperties", root=False, in_meta=in_meta,
                             defaults_reason=reason))
    for name in sorted(props):
        sub_meta = in_meta
        reason = defaults_reason
        if (root or s.get("x-kubernetes-embedded-resource") is True) and name in _META_FIELDS:
            sub_meta = True
            if root:
                reason = f"in top-level {name}"
        errs.extend(_openapi(props[name], f"{path}.properties[{name}]", root=False, in_meta=sub_meta,
                             defaults_reason=reason))
    if isinstance(s.get("not"), dict):
        errs.extend(_openapi(s["not"], f"{path}.not", root=False, in_meta=in_meta, defaults_reason=defaults_reason))
    for key in ("allOf", "oneOf", "anyOf"):
        for i, sub in enumerate(s.get(key) or ()):
            errs.extend(_openapi(sub, f"{path}.{key}[{i}]", root=False, in_meta=in_meta,
                                 defaults_reason=defaults_reason))
    if isinstance(s.get("items"), dict):
        errs.extend(_openapi(s["items"], f"{path}.items", root=False, in_meta=in_meta, defaults_reason=defaults_reason))
    if s.get("x-kubernetes-preserve-unknown-fields") is False:
        errs.append(fe.invalid(f"{path}.x-kubernetes-preserve-unknown-fields", False, "must be true or undefined"))
    map_type = s.get("x-kubernetes-map-type")
    if map_type is not None:
        if t != "object":
            if not t:
                errs.append(fe.required(f"{path}.type", "must be object if x-kubernetes-map-type is specified"))
            else:
                errs.append(fe.invalid(f"{path}.type", t, "must be object if x-kubernetes-map-type is specified"))
        if map_type not in ("atomic", "granular"):
            errs.append(fe.not_supported(f"{path}.x-kubernetes-map-type", map_type, ("atomic", "granular")))
    list_type = s.get("x-kubernetes-list-type")
    items: dict[str, Any] | None = s["items"] if isinstance(s.get("items"), dict) else None
    if list_type is not None and t != "array":
        if not t:
            errs.append(fe.required(f"{path}.type", "must be array if x-kubernetes-list-type is specified"))
        else:
            errs.append(fe.invalid(f"{path}.type", t, "must be array if x-kubernetes-list-type is specified"))
    elif list_type == "set" and items is not None:
        it = items.get("type")
        if it == "array" and items.get("x-kubernetes-list-type") not in (None, "atomic"):
            errs.append(fe.invalid(f"{path}.items.x-kubernetes-list-type", items.get("x-kubernetes-list-type"),
                                   "must be atomic as item of a list with x-kubernetes-list-type=set"))
        if it == "object" and items.get("x-kubernetes-map-type") != "atomic":
            errs.append(fe.invalid(f"{path}.items.x-kubernetes-map-type", list_type,
                                   "must be atomic as item of a list with x-kubernetes-list-type=set"))
    if list_type is not None and list_type not in ("atomic", "set", "map"):
        errs.append(fe.not_supported(f"{path}.x-kubernetes-list-type", list_type, ("atomic", "set", "map")))
    keys = s.get("x-kubernetes-list-map-keys") or []
    if keys:
        if list_type is None:
            errs.append(fe.required(f"{path}.x-kubernetes-list-type", "must be map if x-kubernetes-list-map-keys is non-empty"))
        elif list_type != "map":
            errs.append(fe.invalid(f"{path}.x-kubernetes-list-type", list_type,
                                   "must be map if x-kubernetes-list-map-keys is non-empty"))
    if list_type == "map":
        if not keys:
            errs.append(fe.required(f"{path}.x-kubernetes-list-map-keys", "must not be empty if x-kubernetes-list-type is map"))
        if items is None:
            errs.append(fe.required(f"{path}.items", "must have a schema if x-kubernetes-list-type is map"))
        elif items.get("type") != "object":
            errs.append(fe.invalid(f"{path}.items.type", items.get("type", ""),
                                   "must be object if parent array's x-kubernetes-list-type is map"))
        else:
            item_props = items.get("properties") or {}
            required = set(items.get("required") or ())
            seen: set[str] = set()
            for k in keys:
                ks = item_props.get(k)
                if ks is None:
                    errs.append(fe.invalid(f"{path}.x-kubernetes-list-map-keys", keys,
                                           "entries must all be names of item properties"))
                else:
                    if ks.get("type") in ("array", "object"):
                        errs.append(fe.invalid(f"{path}.items.properties[{k}].type", items.get("type"),
                                               "must be a scalar type if parent array's x-kubernetes-list-type is map"))
                    if k not in required and "default" not in ks:
                        errs.append(fe.required(f"{path}.items.properties[{k}].default",
                                                "this property is in x-kubernetes-list-map-keys, so it must have a "
                                                "default or be a required property"))
                    if ks.get("nullable") is True:
                        errs.append(fe.forbidden(f"{path}.items.properties[{k}].nullable",
                                                 "this property is in x-kubernetes-list-map-keys, so it cannot be nullable"))
                if k in seen:
                    errs.append(fe.invalid(f"{path}.x-kubernetes-list-map-keys", keys, "must not contain duplicate entries"))
                seen.add(k)
    if list_type in ("set", "map") and items is not None and items.get("nullable") is True:
        errs.append(fe.forbidden(f"{path}.items.nullable", f"cannot be nullable when x-kubernetes-list-type is {list_type}"))
    errs.extend(_rules(s, path))
    return errs


def _rules(s: dict[str, Any], path: str) -> list[FieldError]:
    rules = s.get("x-kubernetes-validations")
    if not isinstance(rules, list):
        return []
    errs: list[FieldError] = []
    for i, rule in enumerate(rules):
        p = f"{path}.x-kubernetes-validations[{i}]"
        if not isinstance(rule, dict):
            continue
        text = str(rule.get("rule") or "")
        message = rule.get("message")
        msg_expr = rule.get("messageExpression")
        trimmed_msg = str(message or "").strip()
        if not text.strip():
            errs.append(fe.required(f"{p}.rule", "rule is not specified"))
        elif message and not trimmed_msg:
            errs.append(fe.invalid(f"{p}.message", message, "message must be non-empty if specified"))
        elif "\n" in trimmed_msg or "\r" in trimmed_msg:
            errs.append(fe.invalid(f"{p}.message", message, "message must not contain line breaks"))
        elif ("\n" in text.strip() or "\r" in text.strip()) and not trimmed_msg:
            errs.append(fe.required(f"{p}.message", "message must be specified if rule contains line breaks"))
        if msg_expr is not None and msg_expr != "" and not str(msg_expr).strip():
            errs.append(fe.required(f"{p}.messageExpression", "messageExpression must be non-empty if specified"))
        reason = rule.get("reason")
        if reason is not None and reason not in _VALIDATION_REASONS:
            errs.append(fe.not_supported(f"{p}.reason", reason, _VALIDATION_REASONS))
        if text.strip():
            try:
                compile_rule(text)
            except CompileError as e:
                errs.append(fe.invalid(f"{p}.rule", rule, str(e)))
        if msg_expr and str(msg_expr).strip():
            try:
                compile_rule(str(msg_expr))
            except CompileError as e:
                errs.append(fe.invalid(f"{p}.messageExpression", rule, str(e)))
    return errs


# -- structurality ------------------------------------------------------------------------
_ROOT, _ITEM, _FIELD = "root", "item", "field"


def _is_int_or_string_any_of(any_of: Any) -> bool:
    return (isinstance(any_of, list) and len(any_of) == 2
            and any_of[0] == {"type": "integer"} and any_of[1] == {"type": "string"})


def _structural(s: Any, level: str, path: str) -> list[FieldError]:
    if not isinstance(s, dict):
        return []
    errs: list[FieldError] = []
    t = s.get("type") if isinstance(s.get("type"), str) else ""
    items = s.get("items")
    if t == "array" and not isinstance(items, dict):
        errs.append(fe.required(f"{path}.items", "must be specified"))
    if isinstance(items, dict):
        errs.extend(_structural(items, _ITEM, f"{path}.items"))
    props: dict[str, Any] = s["properties"] if isinstance(s.get("properties"), dict) else {}
    for name, sub in props.items():
        errs.extend(_structural(sub, _FIELD, f"{path}.properties[{name}]"))
    additional = s.get("additionalProperties")
    if additional is not None and additional is not False:
        if level == _ROOT:
            errs.append(fe.forbidden(f"{path}.additionalProperties", "must not be used at the root"))
        if isinstance(additional, dict):
            errs.extend(_structural(additional, _FIELD, f"{path}.additionalProperties"))
    ios = s.get("x-kubernetes-int-or-string") is True
    preserve = s.get("x-kubernetes-preserve-unknown-fields") is True
    embedded = s.get("x-kubernetes-embedded-resource") is True
    if ios and preserve:
        errs.append(fe.invalid(f"{path}.x-kubernetes-preserve-unknown-fields", True,
                               "must be false if x-kubernetes-int-or-string is true"))
    if ios and embedded:
        errs.append(fe.invalid(f"{path}.x-kubernetes-embedded-resource", True,
                               "must be false if x-kubernetes-int-or-string is true"))
    skip_any_of = _is_int_or_string_any_of(s.get("anyOf"))
    all_of = s.get("allOf")
    skip_first_all_of_any_of = (isinstance(all_of, list) and bool(all_of) and isinstance(all_of[0], dict)
                                and _is_int_or_string_any_of(all_of[0].get("anyOf")))
    errs.extend(_value_validation(s, skip_any_of, skip_first_all_of_any_of, level, path))
    check_metadata = level == _ROOT or embedded
    if embedded and t != "object":
        if not t:
            errs.append(fe.required(f"{path}.type", "must be object if x-kubernetes-embedded-resource is true"))
        else:
            errs.append(fe.invalid(f"{path}.type", t, "must be object if x-kubernetes-embedded-resource is true"))
    elif not t and not ios and not preserve:
        detail = {
            _ROOT: "must not be empty at the root",
            _ITEM: "must not be empty for specified array items",
            _FIELD: "must not be empty for specified object fields",
        }[level]
        errs.append(fe.required(f"{path}.type", detail))
    if embedded and additional is not None:
        errs.append(fe.forbidden(f"{path}.additionalProperties", "must not be used if x-kubernetes-embedded-resource is set"))
    if level == _ROOT and t and t != "object":
        errs.append(fe.invalid(f"{path}.type", t, "must be object at the root"))
    for name in ("kind", "apiVersion"):
        sub = props.get(name)
        if isinstance(sub, dict) and check_metadata and sub.get("type") != "string":
            errs.append(fe.invalid(f"{path}.properties[{name}].type", sub.get("type", ""), "must be string"))
    meta = props.get("metadata")
    if isinstance(meta, dict):
        mpath = f"{path}.properties[metadata]"
        if check_metadata and meta.get("type") != "object":
            errs.append(fe.invalid(f"{mpath}.type", meta.get("type", ""), "must be object"))
        if level == _ROOT:
            rest = {k: v for k, v in meta.items() if k not in ("type", "default", "description")}
            mprops = rest.get("properties")
            if isinstance(mprops, dict) and set(mprops) <= {"name", "generateName"} and mprops:
                rest.pop("properties")
            if rest:
                errs.append(fe.forbidden(mpath, "must not specify anything other than name and generateName, "
                                                "but metadata is implicitly specified"))
    if embedded and not preserve and not props:
        errs.append(fe.required(f"{path}.properties", "must not be empty if x-kubernetes-embedded-resource is true "
                                                      "without x-kubernetes-preserve-unknown-fields"))
    return errs


def _value_validation(s: dict[str, Any], skip_any_of: bool, skip_first_all_of_any_of: bool, level: str,
                      path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    if not skip_any_of:
        for i, sub in enumerate(s.get("anyOf") or ()):
            errs.extend(_nested(sub, False, f"{path}.anyOf[{i}]"))
    for i, sub in enumerate(s.get("allOf") or ()):
        errs.extend(_nested(sub, skip_first_all_of_any_of and i == 0, f"{path}.allOf[{i}]"))
    for i, sub in enumerate(s.get("oneOf") or ()):
        errs.extend(_nested(sub, False, f"{path}.oneOf[{i}]"))
    if isinstance(s.get("not"), dict):
        errs.extend(_nested(s["not"], False, f"{path}.not"))
    pattern = s.get("pattern")
    if isinstance(pattern, str) and pattern and go_regex(pattern) is None:
        errs.append(fe.invalid(f"{path}.pattern", pattern,
                               "must be a valid regular expression, but isn't: error parsing regexp"))
    return errs


def _nested(s: Any, skip_any_of: bool, path: str) -> list[FieldError]:
    if not isinstance(s, dict):
        return []
    errs = _value_validation(s, skip_any_of, False, _FIELD, path)
    if isinstance(s.get("items"), dict):
        errs.extend(_nested(s["items"], False, f"{path}.items"))
    for name, sub in (s.get("properties") or {}).items():
        errs.extend(_nested(sub, False, f"{path}.properties[{name}]"))
    if s.get("type"):
        errs.append(fe.forbidden(f"{path}.type", "must be empty to be structural"))
    if s.get("additionalProperties") is not None:
        errs.append(fe.forbidden(f"{path}.additionalProperties", "must be undefined to be structural"))
    if "default" in s:
        errs.append(fe.forbidden(f"{path}.default", "must be undefined to be structural"))
    for key, detail in (("title", "must be empty to be structural"), ("description", "must be empty to be structural")):
        if s.get(key):
            errs.append(fe.forbidden(f"{path}.{key}", detail))
    if s.get("nullable") is True:
        errs.append(fe.forbidden(f"{path}.nullable", "must be false to be structural"))
    if s.get("externalDocs") is not None:
        errs.append(fe.forbidden(f"{path}.externalDocs", "must be undefined to be structural"))
    for key in ("x-kubernetes-preserve-unknown-fields", "x-kubernetes-embedded-resource", "x-kubernetes-int-or-string"):
        if s.get(key) is True:
            errs.append(fe.forbidden(f"{path}.{key}", "must be false to be structural"))
    if s.get("x-kubernetes-list-map-keys"):
        errs.append(fe.forbidden(f"{path}.x-kubernetes-list-map-keys", "must be empty to be structural"))
    for key in ("x-kubernetes-list-type", "x-kubernetes-map-type"):
        if s.get(key) is not None:
            errs.append(fe.forbidden(f"{path}.{key}", "must be undefined to be structural"))
    if s.get("x-kubernetes-validations"):
        errs.append(fe.forbidden(f"{path}.x-kubernetes-validations", "must be empty to be structural"))
    if isinstance(s.get("properties"), dict) and "metadata" in s["properties"]:
        errs.append(fe.forbidden(f"{path}.properties[metadata]", "must not be specified in a nested context"))
    return errs


# -- defaults -----------------------------------------------------------------------------
def _defaults(schema: dict[str, Any], path: str) -> list[FieldError]:
    """Each ``default`` must validate against the schema at its place and carry no unknown fields."""
    errs: list[FieldError] = []
    _walk_defaults(schema, path, "", errs)
    return errs


def _walk_defaults(s: Any, spath: str, vpath: str, errs: list[FieldError]) -> None:
    if not isinstance(s, dict):
        return
    if "default" in s:
        node = compile_schema(s)
        value = orjson.loads(orjson.dumps(s["default"]))
        for e in value_validation.validate_value(value, node, vpath):
            errs.append(fe.FieldError(e.reason, f"{spath}.default", e.body))
        if isinstance(value, dict):
            from kubepy.api.crd.pruning import prune

            before = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
            wrapper = compile_schema({"type": "object", "properties": {"x": s}})
            holder = {"x": value}
            prune(holder, wrapper)
            if orjson.dumps(holder.get("x"), option=orjson.OPT_SORT_KEYS) != before:
                errs.append(fe.invalid(f"{spath}.default", s["default"], "must not have unknown fields"))
    for name, sub in (s.get("properties") or {}).items() if isinstance(s.get("properties"), dict) else ():
        _walk_defaults(sub, f"{spath}.properties[{name}]", f"{vpath}.{name}" if vpath else name, errs)
    if isinstance(s.get("items"), dict):
        _walk_defaults(s["items"], f"{spath}.items", f"{vpath}[0]", errs)
    if isinstance(s.get("additionalProperties"), dict):
        _walk_defaults(s["additionalProperties"], f"{spath}.additionalProperties", f"{vpath}[key]", errs)
