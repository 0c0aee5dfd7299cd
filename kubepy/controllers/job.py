"""The Job controller: run pods for batch/v1 Jobs until enough succeed, or give up.

Job: upstream 1.32's job controller, seen through the API only. For each Job it claims the
pods its selector matches (adopting orphans, releasing strays), keeps ``parallelism`` pods
running until ``completions`` succeed (NonIndexed) or every index 0..completions-1 has a
succeeded pod (Indexed: the ``batch.kubernetes.io/job-completion-index`` annotation and
label, hostname ``<job>-<index>``, ``JOB_COMPLETION_INDEX`` from the downward API), and
writes status: startTime, active/ready/terminating, succeeded/failed, completedIndexes,
failedIndexes, uncountedTerminatedPods and the conditions (SuccessCriteriaMet then
Complete; FailureTarget then Failed with BackoffLimitExceeded, DeadlineExceeded,
PodFailurePolicy, MaxFailedIndexesExceeded or FailedIndexes; Suspended).

Design: finalizer-based tracking, as upstream. Every pod is created with the
``batch.kubernetes.io/job-tracking`` finalizer; a finished pod is first recorded in
``status.uncountedTerminatedPods`` (a status write), then its finalizer is removed, then it
moves into the succeeded/failed counters (a second write). A crash between any two steps
neither loses nor double-counts a pod. ``finalizer_expectations`` remembers pods whose
finalizer removal is in flight so a stale cache does not count them twice; pod
``Expectations`` stop over-creation while the informer catches up. Terminal conditions are
two-phase as in 1.32 (JobManagedBy / JobPodReplacementPolicy on): the interim condition is
written, pods are deleted, and Complete/Failed is only set once no pod is terminating.
Failed pods are replaced after an exponential back-off (``job_backoff_initial`` seconds,
default upstream's 10, doubling, capped by ``job_backoff_max``, default upstream's 600)
counted from the last failure after the last success. Pod events are batched by
``job_sync_batch_period`` (upstream's 1 s). The decisions (how many pods, which indexes,
which pods to delete, failure-policy matching, interval strings) are pure functions below,
tested by tables; ``JobController.sync`` carries them out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kubepy.client import (
    NAMESPACE_INDEX,
    NORMAL,
    OWNER_UID_INDEX,
    WARNING,
    ApiError,
    DeleteOptions,
    DeletedFinalStateUnknown,
    Preconditions,
    deepcopy,
    is_not_found,
    owner_uid_index,
    split_key,
)
from kubepy.client.events import rfc3339
from kubepy.controllers.base import Controller, key_of, tombstone_object
from kubepy.controllers.context import ControllerContext
from kubepy.controllers.expectations import Expectations
from kubepy.controllers.podcontrol import (
    adopt_patch,
    claim,
    controller_of,
    is_ready,
    pod_from_template,
    release_patch,
    selector_matches,
)

__all__ = [
    "JobController",
    "new",
    "Intervals",
    "is_finished",
    "match_pod_failure_policy",
    "first_pending_indexes",
    "want_active",
    "backoff_remaining",
    "pods_for_removal",
    "TRACKING_FINALIZER",
    "COMPLETION_INDEX",
]

Obj = dict[str, Any]

TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking"
COMPLETION_INDEX = "batch.kubernetes.io/job-completion-index"
INDEX_FAILURE_COUNT = "batch.kubernetes.io/job-index-failure-count"
INDEX_IGNORED_FAILURE_COUNT = "batch.kubernetes.io/job-index-ignored-failure-count"
COMPLETION_INDEX_ENV = "JOB_COMPLETION_INDEX"
JOB_CONTROLLER_NAME = "kubernetes.io/job-controller"
MAX_UNCOUNTED_PODS = 500
MAX_POD_CREATE_DELETE_PER_SYNC = 500
SLOW_START_INITIAL_BATCH = 1
MAX_GENERATED_NAME = 58
ORPHAN_PREFIX = "pod|"  # queue keys for orphan pods whose finalizer must go ('|' is not valid in names)


# -- small readers --------------------------------------------------------------------------------

def _spec(job: Mapping[str, Any]) -> Mapping[str, Any]:
    return job.get("spec") or {}


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def _phase(pod: Mapping[str, Any]) -> str:
    return str((pod.get("status") or {}).get("phase") or "")


def parse_time(value: Any) -> float | None:
    """meta/v1 Time (RFC 3339) → epoch seconds."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def find_condition(job: Mapping[str, Any], ctype: str) -> Mapping[str, Any] | None:
    for c in (job.get("status") or {}).get("conditions") or ():
        if c.get("type") == ctype:
            return c  # type: ignore[no-any-return]
    return None


def _condition_true(job: Mapping[str, Any], ctype: str) -> bool:
    c = find_condition(job, ctype)
    return c is not None and c.get("status") == "True"


def is_finished(job: Mapping[str, Any]) -> bool:
    """Complete or Failed is True (upstream's IsJobFinished)."""
    return _condition_true(job, "Complete") or _condition_true(job, "Failed")


def is_indexed(job: Mapping[str, Any]) -> bool:
    return _spec(job).get("completionMode") == "Indexed"


def is_suspended(job: Mapping[str, Any]) -> bool:
    return bool(_spec(job).get("suspend"))


def has_backoff_limit_per_index(job: Mapping[str, Any]) -> bool:
    return _spec(job).get("backoffLimitPerIndex") is not None


def has_finalizer(pod: Mapping[str, Any]) -> bool:
    return TRACKING_FINALIZER in (_meta(pod).get("finalizers") or ())


def completion_index(pod: Mapping[str, Any]) -> int:
    """The pod's completion index, or -1 when missing or malformed."""
    value = (_meta(pod).get("annotations") or {}).get(COMPLETION_INDEX)
    if value is None or not str(value).isdigit():
        return -1
    return int(value)


def only_replace_failed(job: Mapping[str, Any]) -> bool:
    spec = _spec(job)
    return spec.get("podReplacementPolicy") == "Failed" or spec.get("podFailurePolicy") is not None


def is_terminating(pod: Mapping[str, Any]) -> bool:
    return bool(_meta(pod).get("deletionTimestamp")) and _phase(pod) not in ("Succeeded", "Failed")


def is_active(pod: Mapping[str, Any]) -> bool:
    return _phase(pod) not in ("Succeeded", "Failed") and not _meta(pod).get("deletionTimestamp")


def is_pod_failed(pod: Mapping[str, Any], job: Mapping[str, Any]) -> bool:
    """Failed phase, or (unless only failed pods are replaced) deleted before succeeding."""
    if _phase(pod) == "Failed":
        return True
    if only_replace_failed(job):
        return False
    return bool(_meta(pod).get("deletionTimestamp")) and _phase(pod) != "Succeeded"


def _annotation_int(pod: Mapping[str, Any], key: str) -> int:
    value = (_meta(pod).get("annotations") or {}).get(key)
    try:
        n = int(value) if value is not None else 0
    except ValueError:
        return 0
    return n if 0 <= n <= 2**31 - 1 else 0


