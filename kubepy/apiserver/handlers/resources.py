"""REST verbs on resources: get, list, create, update, patch, delete, deletecollection.

Parses query parameters and bodies, serves reads from the watch cache (JSON or Table),
and hands writes to the resource's ``ResourceStore``. Watches live in ``watch.py``,
subresources other than status in ``subresources.py``.
"""

from __future__ import annotations

import base64
import builtins
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from kubepy.api.resources import ResourceInfo
from kubepy.apiserver import codec, errors
from kubepy.apiserver.handlers.context import Context
from kubepy.apiserver.object_checks import check_applied_object, check_body_object, check_patched_object
from kubepy.apiserver.registry.generic import ResourceStore, WriteOptions
from kubepy.apiserver.watchcache import CachedObject
from kubepy.storage.errors import Compacted

if TYPE_CHECKING:
    from kubepy.apiserver.server import APIServer

CONTINUE_TOO_OLD = (
    "The provided continue parameter is too old to display a consistent list result. You can start a new list "
    "without the continue parameter, or use the continue value from the response to retrieve the remainder of "
    "the results. Continuing with the provided token results in an inconsistent list - objects that were "
    "created, modified, or deleted between the time the first chunk was returned and now may show up in the list."
)


def write_options(ctx: Context) -> WriteOptions:
    q = ctx.query
    dry = q.getall("dryRun", [])
    for v in dry:
        if v != "All":
            raise errors.bad_request(f'dryRun: Unsupported value: "{v}": supported values: "All"')
    manager = q.get("fieldManager", "")
    if len(manager) > 128:
        raise errors.bad_request("fieldManager: Too long: must have at most 128 bytes")
    if not manager:
        from kubepy.api.apply import default_manager

        manager = default_manager(ctx.request.headers.get("User-Agent", ""))
    return WriteOptions(user=ctx.user, dry_run=bool(dry), field_manager=manager, warnings=ctx.warnings)


def field_validation(ctx: Context) -> str:
    v = ctx.query.get("fieldValidation", "")
    if v in ("", "Warn"):
        return "Warn"
    if v == "Strict" or v == "Ignore":
        return str(v)
    raise errors.bad_request(
        f'fieldValidation: Unsupported value: "{v}": supported values: "Ignore", "Strict", "Warn"'
    )


async def read_body(ctx: Context) -> bytes:
    req = ctx.request
    if req.content_length is not None and req.content_length > codec.MAX_BODY:
        raise errors.too_large(codec.MAX_BODY)
    try:
        body = await req.read()
    except web.HTTPRequestEntityTooLarge:
        raise errors.too_large(codec.MAX_BODY) from None
    if len(body) > codec.MAX_BODY:
        raise errors.too_large(codec.MAX_BODY)
    return body


async def read_object(ctx: Context, info: ResourceInfo, *, kind: str | None = None, schema: str | None = None) -> dict[str, Any]:
    body = await read_body(ctx)
    if not body:
        raise errors.bad_request("the body of the request was empty")
    obj = codec.decode_body(body, ctx.request.headers.get("Content-Type", ""), kind or info.kind)
    if not isinstance(obj, dict):
        raise errors.bad_request("the object provided is unrecognized or malformed: expected a JSON object")
    check_body_object(
        obj, info, field_validation(ctx), ctx.warnings,
        body=body if codec.media_type(ctx.request.headers.get("Content-Type", "")) in ("", codec.JSON) else None,
        kind=kind, schema=schema,
    )
    return obj


