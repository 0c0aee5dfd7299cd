"""NodeResourcesFit and NodeResourcesBalancedAllocation: the cases of upstream's fit_test.go,
least_allocated_test.go, most_allocated_test.go, requested_to_capacity_ratio_test.go and
balanced_allocation_test.go, with the same inputs and the same expected reasons and scores."""

from __future__ import annotations

import pytest

from kubepy.scheduler.framework.interface import Code, CycleState, Status
from kubepy.scheduler.framework.nodeinfo import pod_requests
from kubepy.scheduler.plugins import noderesources as nr
from kubepy.testing.scheduler_builders import make_node, make_pod, node_info, node_infos


def _fit(args=None):
    return nr.new_fit(args or {}, None)


def _scores(plugin, pod, infos):
    state = CycleState()
    status = plugin.pre_score(state, pod, infos)
    assert status.code in (Code.SUCCESS, Code.SKIP)
    out = []
    for ni in infos:
        score, st = plugin.score(state, pod, ni)
        assert st.ok, st
        out.append(score)
    return out


def _filter(plugin, pod, ni):
    state = CycleState()
    _, st = plugin.pre_filter(state, pod, [ni])
    assert st.ok
    return plugin.filter(state, pod, ni)


# -- Filter ------------------------------------------------------------------------------

def _alloc_node(cpu="10m", memory="20", pods="32", **scalar):
    return make_node().name("n").capacity({"cpu": cpu, "memory": memory, "pods": pods, **scalar}).obj()


def _used(cpu, memory, **more):
    return make_pod().name(f"used-{cpu}-{memory}").node("n").req({"cpu": cpu, "memory": memory, **more}).obj()


FILTER_CASES = [
    ("a pod requesting nothing always fits", make_pod().obj(), [_used("10m", "20")], {}, []),
    ("a pod that needs more cpu and memory than is free fails on both",
     make_pod().req(cpu="1m", memory="1").obj(), [_used("10m", "20")], {}, ["Insufficient cpu", "Insufficient memory"]),
    ("an init container's larger cpu request decides the fit",
     make_pod().req(cpu="1m", memory="1").init_req(cpu="3m", memory="1").obj(), [_used("8m", "19")], {},
     ["Insufficient cpu"]),
    ("an init container's larger memory request decides the fit",
     make_pod().req(cpu="1m", memory="1").init_req(cpu="1m", memory="3").obj(), [_used("9m", "19")], {},
     ["Insufficient memory"]),
    ("a pod using exactly the free resources fits", make_pod().req(cpu="5m", memory="19").obj(),
     [_used("5m", "1")], {}, []),
    ("only the missing cpu is reported", make_pod().req(cpu="2m", memory="1").obj(), [_used("9m", "5")], {},
     ["Insufficient cpu"]),
    ("only the missing memory is reported", make_pod().req(cpu="1m", memory="2").obj(), [_used("5m", "19")], {},
     ["Insufficient memory"]),
    ("a sidecar's request adds to the app containers'",
     make_pod().req(cpu="1m", memory="1").sidecar_req(cpu="2m", memory="1").obj(), [_used("8m", "1")], {},
     ["Insufficient cpu"]),
    ("pod overhead counts against the node", make_pod().req(cpu="1m", memory="1").overhead(cpu="1m").obj(),
     [_used("9m", "1")], {}, ["Insufficient cpu"]),
    ("an extended resource within allocatable fits", make_pod().req({"example.com/aaa": "1"}).obj(),
     [_used("0", "0", **{"example.com/aaa": "4"})], {}, []),
    ("an extended resource beyond allocatable fails",
     make_pod().req({"example.com/aaa": "2"}).obj(), [_used("0", "0", **{"example.com/aaa": "4"})], {},
     ["Insufficient example.com/aaa"]),
    ("an extended resource the node does not have fails", make_pod().req({"example.com/bbb": "1"}).obj(), [], {},
     ["Insufficient example.com/bbb"]),
    ("an ignored extended resource is not checked", make_pod().req({"example.com/bbb": "1"}).obj(), [],
     {"ignoredResources": ["example.com/bbb"]}, []),
    ("an extended resource of an ignored group is not checked", make_pod().req({"example.com/bbb": "1"}).obj(), [],
     {"ignoredResourceGroups": ["example.com"]}, []),
    ("hugepages are not extended resources and cannot be ignored",
     make_pod().req({"hugepages-2Mi": "1"}).obj(), [], {"ignoredResourceGroups": ["hugepages-2Mi"]},
     ["Insufficient hugepages-2Mi"]),
    ("ephemeral storage beyond allocatable fails", make_pod().req({"ephemeral-storage": "10"}).obj(),
     [_used("0", "0", **{"ephemeral-storage": "15"})], {}, ["Insufficient ephemeral-storage"]),
]


