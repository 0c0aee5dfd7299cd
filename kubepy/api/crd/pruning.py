"""Pruning: drop the fields of a custom resource that its structural schema does not declare.

What upstream's ``pruning.PruneWithOptions`` does, on dicts, in place: unknown fields go
away unless the node (or an ancestor on the way) says ``x-kubernetes-preserve-unknown-fields``;
at the root and inside ``x-kubernetes-embedded-resource`` objects ``apiVersion``, ``kind``
and ``metadata`` stay. The pruned paths come back so the API server can honour
``fieldValidation`` (Strict: 400, Warn: warnings) with upstream's
``unknown field "spec.foo"`` texts.
"""

from __future__ import annotations

import functools
from typing import Any

from kubepy.api import openapi_defs
from kubepy.api.crd.structural import Node

__all__ = ["prune"]

_META_FIELDS = ("apiVersion", "kind", "metadata")
OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"


@functools.cache
def _object_meta_fields() -> frozenset[str]:
    return frozenset(openapi_defs.schema(OBJECT_META).get("properties", {}))


def prune(obj: dict[str, Any], root: Node) -> list[str]:
    """Prune ``obj`` (a whole custom resource) in place; returns the removed field paths."""
    pruned: list[str] = []
    _object(obj, root, "", pruned, resource=True)
    return pruned


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _value(value: Any, node: Node, path: str, pruned: list[str]) -> None:
    if isinstance(value, dict):
        _object(value, node, path, pruned, resource=node.embedded)
    elif isinstance(value, list):
        items = node.items
        if items is None:
            return
        for i, item in enumerate(value):
            if isinstance(item, (dict, list)):
                _value(item, items, f"{path}[{i}]", pruned)


def _object(obj: dict[str, Any], node: Node, path: str, pruned: list[str], *, resource: bool) -> None:
    props = node.properties
    additional = node.additional
    if node.additional_any:
        return
    for key in list(obj):
        value = obj[key]
        if resource and key == "metadata":
            if isinstance(value, dict):  # ObjectMeta is pruned as ObjectMeta, not by the schema
                meta_fields = _object_meta_fields()
                for mkey in [k for k in value if k not in meta_fields]:
                    del value[mkey]
                    pruned.append(f"{_join(path, 'metadata')}.{mkey}")
            continue
        child = props.get(key) if props is not None else None
        if child is None:
            child = additional
        if child is None:
            if resource and key in _META_FIELDS:
                continue
            if node.preserve_unknown:
                continue
            del obj[key]
            pruned.append(_join(path, key) if props is not None or additional is None else f"{path}[{key}]")
            continue
        if isinstance(value, (dict, list)):
            sub = _join(path, key) if child is not additional else f"{path}[{key}]"
            _value(value, child, sub, pruned)