# -- selectors ------------------------------------------------------------------------------
def build_predicate(ctx: Context, info: ResourceInfo) -> Callable[[CachedObject], bool] | None:
    from kubepy.api import selectors

    q = ctx.query
    label_s = q.get("labelSelector", "")
    field_s = q.get("fieldSelector", "")
    checks: list[Callable[[dict[str, Any]], bool]] = []
    if label_s:
        try:
            ls = selectors.parse_label_selector(label_s)
        except ValueError as e:
            raise errors.bad_request(f"unable to parse requirement: {e}" if "unable to parse" not in str(e) else str(e)) from None
        checks.append(lambda o: ls.matches((o.get("metadata") or {}).get("labels") or {}))
    if field_s:
        try:
            fs = selectors.parse_field_selector(field_s)
        except ValueError as e:
            raise errors.bad_request(str(e)) from None
        base = ["metadata.name", "metadata.namespace"] if info.namespaced else ["metadata.name"]
        allowed = {*base, *info.field_selectors}
        for req in fs.requirements:
            if req.field in allowed:
                continue
            if info.field_selectors:  # kinds with their own field label conversion
                raise errors.bad_request(f"field label not supported: {req.field}")
            known = ", ".join(f'"{f}"' for f in base)
            raise errors.bad_request(f'"{req.field}" is not a known field selector: only {known}')
        checks.append(lambda o: fs.matches(o))
    if not checks:
        return None
    if len(checks) == 1:
        only = checks[0]
        return lambda c: only(c.obj)
    return lambda c: all(ch(c.obj) for ch in checks)


def list_prefix(info: ResourceInfo, namespace: str) -> str:
    return info.key_prefix(namespace if info.namespaced and namespace else None)


# -- continue tokens --------------------------------------------------------------------------
def encode_continue(rev: int, last_key: str, prefix: str) -> str:
    raw = orjson.dumps({"v": "meta.k8s.io/v1", "rv": rev, "start": last_key[len(prefix):] + "\x00"})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_continue(token: str, prefix: str) -> tuple[int, str]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = orjson.loads(raw)
        rev = int(data["rv"])
        start = str(data["start"])
    except Exception:
        raise errors.bad_request("continue key is not valid: illegal base64 data at input byte 0") from None
    if data.get("v") != "meta.k8s.io/v1":
        raise errors.bad_request("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)")
    key = prefix + start.rstrip("\x00")
    return rev, key


def parse_rv(value: str, what: str = "resourceVersion") -> int:
    try:
        n = int(value)
        if n < 0:
            raise ValueError
        return n
    except ValueError:
        raise errors.bad_request(f'invalid {what}: "{value}"' if what != "resourceVersion" else f"resourceVersion: Invalid value: \"{value}\": must be a non-negative integer") from None


