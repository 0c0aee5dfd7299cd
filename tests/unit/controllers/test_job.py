"""Job controller: seed the caches, run sync, assert the writes (pods, finalizers, status)."""

from __future__ import annotations

from typing import Any

import pytest

from kubepy.client import FakeClock, InformerFactory
from kubepy.client.events import rfc3339
from kubepy.client.fake import FakeClient
from kubepy.controllers import job as jobctl
from kubepy.controllers.context import ControllerContext
from kubepy.controllers.job import (
    COMPLETION_INDEX,
    TRACKING_FINALIZER,
    Intervals,
    backoff_remaining,
    first_pending_indexes,
    match_pod_failure_policy,
    pods_for_removal,
    want_active,
)

NS = "ns"
UID = "job-uid"
KEY = f"{NS}/j"


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, str]] = []

    def event(self, obj: Any, type: str, reason: str, message: str, **_: Any) -> None:
        self.events.append((type, reason, message))

    def reasons(self) -> list[str]:
        return [r for _, r, _ in self.events]


def make_job(**spec: Any) -> dict[str, Any]:
    status = spec.pop("status", {})
    base: dict[str, Any] = {
        "completions": 1, "parallelism": 1, "backoffLimit": 6, "completionMode": "NonIndexed", "suspend": False,
        "podReplacementPolicy": "TerminatingOrFailed",
        "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": UID}},
        "template": {"metadata": {"labels": {"batch.kubernetes.io/controller-uid": UID,
                                             "batch.kubernetes.io/job-name": "j"}},
                     "spec": {"containers": [{"name": "c", "image": "busybox"}], "restartPolicy": "Never"}},
    }
    base.update(spec)
    return {"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": "j", "namespace": NS, "uid": UID, "generation": 1}, "spec": base, "status": status}


def make_pod(name: str, phase: str = "Running", *, index: int | None = None, ready: bool = True,
             finalizer: bool = True, finished_at: str | None = None, exit_code: int = 1,
             annotations: dict[str, str] | None = None, deleting: bool = False) -> dict[str, Any]:
    ann = dict(annotations or {})
    labels = {"batch.kubernetes.io/controller-uid": UID, "batch.kubernetes.io/job-name": "j"}
    if index is not None:
        ann[COMPLETION_INDEX] = str(index)
        labels[COMPLETION_INDEX] = str(index)
    meta: dict[str, Any] = {
        "name": name, "namespace": NS, "uid": f"uid-{name}", "labels": labels, "annotations": ann,
        "creationTimestamp": "2024-05-01T09:00:00Z",
        "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "name": "j", "uid": UID, "controller": True}],
    }
    if finalizer:
        meta["finalizers"] = [TRACKING_FINALIZER]
    if deleting:
        meta["deletionTimestamp"] = "2024-05-01T09:59:00Z"
    status: dict[str, Any] = {"phase": phase}
    if phase == "Running":
        status["conditions"] = [{"type": "Ready", "status": "True" if ready else "False"}]
    if phase in ("Succeeded", "Failed"):
        code = 0 if phase == "Succeeded" else exit_code
        status["containerStatuses"] = [{"name": "c", "state": {"terminated": {
            "exitCode": code, "finishedAt": finished_at or "2024-05-01T09:30:00Z"}}}]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": {"nodeName": "n1"}, "status": status}


class Harness:
    def __init__(self, *objs: dict[str, Any], options: dict[str, Any] | None = None) -> None:
        self.client = FakeClient()
        self.clock = FakeClock()  # wall time 2024-05-01T10:00:00Z
        self.recorder = Recorder()
        ctx = ControllerContext(client=self.client, informers=InformerFactory(self.client),  # type: ignore[arg-type]
                                recorder=self.recorder, clock=self.clock,  # type: ignore[arg-type]
                                options={"job_sync_batch_period": 0.0, **(options or {})})
        self.ctl = jobctl.new(ctx)
        for o in objs:
            self.client.seed(o)
        self.refresh()

    def refresh(self, plurals: tuple[str, ...] = ("jobs", "pods")) -> None:
        """Make the informer caches show what the fake API server holds."""
        for inf, plural in ((self.ctl.job_informer, "jobs"), (self.ctl.pod_informer, "pods")):
            if plural not in plurals:
                continue
            for key in inf.indexer.list_keys():
                inf.indexer.delete(inf.indexer.get_by_key(key))
            for (_, pl, _, _), obj in self.client.objects.items():
                if pl == plural:
                    inf.indexer.add(obj)

    async def sync(self, key: str = KEY) -> None:
        self.client.actions.clear()
        await self.ctl.sync(key)
        self.refresh()

    def job(self) -> dict[str, Any]:
        obj = self.client.get_object("batch/v1", "jobs", NS, "j")
        assert obj is not None
        return obj

    def conditions(self) -> dict[str, tuple[str, str]]:
        return {c["type"]: (c["status"], c.get("reason", "")) for c in self.job()["status"].get("conditions") or ()}

    def pods(self) -> list[dict[str, Any]]:
        return [o for (_, pl, _, _), o in self.client.objects.items() if pl == "pods"]

    def created_pods(self) -> list[Any]:
        return [a.body for a in self.client.writes("create", "pods")]

    def requeued_in(self, key: str = KEY) -> float | None:
        ready = self.ctl.queue._waiting.get(key)
        return None if ready is None else ready - self.clock.monotonic()


