"""A fake API client for controller unit tests: in-memory objects, recorded actions.

It has the ``Client`` verbs controllers use (get, list, create, update, update_status,
patch, delete, request) over a dict of objects, bumps resourceVersions, applies patches
with the same code as the API server, and appends every write to ``actions`` as
``(verb, plural, namespace, name, body)`` so a test can assert exactly what a ``sync``
wrote (client-go's testing fixture). Objects handed in and out are deep copies.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kubepy.api import resources
from kubepy.api.patch import apply_patch
from kubepy.client.cache import deepcopy
from kubepy.client.errors import ApiError
from kubepy.client.resource import ResourceRef, builtin_resource
from kubepy.client.rest import DeleteOptions

Obj = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Action:
    verb: str
    resource: str
    namespace: str
    name: str
    body: Any = None
    subresource: str = ""


def _status(code: int, reason: str, message: str) -> ApiError:
    return ApiError({"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": code,
                     "reason": reason, "message": message})


_PATCH_TYPES = {
    "merge": "application/merge-patch+json",
    "strategic": "application/strategic-merge-patch+json",
    "json": "application/json-patch+json",
}


class FakeClient:
    def __init__(self, *objects: Mapping[str, Any]) -> None:
        self.objects: dict[tuple[str, str, str, str], Obj] = {}
        self.actions: list[Action] = []
        self._rv = itertools.count(1)
        self._registry = resources.Registry()
        for obj in objects:
            self.seed(obj)

    # -- setup ----------------------------------------------------------------------------------
    @staticmethod
    def resource(api_version: str, plural: str) -> ResourceRef:
        return builtin_resource(api_version, plural)

    def _plural(self, obj: Mapping[str, Any]) -> tuple[str, str]:
        api_version = obj.get("apiVersion", "v1")
        group, _, version = api_version.rpartition("/")
        info = self._registry.by_kind(group, version, obj.get("kind", ""))
        if info is None:
            raise ValueError(f"unknown kind {api_version} {obj.get('kind')}")
        return api_version, info.plural

    def seed(self, obj: Mapping[str, Any]) -> Obj:
        """Put an object in place without recording an action."""
        o = deepcopy(dict(obj))
        api_version, plural = self._plural(o)
        meta = o.setdefault("metadata", {})
        meta.setdefault("uid", str(uuid.uuid4()))
        meta["resourceVersion"] = str(next(self._rv))
        self.objects[(api_version, plural, meta.get("namespace", ""), meta["name"])] = o
        return deepcopy(o)

    def get_object(self, api_version: str, plural: str, namespace: str, name: str) -> Obj | None:
        obj = self.objects.get((api_version, plural, namespace, name))
        return None if obj is None else deepcopy(obj)

    def writes(self, verb: str | None = None, resource: str | None = None) -> list[Action]:
        return [a for a in self.actions
                if (verb is None or a.verb == verb) and (resource is None or a.resource == resource)]

    # -- verbs ----------------------------------------------------------------------------------
    def _key(self, ref: ResourceRef, namespace: str | None, name: str) -> tuple[str, str, str, str]:
        return (ref.api_version, ref.plural, (namespace or "") if ref.namespaced else "", name)

    async def get(self, ref: ResourceRef, name: str, *, namespace: str | None = None, **_: Any) -> Obj:
        obj = self.objects.get(self._key(ref, namespace, name))
        if obj is None:
            raise _status(404, "NotFound", f'{ref.plural} "{name}" not found')
        return deepcopy(obj)

    async def list(self, ref: ResourceRef, *, namespace: str | None = None, **_: Any) -> Obj:
        items = [deepcopy(o) for (av, pl, ns, _n), o in sorted(self.objects.items())
                 if av == ref.api_version and pl == ref.plural and (not namespace or ns == namespace)]
        return {"kind": "List", "apiVersion": ref.api_version, "metadata": {"resourceVersion": "1"}, "items": items}

    async def create(self, ref: ResourceRef, obj: Mapping[str, Any], *, namespace: str | None = None,
                     subresource: str | None = None, name: str | None = None, **_: Any) -> Obj:
        body = deepcopy(dict(obj))
        ns = namespace or body.get("metadata", {}).get("namespace", "")
        if subresource:
            self.actions.append(Action("create", ref.plural, ns, name or "", body, subresource))
            return body
        meta = body.setdefault("metadata", {})
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + uuid.uuid4().hex[:5]
        key = self._key(ref, ns, meta["name"])
        if key in self.objects:
            raise _status(409, "AlreadyExists", f'{ref.plural} "{meta["name"]}" already exists')
        if ref.namespaced:
            meta["namespace"] = ns
        meta.setdefault("uid", str(uuid.uuid4()))
        meta["resourceVersion"] = str(next(self._rv))
        body.setdefault("apiVersion", ref.api_version)
        self.objects[key] = body
        self.actions.append(Action("create", ref.plural, ns, meta["name"], deepcopy(body)))
        return deepcopy(body)

    async def update(self, ref: ResourceRef, obj: Mapping[str, Any], *, namespace: str | None = None,
                     subresource: str | None = None, **_: Any) -> Obj:
        body = deepcopy(dict(obj))
        meta = body.get("metadata", {})
        ns = namespace or meta.get("namespace", "")
        key = self._key(ref, ns, meta["name"])
        cur = self.objects.get(key)
        if cur is None:
            raise _status(404, "NotFound", f'{ref.plural} "{meta["name"]}" not found')
        rv = meta.get("resourceVersion")
        if rv and rv != cur["metadata"]["resourceVersion"]:
            raise _status(409, "Conflict", f'Operation cannot be fulfilled on {ref.plural} "{meta["name"]}"')
        if subresource == "status":
            new = deepcopy(cur)
            new["status"] = body.get("status")
        else:
            new = body
            if "status" in cur:
                new["status"] = cur["status"]
        new["metadata"]["resourceVersion"] = str(next(self._rv))
        self.objects[key] = new
        self.actions.append(Action("update", ref.plural, ns, meta["name"], deepcopy(new), subresource or ""))
        return deepcopy(new)

    async def update_status(self, ref: ResourceRef, obj: Mapping[str, Any], *, namespace: str | None = None,
                            **kw: Any) -> Obj:
        return await self.update(ref, obj, namespace=namespace, subresource="status")

    async def patch(self, ref: ResourceRef, name: str, patch: Any, *, namespace: str | None = None,
                    type: str = "merge", subresource: str | None = None, **_: Any) -> Obj:
        import orjson

        ns = namespace or ""
        key = self._key(ref, ns, name)
        cur = self.objects.get(key)
        if cur is None:
            raise _status(404, "NotFound", f'{ref.plural} "{name}" not found')
        group, _sep, version = ref.api_version.rpartition("/")
        info = self._registry.get(group, version, ref.plural)
        new = apply_patch(deepcopy(cur), orjson.dumps(patch), _PATCH_TYPES[type],
                          schema_name=info.schema if info else None)
        new["metadata"]["resourceVersion"] = str(next(self._rv))
        self.objects[key] = new
        self.actions.append(Action("patch", ref.plural, ns, name, deepcopy(patch), subresource or ""))
        return deepcopy(new)

    async def delete(self, ref: ResourceRef, name: str, *, namespace: str | None = None,
                     options: DeleteOptions | None = None, **_: Any) -> Obj:
        ns = namespace or ""
        key = self._key(ref, ns, name)
        cur = self.objects.pop(key, None)
        if cur is None:
            raise _status(404, "NotFound", f'{ref.plural} "{name}" not found')
        self.actions.append(Action("delete", ref.plural, ns, name, options.to_body() if options else None))
        return deepcopy(cur)

    async def request(self, method: str, path: str, *, body: Any = None, **_: Any) -> Obj:
        self.actions.append(Action(method.lower(), path, "", "", deepcopy(body) if body is not None else None))
        return {}
