"""Server-side apply and the managedFields bookkeeping of every other write.

Two pure functions, no HTTP and no storage; the API server calls them on its hot path:

- ``apply(live, applied, ...)``: an ``application/apply-patch+yaml`` request. Merges the
  applied configuration into the live object by schema (list-map items by key, sets by
  value, atomic values replaced), removes what this manager applied last time and no
  longer applies unless someone else owns it, takes ownership of what it applies, and
  refuses with ``ApplyConflict`` when it would change a value another manager owns
  (``force`` takes the fields over instead).
- ``update(live_old, new, ...)``: a create, update or patch. The object is already
  computed; this records which fields changed as owned by the writer (operation
  ``Update``) and takes them away from every other manager.

Both follow upstream's structured-merge-diff ``merge.Updater`` and the apiserver's
``managedfields`` chain of managers, whose observable behaviour they reproduce:
managers keyed by manager + operation (+ apiVersion for updates) + subresource, entries
sorted by operation, time, manager, apiVersion, subresource; ``apiVersion``, ``kind``,
``metadata.name`` and other server-set metadata never owned; the ``before-first-apply``
owner of an object applied to for the first time; the migration from client-side apply
for the ``kubectl`` manager (conflicts on fields the last-applied annotation set are
allowed, and that annotation is kept in sync); at most ten ``Update`` entries, older ones
merged into ``ancient-changes``; timestamps only when something changed; updates of
objects that have no managedFields left untracked.

Objects are plain JSON-shaped dicts. The walkers build the result once (the merged
object is new, never aliasing ``live`` or ``applied``); field sets of other managers are
parsed from FieldsV1 only when this write touches something they might own.
"""

from __future__ import annotations

import datetime
import functools
import json
from collections.abc import Iterable
from typing import Any

from kubepy.api.apply.fieldpath import (
    FieldSet,
    InvalidObject,
    PathElement,
    field_pe,
    item_pe,
    path_string,
)
from kubepy.api.apply.schema import LIST, MAP, Schema

__all__ = [
    "LAST_APPLIED_ANNOTATION",
    "MAX_UPDATE_MANAGERS",
    "ApplyBadRequest",
    "ApplyConflict",
    "ApplyError",
    "apply",
    "default_manager",
    "update",
]

LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration"
MAX_UPDATE_MANAGERS = 10
FIELD_MANAGER_MAX_LENGTH = 128
BEFORE_FIRST_APPLY = "before-first-apply"
ANCIENT_CHANGES = "ancient-changes"

_MISSING: Any = object()

Obj = dict[str, Any]
_Key = tuple[str, str, str, str]


# -- errors -----------------------------------------------------------------------------


class ApplyError(Exception):
    """A write the field manager refuses; ``code`` is the HTTP status upstream answers."""

    code = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ApplyBadRequest(ApplyError):
    """400: the applied configuration itself is not acceptable."""

    code = 400


class ApplyConflict(ApplyError):
    """409: the apply would change fields other managers own.

    ``conflicts`` lists ``(manager, field)`` as upstream prints them
    (``('"kubectl-client-side-apply" using apps/v1', '.spec.replicas')``); ``causes`` are
    the Status causes (reason ``FieldManagerConflict``).
    """

    code = 409

    def __init__(self, found: list[tuple[_Entry, tuple[PathElement, ...]]]) -> None:
        self._found = found
        self.conflicts: list[tuple[str, str]] = [(e.display(), path_string(p)) for e, p in found]
        super().__init__(_conflict_message(found))

    @property
    def causes(self) -> list[dict[str, str]]:
        return [
            {"reason": "FieldManagerConflict", "message": f"conflict with {manager}", "field": field}
            for manager, field in self.conflicts
        ]


def _conflict_message(found: list[tuple[_Entry, tuple[PathElement, ...]]]) -> str:
    if len(found) == 1:
        entry, path = found[0]
        return f"Apply failed with 1 conflict: conflict with {entry.display()}: {path_string(path)}"
    lines: list[str] = []
    current: _Entry | None = None
    for entry, path in found:
        if current is None or entry.ident_json() != current.ident_json():
            current = entry
            lines.append(f"conflicts with {entry.display()}:")
        lines.append(f"- {path_string(path)}")
    return f"Apply failed with {len(found)} conflicts: " + "\n".join(lines)