@pytest.mark.parametrize("pod,existing,args,reasons", [c[1:] for c in FILTER_CASES], ids=[c[0] for c in FILTER_CASES])
def test_fit_filter(pod, existing, args, reasons):
    node = _alloc_node(**{"example.com/aaa": "5", "ephemeral-storage": "20"})
    ni = node_infos([node], existing)[0]
    status = _filter(_fit(args), pod, ni)
    if reasons:
        assert status == Status(Code.UNSCHEDULABLE, reasons, "NodeResourcesFit")
    else:
        assert status.ok


def test_too_many_pods_is_reported_before_resources():
    node = _alloc_node(pods="1")
    ni = node_infos([node], [_used("10m", "20")])[0]
    status = _filter(_fit(), make_pod().req(cpu="1m", memory="1").obj(), ni)
    assert status.reasons == ["Too many pods", "Insufficient cpu", "Insufficient memory"]
    assert status.code is Code.UNSCHEDULABLE


def test_fits_reports_what_is_missing_with_numbers():
    ni = node_infos([_alloc_node()], [_used("8m", "5")])[0]
    missing = nr.fits(pod_requests(make_pod().req(cpu="3m").obj()), ni)
    assert missing == [nr.InsufficientResource("cpu", "Insufficient cpu", 3, 8, 10)]


def test_filter_without_prefilter_state_is_an_error():
    status = _fit().filter(CycleState(), make_pod().obj(), node_info(_alloc_node()))
    assert status.code is Code.ERROR


# -- LeastAllocated (least_allocated_test.go) ----------------------------------------------

def _n(name, cpu, memory, **scalar):
    return make_node().name(name).capacity({"cpu": cpu, "memory": memory, **scalar}).obj()


BIG_POD = make_pod().req(cpu="1000", memory="2000").req(cpu="2000", memory="3000").obj()