# -- completed/failed index sets ------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Intervals:
    """Sorted, merged, inclusive intervals of indexes: ``status.completedIndexes`` form."""

    items: tuple[tuple[int, int], ...] = ()

    @classmethod
    def parse(cls, text: str | None, completions: int) -> Intervals:
        out: list[list[int]] = []
        for part in (text or "").split(","):
            if not part:
                continue
            bounds = part.split("-")
            try:
                first = int(bounds[0])
                last = int(bounds[1]) if len(bounds) > 1 else first
            except ValueError:
                continue
            if first >= completions:
                break
            last = min(last, completions - 1)
            if out and out[-1][1] == first - 1:
                out[-1][1] = last
            else:
                out.append([first, last])
        return cls(tuple((a, b) for a, b in out))

    @classmethod
    def of(cls, indexes: Iterable[int]) -> Intervals:
        return cls().with_indexes(indexes)

    def with_indexes(self, indexes: Iterable[int]) -> Intervals:
        return self.merge(Intervals(tuple((i, i) for i in sorted(set(indexes)))))

    def merge(self, other: Intervals) -> Intervals:
        out: list[list[int]] = []
        for first, last in sorted(self.items + other.items):
            if not out or first > out[-1][1] + 1:
                out.append([first, last])
            elif last > out[-1][1]:
                out[-1][1] = last
        return Intervals(tuple((a, b) for a, b in out))

    def total(self) -> int:
        return sum(b - a + 1 for a, b in self.items)

    def has(self, ix: int) -> bool:
        return any(a <= ix <= b for a, b in self.items)

    def __str__(self) -> str:
        parts = []
        for a, b in self.items:
            if b == a:
                parts.append(str(a))
            elif b == a + 1:
                parts.append(f"{a},{b}")
            else:
                parts.append(f"{a}-{b}")
        return ",".join(parts)


def first_pending_indexes(
    *, count: int, completions: int, active: Iterable[int], succeeded: Intervals,
    failed: Intervals | None = None, terminating: Iterable[int] = (),
) -> list[int]:
    """The lowest ``count`` indexes below ``completions`` that are neither running,
    succeeded, failed nor (when given) held by a terminating pod."""
    if count <= 0:
        return []
    busy = succeeded.with_indexes(active).with_indexes(terminating)
    if failed is not None:
        busy = busy.merge(failed)
    out: list[int] = []
    candidate = 0
    for first, last in busy.items:
        while candidate < completions and len(out) < count and candidate < first:
            out.append(candidate)
            candidate += 1
        candidate = max(candidate, last + 1)
    while candidate < completions and len(out) < count:
        out.append(candidate)
        candidate += 1
    return out


def want_active(*, completions: int | None, parallelism: int, succeeded: int, active: int) -> int:
    """How many pods should run now (upstream manageJob's arithmetic)."""
    if completions is None:
        # a work-queue Job: after the first success, let the running ones finish
        return active if succeeded > 0 else parallelism
    return max(0, min(completions - succeeded, parallelism))


# -- pod failure policy ---------------------------------------------------------------------------

def _exit_code_matches(code: int, req: Mapping[str, Any]) -> bool:
    values = req.get("values") or ()
    if req.get("operator") == "In":
        return code in values
    if req.get("operator") == "NotIn":
        return code not in values
    return False


def _matching_container(statuses: Iterable[Mapping[str, Any]], req: Mapping[str, Any]) -> Mapping[str, Any] | None:
    for cs in statuses:
        term = (cs.get("state") or {}).get("terminated")
        if not term:
            continue
        if req.get("containerName") in (None, cs.get("name")):
            code = int(term.get("exitCode") or 0)
            if code != 0 and _exit_code_matches(code, req):
                return cs
    return None


def match_pod_failure_policy(
    policy: Mapping[str, Any] | None, pod: Mapping[str, Any]
) -> tuple[str | None, bool, str | None]:
    """(FailJob message or None, whether the failure counts, matched action or None)."""
    if not policy:
        return None, True, None
    status = pod.get("status") or {}
    meta = _meta(pod)
    for index, rule in enumerate(policy.get("rules") or ()):
        action = rule.get("action")
        msg: str | None = None
        if rule.get("onExitCodes") is not None:
            cs = _matching_container(status.get("containerStatuses") or (), rule["onExitCodes"]) or \
                _matching_container(status.get("initContainerStatuses") or (), rule["onExitCodes"])
            if cs is None:
                continue
            code = cs["state"]["terminated"].get("exitCode")
            msg = (f"Container {cs.get('name')} for pod {meta.get('namespace')}/{meta.get('name')} failed with "
                   f"exit code {code} matching {action} rule at index {index}")
        elif rule.get("onPodConditions") is not None:
            cond = next((c for c in status.get("conditions") or ()
                         for p in rule["onPodConditions"]
                         if c.get("type") == p.get("type") and c.get("status") == p.get("status", "True")), None)
            if cond is None:
                continue
            msg = (f"Pod {meta.get('namespace')}/{meta.get('name')} has condition {cond.get('type')} "
                   f"matching {action} rule at index {index}")
        else:
            continue
        if action == "Ignore":
            return None, False, "Ignore"
        if action == "FailIndex":
            return None, True, "FailIndex"
        if action == "Count":
            return None, True, "Count"
        if action == "FailJob":
            return msg, True, "FailJob"
    return None, True, None


# -- back-off -------------------------------------------------------------------------------------

def finished_time(pod: Mapping[str, Any]) -> float:
    """When a pod finished: its containers' last finishedAt, else Ready=False's transition,
    else deletionTimestamp minus grace, else its creation (upstream's getFinishedTime)."""
    status = pod.get("status") or {}
    latest: float | None = None
    statuses = status.get("containerStatuses") or []
    for cs in statuses:
        term = (cs.get("state") or {}).get("terminated")
        t = parse_time((term or {}).get("finishedAt"))
        if t is None:
            latest = None
            break
        latest = t if latest is None else max(latest, t)
    if latest is not None:
        return latest
    for c in status.get("conditions") or ():
        if c.get("type") == "Ready" and c.get("status") == "False":
            t = parse_time(c.get("lastTransitionTime"))
            if t is not None:
                return t
    meta = _meta(pod)
    deleted = parse_time(meta.get("deletionTimestamp"))
    if deleted is not None:
        return deleted - float(meta.get("deletionGracePeriodSeconds") or 0)
    return parse_time(meta.get("creationTimestamp")) or 0.0


@dataclass(slots=True)
class BackoffRecord:
    failures_after_last_success: int = 0
    last_failure_time: float | None = None


