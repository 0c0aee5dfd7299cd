"""In-memory Store: the same semantics as the SQLite store, for tests and throw-away clusters.

Design: a miniature of the SQLite store's log. Every key keeps its rows (revision, value,
create_revision, deleted) in revision order, so ``list(revision=R)`` is a bisect per key;
live and deleted keys share one sorted key list, so prefix scans are a bisect plus a walk.
A global event log (what watches replay) sits beside it. Compaction drops, per key, every
row superseded at or below the compacted revision, tombstones included, and trims the
event log: exactly what the SQLite store does to its table. It only visits keys written
more than once since they were last compacted, so it stays cheap with many quiet keys.

Every method runs to completion on the event loop without awaiting, so each one is
atomic with respect to the others; watchers are fed through the shared
:class:`~kubepy.storage._watchers.WatchHub` before a write returns.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from typing import NamedTuple

from kubepy.storage._watchers import WatchHub
from kubepy.storage.errors import Compacted, Conflict, KeyExists, KeyNotFound, StorageError
from kubepy.storage.store import EventType, KeyValue, ListResult, WatchEvent

__all__ = ["MemoryStore"]


class _Row(NamedTuple):
    revision: int
    value: bytes
    create_revision: int
    deleted: bool


# Module-level alias: inside the class, ``list`` is the method.
_Rows = list[_Row]


def _row_revision(row: _Row) -> int:
    return row.revision


def _event_revision(event: WatchEvent) -> int:
    return event.revision


class MemoryStore:
    """A revisioned key-value store held in memory; see :mod:`kubepy.storage.store`."""

    def __init__(self) -> None:
        self._rows: dict[str, list[_Row]] = {}
        self._keys: list[str] = []  # sorted; every key that has rows (live or deleted)
        self._dirty: set[str] = set()  # keys with history compaction may drop (>1 row or a tombstone)
        self._log: list[WatchEvent] = []  # events after the compacted revision
        self._revision = 0
        self._compacted = 0
        self._hub = WatchHub()

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Nothing to open; after :meth:`close` it accepts watches again."""
        if self._hub.closed:
            self._hub = WatchHub(self._revision)

    async def close(self) -> None:
        """End every watch; the data stays (a new :meth:`start` serves it again)."""
        self._hub.close()

    # -- reads -------------------------------------------------------------------------

    async def get(self, key: str) -> KeyValue | None:
        rows = self._rows.get(key)
        if not rows:
            return None
        row = rows[-1]
        if row.deleted:
            return None
        return KeyValue(key, row.value, row.revision, row.create_revision)

    async def list(
        self,
        prefix: str,
        *,
        revision: int | None = None,
        limit: int | None = None,
        start_after: str | None = None,
    ) -> ListResult:
        at = self._check_read_revision(revision)
        keys = self._keys
        start = bisect_left(keys, prefix)
        if start_after is not None:
            start = max(start, bisect_right(keys, start_after))
        items: list[KeyValue] = []
        remaining = 0
        current = at == self._revision
        for i in range(start, len(keys)):
            key = keys[i]
            if not key.startswith(prefix):
                break
            row = self._row_at(self._rows[key], at, current)
            if row is None or row.deleted:
                continue
            if limit is not None and len(items) >= limit:
                remaining += 1
                continue
            items.append(KeyValue(key, row.value, row.revision, row.create_revision))
        return ListResult(items=items, revision=at, remaining=remaining)

    async def count(self, prefix: str) -> int:
        keys = self._keys
        n = 0
        for i in range(bisect_left(keys, prefix), len(keys)):
            key = keys[i]
            if not key.startswith(prefix):
                break
            if not self._rows[key][-1].deleted:
                n += 1
        return n

    # -- writes ------------------------------------------------------------------------

    async def create(self, key: str, value: bytes) -> int:
        rows = self._rows.get(key)
        if rows and not rows[-1].deleted:
            raise KeyExists(key)
        revision = self._revision + 1
        row = _Row(revision, value, revision, False)
        if rows is None:
            self._rows[key] = [row]
            insort(self._keys, key)
        else:
            rows.append(row)
            self._dirty.add(key)
        self._commit(WatchEvent(EventType.ADDED, key, value, None, revision))
        return revision

    async def update(self, key: str, value: bytes, *, expected_mod_revision: int | None) -> int:
        rows, current = self._live(key, expected_mod_revision)
        revision = self._revision + 1
        rows.append(_Row(revision, value, current.create_revision, False))
        self._dirty.add(key)
        self._commit(WatchEvent(EventType.MODIFIED, key, value, current.value, revision))
        return revision

    async def delete(self, key: str, *, expected_mod_revision: int | None = None) -> int:
        rows, current = self._live(key, expected_mod_revision)
        revision = self._revision + 1
        rows.append(_Row(revision, current.value, current.create_revision, True))
        self._dirty.add(key)
        self._commit(WatchEvent(EventType.DELETED, key, current.value, current.value, revision))
        return revision

    # -- watch -------------------------------------------------------------------------

    def watch(self, prefix: str, after_revision: int) -> AsyncGenerator[WatchEvent, None]:
        """Replay events after ``after_revision`` under ``prefix``, then follow live writes.

        Raises Compacted right here (not at the first ``anext``) when that history is gone,
        and StorageError after :meth:`close` (which ends live watches).
        """
        if self._hub.closed:
            raise StorageError("store is closed")
        if after_revision < self._compacted:
            raise Compacted(requested=after_revision, compacted=self._compacted)
        return self._hub.watch(prefix, after_revision, self._replay)

    async def _replay(self, prefix: str, after: int, upto: int) -> AsyncIterator[Sequence[WatchEvent]]:
        # Runs without awaiting between the hub's subscription and this slice, so no write
        # or compaction can slip in between.
        if after < self._compacted:
            raise Compacted(requested=after, compacted=self._compacted)
        log = self._log
        lo = bisect_right(log, after, key=_event_revision)
        hi = bisect_right(log, upto, key=_event_revision)
        yield [e for e in log[lo:hi] if e.key.startswith(prefix)]

    # -- compaction --------------------------------------------------------------------

    async def compact(self, revision: int) -> None:
        """Forget history at and below ``revision``; a no-op if already compacted that far.

        Raises ValueError for a revision that has not been written yet.
        """
        if revision <= self._compacted:
            return
        if revision > self._revision:
            raise ValueError(f"cannot compact to future revision {revision} (current {self._revision})")
        emptied: list[str] = []
        still_dirty: set[str] = set()
        for key in self._dirty:
            rows = self._rows[key]
            cut = bisect_right(rows, revision, key=_row_revision)
            if cut:
                # Keep the newest row at or below the revision unless it is a tombstone.
                del rows[: cut if rows[cut - 1].deleted else cut - 1]
            if not rows:
                emptied.append(key)
            elif len(rows) > 1 or rows[0].deleted:
                still_dirty.add(key)
        self._dirty = still_dirty
        if emptied:
            for key in emptied:
                del self._rows[key]
            gone = set(emptied)
            self._keys = [k for k in self._keys if k not in gone]
        del self._log[: bisect_right(self._log, revision, key=_event_revision)]
        self._compacted = revision

    async def compact_older_than(self, keep_revisions: int) -> int:
        """Compact all but the newest ``keep_revisions`` revisions; return the compacted revision."""
        target = self._revision - keep_revisions
        if target > self._compacted:
            await self.compact(target)
        return self._compacted

    def current_revision(self) -> int:
        return self._revision

    def compacted_revision(self) -> int:
        return self._compacted

    # -- internals ---------------------------------------------------------------------

    def _check_read_revision(self, revision: int | None) -> int:
        if revision is None or revision == self._revision:
            return self._revision
        if revision < self._compacted:
            raise Compacted(requested=revision, compacted=self._compacted)
        if revision > self._revision:
            raise ValueError(f"revision {revision} is in the future (current {self._revision})")
        return revision

    @staticmethod
    def _row_at(rows: _Rows, revision: int, current: bool) -> _Row | None:
        if current:
            return rows[-1]
        i = bisect_right(rows, revision, key=_row_revision)
        return rows[i - 1] if i else None

    def _live(self, key: str, expected: int | None) -> tuple[_Rows, _Row]:
        rows = self._rows.get(key)
        if not rows or rows[-1].deleted:
            raise KeyNotFound(key)
        current = rows[-1]
        if expected is not None and expected != current.revision:
            raise Conflict(key, expected=expected, actual=current.revision)
        return rows, current

    def _commit(self, event: WatchEvent) -> None:
        self._revision = event.revision
        self._log.append(event)
        self._hub.publish((event,))
