"""The scheduler cache: assumed pods (confirm, forget, expire), node order across zones, and
the incremental snapshot that clones only what changed."""

from __future__ import annotations

from typing import Any

import pytest

from kubepy.client.clock import FakeClock
from kubepy.scheduler.cache import Cache, CacheSnapshot
from kubepy.testing.scheduler_builders import make_node, make_pod

Obj = dict[str, Any]


def node(name: str, zone: str | None = None, **labels: str) -> Obj:
    b = make_node().name(name).capacity(cpu="4", memory="8Gi", pods="110")
    if zone:
        b = b.label("topology.kubernetes.io/zone", zone)
    for k, v in labels.items():
        b = b.label(k, v)
    return b.obj()


def pod(name: str, node_name: str, cpu: str = "1") -> Obj:
    return make_pod().name(name).uid(f"{name}-uid").node(node_name).req(cpu=cpu).obj()


def cache_with(*names: str, clock: FakeClock | None = None, ttl: float = 30.0) -> Cache:
    c = Cache(clock=clock or FakeClock(), ttl=ttl)
    for n in names:
        c.add_node(node(n))
    return c


def cpu_on(c: Cache, name: str) -> int:
    info = c.node_info(name)
    assert info is not None
    return info.requested.milli_cpu


def test_an_assumed_pod_counts_until_forgotten() -> None:
    c = cache_with("n1")
    p = pod("a", "n1")
    c.assume_pod(p)
    assert cpu_on(c, "n1") == 1000 and c.is_assumed_pod(p)
    with pytest.raises(ValueError):
        c.assume_pod(p)
    c.forget_pod(p)
    assert cpu_on(c, "n1") == 0 and not c.is_assumed_pod(p) and c.pod_count() == 0


def test_the_informer_confirms_an_assumed_pod() -> None:
    c = cache_with("n1")
    p = pod("a", "n1")
    c.assume_pod(p)
    bound = {**p, "metadata": {**p["metadata"], "resourceVersion": "7"}}
    c.add_pod(bound)
    assert not c.is_assumed_pod(p)
    assert c.get_pod(p) is bound and cpu_on(c, "n1") == 1000
    with pytest.raises(ValueError):
        c.forget_pod(p)  # a confirmed pod cannot be forgotten
    c.remove_pod(bound)
    assert cpu_on(c, "n1") == 0


def test_a_confirmation_on_another_node_moves_the_pod() -> None:
    c = cache_with("n1", "n2")
    c.assume_pod(pod("a", "n1"))
    c.add_pod(pod("a", "n2"))
    assert (cpu_on(c, "n1"), cpu_on(c, "n2")) == (0, 1000)


def test_assumed_pods_expire_only_after_binding_finished_and_the_ttl() -> None:
    clock = FakeClock()
    c = cache_with("n1", clock=clock, ttl=30)
    p = pod("a", "n1")
    c.assume_pod(p)
    clock.advance(100)
    assert c.cleanup_assumed_pods() == []  # binding still in progress
    c.finish_binding(p)
    clock.advance(29)
    assert c.cleanup_assumed_pods() == []
    clock.advance(2)
    assert c.cleanup_assumed_pods() == [p]
    assert cpu_on(c, "n1") == 0 and c.pod_count() == 0


def test_a_zero_ttl_never_expires() -> None:
    clock = FakeClock()
    c = cache_with("n1", clock=clock, ttl=0)
    p = pod("a", "n1")
    c.assume_pod(p)
    c.finish_binding(p)
    clock.advance(10_000)
    assert c.cleanup_assumed_pods() == [] and c.is_assumed_pod(p)


def test_pods_can_arrive_before_their_node() -> None:
    c = Cache(clock=FakeClock())
    c.add_pod(pod("a", "late"))
    snap = CacheSnapshot()
    c.update_snapshot(snap)
    assert snap.num_nodes() == 0  # a node-less entry is not shown
    c.add_node(node("late"))
    c.update_snapshot(snap)
    info = snap.get("late")
    assert info is not None and info.requested.milli_cpu == 1000


