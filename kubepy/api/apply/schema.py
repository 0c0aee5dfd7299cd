"""Merge semantics of every part of an object, as server-side apply needs them.

Server-side apply does not care about validation, only about shape: which parts are
leaves, which maps merge key by key, and which lists merge item by item (and how their
items are identified). ``Schema`` is one node of that shape, built lazily from an OpenAPI
schema and cached, so a Deployment's tree is converted once per process:

- ``SCALAR``: a leaf (strings, numbers, booleans, int-or-string, quantities, times).
- ``MAP``: an object. Declared ``properties`` are named fields (a struct); other keys use
  the element type (``additionalProperties``); ``x-kubernetes-map-type: atomic`` makes the
  whole object one leaf. An object with neither properties nor additionalProperties, or
  under ``x-kubernetes-preserve-unknown-fields``, keeps unknown keys as deduced values.
- ``LIST``: ``x-kubernetes-list-type`` ``atomic`` (the default, one leaf), ``set`` (items
  identified by value) or ``map`` (items identified by ``x-kubernetes-list-map-keys``);
  without a list type, a ``merge`` patch strategy counts as a map (with its merge key) or
  a set, as upstream's schema converter does.
- ``DEDUCED``: untyped data; a JSON object is a granular map of deduced values, anything
  else (lists included) is a leaf. ``ATOMIC`` is untyped data that is always one leaf
  (RawExtension).

Built-in kinds come from ``kubepy.api.openapi_defs`` (``Schema.for_definition``, following
``$ref``); custom resources hand in their structural OpenAPI v3 schema
(``Schema.for_custom_resource``), whose ``metadata`` is ObjectMeta as upstream publishes it.
Both give the same node type, so the apply code has one interface.

Upstream compares an update against a *typed* empty object: Go value-type struct fields
(``spec``, ``spec.template``, ``spec.strategy``...) exist even in an empty object, so a
create never owns them as whole nodes. ``Schema.skeleton()`` reproduces that empty object
from a table of such fields, so that managedFields of creates look like upstream's.
"""

from __future__ import annotations

import threading
from typing import Any

from kubepy.api import openapi_defs

__all__ = ["ATOMIC", "DEDUCED", "LIST", "LIST_ATOMIC", "LIST_MAP", "LIST_SET", "MAP", "SCALAR", "Schema"]

SCALAR = 0
MAP = 1
LIST = 2
DEDUCED = 3
ATOMIC = 4

LIST_ATOMIC = 0
LIST_SET = 1
LIST_MAP = 2

RawSchema = dict[str, Any]

OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
RAW_EXTENSION = "io.k8s.apimachinery.pkg.runtime.RawExtension"

# Key fields that have a default in upstream's Go types (``+default=``) but not in the
# OpenAPI definitions kubernetes-validate ships; upstream uses the default when an applied
# list item omits the key field.
_KEY_DEFAULTS: dict[str, dict[str, Any]] = {
    "io.k8s.api.core.v1.ContainerPort": {"protocol": "TCP"},
    "io.k8s.api.core.v1.ServicePort": {"protocol": "TCP"},
}

# Go struct fields held by value (not pointer) beyond metadata/spec/status of each kind:
# they exist in upstream's empty object (see module docstring).
_VALUE_STRUCT_FIELDS: dict[str, tuple[str, ...]] = {
    "io.k8s.api.apps.v1.DeploymentSpec": ("template", "strategy"),
    "io.k8s.api.apps.v1.ReplicaSetSpec": ("template",),
    "io.k8s.api.apps.v1.StatefulSetSpec": ("template", "updateStrategy"),
    "io.k8s.api.apps.v1.DaemonSetSpec": ("template", "updateStrategy"),
    "io.k8s.api.batch.v1.JobSpec": ("template",),
    "io.k8s.api.batch.v1.CronJobSpec": ("jobTemplate",),
    "io.k8s.api.batch.v1.JobTemplateSpec": ("metadata", "spec"),
    "io.k8s.api.core.v1.PodTemplateSpec": ("metadata", "spec"),
    "io.k8s.api.core.v1.PodTemplate": ("template",),
    "io.k8s.api.core.v1.ServiceStatus": ("loadBalancer",),
    "io.k8s.api.core.v1.PersistentVolumeClaimSpec": ("resources",),
    "io.k8s.api.core.v1.NodeStatus": ("daemonEndpoints", "nodeInfo"),
    "io.k8s.api.core.v1.NodeDaemonEndpoints": ("kubeletEndpoint",),
    "io.k8s.api.core.v1.Event": ("involvedObject", "source"),
    "io.k8s.api.rbac.v1.RoleBinding": ("roleRef",),
    "io.k8s.api.rbac.v1.ClusterRoleBinding": ("roleRef",),
    "io.k8s.api.networking.v1.IngressStatus": ("loadBalancer",),
    "io.k8s.api.autoscaling.v1.HorizontalPodAutoscalerSpec": ("scaleTargetRef",),
    "io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerSpec": ("scaleTargetRef",),
}

