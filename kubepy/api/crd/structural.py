"""Structural schemas: a CRD version's ``openAPIV3Schema`` compiled once into a tree of nodes.

A structural schema (upstream's ``schema.Structural``) has a ``type`` on every node and
keeps the *shape* of the object (properties, items, additionalProperties and the
``x-kubernetes-*`` extensions) apart from *value validations* (enum, pattern, bounds,
``allOf``/``anyOf``/``oneOf``/``not``, CEL rules). Pruning, defaulting, validation and CEL
evaluation all walk this one tree, so the raw dict is read once per CRD version, never
per request: bounds are plain attributes, patterns are compiled, defaults are kept
encoded so each use gets a private copy cheaply.

``compile_schema`` assumes a schema that passed ``kubepy.api.crd.schema_rules`` (the
CRD validation); on odd input it degrades (unknown shapes preserve unknown fields)
rather than failing, because stored CRDs must keep being served.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import orjson

__all__ = ["Node", "Rule", "compile_schema", "go_regex"]


@dataclass(frozen=True, slots=True)
class Rule:
    """One ``x-kubernetes-validations`` entry (compiled lazily by ``kubepy.api.crd.cel``)."""

    rule: str
    message: str = ""
    message_expression: str = ""
    reason: str = ""
    field_path: str = ""
    optional_old_self: bool = False

    @property
    def uses_old_self(self) -> bool:
        return _OLD_SELF.search(self.rule) is not None


_OLD_SELF = re.compile(r"\boldSelf\b")


@dataclass(slots=True, eq=False)
class Node:
    """One schema node. ``type`` is "" only for int-or-string / preserve-unknown nodes."""

    type: str = ""
    format: str = ""
    properties: dict[str, Node] | None = None
    items: Node | None = None
    #: additionalProperties as a schema (maps) ...
    additional: Node | None = None
    #: ... or ``additionalProperties: true`` (any value, kept as is)
    additional_any: bool = False
    preserve_unknown: bool = False
    int_or_string: bool = False
    embedded: bool = False
    nullable: bool = False
    #: the ``default`` value, JSON-encoded (None: no default)
    default_json: bytes | None = None
    required: tuple[str, ...] = ()
    enum: list[Any] | None = None
    pattern: str = ""
    pattern_re: re.Pattern[str] | None = None
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    exclusive_maximum: bool = False
    multiple_of: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    min_items: int | None = None
    max_items: int | None = None
    min_properties: int | None = None
    max_properties: int | None = None
    list_type: str = ""
    list_map_keys: tuple[str, ...] = ()
    rules: tuple[Rule, ...] = ()
    #: allOf / anyOf / oneOf / not: value validations only (raw dicts, rarely used)
    all_of: tuple[dict[str, Any], ...] = ()
    any_of: tuple[dict[str, Any], ...] = ()
    one_of: tuple[dict[str, Any], ...] = ()
    not_: dict[str, Any] | None = None
    #: something under this node has a default / a CEL rule (lets walks skip subtrees)
    has_defaults: bool = False
    has_rules: bool = False
    compiled: dict[str, Any] = field(default_factory=dict)

    def default(self) -> Any:
        """A fresh copy of the default value."""
        assert self.default_json is not None
        return orjson.loads(self.default_json)

    def child(self, key: str) -> Node | None:
        """The schema of property ``key`` (a declared property or the map's values)."""
        if self.properties is not None:
            node = self.properties.get(key)
            if node is not None:
                return node
        return self.additional


def go_regex(pattern: str) -> re.Pattern[str] | None:
    """A Go (RE2) pattern as a Python regex; None when Python cannot compile it."""
    translated = pattern.replace(r"\z", r"\Z").replace("(?P<", "(?P<")
    try:
        return re.compile(translated)
    except re.error:
        return None


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def compile_schema(raw: Any) -> Node:
    """Compile a JSONSchemaProps dict into a ``Node`` tree."""
    if not isinstance(raw, dict):
        return Node(preserve_unknown=True)
    node = Node()
    t = raw.get("type")
    node.type = t if isinstance(t, str) else ""
    f = raw.get("format")
    node.format = f if isinstance(f, str) else ""
    node.preserve_unknown = raw.get("x-kubernetes-preserve-unknown-fields") is True
    node.int_or_string = raw.get("x-kubernetes-int-or-string") is True
    node.embedded = raw.get("x-kubernetes-embedded-resource") is True
    node.nullable = raw.get("nullable") is True
    if "default" in raw:
        node.default_json = orjson.dumps(raw["default"])
    req = raw.get("required")
    if isinstance(req, list):
        node.required = tuple(r for r in req if isinstance(r, str))
    enum = raw.get("enum")
    if isinstance(enum, list):
        node.enum = enum
    pattern = raw.get("pattern")
    if isinstance(pattern, str) and pattern:
        node.pattern = pattern
        node.pattern_re = go_regex(pattern)
    node.minimum = _num(raw.get("minimum"))
    node.maximum = _num(raw.get("maximum"))
    node.exclusive_minimum = raw.get("exclusiveMinimum") is True
    node.exclusive_maximum = raw.get("exclusiveMaximum") is True
    node.multiple_of = _num(raw.get("multipleOf"))
    node.min_length = _int(raw.get("minLength"))
    node.max_length = _int(raw.get("maxLength"))
    node.min_items = _int(raw.get("minItems"))
    node.max_items = _int(raw.get("maxItems"))
    node.min_properties = _int(raw.get("minProperties"))
    node.max_properties = _int(raw.get("maxProperties"))
    lt = raw.get("x-kubernetes-list-type")
    node.list_type = lt if isinstance(lt, str) else ""
    keys = raw.get("x-kubernetes-list-map-keys")
    if isinstance(keys, list):
        node.list_map_keys = tuple(k for k in keys if isinstance(k, str))
    rules = raw.get("x-kubernetes-validations")
    if isinstance(rules, list):
        node.rules = tuple(
            Rule(
                rule=str(r.get("rule", "")),
                message=str(r.get("message") or ""),
                message_expression=str(r.get("messageExpression") or ""),
                reason=str(r.get("reason") or ""),
                field_path=str(r.get("fieldPath") or ""),
                optional_old_self=r.get("optionalOldSelf") is True,
            )
            for r in rules
            if isinstance(r, dict) and r.get("rule")
        )
    for key in ("allOf", "anyOf", "oneOf"):
        value = raw.get(key)
        if isinstance(value, list):
            setattr(node, key.replace("Of", "_of").lower(), tuple(v for v in value if isinstance(v, dict)))
    if isinstance(raw.get("not"), dict):
        node.not_ = raw["not"]
    props = raw.get("properties")
    if isinstance(props, dict) and props:
        node.properties = {k: compile_schema(v) for k, v in props.items()}
    items = raw.get("items")
    if isinstance(items, dict):
        node.items = compile_schema(items)
    additional = raw.get("additionalProperties")
    if isinstance(additional, dict):
        node.additional = compile_schema(additional)
    elif additional is True:
        node.additional_any = True
    children = [*(node.properties or {}).values(), *(c for c in (node.items, node.additional) if c is not None)]
    node.has_defaults = any(c.default_json is not None or c.has_defaults for c in children)
    node.has_rules = bool(node.rules) or any(c.has_rules for c in children)
    return node
