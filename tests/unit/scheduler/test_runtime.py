"""The framework runtime: extension points run as upstream's, node sampling, the failure
message, nominated pods, Permit waits, binding, and the default profile's plugin order."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from kubepy.scheduler import config as c
from kubepy.scheduler.cache import CacheSnapshot
from kubepy.scheduler.framework import runtime as rt
from kubepy.scheduler.framework.interface import (
    Code,
    CycleState,
    NodeScore,
    PostFilterResult,
    PreFilterResult,
    Status,
)
from kubepy.scheduler.framework.nodeinfo import NodeInfo, PodInfo
from kubepy.testing.scheduler_builders import make_node, make_pod, node_infos

Obj = dict[str, Any]


# -- fakes --------------------------------------------------------------------------------------

class Services:
    def __init__(self, infos: list[NodeInfo]) -> None:
        self.snap = CacheSnapshot.of(infos)
        self.nominated: dict[str, list[PodInfo]] = {}
        self.client: Any = None

    def snapshot(self) -> CacheSnapshot:
        return self.snap

    def lister(self, api_version: str, plural: str) -> Any:
        raise LookupError(plural)

    def nominated_pods_for_node(self, node_name: str) -> list[PodInfo]:
        return self.nominated.get(node_name, [])

    def has_nominated_pods(self) -> bool:
        return bool(self.nominated)


class Counting:
    """Filter: counts calls; rejects nodes listed in ``reject`` with ``reason``."""

    def __init__(self, name: str, reject: Mapping[str, str] | None = None, *, resolvable: bool = True) -> None:
        self.NAME = name
        self.reject = dict(reject or {})
        self.resolvable = resolvable
        self.seen: list[str] = []

    def filter(self, state: CycleState, pod: Obj, node: NodeInfo) -> Status:
        self.seen.append(node.name)
        reason = self.reject.get(node.name)
        if reason is not None:
            return Status.unschedulable(reason, resolvable=self.resolvable)
        return Status()


class PreFilterNarrow:
    def __init__(self, name: str, nodes: set[str] | None, code: Code = Code.SUCCESS, msg: str = "") -> None:
        self.NAME = name
        self.nodes = nodes
        self.code = code
        self.msg = msg

    def pre_filter(self, state: CycleState, pod: Obj, nodes: list[NodeInfo]) -> tuple[PreFilterResult | None, Status]:
        return PreFilterResult(self.nodes), Status(self.code, [self.msg] if self.msg else [])


class SkippingPreFilter:
    """PreFilter answers SKIP, so its Filter must not run this cycle."""

    NAME = "Skipper"

    def __init__(self) -> None:
        self.filtered = 0

    def pre_filter(self, state: CycleState, pod: Obj, nodes: list[NodeInfo]) -> tuple[PreFilterResult | None, Status]:
        return None, Status(Code.SKIP)

    def filter(self, state: CycleState, pod: Obj, node: NodeInfo) -> Status:
        self.filtered += 1
        return Status.unschedulable("never")


class CpuFit:
    """Filter on milli-CPU (reads NodeInfo.requested, so nominated pods count)."""

    NAME = "CpuFit"

    def filter(self, state: CycleState, pod: Obj, node: NodeInfo) -> Status:
        want = PodInfo.of(pod).requests.milli_cpu
        if node.requested.milli_cpu + want > node.allocatable.milli_cpu:
            return Status.unschedulable("Insufficient cpu")
        return Status()


class Scorer:
    def __init__(self, name: str, scores: Mapping[str, int], *, normalize: Callable[[list[NodeScore]], None] | None = None):
        self.NAME = name
        self.scores = dict(scores)
        self._normalize = normalize
        self.HAS_NORMALIZE = normalize is not None

    def score(self, state: CycleState, pod: Obj, node: NodeInfo) -> tuple[int, Status]:
        return self.scores.get(node.name, 0), Status()

    def normalize_score(self, state: CycleState, pod: Obj, scores: list[NodeScore]) -> Status:
        assert self._normalize is not None
        self._normalize(scores)
        return Status()


class Binder:
    def __init__(self, name: str, code: Code = Code.SUCCESS) -> None:
        self.NAME = name
        self.code = code
        self.bound: list[tuple[str, str]] = []

    async def bind(self, state: CycleState, pod: Obj, node_name: str) -> Status:
        if self.code is Code.SUCCESS:
            self.bound.append((pod["metadata"]["name"], node_name))
        return Status(self.code)


class Waiter:
    NAME = "Waiter"

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout

    def permit(self, state: CycleState, pod: Obj, node_name: str) -> tuple[Status, float]:
        return Status(Code.WAIT), self.timeout


class PostFilter:
    NAME = "FakePreemption"

    def __init__(self, message: str, nominate: str | None = None) -> None:
        self.message = message
        self.nominate = nominate
        self.seen: Mapping[str, Status] | None = None

    async def post_filter(self, state: CycleState, pod: Obj, statuses: Mapping[str, Status]
                          ) -> tuple[PostFilterResult | None, Status]:
        self.seen = statuses
        if self.nominate:
            return PostFilterResult(self.nominate), Status()
        return PostFilterResult(""), Status.unschedulable(self.message)


def framework(plugins: list[Any], infos: list[NodeInfo], *, points: Mapping[str, list[str]] | None = None,
              weights: Mapping[str, int] | None = None, percentage: int | None = None,
              services: Services | None = None) -> rt.Framework:
    """A profile of just these plugins, enabled through multiPoint (or at ``points``)."""
    table = {p.NAME: p for p in plugins}
    sets: dict[str, c.PluginSet] = {}
    if points is None:
        sets["multiPoint"] = c.PluginSet(enabled=[c.PluginRef(p.NAME, (weights or {}).get(p.NAME)) for p in plugins])
    else:
        for point, names in points.items():
            sets[point] = c.PluginSet(enabled=[c.PluginRef(n, (weights or {}).get(n)) for n in names])
    prof = c.Profile(scheduler_name="test", plugins=sets, percentage_of_nodes_to_score=percentage)
    return rt.Framework(prof, services or Services(infos),
                        plugin_factory=lambda name: (lambda args, handle: table[name]) if name in table else None,
                        rng=random.Random(1))


def nodes(n: int, **cap: str) -> list[NodeInfo]:
    return node_infos([make_node().name(f"n{i}").capacity(cpu="4", pods="110", **cap).obj() for i in range(n)])


POD = make_pod().name("p").uid("p-uid").req(cpu="1").obj()


# -- sampling -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("percentage", "num_nodes", "expected"), [
    pytest.param(0, 50, 50, id="fewer than 100 nodes are all examined"),
    pytest.param(0, 100, 100, id="100 nodes: 50 percent would be below the floor of 100"),
    pytest.param(0, 1000, 420, id="1000 nodes: adaptive 50 minus 8 percent"),
    pytest.param(0, 5000, 500, id="5000 nodes: adaptive 10 percent"),
    pytest.param(0, 6000, 300, id="6000 nodes: adaptive percentage floors at 5"),
    pytest.param(None, 5000, 500, id="unset means adaptive"),
    pytest.param(10, 500, 100, id="an explicit percentage still finds at least 100"),
    pytest.param(30, 1000, 300, id="an explicit percentage"),
    pytest.param(100, 5000, 5000, id="100 percent examines every node"),
])
def test_num_feasible_nodes_to_find(percentage: int | None, num_nodes: int, expected: int) -> None:
    assert rt.num_feasible_nodes_to_find(percentage, num_nodes) == expected


def test_sampling_stops_at_enough_feasible_nodes_and_rotates_the_start() -> None:
    infos = nodes(1000)
    f = Counting("Count")
    fwk = framework([f, Scorer("S", {})], infos)
    sampler = rt.NodeSampler()
    snap = fwk.services.snapshot()
    rt.schedule_pod(fwk, sampler, CycleState(), POD, snap, random.Random(0))
    assert f.seen == [f"n{i}" for i in range(420)]
    assert sampler.next_start_index == 420
    f.seen.clear()
    rt.schedule_pod(fwk, sampler, CycleState(), POD, snap, random.Random(0))
    assert f.seen[0] == "n420" and len(f.seen) == 420
    assert sampler.next_start_index == 840
    f.seen.clear()
    rt.schedule_pod(fwk, sampler, CycleState(), POD, snap, random.Random(0))
    assert f.seen[:160] == [f"n{i}" for i in range(840, 1000)] and f.seen[160] == "n0"


def test_rejected_nodes_count_toward_the_next_start_index() -> None:
    infos = nodes(200)
    f = Counting("Count", {f"n{i}": "no" for i in range(10)})  # the first ten reject
    fwk = framework([f, Scorer("S", {})], infos, percentage=50)
    sampler = rt.NodeSampler()
    rt.schedule_pod(fwk, sampler, CycleState(), POD, fwk.services.snapshot(), random.Random(0))
    # 100 feasible wanted: n10..n109, so 110 nodes were examined
    assert len(f.seen) == 110
    assert sampler.next_start_index == 110


def test_without_score_plugins_one_feasible_node_is_enough() -> None:
    f = Counting("Count")
    fwk = framework([f], nodes(50))
    result = rt.schedule_pod(fwk, rt.NodeSampler(), CycleState(), POD, fwk.services.snapshot(), random.Random(0))
    assert f.seen == ["n0"] and result.suggested_host == "n0"


# -- filter and the failure message -------------------------------------------------------------

def test_filter_stops_at_the_first_rejecting_plugin_and_names_it() -> None:
    first = Counting("First", {"n0": "node(s) were unschedulable"})
    second = Counting("Second")
    fwk = framework([first, second], nodes(1))
    st = fwk.run_filter_plugins(CycleState(), POD, fwk.services.snapshot().node_infos()[0])
    assert st.code is Code.UNSCHEDULABLE and st.plugin == "First"
    assert st.reasons == ["node(s) were unschedulable"]
    assert second.seen == []


def test_fit_error_message_is_upstreams_sorted_histogram_with_the_preemption_message() -> None:
    taint = "node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }"
    f = Counting("Fake", {"n0": "Insufficient cpu", "n1": taint, "n2": taint})
    post = PostFilter("preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling")
    fwk = framework([f, post], nodes(3))
    state = CycleState()
    with pytest.raises(rt.FitError) as info:
        rt.schedule_pod(fwk, rt.NodeSampler(), state, POD, fwk.services.snapshot(), random.Random(0))
    fe = info.value
    result, st = asyncio.run(fwk.run_post_filter_plugins(state, POD, fe.diagnosis.node_to_status))
    fe.diagnosis.post_filter_msg = st.message
    assert str(fe) == ("0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint "
                       "{node-role.kubernetes.io/control-plane: }. preemption: 0/3 nodes are available: "
                       "3 Preemption is not helpful for scheduling.")
    assert fe.diagnosis.unschedulable_plugins == {"Fake"}
    assert post.seen is not None and post.seen["n1"].plugin == "Fake"
    assert result == PostFilterResult("") and st.plugin == "FakePreemption"


def test_histogram_sorts_as_strings_like_upstream() -> None:
    reasons = {f"n{i}": "b-reason" for i in range(10)} | {"n10": "a-reason", "n11": "a-reason"}
    fwk = framework([Counting("Fake", reasons)], nodes(12))
    with pytest.raises(rt.FitError) as info:
        rt.schedule_pod(fwk, rt.NodeSampler(), CycleState(), POD, fwk.services.snapshot(), random.Random(0))
    # "10 ..." sorts before "2 ..." as upstream's sort.Strings does
    assert str(info.value) == "0/12 nodes are available: 10 b-reason, 2 a-reason."


def test_a_pre_filter_rejection_is_the_whole_message_and_every_node_reads_it() -> None:
    pre = PreFilterNarrow("Gate", None, Code.UNSCHEDULABLE_AND_UNRESOLVABLE, "pod has unbound immediate claims")
    f = Counting("Count")
    fwk = framework([pre, f], nodes(3))
    with pytest.raises(rt.FitError) as info:
        rt.schedule_pod(fwk, rt.NodeSampler(), CycleState(), POD, fwk.services.snapshot(), random.Random(0))
    fe = info.value
    assert str(fe) == "0/3 nodes are available: pod has unbound immediate claims."
    assert f.seen == []
    assert fe.diagnosis.node_to_status["n2"].code is Code.UNSCHEDULABLE_AND_UNRESOLVABLE
    assert len(fe.diagnosis.node_to_status) == 0  # no explicit entries
    assert fe.diagnosis.unschedulable_plugins == {"Gate"}


def test_no_nodes_at_all() -> None:
    fwk = framework([Counting("Count")], [])
    with pytest.raises(rt.NoNodesAvailable, match="no nodes available to schedule pods"):
        rt.schedule_pod(fwk, rt.NodeSampler(), CycleState(), POD, fwk.services.snapshot(), random.Random(0))


# -- PreFilter results --------------------------------------------------------------------------

def test_pre_filter_results_are_intersected() -> None:
    f = Counting("Count")
    fwk = framework([PreFilterNarrow("A", {"n0", "n1"}), PreFilterNarrow("B", {"n1", "n2"}), f], nodes(4))
    result = rt.schedule_pod(fwk, rt.NodeSampler(), CycleState(), POD, fwk.services.snapshot(), random.Random(0))
    assert f.seen == ["n1"] and result.suggested_host == "n1"


def test_disjoint_pre_filter_results_reject_every_node() -> None:
    fwk = framework([PreFilterNarrow("A", {"n0"}), PreFilterNarrow("B", {"n1"}), Counting("Count")], nodes(2))
    with pytest.raises(rt.FitError) as info:
        rt.schedule_pod(fwk, rt.NodeSampler(), CycleState(), POD, fwk.services.snapshot(), random.Random(0))
    assert str(info.value) == "0/2 nodes are available: node(s) didn't satisfy plugin(s) [A B] simultaneously."


def test_nodes_outside_the_pre_filter_result_are_absent_and_unresolvable() -> None:
    f = Counting("Count", {"n0": "nope"})
    fwk = framework([PreFilterNarrow("A", {"n0"}), f], nodes(3))
    with pytest.raises(rt.FitError) as info:
        rt.schedule_pod(fwk, rt.NodeSampler(), CycleState(), POD, fwk.services.snapshot(), random.Random(0))
    statuses = info.value.diagnosis.node_to_status
    assert list(statuses) == ["n0"]
    assert statuses["n2"].reasons == ["node(s) didn't satisfy plugin(s) [A]"]
    assert str(info.value) == "0/3 nodes are available: 1 nope."


def test_a_skipped_pre_filter_skips_its_filter() -> None:
    skipper = SkippingPreFilter()
    fwk = framework([skipper, Counting("Count")], nodes(2))
    rt.schedule_pod(fwk, rt.NodeSampler(), CycleState(), POD, fwk.services.snapshot(), random.Random(0))
    assert skipper.filtered == 0


# -- nominated pods -----------------------------------------------------------------------------

@pytest.mark.parametrize(("nominated_priority", "fits"), [
    pytest.param(100, False, id="a nominated pod of higher priority holds its place"),
    pytest.param(10, False, id="a nominated pod of equal priority holds its place"),
    pytest.param(5, True, id="a nominated pod of lower priority is ignored"),
])
def test_filter_with_nominated_pods(nominated_priority: int, fits: bool) -> None:
    infos = nodes(1)
    services = Services(infos)
    services.nominated["n0"] = [PodInfo.of(make_pod().name("big").uid("big").priority(nominated_priority)
                                           .req(cpu="3500m").obj())]
    fwk = framework([CpuFit()], infos, services=services)
    pod = make_pod().name("p").uid("p").priority(10).req(cpu="1").obj()
    st = fwk.run_filter_plugins_with_nominated_pods(CycleState(), pod, infos[0])
    assert st.ok is fits
    assert not st.ok or infos[0].requested.milli_cpu == 0  # the snapshot's NodeInfo is not changed
    assert infos[0].requested.milli_cpu == 0


def test_the_pod_itself_is_not_counted_as_nominated() -> None:
    infos = nodes(1)
    services = Services(infos)
    pod = make_pod().name("p").uid("p").req(cpu="3").obj()
    services.nominated["n0"] = [PodInfo.of(pod)]
    fwk = framework([CpuFit()], infos, services=services)
    assert fwk.run_filter_plugins_with_nominated_pods(CycleState(), pod, infos[0]).ok


# -- Score --------------------------------------------------------------------------------------

def test_scores_are_normalized_weighted_and_summed() -> None:
    def invert(scores: list[NodeScore]) -> None:
        for s in scores:
            s.score = 100 - s.score

    a = Scorer("A", {"n0": 10, "n1": 20, "n2": 30}, normalize=invert)  # -> 90, 80, 70
    b = Scorer("B", {"n0": 0, "n1": 10, "n2": 50})
    fwk = framework([a, b], nodes(3), weights={"A": 2})
    totals, st = fwk.run_score_plugins(CycleState(), POD, fwk.services.snapshot().node_infos())
    assert st.ok
    assert totals == [180, 170, 190]
    result = rt.schedule_pod(fwk, rt.NodeSampler(), CycleState(), POD, fwk.services.snapshot(), random.Random(0))
    assert result.suggested_host == "n2" and result.feasible_nodes == 3


def test_a_score_out_of_range_is_an_error() -> None:
    fwk = framework([Scorer("Wild", {"n0": 101})], nodes(2))
    totals, st = fwk.run_score_plugins(CycleState(), POD, fwk.services.snapshot().node_infos())
    assert st.code is Code.ERROR and "invalid score 101" in st.message


def test_ties_are_broken_at_random() -> None:
    rng = random.Random(7)
    picks = {rt.select_host(["a", "b", "c"], [5, 9, 9], rng) for _ in range(50)}
    assert picks == {"b", "c"}


# -- Permit and binding -------------------------------------------------------------------------

async def test_permit_wait_ends_when_allowed() -> None:
    fwk = framework([Waiter(30)], nodes(1))
    pod = make_pod().name("w").uid("w-uid").obj()
    st = fwk.run_permit_plugins(CycleState(), pod, "n0")
    assert st.code is Code.WAIT
    waiter = asyncio.ensure_future(fwk.wait_on_permit(pod))
    await asyncio.sleep(0)
    assert not waiter.done()
    wp = fwk.get_waiting_pod("w-uid")
    assert wp is not None
    wp.allow("Waiter")
    assert (await waiter).ok
    assert fwk.get_waiting_pod("w-uid") is None


async def test_permit_wait_times_out_as_a_rejection() -> None:
    fwk = framework([Waiter(0.01)], nodes(1))
    pod = make_pod().name("w").uid("w-uid").obj()
    assert fwk.run_permit_plugins(CycleState(), pod, "n0").code is Code.WAIT
    st = await fwk.wait_on_permit(pod)
    assert st.code is Code.UNSCHEDULABLE and st.plugin == "Waiter"
    assert "rejected due to timeout" in st.message


async def test_bind_skips_to_the_next_binder() -> None:
    skipper, binder = Binder("Skip", Code.SKIP), Binder("Bind")
    fwk = framework([skipper, binder], nodes(1))
    assert (await fwk.run_bind_plugins(CycleState(), POD, "n0")).ok
    assert binder.bound == [("p", "n0")]
    only_skip = framework([Binder("Skip", Code.SKIP)], nodes(1))
    assert (await only_skip.run_bind_plugins(CycleState(), POD, "n0")).code is Code.SKIP


# -- profiles -----------------------------------------------------------------------------------

def test_the_default_profile_runs_upstreams_plugins_in_upstreams_order() -> None:
    fwk = rt.Framework(c.default_config().profiles[0], Services(nodes(1)))
    assert fwk.plugin_names("queueSort") == ["PrioritySort"]
    assert fwk.plugin_names("preEnqueue") == ["SchedulingGates"]
    assert fwk.plugin_names("filter") == ["NodeUnschedulable", "NodeName", "TaintToleration", "NodeAffinity",
                                          "NodePorts", "NodeResourcesFit", "PodTopologySpread", "InterPodAffinity"]
    assert fwk.plugin_names("score") == ["TaintToleration", "NodeAffinity", "NodeResourcesFit", "PodTopologySpread",
                                         "InterPodAffinity", "NodeResourcesBalancedAllocation", "ImageLocality"]
    assert fwk.score_weights == {"TaintToleration": 3, "NodeAffinity": 2, "NodeResourcesFit": 1,
                                 "PodTopologySpread": 2, "InterPodAffinity": 2,
                                 "NodeResourcesBalancedAllocation": 1, "ImageLocality": 1}
    assert fwk.plugin_names("postFilter") == ["DefaultPreemption"]
    assert fwk.plugin_names("bind") == ["DefaultBinder"]


def test_per_point_settings_override_multi_point() -> None:
    prof = c.parse({"apiVersion": c.API_VERSION, "kind": "KubeSchedulerConfiguration", "profiles": [{"plugins": {
        "score": {"enabled": [{"name": "ImageLocality", "weight": 5}], "disabled": [{"name": "TaintToleration"}]},
        "filter": {"disabled": [{"name": "*"}], "enabled": [{"name": "NodeResourcesFit"}]},
    }}]}).profiles[0]
    fwk = rt.Framework(prof, Services(nodes(1)))
    assert fwk.plugin_names("filter") == ["NodeResourcesFit"]
    # the re-configured plugin comes first, then the other multiPoint ones
    assert fwk.plugin_names("score") == ["ImageLocality", "NodeAffinity", "NodeResourcesFit", "PodTopologySpread",
                                         "InterPodAffinity", "NodeResourcesBalancedAllocation"]
    assert fwk.score_weights["ImageLocality"] == 5


def test_an_unknown_plugin_name_is_refused() -> None:
    prof = c.Profile(plugins={"filter": c.PluginSet(enabled=[c.PluginRef("NoSuchPlugin")])})
    with pytest.raises(ValueError, match="NoSuchPlugin"):
        rt.Framework(prof, Services([]))


def test_plugins_without_enqueue_extensions_register_for_every_event() -> None:
    fwk = framework([Counting("Count")], nodes(1))
    assert fwk.events_to_register() == {rt.ALL_CLUSTER_EVENTS[0]: {"Count"}}


class BatchScorer(Scorer):
    def __init__(self, name: str, scores: Mapping[str, int]) -> None:
        super().__init__(name, scores)
        self.calls = 0

    def score(self, state: CycleState, pod: Obj, node: NodeInfo) -> tuple[int, Status]:
        raise AssertionError("the batch hook should be used")

    def score_nodes(self, state: CycleState, pod: Obj, nodes: list[NodeInfo]) -> tuple[list[int], Status]:
        self.calls += 1
        return [self.scores.get(n.name, 0) for n in nodes], Status()


def test_a_score_plugin_may_score_all_nodes_in_one_call() -> None:
    batch = BatchScorer("Batch", {"n1": 40})
    fwk = framework([batch, Scorer("Per", {"n0": 30})], nodes(2), weights={"Batch": 2})
    totals, st = fwk.run_score_plugins(CycleState(), POD, fwk.services.snapshot().node_infos())
    assert st.ok and totals == [30, 80] and batch.calls == 1