# Go slice/map fields without ``omitempty`` inside those structs: ``null`` in the empty
# object, so a create owns their items but not the list itself.
_NULL_FIELDS: dict[str, tuple[str, ...]] = {
    "io.k8s.api.core.v1.PodSpec": ("containers",),
}

_lock = threading.Lock()
_named: dict[tuple[str, str], Schema] = {}


class Schema:
    """One node of the merge shape. Build with ``for_definition`` / ``for_custom_resource``.

    Nodes are immutable once built (children are resolved lazily and cached), cheap to
    share between threads, and safe to keep for the life of the process.
    """

    __slots__ = (
        "kind",
        "atomic",
        "list_type",
        "keys",
        "key_defaults",
        "definition",
        "_raw",
        "_props",
        "_fields",
        "_elem",
        "_item",
        "_preserve",
        "_lookup",
    )

    def __init__(self, kind: int) -> None:
        self.kind = kind
        self.atomic = kind in (SCALAR, ATOMIC)
        self.list_type = LIST_ATOMIC
        self.keys: tuple[str, ...] = ()
        self.key_defaults: dict[str, Any] = {}
        self.definition: str | None = None
        self._raw: RawSchema = {}
        self._props: dict[str, RawSchema] = {}
        self._fields: dict[str, Schema] = {}
        self._elem: Schema | None = None
        self._item: Schema | None = None
        self._preserve = False
        self._lookup = True

    # -- construction -----------------------------------------------------------------

    @classmethod
    def for_definition(cls, name: str) -> Schema:
        """The node of a built-in OpenAPI definition (``io.k8s.api.apps.v1.Deployment``)."""
        return _named_node(name, "")

    @classmethod
    def for_custom_resource(cls, openapi_v3: RawSchema | None) -> Schema:
        """The node of a custom resource's structural schema (``openAPIV3Schema``).

        ``None`` (no schema) gives a deduced root, as upstream does for CRDs without one.
        ``metadata`` is ObjectMeta and ``apiVersion``/``kind`` are strings whatever the
        schema says, like the OpenAPI upstream builds for a CRD.
        """
        raw: RawSchema = dict(openapi_v3 or {"type": "object", "x-kubernetes-preserve-unknown-fields": True})
        props = dict(raw.get("properties") or {})
        props["metadata"] = {"$ref": OBJECT_META}
        props["apiVersion"] = {"type": "string"}
        props["kind"] = {"type": "string"}
        raw["properties"] = props
        raw.setdefault("type", "object")
        return _build(raw, preserve=False, lookup=False)

    @classmethod
    def from_openapi(cls, raw: RawSchema, *, resolve_refs: bool = True) -> Schema:
        """A node for an arbitrary OpenAPI schema (``$ref`` names built-in definitions)."""
        return _build(raw, preserve=False, lookup=resolve_refs)

    # -- navigation (hot path) --------------------------------------------------------

    def field(self, name: str) -> Schema:
        """The node of key ``name`` of a MAP node (DEDUCED if unknown)."""
        node = self._fields.get(name)
        if node is not None:
            return node
        raw = self._props.get(name)
        if raw is None:
            # an additionalProperties element: not cached per key (keys are unbounded)
            return self._elem if self._elem is not None else _DEDUCED
        node = _property(raw, self._preserve, self._lookup)
        self._fields[name] = node
        return node

    def is_named(self, name: str) -> bool:
        """Whether ``name`` is a declared property (a struct field) of this MAP node."""
        return name in self._props

    @property
    def item(self) -> Schema:
        """The node of the items of a LIST node."""
        node = self._item
        if node is None:
            items = self._raw.get("items")
            node = _property(items, self._preserve, self._lookup) if isinstance(items, dict) else _DEDUCED
            self._item = node
        return node

    def for_value(self, value: Any) -> Schema:
        """This node, or for DEDUCED data the node matching the shape of ``value``."""
        if self.kind != DEDUCED:
            return self
        if isinstance(value, dict):
            return _DEDUCED_MAP
        return _ATOMIC

    # -- the typed empty object ------------------------------------------------------

    def skeleton(self) -> dict[str, Any]:
        """The empty object upstream compares a create against (see module docstring)."""
        return _skeleton(self, root=True)

    def __repr__(self) -> str:
        names = {SCALAR: "scalar", MAP: "map", LIST: "list", DEDUCED: "deduced", ATOMIC: "atomic"}
        extra = f" {self.definition}" if self.definition else ""
        return f"<Schema {names[self.kind]}{extra}{' atomic' if self.atomic else ''}>"


