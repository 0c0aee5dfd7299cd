"""DefaultPreemption: victim selection, node choice, eligibility and the API calls of a
preemption, after upstream's default_preemption_test.go, against a fake Handle (a snapshot of
NodeInfos, a filter that checks pods/cpu/memory as NodeResourcesFit would, a FakeClient and
an event recorder that remembers)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from kubepy.client.cache import Indexer
from kubepy.client.fake import FakeClient
from kubepy.scheduler.framework.interface import Code, CycleState, PostFilterResult, Status
from kubepy.scheduler.framework.nodeinfo import NodeInfo, pod_requests
from kubepy.scheduler.plugins import defaultpreemption as dp
from kubepy.scheduler.plugins import registry
from kubepy.testing.scheduler_builders import make_node, make_pod, node_info

Obj = dict[str, Any]

NEG, LOW, MID, HIGH, VERY_HIGH = -100, 0, 100, 1000, 10000
SMALL = {"cpu": "100m", "memory": "100"}
MEDIUM = {"cpu": "200m", "memory": "200"}
LARGE = {"cpu": "300m", "memory": "300"}
VERY_LARGE = {"cpu": "500m", "memory": "500"}
ONE_POD = {"pods": "1"}
NODE_RES = {"cpu": "200m", "memory": "400"}
NOW = 1_700_000_000.0
EPOCH = "1970-01-01T00:00:0{}Z"


# -- fakes --------------------------------------------------------------------------------------

class FakeSnapshot:
    def __init__(self, infos: list[NodeInfo]) -> None:
        self._infos = infos
        self._by_name = {i.name: i for i in infos}

    def node_infos(self) -> list[NodeInfo]:
        return self._infos

    def get(self, name: str) -> NodeInfo | None:
        return self._by_name.get(name)

    def have_pods_with_affinity(self) -> list[NodeInfo]:
        return [i for i in self._infos if i.pods_with_affinity]

    def have_pods_with_required_anti_affinity(self) -> list[NodeInfo]:
        return [i for i in self._infos if i.pods_with_required_anti_affinity]


class FakeRecorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, str, str]] = []

    def event(self, obj: Mapping[str, Any], type: Any, reason: str, message: str) -> None:
        assert obj["kind"] == "Pod" and obj["apiVersion"] == "v1"
        self.events.append((obj["metadata"]["name"], type, reason, message))


@dataclass
class WaitingPod:
    rejected: tuple[str, str] | None = None

    def reject(self, plugin: str, message: str) -> None:
        self.rejected = (plugin, message)


def simple_fit(pod: Obj, node: NodeInfo) -> Status:
    """Pods, cpu and memory as NodeResourcesFit's Fits judges them."""
    req = pod_requests(pod)
    reasons = []
    if len(node.pods) + 1 > node.allocatable.allowed_pods:
        reasons.append("Too many pods")
    if req.milli_cpu and req.milli_cpu > node.allocatable.milli_cpu - node.requested.milli_cpu:
        reasons.append("Insufficient cpu")
    if req.memory and req.memory > node.allocatable.memory - node.requested.memory:
        reasons.append("Insufficient memory")
    return Status.unschedulable(*reasons, plugin="NodeResourcesFit") if reasons else Status()


class FakeHandle:
    """The parts of the scheduler's Handle preemption uses."""

    def __init__(self, nodes: Sequence[Obj], pods: Sequence[Obj] = (), pdbs: Sequence[Obj] = (),
                 preemptor: Obj | None = None) -> None:
        infos = []
        for n in nodes:
            name = n["metadata"]["name"]
            infos.append(node_info(n, *[p for p in pods if p["spec"].get("nodeName") == name]))
        self._snapshot = FakeSnapshot(infos)
        self.client = FakeClient(*pods, *([preemptor] if preemptor else []))
        self.event_recorder = FakeRecorder()
        self.pod_lister = Indexer()
        for p in [*pods, *([preemptor] if preemptor else [])]:
            self.pod_lister.add(p)
        self.pdb_lister = Indexer()
        for pdb in pdbs:
            self.pdb_lister.add(pdb)
        self.filter_calls = 0
        self.removed: list[tuple[str, str]] = []
        self.added: list[tuple[str, str]] = []
        self.waiting: dict[str, WaitingPod] = {}

    def snapshot(self) -> FakeSnapshot:
        return self._snapshot

    def lister(self, api_version: str, plural: str) -> Indexer:
        return {"v1": self.pod_lister, "policy/v1": self.pdb_lister}[api_version]

    def run_filter_plugins_with_nominated_pods(self, state: CycleState, pod: Obj, node: NodeInfo) -> Status:
        self.filter_calls += 1
        return simple_fit(pod, node)

    def _ext(self, verb: str, pod: Obj, other: Obj, node: NodeInfo) -> Status:
        if node.labels.get("error") == "true":
            return Status.error(f'running {verb} on PreFilter plugin "test-plugin": failed to '
                                f'{verb[:-3].lower()} pod: {pod["metadata"]["name"]}', "test-plugin")
        return Status()

    def run_pre_filter_extension_remove_pod(self, state: CycleState, pod: Obj, other: Obj, node: NodeInfo) -> Status:
        self.removed.append((node.name, other["metadata"]["name"]))
        return self._ext("RemovePod", pod, other, node)

    def run_pre_filter_extension_add_pod(self, state: CycleState, pod: Obj, other: Obj, node: NodeInfo) -> Status:
        self.added.append((node.name, other["metadata"]["name"]))
        return self._ext("AddPod", pod, other, node)

    def get_waiting_pod(self, uid: str) -> WaitingPod | None:
        return self.waiting.get(uid)