# -- pure decisions -------------------------------------------------------------------------------

@pytest.mark.parametrize(("completions", "parallelism", "succeeded", "active", "want"), [
    (4, 2, 0, 0, 2),
    (4, 2, 3, 0, 1),
    (4, 2, 4, 1, 0),
    (4, 8, 0, 0, 4),
    (None, 3, 0, 0, 3),
    (None, 3, 1, 2, 2),
], ids=[
    "parallelism caps the pods of a fresh job",
    "only the remaining completions run near the end",
    "nothing runs once completions are reached",
    "completions cap a larger parallelism",
    "a work queue job runs parallelism pods",
    "a work queue job lets the running pods finish after a success",
])
def test_want_active(completions: int | None, parallelism: int, succeeded: int, active: int, want: int) -> None:
    assert want_active(completions=completions, parallelism=parallelism, succeeded=succeeded, active=active) == want


@pytest.mark.parametrize(("text", "completions", "indexes", "back"), [
    ("", 5, [], ""),
    ("1,3-5,7", 10, [1, 3, 4, 5, 7], "1,3-5,7"),
    ("0-1", 5, [0, 1], "0,1"),
    ("2-9", 5, [2, 3, 4], "2-4"),
    ("1,2,3", 5, [1, 2, 3], "1-3"),
    ("x,2", 5, [2], "2"),
], ids=[
    "empty text is no index",
    "ranges and singles round trip",
    "a pair is written with a comma",
    "indexes beyond completions are cut",
    "adjacent singles merge into a range",
    "a corrupt interval is skipped",
])
def test_intervals(text: str, completions: int, indexes: list[int], back: str) -> None:
    iv = Intervals.parse(text, completions)
    assert [i for a, b in iv.items for i in range(a, b + 1)] == indexes
    assert str(iv) == back
    assert iv.total() == len(indexes)


def test_intervals_with_indexes_merges_neighbours() -> None:
    assert str(Intervals.parse("0,4", 10).with_indexes([1, 2, 3, 7])) == "0-4,7"


@pytest.mark.parametrize(("count", "active", "succeeded", "failed", "terminating", "want"), [
    (3, [], "", None, [], [0, 1, 2]),
    (2, [0], "1", None, [], [2, 3]),
    (5, [], "0-2", "3", [], [4]),
    (2, [], "", None, [0], [1, 2]),
], ids=[
    "the lowest indexes are taken first",
    "running and succeeded indexes are skipped",
    "failed indexes are not retried",
    "an index held by a terminating pod waits",
])
def test_first_pending_indexes(count, active, succeeded, failed, terminating, want) -> None:
    got = first_pending_indexes(count=count, completions=5, active=active, succeeded=Intervals.parse(succeeded, 5),
                                failed=None if failed is None else Intervals.parse(failed, 5), terminating=terminating)
    assert got == want


@pytest.mark.parametrize(("failures", "elapsed", "want"), [
    (0, 0.0, 0.0),
    (1, 0.0, 10.0),
    (1, 4.0, 6.0),
    (2, 0.0, 20.0),
    (3, 0.0, 40.0),
    (1, 11.0, 0.0),
    (20, 0.0, 600.0),
], ids=[
    "no failure means no wait",
    "the first failure waits the initial delay",
    "time already passed is subtracted",
    "the second failure doubles the delay",
    "the third failure doubles it again",
    "a delay that has passed means create now",
    "the delay is capped",
])
def test_backoff_remaining(failures: int, elapsed: float, want: float) -> None:
    assert backoff_remaining(failures=failures, last_failure=1000.0, now=1000.0 + elapsed,
                             initial=10.0, cap=600.0) == pytest.approx(want)


