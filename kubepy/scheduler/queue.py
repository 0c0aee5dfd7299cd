"""The scheduling queue: upstream's PriorityQueue (activeQ, backoffQ, unschedulablePods).

Job: hold every pod waiting for a scheduling attempt and hand them out one at a time.
- activeQ: pods ready to be tried, ordered by the profile's QueueSort plugin (PrioritySort:
  higher ``spec.priority`` first, then the earlier queue timestamp); ``await pop()`` takes
  the head.
- backoffQ: pods that failed recently, each waiting ``1 s * 2^(attempts-1)`` (capped at
  10 s) from its last failure before going back to activeQ.
- unschedulablePods: pods no node fits. They move back (to backoffQ while still backing
  off, else activeQ) when a cluster event arrives that one of the plugins that rejected
  them registered through EnqueueExtensions (a node added, a pod deleted, a label
  changed...), or after 5 minutes at the latest.
- PreEnqueue (SchedulingGates): a pod that fails it waits in unschedulablePods, "gated",
  until an update of the pod lets it pass.
- Nominated pods (preemption's ``nominatedNodeName``) are tracked per node, so Filter can
  count them on the node they are nominated to.

Design: one asyncio loop owns the queue, so no locks. activeQ and backoffQ are heaps with
lazy deletion (an entry is marked dead and skipped when it surfaces); pods are keyed
``namespace/name``. Time comes from an injected Clock; ``flush_backoff_completed`` and
``flush_unschedulable_leftover`` are public so tests drive them with a FakeClock, and
``run()`` calls them in the background (the backoff flush sleeps until the next pod's
back-off ends rather than polling each second). As upstream, a cluster event seen while
a pod is being scheduled (the ``move request cycle``) sends that pod to backoffQ rather
than unschedulablePods if it then fails, so the event is not lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kubepy.client.clock import REAL_CLOCK, Clock
from kubepy.scheduler.framework.interface import ClusterEvent, QueuedPodInfo, Status
from kubepy.scheduler.framework.nodeinfo import PodInfo

__all__ = [
    "SchedulingQueue",
    "Nominator",
    "event_matches",
    "pod_priority",
    "is_pod_updated",
    "UNSCHEDULABLE_TIMEOUT",
    "DEFAULT_POD_INITIAL_BACKOFF",
    "DEFAULT_POD_MAX_BACKOFF",
    "DEFAULT_MAX_IN_UNSCHEDULABLE",
]

log = logging.getLogger(__name__)

Obj = dict[str, Any]
Less = Callable[[QueuedPodInfo, QueuedPodInfo], bool]
PreEnqueue = Callable[[Obj], Status | None]

DEFAULT_POD_INITIAL_BACKOFF = 1.0
DEFAULT_POD_MAX_BACKOFF = 10.0
DEFAULT_MAX_IN_UNSCHEDULABLE = 300.0
UNSCHEDULABLE_FLUSH_PERIOD = 30.0
#: the wildcard event of the 5-minute flush (moves every unschedulable pod)
UNSCHEDULABLE_TIMEOUT = ClusterEvent("*", "UnschedulableTimeout")
WILDCARD_ACTIONS = frozenset({"*", "All"})


def pod_key(pod: Obj) -> str:
    meta = pod["metadata"]
    return f"{meta.get('namespace', '')}/{meta['name']}"


def pod_priority(pod: Obj) -> int:
    """``spec.priority`` (set by the Priority admission plugin), 0 when missing."""
    p = (pod.get("spec") or {}).get("priority")
    return int(p) if p is not None else 0


def event_matches(registered: ClusterEvent, event: ClusterEvent) -> bool:
    """Whether a plugin that registered ``registered`` cares about ``event``. ``*``/``All``
    match anything; ``Update`` matches every specific update (``UpdateNodeLabel``...) and a
    generic ``Update`` event matches every specific registration, as upstream's action bits."""
    if registered.resource not in ("*", event.resource) and event.resource != "*":
        return False
    a, b = registered.action, event.action
    if a == b or a in WILDCARD_ACTIONS or b in WILDCARD_ACTIONS:
        return True
    if a == "Update" and b.startswith("Update"):
        return True
    return b == "Update" and a.startswith("Update")


