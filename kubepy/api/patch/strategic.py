"""Strategic merge patch (``application/strategic-merge-patch+json``) for built-in kinds.

A strategic merge patch is a JSON merge patch whose lists follow each field's patch
strategy, read from the upstream OpenAPI definitions:
- ``x-kubernetes-patch-strategy: merge`` with ``x-kubernetes-patch-merge-key``: list
  elements are matched by key; patch elements update in place or are added;
- ``merge`` on a list of primitives (``finalizers``): union of values;
- no strategy: the list is replaced whole (atomic); ``replace`` on a map replaces it;
- ``retainKeys`` only matters to clients computing patches: the server honours a
  ``$retainKeys`` directive wherever it appears.
Directives: ``$patch: replace|delete|merge`` (in a map, or as a list element),
``$retainKeys``, ``$deleteFromPrimitiveList/<field>``, ``$setElementOrder/<field>``.

The algorithm follows upstream's ``strategicpatch.StrategicMergeMapPatch`` step by step
(directive, then retainKeys, then the ordered lists, then every other key) so results,
element order included, match what kubectl sees from a real apiserver: e.g. elements a
patch adds to a merge list come before the live ones unless ``$setElementOrder`` places
them. Deliberate differences, where upstream stores leftovers that its typed decoding
then drops or mangles: a patch value for a field the original lacks is merged into an
empty value (so directives and ``null`` members never land in the object), a
``$deleteFromPrimitiveList`` of an absent list does nothing, and ``$patch: merge`` (the
documented default) is accepted rather than rejected.

Errors carry upstream's status: malformed ``$retainKeys``/``$deleteFromPrimitiveList``/
``$setElementOrder`` are 400, lists of lists 422, and the other failures (an element
without its merge key, an unknown ``$patch``) are plain errors upstream renders as 500
with an empty reason and Go-formatted messages (``map: map[image:nginx] does not contain
declared merge key: name``).

Field metadata is computed once per OpenAPI definition and cached; the original and the
patch are each copied once, then merged in place, so the inputs are never mutated and the
result shares nothing with them.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

import orjson

from kubepy.api import openapi_defs
from kubepy.api.patch.errors import PatchError, bad_request, generic_invalid, internal
from kubepy.api.patch.jsoncopy import json_copy

__all__ = ["apply_strategic_merge_patch"]

DIRECTIVE = "$patch"
DELETE = "delete"
REPLACE = "replace"
MERGE = "merge"
RETAIN_KEYS = "$retainKeys"
DELETE_FROM_PRIMITIVE_LIST = "$deleteFromPrimitiveList"
SET_ELEMENT_ORDER = "$setElementOrder"

# upstream mergepatch error texts
_ERR_PRIMITIVE_LIST = "invalid patch format of primitive list"
_ERR_RETAIN_KEYS = "invalid patch format of retainKeys"
_ERR_SET_ELEMENT_ORDER = "invalid patch format of setElementOrder list"
_ERR_LIST_OF_LISTS = "lists of lists are not supported"

_GO_SLICE = "[]interface {}"
_GO_MAP = "map[string]interface {}"

_MISSING: Any = object()

Json = Any


# --------------------------------------------------------------------------- schema


@dataclass(frozen=True, slots=True)
class _Field:
    """Patch metadata of one field: strategy ("merge", "replace" or "") and merge key."""

    strategy: str
    merge_key: str
    #: the definition of the value (maps) or of the elements (lists), if named
    ref: str | None
    #: the inline schema's type otherwise (None when nothing is known)
    inline: _Type | None

    def type(self) -> _Type | None:
        if self.ref is not None:
            return _named_type(self.ref)
        return self.inline


class _Type:
    """The fields of an object schema, with their patch metadata."""

    __slots__ = ("additional", "fields")

    def __init__(self, fields: dict[str, _Field], additional: _Field | None) -> None:
        self.fields = fields
        self.additional = additional


_UNKNOWN = _Field("", "", None, None)


def _field(t: _Type | None, name: str) -> _Field:
    """Metadata of ``name`` in ``t``; unknown fields merge as plain maps / atomic lists."""
    if t is None:
        return _UNKNOWN
    f = t.fields.get(name)
    if f is not None:
        return f
    return t.additional or _UNKNOWN


def _field_from(node: dict[str, Any]) -> _Field:
    parts = str(node.get("x-kubernetes-patch-strategy", "")).split(",")
    strategy = MERGE if MERGE in parts else REPLACE if REPLACE in parts else ""
    merge_key = str(node.get("x-kubernetes-patch-merge-key", ""))
    target = node
    if node.get("type") == "array" and isinstance(node.get("items"), dict):
        target = node["items"]
    ref = openapi_defs.ref_name(target)
    inline = None if ref is not None else _inline_type(target)
    return _Field(strategy, merge_key, ref, inline)


def _inline_type(node: dict[str, Any]) -> _Type | None:
    props = node.get("properties")
    extra = node.get("additionalProperties")
    if not isinstance(props, dict) and not isinstance(extra, dict):
        return None
    fields = {
        name: _field_from(p)
        for name, p in (props or {}).items()
        if isinstance(p, dict)
    }
    return _Type(fields, _field_from(extra) if isinstance(extra, dict) else None)


@functools.cache
def _named_type(name: str) -> _Type | None:
    node = openapi_defs.definitions().get(name)
    if node is None:
        return None
    return _inline_type(openapi_defs.resolve(node)) or _Type({}, None)


# --------------------------------------------------------------------------- Go-style text


def _go_float(f: float) -> str:
    """``fmt.Sprint(float64)``: shortest digits, %e when the exponent is < -4 or >= 6."""
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    if f == 0:
        return "-0" if math.copysign(1.0, f) < 0 else "0"
    sign, digit_tuple, exponent = Decimal(repr(f)).as_tuple()
    assert isinstance(exponent, int)
    digits = "".join(map(str, digit_tuple)).rstrip("0") or "0"
    exponent += len("".join(map(str, digit_tuple))) - len(digits)
    point = len(digits) + exponent  # position of the decimal point
    exp = point - 1
    prefix = "-" if sign else ""
    if exp < -4 or exp >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{prefix}{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if point <= 0:
        return f"{prefix}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return prefix + digits + "0" * (point - len(digits))
    return f"{prefix}{digits[:point]}.{digits[point:]}"


def _go_v(value: Json) -> str:
    """A JSON value as Go's ``%v`` prints its ``interface{}`` form."""
    if value is None:
        return "<nil>"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _go_float(value)
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{_go_v(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(_go_v(v) for v in value) + "]"
    return str(value)


def _go_type(value: Json) -> str:
    if value is None:
        return "%!s(<nil>)"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, str):
        return "string"
    if isinstance(value, int):
        return "int64"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, dict):
        return _GO_MAP
    return _GO_SLICE