class FixedOffset:
    def __init__(self, offset: int) -> None:
        self.offset = offset

    def randrange(self, n: int) -> int:
        return self.offset % n


def plugin(handle: FakeHandle, args: Mapping[str, Any] | None = None, offset: int = 0) -> dp.DefaultPreemption:
    return dp.DefaultPreemption(dp.DefaultPreemptionArgs.from_dict(args), handle,
                                rng=FixedOffset(offset), clock=lambda: NOW)


def pod(name: str, prio: int | None = None, *, node: str | None = None, req: Mapping[str, str] | None = None,
        start: str | None = None, labels: Mapping[str, str] | None = None) -> Obj:
    b = make_pod().name(name).uid(name)
    if prio is not None:
        b.priority(prio)
    if node:
        b.node(node)
    if req:
        b.req(req)
    if start:
        b.start_time(start)
    if labels:
        b.labels(labels)
    return b.obj()


def node(name: str, res: Mapping[str, str], **labels: str) -> Obj:
    b = make_node().name(name).capacity(res)
    for k, v in labels.items():
        b.label(k, v)
    return b.obj()


def pdb(name: str, labels: Mapping[str, str], allowed: int, disrupted: Sequence[str] = ()) -> Obj:
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"selector": {"matchLabels": dict(labels)}},
            "status": {"disruptionsAllowed": allowed,
                       "disruptedPods": {p: "2024-01-01T00:00:00Z" for p in disrupted}}}


def stored(handle: FakeHandle, name: str) -> Obj:
    """The pod as the fake API server now has it."""
    obj = handle.client.get_object("v1", "pods", "default", name)
    assert obj is not None, f"pod {name} is gone"
    return obj


def names(pods: Sequence[Obj]) -> list[str]:
    return [p["metadata"]["name"] for p in pods]


def unschedulable(*nodes: str) -> dict[str, Status]:
    return {n: Status(Code.UNSCHEDULABLE) for n in nodes}


# -- SelectVictimsOnNode --------------------------------------------------------------------------

@dataclass
class VictimCase:
    preemptor: Obj
    pods: list[Obj]
    want_victims: list[str]
    want_violations: int = 0
    pdbs: tuple[Obj, ...] = ()

    node_res = VERY_LARGE  # every case: one node of 500m cpu, 500 bytes memory


