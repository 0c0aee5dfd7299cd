"""The scale subresource of custom resources (``autoscaling/v1`` Scale over JSON paths).

A CRD's ``subresources.scale`` names where the replicas live: ``specReplicasPath``
(``.spec.replicas``), ``statusReplicasPath`` and optionally ``labelSelectorPath``. GET
builds a Scale from those paths (missing replicas read as 0, as upstream); PUT and PATCH
(merge or JSON patch on the Scale) write the new replicas back at ``specReplicasPath``
of the custom resource, with the optimistic-concurrency check of the Scale's
resourceVersion.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from aiohttp import web

from kubepy.api.resources import ResourceInfo
from kubepy.apiserver import codec, errors
from kubepy.apiserver.handlers.context import Context
from kubepy.apiserver.handlers.resources import read_body, write_options

if TYPE_CHECKING:
    from kubepy.apiserver.server import APIServer

__all__ = ["serve_scale", "to_scale"]

Obj = dict[str, Any]


def _get(obj: Any, path: Sequence[str]) -> Any:
    for part in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj


def to_scale(obj: Obj, paths: dict[str, tuple[str, ...]]) -> Obj:
    meta = obj["metadata"]
    spec_replicas = _get(obj, paths["specReplicasPath"])
    status_replicas = _get(obj, paths["statusReplicasPath"])
    status: Obj = {"replicas": status_replicas if isinstance(status_replicas, int) else 0}
    if paths.get("labelSelectorPath"):
        selector = _get(obj, paths["labelSelectorPath"])
        if isinstance(selector, str) and selector:
            status["selector"] = selector
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                     if k in meta},
        "spec": {"replicas": spec_replicas if isinstance(spec_replicas, int) else 0},
        "status": status,
    }


def _setter(scale: Any, name: str, paths: dict[str, tuple[str, ...]]) -> Any:
    if not isinstance(scale, dict):
        raise errors.bad_request("the object provided is unrecognized or malformed")
    replicas = (scale.get("spec") or {}).get("replicas", 0)
    if not isinstance(replicas, int) or isinstance(replicas, bool):
        raise errors.bad_request("Scale.spec.replicas must be an integer")
    if replicas < 0:
        raise errors.StatusError(
            422, "Invalid",
            f'Scale.autoscaling "{name}" is invalid: spec.replicas: Invalid value: {replicas}: '
            "must be greater than or equal to 0",
            details={"name": name, "group": "autoscaling", "kind": "Scale", "causes": [{
                "reason": "FieldValueInvalid", "message": f"Invalid value: {replicas}: must be greater than or equal to 0",
                "field": "spec.replicas"}]},
        )
    rv = (scale.get("metadata") or {}).get("resourceVersion")
    path = paths["specReplicasPath"]

    def setter(parent: Obj) -> Obj:
        if rv and rv != parent["metadata"].get("resourceVersion"):
            parent["metadata"]["resourceVersion"] = rv  # the update reports the conflict
        node = parent
        for part in path[:-1]:
            nxt = node.get(part)
            if not isinstance(nxt, dict):
                nxt = node[part] = {}
            node = nxt
        node[path[-1]] = replicas
        return parent

    return setter


async def serve_scale(server: APIServer, ctx: Context, info: ResourceInfo, paths: dict[str, tuple[str, ...]]) -> web.StreamResponse:
    rs = server.store_for(info)
    ns, name = ctx.info.namespace, ctx.info.name
    method = ctx.request.method
    if method == "GET":
        cur = await rs.get(ns, name)
        return ctx.respond(to_scale(cur.obj, paths))
    opts = write_options(ctx)
    body = await read_body(ctx)
    if method == "PUT":
        patch_fn = _setter(codec.decode_body(body, ctx.request.headers.get("Content-Type", "")), name, paths)
    elif method == "PATCH":
        from kubepy.api.patch import PatchError, apply_patch

        content_type = codec.media_type(ctx.request.headers.get("Content-Type", ""))

        def patch_fn(parent: Obj) -> Obj:
            try:
                scale = apply_patch(to_scale(parent, paths), body, content_type,
                                    schema_name="io.k8s.api.autoscaling.v1.Scale")
            except PatchError as e:
                raise errors.StatusError(e.status, e.reason, str(e.message), details=e.details) from None
            out: Obj = _setter(scale, name, paths)(parent)
            return out
    else:
        raise errors.method_not_allowed()
    out = await rs.patch(ns, name, patch_fn, opts)
    return ctx.respond(to_scale(out, paths))
