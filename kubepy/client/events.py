"""Recording core/v1 Events about objects, with repeats folded into one Event's count.

Job: ``EventRecorder.event(obj, "Normal"|"Warning", reason, message)`` is what controllers
call to leave the trail ``kubectl describe`` shows. It never blocks and never raises: the
event is queued and written by a background task. The first occurrence creates
``<object name>.<hex nanoseconds>`` in the object's namespace (``default`` for
cluster-scoped objects) with ``involvedObject``, ``source.component``/``host``,
``firstTimestamp``/``lastTimestamp`` and ``count: 1``; a repeat of the same object,
type, reason and message patches that Event's ``count``, ``lastTimestamp`` and
``message`` instead (client-go's legacy recorder and its EventCorrelator do the same).

Design: the aggregation cache is a bounded LRU keyed by (source, involved object, type,
reason, message). If the Event it remembers was deleted meanwhile (events expire after
an hour), the patch answers NotFound and a new Event is created. Writes go through the
shared Client (its rate limiter and retries); a full queue drops events with a log line,
as client-go does, rather than slowing the controller. Not done: the similar-message
spam filter that merges events differing only in message ("combined from similar
events").
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Literal

from kubepy.client.clock import REAL_CLOCK, Clock
from kubepy.client.errors import ApiError, is_not_found
from kubepy.client.resource import ResourceRef
from kubepy.client.rest import Client

__all__ = ["EventRecorder", "EVENTS", "NORMAL", "WARNING", "involved_object", "rfc3339"]

log = logging.getLogger(__name__)

Obj = dict[str, Any]
EventType = Literal["Normal", "Warning"]
NORMAL: EventType = "Normal"
WARNING: EventType = "Warning"
EVENTS = ResourceRef("", "v1", "events", True)
MAX_MESSAGE = 1024


def rfc3339(epoch_seconds: float) -> str:
    """meta/v1 Time: second precision, UTC, ``2024-05-01T10:00:00Z``."""
    return datetime.fromtimestamp(int(epoch_seconds), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def involved_object(obj: Mapping[str, Any], *, field_path: str | None = None) -> Obj:
    """The ObjectReference an Event points at (empty fields left out)."""
    meta = obj.get("metadata") or {}
    ref: Obj = {}
    for field, value in (
        ("kind", obj.get("kind")),
        ("namespace", meta.get("namespace")),
        ("name", meta.get("name")),
        ("uid", meta.get("uid")),
        ("apiVersion", obj.get("apiVersion")),
        ("resourceVersion", meta.get("resourceVersion")),
        ("fieldPath", field_path),
    ):
        if value:
            ref[field] = value
    return ref


@dataclass(slots=True)
class _Seen:
    name: str
    namespace: str
    count: int
    first_timestamp: str


AggregationKey = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Pending:
    involved: Obj
    type: str
    reason: str
    message: str
    when: float


class EventRecorder:
    """Writes Events for one component (``source.component``) on one host."""

    def __init__(
        self,
        client: Client,
        *,
        component: str,
        host: str = "",
        clock: Clock = REAL_CLOCK,
        cache_size: int = 4096,
        queue_size: int = 1000,
    ) -> None:
        self.client = client
        self.component = component
        self.host = host
        self._clock = clock
        self._cache: collections.OrderedDict[AggregationKey, _Seen] = collections.OrderedDict()
        self._cache_size = cache_size
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue(queue_size)
        self._task: asyncio.Task[None] | None = None
        self.dropped = 0

    def event(
        self, obj: Mapping[str, Any], type: EventType, reason: str, message: str, *,
        field_path: str | None = None,
    ) -> None:
        """Record an event about ``obj`` (needs kind, apiVersion and metadata.name).
        Returns at once; call from inside the running event loop."""
        if type not in (NORMAL, WARNING):
            log.warning("event %s/%s has unsupported type %r; dropped", reason, message, type)
            return
        pending = _Pending(involved_object(obj, field_path=field_path), type, reason,
                           message[:MAX_MESSAGE], self._clock.time())
        try:
            self._queue.put_nowait(pending)
        except asyncio.QueueFull:
            self.dropped += 1
            log.warning("event queue full, dropping event %s: %s", reason, message)
            return
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name=f"events {self.component}")

    def eventf(self, obj: Mapping[str, Any], type: EventType, reason: str, fmt: str, *args: object) -> None:
        """``event`` with a %-format message."""
        self.event(obj, type, reason, fmt % args if args else fmt)

    async def flush(self) -> None:
        """Wait until every event recorded so far has been written (or given up on)."""
        await self._queue.join()

    async def close(self) -> None:
        """Stop the writer (events not yet written are dropped; ``flush`` first to keep them)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            pending = await self._queue.get()
            try:
                await self._write(pending)
            except asyncio.CancelledError:
                raise
            except Exception as e:
                log.warning("could not write event %s for %s: %s", pending.reason, pending.involved.get("name"), e)
            finally:
                self._queue.task_done()

    def _key(self, p: _Pending) -> AggregationKey:
        i = p.involved
        return (
            self.component, self.host, str(i.get("kind", "")), str(i.get("namespace", "")), str(i.get("name", "")),
            str(i.get("uid", "")), str(i.get("apiVersion", "")), p.type, p.reason, p.message,
        )

    async def _write(self, p: _Pending) -> None:
        key = self._key(p)
        now = rfc3339(p.when)
        seen = self._cache.get(key)
        if seen is not None:
            patch = {"count": seen.count + 1, "lastTimestamp": now, "message": p.message}
            try:
                await self.client.patch(EVENTS, seen.name, patch, namespace=seen.namespace, type="strategic")
            except ApiError as e:
                if not is_not_found(e):
                    raise
                del self._cache[key]  # it expired: start a new one below
            else:
                seen.count += 1
                self._cache.move_to_end(key)
                return
        namespace = str(p.involved.get("namespace") or "default")
        name = f"{p.involved.get('name', 'unknown')}.{int(p.when * 1e9):x}"
        event: Obj = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": name, "namespace": namespace},
            "involvedObject": p.involved,
            "reason": p.reason,
            "message": p.message,
            "source": {"component": self.component, **({"host": self.host} if self.host else {})},
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
            "type": p.type,
            "reportingComponent": self.component,
            "reportingInstance": self.host,
        }
        created = await self.client.create(EVENTS, event, namespace=namespace)
        meta = created.get("metadata") or {}
        self._cache[key] = _Seen(str(meta.get("name") or name), namespace, 1, now)
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
