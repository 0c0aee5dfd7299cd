"""The disruption controller: PodDisruptionBudget status from the pods a budget selects,
their controllers' scale, readiness and the evictions recorded in ``disruptedPods``."""

from __future__ import annotations

from typing import Any

import pytest

from kubepy.client import ApiError, FakeClock, InformerFactory
from kubepy.client.events import rfc3339
from kubepy.client.fake import FakeClient
from kubepy.controllers.context import ControllerContext
from kubepy.controllers.disruption import (
    DELETION_TIMEOUT,
    STALE_POD_DISRUPTION_TIMEOUT,
    STALE_POD_KEY_PREFIX,
    DisruptionController,
    count_healthy,
    rebuild_disrupted_pods,
    scaled_value,
    stale_disruption_wait,
    updated_status,
)

Obj = dict[str, Any]
NS = "default"


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, str, str]] = []

    def event(self, obj: Obj, type: str, reason: str, message: str, **_: Any) -> None:
        self.events.append((obj["metadata"]["name"], type, reason, message))

    def reasons(self) -> list[str]:
        return [e[2] for e in self.events]


# -- builders ---------------------------------------------------------------------------------

def pdb(name: str = "pdb", *, min_available: int | str | None = None, max_unavailable: int | str | None = None,
        selector: Obj | None = None, status: Obj | None = None, generation: int = 1) -> Obj:
    spec: Obj = {"selector": {"matchLabels": {"app": "web"}} if selector is None else selector}
    if min_available is not None:
        spec["minAvailable"] = min_available
    if max_unavailable is not None:
        spec["maxUnavailable"] = max_unavailable
    obj: Obj = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                "metadata": {"name": name, "namespace": NS, "uid": f"uid-{name}", "generation": generation},
                "spec": spec}
    if status is not None:
        obj["status"] = status
    return obj


def pod(name: str, *, ready: bool = True, owner: Obj | None = None, deleting: bool = False,
        labels: Obj | None = None, phase: str = "Running", conditions: list[Obj] | None = None) -> Obj:
    meta: Obj = {"name": name, "namespace": NS, "uid": f"uid-{name}", "labels": labels or {"app": "web"}}
    if owner is not None:
        meta["ownerReferences"] = [{**owner, "controller": True}]
    if deleting:
        meta["deletionTimestamp"] = "2024-05-01T10:00:00Z"
    conds = [{"type": "Ready", "status": "True" if ready else "False"}] + list(conditions or [])
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": {},
            "status": {"phase": phase, "conditions": conds}}


def workload(kind: str, name: str, replicas: int, *, owner: Obj | None = None) -> Obj:
    api_version = "v1" if kind == "ReplicationController" else "apps/v1"
    meta: Obj = {"name": name, "namespace": NS, "uid": f"uid-{name}"}
    if owner is not None:
        meta["ownerReferences"] = [{**owner, "controller": True}]
    return {"apiVersion": api_version, "kind": kind, "metadata": meta, "spec": {"replicas": replicas}}


def ref(obj: Obj) -> Obj:
    return {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "name": obj["metadata"]["name"],
            "uid": obj["metadata"]["uid"]}


def make(budget: Obj, pods: list[Obj], workloads: list[Obj] = ()) -> tuple[DisruptionController, FakeClient,  # type: ignore[assignment]
                                                                          Recorder, FakeClock]:
    client = FakeClient(budget, *pods, *workloads)
    clock = FakeClock()
    recorder = Recorder()
    ctx = ControllerContext(client=client, informers=InformerFactory(client),  # type: ignore[arg-type]
                            recorder=recorder, clock=clock)  # type: ignore[arg-type]
    ctrl = DisruptionController(ctx)
    ctrl.pdbs.indexer.add(stored_pdb(client, budget["metadata"]["name"]))
    for p in pods:
        ctrl.pods.indexer.add(p)
    informer_of = {"ReplicationController": ctrl.rcs, "ReplicaSet": ctrl.replicasets,
                   "Deployment": ctrl.deployments, "StatefulSet": ctrl.statefulsets}
    for w in workloads:
        informer_of[w["kind"]].indexer.add(w)
    return ctrl, client, recorder, clock


