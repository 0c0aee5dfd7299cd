"""Field management on every write: managedFields bookkeeping and server-side apply.

Every create, update and patch records which manager set which fields (operation Update);
an apply patch (``application/apply-patch+yaml``) merges the manager's intent with
ownership and conflicts (operation Apply). The merging itself is the pure library in
``kubepy.api.apply``; this module chooses the schema, the fields an endpoint resets, and
turns the library's errors into Status errors.
"""

from __future__ import annotations

import functools
from typing import Any

from kubepy.api.apply import ApplyConflict, ApplyError, FieldSet, Schema, apply, update
from kubepy.api.apply.fieldpath import field_pe
from kubepy.api.resources import ResourceInfo
from kubepy.apiserver import errors

Obj = dict[str, Any]

_STATUS = FieldSet.from_paths([(field_pe("status"),)])
_ALL_BUT_STATUS = FieldSet.from_paths([
    (field_pe("spec"),),
    (field_pe("metadata"), field_pe("labels")),
    (field_pe("metadata"), field_pe("annotations")),
])


@functools.lru_cache(maxsize=512)
def _builtin_schema(name: str) -> Schema:
    return Schema.for_definition(name)


class FieldManager:
    def __init__(self, info: ResourceInfo) -> None:
        self.info = info

    @functools.cached_property
    def schema(self) -> Schema:
        if self.info.schema:
            return _builtin_schema(self.info.schema)
        raw = self.info.extra.get("openapiV3Schema")
        return Schema.for_custom_resource(raw if isinstance(raw, dict) else None)

    def ignored(self, subresource: str) -> FieldSet | None:
        if subresource == "status":
            return _ALL_BUT_STATUS
        if self.info.has_status:
            return _STATUS
        return None

    def track(self, old: Obj | None, new: Obj, *, manager: str, subresource: str, now: str) -> Obj:
        """``new`` with managedFields updated for an ordinary write (operation Update)."""
        try:
            return update(old, new, manager=manager, api_version=self.info.api_version,
                          subresource=subresource, schema=self.schema, now=now,
                          ignored=self.ignored(subresource))
        except ApplyError:
            return new  # unreadable managedFields must not block ordinary writes

    def apply(self, live: Obj | None, applied: Obj, *, manager: str, force: bool, subresource: str, now: str) -> Obj:
        try:
            return apply(live, applied, manager=manager, api_version=self.info.api_version, schema=self.schema,
                         force=force, now=now, subresource=subresource, kind=self.info.kind,
                         ignored=self.ignored(subresource))
        except ApplyConflict as e:
            raise errors.StatusError(409, "Conflict", e.message, details={"causes": e.causes}) from None
        except ApplyError as e:
            if e.code == 400:
                raise errors.bad_request(e.message) from None
            raise errors.internal(e.message) from None
