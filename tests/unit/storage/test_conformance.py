"""One conformance suite for every Store backend: same inputs, same answers.

Each test runs against a started MemoryStore and a started SQLiteStore (a file in
tmp_path); the contract under test is the docstring of kubepy/storage/store.py.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncGenerator, AsyncIterator
from pathlib import Path
from typing import cast

import pytest

from kubepy.storage import (
    Compacted,
    Conflict,
    EventType,
    KeyExists,
    KeyNotFound,
    KeyValue,
    StorageError,
    Store,
    WatchEvent,
)
from kubepy.storage.memory import MemoryStore
from kubepy.storage.sqlite import SQLiteStore


@pytest.fixture(params=["memory", "sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    backend: Store = MemoryStore() if request.param == "memory" else SQLiteStore(tmp_path / "kv.db")
    await backend.start()
    yield backend
    await backend.close()


async def take(events: AsyncIterator[WatchEvent], n: int, timeout: float = 10.0) -> list[WatchEvent]:
    """The next ``n`` events of a watch (fails if they do not come in time)."""
    out: list[WatchEvent] = []

    async def collect() -> None:
        while len(out) < n:
            out.append(await anext(events))

    await asyncio.wait_for(collect(), timeout)
    return out


async def stop(watch: AsyncIterator[WatchEvent]) -> None:
    """End a watch now (every backend returns an async generator)."""
    await cast(AsyncGenerator[WatchEvent, None], watch).aclose()


def summary(events: list[WatchEvent]) -> list[tuple[str, str, bytes, bytes | None, int]]:
    return [(e.type.value, e.key, e.value, e.prev_value, e.revision) for e in events]


# -- create / get ----------------------------------------------------------------------


async def test_an_empty_store_is_at_revision_zero_and_never_compacted(store: Store) -> None:
    assert store.current_revision() == 0
    assert store.compacted_revision() == 0
    assert await store.get("/a") is None
    result = await store.list("/")
    assert (result.items, result.revision, result.remaining) == ([], 0, 0)


async def test_create_then_get_returns_the_value_and_its_revisions(store: Store) -> None:
    rev = await store.create("/registry/pods/default/a", b"v1")
    assert rev == 1
    assert await store.get("/registry/pods/default/a") == KeyValue("/registry/pods/default/a", b"v1", 1, 1)
    assert await store.get("/registry/pods/default/b") is None
    assert store.current_revision() == 1


async def test_create_of_a_live_key_raises_key_exists_and_changes_nothing(store: Store) -> None:
    await store.create("/k", b"v1")
    with pytest.raises(KeyExists) as info:
        await store.create("/k", b"v2")
    assert info.value.key == "/k"
    assert await store.get("/k") == KeyValue("/k", b"v1", 1, 1)
    assert store.current_revision() == 1


async def test_create_after_delete_starts_a_new_life_with_a_new_create_revision(store: Store) -> None:
    await store.create("/k", b"v1")
    await store.delete("/k")
    rev = await store.create("/k", b"v2")
    assert rev == 3
    assert await store.get("/k") == KeyValue("/k", b"v2", 3, 3)


# -- update / delete -------------------------------------------------------------------


@pytest.mark.parametrize(
    "expected",
    [
        pytest.param(1, id="update with the current mod revision succeeds"),
        pytest.param(None, id="unconditional update succeeds"),
    ],
)
async def test_update_replaces_the_value_and_keeps_the_create_revision(
    store: Store, expected: int | None
) -> None:
    await store.create("/k", b"v1")
    await store.create("/other", b"x")
    rev = await store.update("/k", b"v2", expected_mod_revision=expected)
    assert rev == 3
    assert await store.get("/k") == KeyValue("/k", b"v2", 3, 1)


async def test_update_with_a_stale_mod_revision_raises_conflict(store: Store) -> None:
    await store.create("/k", b"v1")
    await store.update("/k", b"v2", expected_mod_revision=1)
    with pytest.raises(Conflict) as info:
        await store.update("/k", b"v3", expected_mod_revision=1)
    assert (info.value.key, info.value.expected, info.value.actual) == ("/k", 1, 2)
    assert await store.get("/k") == KeyValue("/k", b"v2", 2, 1)
    assert store.current_revision() == 2


@pytest.mark.parametrize(
    "operation, deleted_first",
    [
        pytest.param("update", False, id="update of a key never written raises KeyNotFound"),
        pytest.param("update", True, id="update of a deleted key raises KeyNotFound"),
        pytest.param("delete", False, id="delete of a key never written raises KeyNotFound"),
        pytest.param("delete", True, id="delete of a deleted key raises KeyNotFound"),
    ],
)
async def test_writes_to_a_missing_key_raise_key_not_found(
    store: Store, operation: str, deleted_first: bool
) -> None:
    if deleted_first:
        await store.create("/k", b"v1")
        await store.delete("/k")
    before = store.current_revision()
    with pytest.raises(KeyNotFound) as info:
        if operation == "update":
            await store.update("/k", b"v", expected_mod_revision=None)
        else:
            await store.delete("/k")
    assert info.value.key == "/k"
    assert store.current_revision() == before


@pytest.mark.parametrize(
    "expected",
    [
        pytest.param(2, id="delete with the current mod revision"),
        pytest.param(None, id="delete without an expected revision"),
    ],
)
async def test_delete_removes_the_key(store: Store, expected: int | None) -> None:
    await store.create("/k", b"v1")
    await store.update("/k", b"v2", expected_mod_revision=1)
    rev = await store.delete("/k", expected_mod_revision=expected)
    assert rev == 3
    assert await store.get("/k") is None
    assert (await store.list("/")).items == []
    assert store.current_revision() == 3


async def test_delete_with_a_stale_mod_revision_raises_conflict_and_keeps_the_key(store: Store) -> None:
    await store.create("/k", b"v1")
    await store.update("/k", b"v2", expected_mod_revision=1)
    with pytest.raises(Conflict) as info:
        await store.delete("/k", expected_mod_revision=1)
    assert (info.value.expected, info.value.actual) == (1, 2)
    assert await store.get("/k") == KeyValue("/k", b"v2", 2, 1)


async def test_revisions_increase_by_one_per_successful_write_across_all_keys(store: Store) -> None:
    revisions = [
        await store.create("/a", b"1"),
        await store.create("/b", b"1"),
        await store.update("/a", b"2", expected_mod_revision=None),
        await store.delete("/b"),
        await store.create("/c", b"1"),
    ]
    with pytest.raises(KeyExists):
        await store.create("/a", b"x")  # failures take no revision
    revisions.append(await store.update("/c", b"2", expected_mod_revision=5))
    assert revisions == [1, 2, 3, 4, 5, 6]
    assert store.current_revision() == 6


async def test_concurrent_writes_get_distinct_consecutive_revisions(store: Store) -> None:
    revisions = await asyncio.gather(*(store.create(f"/k/{i:03d}", b"v") for i in range(200)))
    assert sorted(revisions) == list(range(1, 201))
    assert store.current_revision() == 200
    for i, rev in enumerate(revisions):
        assert (await store.get(f"/k/{i:03d}")) == KeyValue(f"/k/{i:03d}", b"v", rev, rev)


async def test_concurrent_compare_and_swap_lets_exactly_one_writer_win(store: Store) -> None:
    await store.create("/k", b"v0")
    results = await asyncio.gather(
        *(store.update("/k", f"v{i}".encode(), expected_mod_revision=1) for i in range(1, 21)),
        return_exceptions=True,
    )
    winners = [r for r in results if isinstance(r, int)]
    assert winners == [2]
    assert all(isinstance(r, Conflict) for r in results if not isinstance(r, int))


# -- list / count ----------------------------------------------------------------------

KEYS = [
    "/registry/pods/default/b",
    "/registry/pods/default/a",
    "/registry/pods/kube-system/z",
    "/registry/pods/default/a-1",
    "/registry/pods/default/\u00e9t\u00e9",
    "/registry/pods/default/Z",
    "/registry/pods/default/\U0001f600",
    "/registry/podsecuritypolicies/x",
    "/registry/pod",
    "/registry/services/default/a",
]


@pytest.mark.parametrize(
    "prefix, expected",
    [
        pytest.param(
            "/registry/pods/default/",
            [
                "/registry/pods/default/Z",
                "/registry/pods/default/a",
                "/registry/pods/default/a-1",
                "/registry/pods/default/b",
                "/registry/pods/default/\u00e9t\u00e9",
                "/registry/pods/default/\U0001f600",
            ],
            id="a namespace prefix lists its keys in code point order",
        ),
        pytest.param(
            "/registry/pods/",
            [
                "/registry/pods/default/Z",
                "/registry/pods/default/a",
                "/registry/pods/default/a-1",
                "/registry/pods/default/b",
                "/registry/pods/default/\u00e9t\u00e9",
                "/registry/pods/default/\U0001f600",
                "/registry/pods/kube-system/z",
            ],
            id="a resource prefix excludes resources whose name merely starts the same",
        ),
        pytest.param(
            "/registry/pods/default/a",
            ["/registry/pods/default/a", "/registry/pods/default/a-1"],
            id="a prefix matches the key itself",
        ),
        pytest.param("/registry/nodes/", [], id="a prefix with no keys lists nothing"),
        pytest.param("", sorted(KEYS), id="the empty prefix lists everything"),
    ],
)
async def test_list_returns_live_keys_under_the_prefix_in_lexical_order(
    store: Store, prefix: str, expected: list[str]
) -> None:
    shuffled = KEYS[:]
    random.Random(7).shuffle(shuffled)
    for key in shuffled:
        await store.create(key, key.encode())
    await store.create("/registry/pods/default/gone", b"x")
    await store.delete("/registry/pods/default/gone")
    result = await store.list(prefix)
    assert [kv.key for kv in result.items] == expected
    assert all(kv.value == kv.key.encode() for kv in result.items)
    assert result.revision == store.current_revision()
    assert result.remaining == 0
    assert await store.count(prefix) == len(expected)


async def test_list_at_a_past_revision_returns_the_state_as_of_that_revision(store: Store) -> None:
    await store.create("/r/a", b"a1")  # 1
    await store.create("/r/b", b"b1")  # 2
    await store.update("/r/a", b"a2", expected_mod_revision=1)  # 3
    await store.delete("/r/b")  # 4
    await store.create("/r/c", b"c1")  # 5
    await store.create("/r/b", b"b2")  # 6
    expected = {
        0: [],
        1: [("/r/a", b"a1", 1)],
        2: [("/r/a", b"a1", 1), ("/r/b", b"b1", 2)],
        3: [("/r/a", b"a2", 3), ("/r/b", b"b1", 2)],
        4: [("/r/a", b"a2", 3)],
        5: [("/r/a", b"a2", 3), ("/r/c", b"c1", 5)],
        6: [("/r/a", b"a2", 3), ("/r/b", b"b2", 6), ("/r/c", b"c1", 5)],
    }
    for revision, items in expected.items():
        result = await store.list("/r/", revision=revision)
        assert [(kv.key, kv.value, kv.mod_revision) for kv in result.items] == items, revision
        assert result.revision == revision
    current = await store.list("/r/")
    assert (current.revision, len(current.items)) == (6, 3)


async def test_list_of_a_future_revision_is_refused(store: Store) -> None:
    await store.create("/k", b"v")
    with pytest.raises(ValueError):
        await store.list("/", revision=5)


async def test_list_pages_through_one_snapshot_with_limit_start_after_and_remaining(store: Store) -> None:
    for i in range(10):
        await store.create(f"/p/{i:02d}", str(i).encode())
    await store.create("/q/other", b"x")
    first = await store.list("/p/", limit=3)
    snapshot = first.revision
    # Writes after the first page must not show in later pages of the same snapshot.
    await store.delete("/p/04")
    await store.create("/p/05a", b"new")
    pages = [first]
    while pages[-1].remaining:
        pages.append(await store.list("/p/", limit=3, start_after=pages[-1].items[-1].key, revision=snapshot))
    assert [[kv.key[3:] for kv in page.items] for page in pages] == [
        ["00", "01", "02"],
        ["03", "04", "05"],
        ["06", "07", "08"],
        ["09"],
    ]
    assert [page.remaining for page in pages] == [7, 4, 1, 0]
    assert {page.revision for page in pages} == {snapshot}
    now = await store.list("/p/", limit=20, start_after="/p/03")
    assert [kv.key[3:] for kv in now.items] == ["05", "05a", "06", "07", "08", "09"]
    assert now.remaining == 0


@pytest.mark.parametrize(
    "start_after, expected",
    [
        pytest.param("/a", ["/p/1", "/p/2"], id="start_after before the prefix starts at the prefix"),
        pytest.param("/p/1", ["/p/2"], id="start_after a key skips it"),
        pytest.param("/p/10", ["/p/2"], id="start_after between keys starts at the next key"),
        pytest.param("/p/2", [], id="start_after the last key lists nothing"),
        pytest.param("/z", [], id="start_after beyond the prefix lists nothing"),
    ],
)
async def test_list_start_after_bounds(store: Store, start_after: str, expected: list[str]) -> None:
    for key in ("/o", "/p/1", "/p/2", "/q"):
        await store.create(key, b"v")
    result = await store.list("/p/", start_after=start_after)
    assert [kv.key for kv in result.items] == expected


async def test_count_counts_live_keys_under_a_prefix(store: Store) -> None:
    for key in ("/a/1", "/a/2", "/a/3", "/ab/1", "/b/1"):
        await store.create(key, b"v")
    await store.delete("/a/2")
    await store.update("/a/3", b"w", expected_mod_revision=None)
    assert [await store.count(p) for p in ("/a/", "/a", "/b/", "/c/", "")] == [2, 3, 1, 0, 4]


# -- watch -----------------------------------------------------------------------------


async def test_watch_from_a_revision_replays_history_in_order_then_follows_live_writes(store: Store) -> None:
    await store.create("/w/a", b"a1")  # 1
    await store.create("/w/b", b"b1")  # 2
    await store.update("/w/a", b"a2", expected_mod_revision=1)  # 3
    watch = store.watch("/w/", 1)
    try:
        replayed = await take(watch, 2)
        assert [e.revision for e in replayed] == [2, 3]
        rev = await store.delete("/w/b")
        live = await take(watch, 1)
        assert summary(live) == [("DELETED", "/w/b", b"b1", b"b1", rev)]
    finally:
        await stop(watch)


async def test_watch_sees_an_event_before_the_write_returns(store: Store) -> None:
    watch = store.watch("/", 0)
    pending = asyncio.ensure_future(anext(watch))
    await asyncio.sleep(0)  # the watch subscribes and waits
    assert not pending.done()
    rev = await store.create("/k", b"v")
    await asyncio.sleep(0)  # one loop turn: enough only if the event was queued already
    assert pending.done()
    assert pending.result().revision == rev
    await stop(watch)


@pytest.mark.parametrize(
    "after_revision",
    [
        pytest.param(0, id="from the beginning"),
        pytest.param(1234, id="from the middle of a replay page"),
        pytest.param(2500, id="from the current revision (nothing to replay)"),
    ],
)
async def test_watch_delivers_every_event_exactly_once_while_writes_race_the_replay(
    store: Store, after_revision: int
) -> None:
    for i in range(2500):  # more than one sqlite replay page
        await store.create(f"/h/{i:05d}", b"v")
    watch = store.watch("/h/", after_revision)

    async def writer() -> None:
        for i in range(200):
            await store.create(f"/h/live-{i:03d}", b"v")
            if i % 20 == 0:
                await asyncio.sleep(0)
        await store.create("/h/zz-done", b"v")

    try:
        writing = asyncio.ensure_future(writer())
        seen: list[int] = []
        async for event in watch:
            seen.append(event.revision)
            if event.key == "/h/zz-done":
                break
        await writing
    finally:
        await stop(watch)
    assert seen == list(range(after_revision + 1, 2500 + 201 + 1))


async def test_watch_filters_by_prefix(store: Store) -> None:
    await store.create("/a/1", b"v")
    await store.create("/ab/1", b"v")
    watch = store.watch("/a/", 0)
    try:
        await store.create("/b/1", b"v")
        await store.create("/a/2", b"v")
        await store.create("/abc", b"v")
        await store.delete("/a/1")
        events = await take(watch, 3)
    finally:
        await stop(watch)
    assert [(e.type, e.key) for e in events] == [
        (EventType.ADDED, "/a/1"),
        (EventType.ADDED, "/a/2"),
        (EventType.DELETED, "/a/1"),
    ]


@pytest.mark.parametrize(
    "replayed", [pytest.param(True, id="replayed from history"), pytest.param(False, id="followed live")]
)
async def test_watch_events_carry_values_and_previous_values(store: Store, replayed: bool) -> None:
    watch = None if replayed else store.watch("/", 0)
    await store.create("/k", b"v1")  # 1
    await store.update("/k", b"v2", expected_mod_revision=1)  # 2
    await store.delete("/k")  # 3
    await store.create("/k", b"v3")  # 4
    if watch is None:
        watch = store.watch("/", 0)
    try:
        events = await take(watch, 4)
    finally:
        await stop(watch)
    assert summary(events) == [
        ("ADDED", "/k", b"v1", None, 1),
        ("MODIFIED", "/k", b"v2", b"v1", 2),
        ("DELETED", "/k", b"v2", b"v2", 3),
        ("ADDED", "/k", b"v3", None, 4),
    ]


async def test_watch_after_a_future_revision_skips_events_up_to_it(store: Store) -> None:
    watch = store.watch("/", 3)
    try:
        for i in range(5):
            await store.create(f"/k{i}", b"v")
        events = await take(watch, 2)
    finally:
        await stop(watch)
    assert [e.revision for e in events] == [4, 5]


async def test_close_ends_live_watches(store: Store) -> None:
    await store.create("/k", b"v")
    watch = store.watch("/", 0)
    assert (await take(watch, 1))[0].key == "/k"
    pending = asyncio.ensure_future(anext(watch))
    await asyncio.sleep(0)
    await store.close()
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(pending, 5)
    with pytest.raises(StorageError):  # a closed store refuses new watches instead of ending them at once
        store.watch("/", 0)


# -- compaction ------------------------------------------------------------------------


async def _history(store: Store) -> None:
    await store.create("/c/a", b"a1")  # 1
    await store.create("/c/b", b"b1")  # 2
    await store.update("/c/a", b"a2", expected_mod_revision=1)  # 3
    await store.delete("/c/b")  # 4
    await store.create("/c/d", b"d1")  # 5
    await store.update("/c/a", b"a3", expected_mod_revision=3)  # 6
    await store.delete("/c/d")  # 7
    await store.create("/c/e", b"e1")  # 8


async def test_compaction_refuses_reads_and_watches_older_than_the_compacted_revision(store: Store) -> None:
    await _history(store)
    await store.compact(5)
    assert (store.compacted_revision(), store.current_revision()) == (5, 8)
    with pytest.raises(Compacted) as info:
        await store.list("/c/", revision=4)
    assert (info.value.requested, info.value.compacted) == (4, 5)
    with pytest.raises(Compacted):
        store.watch("/c/", 4)
    with pytest.raises(Compacted):
        await store.list("/c/", revision=1)


async def test_compaction_keeps_the_state_at_and_after_the_compacted_revision(store: Store) -> None:
    await _history(store)
    before = {rev: (await store.list("/c/", revision=rev)).items for rev in range(5, 9)}
    await store.compact(5)
    after = {rev: (await store.list("/c/", revision=rev)).items for rev in range(5, 9)}
    assert after == before
    assert [kv.key for kv in after[5]] == ["/c/a", "/c/d"]
    assert await store.get("/c/a") == KeyValue("/c/a", b"a3", 6, 1)
    assert await store.count("/c/") == 2


async def test_watch_from_the_compacted_revision_replays_what_follows_with_previous_values(
    store: Store,
) -> None:
    await _history(store)
    await store.compact(5)
    watch = store.watch("/c/", 5)
    try:
        events = await take(watch, 3)
    finally:
        await stop(watch)
    assert summary(events) == [
        ("MODIFIED", "/c/a", b"a3", b"a2", 6),
        ("DELETED", "/c/d", b"d1", b"d1", 7),
        ("ADDED", "/c/e", b"e1", None, 8),
    ]


async def test_compacting_everything_keeps_current_values_and_the_revision_counter(store: Store) -> None:
    await _history(store)
    await store.compact(8)
    await store.compact(3)  # older than the compacted revision: nothing to do
    assert store.compacted_revision() == 8
    assert [(kv.key, kv.value) for kv in (await store.list("/c/")).items] == [
        ("/c/a", b"a3"),
        ("/c/e", b"e1"),
    ]
    assert await store.create("/c/b", b"b2") == 9
    with pytest.raises(ValueError):
        await store.compact(100)


async def test_compact_older_than_keeps_the_newest_revisions(store: Store) -> None:
    await _history(store)
    assert await store.compact_older_than(3) == 5  # type: ignore[attr-defined]
    assert store.compacted_revision() == 5
    assert await store.compact_older_than(100) == 5  # type: ignore[attr-defined]