def stored_pdb(client: FakeClient, name: str = "pdb") -> Obj:
    obj = client.get_object("policy/v1", "poddisruptionbudgets", NS, name)
    assert obj is not None
    return obj


def written_status(client: FakeClient) -> Obj:
    [action] = client.writes("update", "poddisruptionbudgets")
    assert action.subresource == "status"
    status: Obj = action.body["status"]
    return status


def numbers(status: Obj) -> tuple[int, int, int, int]:
    return (status["expectedPods"], status["desiredHealthy"], status["currentHealthy"], status["disruptionsAllowed"])


def allowed_condition(status: Obj) -> Obj:
    found: list[Obj] = [c for c in status["conditions"] if c["type"] == "DisruptionAllowed"]
    assert len(found) == 1
    return found[0]


RS = workload("ReplicaSet", "web-rs", 4)
DEPLOY = workload("Deployment", "web", 5)
RS_OF_DEPLOY = workload("ReplicaSet", "web-abc", 4, owner=ref(DEPLOY))
SS = workload("StatefulSet", "db", 3)
RC = workload("ReplicationController", "legacy", 2)


# -- pure functions -----------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "total", "want"), [
    (2, 10, 2),
    ("50%", 5, 3),
    ("34%", 3, 2),
    ("0%", 7, 0),
    ("100%", 7, 7),
], ids=["an integer is taken as is", "half of five rounds up to three", "a third of three rounds up to two",
        "zero percent is zero", "all of them"])
def test_scaled_values_round_percentages_up(value: int | str, total: int, want: int) -> None:
    assert scaled_value(value, total) == want


@pytest.mark.parametrize("value", ["3", "abc%"], ids=["a string without a percent sign", "a non-numeric percentage"])
def test_scaled_value_rejects_strings_that_are_not_percentages(value: str) -> None:
    with pytest.raises(ValueError):
        scaled_value(value, 10)


NOW = 1_714_557_600.0


@pytest.mark.parametrize(("age", "deleting", "kept", "expired"), [
    (10.0, False, True, False),
    (DELETION_TIMEOUT + 1, False, False, True),
    (10.0, True, False, False),
], ids=["a fresh eviction is kept", "an eviction older than the deletion timeout expires",
        "a pod already being deleted leaves the map"])
def test_disrupted_pod_entries(age: float, deleting: bool, kept: bool, expired: bool) -> None:
    pods = [pod("a", deleting=deleting)]
    result, recheck, gone = rebuild_disrupted_pods(pods, {"a": rfc3339(NOW - age), "vanished": rfc3339(NOW)}, NOW)
    assert ("a" in result) is kept
    assert "vanished" not in result, "an entry whose pod no longer exists is dropped"
    assert [p["metadata"]["name"] for p in gone] == (["a"] if expired else [])
    assert recheck == (NOW - age + DELETION_TIMEOUT if kept else None)


def test_recheck_is_the_earliest_expiry() -> None:
    pods = [pod("a"), pod("b")]
    _, recheck, _ = rebuild_disrupted_pods(pods, {"a": rfc3339(NOW - 30), "b": rfc3339(NOW - 90)}, NOW)
    assert recheck == NOW - 90 + DELETION_TIMEOUT


def test_healthy_pods_are_ready_not_deleting_and_not_freshly_evicted() -> None:
    pods = [pod("ready"), pod("unready", ready=False), pod("deleting", deleting=True), pod("evicted"),
            pod("evicted-long-ago")]
    disrupted = {"evicted": rfc3339(NOW - 5), "evicted-long-ago": rfc3339(NOW - DELETION_TIMEOUT - 5)}
    assert count_healthy(pods, disrupted, NOW) == 2


def test_an_up_to_date_status_is_not_rewritten() -> None:
    budget = pdb(min_available=1)
    first = updated_status(budget, current_healthy=2, desired_healthy=1, expected=2, disrupted={}, now="t1")
    assert first is not None
    assert updated_status(first, current_healthy=2, desired_healthy=1, expected=2, disrupted={}, now="t2") is None