def next_backoff_record(
    old: BackoffRecord, new_succeeded: Sequence[Mapping[str, Any]], new_failed: Sequence[Mapping[str, Any]]
) -> BackoffRecord:
    """Fold newly finished pods into the record: a success resets the count, failures
    after the last success add to it."""
    rec = BackoffRecord(old.failures_after_last_success, old.last_failure_time)
    succ = sorted(finished_time(p) for p in new_succeeded)
    fail = sorted(finished_time(p) for p in new_failed)
    if not succ:
        if fail:
            rec.failures_after_last_success += len(fail)
            rec.last_failure_time = fail[-1]
        return rec
    rec = BackoffRecord()
    for t in reversed(fail):
        if t <= succ[-1]:
            break
        if rec.last_failure_time is None:
            rec.last_failure_time = t
        rec.failures_after_last_success += 1
    return rec


def backoff_remaining(*, failures: int, last_failure: float | None, now: float, initial: float, cap: float) -> float:
    """Seconds to wait before creating a replacement pod (0: create now)."""
    if failures <= 0 or last_failure is None:
        return 0.0
    delay = initial
    for _ in range(1, failures):
        delay *= 2
        if delay >= cap:
            delay = cap
            break
    elapsed = now - last_failure
    return 0.0 if delay < elapsed else delay - elapsed


# -- which pods to delete -------------------------------------------------------------------------

_PHASE_RANK = {"Pending": 0, "Unknown": 1, "Running": 2}


def _removal_rank(pod: Mapping[str, Any]) -> tuple[Any, ...]:
    """Upstream's ActivePods order: unscheduled, pending, not-ready, most restarts and
    newest pods go first."""
    status = pod.get("status") or {}
    restarts = sum(int(cs.get("restartCount") or 0) for cs in status.get("containerStatuses") or ())
    created = parse_time(_meta(pod).get("creationTimestamp")) or 0.0
    return (bool((pod.get("spec") or {}).get("nodeName")), _PHASE_RANK.get(_phase(pod), 0), is_ready(pod),
            -restarts, -created)


def pods_for_removal(job: Mapping[str, Any], pods: Sequence[Mapping[str, Any]], at_least: int) -> list[Mapping[str, Any]]:
    """Active pods to delete: for Indexed Jobs every pod without a valid index or with a
    duplicated one first, then the cheapest ones to lose until ``at_least`` are chosen."""
    rm: list[Mapping[str, Any]] = []
    left: list[Mapping[str, Any]] = list(pods)
    if is_indexed(job):
        completions = int(_spec(job).get("completions") or 0)
        by_index: dict[int, list[Mapping[str, Any]]] = {}
        left = []
        for p in pods:
            ix = completion_index(p)
            if ix < 0 or ix >= completions:
                rm.append(p)
            else:
                by_index.setdefault(ix, []).append(p)
        for ix in sorted(by_index):
            group = sorted(by_index[ix], key=_removal_rank)
            rm.extend(group[:-1])
            left.append(group[-1])
    if len(rm) < at_least:
        left.sort(key=_removal_rank)
        rm.extend(left[: at_least - len(rm)])
    return rm


# -- success policy -------------------------------------------------------------------------------

def match_success_policy(policy: Mapping[str, Any] | None, completions: int, succeeded: Intervals) -> str | None:
    if not policy:
        return None
    for index, rule in enumerate(policy.get("rules") or ()):
        want = rule.get("succeededCount")
        if rule.get("succeededIndexes") is None:
            if want is not None and succeeded.total() >= want:
                return f"Matched rules at index {index}"
            continue
        rule_ix = Intervals.parse(rule["succeededIndexes"], completions)
        hit = sum(1 for a, b in rule_ix.items for i in range(a, b + 1) if succeeded.has(i))
        if (want is None and hit == rule_ix.total()) or (want is not None and hit >= want):
            return f"Matched rules at index {index}"
    return None


# -- the controller -------------------------------------------------------------------------------

@dataclass(slots=True)
class _SyncCtx:
    job: Obj
    pods: list[Obj]
    active_pods: list[Obj]
    ready: int
    terminating: int
    uncounted_succeeded: set[str]
    uncounted_failed: set[str]
    expected_rm: set[str]
    succeeded: int = 0
    failed: int = 0
    finished: Obj | None = None
    prev_succeeded_ix: Intervals = field(default_factory=Intervals)
    succeeded_ix: Intervals = field(default_factory=Intervals)
    failed_ix: Intervals | None = None
    delayed_per_index: dict[int, Obj] = field(default_factory=dict)
    backoff: BackoffRecord = field(default_factory=BackoffRecord)


