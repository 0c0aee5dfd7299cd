"""DaemonSet controller: node eligibility (selector, affinity, taints and the default
tolerations), placement by node affinity, the rolling-update budget, status, failed pods,
expectations, history. Caches are seeded from a FakeClient, ``sync`` runs, writes are asserted."""

from __future__ import annotations

from typing import Any

import pytest

from kubepy.client import FakeClock, InformerFactory
from kubepy.client.events import rfc3339
from kubepy.client.fake import FakeClient
from kubepy.controllers.context import ControllerContext
from kubepy.controllers.daemonset import (
    DAEMON_TOLERATIONS,
    DaemonSetController,
    add_daemon_tolerations,
    compute_status,
    new,
    rolling_update_plan,
    scaled_value,
    should_run,
    target_node,
    with_node_affinity,
)
from kubepy.controllers.history import REVISION_LABEL

NS = "ns"
KEY = f"{NS}/x"
DS_UID = "ds-uid"
NOW = 1_714_557_600.0 + 3600


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, str]] = []

    def event(self, obj: Any, type: str, reason: str, message: str, **_: Any) -> None:
        self.events.append((type, reason, message))

    def reasons(self) -> list[str]:
        return [r for _, r, _ in self.events]


class ApiLikeClient(FakeClient):
    """Generated names are predictable; new pods are Pending with a creation time."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__()
        self.clock = clock
        self.n = 0

    async def create(self, ref: Any, obj: Any, **kw: Any) -> Any:
        if ref.plural == "pods" and not kw.get("subresource"):
            self.n += 1
            meta = {**obj["metadata"], "creationTimestamp": rfc3339(self.clock.time())}
            if not meta.get("name"):
                meta["name"] = f"{meta['generateName']}{self.n}"
            obj = {**obj, "metadata": meta, "status": {"phase": "Pending"}}
        return await super().create(ref, obj, **kw)


def make_node(name: str, *, labels: dict[str, str] | None = None, taints: list[dict[str, str]] | None = None,
              unschedulable: bool = False) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if taints:
        spec["taints"] = taints
    if unschedulable:
        spec["unschedulable"] = True
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})}}, "spec": spec}


def make_ds(*, image: str = "busybox:1", strategy: str = "RollingUpdate", max_unavailable: Any = 1,
            max_surge: Any = 0, node_selector: dict[str, str] | None = None, tolerations: list[Any] | None = None,
            affinity: dict[str, Any] | None = None, host_network: bool = False, min_ready: int = 0,
            selector: dict[str, Any] | None = None) -> dict[str, Any]:
    pod_spec: dict[str, Any] = {"containers": [{"name": "c", "image": image}]}
    if node_selector:
        pod_spec["nodeSelector"] = node_selector
    if tolerations:
        pod_spec["tolerations"] = tolerations
    if affinity:
        pod_spec["affinity"] = affinity
    if host_network:
        pod_spec["hostNetwork"] = True
    update: dict[str, Any] = {"type": strategy}
    if strategy == "RollingUpdate":
        update["rollingUpdate"] = {"maxUnavailable": max_unavailable, "maxSurge": max_surge}
    return {"apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": {"name": "x", "namespace": NS, "uid": DS_UID, "generation": 1},
            "spec": {"selector": {"matchLabels": {"app": "x"}} if selector is None else selector,
                     "minReadySeconds": min_ready, "revisionHistoryLimit": 10, "updateStrategy": update,
                     "template": {"metadata": {"labels": {"app": "x"}}, "spec": pod_spec}},
            "status": {"currentNumberScheduled": 0, "numberMisscheduled": 0, "desiredNumberScheduled": 0,
                       "numberReady": 0}}


TAINT = {"key": "dedicated", "value": "db", "effect": "NoSchedule"}


# -- eligibility --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("node", "ds", "expected"), [
    pytest.param(make_node("n"), make_ds(), (True, True), id="a plain node runs the daemon"),
    pytest.param(make_node("n", labels={"disk": "ssd"}), make_ds(node_selector={"disk": "ssd"}), (True, True),
                 id="a matching node selector runs it"),
    pytest.param(make_node("n"), make_ds(node_selector={"disk": "ssd"}), (False, False),
                 id="a node selector that does not match keeps it off"),
    pytest.param(make_node("n", labels={"zone": "a"}), make_ds(affinity={"nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["b"]}]},
            {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}]}}}), (True, True),
        id="any one required affinity term that matches is enough"),
    pytest.param(make_node("n", labels={"zone": "a"}), make_ds(affinity={"nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": "zone", "operator": "NotIn", "values": ["a"]}]}]}}}), (False, False),
        id="required affinity that excludes the node keeps it off"),
    pytest.param(make_node("n", labels={"cpus": "8"}), make_ds(affinity={"nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": "cpus", "operator": "Gt", "values": ["4"]}]}]}}}), (True, True),
        id="Gt compares label values as integers"),
    pytest.param(make_node("n2"), make_ds(affinity={"nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n1"]}]}]}}}), (False, False),
        id="matchFields on metadata.name selects nodes by name"),
    pytest.param(make_node("n", taints=[TAINT]), make_ds(), (False, True),
                 id="an untolerated NoSchedule taint starts nothing but lets a pod stay"),
    pytest.param(make_node("n", taints=[{**TAINT, "effect": "NoExecute"}]), make_ds(), (False, False),
                 id="an untolerated NoExecute taint evicts"),
    pytest.param(make_node("n", taints=[TAINT]), make_ds(tolerations=[{"key": "dedicated", "operator": "Equal",
                                                                       "value": "db"}]), (True, True),
                 id="a matching toleration lets the daemon onto a tainted node"),
    pytest.param(make_node("n", taints=[TAINT]), make_ds(tolerations=[{"key": "dedicated", "value": "web"}]),
                 (False, True), id="a toleration for another value does not"),
    pytest.param(make_node("n", taints=[TAINT]), make_ds(tolerations=[{"operator": "Exists"}]), (True, True),
                 id="an empty-key Exists toleration tolerates everything"),
    pytest.param(make_node("n", unschedulable=True, taints=[{"key": "node.kubernetes.io/unschedulable",
                                                             "effect": "NoSchedule"}]), make_ds(), (True, True),
                 id="cordoned nodes still get daemon pods"),
    pytest.param(make_node("n", taints=[{"key": "node.kubernetes.io/not-ready", "effect": "NoExecute"}]), make_ds(),
                 (True, True), id="not-ready nodes are tolerated by default"),
    pytest.param(make_node("n", taints=[{"key": "node.kubernetes.io/memory-pressure", "effect": "NoSchedule"}]),
                 make_ds(), (True, True), id="memory pressure is tolerated by default"),
    pytest.param(make_node("n", taints=[{"key": "node.kubernetes.io/network-unavailable", "effect": "NoSchedule"}]),
                 make_ds(), (False, True), id="an unavailable network keeps pod-network daemons off"),
    pytest.param(make_node("n", taints=[{"key": "node.kubernetes.io/network-unavailable", "effect": "NoSchedule"}]),
                 make_ds(host_network=True), (True, True), id="host-network daemons tolerate an unavailable network"),
])
def test_which_nodes_run_the_daemon(node: dict[str, Any], ds: dict[str, Any], expected: tuple[bool, bool]) -> None:
    assert should_run(node, ds) == expected


def test_template_node_name_pins_the_daemon_to_that_node() -> None:
    ds = make_ds()
    ds["spec"]["template"]["spec"]["nodeName"] = "n1"
    assert should_run(make_node("n1"), ds) == (True, True)
    assert should_run(make_node("n2"), ds) == (False, False)


def test_default_tolerations_are_added_once_and_replace_equal_ones() -> None:
    spec: dict[str, Any] = {"tolerations": [
        {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 5},
        {"key": "mine", "operator": "Exists"}]}
    add_daemon_tolerations(spec)
    add_daemon_tolerations(spec)
    assert spec["tolerations"][0] == {"key": "node.kubernetes.io/not-ready", "operator": "Exists",
                                      "effect": "NoExecute"}
    assert spec["tolerations"][1] == {"key": "mine", "operator": "Exists"}
    assert spec["tolerations"][2:] == [dict(t) for t in DAEMON_TOLERATIONS[1:]]


def test_node_affinity_placement_replaces_required_terms_and_keeps_the_rest() -> None:
    affinity = {"nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}]},
        "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 1, "preference": {}}]},
        "podAntiAffinity": {"x": 1}}
    out = with_node_affinity(affinity, "n7")
    assert out["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] == {"nodeSelectorTerms": [
        {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n7"]}]}]}
    assert out["nodeAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"] == [{"weight": 1, "preference": {}}]
    assert out["podAntiAffinity"] == {"x": 1}
    assert target_node({"spec": {"affinity": out}}) == "n7"
    assert target_node({"spec": {"affinity": out, "nodeName": "n8"}}) == "n8"
    assert target_node({"spec": {}}) is None


@pytest.mark.parametrize(("value", "total", "round_up", "expected"), [
    pytest.param(2, 10, True, 2, id="an integer is taken as is"),
    pytest.param("25%", 10, True, 3, id="a percentage rounds up when asked"),
    pytest.param("25%", 10, False, 2, id="a percentage rounds down otherwise"),
])
def test_scaled_value(value: Any, total: int, round_up: bool, expected: int) -> None:
    assert scaled_value(value, total, round_up=round_up) == expected


# -- rolling update plans -----------------------------------------------------------------------------------

def ds_pod(name: str, node: str, hash_: str, *, ready: bool = True, phase: str = "Running",
           created: str = "2024-05-01T10:00:00Z", deleting: bool = False) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": NS, "uid": f"uid-{name}", "creationTimestamp": created,
                            "labels": {"app": "x", REVISION_LABEL: hash_},
                            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "x",
                                                 "uid": DS_UID, "controller": True}]}
    if deleting:
        meta["deletionTimestamp"] = "2024-05-01T11:00:00Z"
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta,
            "spec": {"nodeName": node, "containers": [{"name": "c", "image": "busybox"}]},
            "status": {"phase": phase, "conditions": [{"type": "Ready", "status": "True" if ready else "False",
                                                       "lastTransitionTime": "2024-05-01T10:00:00Z"}]}}


NODES = [make_node("n1"), make_node("n2"), make_node("n3")]


@pytest.mark.parametrize(("ds", "pods", "delete", "create"), [
    pytest.param(make_ds(max_unavailable=1), {"n1": [ds_pod("a", "n1", "old")], "n2": [ds_pod("b", "n2", "old")],
                                              "n3": [ds_pod("c", "n3", "old")]}, ["a"], [],
                 id="one old pod at a time with maxUnavailable 1"),
    pytest.param(make_ds(max_unavailable=2), {"n1": [ds_pod("a", "n1", "old")], "n2": [ds_pod("b", "n2", "old")],
                                              "n3": [ds_pod("c", "n3", "old")]}, ["a", "b"], [],
                 id="two old pods at a time with maxUnavailable 2"),
    pytest.param(make_ds(max_unavailable="34%"), {"n1": [ds_pod("a", "n1", "old")], "n2": [ds_pod("b", "n2", "old")],
                                                  "n3": [ds_pod("c", "n3", "old")]}, ["a", "b"], [],
                 id="a percentage budget rounds up"),
    pytest.param(make_ds(max_unavailable=1), {"n1": [ds_pod("a", "n1", "new", ready=False)],
                                              "n2": [ds_pod("b", "n2", "old")], "n3": [ds_pod("c", "n3", "old")]},
                 [], [], id="an unavailable new pod uses up the budget"),
    pytest.param(make_ds(max_unavailable=1), {"n2": [ds_pod("b", "n2", "old")], "n3": [ds_pod("c", "n3", "old")]},
                 [], [], id="a node still waiting for its pod counts as unavailable"),
    pytest.param(make_ds(max_unavailable=1), {"n1": [ds_pod("a", "n1", "new", ready=False)],
                                              "n2": [ds_pod("b", "n2", "old", ready=False)],
                                              "n3": [ds_pod("c", "n3", "old")]},
                 ["b"], [], id="unavailable old pods are replaced regardless of the budget"),
    pytest.param(make_ds(max_unavailable=0, max_surge=1), {"n1": [ds_pod("a", "n1", "old")],
                                                           "n2": [ds_pod("b", "n2", "old")],
                                                           "n3": [ds_pod("c", "n3", "old")]}, [], ["n1"],
                 id="with surge a new pod starts beside one old pod"),
    pytest.param(make_ds(max_unavailable=0, max_surge=1), {"n1": [ds_pod("a", "n1", "old"), ds_pod("a2", "n1", "new")],
                                                           "n2": [ds_pod("b", "n2", "old")],
                                                           "n3": [ds_pod("c", "n3", "old")]}, ["a"], ["n2"],
                 id="with surge an old pod goes once its replacement is available"),
    pytest.param(make_ds(max_unavailable=0, max_surge=1),
                 {"n1": [ds_pod("a", "n1", "old"), ds_pod("a2", "n1", "new", ready=False)],
                  "n2": [ds_pod("b", "n2", "old")], "n3": [ds_pod("c", "n3", "old")]}, [], [],
                 id="with surge the budget waits for the new pod"),
])
def test_rolling_update_budget(ds: dict[str, Any], pods: dict[str, list[Any]], delete: list[str],
                               create: list[str]) -> None:
    assert rolling_update_plan(ds, NODES, pods, "new", NOW) == (delete, create)


def test_status_numbers_use_the_oldest_pod_of_each_node() -> None:
    tainted = make_node("n4", taints=[TAINT])
    pods = {"n1": [ds_pod("a", "n1", "new")],
            "n2": [ds_pod("b", "n2", "old", ready=False)],
            "n4": [ds_pod("d", "n4", "new")]}
    assert compute_status(make_ds(), [*NODES, tainted], pods, "new", NOW) == {
        "desiredNumberScheduled": 3, "currentNumberScheduled": 2, "numberMisscheduled": 1, "numberReady": 1,
        "updatedNumberScheduled": 1, "numberAvailable": 1, "numberUnavailable": 2}


# -- the controller -----------------------------------------------------------------------------------------

class World:
    def __init__(self, ds: dict[str, Any], nodes: list[dict[str, Any]]) -> None:
        self.clock = FakeClock()
        self.client = ApiLikeClient(self.clock)
        self.recorder = Recorder()
        self.ctx = ControllerContext(client=self.client, informers=InformerFactory(self.client),
                                     recorder=self.recorder, clock=self.clock)  # type: ignore[arg-type]
        self.ctrl: DaemonSetController = new(self.ctx)
        self.client.seed(ds)
        for node in nodes:
            self.client.seed(node)
        self.reflect()

    def objects(self, plural: str) -> list[dict[str, Any]]:
        return [o for (_, p, _, _), o in sorted(self.client.objects.items()) if p == plural]

    def reflect(self) -> None:
        c = self.ctrl
        for informer, plural in ((c.daemonsets, "daemonsets"), (c.pods, "pods"), (c.nodes, "nodes"),
                                 (c.revisions, "controllerrevisions")):
            informer.indexer.replace([dict(o) for o in self.objects(plural)])

    async def sync(self, *, reflect: bool = True) -> None:
        self.client.actions.clear()
        if reflect:
            self.reflect()
            self.ctrl.expectations.forget(KEY)  # the informer handlers would have observed everything
        await self.ctrl.sync(KEY)

    def bind_and_run(self) -> None:
        """What the scheduler and kubelets would do: bind to the affinity's node, run, be ready."""
        for pod in self.objects("pods"):
            if pod["status"].get("phase") == "Pending":
                pod["spec"]["nodeName"] = target_node(pod)
                pod["status"] = {"phase": "Running", "conditions": [
                    {"type": "Ready", "status": "True", "lastTransitionTime": rfc3339(self.clock.time())}]}

    def created(self) -> list[dict[str, Any]]:
        return [self.client.objects[("v1", "pods", NS, a.name)] for a in self.client.writes("create", "pods")]

    def deleted(self) -> list[str]:
        return [a.name for a in self.client.writes("delete", "pods")]

    def ds(self) -> dict[str, Any]:
        return self.client.objects[("apps/v1", "daemonsets", NS, "x")]


