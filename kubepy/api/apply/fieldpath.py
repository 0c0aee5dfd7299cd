"""Sets of field paths, and their ``FieldsV1`` wire form (``metadata.managedFields``).

A path is a tuple of path elements; a ``FieldSet`` is a trie of them. Each level holds
``members`` (paths that end here) and ``children`` (sub-tries). A node can be both: a
list item that a manager owns as a whole *and* whose fields it owns, written ``"."`` in
FieldsV1.

Path elements are plain tuples so that they hash, compare and sort fast, in upstream's
order (structured-merge-diff ``PathElement.Compare``): field names < list-map keys <
set values < indexes, each ordered within its kind:

- ``(0, name)``                  ``f:<name>``
- ``(1, ((name, v), ...))``      ``k:{"name":"nginx"}`` (key fields sorted by name)
- ``(2, v)``                     ``v:"example.com/a"``
- ``(3, index)``                 ``i:0``

where ``v`` is a value wrapped with a type tag (``(0, number)``, ``(1, str)``,
``(2, bool)``, ``(3, list)``, ``(4, map)``, ``(5, null)``) so that ``true`` and ``1``
stay apart and values of different types order as upstream's ``value.Compare``.

``to_fields_v1`` writes what upstream's structured-merge-diff v4 (Kubernetes 1.32) writes:
at each level members and children in element order, ``"."`` first when a child is also
a member, ``k:`` and ``v:`` carrying compact JSON escaped like Go's encoder. Sets are
treated as immutable once built: operations return new sets that may share sub-tries.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Sequence
from typing import Any

from kubepy.api.apply.schema import LIST, LIST_MAP, LIST_SET, MAP, Schema

__all__ = [
    "FieldSet",
    "InvalidObject",
    "PathElement",
    "field_pe",
    "item_pe",
    "path_string",
    "pe_from_string",
    "pe_string",
]

PathElement = tuple[int, Any]
Path = tuple[PathElement, ...]
_FieldsV1 = dict[str, Any]


class InvalidObject(ValueError):
    """An object that cannot be walked by its schema (a list-map item without its key).

    ``str()`` reads as upstream's typed-value errors:
    ``.spec.template.spec.containers: element 0: associative list with keys ...``.
    """

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.path = path

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


# -- values and path elements ------------------------------------------------------------


def wrap(value: Any) -> tuple[int, Any]:
    """A value as a hashable, ordered, type-tagged tuple."""
    if isinstance(value, bool):
        return (2, value)
    if isinstance(value, (int, float)):
        return (0, value)
    if isinstance(value, str):
        return (1, value)
    if value is None:
        return (5, 0)
    if isinstance(value, list):
        return (3, tuple(wrap(v) for v in value))
    if isinstance(value, dict):
        return (4, tuple(sorted((str(k), wrap(v)) for k, v in value.items())))
    return (1, str(value))


def unwrap(tagged: tuple[int, Any]) -> Any:
    """The plain value of a ``wrap`` result."""
    tag, payload = tagged
    if tag == 3:
        return [unwrap(v) for v in payload]
    if tag == 4:
        return {k: unwrap(v) for k, v in payload}
    if tag == 5:
        return None
    return payload


_field_pes: dict[str, PathElement] = {}


def field_pe(name: str) -> PathElement:
    """The path element of a map key / struct field (interned)."""
    pe = _field_pes.get(name)
    if pe is None:
        pe = (0, name)
        if len(_field_pes) < 100_000:
            _field_pes[name] = pe
    return pe


def item_pe(node: Schema, index: int, item: Any) -> PathElement:
    """The path element of item ``index`` of a list with schema ``node``."""
    lt = node.list_type
    if lt == LIST_MAP:
        if not isinstance(item, dict):
            if item is None:
                raise InvalidObject("associative list with keys may not have a null element")
            raise InvalidObject("associative list with keys may not have non-map elements")
        fields = []
        defaults = node.item.key_defaults
        for key in node.keys:
            if key in item:
                fields.append((key, wrap(item[key])))
            elif key in defaults:
                fields.append((key, wrap(defaults[key])))
            else:
                raise InvalidObject(
                    f'associative list with keys has an element that omits key field "{key}" '
                    "(and doesn't have default value)"
                )
        if len(fields) > 1:
            fields.sort(key=lambda f: f[0])
        return (1, tuple(fields))
    if lt == LIST_SET:
        if item is None:
            raise InvalidObject("associative list without keys has an element that's an explicit null")
        if isinstance(item, list):
            raise InvalidObject("not supported: associative list with lists as elements")
        return (2, wrap(item))
    return (3, index)


def _go_json(value: Any) -> str:
    """Compact JSON as Go's encoder writes it (HTML characters escaped)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e21:
            return str(int(value))
        return repr(value)
    if value is None:
        return "null"
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
    else:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    if "<" in text or ">" in text or "&" in text or "\u2028" in text or "\u2029" in text:
        text = (
            text.replace("<", "\\u003c")
            .replace(">", "\\u003e")
            .replace("&", "\\u0026")
            .replace("\u2028", "\\u2028")
            .replace("\u2029", "\\u2029")
        )
    return text


