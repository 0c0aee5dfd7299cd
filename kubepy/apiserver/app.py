"""The HTTP front: one aiohttp handler that authenticates, authorizes and dispatches.

Routing is by Kubernetes URL shape (request_info), not a route table: every request
goes through authentication → request parsing → authorization → the handler for its
verb. Errors of every stage become upstream Status responses.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from aiohttp import web

from kubepy.apiserver import authz, codec, errors, request_info
from kubepy.apiserver.authn import Credentials, UserInfo
from kubepy.apiserver.authn.x509 import peer_certificate
from kubepy.apiserver.handlers.context import Context, error_response
from kubepy.apiserver.handlers.discovery import aggregated_kind

if TYPE_CHECKING:
    from kubepy.apiserver.server import APIServer

log = logging.getLogger(__name__)

PUBLIC_PATHS = frozenset({"/healthz", "/livez", "/readyz", "/version"})
HEALTH_PATHS = ("/healthz", "/livez", "/readyz")


class App:
    def __init__(self, server: APIServer) -> None:
        self.server = server
        from kubepy.apiserver.handlers.resources import ResourceHandlers
        from kubepy.apiserver.handlers.reviews import ReviewHandlers
        from kubepy.apiserver.handlers.subresources import SubresourceHandlers, TokenRequests
        from kubepy.apiserver.handlers.watch import WatchHandler

        self.resources = ResourceHandlers(server)
        self.watch = WatchHandler(server)
        self.subresources = SubresourceHandlers(server)
        self.reviews = ReviewHandlers(server)
        self.tokens = TokenRequests(server)

    def build(self) -> web.Application:
        app = web.Application(client_max_size=codec.MAX_BODY + 1)
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app

    async def authenticate(self, request: web.Request) -> UserInfo | None:
        token = None
        auth = request.headers.get("Authorization", "")
        if auth[:7].lower() == "bearer ":
            token = auth[7:].strip() or None
        cert = peer_certificate(request.transport) if request.transport is not None else None
        if token is None and cert is None:
            return None
        return await self.server.authenticator.authenticate(Credentials(client_cert=cert, bearer_token=token))

    async def handle(self, request: web.Request) -> web.StreamResponse:
        try:
            return await self._handle(request)
        except errors.StatusError as e:
            return error_response(e)
        except web.HTTPException:
            raise
        except Exception as e:  # noqa: BLE001 - every failure becomes a Status
            log.exception("internal error serving %s %s", request.method, request.path)
            return error_response(errors.internal(str(e) or type(e).__name__))

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        try:
            user = await self.authenticate(request)
        except Exception:  # invalid credentials of a known kind
            user = None
            if path not in PUBLIC_PATHS:
                raise errors.unauthorized() from None
        if user is None and path not in PUBLIC_PATHS and not path.startswith(HEALTH_PATHS):
            raise errors.unauthorized()
        info = request_info.parse(request.method, path, request.query)
        ctx = Context(request=request, info=info, user=user)
        if not info.is_resource:
            if user is not None:
                await self.authorize(ctx)
            return await self.non_resource(ctx)
        codec.check_acceptable(request.headers.get("Accept", ""))
        res = self.server.registry.get(info.group, info.version, info.resource)
        if res is None:
            raise errors.not_found_path()
        ctx.resource = res
        if info.namespace and not res.namespaced and not (res.plural == "namespaces" and res.group == ""):
            raise errors.not_found_path()
        await self.authorize(ctx)
        return await self.dispatch(ctx)

    async def authorize(self, ctx: Context) -> None:
        info = ctx.info
        assert ctx.user is not None
        attrs = authz.Attributes(
            user=ctx.user, verb=info.verb, is_resource=info.is_resource, path=info.path, group=info.group,
            version=info.version, resource=info.resource, subresource=info.subresource,
            namespace=info.namespace, name=info.name,
        )
        decision, reason = await self.server.authorizer.authorize(attrs)
        if decision is authz.Decision.ALLOW:
            return
        user = ctx.user.username
        if info.is_resource:
            res = info.resource + (f"/{info.subresource}" if info.subresource else "")
            where = f' in the namespace "{info.namespace}"' if info.namespace else " at the cluster scope"
            msg = f'User "{user}" cannot {info.verb} resource "{res}" in API group "{info.group}"{where}'
            if reason:
                msg += f": {reason}"
            raise errors.forbidden(info.resource, info.group, info.name, msg)
        raise errors.StatusError(
            403, "Forbidden", f'forbidden: User "{user}" cannot {info.verb} path "{info.path}"', details={}
        )

    # -- non-resource endpoints ------------------------------------------------------------
    async def non_resource(self, ctx: Context) -> web.StreamResponse:
        path = ctx.request.path.rstrip("/") or "/"
        server = self.server
        if ctx.request.method not in ("GET", "HEAD"):
            if path in ("/api", "/apis") or path.startswith(("/api/", "/apis/")):
                raise errors.method_not_allowed()
            raise errors.not_found_path()
        if path == "/version":
            return ctx.respond(server.version_info())
        if path.startswith(HEALTH_PATHS):
            ok = server.ready if path.startswith("/readyz") else True
            if not ok:
                return web.Response(text="[-]informer-sync failed: not ready\nreadyz check failed", status=500)
            return web.Response(text="ok", content_type="text/plain")
        accept = ctx.request.headers.get("Accept", "")
        disc = server.discovery
        if path in ("/api", "/apis"):
            agg = aggregated_kind(accept)
            if agg is not None:
                return ctx.respond(disc.aggregated(path == "/api", agg), content_type=agg)
            return ctx.respond(disc.api_versions() if path == "/api" else disc.api_group_list())
        parts = path.strip("/").split("/")
        if parts[0] == "api" and len(parts) == 2:
            body = disc.resource_list("", parts[1])
            if body is not None:
                return ctx.respond(body)
        if parts[0] == "apis" and len(parts) == 2:
            body = disc.api_group(parts[1])
            if body is not None:
                return ctx.respond(body)
        if parts[0] == "apis" and len(parts) == 3:
            body = disc.resource_list(parts[1], parts[2])
            if body is not None:
                return ctx.respond(body)
        if parts[0] == "openapi":
            return await self.openapi(ctx, parts)
        raise errors.not_found_path()

    async def openapi(self, ctx: Context, parts: list[str]) -> web.StreamResponse:
        docs = self.server.openapi
        if parts == ["openapi", "v3"]:
            return ctx.respond(docs.root_v3())
        if len(parts) > 2 and parts[1] == "v3":
            found = docs.group_version_v3("/".join(parts[2:]))
            if found is None:
                raise errors.not_found_path()
            body, etag = found
            headers = ctx.headers()
            headers["Etag"] = f'"{etag}"'
            wanted = ctx.query.get("hash")
            if wanted and wanted != etag:
                raise web.HTTPMovedPermanently(location=f"{ctx.request.path}?hash={etag}")
            if wanted:
                headers["Cache-Control"] = "public, immutable"
                headers["Expires"] = "Thu, 01 Jan 2099 00:00:00 GMT"
            if ctx.request.headers.get("If-None-Match") == f'"{etag}"':
                return web.Response(status=304, headers=headers)
            return web.Response(body=body, headers=headers)
        if parts == ["openapi", "v2"]:
            accept = ctx.request.headers.get("Accept", "")
            if "application/json" in accept or accept in ("", "*/*"):
                return ctx.respond(docs.v2_json())
            raise errors.not_found_path()  # the protobuf form is not served; kubectl falls back
        raise errors.not_found_path()

    # -- resources -------------------------------------------------------------------------
    async def dispatch(self, ctx: Context) -> web.StreamResponse:
        info = ctx.info
        res = ctx.resource
        assert res is not None
        verb = info.verb
        sub = info.subresource
        if verb not in res.verbs and not sub:
            raise errors.method_not_allowed()
        if "create" in res.verbs and res.verbs == ("create",):
            if verb != "create":
                raise errors.method_not_allowed()
            return await self.reviews.create(ctx, res)
        if sub:
            s = res.subresource(sub)
            if s is None:
                raise errors.not_found_path()
            if sub == "status":
                if verb == "get":
                    return await self.resources.get(ctx, res)
                if verb == "update":
                    return await self.resources.update(ctx, res, subresource="status")
                if verb == "patch":
                    return await self.resources.patch(ctx, res, subresource="status")
                raise errors.method_not_allowed()
            if sub == "approval":
                if verb == "get":
                    return await self.resources.get(ctx, res)
                if verb == "update":
                    return await self.resources.update(ctx, res, subresource="approval")
                if verb == "patch":
                    return await self.resources.patch(ctx, res, subresource="approval")
                raise errors.method_not_allowed()
            if sub == "scale":
                return await self.subresources.scale(ctx, res)
            if sub == "binding" and verb == "create":
                return await self.subresources.binding(ctx, res)
            if sub == "eviction" and verb == "create":
                return await self.subresources.eviction(ctx, res)
            if sub == "token" and verb == "create":
                return await self.tokens.create(ctx, res)
            if sub == "finalize" and verb == "update":
                return await self.subresources.finalize(ctx, res)
            raise errors.method_not_allowed()
        if verb == "get":
            return await self.resources.get(ctx, res)
        if verb == "list":
            return await self.resources.list(ctx, res)
        if verb == "watch":
            return await self.watch.watch(ctx, res)
        if verb == "create":
            if info.name:
                raise errors.method_not_allowed()
            if res.namespaced and not info.namespace:
                raise errors.not_found_path()
            return await self.resources.create(ctx, res)
        if verb == "update":
            return await self.resources.update(ctx, res)
        if verb == "patch":
            return await self.resources.patch(ctx, res)
        if verb == "delete":
            return await self.resources.delete(ctx, res)
        if verb == "deletecollection":
            return await self.resources.delete_collection(ctx, res)
        raise errors.method_not_allowed()