THREE = [make_node("n1"), make_node("n2"), make_node("n3", taints=[TAINT])]


async def test_one_pod_per_eligible_node_placed_by_node_affinity() -> None:
    w = World(make_ds(), THREE)
    await w.sync()
    pods = w.created()
    assert sorted(target_node(p) or "" for p in pods) == ["n1", "n2"]
    rev = w.objects("controllerrevisions")[0]
    hash_ = rev["metadata"]["labels"][REVISION_LABEL]
    assert rev["metadata"]["name"] == f"x-{hash_}"
    for pod in pods:
        assert "nodeName" not in pod["spec"]
        assert pod["metadata"]["labels"] == {"app": "x", REVISION_LABEL: hash_, "pod-template-generation": "1"}
        assert pod["metadata"]["generateName"] == "x-"
        assert pod["metadata"]["ownerReferences"][0]["uid"] == DS_UID
        keys = {(t.get("key"), t.get("effect")) for t in pod["spec"]["tolerations"]}
        assert ("node.kubernetes.io/unschedulable", "NoSchedule") in keys
        assert ("node.kubernetes.io/not-ready", "NoExecute") in keys
    assert w.recorder.reasons().count("SuccessfulCreate") == 2
    assert ("Normal", "SuccessfulCreate", f"Created pod: {pods[0]['metadata']['name']}") in w.recorder.events