def _go_s(value: Json) -> str:
    """Go's ``%s`` of an ``interface{}``: strings as-is, other scalars flagged."""
    if isinstance(value, (str, dict, list)):
        return _go_v(value)
    if value is None:
        return "%!s(<nil>)"
    return f"%!s({_go_type(value)}={_go_v(value)})"


def _no_merge_key(m: dict[str, Any], key: str) -> PatchError:
    return internal(f"map: {_go_v(m)} does not contain declared merge key: {key}")


def _bad_arg(expected: str, actual: Json) -> PatchError:
    return internal(f"expected a {expected}, but received a {_go_type(actual)}")


def _bad_patch_type(directive: Json, m: dict[str, Any]) -> PatchError:
    return internal(f"unknown patch type: {_go_s(directive)} in map: {_go_v(m)}")


# --------------------------------------------------------------------------- helpers


def _hk(value: Json) -> Hashable:
    """A hashable identity of a JSON value that, like Go's ``==``, tells types apart
    (strings stand for themselves: every other identity is a tuple)."""
    t = type(value)
    if t is str:
        return cast(str, value)
    if value is None or t is int or t is float or t is bool:
        return (t, value)
    return (type(value), orjson.dumps(value, option=orjson.OPT_SORT_KEYS))


def _extract_key(key: str, prefix: str) -> str:
    head, sep, rest = key.partition("/")
    if not sep or head != prefix:
        raise bad_request(
            _ERR_PRIMITIVE_LIST if prefix == DELETE_FROM_PRIMITIVE_LIST else _ERR_SET_ELEMENT_ORDER
        )
    return rest


