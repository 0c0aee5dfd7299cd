"""InterPodAffinity: upstream's filtering_test.go / scoring_test.go cases on the same inputs."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from kubepy.client.cache import Indexer
from kubepy.scheduler.framework.interface import Code, CycleState, NodeScore
from kubepy.scheduler.framework.nodeinfo import NodeInfo, PodInfo
from kubepy.scheduler.plugins import interpodaffinity as ipa
from kubepy.scheduler.plugins.interpodaffinity import (
    ERR_REASON_AFFINITY_RULES_NOT_MATCH as AFF,
)
from kubepy.scheduler.plugins.interpodaffinity import (
    ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH as ANTI,
)
from kubepy.scheduler.plugins.interpodaffinity import (
    ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH as EXISTING,
)
from kubepy.testing.scheduler_builders import AffinityKind, make_label_selector, make_node, make_pod

REQ = AffinityKind.REQUIRED
UNRES = Code.UNSCHEDULABLE_AND_UNRESOLVABLE
UNSCH = Code.UNSCHEDULABLE

# ---------------------------------------------------------------------------------------
# fakes


class FakeSnapshot:
    def __init__(self, nodes: list[dict[str, Any]], pods: list[dict[str, Any]]) -> None:
        self.infos = {n["metadata"]["name"]: NodeInfo(n) for n in nodes}
        for p in pods:
            ni = self.infos.get(p["spec"].get("nodeName", ""))
            if ni is not None:  # pods on unknown nodes are not in any NodeInfo with a node
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

    def __init__(self, snapshot: FakeSnapshot, namespaces: list[dict[str, Any]] | None = None) -> None:
        self._snapshot = snapshot
        self._namespaces = Indexer()
        for ns in namespaces or ():
            self._namespaces.add(ns)

    def snapshot(self) -> FakeSnapshot:
        return self._snapshot

    def lister(self, api_version: str, plural: str) -> Indexer:
        assert (api_version, plural) == ("v1", "namespaces")
        return self._namespaces


def namespace(name: str, **labels: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


NAMESPACES = [
    namespace("subteam1.team1", team="team1"),
    namespace("subteam2.team1", team="team1"),
    namespace("subteam1.team2", team="team2"),
    namespace("subteam2.team2", team="team2"),
]

_names = itertools.count()


def named(pods: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for p in pods:
        p["metadata"].setdefault("name", f"pod-{next(_names)}")
    return pods


def node(name: str, **labels: str) -> dict[str, Any]:
    return make_node().name(name).labels(labels).obj()


def plugin(nodes: list[dict[str, Any]], pods: list[dict[str, Any]], args: dict[str, Any] | None = None,
           namespaces: list[dict[str, Any]] | None = None) -> tuple[ipa.InterPodAffinity, FakeSnapshot]:
    snap = FakeSnapshot(nodes, named(pods))
    return ipa.new(args or {}, FakeHandle(snap, NAMESPACES if namespaces is None else namespaces)), snap


def sel_in(key: str, *values: str) -> dict[str, Any]:
    return make_label_selector().in_(key, values).obj()


def sel_not_in(key: str, *values: str) -> dict[str, Any]:
    return make_label_selector().not_in(key, values).obj()


def sel_exists(key: str) -> dict[str, Any]:
    return make_label_selector().exists(key).obj()


def expressions(*exprs: tuple[str, str, tuple[str, ...]]) -> dict[str, Any]:
    out = []
    for key, op, values in exprs:
        e: dict[str, Any] = {"key": key, "operator": op}
        if values:
            e["values"] = list(values)
        out.append(e)
    return {"matchExpressions": out}


def P(labels: dict[str, str] | None = None, ns: str = "default", node_name: str | None = None) -> Any:
    b = make_pod().namespace(ns).labels(labels or {})
    if node_name:
        b = b.node(node_name)
    return b


def status_of(st: Any) -> tuple[Code, list[str]]:
    return st.code, list(st.reasons)


OK = (Code.SUCCESS, [])


# ---------------------------------------------------------------------------------------
# Filter: one node (TestRequiredAffinitySingleNode)

POD_LABEL = {"service": "securityscan"}
POD_LABEL2 = {"security": "S1"}
NODE1 = node("node1", region="r1", zone="z11")
EXISTING_POD = P(POD_LABEL, node_name="node1").obj


def _single_node_cases() -> list[Any]:
    def c(id_: str, pod: dict[str, Any], pods: list[dict[str, Any]], want_pre: Code | None = None,
          want: tuple[Code, list[str]] = OK) -> Any:
        return pytest.param(pod, pods, want_pre, want, id=id_)

    return [
        c("a pod without required affinity onto an empty node skips the plugin",
          make_pod().name("p").obj(), [], want_pre=Code.SKIP),
        c("affinity In matching the existing pod is satisfied",
          P(POD_LABEL2).pod_affinity_in("service", "region", ["securityscan", "value2"]).obj(), [EXISTING_POD()]),
        c("affinity NotIn matching the existing pod is satisfied",
          P(POD_LABEL2).pod_affinity_not_in("service", "region", ["securityscan3", "value3"]).obj(), [EXISTING_POD()]),
        c("affinity in another namespace is not satisfied",
          P(POD_LABEL2).pod_affinity("", sel_in("service", "securityscan", "value2"), REQ,
                                     namespaces=["DiffNameSpace"]).obj(),
          [P(POD_LABEL, ns="ns", node_name="node1").obj()], want=(UNRES, [AFF])),
        c("affinity with an unmatching selector is not satisfied",
          P(POD_LABEL).pod_affinity_in("service", "", ["antivirusscan", "value2"]).obj(), [EXISTING_POD()],
          want=(UNRES, [AFF])),
        c("several affinity terms with different operators are all satisfied",
          P(POD_LABEL2)
          .pod_affinity("region", expressions(("service", "Exists", ()), ("wrongkey", "DoesNotExist", ())))
          .pod_affinity("region", expressions(("service", "In", ("securityscan",)),
                                              ("service", "NotIn", ("WrongValue",)))).obj(),
          [EXISTING_POD()]),
        c("match expressions are ANDed, one not matching fails the term",
          P(POD_LABEL2)
          .pod_affinity("region", expressions(("service", "Exists", ()), ("wrongkey", "DoesNotExist", ())))
          .pod_affinity("region", expressions(("service", "In", ("securityscan2",)),
                                              ("service", "NotIn", ("WrongValue",)))).obj(),
          [EXISTING_POD()], want=(UNRES, [AFF])),
        c("affinity and anti-affinity both satisfied by the existing pod",
          P(POD_LABEL2).pod_affinity_in("service", "region", ["securityscan", "value2"])
          .pod_anti_affinity_in("service", "node", ["antivirusscan", "value2"]).obj(), [EXISTING_POD()]),
        c("affinity, anti-affinity and the existing pod's anti-affinity are all satisfied",
          P(POD_LABEL2).pod_affinity_in("service", "region", ["securityscan", "value2"])
          .pod_anti_affinity_in("service", "node", ["antivirusscan", "value2"]).obj(),
          [P(POD_LABEL, node_name="node1").pod_anti_affinity_in("service", "node", ["antivirusscan", "value2"]).obj()]),
        c("affinity satisfied but anti-affinity violated by the existing pod",
          P(POD_LABEL2).pod_affinity_in("service", "region", ["securityscan", "value2"])
          .pod_anti_affinity_in("service", "zone", ["securityscan", "value2"]).obj(), [EXISTING_POD()],
          want=(UNSCH, [ANTI])),
        c("the existing pod's anti-affinity rejects the incoming pod",
          P(POD_LABEL).pod_affinity_in("service", "region", ["securityscan", "value2"])
          .pod_anti_affinity_in("service", "node", ["antivirusscan", "value2"]).obj(),
          [P(POD_LABEL, node_name="node1").pod_anti_affinity_in("service", "zone", ["securityscan", "value2"]).obj()],
          want=(UNSCH, [EXISTING])),
        c("a pod matching its own affinity is refused when a matching pod runs elsewhere",
          P(POD_LABEL).pod_affinity_not_in("service", "region", ["securityscan", "value2"]).obj(),
          [P(POD_LABEL, node_name="node2").obj()], want=(UNRES, [AFF])),
        c("an existing pod's anti-affinity applies to a pod without affinity",
          P(POD_LABEL).obj(),
          [P(POD_LABEL, node_name="node1").pod_anti_affinity_in("service", "zone", ["securityscan", "value2"]).obj()],
          want=(UNSCH, [EXISTING])),
        c("an existing pod's anti-affinity that does not match skips the plugin",
          P(POD_LABEL).obj(),
          [P(POD_LABEL, node_name="node1").pod_anti_affinity_not_in("service", "zone",
                                                                    ["securityscan", "value2"]).obj()],
          want_pre=Code.SKIP),
        c("incoming anti-affinity violated while the existing pod's is not",
          P(POD_LABEL).pod_anti_affinity_exists("service", "region").pod_anti_affinity_exists("security", "region").obj(),
          [P(POD_LABEL2, node_name="node1").pod_anti_affinity_exists("security", "zone").obj()],
          want=(UNSCH, [ANTI])),
        c("symmetry a1: the incoming pod's terms partially match the existing pod",
          P(POD_LABEL).pod_anti_affinity_exists("service", "zone").pod_anti_affinity_exists("security", "zone").obj(),
          [P(POD_LABEL2, node_name="node1").pod_anti_affinity_exists("security", "zone").obj()],
          want=(UNSCH, [ANTI])),
        c("symmetry a2: the existing pod's terms partially match the incoming pod",
          P(POD_LABEL2).pod_anti_affinity_exists("security", "zone").obj(),
          [P(POD_LABEL, node_name="node1").pod_anti_affinity_exists("service", "zone")
           .pod_anti_affinity_exists("security", "zone").obj()],
          want=(UNSCH, [EXISTING])),
        c("symmetry b1: both pods carry the same two terms, incoming labels abc",
          P({"abc": "", "xyz": ""}).pod_anti_affinity_exists("abc", "zone").pod_anti_affinity_exists("def", "zone").obj(),
          [P({"def": "", "xyz": ""}, node_name="node1").pod_anti_affinity_exists("abc", "zone")
           .pod_anti_affinity_exists("def", "zone").obj()],
          want=(UNSCH, [ANTI])),
        c("symmetry b2: both pods carry the same two terms, incoming labels def",
          P({"def": "", "xyz": ""}).pod_anti_affinity_exists("abc", "zone").pod_anti_affinity_exists("def", "zone").obj(),
          [P({"abc": "", "xyz": ""}, node_name="node1").pod_anti_affinity_exists("abc", "zone")
           .pod_anti_affinity_exists("def", "zone").obj()],
          want=(UNSCH, [ANTI])),
        c("affinity with a namespaceSelector matches a pod in a selected namespace",
          P(POD_LABEL2).pod_affinity("region", sel_in("service", "securityscan", "value2"), REQ,
                                     namespace_selector=sel_in("team", "team1")).obj(),
          [P(POD_LABEL, ns="subteam1.team1", node_name="node1").obj()]),
        c("affinity with a namespaceSelector ignores pods of other namespaces",
          P(POD_LABEL2).pod_affinity("region", sel_in("service", "securityscan", "value2"), REQ,
                                     namespace_selector=sel_in("team", "team1")).obj(),
          [P(POD_LABEL, ns="subteam1.team2", node_name="node1").obj()], want=(UNRES, [AFF])),
        c("anti-affinity with a matching namespaceSelector rejects the node",
          P(POD_LABEL2, ns="subteam1.team1").pod_anti_affinity(
              "zone", sel_in("service", "securityscan", "value2"), REQ,
              namespace_selector=sel_in("team", "team1")).obj(),
          [P(POD_LABEL, ns="subteam2.team1", node_name="node1").obj()], want=(UNSCH, [ANTI])),
        c("anti-affinity with an empty namespaceSelector covers every namespace",
          P(POD_LABEL2, ns="subteam1.team1").pod_anti_affinity(
              "zone", sel_in("service", "securityscan", "value2"), REQ, namespace_selector={}).obj(),
          [P(POD_LABEL, ns="subteam2.team1", node_name="node1").obj()], want=(UNSCH, [ANTI])),
        c("anti-affinity with a non-matching namespaceSelector lets the pod in",
          P(POD_LABEL2, ns="subteam1.team1").pod_anti_affinity(
              "zone", sel_in("service", "securityscan", "value2"), REQ,
              namespace_selector=sel_in("team", "team1")).obj(),
          [P(POD_LABEL, ns="subteam1.team2", node_name="node1").obj()]),
    ]


@pytest.mark.parametrize(("pod", "pods", "want_pre", "want"), _single_node_cases())
def test_required_affinity_single_node(pod, pods, want_pre, want):
    pl, snap = plugin([NODE1], pods)
    state = CycleState()
    _, pre = pl.pre_filter(state, pod, snap.node_infos())
    assert pre.code == (want_pre or Code.SUCCESS)
    if not pre.ok:
        return
    assert status_of(pl.filter(state, pod, snap.infos["node1"])) == want


@pytest.mark.parametrize(("second_term_values", "want"), [
    pytest.param(["{{.bad-value.}}"], "parsing pod: requiredAffinityTerms: values[0][service]: Invalid value: "
                 "\"{{.bad-value.}}\": a valid label must be an empty string or consist of alphanumeric characters, "
                 "'-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
                 "'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
                 id="an invalid affinity label value fails PreFilter as unresolvable"),
])
def test_pre_filter_rejects_unparsable_terms(second_term_values, want):
    pod = (P(POD_LABEL).pod_affinity_in("service", "region", ["foo"])
           .pod_affinity_in("service", "node", second_term_values).obj())
    pl, snap = plugin([NODE1], [])
    _, pre = pl.pre_filter(CycleState(), pod, snap.node_infos())
    assert (pre.code, pre.message) == (UNRES, want)


def test_filter_without_pre_filter_is_an_error():
    pl, snap = plugin([NODE1], [])
    st = pl.filter(CycleState(), make_pod().name("p").obj(), snap.infos["node1"])
    assert (st.code, st.message) == (Code.ERROR, 'error reading "PreFilterInterPodAffinity" from cycleState: not found')


# ---------------------------------------------------------------------------------------
# Filter: several nodes (TestRequiredAffinityMultipleNodes)

CHINA = {"region": "China"}
CHINA_AZ1 = {"region": "China", "az": "az1"}
INDIA = {"region": "India"}


def _abc(name: str, **labels: str) -> dict[str, Any]:
    return node(name, **labels)


def _multi_node_cases() -> list[Any]:
    def c(id_: str, pod: dict[str, Any], pods: list[dict[str, Any]], nodes: list[dict[str, Any]],
          want: list[tuple[Code, list[str]]], want_pre: Code | None = None) -> Any:
        return pytest.param(pod, pods, nodes, want, want_pre, id=id_)

    r1z1 = [_abc("nodeA", region="r1", zone="z1", hostname="nodeA"),
            _abc("nodeB", region="r1", zone="z1", hostname="nodeB")]
    r1z12 = [_abc("nodeA", region="r1", zone="z1", hostname="nodeA"),
             _abc("nodeB", region="r1", zone="z2", hostname="nodeB")]
    return [
        c("nodes sharing the matching pod's region all fit",
          P().pod_affinity_in("foo", "region", ["bar"]).obj(), [P({"foo": "bar"}, node_name="node1").obj()],
          [node("node1", **CHINA), node("node2", **CHINA_AZ1), node("node3", **INDIA)],
          [OK, OK, (UNRES, [AFF])]),
        c("the first pod of a self-affine collection may go to any node",
          P({"foo": "bar", "service": "securityscan"}).pod_affinity_in("foo", "zone", ["bar"])
          .pod_affinity_in("service", "zone", ["securityscan"]).obj(),
          [P({"foo": "bar"}, node_name="nodeA").obj()],
          [node("nodeA", zone="az1", hostname="h1"), node("nodeB", zone="az2", hostname="h2")], [OK, OK]),
        c("the first pod of a collection still needs the topology keys on the node",
          P({"foo": "bar", "service": "securityscan"}).pod_affinity_in("foo", "zone", ["bar"])
          .pod_affinity_in("service", "zone", ["securityscan"]).obj(),
          [P({"foo": "bar"}, node_name="nodeA").obj()],
          [node("nodeA", zoneLabel="az1", hostname="h1"), node("nodeB", zoneLabel="az2", hostname="h2")],
          [(UNRES, [AFF]), (UNRES, [AFF])]),
        c("anti-affinity on region rejects every node of the matching pod's region",
          P().pod_anti_affinity_in("foo", "region", ["abc"]).obj(), [P({"foo": "abc"}, node_name="nodeA").obj()],
          [node("nodeA", region="r1", hostname="nodeA"), node("nodeB", region="r1", hostname="nodeB")],
          [(UNSCH, [ANTI]), (UNSCH, [ANTI])]),
        c("anti-affinity matches when any term matches",
          P().pod_anti_affinity_in("foo", "region", ["abc"]).pod_anti_affinity_in("service", "zone", ["securityscan"]).obj(),
          [P({"foo": "abc", "service": "securityscan"}, node_name="nodeA").obj()],
          [node("nodeA", region="r1", zone="z1", hostname="nodeA"),
           node("nodeB", region="r1", zone="z2", hostname="nodeB")],
          [(UNSCH, [ANTI]), (UNSCH, [ANTI])]),
        c("anti-affinity leaves other regions open",
          P().pod_anti_affinity_in("foo", "region", ["abc"]).obj(), [P({"foo": "abc"}, node_name="nodeA").obj()],
          [node("nodeA", **CHINA), node("nodeB", **CHINA_AZ1), node("nodeC", **INDIA)],
          [(UNSCH, [ANTI]), (UNSCH, [ANTI]), OK]),
        c("an existing pod's anti-affinity in another namespace does not count",
          P({"foo": "123"}, ns="NS1").pod_anti_affinity_in("foo", "region", ["bar"]).obj(),
          [P({"foo": "bar"}, ns="NS1", node_name="nodeA").obj(),
           P(ns="NS2", node_name="nodeC").pod_anti_affinity_in("foo", "region", ["123"]).obj()],
          [node("nodeA", **CHINA), node("nodeB", **CHINA_AZ1), node("nodeC", **INDIA)],
          [(UNSCH, [ANTI]), (UNSCH, [ANTI]), OK]),
        c("an existing pod's term with a topology key no node has skips the plugin",
          P({"foo": ""}).obj(), [P(node_name="nodeA").pod_anti_affinity_exists("foo", "invalid-node-label").obj()],
          r1z1, [OK, OK], want_pre=Code.SKIP),
        c("incoming anti-affinity needs the topology key on the node too",
          P(node_name="nodeA").pod_anti_affinity_exists("foo", "invalid-node-label").obj(),
          [P({"foo": ""}, node_name="nodeA").obj()], r1z1, [OK, OK]),
        c("the incoming pod violates each existing pod's terms on all nodes",
          P({"foo": "", "bar": ""}).obj(),
          [P(node_name="nodeA").pod_anti_affinity_exists("foo", "zone").obj(),
           P(node_name="nodeA").pod_anti_affinity_exists("bar", "region").obj()],
          r1z12, [(UNSCH, [EXISTING]), (UNSCH, [EXISTING])]),
        c("the incoming pod's anti-affinity is violated on both nodes",
          P().pod_anti_affinity_exists("foo", "zone").pod_anti_affinity_exists("bar", "region").obj(),
          [P({"foo": ""}, node_name="nodeA").obj(), P({"bar": ""}, node_name="nodeB").obj()],
          r1z12, [(UNSCH, [ANTI]), (UNSCH, [ANTI])]),
        c("an existing pod's term counts only where selector and topology key both match",
          P({"foo": "", "bar": ""}).obj(),
          [P(node_name="nodeA").pod_anti_affinity_exists("foo", "invalid-node-label")
           .pod_anti_affinity_exists("bar", "zone").obj()],
          r1z12, [(UNSCH, [EXISTING]), OK]),
        c("the incoming pod's term counts only where selector and topology key both match",
          P().pod_anti_affinity_exists("foo", "invalid-node-label").pod_anti_affinity_exists("bar", "zone").obj(),
          [P({"foo": "", "bar": ""}, node_name="nodeA").obj()],
          r1z12, [(UNSCH, [ANTI]), OK]),
        c("an existing pod's valid terms reject both nodes",
          P({"foo": "", "bar": ""}).obj(),
          [P(node_name="nodeA").pod_anti_affinity_exists("foo", "region")
           .pod_anti_affinity_exists("bar", "zone").obj()],
          r1z12, [(UNSCH, [EXISTING]), (UNSCH, [EXISTING])]),
        c("the incoming pod's valid terms reject both nodes",
          P().pod_anti_affinity_exists("foo", "region").pod_anti_affinity_exists("bar", "zone").obj(),
          [P({"foo": "", "bar": ""}, node_name="nodeA").obj()],
          r1z12, [(UNSCH, [ANTI]), (UNSCH, [ANTI])]),
        c("existing pods on nodeA and nodeB leave only nodeC",
          P({"foo": "", "bar": ""}).obj(),
          [P(node_name="nodeA").pod_anti_affinity_exists("foo", "zone").pod_anti_affinity_exists("labelA", "zone").obj(),
           P(node_name="nodeB").pod_anti_affinity_exists("bar", "zone").pod_anti_affinity_exists("labelB", "zone").obj()],
          [node("nodeA", region="r1", zone="z1", hostname="nodeA"),
           node("nodeB", region="r1", zone="z2", hostname="nodeB"),
           node("nodeC", region="r1", zone="z3", hostname="nodeC")],
          [(UNSCH, [EXISTING]), (UNSCH, [EXISTING]), OK]),
        c("affinity: one pod matching all terms satisfies every topology key",
          P().pod_affinity_exists("foo", "region").pod_affinity_exists("bar", "zone").obj(),
          [P({"foo": "", "bar": ""}, node_name="nodeA").obj()], r1z1, [OK, OK]),
        c("affinity: the terms must be matched by the same pod",
          P().pod_affinity_exists("foo", "region").pod_affinity_exists("bar", "zone").obj(),
          [P({"foo": ""}, node_name="nodeA").obj(), P({"bar": ""}, node_name="nodeB").obj()],
          r1z12, [(UNRES, [AFF]), (UNRES, [AFF])]),
    ]


@pytest.mark.parametrize(("pod", "pods", "nodes", "want", "want_pre"), _multi_node_cases())
def test_required_affinity_multiple_nodes(pod, pods, nodes, want, want_pre):
    pl, snap = plugin(nodes, pods, namespaces=[namespace("NS1")])
    state = CycleState()
    _, pre = pl.pre_filter(state, pod, snap.node_infos())
    assert pre.code == (want_pre or Code.SUCCESS)
    if pre.code is Code.SKIP:
        return
    got = [status_of(pl.filter(state, pod, snap.infos[n["metadata"]["name"]])) for n in nodes]
    assert got == want


# ---------------------------------------------------------------------------------------
# matchLabelKeys / mismatchLabelKeys (merged from the term owner's labels, as in 1.32)


def _with_keys(pod: dict[str, Any], which: str, field: str, keys: list[str]) -> dict[str, Any]:
    for term in pod["spec"]["affinity"][which]["requiredDuringSchedulingIgnoredDuringExecution"]:
        term[field] = keys
    return pod


@pytest.mark.parametrize(("pod", "want"), [
    pytest.param(_with_keys(P({"app": "web", "rev": "2"}).pod_affinity_exists("app", "region").obj(),
                            "podAffinity", "matchLabelKeys", ["rev"]),
                 (UNRES, [AFF]), id="matchLabelKeys narrows affinity to pods of the same revision"),
    pytest.param(_with_keys(P({"app": "web", "rev": "1"}).pod_affinity_exists("app", "region").obj(),
                            "podAffinity", "matchLabelKeys", ["rev"]),
                 OK, id="matchLabelKeys keeps pods carrying the same value"),
    pytest.param(_with_keys(P({"app": "web", "rev": "1"}).pod_anti_affinity_exists("app", "region").obj(),
                            "podAntiAffinity", "mismatchLabelKeys", ["rev"]),
                 OK, id="mismatchLabelKeys excludes pods carrying the same value from anti-affinity"),
    pytest.param(_with_keys(P({"app": "web", "rev": "2"}).pod_anti_affinity_exists("app", "region").obj(),
                            "podAntiAffinity", "mismatchLabelKeys", ["rev"]),
                 (UNSCH, [ANTI]), id="mismatchLabelKeys keeps pods with another value in anti-affinity"),
    pytest.param(_with_keys(P({"app": "web"}).pod_affinity_exists("app", "region").obj(),
                            "podAffinity", "matchLabelKeys", ["rev"]),
                 OK, id="a match key the pod does not carry adds nothing"),
])
def test_match_label_keys(pod, want):
    pl, snap = plugin([NODE1, node("node2", region="r2")],
                      [P({"app": "web", "rev": "1"}, node_name="node1").obj(),
                       P({"app": "web", "rev": "2"}, node_name="node2").obj()])
    state = CycleState()
    _, pre = pl.pre_filter(state, pod, snap.node_infos())
    assert pre.ok
    assert status_of(pl.filter(state, pod, snap.infos["node1"])) == want


# ---------------------------------------------------------------------------------------
# PreFilter extensions (TestPreFilterStateAddRemovePod) and the counts
# (TestGetTPMapMatchingIncomingAffinityAntiAffinity)

ANTI_FOO_BAR = {"requiredDuringSchedulingIgnoredDuringExecution": [
    {"labelSelector": sel_in("foo", "bar"), "topologyKey": "region"}]}
COMPLEX_TERMS = [
    {"labelSelector": sel_in("foo", "bar", "buzz"), "topologyKey": "region"},
    {"labelSelector": sel_not_in("service", "bar", "security", "test"), "topologyKey": "zone"},
]
ANTI_COMPLEX = {"requiredDuringSchedulingIgnoredDuringExecution": COMPLEX_TERMS}
AFFINITY_COMPLEX = {"requiredDuringSchedulingIgnoredDuringExecution": COMPLEX_TERMS}
ADD_REMOVE_NODES = [node("nodeA", region="r1", zone="z11"), node("nodeB", region="r1", zone="z12"),
                    node("nodeC", region="r2", zone="z21")]


def _raw(name: str, labels: dict[str, str] | None, node_name: str | None, **affinity: Any) -> dict[str, Any]:
    p = P(labels, node_name=node_name).name(name).obj()
    if affinity:
        p["spec"]["affinity"] = affinity
    return p


@pytest.mark.parametrize(("pending", "existing", "added", "want_anti", "want_affinity"), [
    pytest.param(_raw("pending", {"foo": "bar"}, None, podAntiAffinity=ANTI_FOO_BAR),
                 [_raw("p1", {"foo": "bar"}, "nodeA"), _raw("p2", None, "nodeC", podAntiAffinity=ANTI_FOO_BAR)],
                 _raw("addedPod", {"foo": "bar"}, "nodeB", podAntiAffinity=ANTI_FOO_BAR),
                 {("region", "r1"): 2}, {}, id="anti-affinity counts follow an added and removed pod"),
    pytest.param(_raw("pending", {"foo": "bar"}, None, podAntiAffinity=ANTI_COMPLEX),
                 [_raw("p1", {"foo": "bar"}, "nodeA"), _raw("p2", None, "nodeC", podAntiAffinity=ANTI_FOO_BAR)],
                 _raw("addedPod", {"foo": "bar"}, "nodeA", podAntiAffinity=ANTI_COMPLEX),
                 {("region", "r1"): 2, ("zone", "z11"): 2, ("zone", "z21"): 1}, {},
                 id="anti-affinity counts with two terms follow an added and removed pod"),
    pytest.param(_raw("pending", {"foo": "bar"}, None, podAffinity=AFFINITY_COMPLEX),
                 [_raw("p1", {"foo": "bar"}, "nodeA"),
                  _raw("p2", None, "nodeC", podAntiAffinity=ANTI_FOO_BAR, podAffinity=AFFINITY_COMPLEX)],
                 _raw("addedPod", {"foo": "bar"}, "nodeA", podAntiAffinity=ANTI_COMPLEX),
                 {}, {("region", "r1"): 2, ("zone", "z11"): 2},
                 id="affinity counts follow an added and removed pod"),
])
def test_pre_filter_state_add_remove_pod(pending, existing, added, want_anti, want_affinity):
    def state_for(pods: list[dict[str, Any]]) -> tuple[ipa.InterPodAffinity, CycleState, FakeSnapshot]:
        pl, snap = plugin(ADD_REMOVE_NODES, [dict(p) for p in pods])
        cs = CycleState()
        _, pre = pl.pre_filter(cs, pending, snap.node_infos())
        assert pre.ok
        return pl, cs, snap

    _, all_state, _ = state_for([*existing, added])
    pl, cs, snap = state_for(existing)
    original = cs.read(ipa.PRE_FILTER_STATE_KEY).clone()

    assert pl.add_pod(cs, pending, added, snap.infos[added["spec"]["nodeName"]]).ok
    got = cs.read(ipa.PRE_FILTER_STATE_KEY)
    assert got.anti_affinity == want_anti
    assert got.affinity == want_affinity
    want_all = all_state.read(ipa.PRE_FILTER_STATE_KEY)
    assert (got.existing_anti_affinity, got.affinity, got.anti_affinity) == (
        want_all.existing_anti_affinity, want_all.affinity, want_all.anti_affinity)

    assert pl.remove_pod(cs, pending, added, snap.infos[added["spec"]["nodeName"]]).ok
    assert (got.existing_anti_affinity, got.affinity, got.anti_affinity) == (
        original.existing_anti_affinity, original.affinity, original.anti_affinity)


def test_cycle_state_clone_copies_the_counts():
    pl, snap = plugin(ADD_REMOVE_NODES, [_raw("p1", {"foo": "bar"}, "nodeA")])
    cs = CycleState()
    pending = _raw("pending", {"foo": "bar"}, None, podAntiAffinity=ANTI_FOO_BAR)
    pl.pre_filter(cs, pending, snap.node_infos())
    clone = cs.clone()
    pl.add_pod(clone, pending, _raw("x", {"foo": "bar"}, "nodeC"), snap.infos["nodeC"])
    assert clone.read(ipa.PRE_FILTER_STATE_KEY).anti_affinity == {("region", "r1"): 1, ("region", "r2"): 1}
    assert cs.read(ipa.PRE_FILTER_STATE_KEY).anti_affinity == {("region", "r1"): 1}


def _normal(name: str, *labels: str) -> dict[str, Any]:
    return P({k: "" for k in labels}, node_name="nodeA").name(name).obj()


HOST_A = {("hostname", "nodeA"): 1}


@pytest.mark.parametrize(("existing", "pod", "want_affinity", "want_anti"), [
    pytest.param([], P().pod_affinity_exists("aaa", "hostname").pod_anti_affinity_exists("aaa", "hostname").obj(),
                 {}, {}, id="no existing pods count nothing"),
    pytest.param([_normal("b", "bbb")],
                 P().pod_affinity_exists("aaa", "hostname").pod_anti_affinity_exists("aaa", "hostname").obj(),
                 {}, {}, id="a pod without the labels counts nothing"),
    pytest.param([_normal("a", "aaa")],
                 P().pod_affinity_exists("aaa", "hostname").pod_anti_affinity_exists("aaa", "hostname").obj(),
                 HOST_A, HOST_A, id="one term each, matched by the existing pod"),
    pytest.param([_normal("ab", "aaa", "bbb")],
                 P().pod_affinity_exists("aaa", "hostname").pod_affinity_exists("bbb", "hostname")
                 .pod_anti_affinity_exists("aaa", "hostname").obj(),
                 {("hostname", "nodeA"): 2}, HOST_A, id="two affinity terms count once each"),
    pytest.param([_normal("a", "aaa")],
                 P().pod_affinity_exists("aaa", "hostname").pod_affinity_exists("bbb", "hostname")
                 .pod_anti_affinity_exists("aaa", "hostname").pod_anti_affinity_exists("bbb", "hostname").obj(),
                 {}, HOST_A, id="affinity needs all terms, anti-affinity any term"),
    pytest.param([_normal("ab", "aaa", "bbb")],
                 P().pod_affinity_exists("aaa", "hostname").pod_affinity_exists("ccc", "hostname")
                 .pod_anti_affinity_exists("aaa", "hostname").pod_anti_affinity_exists("ccc", "hostname").obj(),
                 {}, HOST_A, id="anti-affinity partially violated, case 1"),
    pytest.param([_normal("b", "bbb")],
                 P().pod_affinity_exists("aaa", "hostname").pod_affinity_exists("bbb", "hostname")
                 .pod_anti_affinity_exists("aaa", "hostname").pod_anti_affinity_exists("bbb", "hostname").obj(),
                 {}, HOST_A, id="anti-affinity partially violated, case 2"),
])
def test_incoming_affinity_anti_affinity_counts(existing, pod, want_affinity, want_anti):
    pl, snap = plugin([node("nodeA", hostname="nodeA")], existing)
    cs = CycleState()
    _, pre = pl.pre_filter(cs, pod, snap.node_infos())
    assert pre.ok
    s = cs.read(ipa.PRE_FILTER_STATE_KEY)
    assert (s.affinity, s.anti_affinity) == (want_affinity, want_anti)


# ---------------------------------------------------------------------------------------
# Score (TestPreferredAffinity, TestPreferredAffinityWithHardPodAffinitySymmetricWeight)


def _pref(weight: int, selector: dict[str, Any], key: str, **extra: Any) -> dict[str, Any]:
    return {"weight": weight, "podAffinityTerm": {"labelSelector": selector, "topologyKey": key, **extra}}


def _aff(pref: list[dict[str, Any]] | None = None, pref_anti: list[dict[str, Any]] | None = None,
         req: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if pref or req:
        out["podAffinity"] = {}
        if pref:
            out["podAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"] = pref
        if req:
            out["podAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] = req
    if pref_anti:
        out["podAntiAffinity"] = {"preferredDuringSchedulingIgnoredDuringExecution": pref_anti}
    return out


S1 = {"security": "S1"}
S2 = {"security": "S2"}
AZ1 = {"az": "az1"}
AZ2 = {"az": "az2"}
STAY_S1_REGION = _aff([_pref(5, sel_in("security", "S1"), "region")])
STAY_S2_REGION = _aff([_pref(6, sel_in("security", "S2"), "region")])
AFFINITY3 = _aff([
    _pref(8, expressions(("security", "NotIn", ("S1",)), ("security", "In", ("S2",))), "region"),
    _pref(2, expressions(("security", "Exists", ()), ("wrongkey", "DoesNotExist", ())), "region"),
])
HARD_AFFINITY = _aff(req=[
    {"labelSelector": sel_in("security", "S1", "value2"), "topologyKey": "region"},
    {"labelSelector": expressions(("security", "Exists", ()), ("wrongkey", "DoesNotExist", ())),
     "topologyKey": "region"},
])
AWAY_S1_AZ = _aff(pref_anti=[_pref(5, sel_in("security", "S1"), "az")])
AWAY_S2_AZ = _aff(pref_anti=[_pref(5, sel_in("security", "S2"), "az")])
STAY_S1_AWAY_S2 = _aff([_pref(8, sel_in("security", "S1"), "region")], [_pref(5, sel_in("security", "S2"), "az")])
NS_SELECTOR_EXTRA = {"namespaces": ["subteam2.team2"], "namespaceSelector": sel_in("team", "team1")}
AFFINITY_NS = _aff([_pref(5, sel_in("security", "S1"), "region", **NS_SELECTOR_EXTRA)])
ANTI_AFFINITY_NS = _aff(pref_anti=[_pref(5, sel_in("security", "S1"), "region", **NS_SELECTOR_EXTRA)])
INVALID_AFFINITY = _aff([_pref(8, sel_in("security", "{{.bad-value.}}"), "region")])
INVALID_ANTI = _aff(pref_anti=[_pref(5, sel_in("security", "{{.bad-value.}}"), "az")])


def sp(labels: dict[str, str] | None = None, node_name: str | None = None, affinity: dict[str, Any] | None = None,
       ns: str = "default") -> dict[str, Any]:
    p = P(labels, ns=ns, node_name=node_name).obj()
    if affinity:
        p["spec"]["affinity"] = affinity
    return p


def nodes_of(*specs: tuple[str, dict[str, str]]) -> list[dict[str, Any]]:
    return [node(name, **labels) for name, labels in specs]


M = 100


def _score_cases() -> list[Any]:
    def c(id_: str, pod: dict[str, Any], pods: list[dict[str, Any]], nodes: list[dict[str, Any]],
          want: list[int] | None, *, want_status: tuple[Code, str] | None = None, ignore_preferred: bool = False) -> Any:
        return pytest.param(pod, pods, nodes, want, want_status, ignore_preferred, id=id_)

    three = nodes_of(("node1", CHINA), ("node2", INDIA), ("node3", AZ1))
    return [
        c("all nodes are equal without affinity: skipped", sp(S1), [], three, None, want_status=(Code.SKIP, "")),
        c("affinity: the node with a matching pod in its region scores highest",
          sp(S1, affinity=STAY_S1_REGION), [sp(S1, "node1"), sp(S2, "node2"), sp(S1, "node3")], three, [M, 0, 0]),
        c("affinity: nodes sharing the matching region value score the same",
          sp(affinity=STAY_S1_REGION), [sp(S1, "node1")],
          nodes_of(("node1", CHINA), ("node2", CHINA_AZ1), ("node3", INDIA)), [M, M, 0]),
        c("affinity: the region with more matching pods scores higher",
          sp(S1, affinity=STAY_S2_REGION),
          [sp(S2, "node1"), sp(S2, "node1"), sp(S2, "node2"), sp(S2, "node3"), sp(S2, "node4"), sp(S2, "node5")],
          nodes_of(("node1", CHINA), ("node2", INDIA), ("node3", CHINA), ("node4", CHINA), ("node5", INDIA)),
          [M, 0, M, M, 0]),
        c("affinity: different operators, some not matching",
          sp(S1, affinity=AFFINITY3), [sp(S1, "node1"), sp(S2, "node2"), sp(S1, "node3")], three, [20, M, 0]),
        c("affinity symmetry: existing pods' preferred terms count",
          sp(S2), [sp(S1, "node1", STAY_S1_REGION), sp(S2, "node2", STAY_S2_REGION)], three, [0, M, 0]),
        c("affinity symmetry with a namespace selector",
          sp(S1, ns="subteam1.team1"), [sp(S1, "node1", AFFINITY_NS), sp(S2, "node2", STAY_S2_REGION)],
          three, [M, 0, 0]),
        c("anti-affinity symmetry with a namespace selector",
          sp(S1, ns="subteam1.team1"), [sp(S1, "node1", ANTI_AFFINITY_NS), sp(S2, "node2", STAY_S2_REGION)],
          three, [0, M, M]),
        c("affinity symmetry: existing pods' required terms count with the hard weight",
          sp(S1), [sp(S1, "node1", HARD_AFFINITY), sp(S2, "node2", HARD_AFFINITY)], three, [M, M, 0]),
        c("anti-affinity: the node without a matching pod scores high",
          sp(S1, affinity=AWAY_S1_AZ), [sp(S1, "node1"), sp(S2, "node2")],
          nodes_of(("node1", AZ1), ("node2", CHINA)), [0, M]),
        c("anti-affinity: the node without the topology key scores high",
          sp(S1, affinity=AWAY_S1_AZ), [sp(S1, "node1"), sp(S1, "node2")],
          nodes_of(("node1", AZ1), ("node2", CHINA)), [0, M]),
        c("anti-affinity: more matching pods score lower",
          sp(S1, affinity=AWAY_S1_AZ), [sp(S1, "node1"), sp(S1, "node1"), sp(S2, "node2")],
          nodes_of(("node1", AZ1), ("node2", INDIA)), [0, M]),
        c("anti-affinity symmetry: existing pods' preferred anti-affinity counts",
          sp(S2), [sp(S1, "node1", AWAY_S2_AZ), sp(S2, "node2", AWAY_S1_AZ)],
          nodes_of(("node1", AZ1), ("node2", AZ2)), [0, M]),
        c("affinity and anti-affinity together",
          sp(S1, affinity=STAY_S1_AWAY_S2), [sp(S1, "node1"), sp(S1, "node2")],
          nodes_of(("node1", CHINA), ("node2", AZ1)), [M, 0]),
        c("affinity and anti-affinity with pods of the same labels",
          sp(S1, affinity=STAY_S1_AWAY_S2),
          [sp(S1, "node1"), sp(S1, "node1"), sp(S1, "node2"), sp(S1, "node3"), sp(S1, "node3"), sp(S1, "node4"),
           sp(S1, "node5")],
          nodes_of(("node1", CHINA_AZ1), ("node2", INDIA), ("node3", CHINA), ("node4", CHINA), ("node5", INDIA)),
          [M, 0, M, M, 0]),
        c("affinity, anti-affinity and symmetry together",
          sp(S1, affinity=STAY_S1_AWAY_S2),
          [sp(S1, "node1"), sp(S2, "node2"), sp(None, "node3", STAY_S1_AWAY_S2), sp(None, "node4", AWAY_S1_AZ)],
          nodes_of(("node1", CHINA), ("node2", AZ1), ("node3", INDIA), ("node4", AZ2)), [M, 0, M, 0]),
        c("no panic when some nodes of a topology lack pods with affinity",
          sp(S1), [sp(S1, "node1"), sp(None, "node2", STAY_S1_AWAY_S2)],
          nodes_of(("node1", CHINA), ("node2", CHINA)), [0, 0]),
        c("invalid affinity fails PreScore", sp(affinity=INVALID_AFFINITY), [],
          nodes_of(("node1", CHINA), ("node2", CHINA)), None,
          want_status=(Code.ERROR, 'Invalid value: "{{.bad-value.}}"')),
        c("invalid anti-affinity fails PreScore", sp(affinity=INVALID_ANTI), [],
          nodes_of(("node1", CHINA), ("node2", CHINA)), None,
          want_status=(Code.ERROR, 'Invalid value: "{{.bad-value.}}"')),
        c("affinity with pods matching the namespaceSelector",
          sp(S1, ns="subteam1.team1", affinity=AFFINITY_NS),
          [sp(S1, "node1", ns="subteam1.team1"), sp(S1, "node1", ns="subteam1.team1"),
           sp(S1, "node1", ns="subteam1.team2"), sp(S1, "node2", ns="subteam2.team1")],
          nodes_of(("node1", CHINA), ("node2", INDIA)), [M, 0]),
        c("affinity with pods matching both namespaceSelector and namespaces",
          sp(S1, ns="subteam1.team1", affinity=AFFINITY_NS),
          [sp(S1, "node1", ns="subteam1.team1"), sp(S1, "node1", ns="subteam1.team1"),
           sp(S1, "node1", ns="subteam2.team2"), sp(S1, "node2", ns="subteam2.team1")],
          nodes_of(("node1", CHINA), ("node2", INDIA)), [M, 0]),
        c("anti-affinity with pods matching the namespaceSelector",
          sp(S1, ns="subteam1.team1", affinity=ANTI_AFFINITY_NS),
          [sp(S1, "node1", ns="subteam1.team1"), sp(S1, "node1", ns="subteam1.team1"),
           sp(S1, "node1", ns="subteam1.team2"), sp(S1, "node2", ns="subteam2.team1")],
          nodes_of(("node1", CHINA), ("node2", INDIA)), [0, M]),
        c("anti-affinity with pods matching both namespaceSelector and namespaces",
          sp(S1, ns="subteam1.team1", affinity=ANTI_AFFINITY_NS),
          [sp(S1, "node1", ns="subteam1.team1"), sp(S1, "node1", ns="subteam1.team1"),
           sp(S1, "node1", ns="subteam2.team2"), sp(S1, "node2", ns="subteam2.team1")],
          nodes_of(("node1", CHINA), ("node2", INDIA)), [0, M]),
        c("preferred terms of existing pods are ignored when asked to",
          sp(S2), [sp(S1, "node1", STAY_S1_AWAY_S2), sp(S2, "node2", STAY_S2_REGION)],
          nodes_of(("node1", CHINA), ("node2", INDIA)), None, want_status=(Code.SKIP, ""), ignore_preferred=True),
        c("preferred terms of existing pods count by default",
          sp(S2), [sp(S1, "node1", STAY_S1_AWAY_S2), sp(S2, "node2", STAY_S2_REGION)],
          nodes_of(("node1", CHINA), ("node2", INDIA)), [0, M]),
        c("no nodes to score", sp(S2), [], [], None, want_status=(Code.SKIP, "")),
    ]


def _run_score(pl: ipa.InterPodAffinity, snap: FakeSnapshot, pod: dict[str, Any], nodes: list[dict[str, Any]]):
    state = CycleState()
    st = pl.pre_score(state, pod, snap.node_infos())
    if not st.ok:
        return st, None
    scores = []
    for n in nodes:
        score, s = pl.score(state, pod, snap.infos[n["metadata"]["name"]])
        assert s.ok
        scores.append(NodeScore(n["metadata"]["name"], score))
    assert pl.normalize_score(state, pod, scores).ok
    return st, [s.score for s in scores]


@pytest.mark.parametrize(("pod", "pods", "nodes", "want", "want_status", "ignore_preferred"), _score_cases())
def test_preferred_affinity(pod, pods, nodes, want, want_status, ignore_preferred):
    pl, snap = plugin(nodes, pods, {"hardPodAffinityWeight": 1,
                                    "ignorePreferredTermsOfExistingPods": ignore_preferred})
    st, got = _run_score(pl, snap, pod, nodes)
    if want_status is not None:
        assert st.code == want_status[0]
        assert want_status[1] in st.message
        return
    assert st.ok
    assert got == want


HARD_POD_AFFINITY = _aff(req=[{
    "labelSelector": sel_in("service", "S1"), "topologyKey": "region",
    "namespaces": ["default", "subteam2.team2"], "namespaceSelector": sel_in("team", "team1"),
}])


@pytest.mark.parametrize(("pod_ns", "weight", "want"), [
    pytest.param("default", 1, [M, M, 0], id="with the default weight"),
    pytest.param("default", 0, None, id="with zero weight the plugin is skipped"),
    pytest.param("subteam1.team2", 1, None, id="with no matching namespace the plugin is skipped"),
    pytest.param("subteam1.team1", 1, [M, M, 0], id="with a matching namespaceSelector"),
    pytest.param("subteam2.team2", 1, [M, M, 0], id="with matching namespaces"),
])
def test_hard_pod_affinity_symmetric_weight(pod_ns, weight, want):
    nodes = nodes_of(("node1", CHINA), ("node2", INDIA), ("node3", AZ1))
    pods = [sp(None, "node1", HARD_POD_AFFINITY), sp(None, "node2", HARD_POD_AFFINITY)]
    pl, snap = plugin(nodes, pods, {"hardPodAffinityWeight": weight})
    st, got = _run_score(pl, snap, sp({"service": "S1"}, ns=pod_ns), nodes)
    if want is None:
        assert st.code is Code.SKIP
    else:
        assert st.ok
        assert got == want


# ---------------------------------------------------------------------------------------
# plugin surface


@pytest.mark.parametrize(("args", "want"), [
    pytest.param({}, ipa.InterPodAffinityArgs(1, False), id="defaults to hard weight 1"),
    pytest.param({"hardPodAffinityWeight": 7, "ignorePreferredTermsOfExistingPods": True},
                 ipa.InterPodAffinityArgs(7, True), id="takes both args"),
])
def test_args(args, want):
    assert ipa.InterPodAffinityArgs.from_dict(args) == want


def test_args_reject_a_weight_out_of_range():
    with pytest.raises(ValueError, match="not in valid range"):
        ipa.InterPodAffinityArgs.from_dict({"hardPodAffinityWeight": 101})


def test_registers_pod_and_node_events():
    pl, _ = plugin([], [])
    events = {(e.resource, e.action) for e in pl.events_to_register()}
    assert {("Pod", "Add"), ("Pod", "Update"), ("Pod", "Delete"), ("Node", "Add"),
            ("Node", "UpdateNodeLabel")} <= events


def test_registry_factory_builds_the_plugin():
    from kubepy.scheduler.plugins.registry import factory

    fn = factory("InterPodAffinity")
    assert fn is not None
    pl = fn({}, FakeHandle(FakeSnapshot([], [])))
    assert pl.NAME == "InterPodAffinity"


def test_counts_follow_node_changes_between_cycles():
    """Per-node results are reused across cycles only while the NodeInfo is unchanged."""
    nodes = [node("nodeA", hostname="nodeA"), node("nodeB", hostname="nodeB")]
    pl, snap = plugin(nodes, [P({"app": "db"}, node_name="nodeA").name("db-0").obj(),
                              P(node_name="nodeB").name("unlabelled-b").obj()])
    pod = P({"app": "web"}).pod_anti_affinity_exists("app", "hostname").obj()

    def blocked() -> list[str]:
        state = CycleState()
        pl.pre_filter(state, pod, snap.node_infos())
        return [n for n, ni in snap.infos.items() if not pl.filter(state, pod, ni).ok]

    assert blocked() == ["nodeA"]
    snap.infos["nodeB"].add_pod(PodInfo.of(P({"app": "db"}, node_name="nodeB").name("db-1").obj()))
    assert blocked() == ["nodeA", "nodeB"]
    fresh = NodeInfo(snap.infos["nodeA"].node)  # the cache hands out a new NodeInfo
    fresh.add_pod(PodInfo.of(P(node_name="nodeA").name("unlabelled-a").obj()))
    snap.infos["nodeA"] = fresh
    assert blocked() == ["nodeB"]
