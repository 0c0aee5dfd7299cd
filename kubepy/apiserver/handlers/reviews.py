"""Review APIs: who am I (SelfSubjectReview), may I (access reviews), token reviews.

Nothing is stored: each POST computes its answer from the request's user and the
configured authenticator / authorizer and returns the object with ``status`` filled in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from kubepy.api.resources import ResourceInfo
from kubepy.apiserver import authz, errors
from kubepy.apiserver.authn import Credentials, UserInfo
from kubepy.apiserver.handlers.context import Context
from kubepy.apiserver.handlers.resources import read_object

if TYPE_CHECKING:
    from kubepy.apiserver.server import APIServer


def user_info_dict(user: UserInfo) -> dict[str, Any]:
    out: dict[str, Any] = {"username": user.username}
    if user.uid:
        out["uid"] = user.uid
    if user.groups:
        out["groups"] = list(user.groups)
    if user.extra:
        out["extra"] = {k: list(v) for k, v in user.extra.items()}
    return out


class ReviewHandlers:
    def __init__(self, server: APIServer) -> None:
        self.server = server

    async def create(self, ctx: Context, info: ResourceInfo) -> web.StreamResponse:
        obj = await read_object(ctx, info) if ctx.request.can_read_body else {}
        obj["apiVersion"], obj["kind"] = info.api_version, info.kind
        obj.setdefault("metadata", {})
        user = ctx.user
        assert user is not None
        if info.plural == "selfsubjectreviews":
            obj["status"] = {"userInfo": user_info_dict(user)}
        elif info.plural == "tokenreviews":
            token = (obj.get("spec") or {}).get("token", "")
            reviewed = await self.server.authenticator.authenticate(Credentials(client_cert=None, bearer_token=token))
            if reviewed is None:
                obj["status"] = {"authenticated": False, "user": {}, "error": "invalid bearer token"}
            else:
                obj["status"] = {"authenticated": True, "user": user_info_dict(reviewed),
                                 "audiences": (obj.get("spec") or {}).get("audiences") or []}
        elif info.plural in ("selfsubjectaccessreviews", "subjectaccessreviews", "localsubjectaccessreviews"):
            spec = obj.get("spec") or {}
            subject = user
            if info.plural != "selfsubjectaccessreviews":
                subject = UserInfo(username=spec.get("user", ""), uid=spec.get("uid", ""),
                                   groups=tuple(spec.get("groups") or ()), extra=spec.get("extra") or {})
            ra = spec.get("resourceAttributes")
            na = spec.get("nonResourceAttributes")
            if ra is None and na is None:
                raise errors.StatusError(
                    422, "Invalid",
                    f'{info.kind}.authorization.k8s.io "" is invalid: spec.resourceAttributes: Invalid value: "null": '
                    "exactly one of nonResourceAttributes or resourceAttributes must be specified",
                )
            if ra is not None:
                attrs = authz.Attributes(
                    user=subject, verb=ra.get("verb", ""), is_resource=True, group=ra.get("group", ""),
                    version=ra.get("version", ""), resource=ra.get("resource", ""),
                    subresource=ra.get("subresource", ""), namespace=ra.get("namespace", ""), name=ra.get("name", ""),
                )
            else:
                na = na or {}
                attrs = authz.Attributes(user=subject, verb=na.get("verb", ""), is_resource=False, path=na.get("path", ""))
            decision, reason = await self.server.authorizer.authorize(attrs)
            status: dict[str, Any] = {"allowed": decision is authz.Decision.ALLOW}
            if decision is authz.Decision.DENY:
                status["denied"] = True
            if reason:
                status["reason"] = reason
            obj["status"] = status
        elif info.plural == "selfsubjectrulesreviews":
            obj["status"] = await self.server.rules_for(user, (obj.get("spec") or {}).get("namespace", ""))
        else:
            raise errors.not_found_path()
        return ctx.respond(obj, status=201)
