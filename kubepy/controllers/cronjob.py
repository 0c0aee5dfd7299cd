"""The CronJob controller: create a Job at every scheduled time, keep history in bounds.

Job: upstream 1.32's cronjob controller (v2). For each CronJob it reconciles the Jobs it
controls with ``status.active`` (dropping finished and vanished ones, with SawCompletedJob
and MissingJob events, and advancing ``lastSuccessfulTime``), deletes the oldest finished
Jobs beyond ``successfulJobsHistoryLimit``/``failedJobsHistoryLimit``, and, unless
suspended, finds the most recent unmet schedule time since ``lastScheduleTime`` (or
creation). A time older than ``startingDeadlineSeconds`` is a MissSchedule; otherwise
``concurrencyPolicy`` decides (Allow, Forbid: skip while one runs, Replace: delete the
running ones) and a Job named ``<cronjob>-<minutes since epoch>`` is created with the
``batch.kubernetes.io/cronjob-scheduled-timestamp`` annotation. The key is requeued for
the next schedule time (+100 ms, as upstream) on the injected clock.

Design: the deterministic Job name is the lock that keeps a restarted controller from
creating a time's Job twice; status is written once per sync with everything that changed.
Schedules come from kubepy.controllers.cron (robfig/cron semantics, time zones through
zoneinfo). When more than 100 start times were missed the most recent one still runs and a
TooManyMissedTimes warning is recorded, as upstream. The missed-schedule search is pure
(``most_recent_schedule_time``) and tested by tables.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from kubepy.client import (
    NORMAL,
    OWNER_UID_INDEX,
    WARNING,
    ApiError,
    DeleteOptions,
    DeletedFinalStateUnknown,
    deepcopy,
    is_already_exists,
    is_not_found,
    owner_uid_index,
)
from kubepy.controllers.base import Controller, tombstone_object
from kubepy.controllers.context import ControllerContext
from kubepy.controllers.cron import CronError, Schedule, location, parse
from kubepy.controllers.job import is_finished, parse_time
from kubepy.controllers.podcontrol import controller_of, owner_reference

__all__ = ["CronJobController", "new", "most_recent_schedule_time", "job_name", "SCHEDULED_TIMESTAMP",
           "TooManyMissed"]

Obj = dict[str, Any]

SCHEDULED_TIMESTAMP = "batch.kubernetes.io/cronjob-scheduled-timestamp"
NEXT_SCHEDULE_DELTA = 0.1
MANY_MISSED = 100


class TooManyMissed(Exception):
    pass


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def _dt(value: Any) -> datetime | None:
    t = parse_time(value)
    return None if t is None else datetime.fromtimestamp(t, tz=UTC)


def _rfc3339(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def job_name(cronjob_name: str, scheduled: datetime) -> str:
    """``<cronjob>-<scheduled time in minutes since the epoch>``."""
    return f"{cronjob_name}-{int(scheduled.timestamp()) // 60}"


def most_recent_schedule_time(
    cj: Mapping[str, Any], now: datetime, schedule: Schedule, *, include_starting_deadline: bool,
) -> tuple[datetime, datetime | None, int]:
    """(earliest time considered, the latest schedule time <= now after it or None, how
    many start times were missed roughly). Raises ValueError for schedules that never or
    ever-so-often fire."""
    earliest = _dt((cj.get("status") or {}).get("lastScheduleTime")) or \
        _dt(_meta(cj).get("creationTimestamp")) or now
    deadline = (cj.get("spec") or {}).get("startingDeadlineSeconds")
    if include_starting_deadline and deadline is not None:
        earliest = max(earliest, now - timedelta(seconds=deadline))
    t1 = schedule.next(earliest)
    if t1 is None:
        raise ValueError("time difference between two schedules is less than 1 second")
    if now < t1:
        return earliest, None, 0
    t2 = schedule.next(t1)
    if t2 is None or now < t2:
        return earliest, t1, 0
    between = round((t2 - t1).total_seconds())
    if between < 1:
        raise ValueError("time difference between two schedules is less than 1 second")
    missed = int((now - t1).total_seconds()) // between + 1
    # jump close to now, then walk the schedule (irregular schedules make the jump approximate)
    t: datetime | None = schedule.next(t1 + timedelta(seconds=(missed - 2) * between))
    recent: datetime | None = None
    while t is not None and t <= now:
        recent = t
        t = schedule.next(t)
    return earliest, recent, missed


def _go_rfc3339(t: datetime) -> str:
    text = t.replace(microsecond=0).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _rfc1123z(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")


def _job_ref(job: Mapping[str, Any]) -> Obj:
    meta = _meta(job)
    return {"kind": "Job", "namespace": meta.get("namespace"), "name": meta.get("name"), "uid": meta.get("uid"),
            "apiVersion": "batch/v1", "resourceVersion": meta.get("resourceVersion")}


def _finished_type(job: Mapping[str, Any]) -> str | None:
    for c in (job.get("status") or {}).get("conditions") or ():
        if c.get("type") in ("Complete", "Failed") and c.get("status") == "True":
            return str(c["type"])
    return None


def _start_key(job: Mapping[str, Any]) -> tuple[int, float, str]:
    start = parse_time((job.get("status") or {}).get("startTime"))
    return (1, 0.0, _meta(job).get("name") or "") if start is None else (0, start, _meta(job).get("name") or "")


class CronJobController(Controller):
    NAME = "cronjob"
    WORKERS = 5

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx)
        self.cronjobs_ref = self.client.resource("batch/v1", "cronjobs")
        self.jobs_ref = self.client.resource("batch/v1", "jobs")
        self.cronjob_informer = ctx.informers.informer(self.cronjobs_ref)
        self.job_informer = ctx.informers.informer(self.jobs_ref, indexers={OWNER_UID_INDEX: owner_uid_index})
        self.handle_all(self.cronjob_informer)
        self.job_informer.add_event_handler(on_add=self._on_job, on_update=lambda old, new: self._on_job(new),
                                            on_delete=self._on_job)

    def informers(self) -> list[Any]:
        return [self.cronjob_informer, self.job_informer]

    def _on_job(self, obj: Obj | DeletedFinalStateUnknown) -> None:
        job = tombstone_object(obj)
        ref = controller_of(job)
        if ref is None or ref.get("kind") != "CronJob":
            return
        key = f"{_meta(job).get('namespace')}/{ref.get('name')}"
        cj = self.cronjob_informer.indexer.get_by_key(key)
        if cj is not None and _meta(cj).get("uid") == ref.get("uid"):
            self.queue.add(key)

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock.time(), tz=UTC)

    # -- sync -----------------------------------------------------------------------------------
    async def sync(self, key: str) -> None:
        shared = self.cronjob_informer.indexer.get_by_key(key)
        if shared is None:
            return
        uid = _meta(shared).get("uid") or ""
        jobs = [j for j in self.job_informer.indexer.by_index(OWNER_UID_INDEX, uid)
                if (ref := controller_of(j)) is not None and ref.get("kind") == "CronJob"
                and ref.get("name") == _meta(shared).get("name")]
        cj = deepcopy(shared)
        cj.setdefault("status", {})
        changed = await self._cleanup_finished_jobs(cj, jobs)
        requeue, synced_changed, error = await self._sync_cronjob(cj, jobs)
        if changed or synced_changed:
            status = cj["status"]
            if not status.get("active"):
                status.pop("active", None)
            await self.client.update_status(self.cronjobs_ref, cj, namespace=_meta(cj).get("namespace"))
        if requeue is not None:
            self.queue.add_after(key, max(0.0, requeue))
            return
        if error is not None:
            raise error

    async def _sync_cronjob(self, cj: Obj, jobs: Sequence[Mapping[str, Any]]) -> tuple[float | None, bool, Exception | None]:
        """Returns (requeue after seconds or None, status changed, error to retry on)."""
        ns = _meta(cj).get("namespace") or ""
        status = cj["status"]
        spec = cj.get("spec") or {}
        changed = False
        children: set[str] = set()
        for job in jobs:
            uid = _meta(job).get("uid") or ""
            children.add(uid)
            found = _in_active(cj, uid)
            finished = is_finished(job)
            if not found and not finished:
                fresh = await self.client.get(self.cronjobs_ref, _meta(cj)["name"], namespace=ns)
                if _in_active(fresh, uid):
                    cj["status"] = status = fresh.get("status") or {}
                    continue
                self.recorder.event(cj, WARNING, "UnexpectedJob",
                                    f"Saw a job that the controller did not create or forgot: {_meta(job).get('name')}")
            elif found and finished:
                _remove_active(cj, uid)
                self.recorder.event(cj, NORMAL, "SawCompletedJob",
                                    f"Saw completed job: {_meta(job).get('name')}, condition: {_finished_type(job)}")
                changed = True
            elif _finished_type(job) == "Complete":
                completed = (job.get("status") or {}).get("completionTime")
                last = parse_time(status.get("lastSuccessfulTime"))
                done = parse_time(completed)
                if completed and (last is None or (done is not None and done > last)):
                    status["lastSuccessfulTime"] = completed
                    changed = True
        for ref in list(status.get("active") or ()):
            if ref.get("uid") in children:
                continue
            try:
                await self.client.get(self.jobs_ref, ref.get("name", ""), namespace=ref.get("namespace") or ns)
            except ApiError as e:
                if not is_not_found(e):
                    return None, changed, e
                self.recorder.event(cj, NORMAL, "MissingJob", f"Active job went missing: {ref.get('name')}")
                _remove_active(cj, ref.get("uid"))
                changed = True

        if _meta(cj).get("deletionTimestamp"):
            return None, changed, None
        tz = spec.get("timeZone")
        if tz is not None:
            try:
                location(tz)
            except CronError as e:
                self.recorder.event(cj, WARNING, "UnknownTimeZone", f'invalid timeZone: "{tz}": {e}')
                return None, changed, None
        if spec.get("suspend"):
            return None, changed, None
        text = str(spec.get("schedule") or "")
        if "TZ=" in text:
            self.recorder.event(cj, WARNING, "UnsupportedSchedule",
                                f'CRON_TZ or TZ used in schedule "{text}" is not officially supported, see '
                                "https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details")
        try:
            schedule = parse(text, tz)
        except CronError as e:
            self.recorder.event(cj, WARNING, "UnparseableSchedule", f'unparseable schedule: "{text}" : {e}')
            return None, changed, None

        now = self.now()
        try:
            _, scheduled, missed = most_recent_schedule_time(cj, now, schedule, include_starting_deadline=True)
        except ValueError as e:
            self.recorder.event(cj, WARNING, "InvalidSchedule", f"invalid schedule: {text} : {e}")
            return None, changed, None
        if scheduled is not None and missed > MANY_MISSED:
            self.recorder.event(cj, WARNING, "TooManyMissedTimes",
                                "too many missed start times. Set or decrease .spec.startingDeadlineSeconds "
                                "or check clock skew")
        if scheduled is None:
            return self._requeue(cj, now, schedule), changed, None
        deadline = spec.get("startingDeadlineSeconds")
        if deadline is not None and scheduled + timedelta(seconds=deadline) < now:
            self.recorder.event(cj, WARNING, "MissSchedule",
                                f"Missed scheduled time to start a job: {_rfc1123z(scheduled)}")
            return self._requeue(cj, now, schedule), changed, None
        name = job_name(_meta(cj)["name"], scheduled)
        if any(r.get("name") == name for r in status.get("active") or ()) or \
                parse_time(status.get("lastScheduleTime")) == scheduled.timestamp():
            return self._requeue(cj, now, schedule), changed, None
        policy = spec.get("concurrencyPolicy") or "Allow"
        if policy == "Forbid" and status.get("active"):
            self.recorder.event(cj, NORMAL, "JobAlreadyActive",
                                "Not starting job because prior execution is running and concurrency policy is Forbid")
            return self._requeue(cj, now, schedule), changed, None
        if policy == "Replace":
            for ref in list(status.get("active") or ()):
                try:
                    job = await self.client.get(self.jobs_ref, ref.get("name", ""), namespace=ref.get("namespace") or ns)
                except ApiError as e:
                    self.recorder.event(cj, WARNING, "FailedGet", f"Get job: {e}")
                    return None, changed, e
                if not await self._delete_job(cj, job):
                    return None, changed, RuntimeError(f"could not replace job {ns}/{_meta(job).get('name')}")
                changed = True

        job = self._job_from_template(cj, scheduled, name, tz)
        try:
            created = await self.client.create(self.jobs_ref, job, namespace=ns)
        except ApiError as e:
            if is_already_exists(e):
                existing = await self.client.get(self.jobs_ref, name, namespace=ns)
                ref = controller_of(existing)
                if ref is None or ref.get("uid") != _meta(cj).get("uid"):
                    return None, changed, None  # someone else's Job: they own the status
                if _in_active(cj, _meta(existing).get("uid") or ""):
                    return None, changed, None
                created = existing
            else:
                causes = (e.status.get("details") or {}).get("causes") or []
                if not any(c.get("type") == "NamespaceTerminating" for c in causes):
                    self.recorder.event(cj, WARNING, "FailedCreate", f"Error creating job: {e}")
                return None, changed, e
        else:
            self.recorder.event(cj, NORMAL, "SuccessfulCreate", f"Created job {_meta(created).get('name')}")
        status.setdefault("active", []).append(_job_ref(created))
        status["lastScheduleTime"] = _rfc3339(scheduled)
        return self._requeue(cj, now, schedule), True, None

    def _requeue(self, cj: Mapping[str, Any], now: datetime, schedule: Schedule) -> float | None:
        """Seconds until the next schedule time after the last one met (+100 ms)."""
        try:
            earliest, recent, _ = most_recent_schedule_time(cj, now, schedule, include_starting_deadline=False)
            base = recent or earliest
        except ValueError:
            base = now
        nxt = schedule.next(base)
        if nxt is None:
            return None
        return (nxt - now).total_seconds() + NEXT_SCHEDULE_DELTA

    @staticmethod
    def _job_from_template(cj: Mapping[str, Any], scheduled: datetime, name: str, tz: str | None) -> Obj:
        template = (cj.get("spec") or {}).get("jobTemplate") or {}
        tmeta = template.get("metadata") or {}
        annotations = dict(tmeta.get("annotations") or {})
        annotations[SCHEDULED_TIMESTAMP] = _go_rfc3339(scheduled.astimezone(location(tz)))
        meta: Obj = {"name": name, "annotations": annotations, "ownerReferences": [owner_reference(cj)],
                     "namespace": _meta(cj).get("namespace")}
        if tmeta.get("labels"):
            meta["labels"] = dict(tmeta["labels"])
        return {"apiVersion": "batch/v1", "kind": "Job", "metadata": meta,
                "spec": deepcopy(dict(template.get("spec") or {}))}

    async def _cleanup_finished_jobs(self, cj: Obj, jobs: Sequence[Mapping[str, Any]]) -> bool:
        spec = cj.get("spec") or {}
        ok_limit, failed_limit = spec.get("successfulJobsHistoryLimit"), spec.get("failedJobsHistoryLimit")
        if ok_limit is None and failed_limit is None:
            return False
        succeeded = [j for j in jobs if _finished_type(j) == "Complete" and not _meta(j).get("deletionTimestamp")]
        failed = [j for j in jobs if _finished_type(j) == "Failed" and not _meta(j).get("deletionTimestamp")]
        changed = False
        for group, limit in ((succeeded, ok_limit), (failed, failed_limit)):
            if limit is None or len(group) <= limit:
                continue
            for job in sorted(group, key=_start_key)[: len(group) - limit]:
                if await self._delete_job(cj, job):
                    changed = True
        return changed

    async def _delete_job(self, cj: Obj, job: Mapping[str, Any]) -> bool:
        meta = _meta(job)
        try:
            await self.client.delete(self.jobs_ref, meta.get("name", ""), namespace=meta.get("namespace"),
                                     options=DeleteOptions(propagation_policy="Background"))
        except ApiError as e:
            if not is_not_found(e):
                self.recorder.event(cj, WARNING, "FailedDelete", f"Deleted job: {e}")
                return False
        _remove_active(cj, meta.get("uid"))
        self.recorder.event(cj, NORMAL, "SuccessfulDelete", f"Deleted job {meta.get('name')}")
        return True


def _in_active(cj: Mapping[str, Any], uid: str) -> bool:
    return any(r.get("uid") == uid for r in (cj.get("status") or {}).get("active") or ())


def _remove_active(cj: Obj, uid: Any) -> None:
    status = cj.setdefault("status", {})
    status["active"] = [r for r in status.get("active") or () if r.get("uid") != uid]


def new(ctx: ControllerContext) -> CronJobController:
    return CronJobController(ctx)
