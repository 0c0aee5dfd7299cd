"""TaintToleration: upstream's taint_toleration_test.go filter and score tables (1.32 reasons)."""

from __future__ import annotations

import pytest

from kubepy.scheduler.framework.interface import Code, CycleState, NodeScore, Status
from kubepy.scheduler.plugins import tainttoleration as tt
from kubepy.testing.scheduler_builders import make_node, make_pod, node_info


def _pod(tolerations):
    return make_pod().name("pod1").tolerations(tolerations).obj()


def _node(name, taints):
    return node_info(make_node().name(name).taints(taints).obj())


def _reason(key, value):
    return Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, [f"node(s) had untolerated taint {{{key}: {value}}}"],
                  "TaintToleration")


DEDICATED_USER1 = {"key": "dedicated", "value": "user1", "effect": "NoSchedule"}

FILTER_CASES = [
    ("a pod without tolerations cannot land on a tainted node", [], [DEDICATED_USER1], _reason("dedicated", "user1")),
    ("a toleration with the same key, value and effect tolerates the taint",
     [{"key": "dedicated", "value": "user1", "effect": "NoSchedule"}], [DEDICATED_USER1], None),
    ("a toleration for another value does not tolerate the taint",
     [{"key": "dedicated", "operator": "Equal", "value": "user2", "effect": "NoSchedule"}], [DEDICATED_USER1],
     _reason("dedicated", "user1")),
    ("an Exists toleration tolerates any value",
     [{"key": "foo", "operator": "Exists", "effect": "NoSchedule"}],
     [{"key": "foo", "value": "bar", "effect": "NoSchedule"}], None),
    ("every taint tolerated by one of several tolerations",
     [{"key": "dedicated", "operator": "Equal", "value": "user2", "effect": "NoSchedule"},
      {"key": "foo", "operator": "Exists", "effect": "NoSchedule"}],
     [{"key": "dedicated", "value": "user2", "effect": "NoSchedule"},
      {"key": "foo", "value": "bar", "effect": "NoSchedule"}], None),
    ("a toleration with another non-empty effect does not tolerate",
     [{"key": "foo", "operator": "Equal", "value": "bar", "effect": "PreferNoSchedule"}],
     [{"key": "foo", "value": "bar", "effect": "NoSchedule"}], _reason("foo", "bar")),
    ("a toleration with an empty effect tolerates every effect",
     [{"key": "foo", "operator": "Equal", "value": "bar"}], [{"key": "foo", "value": "bar", "effect": "NoSchedule"}],
     None),
    ("PreferNoSchedule taints never filter a node",
     [{"key": "dedicated", "operator": "Equal", "value": "user2", "effect": "NoSchedule"}],
     [{"key": "dedicated", "value": "user1", "effect": "PreferNoSchedule"}], None),
    ("a NoExecute taint filters too", [], [{"key": "gone", "effect": "NoExecute"}], _reason("gone", "")),
    ("an empty key with Exists tolerates everything", [{"operator": "Exists"}],
     [{"key": "a", "value": "b", "effect": "NoExecute"}], None),
    ("the first untolerated taint is the one reported", [{"key": "a", "operator": "Exists"}],
     [{"key": "a", "effect": "NoSchedule"}, {"key": "b", "value": "2", "effect": "NoSchedule"},
      {"key": "c", "value": "3", "effect": "NoSchedule"}], _reason("b", "2")),
]


@pytest.mark.parametrize("tolerations,taints,want", [c[1:] for c in FILTER_CASES], ids=[c[0] for c in FILTER_CASES])
def test_filter(tolerations, taints, want):
    status = tt.new({}, None).filter(CycleState(), _pod(tolerations), _node("nodeA", taints))
    if want is None:
        assert status.ok
    else:
        assert status == want


def _pns(key, value):
    return {"key": key, "value": value, "effect": "PreferNoSchedule"}