LEAST_CASES = [
    ("nothing scheduled and nothing requested gives the maximum", make_pod().obj(),
     [_n("node1", "4000", "10000"), _n("node2", "4000", "10000")], [], None, [100, 100]),
    ("nothing scheduled, resources requested, differently sized nodes", BIG_POD,
     [_n("node1", "4000", "10000"), _n("node2", "6000", "10000")], [], None, [37, 50]),
    ("no resources requested, empty pods scheduled", make_pod().obj(),
     [_n("node1", "4000", "10000"), _n("node2", "4000", "10000")],
     [make_pod().name(f"p{i}").node(n).obj() for i, n in enumerate(["node1", "node1", "node2", "node2"])],
     None, [100, 100]),
    ("no resources requested, pods scheduled with resources", make_pod().obj(),
     [_n("node1", "10000", "20000"), _n("node2", "10000", "20000")],
     [make_pod().name("a").node("node1").req(cpu="3000", memory="0").obj(),
      make_pod().name("b").node("node1").req(cpu="3000", memory="0").obj(),
      make_pod().name("c").node("node2").req(cpu="3000", memory="0").obj(),
      make_pod().name("d").node("node2").req(cpu="3000", memory="5000").obj()], None, [70, 57]),
    ("resources requested, pods scheduled with resources", BIG_POD,
     [_n("node1", "10000", "20000"), _n("node2", "10000", "20000")],
     [make_pod().name("a").node("node1").req(cpu="3000", memory="0").obj(),
      make_pod().name("b").node("node2").req(cpu="3000", memory="5000").obj()], None, [57, 45]),
    ("resources requested, pods scheduled with resources, differently sized nodes", BIG_POD,
     [_n("node1", "10000", "20000"), _n("node2", "10000", "50000")],
     [make_pod().name("a").node("node1").req(cpu="3000", memory="0").obj(),
      make_pod().name("b").node("node2").req(cpu="3000", memory="5000").obj()], None, [57, 60]),
    ("requested resources exceeding capacity score zero for that resource",
     make_pod().req(cpu="3000", memory="0").obj(), [_n("node1", "4000", "10000"), _n("node2", "4000", "10000")],
     [make_pod().name("a").node("node1").req(cpu="3000", memory="0").obj(),
      make_pod().name("b").node("node2").req(cpu="3000", memory="5000").obj()], None, [50, 25]),
    ("nodes without cpu and memory score the minimum", make_pod().obj(),
     [make_node().name("node1").obj(), make_node().name("node2").obj()],
     [make_pod().name("a").node("node1").req(cpu="3000", memory="0").obj(),
      make_pod().name("b").node("node2").req(cpu="3000", memory="5000").obj()], None, [0, 0]),
    ("memory weighted twice as much as cpu", BIG_POD,
     [_n("node1", "4000", "10000"), _n("node2", "6000", "10000")], [],
     [{"name": "memory", "weight": 2}, {"name": "cpu", "weight": 1}], [41, 50]),
    ("an extended resource the pod does not request is left out", BIG_POD,
     [_n("node1", "6000", "10000"), _n("node2", "6000", "10000", **{"example.com/foo": "4"})], [],
     [{"name": "cpu", "weight": 1}, {"name": "memory", "weight": 1}, {"name": "example.com/foo", "weight": 1}],
     [50, 50]),
    ("an extended resource the pod requests is scored",
     make_pod().req(cpu="1000", memory="2000").req({"cpu": "2000", "memory": "3000", "example.com/foo": "2"}).obj(),
     [_n("node1", "6000", "10000", **{"example.com/foo": "4"}),
      _n("node2", "6000", "10000", **{"example.com/foo": "10"})], [],
     [{"name": "cpu", "weight": 1}, {"name": "memory", "weight": 1}, {"name": "example.com/foo", "weight": 1}],
     [50, 60]),
]


@pytest.mark.parametrize("pod,nodes,existing,resources,expected", [c[1:] for c in LEAST_CASES],
                         ids=[c[0] for c in LEAST_CASES])
def test_least_allocated_scores(pod, nodes, existing, resources, expected):
    strategy = {"type": "LeastAllocated"}
    if resources is not None:
        strategy["resources"] = resources
    assert _scores(_fit({"scoringStrategy": strategy}), pod, node_infos(nodes, existing)) == expected


def test_score_with_no_resources_configured_is_an_error():
    plugin = _fit({"scoringStrategy": {"type": "LeastAllocated", "resources": []}})
    state = CycleState()
    ni = node_info(_n("node1", "4000", "10000"))
    plugin.pre_score(state, BIG_POD, [ni])
    score, status = plugin.score(state, BIG_POD, ni)
    assert (score, status.code, status.reasons) == (0, Code.ERROR, ["resources not found"])


@pytest.mark.parametrize("weight", [-1, 0, 101], ids=["a negative weight", "a zero weight", "a weight over 100"])
def test_resource_weights_outside_1_to_100_are_refused(weight):
    with pytest.raises(ValueError, match=r"resources\[0\]\.weight"):
        _fit({"scoringStrategy": {"resources": [{"name": "memory", "weight": weight}, {"name": "cpu", "weight": 1}]}})


# -- MostAllocated (most_allocated_test.go) ------------------------------------------------

