"""What a request handler needs: the parsed request, the user, and response helpers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from kubepy.api.resources import ResourceInfo
from kubepy.apiserver import codec
from kubepy.apiserver.authn import UserInfo
from kubepy.apiserver.errors import StatusError
from kubepy.apiserver.request_info import RequestInfo


@dataclass(slots=True)
class Context:
    request: web.Request
    info: RequestInfo
    user: UserInfo | None
    resource: ResourceInfo | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def query(self) -> Any:
        return self.request.query

    @property
    def pretty(self) -> bool:
        return self.request.query.get("pretty", "") in ("true", "1")

    def respond(self, obj: Any, status: int = 200, content_type: str = codec.JSON) -> web.Response:
        body = obj if isinstance(obj, bytes) else codec.dumps(obj, pretty=self.pretty)
        return web.Response(body=body, status=status, headers=self.headers(content_type))

    def headers(self, content_type: str = codec.JSON) -> dict[str, str]:
        h = {"Content-Type": content_type, "Cache-Control": "no-cache, private"}
        if self.warnings:
            h["Warning"] = ", ".join(f'299 - "{_escape(w)}"' for w in self.warnings)
        return h


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def error_response(err: StatusError) -> web.Response:
    headers = {"Content-Type": codec.JSON, "Cache-Control": "no-cache, private", **err.headers}
    return web.Response(body=codec.dumps(err.status), status=err.code, headers=headers)
