"""RFC 7386 JSON merge patch (``application/merge-patch+json``).

Maps merge recursively, ``null`` deletes a key, every other value (lists included)
replaces whatever was there. This is what ``kubectl label/annotate/scale`` and every patch
of a custom resource use. Like upstream (evanphx/json-patch, which the apiserver uses),
``null`` members are also pruned from objects the patch brings in, including objects
inside arrays, so a patch never stores a literal ``null`` member.

The original is copied once and merged in place; patch values are copied as they are
taken, so the result shares nothing with either input.
"""

from __future__ import annotations

from typing import Any

from kubepy.api.patch.jsoncopy import json_copy

__all__ = ["apply_merge_patch"]


def _prune(value: Any) -> Any:
    """A copy of a patch value with ``null`` members of objects removed (recursively)."""
    if isinstance(value, dict):
        return {k: _prune(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_prune(v) for v in value]
    return value


def _merge_into(target: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
            continue
        current = target.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            _merge_into(current, value)
        else:
            target[key] = _prune(value)
    return target


def apply_merge_patch(original: Any, patch: Any) -> Any:
    """Apply ``patch`` to ``original`` per RFC 7386; neither input is mutated.

    A patch that is not an object replaces the document; an original that is not an
    object is treated as ``{}``.
    """
    if not isinstance(patch, dict):
        return _prune(patch)
    target = json_copy(original) if isinstance(original, dict) else {}
    return _merge_into(target, patch)
