"""The async REST client every kubepy component uses to talk to an API server.

Job: ``Client`` speaks the public Kubernetes API (JSON bodies, watch streams; the same
requests client-go makes, so it works unchanged against upstream kube-apiserver): the
verbs get/list/create/update/update_status/patch/delete/delete_collection/watch on a
``ResourceRef``, and ``request`` for everything else (pods/binding, namespaces/finalize,
scale). Objects are plain dicts in and out; failures raise ``ApiError``.

Design:
- One aiohttp session per client, created on first use inside the running loop, with
  keep-alive connections; TLS from the kubeconfig (CA, client certificate or bearer token).
- A client-side token bucket (``qps``/``burst``, generous by default) paces every request,
  watches included, as client-go's does.
- Retries, bounded (``max_retries``) with exponential back-off: 429 (and any 5xx that
  carries ``Retry-After``) for every verb, because the server did not act on it; other
  5xx answers and broken connections only for idempotent verbs (GET, HEAD, PUT, DELETE),
  so a retried PUT/DELETE whose first attempt did apply reports Conflict/NotFound, which
  level-triggered callers treat as "re-read"; a connection that was never established
  is retried for every verb.
"""

from __future__ import annotations

import asyncio
import logging
import os
import ssl
from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal

import aiohttp
import orjson

from kubepy.client.backoff import Backoff
from kubepy.client.clock import REAL_CLOCK, Clock
from kubepy.client.errors import ApiError, status_from_response
from kubepy.client.ratelimit import TokenBucket
from kubepy.client.resource import ResourceRef, builtin_resource
from kubepy.client.watchstream import WatchEvent, decode_events
from kubepy.pki.kubeconfig import KubeconfigInfo, load_kubeconfig
from kubepy.pki.tls import client_ssl_context

__all__ = ["Client", "DeleteOptions", "Preconditions", "PatchType", "WatchStream", "PATCH_CONTENT_TYPES"]

log = logging.getLogger(__name__)

Obj = dict[str, Any]
Params = dict[str, str]
PatchType = Literal["json", "merge", "strategic", "apply"]
ObjList = list[Obj]
JSONList = list[Any]

PATCH_CONTENT_TYPES: dict[str, str] = {
    "json": "application/json-patch+json",
    "merge": "application/merge-patch+json",
    "strategic": "application/strategic-merge-patch+json",
    "apply": "application/apply-patch+yaml",
}
JSON_TYPE = "application/json"
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
MAX_RETRY_AFTER = 30.0


@dataclass(frozen=True, kw_only=True, slots=True)
class Preconditions:
    """Delete only if the object still has this uid / resourceVersion."""

    uid: str | None = None
    resource_version: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class DeleteOptions:
    """meta/v1 DeleteOptions, sent as the DELETE body (as kubectl does)."""

    propagation_policy: Literal["Orphan", "Background", "Foreground"] | None = None
    grace_period_seconds: int | None = None
    preconditions: Preconditions | None = None
    orphan_dependents: bool | None = None
    dry_run: bool = False

    def to_body(self) -> Obj:
        body: Obj = {"kind": "DeleteOptions", "apiVersion": "v1"}
        if self.propagation_policy is not None:
            body["propagationPolicy"] = self.propagation_policy
        if self.grace_period_seconds is not None:
            body["gracePeriodSeconds"] = self.grace_period_seconds
        if self.orphan_dependents is not None:
            body["orphanDependents"] = self.orphan_dependents
        if self.preconditions is not None:
            pre: dict[str, str] = {}
            if self.preconditions.uid is not None:
                pre["uid"] = self.preconditions.uid
            if self.preconditions.resource_version is not None:
                pre["resourceVersion"] = self.preconditions.resource_version
            body["preconditions"] = pre
        if self.dry_run:
            body["dryRun"] = ["All"]
        return body


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, Mapping) else {}


