"""PodTopologySpread: upstream's filtering_test.go / scoring_test.go cases on the same inputs."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from kubepy.client.cache import Indexer
from kubepy.scheduler.framework.interface import Code, CycleState, NodeScore
from kubepy.scheduler.framework.nodeinfo import NodeInfo, PodInfo
from kubepy.scheduler.plugins import podtopologyspread as pts
from kubepy.testing.scheduler_builders import make_label_selector, make_node, make_pod

DNS = "DoNotSchedule"
SA = "ScheduleAnyway"
HOST = "kubernetes.io/hostname"
OK = Code.SUCCESS
UNSCH = Code.UNSCHEDULABLE
UNRES = Code.UNSCHEDULABLE_AND_UNRESOLVABLE
FOO = make_label_selector().exists("foo").obj()
BAR = make_label_selector().exists("bar").obj()

# ---------------------------------------------------------------------------------------
# fakes


class FakeSnapshot:
    def __init__(self, nodes: list[dict[str, Any]], pods: list[dict[str, Any]]) -> None:
        self.infos = {n["metadata"]["name"]: NodeInfo(n) for n in nodes}
        for p in pods:
            ni = self.infos.get(p["spec"].get("nodeName", ""))
            if ni is not None:
                ni.add_pod(PodInfo.of(p))

    def node_infos(self) -> list[NodeInfo]:
        return list(self.infos.values())

    def get(self, name: str) -> NodeInfo | None:
        return self.infos.get(name)

    def have_pods_with_affinity(self) -> list[NodeInfo]:
        return [ni for ni in self.infos.values() if ni.pods_with_affinity]

    def have_pods_with_required_anti_affinity(self) -> list[NodeInfo]:
        return [ni for ni in self.infos.values() if ni.pods_with_required_anti_affinity]


class FakeHandle:
    client = None

    def __init__(self, snapshot: FakeSnapshot, objs: list[dict[str, Any]] | None = None) -> None:
        self._snapshot = snapshot
        self._listers: dict[tuple[str, str], Indexer] = {}
        plurals = {"Service": "services", "ReplicationController": "replicationcontrollers",
                   "ReplicaSet": "replicasets", "StatefulSet": "statefulsets"}
        for obj in objs or ():
            key = (obj["apiVersion"], plurals[obj["kind"]])
            self._listers.setdefault(key, Indexer()).add(obj)

    def snapshot(self) -> FakeSnapshot:
        return self._snapshot

    def lister(self, api_version: str, plural: str) -> Indexer:
        return self._listers.get((api_version, plural)) or Indexer()


_names = itertools.count()


def named(pods: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for p in pods:
        p["metadata"].setdefault("name", f"pod-{next(_names)}")
    return pods


def plugin(nodes: list[dict[str, Any]], pods: list[dict[str, Any]], args: dict[str, Any] | None = None,
           objs: list[dict[str, Any]] | None = None) -> tuple[pts.PodTopologySpread, FakeSnapshot]:
    snap = FakeSnapshot(nodes, named(pods))
    return pts.new({"defaultingType": "List"} if args is None else args, FakeHandle(snap, objs)), snap


def N(name: str, **labels: str) -> dict[str, Any]:
    return make_node().name(name).labels(labels).obj()


def zn(name: str, zone: str) -> dict[str, Any]:
    return N(name, zone=zone, node=name)


def foo_pod(name: str, node: str, ns: str = "default", **labels: str) -> dict[str, Any]:
    return make_pod().name(name).namespace(ns).node(node).labels({"foo": "", **labels}).obj()


def incoming(*constraints: tuple[Any, ...], labels: dict[str, str] | None = None) -> Any:
    b = make_pod().name("p").labels({"foo": ""} if labels is None else labels)
    for c in constraints:
        b = b.spread_constraint(*c[:4], **(c[4] if len(c) > 4 else {}))
    return b


ZONES4 = [zn("node-a", "zone1"), zn("node-b", "zone1"), zn("node-x", "zone2"), zn("node-y", "zone2")]


def spread(*counts: tuple[str, int]) -> list[dict[str, Any]]:
    """Existing foo pods: ``("node-a", 2)`` puts two on node-a."""
    return [foo_pod(f"p-{n}{i}", n) for n, k in counts for i in range(k)]


# ---------------------------------------------------------------------------------------
# PreFilter state (TestPreFilterState)


@pytest.mark.parametrize(("pod", "nodes", "pods", "want_counts", "want_min"), [
    pytest.param(incoming((5, "zone", DNS, make_label_selector().label("foo", "bar").obj())).obj(), ZONES4, [],
                 [{"zone1": 0, "zone2": 0}], [0], id="a clean cluster with one constraint"),
    pytest.param(incoming((1, "zone", DNS, FOO)).obj(), ZONES4,
                 spread(("node-a", 2), ("node-b", 1), ("node-y", 2)),
                 [{"zone1": 3, "zone2": 2}], [2], id="one constraint"),
    pytest.param(incoming((1, "zone", DNS, None)).obj(), ZONES4,
                 spread(("node-a", 2), ("node-b", 1), ("node-y", 2)),
                 [{"zone1": 0, "zone2": 0}], [0], id="a null label selector matches nothing"),
    pytest.param(incoming((1, "zone", DNS, FOO)).obj(),
                 [*ZONES4, zn("node-o", "zone3"), zn("node-p", "zone3")],
                 spread(("node-a", 2), ("node-b", 1), ("node-y", 2)),
                 [{"zone1": 3, "zone2": 2, "zone3": 0}], [0], id="one constraint on a three-zone cluster"),
    pytest.param(incoming((1, "zone", DNS, FOO)).obj(), ZONES4,
                 [foo_pod("p-a1", "node-a"), foo_pod("p-a2", "node-a", ns="ns1"), foo_pod("p-b1", "node-b"),
                  foo_pod("p-y1", "node-y", ns="ns2"), foo_pod("p-y2", "node-y")],
                 [{"zone1": 2, "zone2": 1}], [1], id="pods of other namespaces do not count"),
    pytest.param(incoming((1, "zone", DNS, FOO), (1, "node", DNS, FOO)).obj(), ZONES4,
                 spread(("node-a", 2), ("node-b", 1), ("node-y", 4)),
                 [{"zone1": 3, "zone2": 4}, {"node-a": 2, "node-b": 1, "node-x": 0, "node-y": 4}], [3, 0],
                 id="two constraints"),
    pytest.param(incoming((1, "zone", SA, FOO), (1, "zone", DNS, FOO), (1, "node", SA, FOO),
                          (1, "node", DNS, FOO)).obj(),
                 [zn("node-a", "zone1"), zn("node-b", "zone1"), zn("node-y", "zone2")],
                 spread(("node-a", 2), ("node-b", 1), ("node-y", 4)),
                 [{"zone1": 3, "zone2": 4}, {"node-a": 2, "node-b": 1, "node-y": 4}], [3, 1],
                 id="soft constraints are bypassed"),
    pytest.param(incoming((1, "zone", DNS, FOO), (1, "node", DNS, BAR), labels={"foo": "", "bar": ""}).obj(),
                 [zn("node-a", "zone1"), zn("node-b", "zone1"), zn("node-y", "zone2")],
                 spread(("node-a", 2), ("node-b", 1), ("node-y", 4)),
                 [{"zone1": 3, "zone2": 4}, {"node-a": 0, "node-b": 0, "node-y": 0}], [3, 0],
                 id="different label selectors"),
    pytest.param(incoming((1, "node", DNS, FOO)).node_affinity_not_in("node", ["node-x"]).obj(), ZONES4,
                 spread(("node-a", 2), ("node-b", 1), ("node-x", 1), ("node-y", 4)),
                 [{"node-a": 2, "node-b": 1, "node-y": 4}], [1],
                 id="nodes the pod's node affinity excludes are not domains"),
    pytest.param(incoming((1, "node", DNS, FOO, {"match_label_keys": ["bar"]}),
                          labels={"foo": "", "bar": "a"}).obj(), ZONES4,
                 [foo_pod("p-a1", "node-a", bar="a"), foo_pod("p-b1", "node-b", bar="b"), foo_pod("p-y1", "node-y")],
                 [{"node-a": 1, "node-b": 0, "node-x": 0, "node-y": 0}], [0],
                 id="matchLabelKeys narrows the selector to the pod's own value"),
])
def test_pre_filter_state(pod, nodes, pods, want_counts, want_min):
    pl, snap = plugin(nodes, pods)
    state = CycleState()
    _, st = pl.pre_filter(state, pod, snap.node_infos())
    assert st.ok
    s = state.read(pts.PRE_FILTER_STATE_KEY)
    assert s.counts == want_counts
    assert [p.min for p in s.critical_paths] == want_min


def test_pre_filter_skips_a_pod_without_hard_constraints():
    pl, snap = plugin(ZONES4, [])
    _, st = pl.pre_filter(CycleState(), incoming((1, "zone", SA, FOO)).obj(), snap.node_infos())
    assert st.code is Code.SKIP


# ---------------------------------------------------------------------------------------
# Filter (TestSingleConstraint, TestMultipleConstraints)

TAINTED = [{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]


def _abxy(a: Code, b: Code, x: Code, y: Code) -> dict[str, Code]:
    return {"node-a": a, "node-b": b, "node-x": x, "node-y": y}


def _policy_nodes(taint_y: bool = False) -> list[dict[str, Any]]:
    ny = make_node().name("node-y").label("node", "node-y")
    if taint_y:
        ny = ny.taints(TAINTED)
    return [N("node-a", node="node-a", foo=""), N("node-b", node="node-b", foo=""),
            N("node-x", node="node-x", foo=""), ny.obj()]


POLICY_PODS = [("node-a", 1), ("node-b", 1), ("node-y", 1)]


def _single_constraint_cases() -> list[Any]:
    def c(id_: str, pod: dict[str, Any], nodes: list[dict[str, Any]], pods: list[dict[str, Any]],
          want: dict[str, Code]) -> Any:
        return pytest.param(pod, nodes, pods, want, id=id_)

    z1 = incoming((1, "zone", DNS, FOO)).obj()
    n1 = incoming((1, "node", DNS, FOO)).obj()
    spread_2103 = spread(("node-a", 2), ("node-b", 1), ("node-y", 3))
    three = [N("node-a", node="node-a"), N("node-b", node="node-b"), N("node-c", node="node-c")]
    two_two_one = spread(("node-a", 2), ("node-b", 2), ("node-c", 1))
    two_one = [foo_pod("p-b1", "node-a"), foo_pod("p-b2", "node-b"), foo_pod("p-y1", "node-y")]
    return [
        c("no existing pods", z1, ZONES4, [], _abxy(OK, OK, OK, OK)),
        c("no existing pods, the incoming pod does not match itself",
          incoming((1, "zone", DNS, BAR)).obj(), ZONES4, [], _abxy(OK, OK, OK, OK)),
        c("existing pods in a different namespace do not count", z1, ZONES4,
          [foo_pod("p-a1", "node-a", ns="ns1"), foo_pod("p-b1", "node-a", ns="ns2"), foo_pod("p-x1", "node-x"),
           foo_pod("p-y1", "node-y")], _abxy(OK, OK, UNSCH, UNSCH)),
        c("existing pods do not match a null selector", incoming((1, "zone", DNS, None)).obj(), ZONES4,
          spread(("node-x", 1), ("node-y", 1)), _abxy(OK, OK, OK, OK)),
        c("pods spread across zones as 3/3, all nodes fit", z1, ZONES4, spread_2103, _abxy(OK, OK, OK, OK)),
        c("pods spread across zones as 1/2 as node-b lacks the zone label", z1,
          [zn("node-a", "zone1"), N("node-b", zon="zone1", node="node-b"), zn("node-x", "zone2"),
           zn("node-y", "zone2")],
          spread(("node-a", 1), ("node-b", 1), ("node-x", 1), ("node-y", 1)), _abxy(OK, UNRES, UNSCH, UNSCH)),
        c("no node has the rack label", incoming((1, "rack", DNS, FOO)).obj(),
          [zn("node-a", "zone1"), zn("node-x", "zone2")], [], {"node-a": UNRES, "node-x": UNRES}),
        c("pods spread across nodes as 2/1/0/3, only node-x fits", n1, ZONES4, spread_2103,
          _abxy(UNSCH, UNSCH, OK, UNSCH)),
        c("pods spread across nodes as 2/1/0/3, maxSkew 2: node-b and node-x fit",
          incoming((2, "node", DNS, FOO)).obj(), ZONES4, spread_2103, _abxy(UNSCH, OK, OK, UNSCH)),
        c("pods spread across nodes as 2/1/0/3, the pod does not match itself",
          incoming((1, "node", DNS, FOO), labels={"bar": ""}).obj(), ZONES4, spread_2103,
          _abxy(UNSCH, OK, OK, UNSCH)),
        c("node affinity leaves 2/~1~/~0~/3, hence node-a fits",
          incoming((1, "node", DNS, FOO)).node_affinity_in("node", ["node-a", "node-y"]).obj(), ZONES4,
          spread_2103, _abxy(OK, OK, OK, UNSCH)),
        c("terminating pods are not counted", n1, [N("node-a", node="node-a"), N("node-b", node="node-b")],
          [make_pod().name("p-a").node("node-a").label("foo", "").terminating().obj(), foo_pod("p-b", "node-b")],
          {"node-a": OK, "node-b": UNSCH}),
        c("node affinity leaves 0/~2~/0/1, hence node-a fits",
          incoming((1, "zone", DNS, FOO)).node_affinity_not_in("node", ["node-b"]).obj(), ZONES4,
          spread(("node-b", 2), ("node-y", 1)), _abxy(OK, OK, UNSCH, UNSCH)),
        c("2/2/1 with fewer domains than minDomains: only the third node fits",
          incoming((2, "node", DNS, FOO, {"min_domains": 4})).obj(), three, two_two_one,
          {"node-a": UNSCH, "node-b": UNSCH, "node-c": OK}),
        c("2/2/1 with more domains than minDomains: all nodes fit",
          incoming((2, "node", DNS, FOO, {"min_domains": 2})).obj(), three, two_two_one,
          {"node-a": OK, "node-b": OK, "node-c": OK}),
        c("zones 2/1 with fewer domains than minDomains: the second zone fits",
          incoming((2, "zone", DNS, FOO, {"min_domains": 3})).obj(), ZONES4, two_one, _abxy(UNSCH, UNSCH, OK, OK)),
        c("zones 2/1 with more domains than minDomains: all nodes fit",
          incoming((2, "zone", DNS, FOO, {"min_domains": 1})).obj(), ZONES4, two_one, _abxy(OK, OK, OK, OK)),
        c("nodeAffinityPolicy Honor with a nodeSelector leaves 1/1/0/~0~",
          incoming((1, "node", DNS, FOO)).node_selector({"foo": ""}).obj(), _policy_nodes(),
          spread(*POLICY_PODS), _abxy(UNSCH, UNSCH, OK, OK)),
        c("nodeAffinityPolicy Ignore with a nodeSelector counts 1/1/0/1",
          incoming((1, "node", DNS, FOO, {"node_affinity_policy": "Ignore"})).node_selector({"foo": ""}).obj(),
          _policy_nodes(), spread(*POLICY_PODS), _abxy(UNSCH, UNSCH, OK, UNSCH)),
        c("nodeAffinityPolicy Honor with node affinity leaves 1/1/0/~0~",
          incoming((1, "node", DNS, FOO)).node_affinity_in("foo", [""]).obj(), _policy_nodes(),
          spread(*POLICY_PODS), _abxy(UNSCH, UNSCH, OK, OK)),
        c("nodeAffinityPolicy Ignore with node affinity counts 1/1/0/1",
          incoming((1, "node", DNS, FOO, {"node_affinity_policy": "Ignore"})).node_affinity_in("foo", [""]).obj(),
          _policy_nodes(), spread(*POLICY_PODS), _abxy(UNSCH, UNSCH, OK, UNSCH)),
        c("nodeTaintsPolicy Honor leaves the tainted node out: 1/1/0/~0~",
          incoming((1, "node", DNS, FOO, {"node_taints_policy": "Honor"})).obj(), _policy_nodes(taint_y=True),
          spread(*POLICY_PODS), _abxy(UNSCH, UNSCH, OK, OK)),
        c("nodeTaintsPolicy Ignore counts the tainted node: 1/1/0/1",
          n1, _policy_nodes(taint_y=True), spread(*POLICY_PODS), _abxy(UNSCH, UNSCH, OK, UNSCH)),
        c("two constraints on zone and node, spreads [3/3, 2/1/0/3]",
          incoming((1, "zone", DNS, FOO), (1, "node", DNS, FOO)).obj(), ZONES4, spread_2103,
          _abxy(UNSCH, UNSCH, OK, UNSCH)),
        c("two constraints on zone and node, spreads [3/4, 2/1/0/4]",
          incoming((1, "zone", DNS, FOO), (1, "node", DNS, FOO)).obj(), ZONES4,
          spread(("node-a", 2), ("node-b", 1), ("node-y", 4)), _abxy(UNSCH, UNSCH, UNSCH, UNSCH)),
    ]


@pytest.mark.parametrize(("pod", "nodes", "pods", "want"), _single_constraint_cases())
def test_filter(pod, nodes, pods, want):
    pl, snap = plugin(nodes, pods)
    state = CycleState()
    _, st = pl.pre_filter(state, pod, snap.node_infos())
    assert st.ok
    got = {name: pl.filter(state, pod, ni).code for name, ni in snap.infos.items()}
    assert got == want


@pytest.mark.parametrize(("node", "want"), [
    pytest.param(zn("node-y", "zone2"), (UNSCH, ["node(s) didn't match pod topology spread constraints"]),
                 id="a skewed domain gives the upstream reason"),
    pytest.param(N("node-z", node="node-z"),
                 (UNRES, ["node(s) didn't match pod topology spread constraints (missing required label)"]),
                 id="a node without the topology key gives the missing-label reason"),
])
def test_filter_reasons(node, want):
    nodes = [zn("node-a", "zone1"), node]
    pl, snap = plugin(nodes, spread(("node-y", 2)))
    state = CycleState()
    pod = incoming((1, "zone", DNS, FOO)).obj()
    pl.pre_filter(state, pod, snap.node_infos())
    st = pl.filter(state, pod, snap.infos[node["metadata"]["name"]])
    assert (st.code, st.reasons) == want


def test_filter_without_pre_filter_is_an_error():
    pl, snap = plugin(ZONES4, [])
    st = pl.filter(CycleState(), incoming((1, "zone", DNS, FOO)).obj(), snap.infos["node-a"])
    assert st.code is Code.ERROR


# ---------------------------------------------------------------------------------------
# PreFilter extensions (TestPreFilterStateAddPod / RemovePod)


@pytest.mark.parametrize(("pods", "change", "node", "delta", "want_counts", "want_min"), [
    pytest.param(spread(("node-a", 1)), foo_pod("new", "node-b"), "node-b", 1,
                 [{"node-a": 1, "node-b": 1, "node-x": 0, "node-y": 0}], 0, id="adding a matching pod"),
    pytest.param(spread(("node-a", 1), ("node-x", 1)), foo_pod("p-x0", "node-x"), "node-x", -1,
                 [{"node-a": 1, "node-b": 0, "node-x": 0, "node-y": 0}], 0, id="removing a matching pod"),
    pytest.param(spread(("node-a", 1)), make_pod().name("nf").node("node-b").label("bar", "").obj(), "node-b", 1,
                 [{"node-a": 1, "node-b": 0, "node-x": 0, "node-y": 0}], 0, id="a pod the selector misses"),
    pytest.param(spread(("node-a", 1)), foo_pod("other-ns", "node-b", ns="ns1"), "node-b", 1,
                 [{"node-a": 1, "node-b": 0, "node-x": 0, "node-y": 0}], 0, id="a pod of another namespace"),
])
def test_add_remove_pod(pods, change, node, delta, want_counts, want_min):
    pl, snap = plugin(ZONES4, pods)
    state = CycleState()
    pod = incoming((1, "node", DNS, FOO)).obj()
    pl.pre_filter(state, pod, snap.node_infos())
    before = [dict(c) for c in state.read(pts.PRE_FILTER_STATE_KEY).counts]
    clone = state.clone()
    fn = pl.add_pod if delta > 0 else pl.remove_pod
    assert fn(clone, pod, change, snap.infos[node]).ok
    s = clone.read(pts.PRE_FILTER_STATE_KEY)
    assert s.counts == want_counts
    assert s.critical_paths[0].min == want_min
    assert state.read(pts.PRE_FILTER_STATE_KEY).counts == before  # the clone is independent


def test_removing_the_only_pods_of_the_minimum_domain_moves_the_critical_path():
    nodes = [N("node-a", node="node-a"), N("node-b", node="node-b")]
    pl, snap = plugin(nodes, spread(("node-a", 1), ("node-b", 2)))
    state = CycleState()
    pod = incoming((1, "node", DNS, FOO)).obj()
    pl.pre_filter(state, pod, snap.node_infos())
    assert pl.filter(state, pod, snap.infos["node-b"]).code is UNSCH
    victim = snap.infos["node-b"].pods["default/p-node-b0"].pod
    pl.remove_pod(state, pod, victim, snap.infos["node-b"])
    pl.remove_pod(state, pod, snap.infos["node-b"].pods["default/p-node-b1"].pod, snap.infos["node-b"])
    s = state.read(pts.PRE_FILTER_STATE_KEY)
    assert s.critical_paths[0].min == 0
    assert pl.filter(state, pod, snap.infos["node-b"]).ok
    assert pl.filter(state, pod, snap.infos["node-a"]).code is UNSCH


# ---------------------------------------------------------------------------------------
# Score (TestPodTopologySpreadScore)


def HN(name: str, **labels: str) -> dict[str, Any]:
    return N(name, **{HOST: name}, **labels)


def _score_cases() -> list[Any]:
    def c(id_: str, pod: dict[str, Any], pods: list[dict[str, Any]], nodes: list[dict[str, Any]],
          failed: list[dict[str, Any]], want: list[int], *, args: dict[str, Any] | None = None,
          objs: list[dict[str, Any]] | None = None) -> Any:
        return pytest.param(pod, pods, nodes, failed, want, args, objs, id=id_)

    host1 = incoming((1, HOST, SA, FOO)).obj()
    abcd = [HN("node-a"), HN("node-b"), HN("node-c"), HN("node-d")]
    s2103 = spread(("node-a", 2), ("node-b", 1), ("node-d", 3))
    s4321 = spread(("node-a", 4), ("node-b", 3), ("node-c", 2), ("node-d", 1))
    s4213 = spread(("node-a", 4), ("node-b", 2), ("node-x", 1), ("node-y", 3))
    return [
        c("one constraint on node, no existing pods", host1, [], [HN("node-a"), HN("node-b")], [], [100, 100]),
        c("one constraint on node, only one node is a candidate", host1, spread(("node-a", 2), ("node-b", 1)),
          [HN("node-a")], [HN("node-b")], [100]),
        c("one constraint on node, all nodes have the same number of matching pods", host1,
          spread(("node-a", 1), ("node-b", 1)), [HN("node-a"), HN("node-b")], [], [100, 100]),
        c("one constraint on node, all 4 nodes are candidates", host1, s2103, abcd, [], [20, 60, 100, 0]),
        c("one constraint on node, null selector", incoming((1, HOST, SA, None)).obj(), s2103, abcd, [],
          [100, 100, 100, 100]),
        c("one constraint on node, all 4 nodes are candidates, maxSkew 2", incoming((2, HOST, SA, FOO)).obj(),
          s2103, abcd, [], [33, 66, 100, 16]),
        c("one constraint on node, all 4 nodes are candidates, maxSkew 3", incoming((3, HOST, SA, FOO)).obj(),
          s4321, abcd, [], [44, 66, 77, 100]),
        c("system defaulting, nodes without zone, pods selected by a service",
          make_pod().name("p").label("foo", "").obj(), s4321, abcd, [], [44, 66, 77, 100], args={},
          objs=[{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "svc", "namespace": "default"},
                 "spec": {"selector": {"foo": ""}}}]),
        c("one constraint on node, 3 out of 4 nodes are candidates", host1, s4213,
          [HN("node-a"), HN("node-b"), HN("node-x")], [HN("node-y")], [33, 83, 100]),
        c("one constraint on node, a candidate lacks the topology key", host1, s4213,
          [HN("node-a"), N("node-b", n="node-b"), HN("node-x")], [HN("node-y")], [16, 0, 100]),
        c("one constraint on zone, 3 out of 4 nodes are candidates", incoming((1, "zone", SA, FOO)).obj(), s4213,
          [HN("node-a", zone="zone1"), HN("node-b", zone="zone1"), HN("node-x", zone="zone2")],
          [HN("node-y", zone="zone2")], [75, 75, 100]),
        c("two constraints on zone and node, 2 out of 4 nodes are candidates",
          incoming((1, "zone", SA, FOO), (1, HOST, SA, FOO)).obj(),
          spread(("node-a", 2), ("node-b", 1), ("node-x", 2), ("node-y", 4)),
          [HN("node-a", zone="zone1"), HN("node-x", zone="zone2")],
          [HN("node-b", zone="zone1"), HN("node-y", zone="zone2")], [100, 63]),
    ]


def _run_score(pl: pts.PodTopologySpread, snap: FakeSnapshot, pod: dict[str, Any], nodes: list[dict[str, Any]]):
    state = CycleState()
    filtered = [snap.infos[n["metadata"]["name"]] for n in nodes]
    st = pl.pre_score(state, pod, filtered)
    if not st.ok:
        return st, None
    scores = []
    for ni in filtered:
        score, s = pl.score(state, pod, ni)
        assert s.ok
        scores.append(NodeScore(ni.name, score))
    assert pl.normalize_score(state, pod, scores).ok
    return st, [s.score for s in scores]


@pytest.mark.parametrize(("pod", "pods", "nodes", "failed", "want", "args", "objs"), _score_cases())
def test_score(pod, pods, nodes, failed, want, args, objs):
    pl, snap = plugin([*nodes, *failed], pods, args, objs)
    st, got = _run_score(pl, snap, pod, nodes)
    assert st.ok
    assert got == want


@pytest.mark.parametrize(("pod", "objs", "want_code"), [
    pytest.param(make_pod().name("p").label("foo", "").obj(), [], Code.SKIP,
                 id="a pod nothing selects is not spread by default"),
    pytest.param(make_pod().name("p").label("foo", "").owner_reference("rs").obj(),
                 [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "rs", "namespace": "default"},
                   "spec": {"selector": {"matchLabels": {"foo": ""}}}}], Code.SUCCESS,
                 id="a pod owned by a ReplicaSet is spread by its selector"),
    pytest.param(make_pod().name("p").label("foo", "").obj(),
                 [{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "namespace": "other"},
                   "spec": {"selector": {"foo": ""}}}], Code.SKIP,
                 id="a service of another namespace does not select the pod"),
])
def test_system_default_constraints(pod, objs, want_code):
    pl, snap = plugin(ZONES4, [], {}, objs)
    st = pl.pre_score(CycleState(), pod, snap.node_infos())
    assert st.code is want_code
    _, pre = pl.pre_filter(CycleState(), pod, snap.node_infos())
    assert pre.code is Code.SKIP  # system defaults are all ScheduleAnyway


def test_default_selector_ands_services_and_the_owner():
    objs = [
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "namespace": "default"},
         "spec": {"selector": {"app": "web"}}},
        {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "ss", "namespace": "default"},
         "spec": {"selector": {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["a", "b"]}]}}},
    ]
    pl, _ = plugin([], [], {}, objs)
    pod = (make_pod().name("p").labels({"app": "web", "tier": "a"})
           .owner_reference("ss", kind="StatefulSet").obj())
    assert str(pl.default_selector(pod)) == "app=web,tier in (a,b)"


def test_pre_score_skips_without_nodes():
    pl, snap = plugin([], [])
    assert pl.pre_score(CycleState(), incoming((1, HOST, SA, FOO)).obj(), []).code is Code.SKIP


@pytest.mark.parametrize(("size", "want"), [
    pytest.param(1, 1.0986, id="a single domain weighs log 3"),
    pytest.param(5000, 8.5176, id="five thousand domains weigh log 5002"),
])
def test_topology_normalizing_weight(size, want):
    assert round(pts.topology_normalizing_weight(size), 4) == want


# ---------------------------------------------------------------------------------------
# plugin surface


@pytest.mark.parametrize(("args", "message"), [
    pytest.param({"defaultingType": "System", "defaultConstraints": [{"maxSkew": 1}]}, "must be empty",
                 id="system defaulting refuses explicit default constraints"),
    pytest.param({"defaultingType": "Sometimes"}, "Unsupported value", id="an unknown defaulting type"),
    pytest.param({"defaultingType": "List", "defaultConstraints": [{"maxSkew": 1, "labelSelector": {}}]},
                 "must not define a selector", id="default constraints may not carry a selector"),
])
def test_args_validation(args, message):
    with pytest.raises(ValueError, match=message):
        pts.PodTopologySpreadArgs.from_dict(args)


def test_list_defaulting_uses_the_given_constraints():
    objs = [{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "namespace": "default"},
             "spec": {"selector": {"foo": ""}}}]
    pl, snap = plugin(ZONES4, spread(("node-a", 1)),
                      {"defaultingType": "List",
                       "defaultConstraints": [{"maxSkew": 1, "topologyKey": "node", "whenUnsatisfiable": DNS}]},
                      objs)
    pod = make_pod().name("p").label("foo", "").obj()
    state = CycleState()
    _, st = pl.pre_filter(state, pod, snap.node_infos())
    assert st.ok
    assert {n: pl.filter(state, pod, ni).code for n, ni in snap.infos.items()} == _abxy(UNSCH, OK, OK, OK)


def test_registers_pod_and_node_events():
    pl, _ = plugin([], [])
    events = {(e.resource, e.action) for e in pl.events_to_register()}
    assert {("Pod", "Add"), ("Pod", "Update"), ("Pod", "Delete"), ("Node", "Add"), ("Node", "Delete"),
            ("Node", "UpdateNodeLabel")} <= events


def test_registry_factory_builds_the_plugin():
    from kubepy.scheduler.plugins.registry import factory

    fn = factory("PodTopologySpread")
    assert fn is not None
    assert fn({}, FakeHandle(FakeSnapshot([], []))).NAME == "PodTopologySpread"


def test_counts_follow_node_changes_between_cycles():
    """Per-node counts are reused across cycles only while the NodeInfo is unchanged."""
    nodes = [N("node-a", node="node-a"), N("node-b", node="node-b")]
    other = make_pod().name("other-b").node("node-b").label("bar", "").obj()
    pl, snap = plugin(nodes, [*spread(("node-a", 1)), other])
    pod = incoming((1, "node", DNS, FOO)).obj()

    def fits() -> list[str]:
        state = CycleState()
        pl.pre_filter(state, pod, snap.node_infos())
        return [n for n, ni in snap.infos.items() if pl.filter(state, pod, ni).ok]

    assert fits() == ["node-b"]
    snap.infos["node-b"].add_pod(PodInfo.of(foo_pod("p-b", "node-b")))
    assert fits() == ["node-a", "node-b"]
    fresh = NodeInfo(snap.infos["node-a"].node)  # the cache hands out a new NodeInfo
    fresh.add_pod(PodInfo.of(make_pod().name("other-a").node("node-a").label("bar", "").obj()))
    snap.infos["node-a"] = fresh
    assert fits() == ["node-a"]
