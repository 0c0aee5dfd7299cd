"""Subresources other than status: scale, pods/binding, pods/eviction, namespaces/finalize.

Scale is a view of the parent (autoscaling/v1 Scale): reading builds it, writing it sets
the parent's ``spec.replicas``. Binding assigns a pod to a node (the scheduler's write);
eviction deletes a pod gracefully once its PodDisruptionBudget allows it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from kubepy.api.resources import ResourceInfo
from kubepy.apiserver import codec, errors
from kubepy.apiserver.handlers.context import Context
from kubepy.apiserver.handlers.resources import (
    delete_options,
    field_validation,
    read_body,
    write_options,
)
from kubepy.apiserver.object_checks import check_kind
from kubepy.apiserver.registry import namespaces

if TYPE_CHECKING:
    from kubepy.apiserver.server import APIServer


def label_selector_string(selector: dict[str, Any] | None) -> str:
    from kubepy.api.selectors import selector_to_string

    return selector_to_string(selector or {})


def to_scale(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj["metadata"]
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    selector = spec.get("selector")
    if obj["kind"] == "ReplicationController":
        sel = ",".join(f"{k}={v}" for k, v in sorted((selector or {}).items()))
    else:
        sel = label_selector_string(selector)
    scale_status: dict[str, Any] = {"replicas": status.get("replicas", 0)}
    if sel:
        scale_status["selector"] = sel
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp") if k in meta},
        "spec": {"replicas": spec.get("replicas", 0)} if spec.get("replicas") is not None else {},
        "status": scale_status,
    }


class SubresourceHandlers:
    def __init__(self, server: APIServer) -> None:
        self.server = server

    # -- scale ---------------------------------------------------------------------------------
    async def scale(self, ctx: Context, info: ResourceInfo) -> web.StreamResponse:
        custom = info.extra.get("scaleSubresource")  # custom resources: the CRD's replica paths
        if isinstance(custom, dict):
            from kubepy.apiserver.crds.scale import serve_scale

            return await serve_scale(self.server, ctx, info, custom)
        rs = self.server.store_for(info)
        ns, name = ctx.info.namespace, ctx.info.name
        method = ctx.request.method
        if method == "GET":
            cur = await rs.get(ns, name)
            return ctx.respond(to_scale(cur.obj))
        opts = write_options(ctx)
        if method == "PUT":
            body = await read_body(ctx)
            scale = codec.decode_body(body, ctx.request.headers.get("Content-Type", ""))
            if not isinstance(scale, dict):
                raise errors.bad_request("the object provided is unrecognized or malformed")
            patch_fn = self._scale_setter(scale, name)
        elif method == "PATCH":
            from kubepy.api.patch import PatchError, apply_patch

            body = await read_body(ctx)
            content_type = codec.media_type(ctx.request.headers.get("Content-Type", ""))

            def patch_fn(parent: dict[str, Any]) -> dict[str, Any]:
                try:
                    scale = apply_patch(to_scale(parent), body, content_type,
                                        schema_name="io.k8s.api.autoscaling.v1.Scale")
                except PatchError as e:
                    raise errors.StatusError(e.status, e.reason, str(e.message), details=e.details) from None
                out: dict[str, Any] = self._scale_setter(scale, name)(parent)
                return out
        else:
            raise errors.method_not_allowed()
        out = await rs.patch(ns, name, patch_fn, opts)
        return ctx.respond(to_scale(out))

    @staticmethod
    def _scale_setter(scale: dict[str, Any], name: str) -> Any:
        replicas = (scale.get("spec") or {}).get("replicas", 0)
        if not isinstance(replicas, int) or isinstance(replicas, bool):
            raise errors.bad_request("Scale.spec.replicas must be an integer")
        if replicas < 0:
            raise errors.StatusError(
                422, "Invalid",
                f'Scale.autoscaling "{name}" is invalid: spec.replicas: Invalid value: {replicas}: '
                "must be greater than or equal to 0",
                details={"name": name, "group": "autoscaling", "kind": "Scale", "causes": [{
                    "reason": "FieldValueInvalid",
                    "message": f"Invalid value: {replicas}: must be greater than or equal to 0",
                    "field": "spec.replicas"}]},
            )
        rv = (scale.get("metadata") or {}).get("resourceVersion")

        def setter(parent: dict[str, Any]) -> dict[str, Any]:
            if rv and rv != parent["metadata"].get("resourceVersion"):
                parent["metadata"]["resourceVersion"] = rv  # the update reports the conflict
            parent.setdefault("spec", {})["replicas"] = replicas
            return parent

        return setter

    # -- pods/binding ---------------------------------------------------------------------------
    async def binding(self, ctx: Context, info: ResourceInfo) -> web.StreamResponse:
        body = await read_body(ctx)
        binding = codec.decode_body(body, ctx.request.headers.get("Content-Type", ""))
        if not isinstance(binding, dict):
            raise errors.bad_request("the object provided is unrecognized or malformed")
        if binding.get("kind") not in (None, "Binding"):
            raise errors.bad_request(f"the kind in the data ({binding.get('kind')}) does not match the expected kind (Binding)")
        name = ctx.info.name
        target = binding.get("target") or {}
        node = target.get("name", "")
        if not node:
            raise errors.StatusError(422, "Invalid", f'Binding "{name}" is invalid: target.name: Required value',
                                     details={"name": name, "kind": "Binding", "causes": [{
                                         "reason": "FieldValueRequired", "message": "Required value",
                                         "field": "target.name"}]})
        opts = write_options(ctx)
        rs = self.server.store_for(info)
        bmeta = binding.get("metadata") or {}
        now = self.server.now_rfc3339()

        def assign(pod: dict[str, Any]) -> dict[str, Any]:
            meta = pod["metadata"]
            if bmeta.get("uid") and bmeta["uid"] != meta.get("uid"):
                raise errors.conflict("pods", "", name, "Precondition failed: UID in precondition: "
                                      f"{bmeta['uid']}, UID in object meta: {meta.get('uid')}")
            if meta.get("deletionTimestamp"):
                raise errors.conflict("pods", "", name, "pod is being deleted, cannot be assigned to a host")
            spec = pod.setdefault("spec", {})
            if spec.get("nodeName"):
                raise errors.conflict("pods/binding", "", name,
                                      f"pod {name} is already assigned to node \"{spec['nodeName']}\"")
            spec["nodeName"] = node
            if bmeta.get("annotations"):
                meta.setdefault("annotations", {}).update(bmeta["annotations"])
            status = pod.setdefault("status", {})
            conds = [c for c in status.get("conditions") or () if c.get("type") != "PodScheduled"]
            conds.append({"type": "PodScheduled", "status": "True", "lastProbeTime": None, "lastTransitionTime": now})
            status["conditions"] = conds
            return pod

        # binding writes spec and status together: bypass the main-resource status reset
        await rs.patch(ctx.info.namespace, name, assign, opts, subresource="binding")
        return ctx.respond({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201},
                           status=201)

    # -- pods/eviction ----------------------------------------------------------------------------
    async def eviction(self, ctx: Context, info: ResourceInfo) -> web.StreamResponse:
        body = await read_body(ctx)
        eviction = codec.decode_body(body, ctx.request.headers.get("Content-Type", "")) if body.strip() else {}
        if not isinstance(eviction, dict):
            raise errors.bad_request("the object provided is unrecognized or malformed")
        if eviction.get("kind") not in (None, "Eviction"):
            raise errors.bad_request(f"the kind in the data ({eviction.get('kind')}) does not match the expected kind (Eviction)")
        ename = (eviction.get("metadata") or {}).get("name")
        if ename and ename != ctx.info.name:
            raise errors.bad_request(f"name in URL does not match name in Eviction object")
        options = dict(eviction.get("deleteOptions") or {})
        opts = write_options(ctx)
        if options.get("dryRun"):
            opts.dry_run = True
        rs = self.server.store_for(info)
        ns, name = ctx.info.namespace, ctx.info.name
        pod = (await rs.get(ns, name)).obj
        # the pod's disruption budget, if one must allow this (kubepy.apiserver.registry.disruption)
        from kubepy.apiserver.registry import disruption
        from kubepy.apiserver.registry.generic import WriteOptions, copy_obj

        pdb_info = self.server.registry.get("policy", "v1", "poddisruptionbudgets")
        if pdb_info is not None:
            pdb_store = self.server.store_for(pdb_info)
            budgets = [c.obj for c in pdb_store.cache.snapshot(pdb_info.key_prefix(ns))]
            plan = disruption.eviction_plan(pod, disruption.budgets_for_pod(budgets, pod))
            if plan.budget is not None:
                pdb_name = plan.budget["metadata"]["name"]
                now = self.server.now_rfc3339()
                if opts.dry_run:
                    cur = await pdb_store.get(ns, pdb_name)
                    disruption.check_and_decrement(copy_obj(cur), name, now, dry_run=True)
                else:
                    # check and take one disruption atomically: a CAS status write, re-read on conflict
                    await pdb_store.patch(
                        ns, pdb_name, lambda cur: disruption.check_and_decrement(cur, name, now, dry_run=False),
                        WriteOptions(user=ctx.user, field_manager="kube-apiserver"), subresource="status",
                    )
                pre = dict(options.get("preconditions") or {})
                if not pre.get("resourceVersion"):
                    pre["resourceVersion"] = pod["metadata"].get("resourceVersion")
                    options["preconditions"] = pre
        await rs.delete(ns, name, options, opts)
        return ctx.respond({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201},
                           status=201)

    # -- namespaces/finalize ------------------------------------------------------------------------
    async def finalize(self, ctx: Context, info: ResourceInfo) -> web.StreamResponse:
        body = await read_body(ctx)
        ns_obj = codec.decode_body(body, ctx.request.headers.get("Content-Type", ""))
        if not isinstance(ns_obj, dict):
            raise errors.bad_request("the object provided is unrecognized or malformed")
        check_kind(ns_obj, info)
        field_validation(ctx)
        finalizers = list((ns_obj.get("spec") or {}).get("finalizers") or [])
        opts = write_options(ctx)
        rs = self.server.store_for(info)

        def set_finalizers(ns: dict[str, Any]) -> dict[str, Any]:
            spec = ns.setdefault("spec", {})
            if finalizers:
                spec["finalizers"] = finalizers
            else:
                spec.pop("finalizers", None)
            return ns

        out = await rs.patch("", ctx.info.name, set_finalizers, opts, subresource="finalize")
        if namespaces.finalized(out):
            pass  # the update removed it (no finalizers left on a deleting namespace)
        return ctx.respond(out)


class TokenRequests:
    """serviceaccounts/<name>/token: a bound service-account JWT (TokenRequest API)."""

    MIN_EXPIRATION = 600
    DEFAULT_EXPIRATION = 3600
    MAX_EXPIRATION = 2**32

    def __init__(self, server: APIServer) -> None:
        self.server = server

    async def create(self, ctx: Context, info: ResourceInfo) -> web.StreamResponse:
        from kubepy.apiserver.handlers.resources import read_object
        from kubepy.pki import serviceaccount

        body_info = _token_request_info()
        req = await read_object(ctx, body_info)
        ns, name = ctx.info.namespace, ctx.info.name
        sa = await self.server.store_for(info).get(ns, name)
        spec = req.get("spec") or {}
        exp = spec.get("expirationSeconds")
        exp = self.DEFAULT_EXPIRATION if exp is None else int(exp)
        if exp < self.MIN_EXPIRATION:
            raise errors.StatusError(
                422, "Invalid",
                f'TokenRequest.authentication.k8s.io "{name}" is invalid: spec.expirationSeconds: Invalid value: '
                f"{exp}: may not specify a duration less than 10 minutes",
                details={"name": name, "group": "authentication.k8s.io", "kind": "TokenRequest", "causes": [{
                    "reason": "FieldValueInvalid", "field": "spec.expirationSeconds",
                    "message": f"Invalid value: {exp}: may not specify a duration less than 10 minutes"}]},
            )
        audiences = list(spec.get("audiences") or [self.server.issuer])
        pod = None
        bound = spec.get("boundObjectRef")
        if bound and bound.get("kind") == "Pod":
            pod_info = self.server.registry.get("", "v1", "pods")
            assert pod_info is not None
            p = await self.server.store_for(pod_info).get(ns, bound.get("name", ""))
            pod = (p.obj["metadata"]["name"], p.obj["metadata"]["uid"])
        sa_meta = sa.obj["metadata"]
        now = self.server.clock()
        token = serviceaccount.issue_token(
            self.server.service_account_key,
            subject=f"{serviceaccount.USERNAME_PREFIX}{ns}:{name}",
            audiences=audiences,
            expiration_seconds=exp,
            issuer=self.server.issuer,
            claims=serviceaccount.service_account_claims(namespace=ns, name=name, uid=sa_meta["uid"], pod=pod),
            now=now,
        )
        from kubepy.apiserver.registry.generic import rfc3339

        out = {
            "kind": "TokenRequest",
            "apiVersion": "authentication.k8s.io/v1",
            "metadata": {"name": name, "namespace": ns, "creationTimestamp": None},
            "spec": {"audiences": audiences, "expirationSeconds": exp, "boundObjectRef": bound},
            "status": {"token": token, "expirationTimestamp": rfc3339(now + exp)},
        }
        return ctx.respond(out, status=201)


def _token_request_info() -> ResourceInfo:
    from kubepy.api.resources import ResourceInfo as RI

    return RI(group="authentication.k8s.io", version="v1", kind="TokenRequest", plural="tokenrequests",
              singular="tokenrequest", namespaced=True, verbs=("create",),
              schema="io.k8s.api.authentication.v1.TokenRequest")