MOST_CASES = [
    ("nothing scheduled and nothing requested gives the minimum", make_pod().obj(),
     [_n("node1", "4000", "10000"), _n("node2", "4000", "10000")], [], [0, 0]),
    ("nothing scheduled, resources requested, differently sized nodes", BIG_POD,
     [_n("node1", "4000", "10000"), _n("node2", "6000", "10000")], [], [62, 50]),
    ("no resources requested, pods scheduled with resources", make_pod().obj(),
     [_n("node1", "10000", "20000"), _n("node2", "10000", "20000")],
     [make_pod().name("a").node("node1").req(cpu="3000", memory="0").obj(),
      make_pod().name("b").node("node1").req(cpu="3000", memory="0").obj(),
      make_pod().name("c").node("node2").req(cpu="3000", memory="0").obj(),
      make_pod().name("d").node("node2").req(cpu="3000", memory="5000").obj()], [30, 42]),
    ("resources requested, pods scheduled with resources", BIG_POD,
     [_n("node1", "10000", "20000"), _n("node2", "10000", "20000")],
     [make_pod().name("a").node("node1").req(cpu="3000", memory="0").obj(),
      make_pod().name("b").node("node2").req(cpu="3000", memory="5000").obj()], [42, 55]),
    ("requested resources over capacity count as full", make_pod().req(cpu="5000", memory="10000").obj(),
     [_n("node1", "4000", "10000"), _n("node2", "10000", "8000")], [], [100, 75]),
]


@pytest.mark.parametrize("pod,nodes,existing,expected", [c[1:] for c in MOST_CASES], ids=[c[0] for c in MOST_CASES])
def test_most_allocated_scores(pod, nodes, existing, expected):
    assert _scores(_fit({"scoringStrategy": {"type": "MostAllocated"}}), pod, node_infos(nodes, existing)) == expected


# -- RequestedToCapacityRatio (requested_to_capacity_ratio_test.go) ------------------------

LEAST_SHAPE = [{"utilization": 0, "score": 10}, {"utilization": 100, "score": 0}]

RTCR_CASES = [
    ("nothing requested gives the maximum under a least-requested shape", make_pod().obj(),
     [_n("node1", "4000", "10000"), _n("node2", "4000", "10000")],
     [make_pod().name("a").node("node1").obj(), make_pod().name("b").node("node1").obj()], [100, 100]),
    ("requests on differently sized nodes, rounded to the nearest integer", BIG_POD,
     [_n("node1", "4000", "10000"), _n("node2", "6000", "10000")],
     [make_pod().name("a").node("node1").obj(), make_pod().name("b").node("node1").obj()], [38, 50]),
    ("existing pods' requests count toward utilization", make_pod().obj(),
     [_n("node1", "4000", "10000"), _n("node2", "6000", "10000")],
     [make_pod().name("a").node("node1").req(cpu="3000", memory="5000").obj(),
      make_pod().name("b").node("node2").req(cpu="3000", memory="5000").obj()], [38, 50]),
]


@pytest.mark.parametrize("pod,nodes,existing,expected", [c[1:] for c in RTCR_CASES], ids=[c[0] for c in RTCR_CASES])
def test_requested_to_capacity_ratio_scores(pod, nodes, existing, expected):
    args = {"scoringStrategy": {"type": "RequestedToCapacityRatio",
                                "requestedToCapacityRatio": {"shape": LEAST_SHAPE}}}
    assert _scores(_fit(args), pod, node_infos(nodes, existing)) == expected


GI = str(10000 * 1024 * 1024)

BIN_PACKING_CASES = [
    ("a pod not requesting the extended resource scores zero", make_pod().obj(), [], [{"name": "intel.com/foo"}],
     [0, 0]),
    ("requests fill the smaller node more", make_pod().req({"intel.com/foo": "2"}).obj(), [],
     [{"name": "intel.com/foo"}], [2, 5]),
    ("an existing pod's request fills the node", make_pod().req({"intel.com/foo": "2"}).obj(),
     [make_pod().name("a").node("node2").req({"intel.com/foo": "2"}).obj()], [{"name": "intel.com/foo"}], [2, 10]),
    ("two weighted extended resources average by weight",
     make_pod().req({"intel.com/foo": "2", "intel.com/bar": "2"}).obj(), [],
     [{"name": "intel.com/foo", "weight": 3}, {"name": "intel.com/bar", "weight": 5}], [4, 3]),
]


