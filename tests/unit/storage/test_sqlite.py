"""SQLite specifics: persistence across restarts, group commit, file ownership, key ranges."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from kubepy.storage import Conflict, EventType, KeyExists, KeyValue, StorageError
from kubepy.storage import sqlite as sqlite_module
from kubepy.storage.sqlite import SQLiteStore, prefix_end


async def opened(path: Path) -> SQLiteStore:
    store = SQLiteStore(path)
    await store.start()
    return store


async def test_data_and_revisions_survive_close_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "kv.db"
    store = await opened(path)
    await store.create("/a", b"a1")
    await store.update("/a", b"a2", expected_mod_revision=1)
    await store.create("/b", b"b1")
    await store.delete("/b")
    await store.close()

    store = await opened(path)
    try:
        assert store.current_revision() == 4
        assert await store.get("/a") == KeyValue("/a", b"a2", 2, 1)
        assert await store.get("/b") is None
        assert [kv.key for kv in (await store.list("/", revision=3)).items] == ["/a", "/b"]
        assert await store.create("/c", b"c1") == 5
    finally:
        await store.close()


async def test_revision_counter_survives_a_compaction_that_removed_the_newest_rows(tmp_path: Path) -> None:
    path = tmp_path / "kv.db"
    store = await opened(path)
    await store.create("/a", b"a1")
    await store.create("/b", b"b1")
    await store.delete("/b")  # revision 3, a tombstone that compaction removes
    await store.compact(3)
    await store.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT MAX(revision) FROM kv").fetchone() == (1,)

    store = await opened(path)
    try:
        assert (store.current_revision(), store.compacted_revision()) == (3, 3)
        assert await store.create("/b", b"b2") == 4
    finally:
        await store.close()


async def test_a_watch_resumes_after_reopen_from_a_revision_written_before_the_restart(
    tmp_path: Path,
) -> None:
    path = tmp_path / "kv.db"
    store = await opened(path)
    await store.create("/w/a", b"a1")  # 1
    await store.update("/w/a", b"a2", expected_mod_revision=1)  # 2
    await store.create("/w/b", b"b1")  # 3
    await store.close()

    store = await opened(path)
    watch = store.watch("/w/", 1)
    try:
        await store.delete("/w/a")  # 4, after the restart
        events = [await asyncio.wait_for(anext(watch), 5) for _ in range(3)]
    finally:
        await watch.aclose()
        await store.close()
    assert [(e.type, e.key, e.value, e.prev_value, e.revision) for e in events] == [
        (EventType.MODIFIED, "/w/a", b"a2", b"a1", 2),
        (EventType.ADDED, "/w/b", b"b1", None, 3),
        (EventType.DELETED, "/w/a", b"a2", b"a2", 4),
    ]


async def test_concurrent_creates_are_group_committed_with_distinct_increasing_revisions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    batches: list[int] = []
    run_batch = sqlite_module._Writer.run_batch

    def counting(self: sqlite_module._Writer, conn: sqlite3.Connection, batch: list) -> None:  # type: ignore[type-arg]
        batches.append(len(batch))
        run_batch(self, conn, batch)

    monkeypatch.setattr(sqlite_module._Writer, "run_batch", counting)
    store = await opened(tmp_path / "kv.db")
    try:
        keys = [f"/registry/pods/ns/p{i:04d}" for i in range(500)]
        revisions = await asyncio.gather(*(store.create(k, k.encode() * 20) for k in keys))
        assert sorted(revisions) == list(range(1, 501))
        # Queued in order, committed in order: the revisions follow the call order.
        assert revisions == list(range(1, 501))
        assert sum(batches) == 500
        assert len(batches) < 100, f"expected group commits, got {len(batches)} transactions"
        listed = await store.list("/registry/pods/")
        assert [(kv.key, kv.mod_revision) for kv in listed.items] == list(zip(keys, revisions, strict=True))
    finally:
        await store.close()


async def test_compare_and_swap_inside_one_batch_is_decided_in_queue_order(tmp_path: Path) -> None:
    store = await opened(tmp_path / "kv.db")
    try:
        results = await asyncio.gather(
            store.create("/k", b"v1"),
            store.create("/k", b"again"),
            store.update("/k", b"v2", expected_mod_revision=1),
            store.update("/k", b"v3", expected_mod_revision=1),
            store.delete("/k", expected_mod_revision=2),
            store.create("/k", b"v4"),
            return_exceptions=True,
        )
        assert results[0] == 1
        assert isinstance(results[1], KeyExists)
        assert results[2] == 2
        assert isinstance(results[3], Conflict)
        assert list(results[4:]) == [3, 4]
        assert await store.get("/k") == KeyValue("/k", b"v4", 4, 4)
    finally:
        await store.close()


async def test_a_second_store_on_the_same_file_is_refused(tmp_path: Path) -> None:
    store = await opened(tmp_path / "kv.db")
    try:
        with pytest.raises(StorageError, match="already open"):
            await opened(tmp_path / "kv.db")
    finally:
        await store.close()
    again = await opened(tmp_path / "kv.db")  # the lock goes with close()
    await again.close()


async def test_operations_on_a_store_that_is_not_started_fail(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "kv.db")
    with pytest.raises(StorageError):
        await store.create("/k", b"v")
    with pytest.raises(StorageError):
        await store.get("/k")
    with pytest.raises(StorageError):
        store.watch("/", 0)


async def test_the_file_uses_wal_and_the_log_table_layout(tmp_path: Path) -> None:
    store = await opened(tmp_path / "kv.db")
    await store.create("/k", b"v")
    await store.update("/k", b"w", expected_mod_revision=1)
    await store.close()
    with sqlite3.connect(tmp_path / "kv.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        columns = "revision, key, value, created, deleted, create_revision, prev_revision"
        rows = conn.execute(f"SELECT {columns} FROM kv ORDER BY revision").fetchall()
    assert rows == [(1, "/k", b"v", 1, 0, 1, 0), (2, "/k", b"w", 0, 0, 1, 1)]


async def test_compaction_spanning_several_chunks_removes_every_superseded_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_module, "COMPACT_CHUNK", 7)
    store = await opened(tmp_path / "kv.db")
    try:
        rev = 0
        for i in range(10):
            rev = await store.create(f"/k/{i}", b"0")
            for n in range(3):
                rev = await store.update(f"/k/{i}", str(n + 1).encode(), expected_mod_revision=rev)
        for i in range(0, 10, 2):
            await store.delete(f"/k/{i}")
        await store.compact(store.current_revision())
        assert [(kv.key, kv.value) for kv in (await store.list("/k/")).items] == [
            (f"/k/{i}", b"3") for i in range(1, 10, 2)
        ]
    finally:
        await store.close()
    with sqlite3.connect(tmp_path / "kv.db") as conn:
        assert conn.execute("SELECT COUNT(*) FROM kv").fetchone() == (5,)


@pytest.mark.parametrize(
    "prefix, expected",
    [
        pytest.param("/registry/pods/", "/registry/pods0", id="the last character is incremented"),
        pytest.param("", None, id="the empty prefix has no upper bound"),
        pytest.param("a\U0010ffff", "b", id="maximal code points are dropped before incrementing"),
        pytest.param("\U0010ffff", None, id="a prefix of only maximal code points has no upper bound"),
        pytest.param("a\ud7ff", "a\ue000", id="the surrogate range is skipped"),
    ],
)
def test_prefix_end(prefix: str, expected: str | None) -> None:
    assert prefix_end(prefix) == expected