def test_snapshot_clones_only_changed_nodes() -> None:
    c = cache_with("n1", "n2", "n3")
    snap = CacheSnapshot()
    c.update_snapshot(snap)
    before = list(snap.node_infos())
    assert [ni.name for ni in before] == ["n1", "n2", "n3"]
    c.add_pod(pod("a", "n2"))
    c.update_snapshot(snap)
    after = snap.node_infos()
    assert after[0] is before[0] and after[2] is before[2]
    assert after[1] is not before[1] and after[1].requested.milli_cpu == 1000
    assert before[1].requested.milli_cpu == 0  # the old clone was not changed under a running cycle
    assert snap.get("n2") is after[1]
    c.update_snapshot(snap)
    assert snap.node_infos()[1] is after[1]  # nothing changed: nothing cloned


def test_snapshot_lists_nodes_round_robin_across_zones() -> None:
    c = Cache(clock=FakeClock())
    for name, zone in (("a1", "a"), ("a2", "a"), ("a3", "a"), ("b1", "b"), ("c1", "c"), ("b2", "b")):
        c.add_node(node(name, zone))
    snap = CacheSnapshot()
    c.update_snapshot(snap)
    assert [ni.name for ni in snap.node_infos()] == ["a1", "b1", "c1", "a2", "b2", "a3"]


def test_removed_nodes_leave_the_snapshot_and_a_zone_change_reorders() -> None:
    c = Cache(clock=FakeClock())
    for name, zone in (("a1", "a"), ("a2", "a"), ("b1", "b")):
        c.add_node(node(name, zone))
    snap = CacheSnapshot()
    c.update_snapshot(snap)
    c.add_pod(pod("p", "a1"))
    c.remove_node(node("a1", "a"))
    c.update_node(node("b1", "b"), node("b1", "a"))
    c.update_snapshot(snap)
    assert [ni.name for ni in snap.node_infos()] == ["a2", "b1"]
    assert snap.get("a1") is None
    assert c.pod_count() == 1  # the pod on the vanished node is still tracked


def test_heartbeats_do_not_touch_the_snapshot() -> None:
    c = cache_with("n1")
    snap = CacheSnapshot()
    c.update_snapshot(snap)
    first = snap.node_infos()[0]
    old = node("n1")
    beat = {**old, "status": {**old["status"], "conditions": [
        {"type": "Ready", "status": "True", "lastHeartbeatTime": "2024-01-01T00:00:10Z"}]}}
    later = {**beat, "status": {**beat["status"], "conditions": [
        {"type": "Ready", "status": "True", "lastHeartbeatTime": "2024-01-01T00:00:20Z"}]}}
    c.update_node(old, beat)  # a condition appears: relevant
    c.update_snapshot(snap)
    second = snap.node_infos()[0]
    assert second is not first
    c.update_node(beat, later)  # only the heartbeat time moved
    c.update_snapshot(snap)
    assert snap.node_infos()[0] is second


def test_affinity_lists_follow_the_pods() -> None:
    c = cache_with("n1", "n2")
    snap = CacheSnapshot()
    c.update_snapshot(snap)
    assert snap.have_pods_with_affinity() == [] and snap.have_pods_with_required_anti_affinity() == []
    anti = make_pod().name("anti").uid("anti").node("n2").pod_anti_affinity_exists("app", "kubernetes.io/hostname")\
        .obj()
    c.add_pod(anti)
    c.update_snapshot(snap)
    assert [ni.name for ni in snap.have_pods_with_affinity()] == ["n2"]
    assert [ni.name for ni in snap.have_pods_with_required_anti_affinity()] == ["n2"]
    c.add_pod(pod("plain", "n2"))
    c.update_snapshot(snap)
    assert snap.have_pods_with_affinity()[0] is snap.get("n2")  # the list holds the fresh clone
    c.remove_pod(anti)
    c.update_snapshot(snap)
    assert snap.have_pods_with_affinity() == [] and snap.have_pods_with_required_anti_affinity() == []


def test_updating_an_assigned_pod_recounts_it() -> None:
    c = cache_with("n1")
    small = pod("a", "n1", cpu="1")
    big = pod("a", "n1", cpu="3")
    c.add_pod(small)
    c.update_pod(small, big)
    assert cpu_on(c, "n1") == 3000