class ResourceHandlers:
    def __init__(self, server: APIServer) -> None:
        self.server = server

    def store_for(self, info: ResourceInfo) -> ResourceStore:
        return self.server.stores[(info.group, info.version, info.plural)]

    # -- GET one ------------------------------------------------------------------------------
    async def get(self, ctx: Context, info: ResourceInfo) -> web.StreamResponse:
        rs = self.store_for(info)
        rv = ctx.query.get("resourceVersion", "")
        if rv and rv != "0":
            await self._wait_rv(parse_rv(rv))
        cur = await rs.current(ctx.info.namespace, ctx.info.name, fresh=not rv)
        if cur is None:
            raise rs.not_found(ctx.info.name)
        if codec.wants_table(ctx.request.headers.get("Accept", "")):
            return ctx.respond(self.server.table([cur.obj], info, ctx), content_type=codec.TABLE_CONTENT_TYPE)
        if ctx.pretty:
            return ctx.respond(cur.obj)
        return ctx.respond(cur.raw)

    async def _wait_rv(self, rev: int) -> None:
        cache = self.server.watch_cache
        if rev > cache.revision and not await cache.wait_for(rev, timeout=3.0):
            raise errors.timeout(
                f"Too large resource version: {rev}, current: {cache.revision}",
                causes=[{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}],
            )

    # -- LIST ---------------------------------------------------------------------------------
    async def list(self, ctx: Context, info: ResourceInfo) -> web.StreamResponse:
        q = ctx.query
        cache = self.server.watch_cache
        rcache = cache.caches[info.key_prefix()]
        prefix = list_prefix(info, ctx.info.namespace)
        predicate = build_predicate(ctx, info)
        rv = q.get("resourceVersion", "")
        rvm = q.get("resourceVersionMatch", "")
        limit_s = q.get("limit", "")
        limit = int(limit_s) if limit_s.isdigit() and int(limit_s) > 0 else 0
        token = q.get("continue", "")
        if rvm and not rv:
            detail = "resourceVersionMatch is forbidden unless resourceVersion is provided"
            raise errors.StatusError(
                422, "Invalid", f'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: {detail}',
                details={"group": "meta.k8s.io", "kind": "ListOptions", "causes": [
                    {"reason": "FieldValueForbidden", "message": f"Forbidden: {detail}",
                     "field": "resourceVersionMatch"}]},
            )
        if rvm not in ("", "NotOlderThan", "Exact"):
            raise errors.bad_request(
                f'resourceVersionMatch: Unsupported value: "{rvm}": supported values: "Exact", "NotOlderThan"'
            )
        if token and rv:
            raise errors.bad_request("specifying resource version is not allowed when using continue")
        items: list[CachedObject]
        remaining = 0
        next_token = ""
        if token:
            rev, start = decode_continue(token, prefix)
            items, rev, next_token, remaining = await self._list_store(info, prefix, predicate, rev, start, limit)
        elif rvm == "Exact":
            rev = parse_rv(rv)
            items, rev, next_token, remaining = await self._list_store(info, prefix, predicate, rev, None, limit)
        else:
            if rv == "":
                await cache.wait_fresh()
            elif rv != "0":
                await self._wait_rv(parse_rv(rv))
            rev = cache.revision
            if rv == "0":
                limit = 0  # served from the cache, which ignores limit for "any" reads (upstream)
            items = []
            n = 0
            present = self.store_for(info).present
            for stored in rcache.snapshot(prefix):
                obj = present(stored)
                if predicate is not None and not predicate(obj):
                    continue
                if limit and n >= limit:
                    next_token = encode_continue(rev, items[-1].key, prefix)
                    if predicate is None:
                        remaining = rcache.count(prefix) - n
                    break
                items.append(obj)
                n += 1
        meta: dict[str, Any] = {"resourceVersion": str(rev)}
        if next_token:
            meta["continue"] = next_token
            if remaining and predicate is None:
                meta["remainingItemCount"] = remaining
        if codec.wants_table(ctx.request.headers.get("Accept", "")):
            return ctx.respond(
                self.server.table([c.obj for c in items], info, ctx, meta=meta),
                content_type=codec.TABLE_CONTENT_TYPE,
            )
        if ctx.pretty:
            return ctx.respond({"kind": info.list_kind, "apiVersion": info.api_version, "metadata": meta,
                                "items": [c.obj for c in items]})
        body = b"".join((
            b'{"kind":"', info.list_kind.encode(), b'","apiVersion":"', info.api_version.encode(),
            b'","metadata":', orjson.dumps(meta), b',"items":[', b",".join(c.raw for c in items), b"]}",
        ))
        return ctx.respond(body)

    async def _list_store(
        self,
        info: ResourceInfo,
        prefix: str,
        predicate: Callable[[CachedObject], bool] | None,
        rev: int,
        start: str | None,
        limit: int,
    ) -> tuple[builtins.list[CachedObject], int, str, int]:
        from kubepy.apiserver.watchcache import decode

        present = self.store_for(info).present
        store = self.server.store
        items: builtins.list[CachedObject] = []
        after = start
        while True:
            try:
                page = await store.list(prefix, revision=rev, limit=limit or None, start_after=after)
            except Compacted:
                if start is not None:
                    raise errors.expired(CONTINUE_TOO_OLD) from None
                raise errors.expired(f"too old resource version: {rev} ({store.compacted_revision() + 1})") from None
            for kv in page.items:
                obj = present(decode(kv.key, kv.value, kv.mod_revision))
                if predicate is None or predicate(obj):
                    items.append(obj)
            if not page.items:
                return items, rev, "", 0
            after = page.items[-1].key
            if not page.remaining:
                return items, rev, "", 0
            if limit and len(items) >= limit:
                return items, rev, encode_continue(rev, after, prefix), page.remaining

    # -- CREATE -------------------------------------------------------------------------------
    async def create(self, ctx: Context, info: ResourceInfo) -> web.StreamResponse:
        opts = write_options(ctx)
        obj = await read_object(ctx, info)
        rs = self.store_for(info)
        created = await rs.create(ctx.info.namespace, obj, opts)
        return ctx.respond(created, status=201)

    # -- UPDATE -------------------------------------------------------------------------------
    async def update(self, ctx: Context, info: ResourceInfo, subresource: str = "") -> web.StreamResponse:
        opts = write_options(ctx)
        obj = await read_object(ctx, info)
        rs = self.store_for(info)
        out, created = await rs.update(ctx.info.namespace, ctx.info.name, obj, opts, subresource=subresource)
        return ctx.respond(out, status=201 if created else 200)

    # -- PATCH --------------------------------------------------------------------------------
    async def patch(self, ctx: Context, info: ResourceInfo, subresource: str = "") -> web.StreamResponse:
        from kubepy.api.patch import PatchError, apply_patch

        opts = write_options(ctx)
        validation = field_validation(ctx)
        content_type = codec.media_type(ctx.request.headers.get("Content-Type", ""))
        if content_type not in codec.PATCH_TYPES:
            raise errors.StatusError(
                415, "UnsupportedMediaType",
                f"the body of the request was in an unknown format - accepted media types include: "
                f"{', '.join(codec.PATCH_TYPES)}",
            )
        body = await read_body(ctx)
        if content_type == "application/apply-patch+yaml":
            return await self.apply(ctx, info, body, opts, validation, subresource)
        schema = info.schema or None
        rs = self.store_for(info)

        def mutate(current: dict[str, Any]) -> dict[str, Any]:
            try:
                patched = apply_patch(current, body, content_type, schema_name=schema)
            except PatchError as e:
                raise errors.StatusError(e.status, e.reason, str(e.message), details=e.details) from None
            if not isinstance(patched, dict):
                raise errors.bad_request("the patched object is not a JSON object")
            check_patched_object(patched, info, validation, ctx.warnings)
            return patched

        out = await rs.patch(ctx.info.namespace, ctx.info.name, mutate, opts, subresource=subresource)
        return ctx.respond(out)

    async def apply(
        self, ctx: Context, info: ResourceInfo, body: bytes, opts: WriteOptions, validation: str, subresource: str
    ) -> web.StreamResponse:
        """Server-side apply: merge the manager's intent, create the object if it is absent."""
        if not ctx.query.get("fieldManager"):
            raise errors.StatusError(
                422, "Invalid",
                'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
                details={"group": "meta.k8s.io", "kind": "PatchOptions", "causes": [{
                    "reason": "FieldValueRequired", "message": "Required value: is required for apply patch",
                    "field": "fieldManager"}]},
            )
        force_s = ctx.query.get("force", "")
        if force_s not in ("", "true", "false"):
            raise errors.bad_request(f'invalid force: "{force_s}"')
        force = force_s == "true"
        applied = codec.decode_body(body, "application/apply-patch+yaml", info.kind)
        if not isinstance(applied, dict):
            raise errors.bad_request("the object provided is unrecognized or malformed: expected an object")
        check_applied_object(applied, info, validation, ctx.warnings)
        opts.applied = True
        rs = self.store_for(info)
        fields = rs.fields
        now = self.server.now_rfc3339()
        ns, name = ctx.info.namespace, ctx.info.name
        meta = applied.get("metadata") or {}
        if meta.get("name") not in (None, name):
            raise errors.bad_request(
                f"the name of the object ({meta.get('name')}) does not match the name on the URL ({name})"
            )

        def mutate(current: dict[str, Any]) -> dict[str, Any]:
            merged = fields.apply(current, applied, manager=opts.field_manager, force=force,
                                  subresource=subresource, now=now)
            check_patched_object(merged, info, "Ignore", ctx.warnings)
            return merged

        try:
            out = await rs.patch(ns, name, mutate, opts, subresource=subresource)
        except errors.StatusError as e:
            if e.code != 404 or subresource:
                raise
            obj = fields.apply(None, applied, manager=opts.field_manager, force=force, subresource="", now=now)
            obj.setdefault("metadata", {})["name"] = name
            check_patched_object(obj, info, "Ignore", ctx.warnings)
            return ctx.respond(await rs.create(ns, obj, opts), status=201)
        return ctx.respond(out)

    # -- DELETE -------------------------------------------------------------------------------
    async def delete(self, ctx: Context, info: ResourceInfo) -> web.StreamResponse:
        opts = write_options(ctx)
        options = await delete_options(ctx)
        if options.get("dryRun"):
            opts.dry_run = True
        rs = self.store_for(info)
        obj, deleted = await rs.delete(ctx.info.namespace, ctx.info.name, options, opts)
        if not deleted or info.delete_returns_object:
            return ctx.respond(obj)
        meta = obj["metadata"]
        return ctx.respond({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
            "details": {"name": meta["name"], **({"group": info.group} if info.group else {}),
                        "kind": info.plural, "uid": meta.get("uid", "")},
        })

    async def delete_collection(self, ctx: Context, info: ResourceInfo) -> web.StreamResponse:
        opts = write_options(ctx)
        options = await delete_options(ctx)
        if options.get("dryRun"):
            opts.dry_run = True
        rs = self.store_for(info)
        predicate = build_predicate(ctx, info)
        await self.server.watch_cache.wait_fresh()
        rcache = self.server.watch_cache.caches[info.key_prefix()]
        views = (rs.present(c) for c in rcache.snapshot(list_prefix(info, ctx.info.namespace)))
        targets = [c for c in views if predicate is None or predicate(c)]
        deleted: list[dict[str, Any]] = []
        for c in targets:
            meta = c.obj["metadata"]
            try:
                obj, _ = await rs.delete(meta.get("namespace", ""), meta["name"], options, opts)
            except errors.StatusError as e:
                if e.code == 404:
                    continue
                raise
            deleted.append(obj)
        return ctx.respond({"kind": info.list_kind, "apiVersion": info.api_version,
                            "metadata": {"resourceVersion": str(self.server.watch_cache.revision)}, "items": deleted})


