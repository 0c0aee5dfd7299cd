"""The Scheduler: informers feed the queue and the cache; one loop schedules pod after pod.

Job: watch pods and nodes; queue every pending pod whose ``spec.schedulerName`` is one of
the profiles'; and for each popped pod run one scheduling cycle (upstream's
schedule_one.go): refresh the snapshot, PreFilter/Filter over a sample of nodes,
PreScore/Score, pick the host; if nothing fits, PostFilter (preemption), then mark the pod
unschedulable — PodScheduled=False with reason Unschedulable and upstream's
"0/3 nodes are available: ..." message, a FailedScheduling event — and requeue it. A pod
that fits is assumed in the cache, reserved and permitted, and its binding cycle
(PreBind, Bind = POST pods/binding, PostBind, the "Scheduled" event) runs as its own
asyncio task while the loop moves on to the next pod. A failed binding unreserves,
forgets the assumed pod and requeues it.

Design:
- One pod informer (all non-terminal pods) feeds both sides, as upstream's filtering
  handlers: assigned pods go to the cache, unassigned pods of our profiles to the queue;
  a pod that turns assigned leaves the queue. Nodes go to the cache. Their changes are
  turned into cluster events (Node/Add, Node/UpdateNodeLabel, Pod/Delete, ...) that move
  unschedulable pods back.
- The Scheduler is the frameworks' services (FrameworkServices): the client, the snapshot
  of the running cycle, informer-backed listers for anything else plugins read
  (PriorityClasses, PDBs...) and the nominated pods.
- Binding tasks are capped (``max_binding_tasks``): when that many are in flight, the loop
  waits for one to finish, which bounds memory and applies back-pressure to the API.
- Status patches for unschedulable pods are written in the background, and only when the
  condition (or nominatedNodeName) actually changes, as upstream's updatePod.
- The loop yields to the event loop after every cycle so informers and binding tasks run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from kubepy.client import (
    NORMAL,
    WARNING,
    ApiError,
    Client,
    EventRecorder,
    InformerFactory,
    LeaderElectionConfig,
    LeaderElector,
    object_of,
)
from kubepy.client.clock import REAL_CLOCK, Clock
from kubepy.client.informer import DeletedFinalStateUnknown, SharedInformer
from kubepy.scheduler.cache import DEFAULT_ASSUMED_TTL, Cache, CacheSnapshot
from kubepy.scheduler.config import DEFAULT_SCHEDULER_NAME, SchedulerConfig
from kubepy.scheduler.framework.interface import ClusterEvent, Code, CycleState, QueuedPodInfo, Snapshot, Status
from kubepy.scheduler.framework.nodeinfo import PodInfo, pod_requests
from kubepy.scheduler.framework.runtime import (
    Diagnosis,
    FitError,
    Framework,
    NodeSampler,
    NoNodesAvailable,
    schedule_pod,
)
from kubepy.scheduler.queue import SchedulingQueue

__all__ = ["Scheduler", "LeadershipLost", "RecorderPool", "node_update_events", "pod_update_events", "POD_FIELD_SELECTOR"]

log = logging.getLogger(__name__)

Obj = dict[str, Any]
POD_FIELD_SELECTOR = "status.phase!=Succeeded,status.phase!=Failed"
NOTE_LENGTH_LIMIT = 1024
CLEANUP_PERIOD = 1.0

EVENT_NODE_ADD = ClusterEvent("Node", "Add")
EVENT_POD_ADD = ClusterEvent("Pod", "Add")
EVENT_POD_DELETE = ClusterEvent("Pod", "Delete")


class LeadershipLost(Exception):
    """This copy stopped leading; its queue and cache are stale, so the process ends."""


def _node_name(pod: Obj) -> str:
    return str((pod.get("spec") or {}).get("nodeName") or "")


def _scheduler_name(pod: Obj) -> str:
    return str((pod.get("spec") or {}).get("schedulerName") or DEFAULT_SCHEDULER_NAME)


def _key(pod: Obj) -> str:
    meta = pod["metadata"]
    return f"{meta.get('namespace', '')}/{meta['name']}"


def _pod_ref(pod: Obj) -> Obj:
    """What an Event about the pod points at (informer objects may lack kind/apiVersion)."""
    meta = pod.get("metadata") or {}
    return {"kind": "Pod", "apiVersion": "v1",
            "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion") if meta.get(k)}}


def _truncate(message: str) -> str:
    if len(message) <= NOTE_LENGTH_LIMIT:
        return message
    return message[:NOTE_LENGTH_LIMIT - 4] + " ..."


def node_update_events(old: Obj, new: Obj) -> list[ClusterEvent]:
    """The scheduling-relevant changes of a node update (upstream's
    NodeSchedulingPropertiesChange); heartbeats yield none."""
    events: list[ClusterEvent] = []
    os_, ns_ = old.get("spec") or {}, new.get("spec") or {}
    ost, nst = old.get("status") or {}, new.get("status") or {}
    om, nm = old.get("metadata") or {}, new.get("metadata") or {}
    if bool(os_.get("unschedulable")) != bool(ns_.get("unschedulable")):
        events.append(ClusterEvent("Node", "UpdateNodeTaint"))
    if ost.get("allocatable") != nst.get("allocatable"):
        events.append(ClusterEvent("Node", "UpdateNodeAllocatable"))
    if (om.get("labels") or {}) != (nm.get("labels") or {}):
        events.append(ClusterEvent("Node", "UpdateNodeLabel"))
    if (os_.get("taints") or []) != (ns_.get("taints") or []):
        events.append(ClusterEvent("Node", "UpdateNodeTaint"))

    def conds(st: Obj) -> dict[str, str]:
        return {c.get("type", ""): c.get("status", "") for c in st.get("conditions") or ()}

    if conds(ost) != conds(nst):
        events.append(ClusterEvent("Node", "UpdateNodeCondition"))
    if (om.get("annotations") or {}) != (nm.get("annotations") or {}):
        events.append(ClusterEvent("Node", "UpdateNodeAnnotation"))
    return events


def pod_update_events(old: Obj, new: Obj) -> list[ClusterEvent]:
    """Scheduling-relevant changes of an assigned pod: label changes and scale-downs (other
    updates, such as kubelet status reports, free nothing and move nobody)."""
    events: list[ClusterEvent] = []
    if ((old.get("metadata") or {}).get("labels") or {}) != ((new.get("metadata") or {}).get("labels") or {}):
        events.append(ClusterEvent("Pod", "UpdatePodLabel"))
    oc = [c.get("resources") for c in (old.get("spec") or {}).get("containers") or ()]
    nc = [c.get("resources") for c in (new.get("spec") or {}).get("containers") or ()]
    if oc != nc:
        a, b = pod_requests(old), pod_requests(new)
        if b.milli_cpu < a.milli_cpu or b.memory < a.memory or b.ephemeral_storage < a.ephemeral_storage or \
                any(v < a.scalar.get(k, 0) for k, v in b.scalar.items()):
            events.append(ClusterEvent("Pod", "UpdatePodScaleDown"))
    return events


class RecorderPool:
    """Several EventRecorders behind one ``event()``: each writes one Event at a time, so a
    few in parallel keep up with hundreds of bindings a second. A pod's events always go
    through the same recorder, so its repeats are still folded into one Event's count."""

    def __init__(self, client: Client, *, component: str, host: str, clock: Clock, size: int = 8) -> None:
        self.recorders = [EventRecorder(client, component=component, host=host, clock=clock) for _ in range(size)]

    def event(self, obj: Obj, type: Any, reason: str, message: str) -> None:
        meta = obj.get("metadata") or {}
        i = hash((meta.get("namespace"), meta.get("name"))) % len(self.recorders)
        self.recorders[i].event(obj, type, reason, message)

    async def flush(self) -> None:
        await asyncio.gather(*(r.flush() for r in self.recorders))

    async def close(self) -> None:
        await asyncio.gather(*(r.close() for r in self.recorders))