def _elem_kind(*lists: list[Json]) -> str | None:
    """"map", "scalar" or None (no elements); all elements must share one JSON type."""
    first: type | None = None
    for lst in lists:
        for v in lst:
            t = type(v)
            if first is None:
                if t is list:
                    raise generic_invalid(_ERR_LIST_OF_LISTS)
                first = t
            elif t is not first:
                raise internal(f"list element types are not identical: {_go_v(list(lists))}")
    if first is None:
        return None
    return "map" if first is dict else "scalar"


def _map_key(merge_key: str) -> Callable[[Json], Hashable]:
    """Key function of merge-key lists; raises upstream's errors for bad elements."""

    def key(item: Json) -> Hashable:
        if not isinstance(item, dict):
            raise _bad_arg(_GO_MAP, item)
        if merge_key not in item:
            raise _no_merge_key(item, merge_key)
        return _hk(item[merge_key])

    return key


def _first_index(items: list[Json], key: Callable[[Json], Hashable]) -> dict[Hashable, int]:
    out: dict[Hashable, int] = {}
    for i, item in enumerate(items):
        out.setdefault(key(item), i)
    return out


def _normalize_order(
    merged: list[Json],
    order: list[Json],
    server_order: list[Json],
    key: Callable[[Json], Hashable],
) -> list[Json]:
    """Order ``merged``: items named in ``order`` follow it, the others keep their live
    order, and the two runs are interleaved by live position (upstream's
    normalizeElementOrder + mergeSortedSlice)."""
    if len(merged) < 2:
        return merged
    order_index = _first_index(order, key)
    server_index = _first_index(server_order, key)
    patch_items: list[Json] = []
    server_only: list[Json] = []
    for item in merged:
        (patch_items if key(item) in order_index else server_only).append(item)
    end = len(order) + len(server_order)
    patch_items.sort(key=lambda item: order_index.get(key(item), end))
    server_only.sort(key=lambda item: server_index.get(key(item), end))
    out: list[Json] = []
    i = j = 0
    while i < len(server_only) or j < len(patch_items):
        if i >= len(server_only):
            out.append(patch_items[j])
            j += 1
        elif j >= len(patch_items):
            out.append(server_only[i])
            i += 1
        else:
            left = server_index.get(key(server_only[i]))
            right = server_index.get(key(patch_items[j]))
            if left is not None and right is not None and left < right:
                out.append(server_only[i])
                i += 1
            else:
                out.append(patch_items[j])
                j += 1
    return out


# --------------------------------------------------------------------------- merging


def _merge_map(orig: dict[str, Any], patch: dict[str, Any], t: _Type | None) -> dict[str, Any]:
    """Merge ``patch`` into ``orig`` (both private copies, mutated) and return the result."""
    if DIRECTIVE in patch:
        directive = patch[DIRECTIVE]
        if directive == REPLACE:
            del patch[DIRECTIVE]
            return _merge_map({}, patch, t)
        if directive == DELETE:
            return {}
        if directive != MERGE:
            raise _bad_patch_type(directive, patch)
        del patch[DIRECTIVE]

    if RETAIN_KEYS in patch:
        _apply_retain_keys(orig, patch)

    if any(k.startswith(SET_ELEMENT_ORDER) for k in patch):
        _merge_ordered_lists(orig, patch, t)

    for key, value in list(patch.items()):
        if key.startswith(DELETE_FROM_PRIMITIVE_LIST):
            _delete_from_primitive_list(orig, _extract_key(key, DELETE_FROM_PRIMITIVE_LIST), value)
            continue
        if value is None:
            orig.pop(key, None)
            continue
        f = _field(t, key)
        current = orig.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            if f.strategy == REPLACE:
                orig[key] = _merge_map({}, value, f.type())
            else:
                orig[key] = _merge_map(current, value, f.type())
        elif isinstance(value, list) and isinstance(current, list):
            orig[key] = _merge_list_field(current, value, f)
        else:
            orig[key] = _fresh(value, f)
    return orig