VICTIM_CASES = {
    "the medium-priority pod is preempted but the small low-priority one stays": VictimCase(
        pod("p", HIGH, req=LARGE),
        [pod("p1.1", LOW, node="n", req=SMALL), pod("p1.2", MID, node="n", req=LARGE)],
        ["p1.2"]),
    "mixed priorities: the most important pods are reprieved first and pods of equal priority stay": VictimCase(
        pod("p", HIGH, req=LARGE),
        [pod("p1.1", MID, node="n", req=SMALL), pod("p1.2", LOW, node="n", req=SMALL),
         pod("p1.3", MID, node="n", req=MEDIUM), pod("p1.4", HIGH, node="n", req=SMALL)],
        ["p1.3", "p1.2"]),
    "among equal priorities the pod that started earlier is reprieved first": VictimCase(
        pod("p", HIGH, req=LARGE),
        [pod("p1.1", LOW, node="n", req=SMALL, start=EPOCH.format(5)),
         pod("p1.2", LOW, node="n", req=SMALL, start=EPOCH.format(4)),
         pod("p1.3", MID, node="n", req=MEDIUM, start=EPOCH.format(3)),
         pod("p1.4", HIGH, node="n", req=SMALL, start=EPOCH.format(2))],
        ["p1.3", "p1.1"]),
    "two victims of one budget that allows one disruption count one violation": VictimCase(
        pod("p", HIGH, req=VERY_LARGE),
        [pod("p1.1", MID, node="n", req=MEDIUM, labels={"app": "foo"}),
         pod("p1.2", MID, node="n", req=MEDIUM, labels={"app": "foo"})],
        ["p1.2", "p1.1"], 1, (pdb("foo", {"app": "foo"}, 1, ["p2"]),)),
    "a victim already in the budget's disruptedPods does not use up the budget": VictimCase(
        pod("p", HIGH, req=VERY_LARGE),
        [pod("p1.1", MID, node="n", req=MEDIUM, labels={"app": "foo"}),
         pod("p1.2", MID, node="n", req=MEDIUM, labels={"app": "foo"})],
        ["p1.1", "p1.2"], 0, (pdb("foo", {"app": "foo"}, 1, ["p1.2"]),)),
    "a disrupted victim is non-violating while the others still exceed the budget": VictimCase(
        pod("p", HIGH, req=VERY_LARGE),
        [pod("p1.1", MID, node="n", req=MEDIUM, labels={"app": "foo"}),
         pod("p1.2", MID, node="n", req=MEDIUM, labels={"app": "foo"}),
         pod("p1.3", MID, node="n", req=MEDIUM, labels={"app": "foo"})],
        ["p1.2", "p1.1", "p1.3"], 1, (pdb("foo", {"app": "foo"}, 1, ["p1.3"]),)),
    "a pod protected by a budget is reprieved before a more important unprotected one": VictimCase(
        pod("p", HIGH, req=LARGE),
        [pod("protected", LOW, node="n", req=MEDIUM, labels={"app": "db"}),
         pod("free", MID, node="n", req=MEDIUM)],
        ["free"], 0, (pdb("db", {"app": "db"}, 0),)),
    "without the budget the lower-priority pod is the victim": VictimCase(
        pod("p", HIGH, req=LARGE),
        [pod("protected", LOW, node="n", req=MEDIUM, labels={"app": "db"}),
         pod("free", MID, node="n", req=MEDIUM)],
        ["protected"]),
    "a budget of another namespace does not protect the pod": VictimCase(
        pod("p", HIGH, req=LARGE),
        [pod("protected", LOW, node="n", req=MEDIUM, labels={"app": "db"}),
         pod("free", MID, node="n", req=MEDIUM)],
        ["protected"], 0, ({**pdb("db", {"app": "db"}, 0), "metadata": {"name": "db", "namespace": "other"}},)),
    "a budget with an empty selector protects nothing": VictimCase(
        pod("p", HIGH, req=LARGE),
        [pod("protected", LOW, node="n", req=MEDIUM, labels={"app": "db"}),
         pod("free", MID, node="n", req=MEDIUM)],
        ["protected"], 0, ({**pdb("db", {}, 0), "spec": {"selector": {}}},)),
    "when the violating victims cannot all be reprieved the result is reordered by importance": VictimCase(
        pod("p", HIGH, req=VERY_LARGE),
        [pod("v", LOW, node="n", req=MEDIUM, labels={"app": "db"}),
         pod("nv", MID, node="n", req=MEDIUM)],
        ["nv", "v"], 1, (pdb("db", {"app": "db"}, 0),)),
    "pods without priority count as priority zero": VictimCase(
        pod("p", 1, req=LARGE),
        [pod("none", None, node="n", req=LARGE), pod("neg", NEG, node="n", req=SMALL)],
        ["none"]),
}


@pytest.mark.parametrize("case", VICTIM_CASES.values(), ids=VICTIM_CASES.keys())
def test_select_victims_on_node(case: VictimCase) -> None:
    handle = FakeHandle([node("n", case.node_res)], case.pods, case.pdbs)
    pl = plugin(handle)
    info = handle.snapshot().get("n")
    assert info is not None
    before = dict(info.pods)
    pdbs = [p for obj in case.pdbs if (p := dp.PDB.of(obj)) is not None]

    victims, violations, status = pl.select_victims_on_node(CycleState(), case.preemptor, info.clone(), pdbs)

    assert status.ok, status
    assert names(victims) == case.want_victims
    assert violations == case.want_violations
    assert info.pods == before, "the snapshot's NodeInfo must not change"


def test_select_victims_tells_prefilter_plugins_about_every_removed_and_readded_pod() -> None:
    pods = [pod("low", LOW, node="n", req=SMALL), pod("mid", MID, node="n", req=LARGE),
            pod("high", HIGH, node="n", req=SMALL)]
    handle = FakeHandle([node("n", VERY_LARGE)], pods)
    victims, _, status = plugin(handle).select_victims_on_node(
        CycleState(), pod("p", HIGH, req=LARGE), handle.snapshot().node_infos()[0].clone(), [])
    assert status.ok and names(victims) == ["mid"]
    # both lower-priority pods removed, both tried back (mid first), mid removed again
    assert handle.removed == [("n", "low"), ("n", "mid"), ("n", "mid")]
    assert handle.added == [("n", "mid"), ("n", "low")]


@pytest.mark.parametrize(("pods", "want_code", "want_reasons"), [
    ([pod("p1", HIGH, node="n", req=SMALL)], Code.UNSCHEDULABLE_AND_UNRESOLVABLE, [dp.NO_VICTIMS]),
    ([pod("p1", MID, node="n", req=SMALL), pod("big", VERY_HIGH, node="n", req=LARGE)],
     Code.UNSCHEDULABLE, ["Insufficient cpu", "Insufficient memory"]),
], ids=["a node with no lower-priority pod has no victims",
        "a node where the pod does not fit even without its victims reports the filter's reasons"])