SCORE_CASES = [
    ("a node whose taints are tolerated scores higher than one with intolerable taints",
     [{"key": "foo", "operator": "Equal", "value": "bar", "effect": "PreferNoSchedule"}],
     [[_pns("foo", "bar")], [_pns("foo", "blah")]], [100, 0]),
    ("tolerated taints do not count, however many there are",
     [{"key": "cpu-type", "operator": "Equal", "value": "arm64", "effect": "PreferNoSchedule"},
      {"key": "disk-type", "operator": "Equal", "value": "ssd", "effect": "PreferNoSchedule"}],
     [[], [_pns("cpu-type", "arm64")], [_pns("cpu-type", "arm64"), _pns("disk-type", "ssd")]], [100, 100, 100]),
    ("the more intolerable taints a node has the lower it scores",
     [{"key": "foo", "operator": "Equal", "value": "bar", "effect": "PreferNoSchedule"}],
     [[], [_pns("cpu-type", "arm64")], [_pns("cpu-type", "arm64"), _pns("disk-type", "ssd")]], [100, 50, 0]),
    ("only PreferNoSchedule taints and tolerations matter for scoring",
     [{"key": "cpu-type", "operator": "Equal", "value": "arm64", "effect": "NoSchedule"},
      {"key": "disk-type", "operator": "Equal", "value": "ssd", "effect": "NoSchedule"}],
     [[], [{"key": "cpu-type", "value": "arm64", "effect": "NoSchedule"}],
      [_pns("cpu-type", "arm64"), _pns("disk-type", "ssd")]], [100, 100, 0]),
    ("without tolerations the untainted node wins", [], [[], [_pns("cpu-type", "arm64")]], [100, 0]),
]


@pytest.mark.parametrize("tolerations,node_taints,expected", [c[1:] for c in SCORE_CASES],
                         ids=[c[0] for c in SCORE_CASES])
def test_score_and_normalize(tolerations, node_taints, expected):
    plugin = tt.new({}, None)
    pod = _pod(tolerations)
    nodes = [_node(f"node{i}", t) for i, t in enumerate(node_taints)]
    state = CycleState()
    assert plugin.pre_score(state, pod, nodes).ok
    scores = []
    for ni in nodes:
        score, status = plugin.score(state, pod, ni)
        assert status.ok
        scores.append(NodeScore(ni.name, score))
    assert plugin.normalize_score(state, pod, scores).ok
    assert [s.score for s in scores] == expected


def test_score_without_prescore_state_is_an_error():
    _, status = tt.new({}, None).score(CycleState(), _pod([]), _node("n", [_pns("a", "b")]))
    assert status.code is Code.ERROR


@pytest.mark.parametrize("toleration,taint,expected", [
    ({"key": "k", "operator": "Exists"}, {"key": "k", "value": "v", "effect": "NoSchedule"}, True),
    ({"key": "k", "value": "v"}, {"key": "k", "value": "v", "effect": "NoExecute"}, True),
    ({"key": "k", "value": "v", "operator": "Equal"}, {"key": "k", "value": "w", "effect": "NoSchedule"}, False),
    ({"key": "k", "operator": "Exists", "effect": "NoExecute"}, {"key": "k", "effect": "NoSchedule"}, False),
    ({"key": "other", "operator": "Exists"}, {"key": "k", "effect": "NoSchedule"}, False),
    ({"operator": "Exists"}, {"key": "anything", "effect": "PreferNoSchedule"}, True),
    ({"key": "k", "operator": "Gt", "value": "1"}, {"key": "k", "value": "5", "effect": "NoSchedule"}, False),
], ids=["Exists ignores the value", "an empty operator means Equal", "Equal compares values",
        "a different effect does not tolerate", "a different key does not tolerate",
        "an empty key with Exists tolerates all", "an unknown operator tolerates nothing"])
def test_tolerates(toleration, taint, expected):
    assert tt.tolerates(toleration, taint) is expected


def test_find_untolerated_taint_honours_the_effects_filter():
    taints = [{"key": "a", "effect": "PreferNoSchedule"}, {"key": "b", "effect": "NoSchedule"}]
    assert tt.find_untolerated_taint(taints, [], {"NoSchedule"}) == {"key": "b", "effect": "NoSchedule"}
    assert tt.find_untolerated_taint(taints, [], None) == {"key": "a", "effect": "PreferNoSchedule"}
    assert tt.find_untolerated_taint(taints, [{"operator": "Exists"}], None) is None


def test_events_are_node_add_and_taint_changes():
    events = {(e.resource, e.action) for e in tt.new({}, None).events_to_register()}
    assert events == {("Node", "Add"), ("Node", "UpdateNodeTaint"), ("Node", "UpdateNodeLabel")}
