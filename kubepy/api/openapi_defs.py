"""The upstream Kubernetes 1.32 OpenAPI definitions, as shipped by ``kubernetes-validate``.

The package ships them converted to JSON Schema (types such as ``["string", "null"]``,
references as ``#/$defs/<name>``). ``definitions()`` turns them back into OpenAPI shape
once, cached for the process:
- ``type`` is a single string (the non-null one), absent for int-or-string/quantity;
- ``$ref`` holds the bare definition name (``io.k8s.api.core.v1.PodSpec``);
- ``x-kubernetes-*`` extensions, ``format``, ``required``, ``description`` are kept;
- int-or-string definitions carry ``x-kubernetes-int-or-string: true`` and Quantity
  ``format: quantity``, as upstream's OpenAPI v3 documents do.
Validation, patching, pruning and the served /openapi documents all read this one copy.
"""

from __future__ import annotations

import functools
import importlib.resources
from typing import Any

import orjson

KUBE_VERSION = "v1.32.0"
Schema = dict[str, Any]

INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"


def _normalize(node: Any) -> Any:
    if isinstance(node, list):
        return [_normalize(x) for x in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "$ref" and isinstance(value, str):
            out["$ref"] = value.rsplit("/", 1)[-1]
        elif key == "type" and isinstance(value, list):
            types = [t for t in value if t != "null"]
            if len(types) == 1:
                out["type"] = types[0]
            elif types:
                out["type"] = types
        elif key == "enum" and node.get("type") in (["string", "null"], "string"):
            # kubernetes-validate pins apiVersion/kind with enums; drop null from them
            out["enum"] = [v for v in value if v is not None]
        else:
            out[key] = _normalize(value)
    return out


@functools.cache
def definitions() -> dict[str, Schema]:
    """All definitions by name (``io.k8s.api.apps.v1.Deployment`` -> schema)."""
    root = importlib.resources.files("kubernetes_validate") / "kubernetes-json-schema"
    raw = orjson.loads((root / f"{KUBE_VERSION}-local" / "_definitions.json").read_bytes())
    defs: dict[str, Schema] = {name: _normalize(s) for name, s in raw["$defs"].items()}
    ios = defs.get(INT_OR_STRING)
    if ios is not None:
        defs[INT_OR_STRING] = {
            "description": ios.get("description", "IntOrString is a type that can hold an int32 or a string."),
            "type": "string",
            "format": "int-or-string",
            "x-kubernetes-int-or-string": True,
        }
    q = defs.get(QUANTITY)
    if q is not None:
        defs[QUANTITY] = {"description": q.get("description", ""), "type": "string", "format": "quantity"}
    for name, schema in defs.items():
        one_of = schema.get("oneOf")
        if one_of and name not in (INT_OR_STRING, QUANTITY):
            # int-or-string shaped definitions that are not the canonical one
            types = {t.get("type") for t in one_of if isinstance(t, dict)}
            if types == {"string", "integer"}:
                schema.pop("oneOf")
                schema.update(type="string", format="int-or-string")
                schema["x-kubernetes-int-or-string"] = True
    return defs


def schema(name: str) -> Schema:
    """One definition by name; KeyError if upstream has none."""
    return definitions()[name]


def resolve(node: Schema) -> Schema:
    """Follow ``$ref`` (and single-element ``allOf``) to the schema a property points at."""
    while True:
        ref = node.get("$ref")
        if ref:
            node = definitions()[ref]
            continue
        all_of = node.get("allOf")
        if all_of and len(all_of) == 1:
            node = all_of[0]
            continue
        return node


def ref_name(node: Schema) -> str | None:
    """The definition name a property refers to, if any."""
    ref = node.get("$ref")
    if ref:
        return str(ref)
    all_of = node.get("allOf")
    if all_of and len(all_of) == 1:
        return ref_name(all_of[0])
    if node.get("type") == "array":
        return None
    return None


def gvk_index() -> dict[tuple[str, str, str], str]:
    """(group, version, kind) -> definition name, from ``x-kubernetes-group-version-kind``."""
    out: dict[tuple[str, str, str], str] = {}
    for name, s in definitions().items():
        for gvk in s.get("x-kubernetes-group-version-kind", ()):
            out[(gvk["group"], gvk["version"], gvk["kind"])] = name
    return out