def test_select_victims_failures(pods: list[Obj], want_code: Code, want_reasons: list[str]) -> None:
    handle = FakeHandle([node("n", VERY_LARGE)], pods)
    victims, _, status = plugin(handle).select_victims_on_node(
        CycleState(), pod("p", HIGH, req=LARGE), handle.snapshot().node_infos()[0].clone(), [])
    assert victims == []
    assert status.code is want_code and status.reasons == want_reasons


# -- pickOneNodeForPreemption --------------------------------------------------------------------------

def cand(name: str, *victims: Obj, violations: int = 0) -> dp.Candidate:
    return dp.Candidate(name, list(victims), violations)


PICK_CASES = {
    "the node with fewer PDB violations wins over lower-priority victims": (
        [cand("a", pod("a1", LOW), violations=1), cand("b", pod("b1", HIGH))], "b"),
    "the node whose most important victim has the lowest priority wins": (
        [cand("a", pod("a1", MID), pod("a2", LOW)), cand("b", pod("b1", LOW), pod("b2", LOW), pod("b3", LOW))], "b"),
    "then the smallest sum of victim priorities": (
        [cand("a", pod("a1", MID), pod("a2", MID)), cand("b", pod("b1", MID), pod("b2", LOW))], "b"),
    "the priority sum is offset so that more negative-priority victims still cost more": (
        [cand("a", pod("a1", NEG), pod("a2", NEG)), cand("b", pod("b1", NEG))], "b"),
    "then the fewest victims": (
        [cand("a", pod("a1", 0), pod("a2", 0)), cand("b", pod("b1", 0))], "b"),
    "then the latest start time among the highest-priority victims": (
        [cand("a", pod("a1", MID, start=EPOCH.format(2)), pod("a2", LOW, start=EPOCH.format(9))),
         cand("b", pod("b1", MID, start=EPOCH.format(3)), pod("b2", LOW, start=EPOCH.format(1)))], "b"),
    "a victim that has not started yet counts as started now": (
        [cand("a", pod("a1", MID, start=EPOCH.format(3))), cand("b", pod("b1", MID))], "b"),
    "a full tie goes to the first candidate": (
        [cand("a", pod("a1", MID)), cand("b", pod("b1", MID)), cand("c", pod("c1", MID))], "a"),
}


@pytest.mark.parametrize(("candidates", "want"), PICK_CASES.values(), ids=PICK_CASES.keys())
def test_pick_one_node_for_preemption(candidates: list[dp.Candidate], want: str) -> None:
    assert dp.pick_one_node_for_preemption(candidates, now=NOW) == want
    # the criteria decide regardless of order; only a full tie depends on it
    reversed_want = candidates[-1].name if len(candidates) == 3 else want
    assert dp.pick_one_node_for_preemption(candidates[::-1], now=NOW) == reversed_want


def test_pick_one_node_with_no_candidates_is_empty() -> None:
    assert dp.pick_one_node_for_preemption([]) == ""


@pytest.mark.parametrize(("a", "b", "want"), [
    (pod("a", HIGH), pod("b", LOW), True),
    (pod("a", LOW), pod("b", HIGH), False),
    (pod("a", MID, start=EPOCH.format(1)), pod("b", MID, start=EPOCH.format(2)), True),
    (pod("a", MID), pod("b", MID, start=EPOCH.format(2)), False),
], ids=["higher priority is more important", "lower priority is less important",
        "with equal priority the earlier start is more important", "a pod not started yet is the least important"])
def test_more_important_pod(a: Obj, b: Obj, want: bool) -> None:
    assert dp.more_important_pod(a, b, now=NOW) is want


# -- PostFilter end to end (upstream's TestPostFilter) -------------------------------------------

@dataclass
class PostFilterCase:
    preemptor: Obj
    pods: list[Obj]
    nodes: list[Obj]
    statuses: dict[str, Status]
    want_node: str | None
    want_code: Code
    want_message: str = ""
    pdbs: tuple[Obj, ...] = ()


