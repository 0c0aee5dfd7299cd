"""Reflector + SharedInformer against an in-process fake list/watch source.

The fake answers ``list`` from a dict and serves each ``watch`` from a queue the test
feeds, so the tests script exactly what the server says: events, bookmarks, the end of a
stream, a 410 Expired.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kubepy.client import (
    ApiError,
    Backoff,
    DeletedFinalStateUnknown,
    FakeClock,
    SharedInformer,
    object_of,
)

Event = tuple[str, dict[str, Any]] | BaseException | None


def cm(name: str, rv: int, data: str = "v") -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": "ns", "resourceVersion": str(rv)}, "data": {"k": data}}


def expired() -> ApiError:
    return ApiError({"kind": "Status", "code": 410, "reason": "Expired", "message": "too old resource version"})


class FakeStream:
    def __init__(self, queue: asyncio.Queue[Event]) -> None:
        self.queue = queue
        self.closed = False

    def __aiter__(self) -> FakeStream:
        return self

    async def __anext__(self) -> tuple[str, dict[str, Any]]:
        item = await self.queue.get()
        if item is None:
            raise StopAsyncIteration
        if isinstance(item, BaseException):
            raise item
        return item

    async def aclose(self) -> None:
        self.closed = True


class FakeSource:
    def __init__(self, *items: dict[str, Any], rv: int = 10) -> None:
        self.items = {o["metadata"]["name"]: o for o in items}
        self.rv = rv
        self.list_calls: list[str | None] = []
        self.list_errors: list[BaseException] = []
        self.watch_calls: list[str] = []
        self.streams: list[asyncio.Queue[Event]] = []
        self.watch_opened = asyncio.Event()

    async def list(self, *, resource_version: str | None, limit: int | None, continue_: str | None) -> dict[str, Any]:
        self.list_calls.append(resource_version)
        if self.list_errors:
            raise self.list_errors.pop(0)
        return {"kind": "ConfigMapList", "apiVersion": "v1", "metadata": {"resourceVersion": str(self.rv)},
                "items": [dict(o) for o in self.items.values()]}

    def watch(self, *, resource_version: str, timeout_seconds: int, allow_watch_bookmarks: bool) -> FakeStream:
        assert allow_watch_bookmarks and timeout_seconds >= 300
        self.watch_calls.append(resource_version)
        q: asyncio.Queue[Event] = asyncio.Queue()
        self.streams.append(q)
        self.watch_opened.set()
        return FakeStream(q)

    async def next_watch(self, count: int) -> asyncio.Queue[Event]:
        for _ in range(200):
            if len(self.streams) >= count:
                return self.streams[count - 1]
            await asyncio.sleep(0)
        raise AssertionError(f"watch #{count} never opened (calls: {self.watch_calls})")


class Recorder:
    def __init__(self, informer: SharedInformer) -> None:
        self.log: list[tuple[Any, ...]] = []
        informer.add_event_handler(
            on_add=lambda o: self.log.append(("add", o["metadata"]["name"])),
            on_update=lambda old, new: self.log.append(
                ("update", new["metadata"]["name"], old["metadata"]["resourceVersion"], new["metadata"]["resourceVersion"])),
            on_delete=lambda o: self.log.append(
                ("tombstone" if isinstance(o, DeletedFinalStateUnknown) else "delete", object_of(o)["metadata"]["name"])),
        )


async def settle(n: int = 20) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


def make(source: FakeSource, clock: FakeClock | None = None, **kw: Any) -> SharedInformer:
    clock = clock or FakeClock()
    return SharedInformer(source, name="test", clock=clock, backoff=Backoff(initial=0.01, cap=0.01, jitter=0, clock=clock), **kw)


async def test_list_then_watch_delivers_add_update_delete() -> None:
    source = FakeSource(cm("a", 5))
    informer = make(source)
    rec = Recorder(informer)
    informer.start()
    try:
        assert await informer.wait_for_sync(1)
        assert source.list_calls == ["0"], "the first list may be served from the watch cache"
        listed = informer.indexer.get_by_key("ns/a") or {}
        assert (listed["kind"], listed["apiVersion"]) == ("ConfigMap", "v1"), "list items get their type filled in"
        stream = await source.next_watch(1)
        assert source.watch_calls == ["10"]
        await stream.put(("ADDED", cm("b", 11)))
        await stream.put(("MODIFIED", cm("a", 12, "x")))
        await stream.put(("DELETED", cm("b", 13)))
        await settle()
        assert rec.log == [("add", "a"), ("add", "b"), ("update", "a", "5", "12"), ("delete", "b")]
        assert informer.indexer.list_keys() == ["ns/a"]
        assert (informer.indexer.get_by_key("ns/a") or {})["data"] == {"k": "x"}
        assert informer.last_sync_resource_version == "13"
    finally:
        await informer.stop()


async def test_bookmarks_move_the_resume_point_and_a_closed_watch_resumes_there() -> None:
    source = FakeSource()
    informer = make(source)
    rec = Recorder(informer)
    informer.start()
    try:
        stream = await source.next_watch(1)
        await stream.put(("BOOKMARK", {"metadata": {"resourceVersion": "42"}}))
        await stream.put(None)  # the server ends the watch (timeoutSeconds)
        await source.next_watch(2)
        assert source.watch_calls == ["10", "42"]
        assert source.list_calls == ["0"], "a watch that simply ends must not cause a relist"
        assert rec.log == []
    finally:
        await informer.stop()


async def test_expired_watch_relists_and_reports_what_changed_meanwhile() -> None:
    source = FakeSource(cm("keep", 5), cm("change", 6), cm("vanish", 7))
    informer = make(source)
    rec = Recorder(informer)
    informer.start()
    try:
        stream = await source.next_watch(1)
        await stream.put(("MODIFIED", cm("keep", 11)))
        await settle()
        rec.log.clear()
        source.items = {"keep": cm("keep", 11), "change": cm("change", 15, "new"), "fresh": cm("fresh", 16)}
        source.rv = 20
        await stream.put(expired())
        await source.next_watch(2)
        assert source.list_calls == ["0", "11"], "relist first at the last resourceVersion"
        assert source.watch_calls[-1] == "20"
        assert sorted(rec.log) == [("add", "fresh"), ("tombstone", "vanish"), ("update", "change", "6", "15")]
        assert sorted(informer.indexer.list_keys()) == ["ns/change", "ns/fresh", "ns/keep"]
    finally:
        await informer.stop()


async def test_relist_falls_back_to_a_consistent_list_when_the_last_version_is_expired_too() -> None:
    source = FakeSource(cm("a", 5))
    informer = make(source)
    informer.start()
    try:
        stream = await source.next_watch(1)
        await stream.put(("ADDED", cm("b", 11)))
        source.list_errors = [expired()]
        await stream.put(expired())
        await source.next_watch(2)
        assert source.list_calls == ["0", "11", None]
    finally:
        await informer.stop()


async def test_list_errors_back_off_and_retry() -> None:
    clock = FakeClock()
    source = FakeSource(cm("a", 5))
    source.list_errors = [ApiError({"kind": "Status", "code": 500, "reason": "InternalError"})]
    informer = make(source, clock)
    informer.start()
    try:
        await settle()
        assert source.list_calls == ["0"] and not informer.has_synced()
        clock.advance(0.01)
        await settle()
        assert source.list_calls == ["0", "0"] and informer.has_synced()
    finally:
        await informer.stop()


async def test_a_failing_handler_does_not_stop_the_others() -> None:
    source = FakeSource(cm("a", 5))
    informer = make(source)

    def broken(obj: dict[str, Any]) -> None:
        raise RuntimeError("boom")

    informer.add_event_handler(on_add=broken)
    rec = Recorder(informer)
    informer.start()
    try:
        assert await informer.wait_for_sync(1)
        assert rec.log == [("add", "a")]
    finally:
        await informer.stop()


async def test_a_handler_added_late_gets_the_cached_objects() -> None:
    source = FakeSource(cm("a", 5), cm("b", 6))
    informer = make(source)
    informer.start()
    try:
        assert await informer.wait_for_sync(1)
        rec = Recorder(informer)
        assert sorted(rec.log) == [("add", "a"), ("add", "b")]
    finally:
        await informer.stop()


async def test_resync_redelivers_every_object_as_an_update() -> None:
    clock = FakeClock()
    source = FakeSource(cm("a", 5))
    informer = make(source, clock, resync_period=30.0)
    rec = Recorder(informer)
    informer.start()
    try:
        assert await informer.wait_for_sync(1)
        await settle()
        clock.advance(29)
        await settle()
        assert rec.log == [("add", "a")]
        clock.advance(1)
        await settle()
        assert rec.log == [("add", "a"), ("update", "a", "5", "5")]
    finally:
        await informer.stop()


@pytest.mark.parametrize("timeout", [0.05], ids=["wait_for_sync gives up when the list never succeeds"])
async def test_wait_for_sync_times_out(timeout: float) -> None:
    source = FakeSource()
    source.list_errors = [ApiError({"kind": "Status", "code": 403, "reason": "Forbidden"})] * 1000
    informer = make(source)
    informer.start()
    try:
        assert await informer.wait_for_sync(timeout) is False
        assert not informer.has_synced()
    finally:
        await informer.stop()