@functools.lru_cache(maxsize=16384)
def pe_string(pe: PathElement) -> str:
    """The FieldsV1 key of a path element (``f:name``, ``k:{...}``, ``v:...``, ``i:N``)."""
    kind, payload = pe
    if kind == 0:
        return "f:" + payload  # type: ignore[no-any-return]
    if kind == 1:
        return "k:{" + ",".join(_go_json(n) + ":" + _go_json(unwrap(v)) for n, v in payload) + "}"
    if kind == 2:
        return "v:" + _go_json(unwrap(payload))
    return "i:" + str(payload)


@functools.lru_cache(maxsize=16384)
def pe_from_string(text: str) -> PathElement | None:
    """Parse a FieldsV1 key; ``None`` for an unknown element type (ignored, as upstream)."""
    if len(text) < 2 or text[1] != ":":
        raise ValueError(f"invalid path element {text!r}")
    kind, body = text[0], text[2:]
    if kind == "f":
        return field_pe(body)
    if kind == "k":
        obj = json.loads(body)
        if not isinstance(obj, dict):
            raise ValueError(f"invalid key path element {text!r}")
        return (1, tuple(sorted(((str(k), wrap(v)) for k, v in obj.items()), key=lambda f: f[0])))
    if kind == "v":
        return (2, wrap(json.loads(body)))
    if kind == "i":
        return (3, int(body))
    return None