class JobController(Controller):
    NAME = "job"
    WORKERS = 5

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx)
        self.jobs_ref = self.client.resource("batch/v1", "jobs")
        self.pods_ref = self.client.resource("v1", "pods")
        self.job_informer = ctx.informers.informer(self.jobs_ref)
        self.pod_informer = ctx.informers.informer(self.pods_ref, indexers={OWNER_UID_INDEX: owner_uid_index})
        self.expectations = Expectations(ctx.clock)
        self.finalizer_expectations: dict[str, set[str]] = {}
        self.backoffs: dict[str, BackoffRecord] = {}
        opts = ctx.options
        self.backoff_initial = float(opts.get("job_backoff_initial") or 10.0)
        self.backoff_max = float(opts.get("job_backoff_max") or 600.0)
        self.batch_period = float(opts.get("job_sync_batch_period", 1.0))
        self.job_informer.add_event_handler(on_add=self._on_job_add, on_update=self._on_job_update,
                                            on_delete=self._on_job_delete)
        self.pod_informer.add_event_handler(on_add=self._on_pod_add, on_update=self._on_pod_update,
                                            on_delete=lambda obj: self._on_pod_delete(obj, final=True))

    def informers(self) -> list[Any]:
        return [self.job_informer, self.pod_informer]

    def now(self) -> float:
        return self.clock.time()

    def _ts(self) -> str:
        return rfc3339(self.now())

    # -- event handlers (compute a key, enqueue) ----------------------------------------------
    def _enqueue_batched(self, job: Mapping[str, Any], delay: float | None = None) -> None:
        self.queue.add_after(key_of(job), max(self.batch_period, delay or 0.0))

    def _enqueue_orphan(self, pod: Mapping[str, Any]) -> None:
        self.queue.add(ORPHAN_PREFIX + key_of(pod))

    def _resolve(self, namespace: str, ref: Mapping[str, Any] | None) -> Obj | None:
        if ref is None or ref.get("kind") != "Job":
            return None
        job = self.job_informer.indexer.get_by_key(f"{namespace}/{ref.get('name')}")
        if job is None or _meta(job).get("uid") != ref.get("uid"):
            return None
        return job

    def _jobs_selecting(self, pod: Mapping[str, Any]) -> list[Obj]:
        ns = _meta(pod).get("namespace") or ""
        return [j for j in self.job_informer.indexer.by_index(NAMESPACE_INDEX, ns)
                if selector_matches(_spec(j).get("selector"))(pod)]

    def _on_job_add(self, job: Obj) -> None:
        self.enqueue(job)

    def _on_job_update(self, old: Obj, new: Obj) -> None:
        if _meta(old).get("generation") == _meta(new).get("generation"):
            self._enqueue_batched(new)
        else:
            self.enqueue(new)
        if is_finished(new):
            self._cleanup_pod_finalizers(new)
        start = parse_time((new.get("status") or {}).get("startTime"))
        ads = _spec(new).get("activeDeadlineSeconds")
        if start is not None and ads is not None and _spec(old).get("activeDeadlineSeconds") != ads:
            self.queue.add_after(key_of(new), max(0.0, ads - (self.now() - start)))

    def _on_job_delete(self, obj: Obj | DeletedFinalStateUnknown) -> None:
        self.enqueue(obj)
        self._cleanup_pod_finalizers(tombstone_object(obj))

    def _cleanup_pod_finalizers(self, job: Mapping[str, Any]) -> None:
        uid = _meta(job).get("uid") or ""
        for pod in self.pod_informer.indexer.by_index(OWNER_UID_INDEX, uid):
            ref = controller_of(pod)
            if ref is not None and ref.get("uid") == uid and has_finalizer(pod):
                self._enqueue_orphan(pod)

    def _on_pod_add(self, pod: Obj) -> None:
        if _meta(pod).get("deletionTimestamp"):
            self._on_pod_delete(pod, final=False)
            return
        ref = controller_of(pod)
        if ref is not None:
            job = self._resolve(_meta(pod).get("namespace") or "", ref)
            if job is not None:
                self.expectations.observed_add(key_of(job))
                self._enqueue_batched(job)
            return
        if has_finalizer(pod):
            self._enqueue_orphan(pod)
        for job in self._jobs_selecting(pod):
            self._enqueue_batched(job)

    def _on_pod_update(self, old: Obj, cur: Obj) -> None:
        if _meta(old).get("resourceVersion") == _meta(cur).get("resourceVersion"):
            return
        if _meta(cur).get("deletionTimestamp"):
            self._on_pod_delete(cur, final=False)
            return
        ns = _meta(cur).get("namespace") or ""
        removed = not has_finalizer(cur)
        cur_ref, old_ref = controller_of(cur), controller_of(old)
        if cur_ref != old_ref and old_ref is not None:
            job = self._resolve(ns, old_ref)
            if job is not None:
                if removed:
                    self._finalizer_observed(key_of(job), _meta(cur).get("uid") or "")
                self._enqueue_batched(job)
        if cur_ref is not None:
            job = self._resolve(ns, cur_ref)
            if job is not None:
                if removed:
                    self._finalizer_observed(key_of(job), _meta(cur).get("uid") or "")
                self._enqueue_batched(job)
            return
        if has_finalizer(cur):
            self._enqueue_orphan(cur)
        if _meta(cur).get("labels") != _meta(old).get("labels") or cur_ref != old_ref:
            for job in self._jobs_selecting(cur):
                self._enqueue_batched(job)

    def _on_pod_delete(self, obj: Obj | DeletedFinalStateUnknown, *, final: bool) -> None:
        pod = tombstone_object(obj)
        ref = controller_of(pod)
        fin = has_finalizer(pod)
        if ref is None:
            if fin:
                self._enqueue_orphan(pod)
            return
        job = self._resolve(_meta(pod).get("namespace") or "", ref)
        if job is None or is_finished(job):
            if fin:
                self._enqueue_orphan(pod)
            return
        key = key_of(job)
        self.expectations.observed_delete(key)
        if final or not fin:
            self._finalizer_observed(key, _meta(pod).get("uid") or "")
        self._enqueue_batched(job)

    def _finalizer_observed(self, key: str, uid: str) -> None:
        uids = self.finalizer_expectations.get(key)
        if uids is not None:
            uids.discard(uid)

    # -- sync ---------------------------------------------------------------------------------
    async def sync(self, key: str) -> None:
        if key.startswith(ORPHAN_PREFIX):
            await self._sync_orphan_pod(key[len(ORPHAN_PREFIX):])
        else:
            await self.sync_job(key)

    async def _sync_orphan_pod(self, key: str) -> None:
        pod = self.pod_informer.indexer.get_by_key(key)
        if pod is None or not has_finalizer(pod):
            return
        ref = controller_of(pod)
        if ref is not None:
            if ref.get("kind") != "Job" or ref.get("apiVersion") != "batch/v1":
                return
            job = self._resolve(_meta(pod).get("namespace") or "", ref)
            if job is not None and _spec(job).get("managedBy") not in (None, JOB_CONTROLLER_NAME):
                return
            if job is not None and not is_finished(job):
                return  # adopted meanwhile
        await self._remove_finalizer(pod)

    async def _remove_finalizer(self, pod: Mapping[str, Any]) -> None:
        meta = _meta(pod)
        try:
            await self.client.patch(self.pods_ref, meta["name"],
                                    {"metadata": {"$deleteFromPrimitiveList/finalizers": [TRACKING_FINALIZER]}},
                                    namespace=meta.get("namespace"), type="strategic")
        except ApiError as e:
            if not is_not_found(e):
                raise

    async def sync_job(self, key: str) -> None:
        ns, name = split_key(key)
        shared = self.job_informer.indexer.get_by_key(key)
        if shared is None:
            self.expectations.forget(key)
            self.finalizer_expectations.pop(key, None)
            self.backoffs.pop(key, None)
            return
        if _spec(shared).get("managedBy") not in (None, JOB_CONTROLLER_NAME):
            return
        if is_finished(shared):
            self.backoffs.pop(key, None)
            return
        mode = _spec(shared).get("completionMode")
        if mode not in (None, "NonIndexed", "Indexed"):
            self.recorder.event(shared, WARNING, "UnknownCompletionMode",
                                "Skipped Job sync because completion mode is unknown")
            return
        job = deepcopy(shared)
        spec = job.setdefault("spec", {})
        status = job.setdefault("status", {})
        uncounted = status.setdefault("uncountedTerminatedPods", {})

        satisfied = self.expectations.satisfied(key)
        pods = await self._pods_for_job(job)
        active_pods = [p for p in pods if is_active(p)]
        c = _SyncCtx(
            job=job, pods=pods, active_pods=active_pods,
            ready=sum(1 for p in active_pods if is_ready(p)),
            terminating=sum(1 for p in pods if is_terminating(p)),
            uncounted_succeeded=set(uncounted.get("succeeded") or ()),
            uncounted_failed=set(uncounted.get("failed") or ()),
            expected_rm=set(self.finalizer_expectations.get(key, ())),
        )
        active = len(active_pods)
        new_succeeded = self._new_finished(c, c.uncounted_succeeded, lambda p: _phase(p) == "Succeeded")
        new_failed = self._new_finished(c, c.uncounted_failed, lambda p: is_pod_failed(p, job))
        policy = spec.get("podFailurePolicy")
        counted_new_failed = sum(1 for p in new_failed if match_pod_failure_policy(policy, p)[1])
        c.succeeded = int(status.get("succeeded") or 0) + len(new_succeeded) + len(c.uncounted_succeeded)
        c.failed = int(status.get("failed") or 0) + counted_new_failed + len(c.uncounted_failed)

        if not status.get("startTime") and not is_suspended(job):
            status["startTime"] = self._ts()
        c.backoff = next_backoff_record(self.backoffs.get(key, BackoffRecord()), new_succeeded, new_failed)

        backoff_limit = int(spec.get("backoffLimit") if spec.get("backoffLimit") is not None else 6)
        c.finished = self._condition_if_true(job, "SuccessCriteriaMet")
        if c.finished is None:
            target = find_condition(job, "FailureTarget")
            if target is not None and target.get("status") == "True":
                c.finished = self._condition("Failed", target.get("reason", ""), target.get("message", ""))
            else:
                msg = next((m for p in pods if is_pod_failed(p, job)
                            for m in [match_pod_failure_policy(policy, p)[0]] if m), None)
                if msg is not None:
                    c.finished = self._condition("FailureTarget", "PodFailurePolicy", msg)
        if c.finished is None:
            if c.failed > backoff_limit or self._past_backoff_limit_on_failure(job, pods, backoff_limit):
                c.finished = self._condition("FailureTarget", "BackoffLimitExceeded",
                                             "Job has reached the specified backoff limit")
            elif self._past_active_deadline(job):
                c.finished = self._condition("FailureTarget", "DeadlineExceeded",
                                             "Job was active longer than specified deadline")
            elif spec.get("activeDeadlineSeconds") is not None and not is_suspended(job):
                start = parse_time(status.get("startTime")) or self.now()
                self.queue.add_after(key, max(0.0, spec["activeDeadlineSeconds"] - (self.now() - start)))

        if is_indexed(job):
            completions = int(spec.get("completions") or 0)
            c.prev_succeeded_ix = Intervals.parse(status.get("completedIndexes"), completions)
            c.succeeded_ix = c.prev_succeeded_ix.with_indexes(
                ix for p in pods for ix in [completion_index(p)]
                if _phase(p) == "Succeeded" and 0 <= ix < completions and has_finalizer(p))
            c.succeeded = c.succeeded_ix.total()
            if has_backoff_limit_per_index(job):
                c.failed_ix = self._failed_indexes(job, pods)
                if c.finished is None:
                    max_failed = spec.get("maxFailedIndexes")
                    if max_failed is not None and c.failed_ix.total() > max_failed:
                        c.finished = self._condition("FailureTarget", "MaxFailedIndexesExceeded",
                                                     "Job has exceeded the specified maximal number of failed indexes")
                    elif c.failed_ix.total() > 0 and c.failed_ix.total() + c.succeeded_ix.total() >= completions:
                        c.finished = self._condition("FailureTarget", "FailedIndexes", "Job has failed indexes")
                c.delayed_per_index = self._delayed_per_index(c)
            if c.finished is None:
                msg = match_success_policy(spec.get("successPolicy"), completions, c.succeeded_ix)
                if msg is not None:
                    c.finished = self._condition("SuccessCriteriaMet", "SuccessPolicy", msg)

        suspend_changed = False
        manage_error: Exception | None = None
        if c.finished is not None:
            deleted_ready, deleted, manage_error = await self._delete_pods(job, c.active_pods, remove_finalizer=False)
            if deleted != active or not satisfied:
                c.finished = None  # wait for every pod (and our own creations) to show up
            active -= deleted
            c.terminating += deleted
            c.ready -= deleted_ready
        else:
            manage_called = False
            if satisfied and not _meta(job).get("deletionTimestamp"):
                active, manage_error = await self._manage(key, c)
                manage_called = True
            completions = spec.get("completions")
            if completions is None:
                complete = c.succeeded > 0 and active == 0
            else:
                complete = c.succeeded >= completions and active == 0
            if complete:
                c.finished = self._condition("SuccessCriteriaMet", "CompletionsReached",
                                             "Reached expected number of succeeded pods")
            elif manage_called:
                if is_suspended(job):
                    if self._ensure_condition(job, "Suspended", "True", "JobSuspended", "Job suspended"):
                        suspend_changed = True
                        self.recorder.event(job, NORMAL, "Suspended", "Job suspended")
                elif self._ensure_condition(job, "Suspended", "False", "JobResumed", "Job resumed"):
                    suspend_changed = True
                    self.recorder.event(job, NORMAL, "Resumed", "Job resumed")
                    # activeDeadlineSeconds counts continuous activity: restart the clock
                    status["startTime"] = self._ts()

        needs_update = (suspend_changed or active != int(status.get("active") or 0)
                        or status.get("ready") != c.ready or status.get("terminating") != c.terminating)
        _set_count(status, "active", active)
        status["ready"] = c.ready
        status["terminating"] = c.terminating
        await self._track_and_remove_finalizers(key, c, needs_update)
        if manage_error is not None:
            raise manage_error

    # -- pieces of sync -----------------------------------------------------------------------
    def _new_finished(self, c: _SyncCtx, uncounted: set[str], keep: Any) -> list[Obj]:
        out = []
        completions = int(_spec(c.job).get("completions") or 0)
        for p in c.pods:
            uid = _meta(p).get("uid") or ""
            if not has_finalizer(p) or uid in uncounted or uid in c.expected_rm:
                continue
            if is_indexed(c.job) and not 0 <= completion_index(p) < completions:
                continue
            if keep(p):
                out.append(p)
        return out

    def _condition(self, ctype: str, reason: str, message: str) -> Obj:
        now = self._ts()
        return {"type": ctype, "status": "True", "lastProbeTime": now, "lastTransitionTime": now,
                "reason": reason, "message": message}

    @staticmethod
    def _condition_if_true(job: Mapping[str, Any], ctype: str) -> Obj | None:
        cond = find_condition(job, ctype)
        return dict(cond) if cond is not None and cond.get("status") == "True" else None

    def _ensure_condition(self, job: Obj, ctype: str, status: str, reason: str, message: str) -> bool:
        conditions = job["status"].setdefault("conditions", [])
        for i, cond in enumerate(conditions):
            if cond.get("type") == ctype:
                if (cond.get("status"), cond.get("reason", ""), cond.get("message", "")) != (status, reason, message):
                    conditions[i] = {**self._condition(ctype, reason, message), "status": status}
                    return True
                return False
        if status == "False":
            if not conditions:
                del job["status"]["conditions"]
            return False
        conditions.append({**self._condition(ctype, reason, message), "status": status})
        return True

    def _past_active_deadline(self, job: Mapping[str, Any]) -> bool:
        ads = _spec(job).get("activeDeadlineSeconds")
        start = parse_time((job.get("status") or {}).get("startTime"))
        if ads is None or start is None or is_suspended(job):
            return False
        return bool(self.now() - start >= ads)

    @staticmethod
    def _past_backoff_limit_on_failure(job: Mapping[str, Any], pods: Iterable[Mapping[str, Any]], limit: int) -> bool:
        template_spec = (_spec(job).get("template") or {}).get("spec") or {}
        if template_spec.get("restartPolicy") != "OnFailure":
            return False
        restarts = 0
        for p in pods:
            if _phase(p) in ("Running", "Pending"):
                st = p.get("status") or {}
                for cs in (st.get("initContainerStatuses") or []) + (st.get("containerStatuses") or []):
                    restarts += int(cs.get("restartCount") or 0)
        return restarts > 0 if limit == 0 else restarts >= limit

    def _failed_indexes(self, job: Mapping[str, Any], pods: Iterable[Mapping[str, Any]]) -> Intervals:
        spec = _spec(job)
        completions = int(spec.get("completions") or 0)
        prev = Intervals.parse((job.get("status") or {}).get("failedIndexes"), completions)
        failed = []
        for p in pods:
            ix = completion_index(p)
            if 0 <= ix < completions and has_finalizer(p) and self._index_failed(job, p):
                failed.append(ix)
        return prev.with_indexes(failed)

    @staticmethod
    def _index_failed(job: Mapping[str, Any], pod: Mapping[str, Any]) -> bool:
        if not is_pod_failed(pod, job):
            return False
        _, counts, action = match_pod_failure_policy(_spec(job).get("podFailurePolicy"), pod)
        if action == "FailIndex":
            return True
        return counts and _annotation_int(pod, INDEX_FAILURE_COUNT) >= int(_spec(job).get("backoffLimitPerIndex") or 0)

    def _delayed_per_index(self, c: _SyncCtx) -> dict[int, Obj]:
        """Per index, the last failed pod whose deletion waits for its replacement (so the
        replacement can inherit the failure count)."""
        completions = int(_spec(c.job).get("completions") or 0)
        active_ix = {completion_index(p) for p in c.active_pods}
        out: dict[int, Obj] = {}
        for p in c.pods:
            uid = _meta(p).get("uid") or ""
            if not has_finalizer(p) or uid in c.expected_rm or not is_pod_failed(p, c.job):
                continue
            ix = completion_index(p)
            if not 0 <= ix < completions:
                continue
            if c.succeeded_ix.has(ix) or (c.failed_ix is not None and c.failed_ix.has(ix)) or ix in active_ix:
                continue
            prev = out.get(ix)
            if prev is None or (_absolute_failures(prev) <= _absolute_failures(p)
                                and finished_time(p) >= finished_time(prev)):
                out[ix] = p
        return out

    async def _pods_for_job(self, job: Obj) -> list[Obj]:
        """Claim the pods: ours that still match, orphans that match (adopted, with the
        tracking finalizer), releasing ours that stopped matching."""
        ns = _meta(job).get("namespace") or ""
        candidates = self.pod_informer.indexer.by_index(NAMESPACE_INDEX, ns)
        owned, adopt, release = claim(job, candidates, selector_matches(_spec(job).get("selector")))
        adopting = {id(p) for p in adopt}
        out: list[Obj] = [dict(p) for p in owned if id(p) not in adopting]
        if adopt:
            fresh = await self.client.get(self.jobs_ref, _meta(job)["name"], namespace=ns)
            if _meta(fresh).get("uid") != _meta(job).get("uid"):
                raise RuntimeError(f"original Job {ns}/{_meta(job).get('name')} is gone")
            if _meta(fresh).get("deletionTimestamp"):
                adopt = []
        for pod in adopt:
            patch = adopt_patch(job, pod)
            patch["metadata"]["finalizers"] = [TRACKING_FINALIZER]
            try:
                out.append(await self.client.patch(self.pods_ref, _meta(pod)["name"], patch, namespace=ns,
                                                   type="strategic"))
            except ApiError as e:
                if not is_not_found(e):
                    raise
        for pod in release:
            try:
                await self.client.patch(self.pods_ref, _meta(pod)["name"], release_patch(job, pod), namespace=ns,
                                        type="strategic")
            except ApiError as e:
                if not is_not_found(e):
                    raise
        return out

    async def _manage(self, key: str, c: _SyncCtx) -> tuple[int, Exception | None]:
        """Create or delete pods toward the wanted number; returns (active, first error)."""
        job = c.job
        spec = job["spec"]
        active = len(c.active_pods)
        if is_suspended(job):
            to_delete = pods_for_removal(job, c.active_pods, active)
            self.expectations.expect(key, deletes=len(to_delete))
            removed_ready, removed, err = await self._delete_pods(job, to_delete, remove_finalizer=True, key=key)
            c.terminating += removed
            c.ready -= removed_ready
            return active - removed, err

        parallelism = int(spec.get("parallelism") if spec.get("parallelism") is not None else 1)
        completions = spec.get("completions")
        wanted = want_active(completions=completions, parallelism=parallelism, succeeded=c.succeeded, active=active)
        to_delete = pods_for_removal(job, c.active_pods, max(0, active - wanted))[:MAX_POD_CREATE_DELETE_PER_SYNC]
        if to_delete:
            self.expectations.expect(key, deletes=len(to_delete))
            removed_ready, removed, err = await self._delete_pods(job, to_delete, remove_finalizer=True, key=key)
            c.terminating += removed
            c.ready -= removed_ready
            return active - removed, err

        terminating = c.terminating if only_replace_failed(job) else 0
        diff = wanted - terminating - active
        if diff <= 0:
            return active, None
        if not has_backoff_limit_per_index(job):
            remaining = backoff_remaining(failures=c.backoff.failures_after_last_success,
                                          last_failure=c.backoff.last_failure_time, now=self.now(),
                                          initial=self.backoff_initial, cap=self.backoff_max)
            if remaining > 0:
                self._enqueue_batched(job, remaining)
                return 0, None
        diff = min(diff, MAX_POD_CREATE_DELETE_PER_SYNC)
        indexes: list[int] = []
        if is_indexed(job):
            term_ix = [completion_index(p) for p in c.pods if is_terminating(p)] if only_replace_failed(job) else []
            indexes = first_pending_indexes(
                count=diff, completions=int(completions or 0), active=[completion_index(p) for p in c.active_pods],
                succeeded=c.succeeded_ix, failed=c.failed_ix, terminating=term_ix)
            if has_backoff_limit_per_index(job):
                indexes, remaining = self._indexes_ready_now(indexes, c.delayed_per_index)
                if remaining > 0:
                    self._enqueue_batched(job, remaining)
                    return 0, None
            diff = len(indexes)
        if diff <= 0:
            return active, None
        self.expectations.expect(key, adds=diff)
        template = deepcopy(dict(spec.get("template") or {}))
        if is_indexed(job):
            _add_index_env(template)
        tmeta = template.setdefault("metadata", {})
        finalizers = tmeta.setdefault("finalizers", [])
        if TRACKING_FINALIZER not in finalizers:
            finalizers.append(TRACKING_FINALIZER)
        active += diff
        first_error: Exception | None = None
        batch = min(diff, SLOW_START_INITIAL_BATCH)
        pending = diff
        while pending > 0:
            batch_indexes = [indexes.pop(0) if indexes else -1 for _ in range(batch)]
            results = await asyncio.gather(*(self._create_pod(job, template, ix, c) for ix in batch_indexes),
                                           return_exceptions=True)
            errors = [r for r in results if isinstance(r, Exception)]
            for r in results:
                if isinstance(r, BaseException) and not isinstance(r, Exception):
                    raise r
            for err in errors:
                self.expectations.lower(key, adds=1)
                active -= 1
                if first_error is None:
                    first_error = err
            pending -= batch
            if errors and pending > 0:
                # slow start: one failing batch stops the rest until the next sync
                self.expectations.lower(key, adds=pending)
                active -= pending
                break
            batch = min(2 * batch, pending)
        return active, first_error

    def _indexes_ready_now(self, indexes: list[int], delayed: Mapping[int, Obj]) -> tuple[list[int], float]:
        now_ix: list[int] = []
        least: float | None = None
        for ix in indexes:
            pod = delayed.get(ix)
            remaining = 0.0
            if pod is not None:
                remaining = backoff_remaining(failures=_absolute_failures(pod) + 1, last_failure=finished_time(pod),
                                              now=self.now(), initial=self.backoff_initial, cap=self.backoff_max)
            if remaining == 0:
                now_ix.append(ix)
            elif least is None or remaining < least:
                least = remaining
        return (now_ix, 0.0) if now_ix else (now_ix, least or 0.0)

    async def _create_pod(self, job: Obj, template: Obj, index: int, c: _SyncCtx) -> None:
        name = _meta(job)["name"]
        generate_name: str | None = None
        if index >= 0:
            template = deepcopy(template)
            tmeta = template.setdefault("metadata", {})
            tmeta.setdefault("annotations", {})[COMPLETION_INDEX] = str(index)
            tmeta.setdefault("labels", {})[COMPLETION_INDEX] = str(index)
            template.setdefault("spec", {})["hostname"] = f"{name}-{index}"
            suffix = f"-{index}-"
            generate_name = name + suffix
            if len(generate_name) > MAX_GENERATED_NAME:
                generate_name = name[: MAX_GENERATED_NAME - len(suffix)] + suffix
            if has_backoff_limit_per_index(job):
                failures, ignored = _new_index_failure_counts(job, c.delayed_per_index.get(index))
                tmeta["annotations"][INDEX_FAILURE_COUNT] = str(failures)
                if ignored > 0:
                    tmeta["annotations"][INDEX_IGNORED_FAILURE_COUNT] = str(ignored)
        pod = pod_from_template(template, job, generate_name=generate_name)
        ns = _meta(job).get("namespace")
        try:
            created = await self.client.create(self.pods_ref, pod, namespace=ns)
        except ApiError as e:
            if _namespace_terminating(e):
                return
            self.recorder.event(job, WARNING, "FailedCreate", f"Error creating: {e}")
            raise
        self.recorder.event(job, NORMAL, "SuccessfulCreate", f"Created pod: {_meta(created).get('name')}")

    async def _delete_pods(
        self, job: Obj, pods: Sequence[Mapping[str, Any]], *, remove_finalizer: bool, key: str | None = None,
    ) -> tuple[int, int, Exception | None]:
        """Delete pods (first removing our finalizer when asked); returns (ready deleted,
        deleted, first error). NotFound counts as deleted."""
        async def one(pod: Mapping[str, Any]) -> None:
            meta = _meta(pod)
            try:
                if remove_finalizer and has_finalizer(pod):
                    await self._remove_finalizer(pod)
                await self.client.delete(self.pods_ref, meta["name"], namespace=meta.get("namespace"),
                                         options=DeleteOptions(preconditions=Preconditions(uid=meta.get("uid"))))
            except ApiError as e:
                if key is not None:
                    self.expectations.lower(key, deletes=1)
                if is_not_found(e):
                    return
                self.recorder.event(job, WARNING, "FailedDelete", f"Error deleting: {e}")
                raise
            self.recorder.event(job, NORMAL, "SuccessfulDelete", f"Deleted pod: {meta.get('name')}")

        results = await asyncio.gather(*(one(p) for p in pods), return_exceptions=True)
        deleted = ready = 0
        first: Exception | None = None
        for pod, r in zip(pods, results):
            if isinstance(r, BaseException):
                if first is None and isinstance(r, Exception):
                    first = r
                continue
            deleted += 1
            if is_ready(pod):
                ready += 1
        return ready, deleted, first

    async def _track_and_remove_finalizers(self, key: str, c: _SyncCtx, needs_flush: bool) -> None:
        """Record finished pods as uncounted, remove their finalizers, move them into the
        counters, and set the terminal condition when nothing is left in flight."""
        job = c.job
        spec, status = job["spec"], job["status"]
        indexed = is_indexed(job)
        completions = int(spec.get("completions") or 0)
        pods = sorted(c.pods, key=completion_index) if indexed else c.pods
        with_finalizer = {_meta(p).get("uid") or "" for p in pods
                          if has_finalizer(p) and (_meta(p).get("uid") or "") not in c.expected_rm}
        uncounted = status["uncountedTerminatedPods"]
        if _clean_uncounted(status, with_finalizer):
            needs_flush = True
        to_remove: list[Obj] = []
        new_succeeded_ix: list[int] = []
        policy = spec.get("podFailurePolicy")
        reached_max = False
        for pod in pods:
            uid = _meta(pod).get("uid") or ""
            if not has_finalizer(pod) or uid in c.expected_rm:
                continue
            failed = is_pod_failed(pod, job)
            if not self._can_remove_finalizer(c, pod, failed):
                continue
            to_remove.append(pod)
            ix = completion_index(pod)
            if _phase(pod) == "Succeeded" and uid not in c.uncounted_failed:
                if indexed:
                    if 0 <= ix < completions and not c.prev_succeeded_ix.has(ix):
                        new_succeeded_ix.append(ix)
                        needs_flush = True
                elif uid not in c.uncounted_succeeded:
                    needs_flush = True
                    uncounted.setdefault("succeeded", []).append(uid)
            elif failed or (c.finished is not None and c.finished["type"] != "SuccessCriteriaMet"):
                # once the Job is finishing, every pod that did not succeed counts as failed
                if uid not in c.uncounted_failed and (not indexed or 0 <= ix < completions):
                    if match_pod_failure_policy(policy, pod)[1]:
                        needs_flush = True
                        uncounted.setdefault("failed", []).append(uid)
            if len(new_succeeded_ix) + len(uncounted.get("succeeded") or ()) + len(uncounted.get("failed") or ()) \
                    >= MAX_UNCOUNTED_PODS:
                reached_max = True
                break
        if indexed:
            c.succeeded_ix = c.succeeded_ix.with_indexes(new_succeeded_ix)
            text = str(c.succeeded_ix)
            if text != (status.get("completedIndexes") or ""):
                needs_flush = True
            _set_count(status, "succeeded", c.succeeded_ix.total())
            status["completedIndexes"] = text
            if c.failed_ix is not None and status.get("failedIndexes") != str(c.failed_ix):
                status["failedIndexes"] = str(c.failed_ix)
                needs_flush = True
        if c.finished is not None and c.finished["type"] == "FailureTarget":
            status.setdefault("conditions", []).append(c.finished)
            needs_flush = True
            c.finished = self._condition("Failed", c.finished["reason"], c.finished["message"])
        if c.finished is not None and c.finished["type"] == "SuccessCriteriaMet":
            if find_condition(job, "SuccessCriteriaMet") is None:
                status.setdefault("conditions", []).append(c.finished)
                needs_flush = True
            c.finished = self._condition("Complete", c.finished["reason"], c.finished["message"])

        needs_flush = await self._flush_and_remove(key, c, to_remove, with_finalizer, needs_flush)
        finished = not reached_max and self._enact_finished(c)
        if finished:
            needs_flush = True
        if needs_flush:
            c.job = await self._update_status(c.job)
            if finished and c.finished is not None:
                self._record_finished(c.job, c.finished)

    def _can_remove_finalizer(self, c: _SyncCtx, pod: Mapping[str, Any], failed: bool) -> bool:
        if _meta(c.job).get("deletionTimestamp") or c.finished is not None or _phase(pod) == "Succeeded":
            return True
        if not failed:
            return False
        if has_backoff_limit_per_index(c.job):
            delayed = c.delayed_per_index.get(completion_index(pod))
            if delayed is not None and _meta(delayed).get("uid") == _meta(pod).get("uid"):
                return False
        return True

    async def _flush_and_remove(
        self, key: str, c: _SyncCtx, to_remove: list[Obj], with_finalizer: set[str], needs_flush: bool
    ) -> bool:
        if needs_flush:
            c.job = await self._update_status(c.job)
            self.backoffs[key] = c.backoff
            needs_flush = False
        rm_error: Exception | None = None
        if to_remove:
            expected = self.finalizer_expectations.setdefault(key, set())
            expected.update(_meta(p).get("uid") or "" for p in to_remove)

            async def one(pod: Obj) -> None:
                uid = _meta(pod).get("uid") or ""
                try:
                    await self._remove_finalizer(pod)
                except Exception:
                    expected.discard(uid)
                    raise

            results = await asyncio.gather(*(one(p) for p in to_remove), return_exceptions=True)
            for pod, r in zip(to_remove, results):
                if isinstance(r, BaseException):
                    if rm_error is None and isinstance(r, Exception):
                        rm_error = r
                else:
                    with_finalizer.discard(_meta(pod).get("uid") or "")
        if _clean_uncounted(c.job["status"], with_finalizer):
            needs_flush = True
        if rm_error is not None:
            if needs_flush:
                c.job = await self._update_status(c.job)
            raise rm_error
        return needs_flush

    def _enact_finished(self, c: _SyncCtx) -> bool:
        if c.finished is None:
            return False
        status = c.job["status"]
        uncounted = status.get("uncountedTerminatedPods") or {}
        if uncounted.get("succeeded") or uncounted.get("failed"):
            return False
        if c.terminating > 0:
            return False
        cond = c.finished
        self._ensure_condition(c.job, cond["type"], "True", cond["reason"], cond["message"])
        if cond["type"] == "Complete":
            status["completionTime"] = cond["lastTransitionTime"]
        return True

    def _record_finished(self, job: Obj, cond: Mapping[str, Any]) -> None:
        if cond["type"] == "Complete":
            completions = _spec(job).get("completions")
            if completions is not None and int((job.get("status") or {}).get("succeeded") or 0) > completions:
                self.recorder.event(job, WARNING, "TooManySucceededPods",
                                    "Too many succeeded pods running after completion count reached")
            self.recorder.event(job, NORMAL, "Completed", "Job completed")
        else:
            self.recorder.event(job, WARNING, cond["reason"], cond["message"])

    async def _update_status(self, job: Obj) -> Obj:
        status = job.get("status") or {}
        unc = status.get("uncountedTerminatedPods")
        if isinstance(unc, dict):
            for k in ("succeeded", "failed"):
                if not unc.get(k):
                    unc.pop(k, None)
        updated: Obj = await self.client.update_status(self.jobs_ref, job, namespace=_meta(job).get("namespace"))
        updated.setdefault("status", {}).setdefault("uncountedTerminatedPods", {})
        return updated