POST_FILTER_CASES = {
    "a pod with higher priority can be made schedulable": PostFilterCase(
        pod("p", HIGH), [pod("p1", None, node="node1")], [node("node1", ONE_POD)],
        unschedulable("node1"), "node1", Code.SUCCESS),
    "a pod with tied priority is still unschedulable": PostFilterCase(
        pod("p"), [pod("p1", None, node="node1")], [node("node1", ONE_POD)],
        unschedulable("node1"), "", Code.UNSCHEDULABLE,
        "preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod."),
    "preemption respects nodes the filters found unresolvable": PostFilterCase(
        pod("p", HIGH), [pod("p1", None, node="node1")], [node("node1", ONE_POD)],
        {"node1": Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE)}, "", Code.UNSCHEDULABLE,
        "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."),
    "a node absent from the statuses counts as unresolvable": PostFilterCase(
        pod("p", HIGH), [pod("p1", None, node="node1")], [node("node1", ONE_POD)],
        {}, "", Code.UNSCHEDULABLE,
        "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."),
    "the pod can be made schedulable on one node only": PostFilterCase(
        pod("p", MID), [pod("p1", HIGH, node="node1"), pod("p2", LOW, node="node2")],
        [node("node1", ONE_POD), node("node2", ONE_POD)],
        unschedulable("node1", "node2"), "node2", Code.SUCCESS),
    "with a violation on both nodes the one with the lower highest priority wins": PostFilterCase(
        pod("p", VERY_HIGH),
        [pod("p1", HIGH, node="node1", labels={"pdb": "non-violating"}),
         pod("p2", LOW, node="node1", labels={"pdb": "violating"}),
         pod("p3", MID, node="node2", labels={"pdb": "violating"})],
        [node("node1", ONE_POD), node("node2", ONE_POD)],
        unschedulable("node1", "node2"), "node2", Code.SUCCESS,
        pdbs=(pdb("violating", {"pdb": "violating"}, 0), pdb("non-violating", {"pdb": "non-violating"}, 2**31 - 1))),
    "no candidate when the pod does not fit even without the lower-priority pods": PostFilterCase(
        pod("p", HIGH, req=LARGE), [pod("p1", None, node="node1"), pod("p2", None, node="node2")],
        [node("node1", NODE_RES), node("node2", NODE_RES)],
        unschedulable("node1", "node2"), "", Code.UNSCHEDULABLE,
        "preemption: 0/2 nodes are available: 2 Insufficient cpu."),
    "mixed reasons: no lower-priority pods and not enough cpu": PostFilterCase(
        pod("p", HIGH, req=LARGE),
        [pod("p1", HIGH, node="node1"), pod("p2", None, node="node2"), pod("p3", HIGH, node="node3")],
        [node("node1", ONE_POD), node("node2", NODE_RES), node("node3", ONE_POD)],
        unschedulable("node1", "node2", "node3"), "", Code.UNSCHEDULABLE,
        "preemption: 0/3 nodes are available: 1 Insufficient cpu, 2 No preemption victims found for incoming pod."),
    "mixed reasons: unresolvable and absent nodes are not helped": PostFilterCase(
        pod("p", HIGH, req=LARGE), [pod("p1", None, node="node1"), pod("p2", None, node="node2")],
        [node(f"node{i}", NODE_RES) for i in range(1, 5)],
        {**unschedulable("node1", "node2"), "node4": Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE)},
        "", Code.UNSCHEDULABLE,
        "preemption: 0/4 nodes are available: 2 Insufficient cpu, 2 Preemption is not helpful for scheduling."),
    "no victims on the one candidate node, the others unresolvable": PostFilterCase(
        pod("p", HIGH), [pod("p1", HIGH, node="node1")],
        [node("node1", ONE_POD), node("node2", ONE_POD), node("node3", ONE_POD)],
        {"node1": Status(Code.UNSCHEDULABLE),
         "node2": Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE), "node3": Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE)},
        "", Code.UNSCHEDULABLE,
        "preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, "
        "2 Preemption is not helpful for scheduling."),
    "an error of a PreFilter extension on the only node is the result": PostFilterCase(
        pod("p", HIGH, req=LARGE), [pod("p1", None, node="node1")], [node("node1", LARGE, error="true")],
        unschedulable("node1"), None, Code.ERROR,
        'preemption: running RemovePod on PreFilter plugin "test-plugin": failed to remove pod: p'),
    "an error on one node does not hide a candidate on another": PostFilterCase(
        pod("p", HIGH, req=LARGE), [pod("p1", None, node="node1"), pod("p2", None, node="node2", req=MEDIUM)],
        [node("node1", LARGE, error="true"), node("node2", LARGE)],
        unschedulable("node1", "node2"), "node2", Code.SUCCESS),
    "preemptionPolicy Never makes the pod not eligible": PostFilterCase(
        make_pod().name("p").uid("p").priority(HIGH).preemption_policy("Never").obj(),
        [pod("p1", None, node="node1")], [node("node1", ONE_POD)],
        unschedulable("node1"), None, Code.UNSCHEDULABLE,
        "preemption: not eligible due to preemptionPolicy=Never."),
}


@pytest.mark.parametrize("case", POST_FILTER_CASES.values(), ids=POST_FILTER_CASES.keys())
async def test_post_filter(case: PostFilterCase) -> None:
    handle = FakeHandle(case.nodes, case.pods, case.pdbs, preemptor=case.preemptor)
    result, status = await plugin(handle).post_filter(CycleState(), case.preemptor, case.statuses)
    assert status.code is case.want_code, status
    assert status.message == case.want_message
    if case.want_node is None:
        assert result is None
    else:
        assert result == PostFilterResult(case.want_node)
    deleted = [a.name for a in handle.client.writes("delete", "pods")]
    if case.want_code is Code.SUCCESS:
        assert deleted, "a successful preemption deletes its victims"
        assert all(handle.client.get_object("v1", "pods", "default", n) is None for n in deleted)
    else:
        assert deleted == []