def _go_value_string(value: Any) -> str:
    """``value.ToString`` of structured-merge-diff (strings quoted as Go's %q)."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    if isinstance(value, list):
        return "[" + ",".join(_go_value_string(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{k}={_go_value_string(v)}" for k, v in sorted(value.items())) + "}"
    return str(value)


def path_string(path: Sequence[PathElement]) -> str:
    """A path as upstream prints it in conflicts: ``.spec.containers[name="nginx"].image``."""
    parts = []
    for kind, payload in path:
        if kind == 0:
            parts.append("." + payload)
        elif kind == 1:
            parts.append("[" + ",".join(f"{n}={_go_value_string(unwrap(v))}" for n, v in payload) + "]")
        elif kind == 2:
            parts.append(f"[={_go_value_string(unwrap(payload))}]")
        else:
            parts.append(f"[{payload}]")
    return "".join(parts)


# -- the set -----------------------------------------------------------------------------


class FieldSet:
    """A set of paths (a trie). Build with ``insert``/``from_*``; combine without mutating."""

    __slots__ = ("members", "children")

    def __init__(self) -> None:
        self.members: set[PathElement] = set()
        self.children: dict[PathElement, FieldSet] = {}

    # -- building ----------------------------------------------------------------------

    def insert(self, path: Sequence[PathElement]) -> None:
        """Add one path (mutates; only while building a set)."""
        node = self
        for pe in path[:-1]:
            child = node.children.get(pe)
            if child is None:
                child = node.children[pe] = FieldSet()
            node = child
        if path:
            node.members.add(path[-1])

    @classmethod
    def from_paths(cls, paths: Sequence[Sequence[PathElement]]) -> FieldSet:
        out = cls()
        for p in paths:
            out.insert(p)
        return out

    @classmethod
    def from_object(cls, obj: Any, schema: Schema) -> FieldSet:
        """The paths an object sets (upstream ``ToFieldSet``): leaves, atomic values, list
        items, map entries that are not struct fields, empty and null values."""
        out = cls()
        node = schema.for_value(obj)
        if node.kind == MAP and not node.atomic and isinstance(obj, dict):
            _map_to_set(obj, node, out)
        elif node.kind == LIST and not node.atomic and isinstance(obj, list):
            _list_to_set(obj, node, out)
        return out

    # -- queries -----------------------------------------------------------------------

    def empty(self) -> bool:
        return not self.members and not self.children

    def __bool__(self) -> bool:
        return bool(self.members) or bool(self.children)

    def has(self, path: Sequence[PathElement]) -> bool:
        node: FieldSet | None = self
        for pe in path[:-1]:
            assert node is not None
            node = node.children.get(pe)
            if node is None:
                return False
        return bool(path) and node is not None and path[-1] in node.members

    def with_prefix(self, pe: PathElement) -> FieldSet:
        """The sub-set under ``pe`` (empty if none)."""
        return self.children.get(pe) or _EMPTY

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FieldSet):
            return NotImplemented
        return self.members == other.members and self.children == other.children

    __hash__ = None  # type: ignore[assignment]

    def paths(self, prefix: Path = ()) -> Iterator[Path]:
        """Every path, in upstream's iteration order (members, then children, sorted)."""
        for pe in sorted(self.members):
            yield prefix + (pe,)
        for pe in sorted(self.children):
            yield from self.children[pe].paths(prefix + (pe,))

    def __len__(self) -> int:
        return len(self.members) + sum(len(c) for c in self.children.values())

    def __repr__(self) -> str:
        return "FieldSet(" + ", ".join(path_string(p) for p in self.paths()) + ")"

    # -- algebra -----------------------------------------------------------------------

    def union(self, other: FieldSet) -> FieldSet:
        if other.empty():
            return self
        if self.empty():
            return other
        out = FieldSet()
        out.members = self.members | other.members
        children = dict(self.children)
        for pe, child in other.children.items():
            mine = children.get(pe)
            children[pe] = child if mine is None else mine.union(child)
        out.children = children
        return out

    def difference(self, other: FieldSet) -> FieldSet:
        """Paths of ``self`` not in ``other`` (a member of ``other`` removes only itself)."""
        if other.empty() or self.empty():
            return self
        out = FieldSet()
        out.members = self.members - other.members
        for pe, child in self.children.items():
            theirs = other.children.get(pe)
            if theirs is None:
                out.children[pe] = child
            else:
                rest = child.difference(theirs)
                if rest:
                    out.children[pe] = rest
        return out

    def intersection(self, other: FieldSet) -> FieldSet:
        out = FieldSet()
        if self.empty() or other.empty():
            return out
        out.members = self.members & other.members
        small, large = (self.children, other.children)
        if len(small) > len(large):
            small, large = large, small
        for pe, child in small.items():
            theirs = large.get(pe)
            if theirs is not None:
                both = child.intersection(theirs)
                if both:
                    out.children[pe] = both
        return out

    def recursive_difference(self, other: FieldSet) -> FieldSet:
        """Paths of ``self`` neither in ``other`` nor under a member of ``other``."""
        if other.empty() or self.empty():
            return self
        out = FieldSet()
        out.members = self.members - other.members
        for pe, child in self.children.items():
            if pe in other.members:
                continue
            theirs = other.children.get(pe)
            if theirs is None:
                out.children[pe] = child
            else:
                rest = child.recursive_difference(theirs)
                if rest:
                    out.children[pe] = rest
        return out

    # -- FieldsV1 ----------------------------------------------------------------------

    def to_fields_v1(self) -> _FieldsV1:
        """The FieldsV1 object, keys in the order upstream serialises them."""
        return _emit(self, False)

    def to_json(self) -> str:
        """The FieldsV1 bytes upstream would store, as text."""
        return json.dumps(self.to_fields_v1(), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_fields_v1(cls, fields: _FieldsV1) -> FieldSet:
        """Parse a FieldsV1 object (``ValueError`` if malformed)."""
        if not isinstance(fields, dict):
            raise ValueError("FieldsV1 must be an object")
        found, _ = _read(fields)
        return found if found is not None else cls()


_EMPTY = FieldSet()


def _emit(fs: FieldSet, include_self: bool) -> _FieldsV1:
    out: _FieldsV1 = {}
    if include_self and (fs.members or fs.children):
        out["."] = {}
    members, children = fs.members, fs.children
    if not children:
        for pe in sorted(members):
            out[pe_string(pe)] = {}
        return out
    for pe in sorted(members | children.keys()):
        child = children.get(pe)
        out[pe_string(pe)] = {} if child is None else _emit(child, pe in members)
    return out


def _read(fields: _FieldsV1) -> tuple[FieldSet | None, bool]:
    out: FieldSet | None = None
    is_member = False
    for key, sub in fields.items():
        if key == ".":
            is_member = True
            continue
        pe = pe_from_string(key)
        if pe is None:
            continue
        if not isinstance(sub, dict):
            raise ValueError(f"FieldsV1 value of {key!r} must be an object")
        grandchildren, child_is_member = _read(sub)
        if out is None:
            out = FieldSet()
        if child_is_member:
            out.members.add(pe)
        if grandchildren is not None:
            out.children[pe] = grandchildren
    if out is None:
        return None, True
    return out, is_member


# -- ToFieldSet walkers --------------------------------------------------------------------


def _value_to_set(value: Any, node: Schema) -> FieldSet | None:
    """Content under one node (``None`` for leaves / nothing)."""
    node = node.for_value(value)
    kind = node.kind
    if kind == MAP and not node.atomic and isinstance(value, dict) and value:
        sub = FieldSet()
        _map_to_set(value, node, sub)
        return sub or None
    if kind == LIST and not node.atomic and isinstance(value, list) and value:
        sub = FieldSet()
        _list_to_set(value, node, sub)
        return sub or None
    return None


def _map_to_set(obj: dict[str, Any], node: Schema, out: FieldSet) -> None:
    for key, value in obj.items():
        try:
            _entry_to_set(key, value, node, out)
        except InvalidObject as err:
            err.path = "." + key + err.path
            raise


def _entry_to_set(key: str, value: Any, node: Schema, out: FieldSet) -> None:
    pe = field_pe(key)
    child = node.field(key).for_value(value)
    kind = child.kind
    if kind == MAP and not child.atomic and isinstance(value, dict):
        if not value:
            out.members.add(pe)
            return
        sub = FieldSet()
        _map_to_set(value, child, sub)
        if sub:
            out.children[pe] = sub
        if not node.is_named(key):
            out.members.add(pe)
    elif kind == LIST and not child.atomic and isinstance(value, list):
        if value:
            sub = FieldSet()
            _list_to_set(value, child, sub)
            if sub:
                out.children[pe] = sub
        if not node.is_named(key):
            out.members.add(pe)
    else:
        out.members.add(pe)


def _list_to_set(items: list[Any], node: Schema, out: FieldSet) -> None:
    item_node = node.item
    for i, item in enumerate(items):
        try:
            pe = item_pe(node, i, item)
        except InvalidObject as err:
            raise InvalidObject(f"element {i}: {err.message}") from None
        out.members.add(pe)
        try:
            sub = _value_to_set(item, item_node)
        except InvalidObject as err:
            err.path = path_string((pe,)) + err.path
            raise
        if sub is not None:
            out.children[pe] = sub

