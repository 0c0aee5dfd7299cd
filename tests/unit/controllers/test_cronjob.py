"""Cron schedules, missed-start arithmetic, the CronJob controller and TTL-after-finished."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from kubepy.client import FakeClock, InformerFactory
from kubepy.client.fake import FakeClient
from kubepy.controllers import cronjob as cjctl
from kubepy.controllers import ttlafterfinished
from kubepy.controllers.context import ControllerContext
from kubepy.controllers.cron import CronError, parse
from kubepy.controllers.cronjob import SCHEDULED_TIMESTAMP, job_name, most_recent_schedule_time

NS = "ns"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(("spec", "tz", "after", "expected"), [
    ("* * * * *", None, utc(2024, 5, 1, 10, 0, 30), [utc(2024, 5, 1, 10, 1)]),
    ("*/15 9-17 * * MON-FRI", None, utc(2024, 5, 3, 17, 50),
     [utc(2024, 5, 6, 9, 0), utc(2024, 5, 6, 9, 15)]),
    ("0 0 1,15 JAN,jul *", None, utc(2024, 1, 10), [utc(2024, 1, 15), utc(2024, 7, 1), utc(2024, 7, 15)]),
    ("5 4 * * sun", None, utc(2024, 5, 1), [utc(2024, 5, 5, 4, 5)]),
    ("0 12 13 * 5", None, utc(2024, 9, 1), [utc(2024, 9, 6, 12), utc(2024, 9, 13, 12)]),
    ("@hourly", None, utc(2024, 5, 1, 10, 0), [utc(2024, 5, 1, 11)]),
    ("@daily", None, utc(2024, 5, 1, 10), [utc(2024, 5, 2)]),
    ("@midnight", None, utc(2024, 5, 1, 10), [utc(2024, 5, 2)]),
    ("@weekly", None, utc(2024, 5, 1), [utc(2024, 5, 5)]),
    ("@monthly", None, utc(2024, 5, 1), [utc(2024, 6, 1)]),
    ("@yearly", None, utc(2024, 5, 1), [utc(2025, 1, 1)]),
    ("@annually", None, utc(2024, 5, 1), [utc(2025, 1, 1)]),
    ("0 0 29 2 *", None, utc(2024, 3, 1), [utc(2028, 2, 29)]),
    ("0 9 * * *", "Europe/Berlin", utc(2024, 5, 1), [utc(2024, 5, 1, 7), utc(2024, 5, 2, 7)]),
    ("30 2 * * *", "America/New_York", utc(2024, 3, 9, 12),
     [utc(2024, 3, 11, 6, 30), utc(2024, 3, 12, 6, 30)]),
    ("30 1 * * *", "America/New_York", utc(2024, 11, 2, 12),
     [utc(2024, 11, 3, 5, 30), utc(2024, 11, 3, 6, 30), utc(2024, 11, 4, 6, 30)]),
    ("0 0 * * *", "America/New_York", utc(2024, 3, 9, 12), [utc(2024, 3, 10, 5), utc(2024, 3, 11, 4)]),
], ids=[
    "every minute fires at the next whole minute",
    "steps, hour ranges and day names skip the weekend",
    "lists of days and month names in any case",
    "a lower-case day name",
    "day of month OR day of week when both are restricted",
    "@hourly",
    "@daily",
    "@midnight",
    "@weekly is Sunday midnight",
    "@monthly",
    "@yearly",
    "@annually",
    "the 29th of February waits for a leap year",
    "a time zone shifts the UTC run time (CEST is UTC+2)",
    "a wall time skipped by spring-forward does not run that day",
    "a wall time repeated by fall-back runs twice, as robfig/cron does",
    "midnight keeps to local midnight across a DST change",
])
def test_schedule_next(spec: str, tz: str | None, after: datetime, expected: list[datetime]) -> None:
    schedule = parse(spec, tz)
    got = []
    t = after
    for _ in expected:
        nxt = schedule.next(t)
        assert nxt is not None
        got.append(nxt)
        t = nxt
    assert got == expected


def test_a_schedule_that_never_fires_has_no_next_time() -> None:
    assert parse("0 0 30 2 *").next(utc(2024, 1, 1)) is None


@pytest.mark.parametrize(("spec", "tz", "message"), [
    ("* * *", None, "expected exactly 5 fields, found 3: [* * *]"),
    ("60 * * * *", None, "end of range (60) above maximum (59): 60"),
    ("@sometimes", None, "unrecognized descriptor: @sometimes"),
    ("* * * * *", "Mars/Olympus", "provided bad location Mars/Olympus: unknown time zone Mars/Olympus"),
], ids=["too few fields", "a minute out of range", "an unknown descriptor", "an unknown time zone"])
def test_bad_schedules_are_refused_with_robfig_messages(spec: str, tz: str | None, message: str) -> None:
    with pytest.raises(CronError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")
                       .replace("]", r"\]").replace("*", r"\*")):
        parse(spec, tz)


def make_cj(**spec: Any) -> dict[str, Any]:
    status = spec.pop("status", {})
    base: dict[str, Any] = {
        "schedule": "*/5 * * * *", "concurrencyPolicy": "Allow", "suspend": False,
        "successfulJobsHistoryLimit": 3, "failedJobsHistoryLimit": 1,
        "jobTemplate": {"metadata": {"labels": {"app": "x"}, "annotations": {"a": "b"}},
                        "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "busybox"}],
                                                       "restartPolicy": "Never"}}}},
    }
    base.update(spec)
    return {"apiVersion": "batch/v1", "kind": "CronJob",
            "metadata": {"name": "cj", "namespace": NS, "uid": "cj-uid", "creationTimestamp": "2024-05-01T09:00:00Z"},
            "spec": base, "status": status}


@pytest.mark.parametrize(("schedule", "last", "deadline", "now", "recent", "missed"), [
    ("*/5 * * * *", "2024-05-01T09:55:00Z", None, utc(2024, 5, 1, 9, 58), None, 0),
    ("*/5 * * * *", "2024-05-01T09:55:00Z", None, utc(2024, 5, 1, 10, 0, 5), utc(2024, 5, 1, 10), 0),
    ("*/5 * * * *", "2024-05-01T09:00:00Z", None, utc(2024, 5, 1, 10, 2), utc(2024, 5, 1, 10), 12),
    ("* * * * *", "2024-04-01T00:00:00Z", None, utc(2024, 5, 1, 10), utc(2024, 5, 1, 10), 43_800),
    ("* * * * *", "2024-04-01T00:00:00Z", 200, utc(2024, 5, 1, 10), utc(2024, 5, 1, 10), 4),
], ids=[
    "nothing is due before the next time",
    "one time is due just after it passes",
    "several missed times give the most recent one",
    "a month of missed minutes is counted (more than 100)",
    "startingDeadlineSeconds limits how far back to look",
])
def test_most_recent_schedule_time(schedule, last, deadline, now, recent, missed) -> None:
    cj = make_cj(schedule=schedule, startingDeadlineSeconds=deadline, status={"lastScheduleTime": last})
    _, got, got_missed = most_recent_schedule_time(cj, now, parse(schedule), include_starting_deadline=True)
    assert got == recent
    assert got_missed == missed


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, str]] = []

    def event(self, obj: Any, type: str, reason: str, message: str, **_: Any) -> None:
        self.events.append((type, reason, message))

    def reasons(self) -> list[str]:
        return [r for _, r, _ in self.events]


def make_job(name: str, finished: str | None = None, *, start: str = "2024-05-01T09:00:00Z",
             completion: str | None = None) -> dict[str, Any]:
    status: dict[str, Any] = {"startTime": start}
    if finished:
        status["conditions"] = [{"type": finished, "status": "True"}]
    if completion:
        status["completionTime"] = completion
    return {"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": name, "namespace": NS, "uid": f"uid-{name}",
                         "ownerReferences": [{"apiVersion": "batch/v1", "kind": "CronJob", "name": "cj",
                                              "uid": "cj-uid", "controller": True}]},
            "spec": {}, "status": status}


def ref(name: str) -> dict[str, Any]:
    return {"kind": "Job", "namespace": NS, "name": name, "uid": f"uid-{name}", "apiVersion": "batch/v1"}


class Harness:
    def __init__(self, *objs: dict[str, Any], now: datetime = utc(2024, 5, 1, 10, 0, 5), factory: Any = cjctl.new):
        self.client = FakeClient()
        self.clock = FakeClock(wall_start=now.timestamp())
        self.recorder = Recorder()
        ctx = ControllerContext(client=self.client, informers=InformerFactory(self.client),  # type: ignore[arg-type]
                                recorder=self.recorder, clock=self.clock)  # type: ignore[arg-type]
        self.ctl = factory(ctx)
        for o in objs:
            seeded = self.client.seed(o)
            for inf in ctx.informers.informers:
                if inf.reflector.lister_watcher.ref.plural == self.client._plural(o)[1]:  # type: ignore[attr-defined]
                    inf.indexer.add(seeded)

    async def sync(self, key: str = f"{NS}/cj") -> None:
        await self.ctl.sync(key)

    def cj(self) -> dict[str, Any]:
        obj = self.client.get_object("batch/v1", "cronjobs", NS, "cj")
        assert obj is not None
        return obj

    def requeued_in(self, key: str = f"{NS}/cj") -> float | None:
        ready = self.ctl.queue._waiting.get(key)
        return None if ready is None else ready - self.clock.monotonic()


async def test_a_due_schedule_creates_a_named_job_and_records_it() -> None:
    h = Harness(make_cj(status={"lastScheduleTime": "2024-05-01T09:55:00Z"}))
    await h.sync()
    [create] = h.client.writes("create", "jobs")
    job = create.body
    name = job_name("cj", utc(2024, 5, 1, 10))
    assert job["metadata"]["name"] == name == f"cj-{int(utc(2024, 5, 1, 10).timestamp()) // 60}"
    assert job["metadata"]["annotations"] == {"a": "b", SCHEDULED_TIMESTAMP: "2024-05-01T10:00:00Z"}
    assert job["metadata"]["labels"] == {"app": "x"}
    assert job["metadata"]["ownerReferences"][0]["uid"] == "cj-uid"
    status = h.cj()["status"]
    assert status["lastScheduleTime"] == "2024-05-01T10:00:00Z"
    assert [a["name"] for a in status["active"]] == [name]
    assert h.recorder.reasons() == ["SuccessfulCreate"]
    assert h.requeued_in() == pytest.approx(300 - 5 + 0.1)


async def test_the_scheduled_timestamp_annotation_uses_the_time_zone() -> None:
    h = Harness(make_cj(schedule="0 12 * * *", timeZone="Europe/Berlin",
                        status={"lastScheduleTime": "2024-04-30T10:00:00Z"}), now=utc(2024, 5, 1, 10, 0, 5))
    await h.sync()
    [create] = h.client.writes("create", "jobs")
    assert create.body["metadata"]["annotations"][SCHEDULED_TIMESTAMP] == "2024-05-01T12:00:00+02:00"


async def test_nothing_due_only_requeues_for_the_next_time() -> None:
    h = Harness(make_cj(status={"lastScheduleTime": "2024-05-01T10:00:00Z"}), now=utc(2024, 5, 1, 10, 2))
    await h.sync()
    assert h.client.actions == []
    assert h.requeued_in() == pytest.approx(180.1)


@pytest.mark.parametrize(("policy", "creates", "deletes", "reason"), [
    ("Allow", 1, [], "SuccessfulCreate"),
    ("Forbid", 0, [], "JobAlreadyActive"),
    ("Replace", 1, ["old"], "SuccessfulDelete"),
], ids=[
    "Allow starts a new job beside the running one",
    "Forbid skips the time while one runs",
    "Replace deletes the running job first",
])
async def test_concurrency_policy(policy: str, creates: int, deletes: list[str], reason: str) -> None:
    h = Harness(make_cj(concurrencyPolicy=policy, status={"lastScheduleTime": "2024-05-01T09:55:00Z",
                                                          "active": [ref("old")]}), make_job("old"))
    await h.sync()
    assert len(h.client.writes("create", "jobs")) == creates
    assert [a.name for a in h.client.writes("delete", "jobs")] == deletes
    assert reason in h.recorder.reasons()


async def test_a_time_past_the_starting_deadline_is_skipped_until_the_next_one() -> None:
    h = Harness(make_cj(startingDeadlineSeconds=3, status={"lastScheduleTime": "2024-05-01T09:55:00Z"}))
    await h.sync()
    assert h.client.writes("create", "jobs") == []
    assert h.requeued_in() == pytest.approx(300 - 5 + 0.1)


async def test_a_time_within_the_starting_deadline_still_starts() -> None:
    h = Harness(make_cj(startingDeadlineSeconds=10, status={"lastScheduleTime": "2024-05-01T09:55:00Z"}))
    await h.sync()
    assert len(h.client.writes("create", "jobs")) == 1


async def test_too_many_missed_times_still_start_the_latest_with_a_warning() -> None:
    h = Harness(make_cj(schedule="* * * * *", status={"lastScheduleTime": "2024-04-01T00:00:00Z"}))
    await h.sync()
    assert "TooManyMissedTimes" in h.recorder.reasons()
    assert len(h.client.writes("create", "jobs")) == 1


async def test_a_suspended_cronjob_creates_nothing() -> None:
    h = Harness(make_cj(suspend=True, status={"lastScheduleTime": "2024-05-01T09:55:00Z"}))
    await h.sync()
    assert h.client.actions == []


async def test_a_finished_active_job_is_dropped_and_success_time_recorded_later() -> None:
    done = make_job("done", "Complete", completion="2024-05-01T09:57:00Z")
    h = Harness(make_cj(status={"lastScheduleTime": "2024-05-01T10:00:00Z", "active": [ref("done")]}), done)
    await h.sync()
    assert ("Normal", "SawCompletedJob", "Saw completed job: done, condition: Complete") in h.recorder.events
    assert "active" not in h.cj()["status"]
    h.ctl.cronjob_informer.indexer.add(h.cj())
    await h.sync()
    assert h.cj()["status"]["lastSuccessfulTime"] == "2024-05-01T09:57:00Z"


async def test_an_active_job_that_vanished_is_dropped() -> None:
    h = Harness(make_cj(status={"lastScheduleTime": "2024-05-01T10:00:00Z", "active": [ref("gone")]}))
    await h.sync()
    assert "MissingJob" in h.recorder.reasons()
    assert "active" not in h.cj()["status"]


async def test_history_limits_delete_the_oldest_finished_jobs() -> None:
    jobs = [make_job(f"ok{i}", "Complete", start=f"2024-05-01T0{i}:00:00Z") for i in range(5)]
    jobs += [make_job(f"bad{i}", "Failed", start=f"2024-05-01T0{i}:00:00Z") for i in range(2)]
    h = Harness(make_cj(status={"lastScheduleTime": "2024-05-01T10:00:00Z"}), *jobs)
    await h.sync()
    assert sorted(a.name for a in h.client.writes("delete", "jobs")) == ["bad0", "ok0", "ok1"]
    assert h.recorder.reasons().count("SuccessfulDelete") == 3


async def test_an_already_created_job_of_ours_is_put_back_in_the_active_list() -> None:
    name = job_name("cj", utc(2024, 5, 1, 10))
    existing = make_job(name)
    h = Harness(make_cj(status={"lastScheduleTime": "2024-05-01T09:55:00Z"}), existing)
    h.ctl.job_informer.indexer.delete(h.ctl.job_informer.indexer.get_by_key(f"{NS}/{name}"))  # cache is behind
    await h.sync()
    assert [a["name"] for a in h.cj()["status"]["active"]] == [name]
    assert "SuccessfulCreate" not in h.recorder.reasons()


# -- ttl-after-finished ---------------------------------------------------------------------------

def finished_job(ttl: int | None, finished_at: str = "2024-05-01T09:59:50Z") -> dict[str, Any]:
    spec: dict[str, Any] = {} if ttl is None else {"ttlSecondsAfterFinished": ttl}
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j", "namespace": NS, "uid": "u"},
            "spec": spec, "status": {"conditions": [
                {"type": "Complete", "status": "True", "lastTransitionTime": finished_at}]}}


@pytest.mark.parametrize(("ttl", "deleted", "requeue"), [
    (0, True, None),
    (5, True, None),
    (60, False, 50.0),
    (None, False, None),
], ids=[
    "a zero TTL deletes at once",
    "an expired TTL deletes",
    "a TTL in the future requeues for the expiry",
    "a job without TTL is kept",
])
async def test_ttl_after_finished(ttl: int | None, deleted: bool, requeue: float | None) -> None:
    h = Harness(finished_job(ttl), now=utc(2024, 5, 1, 10), factory=ttlafterfinished.new)
    await h.sync(f"{NS}/j")
    deletes = h.client.writes("delete", "jobs")
    assert bool(deletes) is deleted
    if deleted:
        assert deletes[0].body["propagationPolicy"] == "Foreground"
        assert deletes[0].body["preconditions"] == {"uid": "u"}
    got = h.requeued_in(f"{NS}/j")
    assert (got is None) if requeue is None else got == pytest.approx(requeue)


def test_an_unfinished_job_does_not_expire() -> None:
    job = finished_job(0)
    job["status"] = {}
    assert ttlafterfinished.expires_at(job) is None
