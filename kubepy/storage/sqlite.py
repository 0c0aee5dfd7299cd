"""SQLite Store: the embedded default backend, a log-structured table in one file (like kine).

Layout. Table ``kv`` holds one row per write: ``(revision INTEGER PRIMARY KEY, key, value,
created, deleted, create_revision, prev_revision)`` with an index on ``(key, revision,
deleted)`` (``deleted`` rides along so counts and as-of-R lookups never read the values).
A key's current value is its newest row unless that row is a deletion tombstone (which
carries the last value, so DELETED events can be replayed). ``prev_revision`` points at the
row a write replaced, which gives replayed events their ``prev_value``. Table ``meta`` keeps
the compacted revision. The current revision is ``max(max(revision), compacted)``, so it
survives restarts even when compaction removed the newest rows.

Threads. SQLite never runs on the event loop. One *writer* thread owns the only write
connection and takes operations from a queue; it drains every pending operation into one
transaction (group commit), decides each compare-and-swap in order inside it, commits, and
hands the batch back to the loop with a single ``call_soon_threadsafe``. On the loop the
batch's events go to the watchers first and only then are the writers' futures resolved,
so a watcher always has an event before the write returns. A second *reader* thread owns
a read connection (WAL lets it read while the writer writes) and serves get/list/count and
watch replays, also in batches. A create therefore costs the loop one future, one queue
put and a share of one wake-up. As with etcd, a write whose caller is cancelled after it
was queued may still commit. Watchers get unbounded queues (see ``_watchers``).

Durability. WAL with ``synchronous=NORMAL``: a commit is a ``write()`` to the WAL file
before the write is acknowledged, so it survives the death of the process (``kill -9``);
only a power loss or kernel crash can lose the newest commits (never corrupting the file).
Pass ``synchronous="FULL"`` to fsync every group commit instead.

Ownership. The store is the only writer of its file: the revision counter lives in the
writer thread. A lock file (``<path>.lock``, ``flock``) refuses a second store on the same
file, in this process or another.
"""

from __future__ import annotations

import asyncio
import fcntl
import functools
import os
import queue
import sqlite3
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from typing import Any, Final, TypeVar

from kubepy.storage._watchers import WatchHub
from kubepy.storage.errors import Compacted, Conflict, KeyExists, KeyNotFound, StorageError
from kubepy.storage.store import EventType, KeyValue, ListResult, WatchEvent

__all__ = ["SQLiteStore"]

T = TypeVar("T")