async def test_expectations_stop_duplicates_while_the_cache_lags() -> None:
    w = World(make_ds(), THREE)
    await w.sync()
    await w.sync(reflect=False)
    assert w.created() == []


async def test_status_after_the_pods_run() -> None:
    w = World(make_ds(), THREE)
    await w.sync()
    w.bind_and_run()
    await w.sync()
    status = w.ds()["status"]
    assert {k: status[k] for k in ("desiredNumberScheduled", "currentNumberScheduled", "numberReady",
                                   "updatedNumberScheduled", "numberAvailable", "numberMisscheduled",
                                   "observedGeneration")} == {
        "desiredNumberScheduled": 2, "currentNumberScheduled": 2, "numberReady": 2, "updatedNumberScheduled": 2,
        "numberAvailable": 2, "numberMisscheduled": 0, "observedGeneration": 1}
    assert "numberUnavailable" not in status  # omitted when zero, as Go writes it


async def test_pods_leave_nodes_that_stop_matching() -> None:
    w = World(make_ds(node_selector={"role": "worker"}),
              [make_node("n1", labels={"role": "worker"}), make_node("n2", labels={"role": "worker"})])
    await w.sync()
    w.bind_and_run()
    w.client.objects[("v1", "nodes", "", "n2")]["metadata"]["labels"]["role"] = "db"
    await w.sync()
    gone = w.deleted()
    assert len(gone) == 1 and w.client.objects.get(("v1", "pods", NS, gone[0])) is None
    assert ("Normal", "SuccessfulDelete", f"Deleted pod: {gone[0]}") in w.recorder.events