# -- managedFields entries --------------------------------------------------------------


def _go_string(text: str) -> str:
    out = json.dumps(text, ensure_ascii=False)
    if "<" in out or ">" in out or "&" in out:
        out = out.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return out


class _Entry:
    """One managedFields entry; its field set is parsed from FieldsV1 on first use."""

    __slots__ = ("manager", "operation", "api_version", "subresource", "time", "_fields", "_raw")

    def __init__(
        self,
        manager: str,
        operation: str,
        api_version: str,
        subresource: str,
        time: str | None,
        fields: FieldSet | None = None,
        raw: Obj | None = None,
    ) -> None:
        self.manager = manager
        self.operation = operation
        self.api_version = api_version
        self.subresource = subresource
        self.time = time
        self._fields = fields
        self._raw = raw

    @property
    def fields(self) -> FieldSet:
        if self._fields is None:
            self._fields = FieldSet.from_fields_v1(self._raw or {})
        return self._fields

    def with_fields(self, fields: FieldSet, time: str | None = _MISSING) -> _Entry:
        return _Entry(
            self.manager,
            self.operation,
            self.api_version,
            self.subresource,
            self.time if time is _MISSING else time,
            fields,
        )

    def key(self) -> _Key:
        return _key(self.manager, self.operation, self.api_version, self.subresource)

    def ident_json(self) -> str:
        """Upstream's manager identifier (the entry without time and fields, as JSON)."""
        parts = [f'"manager":{_go_string(self.manager)}', f'"operation":{_go_string(self.operation)}']
        if self.operation == "Update" and self.api_version:
            parts.append(f'"apiVersion":{_go_string(self.api_version)}')
        if self.subresource:
            parts.append(f'"subresource":{_go_string(self.subresource)}')
        return "{" + ",".join(parts) + "}"

    def display(self) -> str:
        out = _go_string(self.manager)
        if self.subresource:
            out += f" with subresource {_go_string(self.subresource)}"
        if self.operation == "Update":
            out += f" using {self.api_version}"
        return out

    def to_wire(self) -> Obj:
        out: Obj = {"manager": self.manager, "operation": self.operation, "apiVersion": self.api_version}
        if self.time is not None:
            out["time"] = self.time
        out["fieldsType"] = "FieldsV1"
        if self._fields is None and self._raw is not None:
            out["fieldsV1"] = _copy(self._raw)
        else:
            out["fieldsV1"] = self.fields.to_fields_v1()
        if self.subresource:
            out["subresource"] = self.subresource
        return out


def _key(manager: str, operation: str, api_version: str, subresource: str) -> _Key:
    return (manager, operation, api_version if operation == "Update" else "", subresource)


def _decode(managed_fields: Any) -> dict[_Key, _Entry]:
    """Entries of ``metadata.managedFields`` (``ValueError`` when malformed)."""
    out: dict[_Key, _Entry] = {}
    if managed_fields is None:
        return out
    if not isinstance(managed_fields, list):
        raise ValueError("managedFields must be a list")
    for i, raw in enumerate(managed_fields):
        if not isinstance(raw, dict):
            raise ValueError(f"managed fields entry {i} must be an object")
        operation = raw.get("operation")
        if operation not in ("Apply", "Update"):
            raise ValueError("operation must be `Apply` or `Update`")
        api_version = raw.get("apiVersion")
        if not isinstance(api_version, str) or not api_version:
            raise ValueError("apiVersion must not be empty")
        fields_type = raw.get("fieldsType")
        if not fields_type:
            raise ValueError(f"missing fieldsType in managed fields entry {i}")
        if fields_type != "FieldsV1":
            raise ValueError(f'invalid fieldsType "{fields_type}" in managed fields entry {i}')
        fields_v1 = raw.get("fieldsV1")
        if fields_v1 is None:
            fields_v1 = {}
        if not isinstance(fields_v1, dict):
            raise ValueError(f"fieldsV1 of managed fields entry {i} must be an object")
        manager = raw.get("manager") or ""
        subresource = raw.get("subresource") or ""
        time = raw.get("time")
        entry = _Entry(
            str(manager), operation, api_version, str(subresource), time if isinstance(time, str) else None, raw=fields_v1
        )
        out[entry.key()] = entry
    return out