POLICY = {"rules": [
    {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]},
    {"action": "FailJob", "onExitCodes": {"operator": "In", "values": [42]}},
    {"action": "Count", "onExitCodes": {"containerName": "c", "operator": "NotIn", "values": [42, 1]}},
]}


@pytest.mark.parametrize(("pod_change", "message", "counts", "action"), [
    ({"exit": 42}, "Container c for pod ns/p failed with exit code 42 matching FailJob rule at index 1", True, "FailJob"),
    ({"exit": 3}, None, True, "Count"),
    ({"exit": 1}, None, True, None),
    ({"exit": 42, "disrupted": True}, None, False, "Ignore"),
], ids=[
    "an exit code in the FailJob rule fails the job",
    "a NotIn rule counts other exit codes",
    "no matching rule counts the failure",
    "the first matching rule wins (a disruption is ignored)",
])
def test_match_pod_failure_policy(pod_change: dict[str, Any], message, counts, action) -> None:
    pod = make_pod("p", "Failed", exit_code=pod_change["exit"])
    if pod_change.get("disrupted"):
        pod["status"]["conditions"] = [{"type": "DisruptionTarget", "status": "True"}]
    assert match_pod_failure_policy(POLICY, pod) == (message, counts, action)


def test_pods_for_removal_prefers_unready_pods_and_duplicate_indexes() -> None:
    ready = make_pod("a", index=0)
    unready = make_pod("b", index=1, ready=False)
    duplicate = make_pod("c", index=0, ready=False)
    out_of_range = make_pod("d", index=9)
    job = make_job(completions=3, parallelism=3, completionMode="Indexed")
    assert [p["metadata"]["name"] for p in pods_for_removal(job, [ready, unready, duplicate, out_of_range], 0)] == \
        ["d", "c"]
    plain = make_job(completions=3, parallelism=3)
    assert [p["metadata"]["name"] for p in pods_for_removal(plain, [ready, unready], 1)] == ["b"]


# -- sync -----------------------------------------------------------------------------------------

async def test_a_new_job_gets_parallelism_pods_with_finalizer_and_owner() -> None:
    h = Harness(make_job(completions=4, parallelism=2))
    await h.sync()
    pods = h.created_pods()
    assert len(pods) == 2
    for pod in pods:
        meta = pod["metadata"]
        assert meta["generateName"] == "j-"
        assert meta["finalizers"] == [TRACKING_FINALIZER]
        assert meta["labels"]["batch.kubernetes.io/controller-uid"] == UID
        assert meta["ownerReferences"][0]["uid"] == UID and meta["ownerReferences"][0]["controller"]
    status = h.job()["status"]
    assert status["active"] == 2 and status["ready"] == 0 and status["startTime"] == "2024-05-01T10:00:00Z"
    assert h.recorder.reasons() == ["SuccessfulCreate", "SuccessfulCreate"]


async def test_expectations_stop_a_second_round_of_creates_before_the_cache_sees_them() -> None:
    h = Harness(make_job(completions=4, parallelism=2))
    await h.ctl.sync(KEY)
    h.refresh(("jobs",))  # the pod cache has not seen the new pods yet
    h.client.actions.clear()
    await h.ctl.sync(KEY)
    assert h.client.writes("create", "pods") == []


async def test_a_succeeded_pod_is_counted_through_uncounted_then_its_finalizer_removed() -> None:
    h = Harness(make_job(completions=4, parallelism=2), make_pod("p1", "Succeeded"), make_pod("p2"))
    await h.sync()
    status_writes = [a.body["status"] for a in h.client.writes("update", "jobs")]
    assert status_writes[0]["uncountedTerminatedPods"] == {"succeeded": ["uid-p1"]}
    assert status_writes[-1].get("succeeded") == 1 and status_writes[-1]["uncountedTerminatedPods"] == {}
    patches = [a for a in h.client.writes("patch", "pods") if a.name == "p1"]
    assert patches and patches[0].body == {"metadata": {"$deleteFromPrimitiveList/finalizers": [TRACKING_FINALIZER]}}
    assert len(h.created_pods()) == 1  # 4 - 1 succeeded = 3 wanted, capped at parallelism 2, one runs