@pytest.mark.parametrize(("pod_status", "deleting", "want"), [
    ({"phase": "Running", "conditions": [{"type": "DisruptionTarget", "status": "True", "reason": "EvictionByEvictionAPI",
                                          "lastTransitionTime": rfc3339(NOW - 30)}]}, False,
     STALE_POD_DISRUPTION_TIMEOUT - 30),
    ({"phase": "Running", "conditions": [{"type": "DisruptionTarget", "status": "True", "reason": "PreemptionByScheduler",
                                          "lastTransitionTime": rfc3339(NOW - 500)}]}, False, 0.0),
    ({"phase": "Running", "conditions": [{"type": "DisruptionTarget", "status": "True", "reason": "TerminationByKubelet",
                                          "lastTransitionTime": rfc3339(NOW - 500)}]}, False, None),
    ({"phase": "Failed", "conditions": [{"type": "DisruptionTarget", "status": "True",
                                         "lastTransitionTime": rfc3339(NOW - 500)}]}, False, None),
    ({"phase": "Running", "conditions": [{"type": "DisruptionTarget", "status": "True",
                                          "lastTransitionTime": rfc3339(NOW - 500)}]}, True, None),
    ({"phase": "Running", "conditions": []}, False, None),
], ids=["a recent condition waits out the timeout", "an old condition is stale now",
        "the kubelet's condition never goes stale", "a finished pod keeps it", "a deleting pod keeps it",
        "no condition: nothing to do"])
def test_stale_disruption_target(pod_status: Obj, deleting: bool, want: float | None) -> None:
    p = pod("p", deleting=deleting)
    p["status"] = pod_status
    assert stale_disruption_wait(p, NOW) == want


# -- sync ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("budget", "pods", "workloads", "want"), [
    (pdb(min_available=2), [pod("a"), pod("b"), pod("c")], [], (3, 2, 3, 1)),
    (pdb(min_available=3), [pod("a"), pod("b"), pod("c", ready=False)], [], (3, 3, 2, 0)),
    (pdb(min_available="50%"), [pod(f"p{i}", owner=ref(RS)) for i in range(4)], [RS], (4, 2, 4, 2)),
    (pdb(min_available="50%"), [pod(f"p{i}", owner=ref(RS_OF_DEPLOY)) for i in range(4)], [RS_OF_DEPLOY, DEPLOY],
     (5, 3, 4, 1)),
    (pdb(max_unavailable=1), [pod(f"p{i}", owner=ref(SS)) for i in range(3)], [SS], (3, 2, 3, 1)),
    (pdb(max_unavailable="50%"), [pod(f"p{i}", owner=ref(RC)) for i in range(2)], [RC], (2, 1, 2, 1)),
    (pdb(max_unavailable=1), [pod("a", owner=ref(RS)), pod("b", owner=ref(SS))], [RS, SS], (7, 6, 2, 0)),
    (pdb(max_unavailable=5), [pod(f"p{i}", owner=ref(SS)) for i in range(3)], [SS], (3, 0, 3, 3)),
    (pdb(min_available=0), [], [], (0, 0, 0, 0)),
    (pdb(min_available=1, selector={}), [pod("a", labels={"other": "x"})], [], (1, 1, 1, 0)),
    (pdb(min_available=1), [pod("a"), pod("b", labels={"app": "other"})], [], (1, 1, 1, 0)),
], ids=[
    "minAvailable 2 of 3 ready pods allows one disruption",
    "an unready pod is not healthy",
    "minAvailable 50% of a ReplicaSet of 4 allows two",
    "a Deployment's pods count its replicas, not its ReplicaSet's",
    "maxUnavailable 1 of a StatefulSet of 3",
    "maxUnavailable 50% of a ReplicationController of 2",
    "the scales of different controllers add up",
    "maxUnavailable above the scale desires no pod",
    "no pods expected allows nothing",
    "an empty selector selects every pod of the namespace",
    "pods the selector does not match are ignored",
])
async def test_status_is_computed(budget: Obj, pods: list[Obj], workloads: list[Obj],
                                  want: tuple[int, int, int, int]) -> None:
    ctrl, client, _, _ = make(budget, pods, workloads)
    await ctrl.sync(f"{NS}/pdb")
    status = written_status(client)
    assert numbers(status) == want
    assert status["observedGeneration"] == 1
    cond = allowed_condition(status)
    allowed = want[3] > 0
    assert (cond["status"], cond["reason"], cond["observedGeneration"]) == (
        "True" if allowed else "False", "SufficientPods" if allowed else "InsufficientPods", 1)
    assert cond["lastTransitionTime"]