# -- helpers --------------------------------------------------------------------------------------

def _set_count(status: Obj, name: str, value: int) -> None:
    """int32 fields with omitempty: zero is left out."""
    if value:
        status[name] = value
    else:
        status.pop(name, None)


def _clean_uncounted(status: Obj, with_finalizer: set[str]) -> bool:
    """Move uncounted pods whose finalizer is gone into the counters; True if anything moved."""
    uncounted = status.setdefault("uncountedTerminatedPods", {})
    changed = False
    for kind in ("succeeded", "failed"):
        uids = uncounted.get(kind) or []
        keep = [u for u in uids if u in with_finalizer]
        if len(keep) != len(uids):
            changed = True
            _set_count(status, kind, int(status.get(kind) or 0) + len(uids) - len(keep))
            if keep:
                uncounted[kind] = keep
            else:
                uncounted.pop(kind, None)
    return changed


def _absolute_failures(pod: Mapping[str, Any]) -> int:
    return _annotation_int(pod, INDEX_FAILURE_COUNT) + _annotation_int(pod, INDEX_IGNORED_FAILURE_COUNT)


def _new_index_failure_counts(job: Mapping[str, Any], replaced: Mapping[str, Any] | None) -> tuple[int, int]:
    if replaced is None:
        return 0, 0
    failures = _annotation_int(replaced, INDEX_FAILURE_COUNT)
    ignored = _annotation_int(replaced, INDEX_IGNORED_FAILURE_COUNT)
    if match_pod_failure_policy(_spec(job).get("podFailurePolicy"), replaced)[1]:
        failures += 1
    else:
        ignored += 1
    return failures, ignored


def _add_index_env(template: Obj) -> None:
    """JOB_COMPLETION_INDEX from the downward API (the index label) in every container."""
    spec = template.setdefault("spec", {})
    for kind in ("initContainers", "containers"):
        for container in spec.get(kind) or ():
            env = container.setdefault("env", [])
            if any(e.get("name") == COMPLETION_INDEX_ENV for e in env):
                continue
            env.append({"name": COMPLETION_INDEX_ENV, "valueFrom": {"fieldRef": {
                "apiVersion": "v1", "fieldPath": f"metadata.labels['{COMPLETION_INDEX}']"}}})


def _namespace_terminating(e: ApiError) -> bool:
    causes = (e.status.get("details") or {}).get("causes") or []
    return any(c.get("type") == "NamespaceTerminating" for c in causes)


def new(ctx: ControllerContext) -> JobController:
    return JobController(ctx)