async def test_a_job_completes_with_success_criteria_met_then_complete() -> None:
    h = Harness(make_job(completions=2, parallelism=2, status={"startTime": "2024-05-01T09:00:00Z"}),
                make_pod("p1", "Succeeded"), make_pod("p2", "Succeeded"))
    await h.sync()
    conds = h.conditions()
    assert conds["SuccessCriteriaMet"] == ("True", "CompletionsReached")
    assert conds["Complete"] == ("True", "CompletionsReached")
    status = h.job()["status"]
    assert status["succeeded"] == 2 and status["completionTime"] == "2024-05-01T10:00:00Z"
    assert h.recorder.reasons() == ["Completed"]
    assert all(not p["metadata"].get("finalizers") for p in h.pods())


async def test_a_second_sync_with_nothing_new_writes_nothing() -> None:
    h = Harness(make_job(completions=4, parallelism=2), make_pod("p1"), make_pod("p2"))
    await h.sync()
    await h.sync()
    assert h.client.actions == []


async def test_indexed_job_pods_get_index_annotation_label_hostname_and_env() -> None:
    h = Harness(make_job(completions=3, parallelism=3, completionMode="Indexed"), make_pod("j-1-x", "Succeeded", index=1))
    await h.sync()
    pods = sorted(h.created_pods(), key=lambda p: p["metadata"]["annotations"][COMPLETION_INDEX])
    assert [p["metadata"]["annotations"][COMPLETION_INDEX] for p in pods] == ["0", "2"]
    pod = pods[1]
    assert pod["metadata"]["labels"][COMPLETION_INDEX] == "2"
    assert pod["metadata"]["generateName"] == "j-2-"
    assert pod["spec"]["hostname"] == "j-2"
    env = pod["spec"]["containers"][0]["env"]
    assert env == [{"name": "JOB_COMPLETION_INDEX", "valueFrom": {"fieldRef": {
        "apiVersion": "v1", "fieldPath": f"metadata.labels['{COMPLETION_INDEX}']"}}}]
    status = h.job()["status"]
    assert status["completedIndexes"] == "1" and status["succeeded"] == 1


async def test_a_failed_pod_is_replaced_only_after_the_backoff() -> None:
    h = Harness(make_job(completions=1, parallelism=1),
                make_pod("p1", "Failed", finished_at=rfc3339(FakeClock().time())))
    await h.sync()
    assert h.created_pods() == []
    assert h.job()["status"]["failed"] == 1
    assert h.requeued_in() == pytest.approx(10.0)
    h.clock.advance(10.5)
    await h.sync()
    assert len(h.created_pods()) == 1


async def test_the_backoff_initial_delay_is_an_option() -> None:
    h = Harness(make_job(), make_pod("p1", "Failed", finished_at=rfc3339(FakeClock().time())),
                options={"job_backoff_initial": 0.5})
    await h.sync()
    assert h.requeued_in() == pytest.approx(0.5)


async def test_backoff_limit_exceeded_fails_the_job_in_two_phases() -> None:
    h = Harness(make_job(backoffLimit=1, status={"startTime": "2024-05-01T09:00:00Z"}),
                make_pod("p1", "Failed"), make_pod("p2", "Failed"))
    await h.sync()
    conds = h.conditions()
    assert conds["FailureTarget"] == ("True", "BackoffLimitExceeded")
    assert conds["Failed"] == ("True", "BackoffLimitExceeded")
    assert h.job()["status"]["failed"] == 2
    assert ("Warning", "BackoffLimitExceeded", "Job has reached the specified backoff limit") in h.recorder.events
    assert "completionTime" not in h.job()["status"]


async def test_an_active_deadline_deletes_running_pods_and_fails_once_they_are_gone() -> None:
    h = Harness(make_job(activeDeadlineSeconds=5, status={"startTime": "2024-05-01T09:59:50Z"}), make_pod("p1"))
    await h.sync()
    assert [a.name for a in h.client.writes("delete", "pods")] == ["p1"]
    assert h.conditions()["FailureTarget"] == ("True", "DeadlineExceeded")
    assert "Failed" not in h.conditions()  # a pod was still terminating
    await h.sync()
    assert h.conditions()["Failed"] == ("True", "DeadlineExceeded")
    assert ("Warning", "DeadlineExceeded", "Job was active longer than specified deadline") in h.recorder.events