async def test_syncing_again_with_nothing_changed_writes_nothing() -> None:
    ctrl, client, _, _ = make(pdb(min_available=2), [pod("a"), pod("b"), pod("c")])
    await ctrl.sync(f"{NS}/pdb")
    ctrl.pdbs.indexer.add(stored_pdb(client))
    await ctrl.sync(f"{NS}/pdb")
    assert len(client.writes("update", "poddisruptionbudgets")) == 1


async def test_the_condition_keeps_its_transition_time_while_its_status_holds() -> None:
    old = {"currentHealthy": 3, "desiredHealthy": 2, "expectedPods": 3, "disruptionsAllowed": 1, "observedGeneration": 1,
           "conditions": [{"type": "DisruptionAllowed", "status": "True", "reason": "SufficientPods", "message": "",
                           "observedGeneration": 1, "lastTransitionTime": "2020-01-01T00:00:00Z"}]}
    ctrl, client, _, _ = make(pdb(min_available=2, status=old, generation=2), [pod("a"), pod("b"), pod("c")])
    await ctrl.sync(f"{NS}/pdb")
    status = written_status(client)
    assert status["observedGeneration"] == 2
    cond = allowed_condition(status)
    assert (cond["lastTransitionTime"], cond["observedGeneration"]) == ("2020-01-01T00:00:00Z", 2)


async def test_unmanaged_pods_are_left_out_of_the_scale_with_a_warning() -> None:
    ctrl, client, recorder, _ = make(pdb(max_unavailable=1), [pod("a", owner=ref(SS)), pod("stray")], [SS])
    await ctrl.sync(f"{NS}/pdb")
    assert numbers(written_status(client)) == (3, 2, 2, 0)
    assert recorder.reasons() == ["UnmanagedPods"]


async def test_no_matching_pods_is_reported() -> None:
    ctrl, client, recorder, _ = make(pdb(min_available=1), [pod("x", labels={"app": "other"})])
    await ctrl.sync(f"{NS}/pdb")
    assert numbers(written_status(client)) == (0, 1, 0, 0)
    assert recorder.events == [("pdb", "Normal", "NoPods", "No matching pods found")]


@pytest.mark.parametrize(("budget", "pods", "workloads", "event"), [
    (pdb(max_unavailable=1), [pod("a", owner=ref(SS))], [], "CalculateExpectedPodCountFailed"),
    (pdb(min_available="half"), [pod("a", owner=ref(SS))], [SS], "CalculateExpectedPodCountFailed"),
    (pdb(min_available=1, selector={"matchExpressions": [{"key": "app", "operator": "Near", "values": ["x"]}]}),
     [pod("a")], [], "NoPods"),
], ids=["a pod whose controller is missing", "a minAvailable that is not a percentage", "a selector that does not parse"])
async def test_a_failed_sync_stops_disruptions_and_is_retried(budget: Obj, pods: list[Obj], workloads: list[Obj],
                                                              event: str) -> None:
    budget["status"] = {"disruptionsAllowed": 3, "currentHealthy": 3, "desiredHealthy": 0, "expectedPods": 3,
                        "observedGeneration": 1}
    ctrl, client, recorder, _ = make(budget, pods, workloads)
    with pytest.raises(Exception):
        await ctrl.sync(f"{NS}/pdb")
    status = written_status(client)
    assert status["disruptionsAllowed"] == 0
    cond = allowed_condition(status)
    assert (cond["status"], cond["reason"]) == ("False", "SyncFailed")
    assert cond["message"]
    assert recorder.events[0][1:3] == ("Warning", event)