class Client:
    """An API-server client; use as ``async with Client(kubeconfig) as c:`` or call ``close()``.

    ``config`` is a kubeconfig path or an already-loaded ``KubeconfigInfo``. Safe to share
    among every task of one event loop.
    """

    def __init__(
        self,
        config: KubeconfigInfo | str | os.PathLike[str],
        *,
        context: str | None = None,
        qps: float | None = 100.0,
        burst: int = 200,
        max_retries: int = 5,
        retry_initial: float = 0.05,
        retry_cap: float = 2.0,
        request_timeout: float = 60.0,
        connection_limit: int = 256,
        user_agent: str = "kubepy/v1.32.0",
        clock: Clock = REAL_CLOCK,
    ) -> None:
        self.config = config if isinstance(config, KubeconfigInfo) else load_kubeconfig(config, context)
        self.base_url = self.config.server.rstrip("/")
        self.default_namespace = self.config.namespace
        self.max_retries = max_retries
        self.request_timeout = request_timeout
        self._retry_initial = retry_initial
        self._retry_cap = retry_cap
        self._connection_limit = connection_limit
        self._clock = clock
        self._bucket = TokenBucket(qps, burst, clock=clock) if qps else None
        self._headers = {"User-Agent": user_agent, "Accept": JSON_TYPE}
        if self.config.token:
            self._headers["Authorization"] = f"Bearer {self.config.token}"
        self._ssl: ssl.SSLContext | None = None
        if self.base_url.startswith("https://"):
            self._ssl = client_ssl_context(
                self.config.ca_pem,
                self.config.client_cert_pem,
                self.config.client_key_pem,
                insecure_skip_verify=self.config.insecure_skip_tls_verify,
            )
        self._session: aiohttp.ClientSession | None = None

    # -- lifecycle -------------------------------------------------------------------------

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the session and its connections (open watches end)."""
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._connection_limit, ssl=self._ssl or False)
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers=self._headers,
            )
        return self._session

    # -- addressing ------------------------------------------------------------------------

    @staticmethod
    def resource(api_version: str, plural: str) -> ResourceRef:
        """The ref of a built-in resource: ``client.resource("apps/v1", "deployments")``."""
        return builtin_resource(api_version, plural)

    @staticmethod
    def _ns(ref: ResourceRef, namespace: str | None, obj: Mapping[str, Any] | None = None) -> str | None:
        if not ref.namespaced:
            return None
        ns = namespace or (str(_meta(obj).get("namespace") or "") if obj is not None else "")
        if not ns:
            raise ValueError(f"{ref.plural} is namespaced: a namespace is required")
        return ns

    @staticmethod
    def _name(obj: Mapping[str, Any]) -> str:
        name = _meta(obj).get("name")
        if not name:
            raise ValueError("the object has no metadata.name")
        return str(name)

    # -- verbs -----------------------------------------------------------------------------

    async def get(
        self, ref: ResourceRef, name: str, *, namespace: str | None = None,
        resource_version: str | None = None, subresource: str | None = None,
    ) -> Obj:
        params: Params = {}
        if resource_version is not None:
            params["resourceVersion"] = resource_version
        return await self._json("GET", ref.path(self._ns(ref, namespace), name, subresource), params=params)

    async def list(
        self,
        ref: ResourceRef,
        *,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        limit: int | None = None,
        continue_: str | None = None,
        resource_version: str | None = None,
        resource_version_match: Literal["NotOlderThan", "Exact"] | None = None,
        timeout_seconds: int | None = None,
    ) -> Obj:
        """One LIST call: the ``<Kind>List`` dict (follow ``metadata.continue`` for more pages)."""
        params = _selectors(label_selector, field_selector)
        if limit is not None:
            params["limit"] = str(limit)
        if continue_:
            params["continue"] = continue_
        if resource_version is not None:
            params["resourceVersion"] = resource_version
        if resource_version_match is not None:
            params["resourceVersionMatch"] = resource_version_match
        if timeout_seconds is not None:
            params["timeoutSeconds"] = str(timeout_seconds)
        return await self._json("GET", ref.path(namespace if ref.namespaced else None), params=params)

    async def list_all(
        self,
        ref: ResourceRef,
        *,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        page_size: int = 500,
        resource_version: str | None = None,
    ) -> tuple[ObjList, str]:
        """Every item over all pages, and the list's resourceVersion."""
        items: ObjList = []
        cont: str | None = None
        rv = ""
        while True:
            page = await self.list(
                ref, namespace=namespace, label_selector=label_selector, field_selector=field_selector,
                limit=page_size, continue_=cont, resource_version=None if cont else resource_version,
            )
            items.extend(page.get("items") or ())
            meta = _meta(page)
            rv = str(meta.get("resourceVersion") or rv)
            cont = meta.get("continue") or None
            if not cont:
                return items, rv

    async def create(
        self, ref: ResourceRef, obj: Mapping[str, Any], *, namespace: str | None = None,
        subresource: str | None = None, name: str | None = None,
        dry_run: bool = False, field_manager: str | None = None,
    ) -> Obj:
        """POST the object (``subresource`` with ``name`` for e.g. pods/binding, eviction)."""
        path = ref.path(self._ns(ref, namespace, obj), name, subresource) if subresource else \
            ref.path(self._ns(ref, namespace, obj))
        return await self._json("POST", path, params=_write_params(dry_run, field_manager), body=obj)

    async def update(
        self, ref: ResourceRef, obj: Mapping[str, Any], *, namespace: str | None = None,
        subresource: str | None = None, dry_run: bool = False, field_manager: str | None = None,
    ) -> Obj:
        """PUT the object; its ``metadata.resourceVersion`` (when set) makes it conditional."""
        path = ref.path(self._ns(ref, namespace, obj), self._name(obj), subresource)
        return await self._json("PUT", path, params=_write_params(dry_run, field_manager), body=obj)

    async def update_status(
        self, ref: ResourceRef, obj: Mapping[str, Any], *, namespace: str | None = None,
        field_manager: str | None = None,
    ) -> Obj:
        """PUT the status subresource (the spec in ``obj`` is ignored by the server)."""
        return await self.update(ref, obj, namespace=namespace, subresource="status", field_manager=field_manager)

    async def patch(
        self,
        ref: ResourceRef,
        name: str,
        patch: Mapping[str, Any] | JSONList,
        *,
        namespace: str | None = None,
        type: PatchType = "merge",
        subresource: str | None = None,
        dry_run: bool = False,
        field_manager: str | None = None,
        force: bool | None = None,
    ) -> Obj:
        """PATCH with a JSON patch (a list), a merge patch or a strategic-merge patch."""
        params = _write_params(dry_run, field_manager)
        if force is not None:
            params["force"] = "true" if force else "false"
        return await self._json(
            "PATCH", ref.path(self._ns(ref, namespace), name, subresource), params=params, body=patch,
            content_type=PATCH_CONTENT_TYPES[type],
        )

    async def delete(
        self, ref: ResourceRef, name: str, *, namespace: str | None = None,
        options: DeleteOptions | None = None,
    ) -> Obj:
        """DELETE one object: the server answers with the object (being deleted) or a Status."""
        body = options.to_body() if options is not None else None
        return await self._json("DELETE", ref.path(self._ns(ref, namespace), name), body=body)

    async def delete_collection(
        self, ref: ResourceRef, *, namespace: str | None = None, label_selector: str | None = None,
        field_selector: str | None = None, options: DeleteOptions | None = None,
    ) -> Obj:
        body = options.to_body() if options is not None else None
        return await self._json(
            "DELETE", ref.path(namespace if ref.namespaced else None),
            params=_selectors(label_selector, field_selector), body=body,
        )

    def watch(
        self,
        ref: ResourceRef,
        *,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        resource_version: str | None = None,
        timeout_seconds: int | None = None,
        allow_watch_bookmarks: bool = False,
    ) -> WatchStream:
        """A watch: ``async for type, obj in client.watch(...)``; the request is sent on first
        iteration. ERROR events raise ApiError (410 → ``is_gone``). Close it (``async with``
        or ``aclose``) when abandoning it early."""
        params = _selectors(label_selector, field_selector)
        params["watch"] = "true"
        if resource_version is not None:
            params["resourceVersion"] = resource_version
        if timeout_seconds is not None:
            params["timeoutSeconds"] = str(timeout_seconds)
        if allow_watch_bookmarks:
            params["allowWatchBookmarks"] = "true"
        return WatchStream(self, ref.path(namespace if ref.namespaced else None), params, timeout_seconds)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | JSONList | None = None,
        content_type: str = JSON_TYPE,
    ) -> Obj | None:
        """Any other call: ``path`` is absolute (``/api/v1/namespaces/x/finalize``); returns
        the decoded JSON object (None for an empty body; ValueError if it is not an object)."""
        data = await self.request_bytes(method, path, params=params, body=body, content_type=content_type)
        if not data:
            return None
        doc = orjson.loads(data)
        if not isinstance(doc, dict):
            raise ValueError(f"{method} {path}: the answer is not a JSON object")
        return doc

    async def request_bytes(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | JSONList | None = None,
        content_type: str = JSON_TYPE,
    ) -> bytes:
        """Like ``request`` but returns the raw body (``/healthz``, ``pods/log``)."""
        _, data = await self._call(method.upper(), path, params=dict(params or {}), body=body,
                                   content_type=content_type)
        return data

    # -- plumbing --------------------------------------------------------------------------

    async def _json(
        self, method: str, path: str, *, params: Params | None = None,
        body: Mapping[str, Any] | JSONList | None = None, content_type: str = JSON_TYPE,
    ) -> Obj:
        _, data = await self._call(method, path, params=params or {}, body=body, content_type=content_type)
        doc = orjson.loads(data) if data else {}
        if not isinstance(doc, dict):
            raise ApiError(status_from_response(500, b"unexpected non-object answer to " + path.encode()))
        return doc

    async def _call(
        self, method: str, path: str, *, params: Params, body: Mapping[str, Any] | JSONList | None,
        content_type: str,
    ) -> tuple[int, bytes]:
        resp = await self.send(method, path, params=params, body=body, content_type=content_type)
        async with resp:
            data = await resp.read()
            if resp.status >= 400:
                raise ApiError(status_from_response(resp.status, data))
            return resp.status, data

    async def send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | JSONList | None = None,
        content_type: str = JSON_TYPE,
        timeout: aiohttp.ClientTimeout | None = None,
    ) -> aiohttp.ClientResponse:
        """Send with pacing and retries; return the (unread) response, whatever its status.

        The caller must release the response (``async with resp``)."""
        session = self._get_session()
        data = orjson.dumps(body) if body is not None else None
        headers = {"Content-Type": content_type} if data is not None else None
        backoff = Backoff(initial=self._retry_initial, cap=self._retry_cap, jitter=0.2, clock=self._clock)
        url = self.base_url + path
        tmo = timeout or aiohttp.ClientTimeout(total=self.request_timeout)
        server_hostname = self.config.tls_server_name
        attempt = 0
        while True:
            attempt += 1
            if self._bucket is not None:
                await self._bucket.wait()
            try:
                if server_hostname:
                    resp = await session.request(
                        method, url, params=params, data=data, headers=headers, timeout=tmo,
                        server_hostname=server_hostname,
                    )
                else:
                    resp = await session.request(method, url, params=params, data=data, headers=headers, timeout=tmo)
            except aiohttp.ClientSSLError:
                raise  # a TLS/certificate failure will not heal by retrying
            except aiohttp.ClientConnectorError as e:
                # Never reached the server: safe to retry whatever the verb.
                if attempt > self.max_retries:
                    raise
                log.debug("%s %s: cannot connect (%s), retrying", method, path, e)
                await backoff.wait()
                continue
            except (aiohttp.ClientError, asyncio.TimeoutError) as e:
                if method not in IDEMPOTENT or attempt > self.max_retries:
                    raise
                log.debug("%s %s: %r, retrying", method, path, e)
                await backoff.wait()
                continue
            if resp.status == 429 or resp.status >= 500:
                retry_after = _retry_after(resp.headers.get("Retry-After"))
                retryable = resp.status == 429 or retry_after is not None or method in IDEMPOTENT
                if retryable and attempt <= self.max_retries:
                    resp.release()
                    delay = retry_after if retry_after is not None else backoff.next_delay()
                    log.debug("%s %s: HTTP %d, retrying in %.2fs", method, path, resp.status, delay)
                    await self._clock.sleep(delay)
                    continue
            return resp