class WithDefault(dict[str, Status]):
    """Statuses whose unlisted nodes read as a default (the core's NodeToStatus does this when
    PreFilter rejected the pod for every node)."""

    def __init__(self, default: Status) -> None:
        super().__init__()
        self.default = default

    def __getitem__(self, name: str) -> Status:
        return dict.get(self, name, self.default)

    def get(self, name: str, default: Any = None) -> Status:
        return self[name]


@pytest.mark.parametrize(("default", "want"), [
    (Status(Code.UNSCHEDULABLE), "node1"),
    (Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE), ""),
], ids=["nodes read as unschedulable through the default are candidates",
        "nodes read as unresolvable through the default are not"])
async def test_post_filter_reads_statuses_through_their_default(default: Status, want: str) -> None:
    preemptor = pod("p", HIGH)
    handle = FakeHandle([node("node1", ONE_POD)], [pod("p1", LOW, node="node1")], preemptor=preemptor)
    result, _ = await plugin(handle).post_filter(CycleState(), preemptor, WithDefault(default))
    assert result == PostFilterResult(want)


# -- eligibility --------------------------------------------------------------------------------

def terminating_victim(name: str, prio: int, *, by_scheduler: bool = True) -> Obj:
    b = make_pod().name(name).uid(name).priority(prio).node("node1").req(LARGE).terminating()
    if by_scheduler:
        b.condition("DisruptionTarget", "True", "PreemptionByScheduler")
    return b.obj()


ELIGIBILITY_CASES = {
    "a pod nominated to a node where its victim is still terminating waits": (
        [terminating_victim("v", LOW)], Status(Code.UNSCHEDULABLE), False, dp.NOT_ELIGIBLE_TERMINATING),
    "a terminating pod of higher priority is no reason to wait": (
        [terminating_victim("v", VERY_HIGH)], Status(Code.UNSCHEDULABLE), True, ""),
    "a pod terminating for another reason is no reason to wait": (
        [terminating_victim("v", LOW, by_scheduler=False)], Status(Code.UNSCHEDULABLE), True, ""),
    "a nominated node now unresolvable for the pod allows preempting elsewhere": (
        [terminating_victim("v", LOW)], Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE), True, ""),
    "a nominated node the filters did not report allows preempting elsewhere": (
        [terminating_victim("v", LOW)], None, True, ""),
}


@pytest.mark.parametrize(("pods", "nominated_status", "want_ok", "want_msg"),
                         ELIGIBILITY_CASES.values(), ids=ELIGIBILITY_CASES.keys())
def test_pod_eligible_to_preempt_others(pods: list[Obj], nominated_status: Status | None, want_ok: bool,
                                        want_msg: str) -> None:
    handle = FakeHandle([node("node1", VERY_LARGE)], pods)
    preemptor = make_pod().name("p").uid("p").priority(HIGH).nominated_node_name("node1").obj()
    assert plugin(handle).pod_eligible_to_preempt_others(preemptor, nominated_status) == (want_ok, want_msg)


async def test_post_filter_waits_for_the_victims_of_an_earlier_preemption() -> None:
    preemptor = make_pod().name("p").uid("p").priority(HIGH).req(LARGE).nominated_node_name("node1").obj()
    handle = FakeHandle([node("node1", VERY_LARGE), node("node2", VERY_LARGE)],
                        [terminating_victim("v", LOW), pod("p2", LOW, node="node2", req=VERY_LARGE)],
                        preemptor=preemptor)
    result, status = await plugin(handle).post_filter(CycleState(), preemptor, unschedulable("node1", "node2"))
    assert result is None
    assert (status.code, status.message) == (
        Code.UNSCHEDULABLE, "preemption: not eligible due to a terminating pod on the nominated node.")
    assert handle.client.actions == []


async def test_post_filter_reads_the_newest_preemptor_from_the_informer() -> None:
    stale = pod("p", HIGH, req=LARGE)
    newest = make_pod().name("p").uid("p").priority(HIGH).req(LARGE).preemption_policy("Never").obj()
    handle = FakeHandle([node("node1", VERY_LARGE)], [pod("p1", LOW, node="node1", req=VERY_LARGE)],
                        preemptor=newest)
    result, status = await plugin(handle).post_filter(CycleState(), stale, unschedulable("node1"))
    assert result is None and status.message == "preemption: not eligible due to preemptionPolicy=Never."


# -- preparing the chosen candidate (API calls) -------------------------------------------------

