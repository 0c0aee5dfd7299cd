"""NodeAffinity: the cases of upstream's node_affinity_test.go (filter, PreFilter node names,
scores) plus the requirement matcher shared with other plugins."""

from __future__ import annotations

import pytest

from kubepy.scheduler.framework.interface import Code, CycleState, NodeScore, PreFilterResult, Status
from kubepy.scheduler.plugins import nodeaffinity as na
from kubepy.testing.scheduler_builders import make_node, make_pod, node_info

POD_REASON = Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, ["node(s) didn't match Pod's node affinity/selector"],
                    "NodeAffinity")
ENFORCED_REASON = Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE,
                         ["node(s) didn't match scheduler-enforced node affinity"], "NodeAffinity")


def _required(*terms):
    return {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": list(terms)}}


def _expr(key, op, *values):
    e = {"key": key, "operator": op}
    if values:
        e["values"] = list(values)
    return e


def _name_in(*names):
    return {"key": "metadata.name", "operator": "In", "values": list(names)}


FILTER_CASES = [
    ("a pod without selector or affinity fits any node", make_pod().obj(), {"foo": "bar"}, None),
    ("a node missing the selected label does not match", make_pod().node_selector({"foo": "bar"}).obj(), {},
     POD_REASON),
    ("a node with the selected label matches", make_pod().node_selector({"foo": "bar"}).obj(), {"foo": "bar"}, None),
    ("node labels that are a superset match", make_pod().node_selector({"foo": "bar"}).obj(),
     {"foo": "bar", "baz": "blah"}, None),
    ("node labels that are a subset do not match", make_pod().node_selector({"foo": "bar", "baz": "blah"}).obj(),
     {"foo": "bar"}, POD_REASON),
    ("In matches one of the values", make_pod().node_affinity(_required(
        {"matchExpressions": [_expr("foo", "In", "bar", "value2")]})).obj(), {"foo": "bar"}, None),
    ("Gt compares labels as integers", make_pod().node_affinity(_required(
        {"matchExpressions": [_expr("kernel-version", "Gt", "0204")]})).obj(), {"kernel-version": "0206"}, None),
    ("Lt refuses a larger value", make_pod().node_affinity(_required(
        {"matchExpressions": [_expr("kernel-version", "Lt", "0204")]})).obj(), {"kernel-version": "0206"}, POD_REASON),
    ("Gt refuses a label that is not a number", make_pod().node_affinity(_required(
        {"matchExpressions": [_expr("kernel-version", "Gt", "1")]})).obj(), {"kernel-version": "6.1"}, POD_REASON),
    ("NotIn matches other values", make_pod().node_affinity(_required(
        {"matchExpressions": [_expr("mem-type", "NotIn", "DDR", "DDR2")]})).obj(), {"mem-type": "DDR3"}, None),
    ("NotIn matches a node without the label", make_pod().node_affinity(_required(
        {"matchExpressions": [_expr("mem-type", "NotIn", "DDR")]})).obj(), {}, None),
    ("Exists matches any value", make_pod().node_affinity(_required(
        {"matchExpressions": [_expr("GPU", "Exists")]})).obj(), {"GPU": "NVIDIA-GRID-K1"}, None),
    ("DoesNotExist refuses a node with the label", make_pod().node_affinity(_required(
        {"matchExpressions": [_expr("GPU", "DoesNotExist")]})).obj(), {"GPU": "x"}, POD_REASON),
    ("In refuses other values", make_pod().node_affinity(_required(
        {"matchExpressions": [_expr("foo", "In", "value1", "value2")]})).obj(), {"foo": "bar"}, POD_REASON),
    ("an empty list of terms matches no node", make_pod().node_affinity(_required()).obj(), {"foo": "bar"},
     POD_REASON),
    ("a term with empty matchExpressions matches no node", make_pod().node_affinity(_required(
        {"matchExpressions": []})).obj(), {"foo": "bar"}, POD_REASON),
    ("requirements within a term are ANDed", make_pod().node_affinity(_required(
        {"matchExpressions": [_expr("GPU", "Exists"), _expr("GPU", "NotIn", "AMD", "INTER")]})).obj(),
     {"GPU": "AMD"}, POD_REASON),
    ("terms are ORed", make_pod().node_affinity(_required(
        {"matchExpressions": [_expr("foo", "In", "bar", "value2")]},
        {"matchExpressions": [_expr("diffkey", "In", "wrong", "value2")]})).obj(), {"foo": "bar"}, None),
    ("nodeSelector and affinity must both match", make_pod().node_selector({"foo": "bar"}).node_affinity(_required(
        {"matchExpressions": [_expr("foo", "Exists")]})).obj(), {"foo": "bar"}, None),
    ("a matching affinity does not rescue a failing nodeSelector", make_pod().node_selector({"foo": "bar"})
     .node_affinity(_required({"matchExpressions": [_expr("foo", "Exists")]})).obj(), {"foo": "barrrrrr"},
     POD_REASON),
    ("an invalid label value makes the term match nothing", make_pod().node_affinity(_required(
        {"matchExpressions": [_expr("foo", "NotIn", "invalid value: ___@#$%^")]})).obj(), {"foo": "bar"}, POD_REASON),
    ("an invalid term does not stop a valid one from matching", make_pod().node_affinity(_required(
        {"matchExpressions": [_expr("foo", "Gt", "abc")]},
        {"matchExpressions": [_expr("foo", "In", "bar")]})).obj(), {"foo": "bar"}, None),
    ("matchFields on the node name matches that node", make_pod().node_affinity(_required(
        {"matchFields": [_name_in("node1")]})).obj(), {}, None),
    ("matchFields on another node name does not match", make_pod().node_affinity(_required(
        {"matchFields": [_name_in("node2")]})).obj(), {}, POD_REASON),
    ("a matchExpressions term rescues a failing matchFields term", make_pod().node_affinity(_required(
        {"matchFields": [_name_in("node2")]}, {"matchExpressions": [_expr("foo", "In", "bar")]})).obj(),
     {"foo": "bar"}, None),
    ("matchFields and matchExpressions in one term must both match", make_pod().node_affinity(_required(
        {"matchFields": [_name_in("node1")], "matchExpressions": [_expr("foo", "In", "bar")]})).obj(),
     {"foo": "bar"}, None),
    ("matchFields with a key other than metadata.name matches nothing", make_pod().node_affinity(_required(
        {"matchFields": [{"key": "metadata.uid", "operator": "In", "values": ["x"]}]})).obj(), {}, POD_REASON),
]


@pytest.mark.parametrize("pod,labels,want", [c[1:] for c in FILTER_CASES], ids=[c[0] for c in FILTER_CASES])
def test_filter(pod, labels, want):
    plugin = na.new({}, None)
    ni = node_info(make_node().name("node1").labels(labels).obj())
    state = CycleState()
    _, pre = plugin.pre_filter(state, pod, [ni])
    assert pre.code in (Code.SUCCESS, Code.SKIP)
    status = plugin.filter(state, pod, ni)
    if want is None:
        assert status.ok
    else:
        assert status == want
    # Filter without PreFilter (state missing) decides the same
    assert plugin.filter(CycleState(), pod, ni).code == status.code


PRE_FILTER_CASES = [
    ("no affinity skips the plugin", make_pod().obj(), None, Code.SKIP),
    ("a nodeSelector alone restricts nothing", make_pod().node_selector({"a": "b"}).obj(), None, Code.SUCCESS),
    ("a term pinning a node name restricts the cycle to it",
     make_pod().node_affinity(_required({"matchFields": [_name_in("node1")]})).obj(), {"node1"}, Code.SUCCESS),
    ("pinning terms are ORed", make_pod().node_affinity(_required(
        {"matchFields": [_name_in("node1")]}, {"matchFields": [_name_in("node2")]})).obj(), {"node1", "node2"},
     Code.SUCCESS),
    ("a term without a node name allows every node", make_pod().node_affinity(_required(
        {"matchFields": [_name_in("node1")]}, {"matchExpressions": [_expr("foo", "Exists")]})).obj(), None,
     Code.SUCCESS),
    ("conflicting node names in one term are unresolvable", make_pod().node_affinity(_required(
        {"matchFields": [_name_in("node1"), _name_in("node2")]})).obj(), None, Code.UNSCHEDULABLE_AND_UNRESOLVABLE),
]


@pytest.mark.parametrize("pod,names,code", [c[1:] for c in PRE_FILTER_CASES], ids=[c[0] for c in PRE_FILTER_CASES])
def test_pre_filter_result(pod, names, code):
    result, status = na.new({}, None).pre_filter(CycleState(), pod, [])
    assert status.code is code
    if names is None:
        assert result is None
    else:
        assert result == PreFilterResult(names)
    if code is Code.UNSCHEDULABLE_AND_UNRESOLVABLE:
        assert status.reasons == ["pod affinity terms conflict"]


ADDED = {"addedAffinity": _required({"matchExpressions": [_expr("zone", "In", "foo")]})}

ADDED_CASES = [
    ("matching both the added affinity and the pod's", {"zone": "foo", "x": "y"}, None),
    ("matching the added affinity but not the pod's", {"zone": "foo"}, POD_REASON),
    ("not matching the added affinity", {"zone": "bar", "x": "y"}, ENFORCED_REASON),
]


@pytest.mark.parametrize("labels,want", [c[1:] for c in ADDED_CASES], ids=[c[0] for c in ADDED_CASES])
def test_added_affinity_is_enforced_for_every_pod(labels, want):
    plugin = na.new(ADDED, None)
    pod = make_pod().node_affinity(_required({"matchExpressions": [_expr("x", "Exists")]})).obj()
    ni = node_info(make_node().name("node1").labels(labels).obj())
    state = CycleState()
    plugin.pre_filter(state, pod, [ni])
    status = plugin.filter(state, pod, ni)
    assert status.ok if want is None else status == want


def test_added_affinity_applies_to_pods_without_affinity():
    plugin = na.new(ADDED, None)
    pod = make_pod().obj()
    state = CycleState()
    _, pre = plugin.pre_filter(state, pod, [])
    assert pre.ok  # not skipped: the added affinity must still be checked
    assert plugin.filter(state, pod, node_info(make_node().name("n").obj())) == ENFORCED_REASON


def test_invalid_added_affinity_is_refused():
    with pytest.raises(ValueError):
        na.new({"addedAffinity": _required({"matchExpressions": [_expr("zone", "Bogus", "x")]})}, None)


def _preferred(*weighted):
    return {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": w, "preference": {"matchExpressions": list(exprs)}} for w, exprs in weighted]}


AFFINITY1 = _preferred((2, [_expr("foo", "In", "bar")]))
AFFINITY2 = _preferred((2, [_expr("foo", "In", "bar")]), (4, [_expr("key", "In", "value")]),
                       (5, [_expr("foo", "In", "bar"), _expr("key", "In", "value"), _expr("az", "In", "az1")]))
LABEL1 = {"foo": "bar"}
LABEL2 = {"key": "value"}
LABEL3 = {"az": "az1"}
LABEL4 = {"abc": "az11", "def": "az22"}
LABEL5 = {"foo": "bar", "key": "value", "az": "az1"}

SCORE_CASES = [
    ("no preferred terms: every node is equal", None, [LABEL1, LABEL2, LABEL3], {}, [0, 0, 0]),
    ("no node matches the preferred terms", AFFINITY1, [LABEL4, LABEL2, LABEL3], {}, [0, 0, 0]),
    ("only node1 matches the preferred terms", AFFINITY1, [LABEL1, LABEL2, LABEL3], {}, [100, 0, 0]),
    ("weights add up and are normalized to the best node", AFFINITY2, [LABEL1, LABEL5, LABEL2], {}, [18, 100, 36]),
    ("added preferred terms add to the pod's", AFFINITY1, [LABEL1, LABEL2, LABEL5],
     {"addedAffinity": _preferred((3, [_expr("key", "In", "value")]))}, [40, 60, 100]),
    ("added preferred terms score pods without affinity", None, [LABEL1, LABEL2],
     {"addedAffinity": _preferred((3, [_expr("key", "In", "value")]))}, [0, 100]),
]


@pytest.mark.parametrize("affinity,node_labels,args,expected", [c[1:] for c in SCORE_CASES],
                         ids=[c[0] for c in SCORE_CASES])
def test_score_and_normalize(affinity, node_labels, args, expected):
    plugin = na.new(args, None)
    pod = make_pod().node_affinity(affinity).obj() if affinity else make_pod().obj()
    nodes = [node_info(make_node().name(f"node{i}").labels(lbl).obj()) for i, lbl in enumerate(node_labels)]
    state = CycleState()
    pre = plugin.pre_score(state, pod, nodes)
    if pre.code is Code.SKIP:
        scores = [NodeScore(n.name, 0) for n in nodes]
    else:
        assert pre.ok
        scores = [NodeScore(n.name, plugin.score(state, pod, n)[0]) for n in nodes]
        assert plugin.normalize_score(state, pod, scores).ok
    assert [s.score for s in scores] == expected


def test_invalid_preferred_terms_are_an_error_in_prescore():
    pod = make_pod().node_affinity(_preferred((1, [_expr("foo", "Gt", "x")]))).obj()
    status = na.new({}, None).pre_score(CycleState(), pod, [node_info(make_node().name("n").obj())])
    assert status.code is Code.ERROR


@pytest.mark.parametrize("expr,labels,expected", [
    (_expr("a", "In", "1", "2"), {"a": "2"}, True),
    (_expr("a", "In", "1"), {}, False),
    (_expr("a", "NotIn", "1"), {"a": "1"}, False),
    (_expr("a", "Exists"), {"a": ""}, True),
    (_expr("a", "DoesNotExist"), {}, True),
    (_expr("a", "Gt", "-5"), {"a": "-4"}, True),
    (_expr("a", "Lt", "10"), {"a": "10"}, False),
], ids=["In with one of the values", "In without the label", "NotIn with an excluded value",
        "Exists with an empty value", "DoesNotExist without the label", "Gt with negative numbers",
        "Lt is strict"])
def test_requirement_matching(expr, labels, expected):
    assert na.compile_requirement(expr).matches(labels) is expected


@pytest.mark.parametrize("expr", [
    _expr("a", "In"), _expr("a", "Exists", "x"), _expr("a", "Gt", "1", "2"), _expr("a", "Gt", "1.5"),
    _expr("", "Exists"), _expr("a", "Matches", "x"), _expr("a", "In", "bad value"),
], ids=["In without values", "Exists with values", "Gt with two values", "Gt with a non-integer",
        "an empty key", "an unknown operator", "an invalid label value"])
def test_invalid_requirements_are_refused(expr):
    with pytest.raises(ValueError):
        na.compile_requirement(expr)


def test_node_matches_uses_selector_and_affinity():
    pod = make_pod().node_selector({"a": "b"}).node_affinity_in("zone", ["z1"]).obj()
    assert na.node_matches(pod, make_node().name("n").labels({"a": "b", "zone": "z1"}).obj())
    assert not na.node_matches(pod, make_node().name("n").labels({"a": "b", "zone": "z2"}).obj())


@pytest.mark.parametrize("raw,reverse,expected", [
    ([1, 2, 4], False, [25, 50, 100]),
    ([1, 2, 4], True, [75, 50, 0]),
    ([0, 0], True, [100, 100]),
    ([0, 0], False, [0, 0]),
], ids=["scaled by the highest", "reversed", "all zero reversed gives the maximum", "all zero stays zero"])
def test_default_normalize_score(raw, reverse, expected):
    scores = [NodeScore(str(i), s) for i, s in enumerate(raw)]
    na.default_normalize_score(100, reverse, scores)
    assert [s.score for s in scores] == expected


def test_events_are_node_add_and_label_changes():
    events = {(e.resource, e.action) for e in na.new({}, None).events_to_register()}
    assert ("Node", "Add") in events and ("Node", "UpdateNodeLabel") in events