async def delete_options(ctx: Context) -> dict[str, Any]:
    body = await read_body(ctx)
    options: dict[str, Any] = {}
    if body.strip():
        decoded = codec.decode_body(body, ctx.request.headers.get("Content-Type", "") or codec.JSON)
        if not isinstance(decoded, dict):
            raise errors.bad_request("the DeleteOptions body is not an object")
        options = decoded
    q = ctx.query
    if "gracePeriodSeconds" in q:
        try:
            options["gracePeriodSeconds"] = int(q["gracePeriodSeconds"])
        except ValueError:
            raise errors.bad_request(f'gracePeriodSeconds: Invalid value: "{q["gracePeriodSeconds"]}"') from None
    if "propagationPolicy" in q:
        options["propagationPolicy"] = q["propagationPolicy"]
    if "orphanDependents" in q:
        options["orphanDependents"] = q["orphanDependents"] in ("true", "1")
    if q.getall("dryRun", []):
        options["dryRun"] = q.getall("dryRun")
    policy = options.get("propagationPolicy")
    if policy is not None and policy not in ("Orphan", "Foreground", "Background"):
        raise errors.StatusError(
            422, "Invalid",
            f'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "{policy}": '
            'supported values: "Foreground", "Background", "Orphan", "nil"',
        )
    if policy is not None and options.get("orphanDependents") is not None:
        raise errors.StatusError(
            422, "Invalid",
            'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Invalid value: "' + policy
            + '": orphanDependents and deletionPropagation cannot be both set',
        )
    grace = options.get("gracePeriodSeconds")
    if grace is not None and not isinstance(grace, int):
        raise errors.bad_request("gracePeriodSeconds must be an integer")
    return options


def objects_of(items: Iterable[CachedObject]) -> list[dict[str, Any]]:
    return [c.obj for c in items]