async def test_a_failed_sync_does_not_rewrite_an_identical_fail_safe_status() -> None:
    ctrl, client, _, _ = make(pdb(max_unavailable=1), [pod("a", owner=ref(SS))])
    with pytest.raises(LookupError):
        await ctrl.sync(f"{NS}/pdb")
    ctrl.pdbs.indexer.add(stored_pdb(client))
    with pytest.raises(LookupError):
        await ctrl.sync(f"{NS}/pdb")
    assert len(client.writes("update", "poddisruptionbudgets")) == 1


async def test_a_conflict_is_retried_without_the_fail_safe() -> None:
    ctrl, client, _, _ = make(pdb(min_available=1), [pod("a"), pod("b")])
    client.seed(stored_pdb(client))  # bumps the resourceVersion
    with pytest.raises(ApiError) as err:
        await ctrl.sync(f"{NS}/pdb")
    assert err.value.code == 409
    assert client.writes("update") == []


async def test_a_freshly_evicted_pod_is_not_healthy_and_its_entry_is_kept_until_it_expires() -> None:
    ctrl, client, recorder, clock = make(pdb(min_available=2), [pod("a"), pod("b"), pod("c")])
    evicted_at = rfc3339(clock.time())
    budget = stored_pdb(client)
    budget["status"] = {"disruptedPods": {"a": evicted_at}, "disruptionsAllowed": 0}
    ctrl.pdbs.indexer.add(client.seed(budget))
    await ctrl.sync(f"{NS}/pdb")
    status = written_status(client)
    assert numbers(status) == (3, 2, 2, 0)
    assert status["disruptedPods"] == {"a": evicted_at}
    assert ctrl.queue.waiting == 1, "the PDB is looked at again when the entry expires"
    clock.advance(DELETION_TIMEOUT - 1)
    await clock.settle()
    assert len(ctrl.queue) == 0
    clock.advance(1)
    await clock.settle()
    assert len(ctrl.queue) == 1
    assert await ctrl.queue.get() == f"{NS}/pdb"
    ctrl.queue.shutdown()

    # the pod was never deleted: after the deletion timeout it is healthy again and leaves the map
    ctrl.pdbs.indexer.add(stored_pdb(client))
    client.actions.clear()
    await ctrl.sync(f"{NS}/pdb")
    status = written_status(client)
    assert numbers(status) == (3, 2, 3, 1)
    assert "disruptedPods" not in status
    assert ("a", "Warning", "NotDeleted", "Pod was expected by PDB default/pdb to be deleted but it wasn't") \
        in recorder.events


async def test_an_evicted_pod_that_is_deleting_leaves_the_map() -> None:
    budget = pdb(min_available=2, status={"disruptedPods": {"a": rfc3339(NOW)}})
    ctrl, client, _, _ = make(budget, [pod("a", deleting=True), pod("b"), pod("c"), pod("d")])
    await ctrl.sync(f"{NS}/pdb")
    status = written_status(client)
    assert numbers(status) == (4, 2, 3, 1)
    assert "disruptedPods" not in status


async def test_a_deleted_budget_is_forgotten() -> None:
    ctrl, client, _, _ = make(pdb(min_available=1), [pod("a")])
    ctrl.pdbs.indexer.delete_key(f"{NS}/pdb")
    await ctrl.sync(f"{NS}/pdb")
    assert client.actions == []


async def test_other_kinds_are_scaled_through_their_scale_subresource() -> None:
    owner = {"apiVersion": "example.com/v1", "kind": "Widget", "name": "w", "uid": "uid-w"}
    ctrl, client, _, _ = make(pdb(max_unavailable=1), [pod("a", owner=owner), pod("b", owner=owner)])
    asked: list[str] = []

    async def discovery(api_version: str) -> Obj:
        asked.append(api_version)
        return {"resources": [{"name": "widgets", "kind": "Widget"}, {"name": "widgets/scale", "kind": "Scale"}]}

    async def get(ref: Any, name: str, *, namespace: str | None = None, subresource: str | None = None,
                  **_: Any) -> Obj:
        assert (ref.api_version, ref.plural, name, namespace, subresource) == (
            "example.com/v1", "widgets", "w", NS, "scale")
        return {"kind": "Scale", "metadata": {"name": "w", "uid": "uid-w"}, "spec": {"replicas": 6}}

    ctrl.fetch_discovery = discovery
    client.get = get  # type: ignore[method-assign]
    await ctrl.sync(f"{NS}/pdb")
    assert numbers(written_status(client)) == (6, 5, 2, 0)
    assert asked == ["example.com/v1"]