class Scheduler:
    """kube-scheduler: every profile of ``config``, one queue, one cache."""

    def __init__(
        self,
        client: Client,
        config: SchedulerConfig,
        *,
        informers: InformerFactory | None = None,
        clock: Clock = REAL_CLOCK,
        rng: random.Random | None = None,
        max_binding_tasks: int = 512,
        assumed_ttl: float = DEFAULT_ASSUMED_TTL,
        host: str | None = None,
        plugin_factory: Callable[[str], Any] | None = None,
    ) -> None:
        self._client = client
        self.config = config
        self._clock = clock
        self.rng = rng or random.Random()
        self.informers = informers or InformerFactory(client, clock=clock)
        self.cache = Cache(ttl=assumed_ttl, clock=clock)
        self._snapshot = CacheSnapshot()
        self.sampler = NodeSampler(0, config.percentage_of_nodes_to_score)
        self._started = False
        self._bind_slots = asyncio.Semaphore(max_binding_tasks)
        self._tasks: set[asyncio.Task[Any]] = set()
        self.scheduled = 0
        self.failed_attempts = 0
        host = host if host is not None else socket.gethostname()
        self.pod_informer: SharedInformer = self.informers.informer(
            client.resource("v1", "pods"), field_selector=POD_FIELD_SELECTOR)
        self.node_informer: SharedInformer = self.informers.informer(client.resource("v1", "nodes"))
        self.recorders: dict[str, RecorderPool] = {}
        self.profiles: dict[str, Framework] = {}
        for prof in config.profiles:
            recorder = RecorderPool(client, component=prof.scheduler_name, host=host, clock=clock)
            self.recorders[prof.scheduler_name] = recorder
            kw: dict[str, Any] = {"event_recorder": recorder, "rng": self.rng}
            if plugin_factory is not None:
                kw["plugin_factory"] = plugin_factory
            self.profiles[prof.scheduler_name] = Framework(prof, self, **kw)
        if not self.profiles:
            raise ValueError("the scheduler needs at least one profile")
        first = next(iter(self.profiles.values()))
        less = None
        if first.queue_sort is not None and getattr(first.queue_sort, "NAME", "") != "PrioritySort":
            less = first.less  # PrioritySort's order is the queue's built-in one
        events: dict[ClusterEvent, set[str]] = {}
        for fwk in self.profiles.values():
            for ev, names in fwk.events_to_register().items():
                events.setdefault(ev, set()).update(names)
        self.queue = SchedulingQueue(
            less=less, pre_enqueue=self._pre_enqueue, events_to_plugins=events, clock=clock,
            initial_backoff=config.pod_initial_backoff_seconds, max_backoff=config.pod_max_backoff_seconds,
        )
        self.pod_informer.add_event_handler(self._on_pod_add, self._on_pod_update, self._on_pod_delete)
        self.node_informer.add_event_handler(self._on_node_add, self._on_node_update, self._on_node_delete)

    # -- FrameworkServices -----------------------------------------------------------------------

    @property
    def client(self) -> Client:
        return self._client

    def snapshot(self) -> Snapshot:
        return self._snapshot

    def lister(self, api_version: str, plural: str) -> Any:
        """The cache (Indexer) of a shared informer for any resource; started at once if the
        scheduler already runs."""
        if (api_version, plural) == ("v1", "pods"):
            return self.pod_informer.indexer
        if (api_version, plural) == ("v1", "nodes"):
            return self.node_informer.indexer
        inf = self.informers.for_resource(api_version, plural)
        if self._started and not inf.running:
            inf.start()
        return inf.indexer

    def nominated_pods_for_node(self, node_name: str) -> list[PodInfo]:
        return self.queue.nominated_pods_for_node(node_name)

    def has_nominated_pods(self) -> bool:
        return bool(self.queue.nominator.by_node)

    # -- informer handlers -----------------------------------------------------------------------

    def _responsible(self, pod: Obj) -> bool:
        return _scheduler_name(pod) in self.profiles

    def _pre_enqueue(self, pod: Obj) -> Status | None:
        fwk = self.profiles.get(_scheduler_name(pod))
        return fwk.run_pre_enqueue_plugins(pod) if fwk is not None else None

    def _on_pod_add(self, pod: Obj) -> None:
        if _node_name(pod):
            self.cache.add_pod(pod)
            self.queue.move_all_to_active_or_backoff(EVENT_POD_ADD)
        elif self._responsible(pod):
            self.queue.add(pod)

    def _on_pod_update(self, old: Obj, new: Obj) -> None:
        if _node_name(old):
            self.cache.update_pod(old, new)
            for ev in pod_update_events(old, new):
                self.queue.move_all_to_active_or_backoff(ev)
        elif _node_name(new):
            # bound (by us or anyone): it leaves the queue and joins the cache
            self.queue.delete(old)
            self.cache.add_pod(new)
            self.queue.move_all_to_active_or_backoff(EVENT_POD_ADD)
        elif self._responsible(new):
            self.queue.update(old, new)
        elif self._responsible(old):
            self.queue.delete(old)

    def _on_pod_delete(self, obj: Obj | DeletedFinalStateUnknown) -> None:
        pod = object_of(obj)
        if _node_name(pod):
            self.cache.remove_pod(pod)
            self.queue.move_all_to_active_or_backoff(EVENT_POD_DELETE)
            return
        self.queue.delete(pod)
        uid = str(pod["metadata"].get("uid") or "")
        for fwk in self.profiles.values():
            fwk.reject_waiting_pod(uid)

    def _on_node_add(self, node: Obj) -> None:
        self.cache.add_node(node)
        self.queue.move_all_to_active_or_backoff(EVENT_NODE_ADD)

    def _on_node_update(self, old: Obj, new: Obj) -> None:
        self.cache.update_node(old, new)
        for ev in node_update_events(old, new):
            self.queue.move_all_to_active_or_backoff(ev)

    def _on_node_delete(self, obj: Obj | DeletedFinalStateUnknown) -> None:
        self.cache.remove_node(object_of(obj))

    # -- lifecycle -------------------------------------------------------------------------------

    def start_informers(self) -> None:
        self.informers.start()
        self._started = True

    async def wait_for_sync(self, timeout: float | None = None) -> bool:
        return await self.informers.wait_for_sync(timeout)

    async def run(self) -> None:
        """Schedule until cancelled (informers must be running)."""
        if not self._started:
            self.start_informers()
        background = [asyncio.ensure_future(self.queue.run()), asyncio.ensure_future(self._cleanup_loop())]
        try:
            while True:
                info = await self.queue.pop()
                if info is None:
                    return
                try:
                    await self.schedule_one(info)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("scheduling %s failed unexpectedly", info.key)
                    self.queue.done(info.pod)
                await asyncio.sleep(0)
        finally:
            for t in background:
                t.cancel()
            await asyncio.gather(*background, return_exceptions=True)

    async def _cleanup_loop(self) -> None:
        while True:
            await self._clock.sleep(CLEANUP_PERIOD)
            expired = self.cache.cleanup_assumed_pods()
            if expired:
                self.queue.move_all_to_active_or_backoff(EVENT_POD_DELETE)

    async def serve(
        self, *, leader_elect: bool, identity: str | None = None, on_ready: Callable[[], None] | None = None,
        on_new_leader: Callable[[str], None] | None = None,
    ) -> None:
        """Start informers, wait for their first lists, then schedule — while holding the
        Lease when ``leader_elect`` (raises LeadershipLost once it is lost)."""
        self.start_informers()
        await self.wait_for_sync()
        if on_ready is not None:
            on_ready()
        if not leader_elect:
            await self.run()
            return
        le = self.config.leader_election
        elector = LeaderElector(
            self._client,
            LeaderElectionConfig(
                name=le.resource_name, namespace=le.resource_namespace,
                identity=identity or f"{socket.gethostname()}_{uuid.uuid4()}",
                lease_duration=le.lease_duration, renew_deadline=le.renew_deadline, retry_period=le.retry_period,
            ),
            on_started_leading=self.run,
            on_new_leader=on_new_leader or (lambda who: log.info("new leader elected: %s", who)),
        )
        await elector.run()
        log.error("leader election lost")
        raise LeadershipLost()

    async def stop(self) -> None:
        """Close the queue, wait for binding tasks and status writes, stop informers."""
        self.queue.close()
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        await self.informers.stop()
        for r in self.recorders.values():
            with contextlib.suppress(Exception):
                await r.flush()
            await r.close()

    async def drain(self) -> None:
        """Wait until every binding task and status write started so far has finished."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # -- one scheduling cycle --------------------------------------------------------------------

    async def schedule_one(self, info: QueuedPodInfo) -> None:
        pod = info.pod
        fwk = self.profiles.get(_scheduler_name(pod))
        if fwk is None:
            self.queue.done(pod)
            return
        if self._skip(fwk, pod):
            self.queue.done(pod)
            return
        state = CycleState()
        try:
            self.cache.update_snapshot(self._snapshot)
            result = schedule_pod(fwk, self.sampler, state, pod, self._snapshot, self.rng)
        except NoNodesAvailable as e:
            self._handle_failure(fwk, info, Code.UNSCHEDULABLE_AND_UNRESOLVABLE, str(e), nominating="")
            return
        except FitError as fe:
            nominating: str | None = ""
            if fwk.has_post_filter_plugins():
                res, st = await fwk.run_post_filter_plugins(state, pod, fe.diagnosis.node_to_status)
                fe.diagnosis.post_filter_msg = st.message
                if st.code is Code.ERROR:
                    log.error("PostFilter failed for pod %s: %s", info.key, st.message)
                nominating = res.nominated_node_name if res is not None else None
            self._handle_failure(fwk, info, Code.UNSCHEDULABLE, str(fe), fit=fe, nominating=nominating)
            return
        except Exception as e:
            log.exception("error selecting a node for pod %s", info.key)
            self._handle_failure(fwk, info, Code.ERROR, str(e), nominating="")
            return
        host = result.suggested_host
        assumed = {**pod, "spec": {**(pod.get("spec") or {}), "nodeName": host}}
        try:
            self.cache.assume_pod(assumed)
        except ValueError as e:
            self._handle_failure(fwk, info, Code.ERROR, str(e), nominating="")
            return
        self.queue.delete_nominated_pod_if_exists(assumed)
        st = fwk.run_reserve_plugins_reserve(state, assumed, host)
        if not st.ok:
            self._undo_assume(fwk, state, assumed, host)
            self._fail_on_node(fwk, info, host, st)
            return
        st = fwk.run_permit_plugins(state, assumed, host)
        if not st.ok and st.code is not Code.WAIT:
            self._undo_assume(fwk, state, assumed, host)
            self._fail_on_node(fwk, info, host, st)
            return
        await self._bind_slots.acquire()
        self._spawn(self._binding_cycle(fwk, state, info, assumed, host))

    def _skip(self, fwk: Framework, pod: Obj) -> bool:
        meta = pod["metadata"]
        if meta.get("deletionTimestamp"):
            fwk.event_recorder.event(_pod_ref(pod), WARNING, "FailedScheduling",
                                     f"skip schedule deleting pod: {meta.get('namespace', '')}/{meta['name']}")
            return True
        return self.cache.is_assumed_pod(pod)

    def _undo_assume(self, fwk: Framework, state: CycleState, assumed: Obj, host: str) -> None:
        fwk.run_reserve_plugins_unreserve(state, assumed, host)
        with contextlib.suppress(ValueError):
            self.cache.forget_pod(assumed)

    def _fail_on_node(self, fwk: Framework, info: QueuedPodInfo, host: str, st: Status) -> None:
        """A rejection at Reserve/Permit: a FitError over the one chosen node."""
        if st.is_rejected:
            diag = Diagnosis()
            diag.node_to_status.set(host, st)
            diag.add_plugin_status(st)
            fe = FitError(info.pod, 1, diag)
            self._handle_failure(fwk, info, st.code, str(fe), fit=fe, nominating="")
        else:
            self._handle_failure(fwk, info, st.code, st.message, nominating="")

    async def _binding_cycle(self, fwk: Framework, state: CycleState, info: QueuedPodInfo, assumed: Obj,
                             host: str) -> None:
        try:
            st = await fwk.wait_on_permit(assumed)
            if not st.ok:
                self._binding_failed(fwk, state, info, assumed, host, st)
                return
            self.queue.done(assumed)
            st = await fwk.run_pre_bind_plugins(state, assumed, host)
            if st.ok:
                st = await fwk.run_bind_plugins(state, assumed, host)
            self.cache.finish_binding(assumed)
            if not st.ok:
                self._binding_failed(fwk, state, info, assumed, host, st)
                return
            meta = assumed["metadata"]
            fwk.event_recorder.event(_pod_ref(assumed), NORMAL, "Scheduled",
                                     f"Successfully assigned {meta.get('namespace', '')}/{meta['name']} to {host}")
            self.scheduled += 1
            fwk.run_post_bind_plugins(state, assumed, host)
        except asyncio.CancelledError:
            raise
        except Exception as e:
            log.exception("binding cycle of %s failed", info.key)
            self._binding_failed(fwk, state, info, assumed, host, Status.error(str(e)))
        finally:
            self._bind_slots.release()

    def _binding_failed(self, fwk: Framework, state: CycleState, info: QueuedPodInfo, assumed: Obj, host: str,
                        st: Status) -> None:
        log.info("binding %s to %s failed: %s", info.key, host, st.message)
        fwk.run_reserve_plugins_unreserve(state, assumed, host)
        try:
            self.cache.forget_pod(assumed)
        except ValueError:
            pass
        else:
            # the resources it held are free again: like a deleted pod
            uid = assumed["metadata"].get("uid")
            self.queue.move_all_to_active_or_backoff(
                EVENT_POD_DELETE, (lambda p: p["metadata"].get("uid") != uid) if st.is_rejected else None)
        if st.is_rejected:
            self._fail_on_node(fwk, info, host, st)
        else:
            self._handle_failure(fwk, info, st.code, st.message, nominating="")

    # -- failures --------------------------------------------------------------------------------

    def _handle_failure(self, fwk: Framework, info: QueuedPodInfo, code: Code, message: str, *,
                        fit: FitError | None = None, nominating: str | None) -> None:
        """Requeue the pod, record FailedScheduling and set PodScheduled=False (upstream's
        handleSchedulingFailure). ``nominating``: None keeps the nomination, "" clears it."""
        self.failed_attempts += 1
        pod = info.pod
        rejected = code in (Code.UNSCHEDULABLE, Code.UNSCHEDULABLE_AND_UNRESOLVABLE, Code.PENDING)
        reason = "Unschedulable" if rejected else "SchedulerError"
        if fit is not None:
            info.unschedulable_plugins = set(fit.diagnosis.unschedulable_plugins)
            info.pending_plugins = set(fit.diagnosis.pending_plugins)
            log.info("unable to schedule pod %s; no fit; waiting: %s", info.key, message)
        else:
            info.unschedulable_plugins = set()
            info.pending_plugins = set()
            if code is Code.UNSCHEDULABLE_AND_UNRESOLVABLE:
                log.info("unable to schedule pod %s: %s; waiting", info.key, message)
            else:
                log.warning("error scheduling pod %s; retrying: %s", info.key, message)
        cached = self.pod_informer.indexer.get_by_key(info.key)
        if cached is None or (cached["metadata"].get("uid") != pod["metadata"].get("uid")):
            log.info("pod %s no longer exists; not requeued", info.key)
            self.queue.done(pod)
            return
        if _node_name(cached):
            log.info("pod %s has been assigned to %s meanwhile; not requeued", info.key, _node_name(cached))
            self.queue.done(pod)
            return
        info.pod = cached
        self.queue.add_unschedulable_if_not_present(info, self.queue.scheduling_cycle)
        self.queue.add_nominated_pod(PodInfo.of(cached), nominating)
        fwk.event_recorder.event(_pod_ref(cached), WARNING, "FailedScheduling", _truncate(message))
        self._spawn(self._update_pod(cached, reason, message, nominating))

    async def _update_pod(self, pod: Obj, reason: str, message: str, nominating: str | None) -> None:
        status = pod.get("status") or {}
        old = next((c for c in status.get("conditions") or () if c.get("type") == "PodScheduled"), None)
        current_nnn = str(status.get("nominatedNodeName") or "")
        nnn_update = nominating is not None and current_nnn != nominating
        same = old is not None and old.get("status") == "False" and old.get("reason") == reason and \
            old.get("message") == message
        if same and not nnn_update:
            return
        from kubepy.client.events import rfc3339

        transition = old.get("lastTransitionTime") if old is not None and old.get("status") == "False" else None
        cond = {"type": "PodScheduled", "status": "False", "reason": reason, "message": message,
                "lastProbeTime": None, "lastTransitionTime": transition or rfc3339(self._clock.time())}
        body: Obj = {"conditions": [cond]}
        if nnn_update:
            body["nominatedNodeName"] = nominating or None
        meta = pod["metadata"]
        try:
            await self._client.patch(self._client.resource("v1", "pods"), meta["name"], {"status": body},
                                     namespace=meta.get("namespace"), type="strategic", subresource="status")
        except ApiError as e:
            if e.code != 404:
                log.warning("could not update the status of pod %s: %s", _key(pod), e)
        except Exception as e:
            log.warning("could not update the status of pod %s: %r", _key(pod), e)