def _decode_or_empty(managed_fields: Any) -> dict[_Key, _Entry]:
    try:
        return _decode(managed_fields)
    except ValueError:
        return {}


@functools.lru_cache(maxsize=4096)
def _seconds(time: str | None) -> int:
    if not time:
        return 0
    try:
        return int(datetime.datetime.fromisoformat(time.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return 0


def _encode(entries: Iterable[_Entry]) -> list[Obj]:
    ordered = sorted(
        entries,
        key=lambda e: (e.operation, _seconds(e.time), e.manager, e.api_version, e.subresource),
    )
    return [e.to_wire() for e in ordered]


def _managed_fields_of(obj: Obj | None) -> Any:
    if not obj:
        return None
    meta = obj.get("metadata")
    return meta.get("managedFields") if isinstance(meta, dict) else None


def _without_managed_fields(obj: Obj) -> Obj:
    """A shallow copy of ``obj`` (and of its metadata) without ``managedFields``."""
    out = dict(obj)
    meta = out.get("metadata")
    if isinstance(meta, dict) and "managedFields" in meta:
        meta = dict(meta)
        del meta["managedFields"]
        out["metadata"] = meta
    return out


def _with_managed_fields(obj: Obj, entries: dict[_Key, _Entry]) -> Obj:
    out = dict(obj)
    meta = out.get("metadata")
    meta = dict(meta) if isinstance(meta, dict) else {}
    meta.pop("managedFields", None)
    if entries:
        meta["managedFields"] = _encode(entries.values())
    out["metadata"] = meta
    return out


def _cap_update_managers(entries: dict[_Key, _Entry]) -> dict[_Key, _Entry]:
    """Merge the oldest ``Update`` entries per apiVersion into ``ancient-changes``."""
    updaters = [k for k, e in entries.items() if e.operation == "Update"]
    if len(updaters) <= MAX_UPDATE_MANAGERS:
        return entries
    entries = dict(entries)
    updaters.sort(key=lambda k: (_seconds(entries[k].time), entries[k].ident_json()))
    first_of_version: dict[str, _Key] = {}
    length = len(updaters)
    for k in updaters:
        if length <= MAX_UPDATE_MANAGERS:
            break
        entry = entries[k]
        version = entry.api_version
        bucket = _key(ANCIENT_CHANGES, "Update", version, "")
        first = first_of_version.get(version)
        if first is None:
            first_of_version[version] = k
            continue
        if bucket not in entries:
            moved = entries.pop(first)
            entries[bucket] = _Entry(ANCIENT_CHANGES, "Update", version, "", moved.time, moved.fields)
        merged = entry.fields.union(entries[bucket].fields)
        entries[bucket] = _Entry(ANCIENT_CHANGES, "Update", version, "", entry.time, merged)
        del entries[k]
        length -= 1
    return entries


# Fields no manager ever owns (upstream's stripMetaManager).
_STRIP = FieldSet.from_paths(
    [
        (field_pe("apiVersion"),),
        (field_pe("kind"),),
        (field_pe("metadata"),),
        *[
            (field_pe("metadata"), field_pe(name))
            for name in (
                "name",
                "namespace",
                "creationTimestamp",
                "selfLink",
                "uid",
                "clusterName",
                "generation",
                "managedFields",
                "resourceVersion",
            )
        ],
    ]
)


# -- value helpers ----------------------------------------------------------------------


def _copy(value: Any) -> Any:
    """A deep copy of JSON data, dropping ``null`` members of objects (as Go types do)."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _equal(a: Any, b: Any) -> bool:
    if a is b:
        return True
    if type(a) is not type(b):
        if isinstance(a, bool) or isinstance(b, bool):
            return False
        if isinstance(a, (int, float)) and isinstance(b, (int, float)):
            return bool(a == b)
        return False
    return bool(a == b)


def _index(items: list[Any], node: Schema) -> tuple[list[PathElement], dict[PathElement, Any]]:
    order: list[PathElement] = []
    found: dict[PathElement, Any] = {}
    for i, item in enumerate(items):
        pe = item_pe(node, i, item)
        if pe in found:
            continue
        found[pe] = item
        order.append(pe)
    return order, found


# -- merge (live + applied) -------------------------------------------------------------


def _merge(lhs: Any, rhs: Any, node: Schema) -> Any:
    """``rhs`` merged into ``lhs`` by schema; a new value sharing nothing with either."""
    if rhs is _MISSING:
        return _copy(lhs)
    if lhs is _MISSING:
        return _copy(rhs)
    rn = node.for_value(rhs)
    kind = rn.kind
    if kind == MAP and not rn.atomic and isinstance(rhs, dict) and isinstance(lhs, dict) and (lhs or rhs):
        out: Obj = {}
        for k, lv in lhs.items():
            rv = rhs.get(k, _MISSING)
            value = _copy(lv) if rv is _MISSING else _merge(lv, rv, rn.field(k))
            if value is not None:
                out[k] = value
        for k, rv in rhs.items():
            if k not in lhs and rv is not None:
                out[k] = _copy(rv)
        return out
    if kind == LIST and not rn.atomic and isinstance(rhs, list) and isinstance(lhs, list) and (lhs or rhs):
        return _merge_list(lhs, rhs, rn)
    return _copy(rhs)


def _merge_list(lhs: list[Any], rhs: list[Any], node: Schema) -> list[Any]:
    """Items merged by identity; order as upstream: live order, applied items placed
    where the applied order puts them relative to the items both sides share."""
    lorder, lfound = _index(lhs, node)
    rorder, rfound = _index_applied(rhs, node)
    item = node.item
    shared = [pe for pe in rorder if pe in lfound]
    si = 0
    next_shared = shared[0] if shared else None
    out: list[Any] = []
    li = ri = 0
    ln, rn = len(lorder), len(rorder)
    while li < ln or ri < rn:
        progressed = False
        if li < ln and ri < rn:
            pe = lorder[li]
            if pe == rorder[ri]:
                out.append(_merge(lfound[pe], rfound[pe], item))
                li += 1
                ri += 1
                si += 1
                next_shared = shared[si] if si < len(shared) else None
                continue
            if pe in rfound and next_shared is not None and next_shared != pe:
                li += 1
                continue
        if li < ln:
            pe = lorder[li]
            if pe not in rfound:
                out.append(_copy(lfound[pe]))
                li += 1
                continue
        if ri < rn:
            pe = rorder[ri]
            out.append(_merge(lfound.get(pe, _MISSING), rfound[pe], item))
            ri += 1
            progressed = True
            if next_shared is not None and next_shared == pe:
                si += 1
                next_shared = shared[si] if si < len(shared) else None
        if not progressed:
            li += 1  # only reachable with inconsistent duplicates; never loop forever
    return out


def _index_applied(items: list[Any], node: Schema) -> tuple[list[PathElement], dict[PathElement, Any]]:
    order: list[PathElement] = []
    found: dict[PathElement, Any] = {}
    for i, item in enumerate(items):
        pe = item_pe(node, i, item)
        if pe in found:
            raise InvalidObject(f"duplicate entries for key {path_string((pe,))}")
        found[pe] = item
        order.append(pe)
    return order, found


# -- prune (fields the applier stopped applying) ----------------------------------------


def _prune(value: Any, node: Schema, last: FieldSet, keep: FieldSet | None) -> bool:
    """Remove from ``value`` (in place) what ``last`` owns and ``keep`` does not.

    A struct field counts as owned when anything under it is (upstream's
    ``EnsureNamedFieldsAreMembers``). Returns True when a container became empty
    through removals (the caller then drops it, as Go's typed objects do).
    """
    node = node.for_value(value)
    if node.kind == MAP and isinstance(value, dict):
        removed_any = False
        for pe in list(last.members | last.children.keys()):
            if pe[0] != 0:
                continue
            k = pe[1]
            if k not in value:
                continue
            named = node.is_named(k)
            sub = last.children.get(pe)
            owned_before = pe in last.members or (named and sub is not None)
            kept = keep is not None and (pe in keep.members or (named and pe in keep.children))
            if owned_before and not kept:
                del value[k]
                removed_any = True
                continue
            if sub is not None:
                if _prune(value[k], node.field(k), sub, keep.children.get(pe) if keep is not None else None):
                    del value[k]
                    removed_any = True
        return removed_any and not value
    if node.kind == LIST and not node.atomic and isinstance(value, list):
        out = []
        removed_any = False
        for i, item in enumerate(value):
            pe = item_pe(node, i, item)
            if pe in last.members and not (keep is not None and pe in keep.members):
                removed_any = True
                continue
            sub = last.children.get(pe)
            if sub is not None and _prune(item, node.item, sub, keep.children.get(pe) if keep is not None else None):
                removed_any = True
                continue
            out.append(item)
        if removed_any:
            value[:] = out
        return removed_any and not value
    return False


# -- compare (old vs new) ---------------------------------------------------------------


class _Diff:
    __slots__ = ("added", "modified", "removed")

    def __init__(self) -> None:
        self.added = FieldSet()
        self.modified = FieldSet()
        self.removed = FieldSet()


def _all_nodes(value: Any, node: Schema) -> FieldSet | None:
    """Every node under ``value`` as a member (what a wholly added/removed subtree owns)."""
    node = node.for_value(value)
    if node.kind == MAP and not node.atomic and isinstance(value, dict) and value:
        out = FieldSet()
        for k, v in value.items():
            pe = field_pe(k)
            out.members.add(pe)
            sub = _all_nodes(v, node.field(k))
            if sub is not None:
                out.children[pe] = sub
        return out
    if node.kind == LIST and not node.atomic and isinstance(value, list) and value:
        out = FieldSet()
        item = node.item
        for i, v in enumerate(value):
            pe = item_pe(node, i, v)
            out.members.add(pe)
            sub = _all_nodes(v, item)
            if sub is not None:
                out.children[pe] = sub
        return out
    return None


def _compare_one(pe: PathElement, lhs: Any, rhs: Any, node: Schema, diff: _Diff) -> None:
    if rhs is _MISSING:
        diff.removed.members.add(pe)
        sub = _all_nodes(lhs, node)
        if sub is not None:
            diff.removed.children[pe] = sub
        return
    if lhs is _MISSING:
        diff.added.members.add(pe)
        sub = _all_nodes(rhs, node)
        if sub is not None:
            diff.added.children[pe] = sub
        return
    if lhs is rhs:
        return
    rn = node.for_value(rhs)
    kind = rn.kind
    if lhs is None or rhs is None:
        # null is an empty map/list whose own node is not added or removed (upstream
        # compares its items against nothing)
        if lhs is None and rhs:
            rn = node.for_value(rhs)
            if not rn.atomic and isinstance(rhs, (dict, list)):
                lhs = type(rhs)()
        elif rhs is None and lhs:
            rn = node.for_value(lhs)
            if not rn.atomic and isinstance(lhs, (dict, list)):
                rhs = type(lhs)()
        kind = rn.kind
    if not rn.atomic and kind in (MAP, LIST) and type(lhs) is type(rhs) and (lhs or rhs):
        if lhs == rhs:
            return
        inner = _Diff()
        if kind == MAP and isinstance(lhs, dict):
            _compare_map(lhs, rhs, rn, inner)
        elif kind == LIST and isinstance(lhs, list):
            _compare_list(lhs, rhs, rn, inner)
        else:
            if not _equal(lhs, rhs):
                diff.modified.members.add(pe)
            return
        if inner.added:
            diff.added.children[pe] = inner.added
        if inner.modified:
            diff.modified.children[pe] = inner.modified
        if inner.removed:
            diff.removed.children[pe] = inner.removed
        return
    if not _equal(lhs, rhs):
        diff.modified.members.add(pe)


def _compare_map(lhs: Obj, rhs: Obj, node: Schema, diff: _Diff) -> None:
    for k, lv in lhs.items():
        rv = rhs.get(k, _MISSING)
        if rv is lv:
            continue
        _compare_one(field_pe(k), lv, rv, node.field(k), diff)
    for k, rv in rhs.items():
        if k not in lhs:
            _compare_one(field_pe(k), _MISSING, rv, node.field(k), diff)


def _compare_list(lhs: list[Any], rhs: list[Any], node: Schema, diff: _Diff) -> None:
    lorder, lfound = _index(lhs, node)
    rorder, rfound = _index(rhs, node)
    item = node.item
    for pe in lorder:
        _compare_one(pe, lfound[pe], rfound.get(pe, _MISSING), item, diff)
    for pe in rorder:
        if pe not in lfound:
            _compare_one(pe, _MISSING, rfound[pe], item, diff)


def _compare(old: Obj, new: Obj, schema: Schema, ignored: FieldSet | None) -> _Diff:
    diff = _Diff()
    if old != new:
        _compare_map(old, new, schema.for_value(new), diff)
    if ignored is not None and ignored:
        diff.added = diff.added.recursive_difference(ignored)
        diff.modified = diff.modified.recursive_difference(ignored)
        diff.removed = diff.removed.recursive_difference(ignored)
    return diff


# -- Update -----------------------------------------------------------------------------


def _record_update(
    old: Obj,
    new: Obj,
    entries: dict[_Key, _Entry],
    *,
    manager: str,
    api_version: str,
    subresource: str,
    schema: Schema,
    now: str,
    ignored: FieldSet | None,
) -> dict[_Key, _Entry]:
    diff = _compare(old, new, schema, ignored)
    changed = diff.added.union(diff.modified)
    removed = diff.removed
    if not changed and not removed:
        return entries
    out: dict[_Key, _Entry] = {}
    for k, entry in entries.items():
        fields = entry.fields
        rest = fields.difference(changed).difference(removed)
        if rest is fields:
            out[k] = entry
        elif rest:
            out[k] = entry.with_fields(rest)
    mine = changed.difference(removed)
    if ignored is not None:
        mine = mine.recursive_difference(ignored)
    mine = mine.difference(_STRIP)
    if mine:
        key = _key(manager, "Update", api_version, subresource)
        previous = out.get(key)
        if previous is not None:
            mine = mine.union(previous.fields)
        out[key] = _Entry(manager, "Update", api_version, subresource, now, mine)
    return _cap_update_managers(out)


def update(
    live_old: Obj | None,
    new: Obj,
    *,
    manager: str,
    api_version: str,
    subresource: str = "",
    schema: Schema,
    now: str,
    ignored: FieldSet | None = None,
) -> Obj:
    """``new`` with the managedFields a create (``live_old`` None), update or patch gives it.

    ``manager`` is the request's ``fieldManager`` (or ``default_manager(user_agent)``),
    ``api_version`` the version the request was made in, ``subresource`` ``"status"``
    etc. for subresource writes, ``now`` the RFC 3339 time of the write, ``ignored`` the
    fields this endpoint resets (``status`` for the main resource, everything else for
    ``/status``): they are neither owned nor taken away. managedFields sent in ``new``
    replace the live ones (``[]`` clears them) except on subresources. An existing
    object without managedFields stays untracked, as upstream. The result is a shallow
    copy of ``new`` with its own ``metadata``.
    """
    manager = manager or "unknown"
    live_entries_raw = _managed_fields_of(live_old)
    new_obj = _without_managed_fields(new)
    if subresource:
        entries = _decode_or_empty(live_entries_raw)
    else:
        meta = new.get("metadata")
        sent = meta.get("managedFields", _MISSING) if isinstance(meta, dict) else _MISSING
        if isinstance(sent, list) and (not sent or (len(sent) == 1 and sent[0] == {})):
            entries = {}
        else:
            entries = {}
            if sent is not _MISSING and sent is not None:
                entries = _decode_or_empty(sent)
            if not entries:
                entries = _decode_or_empty(live_entries_raw)
    if live_old is None:
        old = schema.skeleton()
    else:
        if not entries:
            out = dict(new_obj)
            return out
        old = _without_managed_fields(live_old)
    try:
        entries = _record_update(
            old,
            new_obj,
            entries,
            manager=manager,
            api_version=api_version,
            subresource=subresource,
            schema=schema,
            now=now,
            ignored=ignored,
        )
    except InvalidObject:
        # upstream's UpdateNoErrors: keep the live managedFields rather than fail the write
        out = dict(new_obj)
        if live_entries_raw is not None:
            meta = dict(out.get("metadata") or {})
            meta["managedFields"] = _copy(live_entries_raw)
            out["metadata"] = meta
        return out
    return _with_managed_fields(new_obj, entries)


# -- Apply ------------------------------------------------------------------------------


def _gvk_string(api_version: Any, kind: Any) -> str:
    av = api_version if isinstance(api_version, str) else ""
    group, _, version = av.rpartition("/")
    return f"{group}/{version}, Kind={kind if isinstance(kind, str) else ''}"


def _check_applied(applied: Any, api_version: str, kind: str | None) -> None:
    if not isinstance(applied, dict):
        raise ApplyBadRequest("the applied configuration must be an object")
    av, k = applied.get("apiVersion"), applied.get("kind")
    if kind is not None and (av != api_version or k != kind):
        raise ApplyBadRequest(f"invalid object type: {_gvk_string(av, k)}")
    if av != api_version:
        raise ApplyBadRequest(
            "Incorrect version specified in apply patch. "
            f"Specified patch version: {av if isinstance(av, str) else ''}, expected: {api_version}"
        )
    meta = applied.get("metadata")
    if isinstance(meta, dict) and isinstance(meta.get("managedFields"), list):
        raise ApplyBadRequest("metadata.managedFields must be nil")


def _go_json_document(obj: Any) -> str:
    """JSON as Go's ``json.Encoder`` writes a map: sorted keys, compact, HTML-escaped, \\n."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    if "<" in text or ">" in text or "&" in text or "\u2028" in text or "\u2029" in text:
        text = (
            text.replace("<", "\\u003c")
            .replace(">", "\\u003e")
            .replace("&", "\\u0026")
            .replace("\u2028", "\\u2028")
            .replace("\u2029", "\\u2029")
        )
    return text + "\n"


def _build_last_applied(applied: Obj) -> str:
    obj = dict(applied)
    meta = obj.get("metadata")
    if isinstance(meta, dict):
        annotations = meta.get("annotations")
        if isinstance(annotations, dict) and LAST_APPLIED_ANNOTATION in annotations:
            meta = dict(meta)
            meta["annotations"] = {k: v for k, v in annotations.items() if k != LAST_APPLIED_ANNOTATION}
            obj["metadata"] = meta
    return _go_json_document(obj)


def _allowed_from_last_applied(live: Obj, api_version: str, schema: Schema) -> FieldSet | None:
    """Fields the client-side apply annotation set to their live value (kubectl may take them)."""
    meta = live.get("metadata")
    annotations = meta.get("annotations") if isinstance(meta, dict) else None
    text = annotations.get(LAST_APPLIED_ANNOTATION) if isinstance(annotations, dict) else None
    if not isinstance(text, str) or not text:
        return None
    try:
        last = json.loads(text)
    except ValueError:
        return None
    if not isinstance(last, dict) or last.get("apiVersion") != api_version:
        return None
    try:
        last_set = FieldSet.from_object(last, schema)
        diff = _compare(last, live, schema, None)
    except InvalidObject:
        return None
    return last_set.difference(diff.modified).difference(diff.added).difference(diff.removed)


def _apply_once(
    live: Obj,
    applied: Obj,
    entries: dict[_Key, _Entry],
    *,
    manager: str,
    api_version: str,
    subresource: str,
    schema: Schema,
    force: bool,
    now: str,
    ignored: FieldSet | None,
    applied_set: FieldSet,
) -> tuple[Obj, dict[_Key, _Entry]]:
    merged = _merge(live, applied, schema)
    if not isinstance(merged, dict):
        raise ApplyBadRequest("the applied configuration must be an object")
    key = _key(manager, "Apply", api_version, subresource)
    entries = dict(entries)
    last = entries.get(key)
    mine = _Entry(manager, "Apply", api_version, subresource, last.time if last is not None else None, applied_set)
    entries[key] = mine
    if last is not None and last.fields.difference(applied_set):
        keep = FieldSet()
        for entry in entries.values():
            keep = keep.union(entry.fields)
        _prune(merged, schema, last.fields, keep)

    diff = _compare(live, merged, schema, ignored)
    changed = diff.added.union(diff.modified)
    removed = diff.removed
    if changed:
        found: list[tuple[_Entry, tuple[PathElement, ...]]] = []
        conflicting: dict[_Key, FieldSet] = {}
        for k, entry in sorted(entries.items(), key=lambda kv: kv[1].ident_json()):
            if k == key:
                continue
            both = entry.fields.intersection(changed)
            if both:
                conflicting[k] = both
                found.extend((entry, p) for p in both.paths())
        if found and not force:
            raise ApplyConflict(found)
    else:
        conflicting = {}
    if conflicting or removed:
        for k, entry in list(entries.items()):
            if k == key:
                continue
            fields = entry.fields
            rest = fields
            if k in conflicting:
                rest = rest.difference(conflicting[k])
            if removed:
                rest = rest.difference(removed)
            if not rest:
                del entries[k]
            elif rest is not fields:
                entries[k] = entry.with_fields(rest)
    time = now if merged != live else mine.time
    stripped = applied_set.difference(_STRIP)
    if stripped:
        entries[key] = mine.with_fields(stripped, time)
    else:
        del entries[key]
    return merged, entries


def apply(
    live: Obj | None,
    applied: Obj,
    *,
    manager: str,
    api_version: str,
    schema: Schema,
    force: bool,
    now: str,
    subresource: str = "",
    kind: str | None = None,
    ignored: FieldSet | None = None,
) -> Obj:
    """The object after server-side applying ``applied`` to ``live`` (None: create).

    Returns a new object with updated ``metadata.managedFields``; raises
    ``ApplyConflict`` (409) when the apply would change values other managers own and
    ``force`` is false, ``ApplyBadRequest`` (400) for an unacceptable configuration
    (wrong apiVersion/kind, managedFields set, a list-map item without its key,
    duplicate keys) and ``ApplyError`` (500) when the live managedFields are corrupt.
    ``ignored`` are the fields this endpoint resets (see ``update``): the apply is not
    given them. Defaulting, validation and status reset stay with the caller.
    """
    _check_applied(applied, api_version, kind)
    manager = manager or "unknown"
    if live is None:
        live_obj: Obj = {}
        entries: dict[_Key, _Entry] = {}
    else:
        live_obj = _without_managed_fields(live)
        try:
            entries = _decode(_managed_fields_of(live))
        except ValueError as err:
            raise ApplyError(f"failed to decode managed fields: {err}") from None
    try:
        if live is not None and not entries:
            entries = _record_update(
                schema.skeleton(),
                live_obj,
                entries,
                manager=BEFORE_FIRST_APPLY,
                api_version=api_version,
                subresource=subresource,
                schema=schema,
                now=now,
                ignored=ignored,
            )
        applied_set = FieldSet.from_object(applied, schema)
        if ignored is not None:
            applied_set = applied_set.recursive_difference(ignored)
        options: dict[str, Any] = {
            "manager": manager,
            "api_version": api_version,
            "subresource": subresource,
            "schema": schema,
            "now": now,
            "ignored": ignored,
            "applied_set": applied_set,
        }
        try:
            merged, entries = _apply_once(live_obj, applied, entries, force=force, **options)
        except ApplyConflict as err:
            if manager != "kubectl" or force:
                raise
            allowed = _allowed_from_last_applied(live_obj, api_version, schema)
            if allowed is None:
                raise
            remaining = [(e, p) for e, p in err._found if not allowed.has(p)]
            if remaining:
                raise ApplyConflict(remaining) from None
            merged, entries = _apply_once(live_obj, applied, entries, force=True, **options)
    except InvalidObject as err:
        raise ApplyBadRequest(f"failed to create typed patch object: {err}") from None
    if manager == "kubectl":
        meta = merged.get("metadata")
        annotations = meta.get("annotations") if isinstance(meta, dict) else None
        if isinstance(annotations, dict) and annotations.get(LAST_APPLIED_ANNOTATION):
            annotations[LAST_APPLIED_ANNOTATION] = _build_last_applied(applied)
    return _with_managed_fields(merged, entries)


def default_manager(user_agent: str) -> str:
    """The manager of a write without ``fieldManager``: the User-Agent up to the first
    ``/``, printable characters only, at most 128 bytes (``kubectl/v1.32.4 ...`` ->
    ``kubectl``)."""
    prefix = user_agent.split("/", 1)[0]
    out: list[str] = []
    size = 0
    for ch in prefix:
        if not ch.isprintable():
            continue
        n = len(ch.encode("utf-8"))
        if size + n > FIELD_MANAGER_MAX_LENGTH:
            break
        out.append(ch)
        size += n
    return "".join(out)
