"""Watcher fan-out shared by the storage backends: replay history, then follow live events.

Both backends have one writer that commits batches of writes in revision order, and both
must give each watcher every matching event exactly once, with no gap between the
history it replays and the live events it follows. :class:`WatchHub` does that in one
place, on the event loop:

- A backend calls :meth:`WatchHub.publish` with the events of each committed batch, in
  revision order, *before* it returns the writes to their callers (so a watcher has an
  event queued before the write that caused it returns).
- :meth:`WatchHub.watch` subscribes first, noting ``upto`` = the newest revision published
  so far; every later event reaches the subscription's queue. It then asks the backend to
  replay history in ``(after_revision, upto]`` and finally drains the queue. Publishing
  and subscribing both happen on the loop, so the two ranges meet exactly: no gaps, no
  duplicates, even while writes keep arriving during the replay.

Each subscription has an unbounded :class:`asyncio.Queue` of event batches: a slow
watcher costs memory, never write latency. (A bounded queue would have to end the watch
on overflow; the API server's watch cache is the only heavy consumer and keeps up, so we
prefer the simpler contract.) Batches, not single events, are queued to keep the per-write
cost on the loop at one ``put_nowait`` per interested watcher per commit.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence

from kubepy.storage.store import WatchEvent

#: Replays history: ``replay(prefix, after_revision, upto_revision)`` yields batches of the
#: events in ``(after_revision, upto_revision]`` whose key starts with ``prefix``, in
#: revision order; it raises Compacted if that history is gone.
Replay = Callable[[str, int, int], AsyncIterator[Sequence[WatchEvent]]]

_CLOSED: Sequence[WatchEvent] = []  # sentinel batch, compared by identity: the hub closed


class _Subscription:
    __slots__ = ("prefix", "queue")

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.queue: asyncio.Queue[Sequence[WatchEvent]] = asyncio.Queue()


class WatchHub:
    """Fans committed events out to live watchers. Loop-only: not thread-safe."""

    def __init__(self, revision: int = 0) -> None:
        #: The newest revision published (the backend's loop-visible current revision).
        self.revision = revision
        self._subs: set[_Subscription] = set()
        #: True once :meth:`close` ran: new watches end at once.
        self.closed = False

    def __len__(self) -> int:
        return len(self._subs)

    def publish(self, events: Sequence[WatchEvent]) -> None:
        """Queue ``events`` (one committed batch, in revision order) for every watcher."""
        if not events:
            return
        self.revision = events[-1].revision
        for sub in self._subs:
            prefix = sub.prefix
            if not prefix:
                sub.queue.put_nowait(events)
                continue
            matched = [e for e in events if e.key.startswith(prefix)]
            if matched:
                sub.queue.put_nowait(matched)

    def close(self) -> None:
        """End every watch (their iterators return) and refuse new ones."""
        self.closed = True
        for sub in self._subs:
            sub.queue.put_nowait(_CLOSED)
        self._subs.clear()

    async def watch(
        self, prefix: str, after_revision: int, replay: Replay
    ) -> AsyncGenerator[WatchEvent, None]:
        """Yield every event after ``after_revision`` under ``prefix``: history, then live."""
        if self.closed:
            return
        sub = _Subscription(prefix)
        self._subs.add(sub)
        try:
            upto = self.revision
            if after_revision < upto:
                async for batch in replay(prefix, after_revision, upto):
                    for event in batch:
                        yield event
            queue = sub.queue
            while True:
                batch = await queue.get()
                if batch is _CLOSED:
                    return
                for event in batch:
                    if event.revision > after_revision:
                        yield event
        finally:
            self._subs.discard(sub)