@pytest.mark.parametrize("pod,existing,resources,expected", [c[1:] for c in BIN_PACKING_CASES],
                         ids=[c[0] for c in BIN_PACKING_CASES])
def test_requested_to_capacity_ratio_bin_packing_extended_resources(pod, existing, resources, expected):
    nodes = [_n("node1", "4", GI, **{"intel.com/foo": "8", "intel.com/bar": "4"}),
             _n("node2", "4", GI, **{"intel.com/foo": "4", "intel.com/bar": "8"})]
    args = {"scoringStrategy": {"type": "RequestedToCapacityRatio", "resources": resources,
                                "requestedToCapacityRatio": {"shape": [{"utilization": 0, "score": 0},
                                                                       {"utilization": 100, "score": 1}]}}}
    assert _scores(_fit(args), pod, node_infos(nodes, existing)) == expected


@pytest.mark.parametrize("points,assertions", [
    ([(10, 1), (90, 9)], [(-10, 1), (0, 1), (9, 1), (10, 1), (15, 1), (19, 1), (20, 2), (89, 8), (90, 9), (99, 9),
                          (100, 9), (110, 9)]),
    ([(0, 2), (40, 10), (100, 0)], [(-10, 2), (0, 2), (20, 6), (30, 8), (40, 10), (70, 5), (100, 0), (110, 0)]),
    ([(0, 2), (40, 2), (100, 2)], [(-10, 2), (0, 2), (20, 2), (70, 2), (100, 2), (110, 2)]),
], ids=["a rising line", "a rise then a fall", "a flat line"])
def test_broken_linear_function(points, assertions):
    fn = nr.broken_linear_function(points)
    assert [(p, fn(p)) for p, _ in assertions] == assertions


def test_go_truncation_on_a_falling_segment():
    # (0->10, 100->0) at 33: 10 + (-10*33)/100 = 10 - 3 (Go truncates -3.3 toward zero)
    assert nr.broken_linear_function([(0, 10), (100, 0)])(33) == 7


@pytest.mark.parametrize("shape,message", [
    ([], "Required value"),
    ([{"utilization": 50, "score": 1}, {"utilization": 40, "score": 2}], "increasing order"),
    ([{"utilization": 0, "score": 11}], "score"),
    ([{"utilization": 101, "score": 1}], "utilization"),
], ids=["an empty shape", "unsorted utilizations", "a score over 10", "a utilization over 100"])
def test_invalid_shapes_are_refused(shape, message):
    with pytest.raises(ValueError, match=message):
        _fit({"scoringStrategy": {"type": "RequestedToCapacityRatio", "requestedToCapacityRatio": {"shape": shape}}})


def test_unknown_scoring_strategy_is_refused():
    with pytest.raises(ValueError, match="Unsupported value"):
        _fit({"scoringStrategy": {"type": "Random"}})


# -- BalancedAllocation (balanced_allocation_test.go) --------------------------------------

def cpu_and_memory():
    return make_pod().req(cpu="1000m", memory="2000").req(cpu="2000m", memory="3000")


def cpu_only():
    return make_pod().req(cpu="1000m", memory="0").req(cpu="2000m", memory="0")


def cpu_memory_gpu():
    return make_pod().req(cpu="1000m", memory="2000").req({"cpu": "2000m", "memory": "3000", "nvidia.com/gpu": "3"})


DEFAULT_BA = None
WITH_GPU = {"resources": [{"name": "cpu", "weight": 1}, {"name": "memory", "weight": 1},
                          {"name": "nvidia.com/gpu", "weight": 1}]}