#: Most operations folded into one transaction.
MAX_BATCH: Final = 1000
#: Rows per page when a watch replays history.
REPLAY_PAGE: Final = 1000
#: Revisions per compaction transaction (writes interleave between them).
COMPACT_CHUNK: Final = 10_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (
    revision INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    value BLOB NOT NULL,
    created INTEGER NOT NULL,
    deleted INTEGER NOT NULL,
    create_revision INTEGER NOT NULL,
    prev_revision INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS kv_key_revision ON kv (key, revision, deleted);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""

_SELECT_LATEST = (
    "SELECT revision, create_revision, deleted, value FROM kv WHERE key = ? ORDER BY revision DESC LIMIT 1"
)
_INSERT = (
    "INSERT INTO kv (revision, key, value, created, deleted, create_revision, prev_revision)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_SELECT_HEAD = "SELECT (SELECT MAX(revision) FROM kv), (SELECT value FROM meta WHERE name = 'compacted')"
_SET_COMPACTED = "INSERT OR REPLACE INTO meta (name, value) VALUES ('compacted', ?)"
# Order matters: drop the rows that writes in the range replaced, then the range's tombstones.
_COMPACT_SUPERSEDED = (
    "DELETE FROM kv WHERE revision IN"
    " (SELECT prev_revision FROM kv WHERE revision > ? AND revision <= ? AND prev_revision > 0)"
)
_COMPACT_TOMBSTONES = "DELETE FROM kv WHERE revision > ? AND revision <= ? AND deleted = 1"

_CREATE: Final = 1
_UPDATE: Final = 2
_DELETE: Final = 3
_CALL: Final = 4  # run fn(conn) inside the batch transaction
_STOP: Final = 5

# A queued operation: (kind, key, value, expected_mod_revision or callable, future).
_Op = tuple[int, str, bytes, Any, "asyncio.Future[Any] | None"]
# A finished operation: (future, result or exception).
_Done = tuple["asyncio.Future[Any]", Any]


def prefix_end(prefix: str) -> str | None:
    """The smallest string greater than every string starting with ``prefix`` (None: no bound)."""
    chars = list(prefix)
    while chars:
        code = ord(chars[-1]) + 1
        if code <= 0x10FFFF:
            if 0xD800 <= code <= 0xDFFF:  # surrogates are not valid in UTF-8 keys
                code = 0xE000
            chars[-1] = chr(code)
            return "".join(chars)
        chars.pop()
    return None


@functools.cache
def _range_sql(*, after_key: bool, upper: bool) -> str:
    """WHERE terms selecting keys under a prefix (optionally after a key); 1-2 parameters."""
    lower = "key > ?" if after_key else "key >= ?"
    return f"{lower} AND key < ?" if upper else lower


class _Worker:
    """A thread owning one SQLite connection, fed by a queue, answering the loop in batches."""

    def __init__(self, name: str, path: str, loop: asyncio.AbstractEventLoop, *, synchronous: str) -> None:
        self.loop = loop
        self.path = path
        self.synchronous = synchronous
        self.queue: queue.SimpleQueue[_Op] = queue.SimpleQueue()
        self.stopped: asyncio.Future[None] = loop.create_future()
        self.ready: asyncio.Future[Any] = loop.create_future()
        self.thread = threading.Thread(target=self._main, name=name, daemon=True)

    def connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=30.0)
        # Only takes effect when the file is new: 8 KiB pages hold three 2 KiB objects
        # where 4 KiB pages hold one (files a third smaller, cold lists ~2x faster).
        conn.execute("PRAGMA page_size=8192")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={self.synchronous}")
        conn.execute("PRAGMA temp_store=MEMORY")
        conn.execute("PRAGMA cache_size=-32768")  # 32 MiB
        return conn

    def setup(self, conn: sqlite3.Connection) -> Any:
        return None

    def run_batch(self, conn: sqlite3.Connection, batch: list[_Op]) -> None:
        raise NotImplementedError

    def post(self, callback: Callable[..., None], *args: Any) -> None:
        try:
            self.loop.call_soon_threadsafe(callback, *args)
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            pass

    def _main(self) -> None:
        conn: sqlite3.Connection | None = None
        try:
            try:
                conn = self.connect()
                info = self.setup(conn)
            except BaseException as exc:  # noqa: BLE001 - handed to start()
                self.post(_resolve, self.ready, exc)
                return
            self.post(_resolve, self.ready, info)
            get = self.queue.get
            get_nowait = self.queue.get_nowait
            while True:
                batch = [get()]
                while len(batch) < MAX_BATCH:
                    try:
                        batch.append(get_nowait())
                    except queue.Empty:
                        break
                stop = batch[-1][0] == _STOP
                if stop:
                    batch.pop()  # close() queues nothing after its stop
                if batch:
                    try:
                        self.run_batch(conn, batch)
                    except Exception as exc:  # noqa: BLE001 - a bug must not strand the callers
                        self.post(_resolve_all, _failed(batch, exc))
                if stop:
                    return
        finally:
            if conn is not None:
                conn.close()
            self.post(_resolve, self.stopped, None)


def _resolve(fut: asyncio.Future[Any], result: Any) -> None:
    if fut.done():
        return
    if isinstance(result, BaseException):
        fut.set_exception(result)
    else:
        fut.set_result(result)


def _resolve_all(done: list[_Done]) -> None:
    for fut, result in done:
        _resolve(fut, result)


def _failed(batch: list[_Op], exc: Exception) -> list[_Done]:
    """Every operation of ``batch`` failed with ``exc`` (one StorageError each)."""
    done: list[_Done] = []
    for op in batch:
        if op[4] is not None:
            error = StorageError(f"sqlite failed: {exc}")
            error.__cause__ = exc
            done.append((op[4], error))
    return done


class _Reader(_Worker):
    """Runs ``fn(conn, *args)`` for each queued read; answers a whole batch at once."""

    def connect(self) -> sqlite3.Connection:
        conn = super().connect()
        conn.execute("PRAGMA query_only=1")
        conn.execute("PRAGMA cache_size=-65536")  # 64 MiB: lists read every value
        return conn

    def run_batch(self, conn: sqlite3.Connection, batch: list[_Op]) -> None:
        done: list[_Done] = []
        for _, _, _, call, fut in batch:
            fn, args = call
            try:
                result = fn(conn, *args)
            except Exception as exc:  # noqa: BLE001 - returned to the caller
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                result = (
                    exc
                    if isinstance(exc, (StorageError, ValueError))
                    else StorageError(f"sqlite read failed: {exc}")
                )
            assert fut is not None
            done.append((fut, result))
        self.post(_resolve_all, done)


class _Writer(_Worker):
    """Group-commits queued writes; owns the revision counter."""

    def __init__(
        self,
        name: str,
        path: str,
        loop: asyncio.AbstractEventLoop,
        *,
        synchronous: str,
        deliver: Callable[[list[WatchEvent], list[_Done]], None],
    ) -> None:
        super().__init__(name, path, loop, synchronous=synchronous)
        self.deliver = deliver
        self.revision = 0

    def setup(self, conn: sqlite3.Connection) -> tuple[int, int]:
        conn.executescript(_SCHEMA)
        newest, compacted = conn.execute(_SELECT_HEAD).fetchone()
        compacted = compacted or 0
        self.revision = max(newest or 0, compacted)
        return self.revision, compacted

    def run_batch(self, conn: sqlite3.Connection, batch: list[_Op]) -> None:
        events: list[WatchEvent] = []
        done: list[_Done] = []
        start = self.revision
        rev = start
        execute = conn.execute
        try:
            execute("BEGIN IMMEDIATE")
            for kind, key, value, arg, fut in batch:
                assert fut is not None
                if kind == _CALL:
                    done.append((fut, arg(conn)))
                    continue
                row = execute(_SELECT_LATEST, (key,)).fetchone()
                live = row is not None and not row[2]
                if kind == _CREATE:
                    if live:
                        done.append((fut, KeyExists(key)))
                        continue
                    rev += 1
                    execute(_INSERT, (rev, key, value, 1, 0, rev, 0))
                    events.append(WatchEvent(EventType.ADDED, key, value, None, rev))
                else:
                    if not live:
                        done.append((fut, KeyNotFound(key)))
                        continue
                    if arg is not None and arg != row[0]:
                        done.append((fut, Conflict(key, expected=arg, actual=row[0])))
                        continue
                    rev += 1
                    if kind == _UPDATE:
                        execute(_INSERT, (rev, key, value, 0, 0, row[1], row[0]))
                        events.append(WatchEvent(EventType.MODIFIED, key, value, row[3], rev))
                    else:
                        execute(_INSERT, (rev, key, row[3], 0, 1, row[1], row[0]))
                        events.append(WatchEvent(EventType.DELETED, key, row[3], row[3], rev))
                done.append((fut, rev))
            execute("COMMIT")
        except Exception as exc:  # noqa: BLE001 - the whole batch fails together
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            events = []
            done = _failed(batch, exc)
            rev = start
        self.revision = rev
        self.post(self.deliver, events, done)


class SQLiteStore:
    """A revisioned key-value store in one SQLite file; see :mod:`kubepy.storage.store`."""

    def __init__(self, path: str | os.PathLike[str], *, synchronous: str = "NORMAL") -> None:
        if synchronous not in ("NORMAL", "FULL"):
            raise ValueError("synchronous must be NORMAL or FULL")
        self.path = os.fspath(path)
        self._synchronous = synchronous
        self._writer: _Writer | None = None
        self._reader: _Reader | None = None
        self._lock_fd: int | None = None
        self._hub = WatchHub()
        self._compacted = 0
        self._compact_lock = asyncio.Lock()
        self._start_lock = asyncio.Lock()

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Open the file (creating it), read the revisions back, start both threads."""
        async with self._start_lock:
            if self._writer is None:
                await self._start()

    async def _start(self) -> None:
        loop = asyncio.get_running_loop()
        self._lock_fd = self._take_file_lock()
        writer = _Writer(
            "sqlite-writer", self.path, loop, synchronous=self._synchronous, deliver=self._deliver
        )
        reader = _Reader("sqlite-reader", self.path, loop, synchronous=self._synchronous)
        try:
            writer.thread.start()
            revision, compacted = await writer.ready
            reader.thread.start()
            await reader.ready
        except BaseException:
            for worker in (writer, reader):
                if worker.thread.is_alive():
                    worker.queue.put((_STOP, "", b"", None, None))
                    await asyncio.shield(worker.stopped)
            self._release_file_lock()
            raise
        self._writer, self._reader = writer, reader
        self._hub = WatchHub(revision)
        self._compacted = compacted

    async def close(self) -> None:
        """Finish queued work, stop both threads, end every watch. Idempotent."""
        writer, reader = self._writer, self._reader
        if writer is None or reader is None:
            return
        self._writer = self._reader = None
        for worker in (writer, reader):
            worker.queue.put((_STOP, "", b"", None, None))
        await asyncio.gather(writer.stopped, reader.stopped)
        self._hub.close()
        self._release_file_lock()

    def _take_file_lock(self) -> int:
        fd = os.open(self.path + ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise StorageError(f"{self.path} is already open by another store") from None
        return fd

    def _release_file_lock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing drops the flock
            self._lock_fd = None

    # -- plumbing ----------------------------------------------------------------------

    def _write(self, kind: int, key: str, value: bytes, arg: Any) -> asyncio.Future[Any]:
        writer = self._writer
        if writer is None:
            raise StorageError("store is not started")
        fut: asyncio.Future[Any] = writer.loop.create_future()
        writer.queue.put((kind, key, value, arg, fut))
        return fut

    def _read(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        reader = self._reader
        if reader is None:
            raise StorageError("store is not started")
        fut: asyncio.Future[T] = reader.loop.create_future()
        reader.queue.put((_CALL, "", b"", (fn, args), fut))
        return fut

    def _deliver(self, events: list[WatchEvent], done: list[_Done]) -> None:
        # On the loop: watchers first, then the writers (the Store contract's ordering).
        self._hub.publish(events)
        _resolve_all(done)

    # -- reads -------------------------------------------------------------------------

    async def get(self, key: str) -> KeyValue | None:
        return await self._read(_get, key)

    async def list(
        self,
        prefix: str,
        *,
        revision: int | None = None,
        limit: int | None = None,
        start_after: str | None = None,
    ) -> ListResult:
        if revision is not None and revision < self._compacted:
            raise Compacted(requested=revision, compacted=self._compacted)
        if limit is not None and limit < 0:
            raise ValueError("limit must not be negative")
        return await self._read(_list, prefix, revision, limit, start_after)

    async def count(self, prefix: str) -> int:
        return await self._read(_count, prefix)

    # -- writes ------------------------------------------------------------------------

    async def create(self, key: str, value: bytes) -> int:
        rev: int = await self._write(_CREATE, key, value, None)
        return rev

    async def update(self, key: str, value: bytes, *, expected_mod_revision: int | None) -> int:
        rev: int = await self._write(_UPDATE, key, value, expected_mod_revision)
        return rev

    async def delete(self, key: str, *, expected_mod_revision: int | None = None) -> int:
        rev: int = await self._write(_DELETE, key, b"", expected_mod_revision)
        return rev

    # -- watch -------------------------------------------------------------------------

    def watch(self, prefix: str, after_revision: int) -> AsyncGenerator[WatchEvent, None]:
        """Replay events after ``after_revision`` under ``prefix``, then follow live writes.

        Raises Compacted right here when the history is known to be gone, and from the
        iterator if a compaction overtakes the replay; StorageError when the store is not
        open. :meth:`close` ends live watches (their iterators return). Close the iterator (``aclose``) when
        done with it, or the subscription lives until it is garbage-collected.
        """
        if self._writer is None:
            raise StorageError("store is not started")
        if after_revision < self._compacted:
            raise Compacted(requested=after_revision, compacted=self._compacted)
        return self._hub.watch(prefix, after_revision, self._replay)

    async def _replay(self, prefix: str, after: int, upto: int) -> AsyncIterator[Sequence[WatchEvent]]:
        cursor: int | None = after
        while cursor is not None and cursor < upto:
            if self._reader is None:
                return  # closed mid-replay: the hub ends the watch
            events, cursor = await self._read(_events, prefix, cursor, upto)
            if events:
                yield events

    # -- compaction --------------------------------------------------------------------

    async def compact(self, revision: int) -> None:
        """Forget history at and below ``revision``; a no-op if already compacted that far.

        The compacted revision is recorded first (older reads fail from then on), then the
        superseded rows are deleted in chunks so that writes go on between them.
        Raises ValueError for a revision that has not been written yet.
        """
        async with self._compact_lock:
            start = self._compacted
            if revision <= start:
                return
            if revision > self.current_revision():
                raise ValueError(
                    f"cannot compact to future revision {revision} (current {self.current_revision()})"
                )
            await self._write(_CALL, "", b"", functools.partial(_set_compacted, revision=revision))
            self._compacted = revision
            for lo in range(start, revision, COMPACT_CHUNK):
                hi = min(lo + COMPACT_CHUNK, revision)
                await self._write(_CALL, "", b"", functools.partial(_compact_range, lo=lo, hi=hi))

    async def compact_older_than(self, keep_revisions: int) -> int:
        """Compact all but the newest ``keep_revisions`` revisions; return the compacted revision.

        Meant to be called periodically (the API server does, like kube-apiserver's
        compaction loop); cheap when there is nothing to do.
        """
        if keep_revisions < 0:
            raise ValueError("keep_revisions must not be negative")
        target = self.current_revision() - keep_revisions
        if target > self._compacted:
            await self.compact(target)
        return self._compacted

    def current_revision(self) -> int:
        return self._hub.revision

    def compacted_revision(self) -> int:
        return self._compacted


# -- work done in the threads -----------------------------------------------------------


def _set_compacted(conn: sqlite3.Connection, *, revision: int) -> None:
    conn.execute(_SET_COMPACTED, (revision,))


def _compact_range(conn: sqlite3.Connection, *, lo: int, hi: int) -> None:
    conn.execute(_COMPACT_SUPERSEDED, (lo, hi))
    conn.execute(_COMPACT_TOMBSTONES, (lo, hi))


def _get(conn: sqlite3.Connection, key: str) -> KeyValue | None:
    row = conn.execute(_SELECT_LATEST, (key,)).fetchone()
    if row is None or row[2]:
        return None
    return KeyValue(key, row[3], row[0], row[1])


def _head(conn: sqlite3.Connection) -> tuple[int, int]:
    """(current revision, compacted revision) as this read transaction sees them."""
    newest, compacted = conn.execute(_SELECT_HEAD).fetchone()
    compacted = compacted or 0
    return max(newest or 0, compacted), compacted


@functools.cache
def _list_sql(*, after_key: bool, upper: bool) -> tuple[str, str]:
    """(items, count) queries for the live keys in a key range as of a revision.

    A key's row as of R is its newest row at or below R; the correlated form walks the
    ``(key, revision, deleted)`` index in key order, so results come out sorted with no
    temporary b-tree and ``LIMIT`` stops the walk early (pagination stays cheap).
    """
    where = (
        f"{_range_sql(after_key=after_key, upper=upper)} AND deleted = 0"
        " AND revision = (SELECT MAX(i.revision) FROM kv AS i WHERE i.key = kv.key AND i.revision <= ?)"
    )
    items = f"SELECT key, value, revision, create_revision FROM kv WHERE {where} ORDER BY key LIMIT ?"
    count = f"SELECT COUNT(*) FROM kv WHERE {where}"
    return items, count


def _list(
    conn: sqlite3.Connection, prefix: str, revision: int | None, limit: int | None, start_after: str | None
) -> ListResult:
    conn.execute("BEGIN")
    try:
        current, compacted = _head(conn)
        at = current if revision is None else revision
        if at < compacted:
            raise Compacted(requested=at, compacted=compacted)
        if at > current:
            raise ValueError(f"revision {at} is in the future (current {current})")
        after_key = start_after is not None and start_after >= prefix
        lower = start_after if start_after is not None and after_key else prefix
        end = prefix_end(prefix)
        items_sql, count_sql = _list_sql(after_key=after_key, upper=end is not None)
        bounds = (lower,) if end is None else (lower, end)
        rows = conn.execute(items_sql, (*bounds, at, -1 if limit is None else limit)).fetchall()
        items = [KeyValue(k, v, r, c) for k, v, r, c in rows]
        remaining = 0
        if limit is not None and len(items) == limit and items:
            last = items[-1].key
            rest_bounds = (last, end) if end is not None else (last,)
            rest_sql = _list_sql(after_key=True, upper=end is not None)[1]
            remaining = conn.execute(rest_sql, (*rest_bounds, at)).fetchone()[0]
        elif limit == 0:
            remaining = conn.execute(count_sql, (*bounds, at)).fetchone()[0]
    finally:
        conn.execute("COMMIT")
    return ListResult(items=items, revision=at, remaining=remaining)


def _count(conn: sqlite3.Connection, prefix: str) -> int:
    end = prefix_end(prefix)
    count_sql = _list_sql(after_key=False, upper=end is not None)[1]
    bounds = (prefix, end) if end is not None else (prefix,)
    count: int = conn.execute(count_sql, (*bounds, 1 << 62)).fetchone()[0]
    return count


@functools.cache
def _events_sql(*, filtered: bool, upper: bool) -> str:
    where = "kv.revision > ? AND kv.revision <= ?"
    if filtered:
        where += " AND kv.key >= ?" + (" AND kv.key < ?" if upper else "")
    return (
        "SELECT kv.revision, kv.key, kv.value, kv.created, kv.deleted, p.value"
        " FROM kv LEFT JOIN kv AS p ON p.revision = kv.prev_revision"
        f" WHERE {where} ORDER BY kv.revision LIMIT {REPLAY_PAGE}"
    )


def _events(
    conn: sqlite3.Connection, prefix: str, after: int, upto: int
) -> tuple[list[WatchEvent], int | None]:
    """One page of history in ``(after, upto]`` under ``prefix`` and where the next starts."""
    conn.execute("BEGIN")
    try:
        _, compacted = _head(conn)
        if after < compacted:
            raise Compacted(requested=after, compacted=compacted)
        end = prefix_end(prefix) if prefix else None
        params: tuple[Any, ...] = (after, upto)
        if prefix:
            params += (prefix,) if end is None else (prefix, end)
        rows = conn.execute(_events_sql(filtered=bool(prefix), upper=end is not None), params).fetchall()
    finally:
        conn.execute("COMMIT")
    events = []
    for revision, key, value, created, deleted, prev in rows:
        if deleted:
            events.append(
                WatchEvent(EventType.DELETED, key, value, value if prev is None else prev, revision)
            )
        elif created:
            events.append(WatchEvent(EventType.ADDED, key, value, None, revision))
        else:
            events.append(WatchEvent(EventType.MODIFIED, key, value, prev, revision))
    cursor = rows[-1][0] if len(rows) == REPLAY_PAGE else None
    return events, cursor