async def test_a_deadline_in_the_future_requeues_for_it() -> None:
    h = Harness(make_job(activeDeadlineSeconds=30, status={"startTime": "2024-05-01T09:59:50Z"}), make_pod("p1"))
    await h.sync()
    assert h.requeued_in() == pytest.approx(20.0)
    assert h.conditions() == {}


@pytest.mark.parametrize(("rule", "exit_code", "condition", "failed", "backs_off"), [
    ({"action": "FailJob", "onExitCodes": {"operator": "In", "values": [42]}}, 42,
     ("FailureTarget", "PodFailurePolicy"), 1, False),
    ({"action": "Ignore", "onExitCodes": {"operator": "In", "values": [42]}}, 42, None, None, True),
    ({"action": "Count", "onExitCodes": {"operator": "In", "values": [42]}}, 42, None, 1, True),
    ({"action": "FailJob", "onExitCodes": {"operator": "In", "values": [42]}}, 7, None, 1, True),
], ids=[
    "a FailJob rule fails the job at once",
    "an Ignore rule does not count the failure (the replacement still backs off)",
    "a Count rule counts the failure and backs off",
    "an exit code no rule matches counts as usual",
])
async def test_pod_failure_policy(rule, exit_code, condition, failed, backs_off) -> None:
    h = Harness(make_job(backoffLimit=3, podFailurePolicy={"rules": [rule]}, podReplacementPolicy="Failed"),
                make_pod("p1", "Failed", exit_code=exit_code, finished_at=rfc3339(FakeClock().time())))
    await h.sync()
    if condition:
        assert h.conditions()[condition[0]] == ("True", condition[1])
        assert h.conditions()["Failed"] == ("True", "PodFailurePolicy")
    else:
        assert h.conditions() == {}
    assert h.job()["status"].get("failed") == failed
    assert h.created_pods() == []
    assert (h.requeued_in() is not None) is backs_off


async def test_suspending_deletes_active_pods_and_sets_the_suspended_condition() -> None:
    h = Harness(make_job(completions=2, parallelism=2, suspend=True, status={"startTime": "2024-05-01T09:00:00Z"}),
                make_pod("p1"), make_pod("p2"))
    await h.sync()
    assert sorted(a.name for a in h.client.writes("delete", "pods")) == ["p1", "p2"]
    assert {a.name for a in h.client.writes("patch", "pods")} == {"p1", "p2"}  # finalizers first
    assert h.conditions()["Suspended"] == ("True", "JobSuspended")
    assert "Suspended" in h.recorder.reasons()


async def test_a_job_created_suspended_has_no_pods_and_no_start_time() -> None:
    h = Harness(make_job(suspend=True))
    await h.sync()
    assert h.created_pods() == []
    assert "startTime" not in h.job()["status"]
    assert h.conditions()["Suspended"] == ("True", "JobSuspended")


async def test_resuming_resets_start_time_and_creates_pods() -> None:
    job = make_job(status={"startTime": "2024-05-01T08:00:00Z", "conditions": [
        {"type": "Suspended", "status": "True", "reason": "JobSuspended", "message": "Job suspended"}]})
    h = Harness(job)
    await h.sync()
    assert h.conditions()["Suspended"] == ("False", "JobResumed")
    assert h.job()["status"]["startTime"] == "2024-05-01T10:00:00Z"
    assert len(h.created_pods()) == 1
    assert "Resumed" in h.recorder.reasons()


async def test_an_orphan_pod_loses_the_tracking_finalizer() -> None:
    pod = make_pod("p1", "Succeeded")
    h = Harness(pod)  # its Job is gone
    await h.sync("pod|ns/p1")
    assert [a.name for a in h.client.writes("patch", "pods")] == ["p1"]
    assert not h.pods()[0]["metadata"].get("finalizers")


async def test_a_matching_orphan_pod_is_adopted_with_the_finalizer() -> None:
    pod = make_pod("p1", finalizer=False)
    pod["metadata"]["ownerReferences"] = []
    h = Harness(make_job(completions=1), pod)
    await h.sync()
    adopted = next(p for p in h.pods() if p["metadata"]["name"] == "p1")
    assert adopted["metadata"]["ownerReferences"][0]["uid"] == UID
    assert TRACKING_FINALIZER in adopted["metadata"]["finalizers"]
    assert h.created_pods() == []


async def test_a_finished_job_is_left_alone() -> None:
    done = make_job(status={"conditions": [{"type": "Complete", "status": "True"}]})
    h = Harness(done, make_pod("p1"))
    await h.sync()
    assert h.client.actions == []