def is_pod_updated(old: Obj, new: Obj) -> bool:
    """Whether anything but status and bookkeeping metadata changed (upstream's isPodUpdated)."""
    if old is new:
        return False
    if old.get("spec") != new.get("spec"):
        return True
    om, nm = old.get("metadata") or {}, new.get("metadata") or {}
    ignored = ("resourceVersion", "generation", "managedFields", "finalizers")
    keys = (set(om) | set(nm)).difference(ignored)
    return any(om.get(k) != nm.get(k) for k in keys)


@dataclass(eq=False, slots=True)
class _Entry:
    """A heap slot; ``alive`` False means removed (skipped when popped)."""

    sort_key: Any
    seq: int
    info: QueuedPodInfo
    alive: bool = True
    less: Less | None = None

    def __lt__(self, other: _Entry) -> bool:
        if self.less is not None:
            if self.less(self.info, other.info):
                return True
            if self.less(other.info, self.info):
                return False
            return self.seq < other.seq
        if self.sort_key != other.sort_key:
            return bool(self.sort_key < other.sort_key)
        return self.seq < other.seq


class Nominator:
    """Pods nominated to nodes by preemption (``status.nominatedNodeName``)."""

    def __init__(self) -> None:
        self._by_node: dict[str, dict[str, PodInfo]] = {}
        self._node_of: dict[str, str] = {}

    def add(self, info: PodInfo, node_name: str | None) -> None:
        """Nominate ``info``'s pod to ``node_name``; None means "keep what its status says",
        "" means "clear"."""
        key = info.key
        self.delete(info.pod)
        if node_name is None:
            node_name = str((info.pod.get("status") or {}).get("nominatedNodeName") or "")
        if not node_name:
            return
        self._node_of[key] = node_name
        self._by_node.setdefault(node_name, {})[key] = info

    def delete(self, pod: Obj) -> None:
        key = pod_key(pod)
        node = self._node_of.pop(key, None)
        if node is None:
            return
        pods = self._by_node.get(node)
        if pods is not None:
            pods.pop(key, None)
            if not pods:
                del self._by_node[node]

    def update(self, old: Obj, new: Obj) -> None:
        """A pod update: keep a nomination made here unless the status now says otherwise."""
        key = pod_key(new)
        nnn = str((new.get("status") or {}).get("nominatedNodeName") or "")
        if not nnn and key in self._node_of and \
                not str((old.get("status") or {}).get("nominatedNodeName") or ""):
            nnn = self._node_of[key]  # nominated in this process; the status patch may lag
        self.add(PodInfo.of(new), nnn or None)

    def pods_for_node(self, node_name: str) -> list[PodInfo]:
        pods = self._by_node.get(node_name)
        return list(pods.values()) if pods else []

    def node_of(self, pod: Obj) -> str:
        return self._node_of.get(pod_key(pod), "")

    @property
    def by_node(self) -> Mapping[str, Mapping[str, PodInfo]]:
        """node -> pods nominated to it (read-only view; empty when nothing is nominated)."""
        return self._by_node


