"""WATCH: a chunked stream of JSON events, one per line, from the watch cache.

Semantics follow upstream (kube-api-compat.md §5.2, §6): no resourceVersion or "0" starts
with synthetic ADDED events for the current state; "N" replays every event after N from
the cache's window (410 Expired if N is older); objects entering or leaving the
selector's set arrive as ADDED / DELETED; bookmarks when asked for; the stream ends after
``timeoutSeconds``.
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from kubepy.api.resources import ResourceInfo
from kubepy.apiserver import codec, errors
from kubepy.apiserver.handlers.context import Context
from kubepy.apiserver.handlers.resources import build_predicate, list_prefix, parse_rv
from kubepy.apiserver.watchcache import CachedObject
from kubepy.storage.errors import Compacted

if TYPE_CHECKING:
    from kubepy.apiserver.server import APIServer

BOOKMARK_INTERVAL = 60.0
COALESCE = 0.005  # seconds a woken watcher waits for more events before writing
MIN_TIMEOUT = 1800  # upstream picks a random timeout in [30, 60) minutes when none is given


def expired_event(requested: int, oldest: int) -> bytes:
    status = errors.expired(f"too old resource version: {requested} ({oldest})").status
    return b'{"type":"ERROR","object":' + orjson.dumps(status) + b"}\n"


class WatchHandler:
    def __init__(self, server: APIServer) -> None:
        self.server = server

    async def watch(self, ctx: Context, info: ResourceInfo) -> web.StreamResponse:
        q = ctx.query
        cache = self.server.watch_cache
        rcache = cache.caches[info.key_prefix()]
        predicate = build_predicate(ctx, info)
        prefix = list_prefix(info, ctx.info.namespace)
        if ctx.info.name:  # legacy /watch/<res>/<name>
            name = ctx.info.name
            base = predicate

            def predicate(c: CachedObject) -> bool:
                return c.obj["metadata"].get("name") == name and (base is None or base(c))

        rs = self.server.store_for(info)
        present = rs.present
        if rs.converter is not None and predicate is not None:
            served_predicate = predicate

            def predicate(c: CachedObject) -> bool:
                return served_predicate(present(c))

        rv = q.get("resourceVersion", "")
        bookmarks = q.get("allowWatchBookmarks", "") in ("true", "1")
        send_initial = q.get("sendInitialEvents", "")
        if send_initial and q.get("resourceVersionMatch", "") != "NotOlderThan":
            raise errors.bad_request(
                "sendInitialEvents: Forbidden: sendInitialEvents is forbidden for watch unless "
                "resourceVersionMatch is set to NotOlderThan"
            )
        timeout_s = q.get("timeoutSeconds", "")
        timeout = float(int(timeout_s)) if timeout_s.isdigit() else float(MIN_TIMEOUT + random.randint(0, MIN_TIMEOUT))
        table = codec.wants_table(ctx.request.headers.get("Accept", ""))

        initial = send_initial == "true" or (not send_initial and rv in ("", "0"))
        after: int | None = None
        if rv not in ("", "0"):
            after = parse_rv(rv)
            if after > cache.revision:
                await cache.wait_for(after, timeout=3.0)
        if rv == "" and initial:
            await cache.wait_fresh()
        try:
            watcher = rcache.watch(prefix, predicate, None if initial and after is None else after)
        except Compacted as e:
            resp = web.StreamResponse(status=200, headers=ctx.headers(codec.JSON))
            resp.enable_chunked_encoding()
            await resp.prepare(ctx.request)
            await resp.write(expired_event(e.requested, e.compacted + 1))
            await resp.write_eof()
            return resp
        start_rev = cache.revision
        resp = web.StreamResponse(
            status=200, headers=ctx.headers(codec.TABLE_CONTENT_TYPE if table else codec.JSON)
        )
        resp.enable_chunked_encoding()
        try:
            await resp.prepare(ctx.request)
            deadline = time.monotonic() + timeout
            initial_end_pending = send_initial == "true" and bookmarks
            last_sent = time.monotonic()
            while not watcher.closed or watcher.pending:
                now = time.monotonic()
                if now >= deadline:
                    break
                wait = min(deadline - now, BOOKMARK_INTERVAL if bookmarks else deadline - now)
                if initial_end_pending and watcher.pending:
                    wait = 0
                batch = await watcher.next_batch(wait)
                if batch and not initial_end_pending:
                    # let a burst of events gather so one TLS write carries many of them
                    await asyncio.sleep(COALESCE)
                    batch.extend(await watcher.next_batch(0))
                chunks: list[bytes] = []
                for kind, obj in batch:
                    chunks.append(self._event(kind, present(obj), info, ctx, table))
                if initial_end_pending:
                    initial_end_pending = False
                    chunks.append(self._bookmark(info, max(start_rev, cache.revision), initial_end=True))
                elif not batch and bookmarks and time.monotonic() - last_sent >= BOOKMARK_INTERVAL:
                    chunks.append(self._bookmark(info, cache.revision))
                if chunks:
                    await resp.write(b"".join(chunks))
                    last_sent = time.monotonic()
            if watcher.overflowed:
                pass  # client re-watches from its last resourceVersion
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            rcache.stop(watcher)
        try:
            await resp.write_eof()
        except (ConnectionResetError, RuntimeError):
            pass
        return resp

    def _event(self, kind: str, obj: CachedObject, info: ResourceInfo, ctx: Context, table: bool) -> bytes:
        if table:
            t = self.server.table([obj.obj], info, ctx, meta={"resourceVersion": str(obj.rev)})
            return b'{"type":"' + kind.encode() + b'","object":' + orjson.dumps(t) + b"}\n"
        return obj.event_line(kind)

    def _bookmark(self, info: ResourceInfo, rev: int, *, initial_end: bool = False) -> bytes:
        meta: dict[str, Any] = {"resourceVersion": str(rev)}
        if initial_end:
            meta["annotations"] = {"k8s.io/initial-events-end": "true"}
        obj = {"kind": info.kind, "apiVersion": info.api_version, "metadata": meta}
        return b'{"type":"BOOKMARK","object":' + orjson.dumps(obj) + b"}\n"