def _named_node(name: str, map_type: str) -> Schema:
    key = (name, map_type)
    node = _named.get(key)
    if node is not None:
        return node
    with _lock:
        node = _named.get(key)
        if node is not None:
            return node
        if name == RAW_EXTENSION:
            node = _ATOMIC
        else:
            try:
                raw = openapi_defs.schema(name)
            except KeyError:
                node = _DEDUCED
            else:
                node = _build(raw, preserve=False, lookup=True, definition=name, map_type=map_type)
        _named[key] = node
        return node


def _property(raw: RawSchema, preserve: bool, lookup: bool) -> Schema:
    """The node of a property or items schema, following ``$ref`` (maybe inside allOf)."""
    if lookup:
        ref = openapi_defs.ref_name(raw)
        if ref is not None:
            map_type = raw.get("x-kubernetes-map-type", "")
            return _named_node(ref, map_type if isinstance(map_type, str) else "")
    return _build(raw, preserve=preserve, lookup=lookup)


def _build(
    raw: RawSchema, *, preserve: bool, lookup: bool, definition: str | None = None, map_type: str = ""
) -> Schema:
    if raw.get("x-kubernetes-preserve-unknown-fields") is True:
        preserve = True
    typ = raw.get("type")
    if isinstance(typ, list):
        typ = next((t for t in typ if t != "null"), None)
    props = raw.get("properties")
    addl = raw.get("additionalProperties")
    if typ == "object" or (typ is None and (isinstance(props, dict) or addl is not None)):
        node = Schema(MAP)
        node.definition = definition
        node._raw = raw
        node._props = dict(props) if isinstance(props, dict) else {}
        node._preserve = preserve
        node._lookup = lookup
        mt = map_type or raw.get("x-kubernetes-map-type", "")
        node.atomic = mt == "atomic"
        if isinstance(addl, dict):
            node._elem = _property(addl, preserve, lookup)
        elif addl is False:
            node._elem = None
        else:
            # additionalProperties: true, preserve-unknown-fields, a free-form object, or
            # properties without additionalProperties (unknown keys: kept as deduced data)
            node._elem = _DEDUCED
        defaults: dict[str, Any] = dict(_KEY_DEFAULTS.get(definition or "", {}))
        for pname, praw in node._props.items():
            if isinstance(praw, dict) and "default" in praw:
                defaults.setdefault(pname, praw["default"])
        node.key_defaults = defaults
        return node
    if typ == "array" or (typ is None and isinstance(raw.get("items"), dict)):
        node = Schema(LIST)
        node.definition = definition
        node._raw = raw
        node._preserve = preserve
        node._lookup = lookup
        lt = raw.get("x-kubernetes-list-type")
        if lt == "set":
            node.list_type = LIST_SET
        elif lt == "map":
            keys = raw.get("x-kubernetes-list-map-keys") or ()
            node.list_type = LIST_MAP
            node.keys = tuple(str(k) for k in keys)
        elif lt is None:
            strategy = str(raw.get("x-kubernetes-patch-strategy", ""))
            if strategy in ("merge", "merge,retainKeys"):
                key = raw.get("x-kubernetes-patch-merge-key")
                if isinstance(key, str):
                    node.list_type = LIST_MAP
                    node.keys = (key,)
                else:
                    node.list_type = LIST_SET
        if node.list_type == LIST_MAP and not node.keys:
            node.list_type = LIST_SET
        node.atomic = node.list_type == LIST_ATOMIC
        return node
    if typ in ("string", "integer", "number", "boolean") or raw.get("x-kubernetes-int-or-string"):
        return _SCALAR
    if preserve or not raw or typ is None:
        return _DEDUCED
    return _SCALAR


def _skeleton(node: Schema, *, root: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if node.kind != MAP or node.definition is None:
        return out
    if node.definition == OBJECT_META:
        return {"creationTimestamp": None}
    names: tuple[str, ...] = _VALUE_STRUCT_FIELDS.get(node.definition, ())
    if root:
        names = tuple(n for n in ("metadata", "spec", "status") if node.is_named(n)) + names
    for name in names:
        child = node.field(name)
        if child.kind == MAP and child.definition is not None:
            out[name] = _skeleton(child, root=False)
    for name in _NULL_FIELDS.get(node.definition, ()):
        out[name] = None
    return out


_SCALAR = Schema(SCALAR)
_ATOMIC = Schema(ATOMIC)
_DEDUCED = Schema(DEDUCED)
_DEDUCED.atomic = False
_DEDUCED_MAP = Schema(MAP)
_DEDUCED_MAP._elem = _DEDUCED
