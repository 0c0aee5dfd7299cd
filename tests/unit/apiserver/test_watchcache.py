"""The watch cache against the in-memory store: snapshots, replay, filtering, expiry."""

import asyncio

import orjson
import pytest

from kubepy.apiserver.watchcache import WatchCache
from kubepy.storage.errors import Compacted
from kubepy.storage.memory import MemoryStore

PREFIX = "/registry/pods/"


def pod(name: str, ns: str = "default", **labels: str) -> bytes:
    return orjson.dumps({"kind": "Pod", "apiVersion": "v1", "metadata": {"name": name, "namespace": ns, "labels": labels}})


@pytest.fixture
async def setup():
    store = MemoryStore()
    await store.start()
    await store.create(PREFIX + "default/a", pod("a"))
    cache = WatchCache(store)
    await cache.start([PREFIX, "/registry/configmaps/"])
    yield store, cache
    await cache.stop()
    await store.close()


async def test_initial_load_and_live_updates_reach_the_cache(setup):
    store, cache = setup
    rc = cache.caches[PREFIX]
    assert [o.obj["metadata"]["name"] for o in rc.snapshot(PREFIX)] == ["a"]
    rev = await store.create(PREFIX + "other/b", pod("b", "other"))
    assert await cache.wait_for(rev)
    assert [o.key for o in rc.snapshot(PREFIX)] == [PREFIX + "default/a", PREFIX + "other/b"]
    assert [o.key for o in rc.snapshot(PREFIX + "other/")] == [PREFIX + "other/b"]
    assert rc.get(PREFIX + "other/b").obj["metadata"]["resourceVersion"] == str(rev)


async def test_watch_replays_events_after_a_revision_in_order(setup):
    store, cache = setup
    start = store.current_revision()
    r1 = await store.create(PREFIX + "default/b", pod("b"))
    kv = await store.get(PREFIX + "default/b")
    r2 = await store.update(PREFIX + "default/b", pod("b", x="1"), expected_mod_revision=kv.mod_revision)
    r3 = await store.delete(PREFIX + "default/a")
    await cache.wait_for(r3)
    w = cache.caches[PREFIX].watch(PREFIX, None, start)
    batch = await w.next_batch(0.1)
    assert [(t, o.rev) for t, o in batch] == [("ADDED", r1), ("MODIFIED", r2), ("DELETED", r3)]
    assert batch[2][1].obj["metadata"]["resourceVersion"] == str(r3)


async def test_objects_leaving_a_label_selection_arrive_as_deleted(setup):
    store, cache = setup
    rev = await store.create(PREFIX + "default/b", pod("b", app="web"))
    await cache.wait_for(rev)
    w = cache.caches[PREFIX].watch(PREFIX, lambda o: o.obj["metadata"].get("labels", {}).get("app") == "web", rev)
    kv = await store.get(PREFIX + "default/b")
    await store.update(PREFIX + "default/b", pod("b", app="db"), expected_mod_revision=kv.mod_revision)
    batch = await asyncio.wait_for(w.next_batch(1.0), 2)
    assert [t for t, _ in batch] == ["DELETED"]


async def test_watch_from_before_the_window_is_expired(setup):
    store, cache = setup
    with pytest.raises(Compacted):
        cache.caches[PREFIX].watch(PREFIX, None, cache.caches[PREFIX].window_start - 1)


async def test_initial_events_are_synthetic_added(setup):
    _, cache = setup
    w = cache.caches[PREFIX].watch(PREFIX, None, None)
    batch = await w.next_batch(0)
    assert [(t, o.obj["metadata"]["name"]) for t, o in batch] == [("ADDED", "a")]