async def test_preemption_marks_deletes_and_reports_its_victims_and_nominates_the_pod() -> None:
    preemptor = make_pod().name("p").uid("p-uid").priority(HIGH).req(LARGE).scheduler_name("my-scheduler").obj()
    victim = pod("victim", LOW, node="node1", req=LARGE)
    keep = pod("keep", LOW, node="node1", req=SMALL)
    handle = FakeHandle([node("node1", VERY_LARGE)], [victim, keep], preemptor=preemptor)

    result, status = await plugin(handle).post_filter(CycleState(), preemptor, unschedulable("node1"))

    assert status.ok and result == PostFilterResult("node1")
    writes = [(a.verb, a.name, a.subresource) for a in handle.client.actions]
    assert writes == [("patch", "victim", "status"), ("delete", "victim", ""), ("patch", "p", "status")]
    condition = handle.client.actions[0].body["status"]["conditions"][0]
    assert {k: condition[k] for k in ("type", "status", "reason", "message")} == {
        "type": "DisruptionTarget", "status": "True", "reason": "PreemptionByScheduler",
        "message": "my-scheduler: preempting to accommodate a higher priority pod"}
    assert condition["lastTransitionTime"] == "2023-11-14T22:13:20Z"
    assert handle.client.actions[1].body is None, "the victim keeps its own grace period"
    assert stored(handle, "p")["status"]["nominatedNodeName"] == "node1"
    assert handle.client.get_object("v1", "pods", "default", "keep") is not None
    assert handle.event_recorder.events == [
        ("victim", "Normal", "Preempted", "Preempted by pod p-uid on node node1")]


async def test_preemption_clears_the_nomination_of_lower_priority_pods_on_the_node() -> None:
    preemptor = pod("p", HIGH, req=LARGE)
    lower = make_pod().name("lower").uid("lower").priority(LOW).nominated_node_name("node1").obj()
    higher = make_pod().name("higher").uid("higher").priority(VERY_HIGH).nominated_node_name("node1").obj()
    elsewhere = make_pod().name("elsewhere").uid("elsewhere").priority(LOW).nominated_node_name("node2").obj()
    handle = FakeHandle([node("node1", VERY_LARGE)], [pod("victim", LOW, node="node1", req=LARGE)],
                        preemptor=preemptor)
    for p in (lower, higher, elsewhere):
        handle.client.seed(p)
        handle.pod_lister.add(p)

    result, status = await plugin(handle).post_filter(CycleState(), preemptor, unschedulable("node1"))

    assert status.ok and result == PostFilterResult("node1")
    assert "nominatedNodeName" not in stored(handle, "lower")["status"]
    assert stored(handle, "higher")["status"]["nominatedNodeName"] == "node1"
    assert stored(handle, "elsewhere")["status"]["nominatedNodeName"] == "node2"


async def test_victims_already_terminating_or_gone_or_waiting_get_no_delete() -> None:
    preemptor = pod("p", HIGH, req=VERY_LARGE)
    terminating = make_pod().name("terminating").uid("t").priority(LOW).node("node1").req(SMALL).terminating().obj()
    gone = pod("gone", LOW, node="node1", req=SMALL)
    waiting = pod("waiting", LOW, node="node1", req=SMALL)
    handle = FakeHandle([node("node1", VERY_LARGE)], [terminating, gone, waiting], preemptor=preemptor)
    del handle.client.objects[("v1", "pods", "default", "gone")]
    handle.waiting["waiting"] = WaitingPod()

    result, status = await plugin(handle).post_filter(CycleState(), preemptor, unschedulable("node1"))

    assert status.ok and result == PostFilterResult("node1")
    assert handle.client.writes("delete") == []
    assert handle.waiting["waiting"].rejected == ("DefaultPreemption", "preempted")
    assert [e[0] for e in handle.event_recorder.events] == ["waiting"]


async def test_a_failing_delete_fails_the_preemption_and_keeps_the_nomination() -> None:
    preemptor = pod("p", HIGH, req=LARGE)
    handle = FakeHandle([node("node1", VERY_LARGE)], [pod("victim", LOW, node="node1", req=LARGE)],
                        preemptor=preemptor)

    async def refuse(*args: Any, **kw: Any) -> Obj:
        raise RuntimeError("connection refused")

    handle.client.delete = refuse  # type: ignore[method-assign]
    result, status = await plugin(handle).post_filter(CycleState(), preemptor, unschedulable("node1"))
    assert result is None
    assert (status.code, status.message) == (Code.ERROR, "preemption: connection refused")
    assert "nominatedNodeName" not in stored(handle, "p")["status"]


async def test_no_candidate_clears_the_preemptors_old_nomination() -> None:
    preemptor = make_pod().name("p").uid("p").priority(HIGH).req(LARGE).nominated_node_name("node1").obj()
    handle = FakeHandle([node("node1", NODE_RES)], [pod("p1", LOW, node="node1")], preemptor=preemptor)
    result, status = await plugin(handle).post_filter(
        CycleState(), preemptor, {"node1": Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE)})
    assert result == PostFilterResult("") and status.code is Code.UNSCHEDULABLE
    assert "nominatedNodeName" not in stored(handle, "p")["status"]


# -- dry run and sampling -------------------------------------------------------------------------