async def test_a_failed_pod_is_deleted_with_back_off() -> None:
    w = World(make_ds(), [make_node("n1")])
    await w.sync()
    w.bind_and_run()
    pod = w.objects("pods")[0]
    pod["status"]["phase"] = "Failed"
    await w.sync()
    assert w.deleted() == [pod["metadata"]["name"]]
    assert "FailedDaemonPod" in w.recorder.reasons()
    await w.sync()  # the replacement is created
    w.bind_and_run()
    w.objects("pods")[0]["status"]["phase"] = "Failed"
    await w.sync()  # within the back-off: left alone for now
    assert w.deleted() == []
    w.clock.advance(5)
    await w.sync()
    assert len(w.deleted()) == 1


async def test_rolling_update_replaces_one_pod_at_a_time() -> None:
    w = World(make_ds(), THREE)
    await w.sync()
    w.bind_and_run()
    await w.sync()
    ds = w.ds()
    ds["spec"]["template"]["spec"]["containers"][0]["image"] = "busybox:2"
    ds["metadata"]["generation"] = 2
    await w.sync()
    assert len(w.deleted()) == 1
    assert len(w.objects("controllerrevisions")) == 2
    await w.sync()  # the replacement is created on the freed node
    assert [p["spec"]["containers"][0]["image"] for p in w.created()] == ["busybox:2"]
    await w.sync()  # the new pod is not yet available: the budget is spent
    assert w.deleted() == [] and w.created() == []
    w.bind_and_run()
    await w.sync()
    assert len(w.deleted()) == 1