BALANCED_CASES = [
    ("nothing scheduled, resources requested, differently sized nodes", cpu_and_memory().obj(),
     [_n("node1", "4000m", "10000"), _n("node2", "6000m", "10000")], [], DEFAULT_BA, [87, 100]),
    ("resources requested, pods scheduled with resources", cpu_and_memory().obj(),
     [_n("node1", "10000m", "20000"), _n("node2", "10000m", "20000")],
     [make_pod().name("a").req(cpu="1000m", memory="0").req(cpu="2000m", memory="0").node("node1").obj(),
      make_pod().name("b").req(cpu="1000m", memory="2000").req(cpu="2000m", memory="3000").node("node2").obj()],
     DEFAULT_BA, [82, 95]),
    ("resources requested, pods scheduled with resources, differently sized nodes", cpu_and_memory().obj(),
     [_n("node1", "10000m", "20000"), _n("node2", "10000m", "50000")],
     [make_pod().name("a").req(cpu="1000m", memory="0").req(cpu="2000m", memory="0").node("node1").obj(),
      make_pod().name("b").req(cpu="1000m", memory="2000").req(cpu="2000m", memory="3000").node("node2").obj()],
     DEFAULT_BA, [82, 80]),
    ("requested resources at node capacity", cpu_only().obj(),
     [_n("node1", "6000m", "10000"), _n("node2", "6000m", "10000")],
     [make_pod().name("a").req(cpu="1000m", memory="0").req(cpu="2000m", memory="0").node("node1").obj(),
      make_pod().name("b").req(cpu="1000m", memory="2000").req(cpu="2000m", memory="3000").node("node2").obj()],
     DEFAULT_BA, [50, 75]),
    ("a scalar resource on the node counts in the standard deviation",
     make_pod().req({"memory": "0", "nvidia.com/gpu": "1"}).obj(),
     [_n("node1", "3500m", "40000", **{"nvidia.com/gpu": "8"}), _n("node2", "3500m", "40000", **{"nvidia.com/gpu": "8"})],
     [cpu_and_memory().name("b").node("node2").obj(), cpu_memory_gpu().name("c").node("node1").obj()], WITH_GPU, [70, 65]),
    ("a scalar resource the pod does not request is skipped", cpu_and_memory().obj(),
     [_n("node1", "3500m", "40000", **{"nvidia.com/gpu": "8"}), _n("node2", "3500m", "40000")], [], WITH_GPU,
     [63, 63]),
]


@pytest.mark.parametrize("pod,nodes,existing,args,expected", [c[1:] for c in BALANCED_CASES],
                         ids=[c[0] for c in BALANCED_CASES])
def test_balanced_allocation_scores(pod, nodes, existing, args, expected):
    plugin = nr.new_balanced_allocation(args or {}, None)
    assert _scores(plugin, pod, node_infos(nodes, existing)) == expected


def test_balanced_allocation_scores_without_prescore():
    plugin = nr.new_balanced_allocation({}, None)
    infos = node_infos([_n("node1", "10000m", "20000"), _n("node2", "10000m", "20000")],
                       [make_pod().name("a").req(cpu="3000m", memory="0").node("node1").obj(),
                        make_pod().name("b").req(cpu="3000m", memory="5000").node("node2").obj()])
    pod = cpu_and_memory().obj()
    assert [plugin.score(CycleState(), pod, ni)[0] for ni in infos] == [82, 95]


def test_balanced_allocation_skips_best_effort_pods():
    plugin = nr.new_balanced_allocation({}, None)
    state = CycleState()
    status = plugin.pre_score(state, make_pod().obj(), node_infos([_n("node1", "4000m", "10000")]))
    assert status.code is Code.SKIP


@pytest.mark.parametrize("name,extended", [
    ("nvidia.com/gpu", True), ("example.com/foo", True), ("cpu", False), ("hugepages-2Mi", False),
    ("kubernetes.io/foo", False), ("requests.example.com/foo", False),
], ids=lambda v: str(v))
def test_extended_resource_names(name, extended):
    assert nr.is_extended_resource_name(name) is extended


def test_events_that_can_make_a_pod_fit():
    events = {(e.resource, e.action) for e in _fit().events_to_register()}
    assert events == {("Pod", "Delete"), ("Node", "Add"), ("Node", "UpdateNodeAllocatable"),
                      ("Node", "UpdateNodeTaint"), ("Node", "UpdateNodeLabel")}
