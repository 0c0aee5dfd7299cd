"""Client against a scripted loopback HTTP server: paths, parameters, bodies, retries,
rate limiting, error decoding and watch-stream decoding."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson
import pytest
from aiohttp import web

from kubepy.client import (
    ApiError,
    Client,
    DeleteOptions,
    Preconditions,
    ResourceRef,
    is_gone,
    is_not_found,
    is_server_error,
)
from kubepy.pki.kubeconfig import KubeconfigInfo

PODS = ResourceRef("", "v1", "pods", True)
DEPLOYMENTS = ResourceRef("apps", "v1", "deployments", True)
NODES = ResourceRef("", "v1", "nodes", False)


class SkipClock:
    """Sleeps return at once but move time forward, and are recorded."""

    def __init__(self) -> None:
        self.t = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.t

    def time(self) -> float:
        return 1_700_000_000.0 + self.t

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += max(0.0, seconds)
        await asyncio.sleep(0)


Handler = Callable[[web.Request], Any]


class Server:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, str], bytes, dict[str, str]]] = []
        self.responses: list[Callable[[web.Request], Any]] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.requests.append((request.method, request.path, dict(request.query), body, dict(request.headers)))
        responder = self.responses.pop(0) if self.responses else (lambda r: web.json_response({"ok": True}))
        result = responder(request)
        if asyncio.iscoroutine(result):
            result = await result
        assert isinstance(result, web.StreamResponse)
        return result


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    srv = Server()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", srv.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    srv.url = f"http://127.0.0.1:{port}"
    try:
        yield srv
    finally:
        await runner.cleanup()


@pytest.fixture
async def clock() -> SkipClock:
    return SkipClock()


@pytest.fixture
async def client(server: Server, clock: SkipClock) -> AsyncIterator[Client]:
    async with Client(KubeconfigInfo(server=server.url, token="s3cret"), clock=clock, max_retries=3) as c:
        yield c


def status(code: int, reason: str, **headers: str) -> Callable[[web.Request], web.Response]:
    return lambda r: web.json_response(
        {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": reason, "code": code,
         "message": reason.lower()}, status=code, headers=headers)


@pytest.mark.parametrize(
    ("ref", "ns", "name", "sub", "path"),
    [
        (PODS, "ns1", "p", None, "/api/v1/namespaces/ns1/pods/p"),
        (PODS, None, None, None, "/api/v1/pods"),
        (PODS, "ns1", "p", "status", "/api/v1/namespaces/ns1/pods/p/status"),
        (DEPLOYMENTS, "ns1", None, None, "/apis/apps/v1/namespaces/ns1/deployments"),
        (NODES, "ignored", "n1", None, "/api/v1/nodes/n1"),
    ],
    ids=["a namespaced object", "a namespaced resource across namespaces", "a subresource",
         "a group resource", "a cluster-scoped object ignores the namespace"],
)
def test_paths(ref: ResourceRef, ns: str | None, name: str | None, sub: str | None, path: str) -> None:
    assert ref.path(ns, name, sub) == path


def test_builtin_resources_come_from_the_registry() -> None:
    assert Client.resource("apps/v1", "deployments") == DEPLOYMENTS
    assert Client.resource("v1", "nodes") == NODES
    with pytest.raises(KeyError):
        Client.resource("v1", "widgets")


async def test_list_sends_every_parameter_and_the_token(client: Client, server: Server) -> None:
    server.responses.append(lambda r: web.json_response({"kind": "PodList", "items": [], "metadata": {}}))
    await client.list(PODS, namespace="ns1", label_selector="a=b,c in (d)", field_selector="spec.nodeName=n",
                      limit=5, continue_="tok", resource_version="7", resource_version_match="NotOlderThan")
    method, path, query, _, headers = server.requests[0]
    assert (method, path) == ("GET", "/api/v1/namespaces/ns1/pods")
    assert query == {"labelSelector": "a=b,c in (d)", "fieldSelector": "spec.nodeName=n", "limit": "5",
                     "continue": "tok", "resourceVersion": "7", "resourceVersionMatch": "NotOlderThan"}
    assert headers["Authorization"] == "Bearer s3cret"


@pytest.mark.parametrize(
    ("kind", "content_type"),
    [("json", "application/json-patch+json"), ("merge", "application/merge-patch+json"),
     ("strategic", "application/strategic-merge-patch+json")],
    ids=["json patch", "merge patch", "strategic merge patch"],
)
async def test_patch_content_types(client: Client, server: Server, kind: Any, content_type: str) -> None:
    await client.patch(DEPLOYMENTS, "d", {"spec": {}}, namespace="ns", type=kind, subresource="scale")
    method, path, _, body, headers = server.requests[0]
    assert (method, path) == ("PATCH", "/apis/apps/v1/namespaces/ns/deployments/d/scale")
    assert headers["Content-Type"] == content_type and orjson.loads(body) == {"spec": {}}


async def test_delete_sends_delete_options(client: Client, server: Server) -> None:
    opts = DeleteOptions(propagation_policy="Foreground", grace_period_seconds=0,
                         preconditions=Preconditions(uid="u1", resource_version="9"))
    await client.delete(PODS, "p", namespace="ns", options=opts)
    _, _, _, body, _ = server.requests[0]
    assert orjson.loads(body) == {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Foreground",
                                  "gracePeriodSeconds": 0, "preconditions": {"uid": "u1", "resourceVersion": "9"}}


async def test_create_takes_the_namespace_from_the_object(client: Client, server: Server) -> None:
    await client.create(PODS, {"metadata": {"name": "p", "namespace": "from-obj"}})
    assert server.requests[0][1] == "/api/v1/namespaces/from-obj/pods"
    with pytest.raises(ValueError):
        await client.create(PODS, {"metadata": {"name": "p"}})


async def test_429_is_retried_for_any_verb_after_retry_after(client: Client, server: Server, clock: SkipClock) -> None:
    server.responses.append(status(429, "TooManyRequests", **{"Retry-After": "2"}))
    assert await client.create(PODS, {"metadata": {"name": "p"}}, namespace="ns") == {"ok": True}
    assert [r[0] for r in server.requests] == ["POST", "POST"]
    assert 2.0 in clock.sleeps


async def test_5xx_is_not_retried_for_post(client: Client, server: Server) -> None:
    server.responses.append(status(503, "ServiceUnavailable"))
    with pytest.raises(ApiError) as err:
        await client.create(PODS, {"metadata": {"name": "p"}}, namespace="ns")
    assert is_server_error(err.value) and err.value.code == 503
    assert len(server.requests) == 1


async def test_5xx_is_retried_for_get_with_growing_back_off_then_raised(
    client: Client, server: Server, clock: SkipClock
) -> None:
    server.responses.extend([status(500, "InternalError")] * 10)
    with pytest.raises(ApiError) as err:
        await client.get(PODS, "p", namespace="ns")
    assert err.value.code == 500
    assert len(server.requests) == 4  # first try + max_retries
    assert len(clock.sleeps) == 3 and clock.sleeps[0] < clock.sleeps[1] < clock.sleeps[2]


async def test_5xx_then_success_for_get(client: Client, server: Server) -> None:
    server.responses.append(status(504, "Timeout"))
    assert await client.get(PODS, "p", namespace="ns") == {"ok": True}


async def test_a_refused_connection_is_retried_even_for_post(clock: SkipClock) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with Client(KubeconfigInfo(server=f"http://127.0.0.1:{port}"), clock=clock, max_retries=2) as c:
        with pytest.raises(OSError):
            await c.create(PODS, {"metadata": {"name": "p"}}, namespace="ns")
    assert len(clock.sleeps) == 2


async def test_a_non_status_error_body_becomes_a_status(client: Client, server: Server) -> None:
    server.responses.append(lambda r: web.Response(status=404, text="404 page not found"))
    with pytest.raises(ApiError) as err:
        await client.get(PODS, "p", namespace="ns")
    assert is_not_found(err.value) and err.value.message == "404 page not found"


async def test_the_rate_limiter_paces_requests(server: Server, clock: SkipClock) -> None:
    async with Client(KubeconfigInfo(server=server.url), clock=clock, qps=10, burst=2) as c:
        for _ in range(4):
            await c.get(PODS, "p", namespace="ns")
    assert clock.sleeps == pytest.approx([0.1, 0.1])


async def test_watch_decodes_events_split_across_chunks_and_large_objects(client: Client, server: Server) -> None:
    big = "x" * 300_000

    async def stream(r: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.enable_chunked_encoding()
        await resp.prepare(r)
        line1 = orjson.dumps({"type": "ADDED", "object": {"metadata": {"name": "a", "resourceVersion": "2"}}}) + b"\n"
        await resp.write(line1[:10])
        await resp.write(line1[10:])
        await resp.write(orjson.dumps({"type": "MODIFIED", "object": {"metadata": {"name": "a"}, "data": big}}) + b"\n")
        await resp.write(orjson.dumps({"type": "BOOKMARK", "object": {"metadata": {"resourceVersion": "9"}}}) + b"\n")
        await resp.write_eof()
        return resp

    server.responses.append(stream)
    events = [(t, o) async for t, o in client.watch(PODS, namespace="ns", resource_version="1", timeout_seconds=30,
                                                    allow_watch_bookmarks=True)]
    assert [t for t, _ in events] == ["ADDED", "MODIFIED", "BOOKMARK"]
    assert len(events[1][1]["data"]) == 300_000
    query = server.requests[0][2]
    assert query == {"watch": "true", "resourceVersion": "1", "timeoutSeconds": "30", "allowWatchBookmarks": "true"}


async def test_a_watch_error_event_raises_api_error(client: Client, server: Server) -> None:
    async def stream(r: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        await resp.prepare(r)
        await resp.write(orjson.dumps({"type": "ERROR", "object": {
            "kind": "Status", "code": 410, "reason": "Expired", "message": "too old resource version: 1 (5)"}}) + b"\n")
        await resp.write_eof()
        return resp

    server.responses.append(stream)
    with pytest.raises(ApiError) as err:
        async for _ in client.watch(PODS, namespace="ns", resource_version="1"):
            pass
    assert is_gone(err.value) and err.value.message.startswith("too old")


async def test_a_watch_refused_up_front_raises(client: Client, server: Server) -> None:
    server.responses.append(status(403, "Forbidden"))
    with pytest.raises(ApiError) as err:
        async for _ in client.watch(PODS):
            pass
    assert err.value.code == 403


async def test_request_decodes_objects_and_request_bytes_returns_raw_bodies(client: Client, server: Server) -> None:
    server.responses.append(lambda r: web.json_response({"kind": "Namespace"}))
    server.responses.append(lambda r: web.Response(text="ok"))
    server.responses.append(lambda r: web.Response(text="ok"))
    assert await client.request("put", "/api/v1/namespaces/x/finalize", body={"a": 1}) == {"kind": "Namespace"}
    assert await client.request_bytes("GET", "/healthz") == b"ok"
    with pytest.raises(ValueError):
        await client.request("GET", "/healthz")
    assert [(m, p) for m, p, *_ in server.requests] == [
        ("PUT", "/api/v1/namespaces/x/finalize"), ("GET", "/healthz"), ("GET", "/healthz")]