@pytest.mark.parametrize(("args", "offset", "want"), [
    ({"minCandidateNodesPercentage": 40, "minCandidateNodesAbsolute": 1}, 4, ["node5", "node1"]),
    ({"minCandidateNodesPercentage": 40, "minCandidateNodesAbsolute": 1}, 1, ["node2", "node3"]),
    ({}, 3, ["node4", "node5", "node1", "node2", "node3"]),
], ids=["40% of five nodes from offset 4 wraps around to node1",
        "40% of five nodes from offset 1",
        "the default absolute minimum of 100 tries every node"])
def test_dry_run_stops_after_enough_candidates(args: dict[str, int], offset: int, want: list[str]) -> None:
    nodes = [node(f"node{i}", VERY_LARGE) for i in range(1, 6)]
    pods = [pod(f"p{i}", MID, node=f"node{i}", req=LARGE) for i in range(1, 6)]
    handle = FakeHandle(nodes, pods)
    pl = plugin(handle, args, offset)
    infos = handle.snapshot().node_infos()
    off, num = pl.get_offset_and_num_candidates(len(infos))
    candidates, statuses, errors = pl.dry_run_preemption(CycleState(), pod("p", HIGH, req=LARGE), infos, [], off, num)
    assert [c.name for c in candidates] == want
    assert statuses == {} and errors == []


def test_dry_run_keeps_looking_until_a_candidate_violates_no_budget() -> None:
    nodes = [node(f"node{i}", VERY_LARGE) for i in range(1, 4)]
    pods = [pod("p1", MID, node="node1", req=LARGE, labels={"app": "db"}),
            pod("p2", MID, node="node2", req=LARGE, labels={"app": "db"}),
            pod("p3", MID, node="node3", req=LARGE)]
    handle = FakeHandle(nodes, pods)
    pl = plugin(handle, {"minCandidateNodesPercentage": 0, "minCandidateNodesAbsolute": 1})
    pdbs = [p for p in [dp.PDB.of(pdb("db", {"app": "db"}, 0))] if p is not None]
    candidates, _, _ = pl.dry_run_preemption(CycleState(), pod("p", HIGH, req=LARGE),
                                             handle.snapshot().node_infos(), pdbs, 0, 1)
    # the violating candidates are capped at one; the non-violating one comes first
    assert [(c.name, c.num_pdb_violations) for c in candidates] == [("node3", 0), ("node1", 1)]


@pytest.mark.parametrize(("nodes", "pct", "absolute", "want"), [
    (10, 10, 100, 10), (1000, 10, 100, 100), (5000, 10, 100, 500), (5, 40, 1, 2), (5, 0, 3, 3),
], ids=["never more than the nodes there are", "the absolute minimum on a mid-size cluster",
        "the percentage on a large cluster", "a percentage above the minimum", "a zero percentage leaves the minimum"])
def test_calculate_num_candidates(nodes: int, pct: int, absolute: int, want: int) -> None:
    args = dp.DefaultPreemptionArgs(min_candidate_nodes_percentage=pct, min_candidate_nodes_absolute=absolute)
    assert dp.calculate_num_candidates(nodes, args) == want


@pytest.mark.parametrize("args", [
    {"minCandidateNodesPercentage": 101}, {"minCandidateNodesPercentage": -1},
    {"minCandidateNodesAbsolute": -1}, {"minCandidateNodesPercentage": 0, "minCandidateNodesAbsolute": 0},
], ids=["a percentage above 100", "a negative percentage", "a negative absolute", "both zero"])
def test_invalid_args_are_refused(args: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        dp.DefaultPreemptionArgs.from_dict(args)


def test_factory_is_registered_with_upstream_defaults() -> None:
    factory = registry.factory("DefaultPreemption")
    assert factory is not None
    pl = factory({}, FakeHandle([]))
    assert isinstance(pl, dp.DefaultPreemption) and pl.NAME == "DefaultPreemption"
    assert (pl.args.min_candidate_nodes_percentage, pl.args.min_candidate_nodes_absolute) == (10, 100)


# -- messages ---------------------------------------------------------------------------------

def test_preemption_failure_message_counts_absent_nodes_as_not_helpful() -> None:
    msg = dp.preemption_failure_message(3, {"n1": Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, [dp.NO_VICTIMS])})
    assert msg == ("0/3 nodes are available: 1 No preemption victims found for incoming pod, "
                   "2 Preemption is not helpful for scheduling.")


def test_fit_error_message_sorts_the_counted_reasons_as_strings() -> None:
    statuses = {f"n{i}": Status(Code.UNSCHEDULABLE, ["Insufficient cpu"]) for i in range(10)}
    statuses["m"] = Status(Code.UNSCHEDULABLE, ["Insufficient memory", "Too many pods"])
    statuses["o"] = Status(Code.UNSCHEDULABLE, ["Insufficient memory"])
    assert dp.fit_error_message(12, statuses, ["Preemption is not helpful for scheduling"]) == (
        "0/12 nodes are available: 1 Too many pods, 10 Insufficient cpu, 2 Insufficient memory.")


def test_fit_error_message_without_reasons() -> None:
    assert dp.fit_error_message(0, {}, ["x"]) == "0/0 nodes are available:"
