"""Strategies: status reset and zero-valued required status fields, QoS, generation."""

import pytest

from kubepy.api.resources import Registry
from kubepy.apiserver.registry.pods import PodStrategy, qos_class
from kubepy.apiserver.registry.strategy import Strategy, required_status_zeroes

REG = Registry()


def info(group: str, plural: str):
    i = REG.get(group, "v1", plural)
    assert i is not None
    return i


@pytest.mark.parametrize(
    "schema,want",
    [
        ("io.k8s.api.apps.v1.ReplicaSet", {"replicas": 0}),
        ("io.k8s.api.apps.v1.DaemonSet", {"currentNumberScheduled": 0, "numberMisscheduled": 0,
                                          "desiredNumberScheduled": 0, "numberReady": 0}),
        ("io.k8s.api.apps.v1.Deployment", {}),
    ],
    ids=["a replica set status always has replicas", "a daemon set status has its four counters",
         "a deployment status starts empty"],
)
def test_new_objects_get_the_status_fields_go_always_serialises(schema, want):
    assert required_status_zeroes(schema) == want


def res(cpu_req=None, mem_req=None, cpu_lim=None, mem_lim=None):
    r: dict = {}
    if cpu_req or mem_req:
        r["requests"] = {k: v for k, v in (("cpu", cpu_req), ("memory", mem_req)) if v}
    if cpu_lim or mem_lim:
        r["limits"] = {k: v for k, v in (("cpu", cpu_lim), ("memory", mem_lim)) if v}
    return {"containers": [{"name": "c", "image": "i", "resources": r}]}


@pytest.mark.parametrize(
    "spec,want",
    [
        (res(), "BestEffort"),
        (res(cpu_req="100m"), "Burstable"),
        (res(cpu_req="1", mem_req="1Gi", cpu_lim="1", mem_lim="1Gi"), "Guaranteed"),
        (res(cpu_lim="1", mem_lim="1Gi", cpu_req="500m", mem_req="1Gi"), "Burstable"),
    ],
    ids=["no resources is best effort", "requests only is burstable", "equal limits is guaranteed",
         "requests below limits is burstable"],
)
def test_qos_class_follows_upstream(spec, want):
    assert qos_class(spec) == want


def test_pods_start_pending_with_their_qos_class():
    pod = {"metadata": {}, "spec": res(), "status": {"phase": "Running"}}
    PodStrategy(info("", "pods")).prepare_for_create(pod)
    assert pod["status"] == {"phase": "Pending", "qosClass": "BestEffort"}


def test_generation_bumps_on_spec_change_only():
    s = Strategy(info("apps", "deployments"))
    old = {"metadata": {"generation": 3}, "spec": {"replicas": 1}, "status": {"replicas": 1}}
    same = {"metadata": {"labels": {"a": "b"}}, "spec": {"replicas": 1}, "status": {}}
    s.prepare_for_update(same, old)
    assert same["metadata"]["generation"] == 3 and same["status"] == {"replicas": 1}
    changed = {"metadata": {}, "spec": {"replicas": 2}}
    s.prepare_for_update(changed, old)
    assert changed["metadata"]["generation"] == 4


def test_status_updates_keep_spec_and_metadata():
    s = Strategy(info("apps", "deployments"))
    old = {"metadata": {"generation": 2, "labels": {"a": "b"}}, "spec": {"replicas": 1}, "status": {}}
    new = {"metadata": {"labels": {"x": "y"}}, "spec": {"replicas": 9}, "status": {"replicas": 1}}
    s.prepare_for_status_update(new, old)
    assert new["spec"] == {"replicas": 1}
    assert new["metadata"]["labels"] == {"a": "b"}
    assert new["status"] == {"replicas": 1}


def test_a_node_keeps_the_status_it_registers_with():
    from kubepy.apiserver.registry.nodes import NodeStrategy

    node = {"metadata": {}, "spec": {}, "status": {"capacity": {"cpu": "4"}, "conditions": [{"type": "Ready"}]}}
    NodeStrategy(info("", "nodes")).prepare_for_create(node)
    assert node["status"] == {"capacity": {"cpu": "4"}, "conditions": [{"type": "Ready"}]}


def test_other_kinds_start_with_a_reset_status():
    dep = {"metadata": {}, "spec": {"replicas": 1}, "status": {"replicas": 9}}
    Strategy(info("apps", "deployments")).prepare_for_create(dep)
    assert dep["status"] == {}