def _fresh(value: Json, f: _Field) -> Json:
    """A patch value for a field the original lacks (or holds with another type)."""
    if isinstance(value, dict):
        return _merge_map({}, value, f.type())
    if isinstance(value, list):
        return _merge_list_field([], value, f)
    return value


def _apply_retain_keys(orig: dict[str, Any], patch: dict[str, Any]) -> None:
    retain = patch.pop(RETAIN_KEYS)
    if not isinstance(retain, list):
        raise bad_request(_ERR_RETAIN_KEYS)
    keep = {k for k in retain if isinstance(k, str)}
    for key, value in patch.items():
        if value is None or key.startswith((DELETE_FROM_PRIMITIVE_LIST, SET_ELEMENT_ORDER)):
            continue
        if key not in keep:
            raise bad_request(_ERR_RETAIN_KEYS)
    for key in [k for k in orig if k not in keep]:
        del orig[key]


def _delete_from_primitive_list(orig: dict[str, Any], name: str, values: Json) -> None:
    if values is None:
        return
    if not isinstance(values, list):
        raise bad_request(_ERR_PRIMITIVE_LIST)
    current = orig.get(name)
    if not isinstance(current, list) or not current or not values:
        return
    _elem_kind(current, values)
    drop = {_hk(v) for v in values}
    orig[name] = [v for v in current if _hk(v) not in drop]


def _merge_ordered_lists(orig: dict[str, Any], patch: dict[str, Any], t: _Type | None) -> None:
    """Handle every ``$setElementOrder/<field>`` with its list (upstream
    mergePatchIntoOriginal): merge the list, then impose the order."""
    for directive_key in [k for k in patch if k.startswith(SET_ELEMENT_ORDER)]:
        order = patch.pop(directive_key)
        if not isinstance(order, list):
            raise _bad_arg(_GO_SLICE, order)
        name = _extract_key(directive_key, SET_ELEMENT_ORDER)
        f = _field(t, name)
        current = orig.get(name)
        patch_list = patch.get(name)
        if current is not None and not isinstance(current, list):
            raise _bad_arg(_GO_SLICE, current)
        if name in patch and patch_list is None:
            continue  # the list is being deleted: nothing to order
        if patch_list is not None and not isinstance(patch_list, list):
            raise _bad_arg(_GO_SLICE, patch_list)
        _validate_order(patch_list or [], order, f.merge_key)
        if current is None and patch_list is None:
            continue
        live = current or []
        kind = _elem_kind(live, patch_list or [])
        if current is not None and patch_list is not None:
            merged = _merge_list_field(current, patch_list, f)
        elif current is not None:
            merged = current
        else:
            merged = _merge_list_field([], patch_list or [], f)
        if kind == "map" and not f.merge_key:
            ordered = merged  # maps without a key have no identity to order by
        else:
            key = _map_key(f.merge_key) if kind == "map" else _hk
            if kind == "map":
                for item in order:
                    key(item)
            ordered = _normalize_order(merged, order, live, key)
        orig[name] = ordered
        patch.pop(name, None)


def _validate_order(patch_list: list[Json], order: list[Json], merge_key: str) -> None:
    """The patch's elements must appear in ``$setElementOrder`` in the same relative order."""
    if not patch_list or not order:
        return
    if merge_key:
        for item in patch_list:
            if not isinstance(item, dict):
                raise _bad_arg(_GO_MAP, item)
        items = [i for i in patch_list if i.get(DIRECTIVE) != DELETE]
    else:
        items = patch_list

    def same(a: Json, b: Json) -> bool:
        if not merge_key:
            return bool(_hk(a) == _hk(b))
        if not isinstance(a, dict):
            raise _bad_arg(_GO_MAP, a)
        if not isinstance(b, dict):
            raise _bad_arg(_GO_MAP, b)
        if merge_key not in a:
            raise _no_merge_key(a, merge_key)
        if merge_key not in b:
            raise _no_merge_key(b, merge_key)
        return bool(_hk(a[merge_key]) == _hk(b[merge_key]))

    i = j = 0
    while i < len(items) and j < len(order):
        if isinstance(items[i], dict) and DIRECTIVE in items[i]:
            i += 1
            continue
        if same(items[i], order[j]):
            i += 1
        j += 1
    if i < len(items) and j >= len(order):
        raise internal(
            f"The order in patch list:\n{_go_v(patch_list)}\n doesn't match "
            f"{SET_ELEMENT_ORDER} list:\n{_go_v(order)}\n"
        )