async def test_on_delete_leaves_old_pods_alone() -> None:
    w = World(make_ds(strategy="OnDelete"), THREE)
    await w.sync()
    w.bind_and_run()
    ds = w.ds()
    ds["spec"]["template"]["spec"]["containers"][0]["image"] = "busybox:2"
    ds["metadata"]["generation"] = 2
    await w.sync()
    assert w.deleted() == [] and w.created() == []
    assert w.ds()["status"].get("updatedNumberScheduled", 0) == 0


async def test_extra_pods_on_a_node_are_removed_keeping_the_oldest() -> None:
    w = World(make_ds(), [make_node("n1")])
    w.client.seed(ds_pod("old", "n1", "h", created="2024-05-01T09:00:00Z"))
    w.client.seed(ds_pod("young", "n1", "h", created="2024-05-01T10:00:00Z"))
    await w.sync()
    assert w.deleted() == ["young"]


async def test_an_empty_selector_is_refused_with_an_event() -> None:
    w = World(make_ds(selector={}), THREE)
    await w.sync()
    assert w.client.actions == []
    assert "SelectingAll" in w.recorder.reasons()


async def test_a_new_node_gets_its_pod() -> None:
    w = World(make_ds(), [make_node("n1")])
    await w.sync()
    w.bind_and_run()
    w.client.seed(make_node("n2"))
    await w.sync()
    assert [target_node(p) for p in w.created()] == ["n2"]
