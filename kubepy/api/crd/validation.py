"""Validation of a custom resource's values against its structural schema.

The checks and messages of upstream's schema validator (go-openapi ``validate`` as
wrapped by apiextensions-apiserver): a wrong type is ``Invalid value: "string": spec.replicas
in body must be of type integer: "string"`` (reason FieldValueTypeInvalid), a missing
required field ``Required value``, an enum miss ``Unsupported value``, ``maxLength`` and
``maxItems`` are ``Too long`` / ``Too many``, every other bound an ``Invalid value`` whose
detail names the field ``in body``. ``x-kubernetes-list-type`` set/map duplicates are
``Duplicate value``. CEL rules are evaluated separately (``kubepy.api.crd.cel``).

The root object's ``apiVersion``, ``kind`` and ``metadata`` are not checked here: the API
server checks them as ObjectMeta.
"""

from __future__ import annotations

import base64
import ipaddress
import math
import re
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson

from kubepy.api import field_errors as fe
from kubepy.api.crd.structural import Node, compile_schema
from kubepy.api.field_errors import FieldError

__all__ = ["json_type", "validate_object", "validate_value", "has_type_errors"]


def json_type(value: Any) -> str:
    """The JSON type name go-openapi reports for a value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _type_ok(value: Any, t: str) -> bool:
    if t == "string":
        return isinstance(value, str)
    if t == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer()
        )
    if t == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if t == "boolean":
        return isinstance(value, bool)
    if t == "array":
        return isinstance(value, list)
    if t == "object":
        return isinstance(value, dict)
    return True


def _fmt_num(n: float) -> str:
    if isinstance(n, float) and n.is_integer():
        return str(int(n))
    return str(n)


def _body_name(path: str) -> str:
    return path or "body"


# -- formats (the ones upstream's strfmt registry knows that CRDs use) -------------------
_HOSTNAME = re.compile(r"^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
_DURATION = re.compile(r"^(-?(\d+(\.\d+)?(ns|us|µs|ms|s|m|h|d|w))+)$")
_MAC = re.compile(r"^([0-9A-Fa-f]{2}[:-]){5}([0-9A-Fa-f]{2})$")


def _is_date_time(s: str) -> bool:
    if not _DATE_TIME.match(s):
        return False
    try:
        datetime.fromisoformat(s.replace("z", "Z").replace("Z", "+00:00").replace("t", "T"))
    except ValueError:
        return False
    return True


def _is_date(s: str) -> bool:
    try:
        datetime.strptime(s, "%Y-%m-%d")
    except ValueError:
        return False
    return True


def _is_ip(s: str, version: int) -> bool:
    try:
        return ipaddress.ip_address(s).version == version
    except ValueError:
        return False


def _is_cidr(s: str) -> bool:
    try:
        ipaddress.ip_network(s, strict=False)
    except ValueError:
        return False
    return "/" in s


def _is_uuid(s: str) -> bool:
    try:
        uuid.UUID(s)
    except ValueError:
        return False
    return len(s) == 36


def _is_byte(s: str) -> bool:
    try:
        base64.b64decode(s, validate=True)
    except ValueError:
        return False
    return True


def _is_uri(s: str) -> bool:
    return bool(re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", s))


FORMATS: dict[str, Callable[[str], bool]] = {
    "date-time": _is_date_time,
    "datetime": _is_date_time,
    "date": _is_date,
    "email": lambda s: bool(_EMAIL.match(s)),
    "hostname": lambda s: len(s) <= 255 and bool(_HOSTNAME.match(s)),
    "ipv4": lambda s: _is_ip(s, 4),
    "ipv6": lambda s: _is_ip(s, 6),
    "cidr": _is_cidr,
    "uuid": _is_uuid,
    "byte": _is_byte,
    "uri": _is_uri,
    "duration": lambda s: bool(_DURATION.match(s)),
    "mac": lambda s: bool(_MAC.match(s)),
}


# -- the walk ---------------------------------------------------------------------------
def validate_object(obj: dict[str, Any], root: Node) -> list[FieldError]:
    """All schema errors of a whole custom resource (metadata excluded)."""
    errs: list[FieldError] = []
    _object_checks(obj, root, "", errs, skip_meta=True)
    return errs


def validate_value(value: Any, node: Node, path: str) -> list[FieldError]:
    """All schema errors of one value at ``path`` (used for defaults too)."""
    errs: list[FieldError] = []
    _check(value, node, path, errs)
    return errs


def has_type_errors(errs: list[FieldError]) -> bool:
    return any(e.reason == fe.TYPE_INVALID[0] for e in errs)


def _check(value: Any, node: Node, path: str, errs: list[FieldError]) -> None:
    if value is None:
        if node.nullable or (not node.type and not node.int_or_string):
            return
        t = "integer" if node.int_or_string else node.type
        errs.append(fe.type_invalid(path, "null", f'{_body_name(path)} in body must be of type {t}: "null"'))
        return
    if node.int_or_string:
        if not (isinstance(value, str) or _type_ok(value, "integer")):
            errs.append(fe.type_invalid(path, json_type(value),
                                        f'{_body_name(path)} in body must be of type integer,string: "{json_type(value)}"'))
            return
    elif node.type and not _type_ok(value, node.type):
        actual = json_type(value)
        errs.append(fe.type_invalid(path, actual, f'{_body_name(path)} in body must be of type {node.type}: "{actual}"'))
        return
    if node.enum is not None and value not in node.enum:
        errs.append(fe.not_supported(path, value, [v if isinstance(v, str) else orjson.dumps(v).decode() for v in node.enum]))
    if isinstance(value, str):
        _string_checks(value, node, path, errs)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        _number_checks(value, node, path, errs)
    elif isinstance(value, list):
        _array_checks(value, node, path, errs)
    elif isinstance(value, dict):
        _object_checks(value, node, path, errs, skip_meta=node.embedded)
    if node.all_of or node.any_of or node.one_of or node.not_ is not None:
        _junctions(value, node, path, errs)


def _string_checks(value: str, node: Node, path: str, errs: list[FieldError]) -> None:
    name = _body_name(path)
    if node.max_length is not None and len(value) > node.max_length:
        errs.append(fe.too_long(path, value, node.max_length))
    if node.min_length is not None and len(value) < node.min_length:
        errs.append(fe.invalid(path, value, f"{name} in body should be at least {node.min_length} chars long"))
    if node.pattern and node.pattern_re is not None and node.pattern_re.search(value) is None:
        errs.append(fe.invalid(path, value, f"{name} in body should match '{node.pattern}'"))
    if node.format:
        check = FORMATS.get(node.format)
        if check is not None and not check(value):
            errs.append(fe.type_invalid(path, value, f'{name} in body must be of type {node.format}: "{value}"'))


def _number_checks(value: float, node: Node, path: str, errs: list[FieldError]) -> None:
    name = _body_name(path)
    if node.maximum is not None:
        if node.exclusive_maximum and value >= node.maximum:
            errs.append(fe.invalid(path, value, f"{name} in body should be less than {_fmt_num(node.maximum)}"))
        elif value > node.maximum:
            errs.append(fe.invalid(path, value, f"{name} in body should be less than or equal to {_fmt_num(node.maximum)}"))
    if node.minimum is not None:
        if node.exclusive_minimum and value <= node.minimum:
            errs.append(fe.invalid(path, value, f"{name} in body should be greater than {_fmt_num(node.minimum)}"))
        elif value < node.minimum:
            errs.append(fe.invalid(path, value, f"{name} in body should be greater than or equal to {_fmt_num(node.minimum)}"))
    if node.multiple_of:
        q = value / node.multiple_of
        if not math.isclose(q, round(q)):
            errs.append(fe.invalid(path, value, f"{name} in body should be a multiple of {_fmt_num(node.multiple_of)}"))
    if node.format in ("int32", "int64") and isinstance(value, int):
        bits = 31 if node.format == "int32" else 63
        if not -(2**bits) <= value < 2**bits:
            errs.append(fe.type_invalid(path, value, f"{name} in body must be of type {node.format}: \"{value}\""))


def _list_key(item: Any, keys: tuple[str, ...]) -> Any:
    if not isinstance(item, dict):
        return None
    return tuple(orjson.dumps(item.get(k)) for k in keys)


def _array_checks(value: list[Any], node: Node, path: str, errs: list[FieldError]) -> None:
    name = _body_name(path)
    if node.max_items is not None and len(value) > node.max_items:
        errs.append(fe.too_many(path, len(value), node.max_items))
    if node.min_items is not None and len(value) < node.min_items:
        errs.append(fe.invalid(path, value, f"{name} in body should have at least {node.min_items} items"))
    if node.list_type == "set":
        seen: set[bytes] = set()
        for i, item in enumerate(value):
            key = orjson.dumps(item, option=orjson.OPT_SORT_KEYS)
            if key in seen:
                errs.append(fe.duplicate(f"{path}[{i}]", item))
            seen.add(key)
    elif node.list_type == "map" and node.list_map_keys:
        seen_keys: set[Any] = set()
        for i, item in enumerate(value):
            key = _list_key(item, node.list_map_keys)
            if key is None:
                continue
            if key in seen_keys:
                errs.append(fe.duplicate(f"{path}[{i}]", {k: item.get(k) for k in node.list_map_keys}))
            seen_keys.add(key)
    items = node.items
    if items is not None:
        for i, item in enumerate(value):
            _check(item, items, f"{path}[{i}]", errs)


def _object_checks(value: dict[str, Any], node: Node, path: str, errs: list[FieldError], *, skip_meta: bool) -> None:
    name = _body_name(path)
    if node.max_properties is not None and len(value) > node.max_properties:
        errs.append(fe.too_many(path, len(value), node.max_properties))
    if node.min_properties is not None and len(value) < node.min_properties:
        errs.append(fe.invalid(path, value, f"{name} in body should have at least {node.min_properties} properties"))
    for req in node.required:
        if req not in value:
            if skip_meta and req in ("apiVersion", "kind", "metadata"):
                continue
            errs.append(fe.required(f"{path}.{req}" if path else req))
    props = node.properties
    add = node.additional
    for key, v in value.items():
        if skip_meta and key in ("apiVersion", "kind", "metadata"):
            continue
        child = props.get(key) if props is not None else None
        if child is not None:
            _check(v, child, f"{path}.{key}" if path else key, errs)
        elif add is not None:
            _check(v, add, f"{path}.{key}" if path else key, errs)


def _sub_errors(value: Any, raw: dict[str, Any], path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    sub = compile_schema(raw)
    _check(value, sub, path, errs)
    return errs


def _junctions(value: Any, node: Node, path: str, errs: list[FieldError]) -> None:
    name = _body_name(path)
    for raw in node.all_of:
        errs.extend(_sub_errors(value, raw, path))
    if node.any_of and not any(not _sub_errors(value, raw, path) for raw in node.any_of):
        errs.append(fe.invalid(path, value, f'"{name}" must validate at least one schema (anyOf)'))
    if node.one_of:
        ok = sum(1 for raw in node.one_of if not _sub_errors(value, raw, path))
        if ok != 1:
            errs.append(fe.invalid(path, value, f'"{name}" must validate one and only one schema (oneOf)'))
    if node.not_ is not None and not _sub_errors(value, node.not_, path):
        errs.append(fe.invalid(path, value, f'"{name}" must not validate the schema (not)'))