def _merge_list_field(current: list[Json], patch: list[Json], f: _Field) -> list[Json]:
    if f.strategy == MERGE:
        return _merge_list(current, patch, f.type(), f.merge_key)
    return patch


def _merge_list(
    current: list[Json], patch: list[Json], elem: _Type | None, merge_key: str
) -> list[Json]:
    """A ``merge``-strategy list: union of primitives, or maps matched by merge key."""
    if not current and not patch:
        return current
    kind = _elem_kind(current, patch)
    if kind != "map":
        seen: set[Hashable] = set()
        merged: list[Json] = []
        for v in current + patch:
            h = _hk(v)
            if h not in seen:
                seen.add(h)
                merged.append(v)
        return _normalize_order(merged, patch, current, _hk)
    if not merge_key:
        raise internal("cannot merge lists without merge key for type struct")
    live, rest = _apply_list_directives(current, patch, merge_key, elem)
    out = list(live)
    key = _map_key(merge_key)
    positions = _first_index(out, key)
    for item in rest:
        h = key(item)
        pos = positions.get(h)
        if pos is None:
            positions[h] = len(out)
            out.append(_merge_map({}, item, elem))
        else:
            out[pos] = _merge_map(out[pos], item, elem)
    return _normalize_order(out, rest, live, key)


def _apply_list_directives(
    current: list[Json], patch: list[Json], merge_key: str, elem: _Type | None
) -> tuple[list[Json], list[Json]]:
    """Process ``$patch`` elements: deletions, ``replace`` (the list becomes the patch's
    other elements). Returns the live list to merge into and the remaining patch."""
    rest: list[Json] = []
    replace = False
    for item in patch:
        if DIRECTIVE not in item:
            rest.append(item)
            continue
        directive = item[DIRECTIVE]
        if directive == DELETE:
            if merge_key not in item:
                raise _no_merge_key(item, merge_key)
            gone = _hk(item[merge_key])
            current = [
                e for e in current
                if not (merge_key in e and _hk(e[merge_key]) == gone)
            ]
        elif directive == REPLACE:
            replace = True
        elif directive == MERGE:
            item = {k: v for k, v in item.items() if k != DIRECTIVE}
            if item:
                rest.append(item)
        else:
            raise _bad_patch_type(directive, item)
    if replace:
        return [_merge_map({}, item, elem) for item in rest], []
    return current, rest


# --------------------------------------------------------------------------- entry point


def apply_strategic_merge_patch(
    original: dict[str, Any], patch: dict[str, Any], schema_name: str
) -> dict[str, Any]:
    """Apply a strategic merge patch to ``original`` (an object of OpenAPI definition
    ``schema_name``, e.g. ``io.k8s.api.apps.v1.Deployment``); inputs are not mutated.

    Raises ``PatchError`` with upstream's status and message when the patch is invalid.
    """
    if patch is None:
        return dict(json_copy(original))
    if not isinstance(patch, dict):
        kind = "array" if isinstance(patch, list) else "string" if isinstance(patch, str) else (
            "bool" if isinstance(patch, bool) else "number"
        )
        raise bad_request(f"json: cannot unmarshal {kind} into Go value of type {_GO_MAP}")
    t = _named_type(schema_name)
    target = json_copy(original) if isinstance(original, dict) else {}
    result = _merge_map(target, json_copy(patch), t)
    return result