class WatchStream:
    """An open (or not yet opened) watch: an async iterator of ``(type, object)``."""

    def __init__(self, client: Client, path: str, params: Params, timeout_seconds: int | None) -> None:
        self._client = client
        self._path = path
        self._params = params
        self._timeout_seconds = timeout_seconds
        self._resp: aiohttp.ClientResponse | None = None
        self._events: AsyncGenerator[WatchEvent, None] | None = None
        self._closed = False

    def __aiter__(self) -> WatchStream:
        return self

    async def __anext__(self) -> WatchEvent:
        if self._closed:
            raise StopAsyncIteration
        if self._events is None:
            await self._open()
        events = self._events
        if events is None:  # closed while opening
            raise StopAsyncIteration
        try:
            return await events.__anext__()
        except BaseException:
            await self.aclose()
            raise

    async def _open(self) -> None:
        total = None if self._timeout_seconds is None else self._timeout_seconds + 30.0
        tmo = aiohttp.ClientTimeout(total=total, sock_connect=self._client.request_timeout)
        resp = await self._client.send("GET", self._path, params=self._params, timeout=tmo)
        if resp.status >= 400:
            async with resp:
                data = await resp.read()
            raise ApiError(status_from_response(resp.status, data))
        if self._closed:
            resp.close()
            return
        self._resp = resp
        self._events = decode_events(resp.content.iter_any())

    async def aclose(self) -> None:
        """Stop watching and release the connection (idempotent)."""
        self._closed = True
        if self._resp is not None:
            resp, self._resp = self._resp, None
            resp.close()
        if self._events is not None:
            events, self._events = self._events, None
            try:
                await events.aclose()
            except RuntimeError:  # still running in another task; it ends with the connection
                pass

    async def __aenter__(self) -> WatchStream:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


def _selectors(label_selector: str | None, field_selector: str | None) -> Params:
    params: Params = {}
    if label_selector:
        params["labelSelector"] = label_selector
    if field_selector:
        params["fieldSelector"] = field_selector
    return params


def _write_params(dry_run: bool, field_manager: str | None) -> Params:
    params: Params = {}
    if dry_run:
        params["dryRun"] = "All"
    if field_manager:
        params["fieldManager"] = field_manager
    return params


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        seconds = float(int(value.strip()))
    except ValueError:
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)