async def test_a_kind_without_a_scale_subresource_fails_the_sync() -> None:
    owner = {"apiVersion": "example.com/v1", "kind": "Gadget", "name": "g", "uid": "uid-g"}
    ctrl, client, _, _ = make(pdb(max_unavailable=1), [pod("a", owner=owner)])

    async def discovery(api_version: str) -> Obj:
        return {"resources": [{"name": "gadgets", "kind": "Gadget"}]}

    ctrl.fetch_discovery = discovery
    with pytest.raises(LookupError, match="gadgets.example.com does not implement the scale subresource"):
        await ctrl.sync(f"{NS}/pdb")
    assert allowed_condition(written_status(client))["reason"] == "SyncFailed"


# -- event handlers -----------------------------------------------------------------------------

async def test_pod_changes_enqueue_the_budgets_selecting_the_pod() -> None:
    ctrl, _, _, _ = make(pdb(min_available=1), [])
    other = pdb("other", min_available=1, selector={"matchLabels": {"app": "db"}})
    ctrl.pdbs.indexer.add(other)
    ctrl._pod_added(pod("a"))
    assert len(ctrl.queue) == 1
    key = await ctrl.queue.get()
    assert key == f"{NS}/pdb"
    ctrl.queue.done(key)
    # a relabelled pod wakes the budget it left and the one it joined
    ctrl._pod_updated(pod("a"), pod("a", labels={"app": "db"}))
    keys = {await ctrl.queue.get(), await ctrl.queue.get()}
    assert keys == {f"{NS}/pdb", f"{NS}/other"}


@pytest.mark.parametrize(("budget", "woken"), [
    (pdb(max_unavailable=1), True),
    (pdb(min_available="50%"), True),
    (pdb(min_available=2), False),
], ids=["maxUnavailable depends on the scale", "a percentage minAvailable depends on the scale",
        "an integer minAvailable does not"])
async def test_a_controller_scale_change_wakes_budgets_that_depend_on_it(budget: Obj, woken: bool) -> None:
    ctrl, _, _, _ = make(budget, [])
    ctrl._scale_updated(workload("StatefulSet", "db", 3), workload("StatefulSet", "db", 5))
    assert len(ctrl.queue) == (1 if woken else 0)
    if woken:
        ctrl.queue.done(await ctrl.queue.get())
    ctrl._scale_updated(workload("StatefulSet", "db", 5), workload("StatefulSet", "db", 5))
    assert len(ctrl.queue) == 0, "the same scale wakes nobody"


async def test_a_stale_disruption_target_condition_is_reset() -> None:
    clock_now = FakeClock().time()
    cond = {"type": "DisruptionTarget", "status": "True", "reason": "EvictionByEvictionAPI", "message": "evicting",
            "lastTransitionTime": rfc3339(clock_now - 10)}
    p = pod("a", conditions=[cond])
    ctrl, client, _, clock = make(pdb(min_available=1), [p])
    ctrl._pod_added(p)
    assert ctrl.queue.waiting == 1, "checked again once it would be stale"
    ctrl.queue.shutdown()
    await ctrl.sync(STALE_POD_KEY_PREFIX + f"{NS}/a")
    assert client.writes("patch") == [], "not stale yet"
    clock.advance(STALE_POD_DISRUPTION_TIMEOUT)
    await ctrl.sync(STALE_POD_KEY_PREFIX + f"{NS}/a")
    [patch] = client.writes("patch", "pods")
    assert patch.subresource == "status"
    [new] = patch.body["status"]["conditions"]
    assert (new["type"], new["status"], new["reason"], new["message"]) == ("DisruptionTarget", "False", None, None)
    updated = client.get_object("v1", "pods", NS, "a")
    assert updated is not None
    [stored] = [c for c in updated["status"]["conditions"] if c["type"] == "DisruptionTarget"]
    assert stored["status"] == "False" and "reason" not in stored
