"""Defaulting: fill in the ``default`` values of a structural schema, in place.

Upstream's ``structuraldefaulting.Default`` plus ``PruneNonNullableNullsWithoutDefaults``:
a property missing from an object gets its schema's default (a private copy); a ``null``
where the schema is not ``nullable`` is replaced by the default, or removed when there is
none. Defaults are applied top-down, so a defaulted object gets the defaults of its own
properties too.
"""

from __future__ import annotations

from typing import Any

from kubepy.api.crd.structural import Node

__all__ = ["apply_defaults", "needs_defaults"]


def apply_defaults(obj: Any, node: Node) -> bool:
    """Default ``obj`` against ``node``; True if anything changed."""
    return _walk(obj, node, apply=True)


def needs_defaults(obj: Any, node: Node) -> bool:
    """Whether ``apply_defaults`` would change ``obj`` (read-only)."""
    return _walk(obj, node, apply=False)


def _walk(value: Any, node: Node, *, apply: bool) -> bool:
    changed = False
    if isinstance(value, dict):
        props = node.properties
        if props is not None:
            for key, child in props.items():
                if key in value:
                    v = value[key]
                    if v is None and not child.nullable:
                        if child.default_json is not None:
                            if not apply:
                                return True
                            value[key] = child.default()
                            changed = True
                        else:
                            if not apply:
                                return True
                            del value[key]
                            changed = True
                            continue
                elif child.default_json is not None:
                    if not apply:
                        return True
                    value[key] = child.default()
                    changed = True
                else:
                    continue
                if isinstance(value[key], (dict, list)):
                    if _walk(value[key], child, apply=apply):
                        if not apply:
                            return True
                        changed = True
        add = node.additional
        if add is not None:
            for key in list(value):
                if props is not None and key in props:
                    continue
                v = value[key]
                if v is None and not add.nullable:
                    if not apply:
                        return True
                    if add.default_json is not None:
                        value[key] = add.default()
                    else:
                        del value[key]
                    changed = True
                    continue
                if isinstance(v, (dict, list)) and _walk(v, add, apply=apply):
                    if not apply:
                        return True
                    changed = True
    elif isinstance(value, list):
        items = node.items
        if items is not None:
            for i, v in enumerate(value):
                if v is None and not items.nullable and items.default_json is not None:
                    if not apply:
                        return True
                    value[i] = items.default()
                    changed = True
                elif isinstance(v, (dict, list)) and _walk(v, items, apply=apply):
                    if not apply:
                        return True
                    changed = True
    return changed