class SchedulingQueue:
    """activeQ + backoffQ + unschedulablePods, and the nominator."""

    def __init__(
        self,
        *,
        less: Less | None = None,
        pre_enqueue: PreEnqueue | None = None,
        events_to_plugins: Mapping[ClusterEvent, Iterable[str]] | None = None,
        clock: Clock = REAL_CLOCK,
        initial_backoff: float = DEFAULT_POD_INITIAL_BACKOFF,
        max_backoff: float = DEFAULT_POD_MAX_BACKOFF,
        max_in_unschedulable: float = DEFAULT_MAX_IN_UNSCHEDULABLE,
    ) -> None:
        self._less = less
        self._pre_enqueue = pre_enqueue
        self._events = [(ev, frozenset(names)) for ev, names in (events_to_plugins or {}).items()]
        self._clock = clock
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self.max_in_unschedulable = max_in_unschedulable
        self._seq = itertools.count()
        self._active: list[_Entry] = []
        self._active_by_key: dict[str, _Entry] = {}
        self._backoff: list[_Entry] = []  # sort_key = backoff expiry
        self._backoff_by_key: dict[str, _Entry] = {}
        self._unschedulable: dict[str, QueuedPodInfo] = {}
        self._gated: set[str] = set()
        self._in_flight: dict[str, QueuedPodInfo] = {}
        self._in_flight_updated: set[str] = set()
        self.scheduling_cycle = 0
        self._move_request_cycle = -1
        self._wakeup = asyncio.Event()
        self._backoff_wakeup = asyncio.Event()
        self._closed = False
        self.nominator = Nominator()

    # -- sizes (tests, metrics) ----------------------------------------------------------------

    def active_keys(self) -> list[str]:
        return [e.info.key for e in sorted(self._active) if e.alive]

    def backoff_keys(self) -> list[str]:
        return [e.info.key for e in sorted(self._backoff) if e.alive]

    def unschedulable_keys(self) -> list[str]:
        return sorted(self._unschedulable)

    def __len__(self) -> int:
        return len(self._active_by_key) + len(self._backoff_by_key) + len(self._unschedulable)

    def where(self, pod: Obj) -> str:
        """"active", "backoff", "unschedulable", "in-flight" or "" (tests and debugging)."""
        key = pod_key(pod)
        if key in self._active_by_key:
            return "active"
        if key in self._backoff_by_key:
            return "backoff"
        if key in self._unschedulable:
            return "unschedulable"
        if key in self._in_flight:
            return "in-flight"
        return ""

    def get(self, pod: Obj) -> QueuedPodInfo | None:
        key = pod_key(pod)
        for e in (self._active_by_key.get(key), self._backoff_by_key.get(key)):
            if e is not None:
                return e.info
        return self._unschedulable.get(key) or self._in_flight.get(key)

    # -- internals -----------------------------------------------------------------------------

    def _new_info(self, pod: Obj) -> QueuedPodInfo:
        return QueuedPodInfo(pod=pod, timestamp=self._clock.monotonic())

    def _sort_key(self, info: QueuedPodInfo) -> tuple[int, float]:
        return (-pod_priority(info.pod), info.timestamp)

    def _push_active(self, info: QueuedPodInfo) -> None:
        key = info.key
        old = self._active_by_key.get(key)
        if old is not None:
            old.alive = False
        entry = _Entry(None if self._less else self._sort_key(info), next(self._seq), info, less=self._less)
        heapq.heappush(self._active, entry)
        self._active_by_key[key] = entry
        self._wakeup.set()

    def _push_backoff(self, info: QueuedPodInfo) -> None:
        key = info.key
        old = self._backoff_by_key.pop(key, None)
        if old is not None:
            old.alive = False
        expiry = self._backoff_expiry(info)
        entry = _Entry(expiry, next(self._seq), info)
        was_first = not self._backoff_by_key or (self._backoff and expiry < self._backoff[0].sort_key)
        heapq.heappush(self._backoff, entry)
        self._backoff_by_key[key] = entry
        if was_first:
            self._backoff_wakeup.set()

    def _remove(self, key: str) -> QueuedPodInfo | None:
        entry = self._active_by_key.pop(key, None)
        if entry is not None:
            entry.alive = False
            return entry.info
        entry = self._backoff_by_key.pop(key, None)
        if entry is not None:
            entry.alive = False
            return entry.info
        self._gated.discard(key)
        return self._unschedulable.pop(key, None)

    def backoff_duration(self, info: QueuedPodInfo) -> float:
        """1 s, 2 s, 4 s ... capped at ``max_backoff``; 0 before the first attempt."""
        if info.attempts <= 0:
            return 0.0
        d = self.initial_backoff
        for _ in range(1, info.attempts):
            d *= 2
            if d >= self.max_backoff:
                return self.max_backoff
        return min(d, self.max_backoff)

    def _backoff_expiry(self, info: QueuedPodInfo) -> float:
        return info.timestamp + self.backoff_duration(info)

    def is_backing_off(self, info: QueuedPodInfo) -> bool:
        return self._backoff_expiry(info) > self._clock.monotonic()

    def _gate(self, info: QueuedPodInfo) -> bool:
        """Run PreEnqueue; a rejected pod is parked (gated) in unschedulablePods."""
        if self._pre_enqueue is None:
            return False
        status = self._pre_enqueue(info.pod)
        if status is None or status.ok:
            self._gated.discard(info.key)
            return False
        info.unschedulable_plugins = {status.plugin} if status.plugin else set()
        self._unschedulable[info.key] = info
        self._gated.add(info.key)
        return True

    def _move_to_active(self, info: QueuedPodInfo) -> bool:
        if self._gate(info):
            return False
        self._unschedulable.pop(info.key, None)
        self._push_active(info)
        return True

    def _requeue(self, info: QueuedPodInfo) -> None:
        """Back to the queues after an event: backoffQ while backing off, else activeQ."""
        key = info.key
        if key in self._gated:
            if self._gate(info):
                return
        self._unschedulable.pop(key, None)
        if self.is_backing_off(info):
            self._push_backoff(info)
        else:
            self._move_to_active(info)

    # -- informer-side API ---------------------------------------------------------------------

    def add(self, pod: Obj) -> None:
        """A new pending pod (or one seen again after a relist)."""
        key = pod_key(pod)
        if key in self._in_flight:
            return
        if self.get(pod) is not None:
            self.update(pod, pod)
            return
        info = self._new_info(pod)
        self._move_to_active(info)
        self.nominator.add(PodInfo.of(pod), None)

    def update(self, old: Obj | None, new: Obj) -> None:
        key = pod_key(new)
        if old is not None:
            self.nominator.update(old, new)
        else:
            self.nominator.add(PodInfo.of(new), None)
        changed = old is None or is_pod_updated(old, new)
        if key in self._in_flight:
            self._in_flight[key].pod = new
            if changed:
                self._in_flight_updated.add(key)
            return
        entry = self._active_by_key.get(key)
        if entry is not None:
            entry.info.pod = new
            if changed:  # re-sort: priority may have changed
                self._push_active(entry.info)
            return
        entry = self._backoff_by_key.get(key)
        if entry is not None:
            entry.info.pod = new
            return
        info = self._unschedulable.get(key)
        if info is not None:
            info.pod = new
            if changed:
                self._requeue(info)
            return
        info = self._new_info(new)
        self._move_to_active(info)

    def delete(self, pod: Obj) -> None:
        key = pod_key(pod)
        self._remove(key)
        self._in_flight.pop(key, None)
        self._in_flight_updated.discard(key)
        self.nominator.delete(pod)

    def activate(self, pods: Iterable[Obj]) -> None:
        """Move these pods from backoffQ/unschedulablePods to activeQ at once."""
        for pod in pods:
            key = pod_key(pod)
            info = self._unschedulable.get(key)
            if info is None:
                entry = self._backoff_by_key.pop(key, None)
                if entry is None:
                    continue
                entry.alive = False
                info = entry.info
            self._move_to_active(info)

    def move_all_to_active_or_backoff(
        self, event: ClusterEvent, pre_check: Callable[[Obj], bool] | None = None
    ) -> int:
        """A cluster event: move the unschedulable pods it may help; returns how many moved."""
        self._move_request_cycle = self.scheduling_cycle
        if not self._unschedulable:
            return 0
        wildcard = event.resource == "*"
        interested: set[str] = set()
        if not wildcard:
            for registered, names in self._events:
                if event_matches(registered, event):
                    interested |= names
            if not interested:
                return 0  # (only pods with a rejecting plugin wait in unschedulablePods)
        moved = 0
        for info in list(self._unschedulable.values()):
            if info.key in self._gated and not wildcard:
                continue
            if pre_check is not None and not pre_check(info.pod):
                continue
            rejectors = info.unschedulable_plugins | info.pending_plugins
            if wildcard or not rejectors or not rejectors.isdisjoint(interested):
                self._requeue(info)
                moved += 1
        return moved

    # -- scheduler-side API --------------------------------------------------------------------

    async def pop(self) -> QueuedPodInfo | None:
        """The next pod to schedule (waits while activeQ is empty); None once closed."""
        while True:
            if self._closed:
                return None
            while self._active:
                entry = heapq.heappop(self._active)
                if not entry.alive:
                    continue
                info = entry.info
                del self._active_by_key[info.key]
                info.attempts += 1
                if info.initial_attempt_timestamp is None:
                    info.initial_attempt_timestamp = self._clock.monotonic()
                self.scheduling_cycle += 1
                self._in_flight[info.key] = info
                return info
            self._wakeup.clear()
            await self._wakeup.wait()

    def add_unschedulable_if_not_present(self, info: QueuedPodInfo, pod_scheduling_cycle: int) -> None:
        """A pod that failed its attempt: to backoffQ (errors, or an event arrived meanwhile)
        or unschedulablePods (rejected by plugins)."""
        key = info.key
        updated = key in self._in_flight_updated
        self._in_flight.pop(key, None)
        self._in_flight_updated.discard(key)
        if key in self._active_by_key or key in self._backoff_by_key or key in self._unschedulable:
            return
        info.timestamp = self._clock.monotonic()
        rejectors = info.unschedulable_plugins | info.pending_plugins
        if self._gate(info):
            return
        if not rejectors or updated or self._move_request_cycle >= pod_scheduling_cycle:
            self._push_backoff(info)
        else:
            self._unschedulable[key] = info

    def done(self, pod: Obj) -> None:
        """The pod's attempt is over (bound, or given up); stop tracking it as in flight."""
        key = pod_key(pod)
        self._in_flight.pop(key, None)
        self._in_flight_updated.discard(key)

    def add_nominated_pod(self, info: PodInfo, node_name: str | None) -> None:
        self.nominator.add(info, node_name)

    def delete_nominated_pod_if_exists(self, pod: Obj) -> None:
        self.nominator.delete(pod)

    def nominated_pods_for_node(self, node_name: str) -> list[PodInfo]:
        return self.nominator.pods_for_node(node_name)

    # -- background flushes --------------------------------------------------------------------

    def flush_backoff_completed(self) -> int:
        """Move pods whose back-off has ended to activeQ; returns how many."""
        now = self._clock.monotonic()
        moved = 0
        while self._backoff:
            head = self._backoff[0]
            if not head.alive:
                heapq.heappop(self._backoff)
                continue
            if head.sort_key > now:
                break
            heapq.heappop(self._backoff)
            del self._backoff_by_key[head.info.key]
            if self._move_to_active(head.info):
                moved += 1
        return moved

    def next_backoff_expiry(self) -> float | None:
        while self._backoff and not self._backoff[0].alive:
            heapq.heappop(self._backoff)
        return float(self._backoff[0].sort_key) if self._backoff else None

    def flush_unschedulable_leftover(self) -> int:
        """Move pods that have waited ``max_in_unschedulable`` (5 min) in unschedulablePods."""
        now = self._clock.monotonic()
        stale = [i for k, i in self._unschedulable.items()
                 if k not in self._gated and now - i.timestamp > self.max_in_unschedulable]
        for info in stale:
            self._requeue(info)
        return len(stale)

    async def _backoff_loop(self) -> None:
        while not self._closed:
            self.flush_backoff_completed()
            expiry = self.next_backoff_expiry()
            self._backoff_wakeup.clear()
            if expiry is None:
                await self._backoff_wakeup.wait()
                continue
            delay = max(0.0, expiry - self._clock.monotonic())
            sleeper = asyncio.ensure_future(self._clock.sleep(delay))
            waker = asyncio.ensure_future(self._backoff_wakeup.wait())
            try:
                await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for t in (sleeper, waker):
                    t.cancel()
                await asyncio.gather(sleeper, waker, return_exceptions=True)

    async def _unschedulable_loop(self) -> None:
        while not self._closed:
            await self._clock.sleep(UNSCHEDULABLE_FLUSH_PERIOD)
            self.flush_unschedulable_leftover()

    async def run(self) -> None:
        """The background flushes, until cancelled or ``close()``."""
        tasks = [asyncio.ensure_future(self._backoff_loop()), asyncio.ensure_future(self._unschedulable_loop())]
        try:
            await asyncio.gather(*tasks)
        finally:
            for t in tasks:
                t.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(*tasks, return_exceptions=True)

    def close(self) -> None:
        """Wake ``pop()`` callers with None and stop the flushes."""
        self._closed = True
        self._wakeup.set()
        self._backoff_wakeup.set()
