"""The node lifecycle controller: heartbeats, Unknown conditions, taints, disruption mode, eviction."""

from __future__ import annotations

from typing import Any

import pytest

from kubepy.client import FakeClock, InformerFactory, micro_time
from kubepy.client.fake import FakeClient
from kubepy.controllers.context import ControllerContext
from kubepy.controllers.nodelifecycle import (
    NOT_READY,
    UNREACHABLE,
    NodeLifecycleController,
    matching_tolerations,
    min_toleration_seconds,
    tolerates,
    zone_state,
)
from tests.unit.controllers.test_endpoints import Recorder

GRACE = 3.0


def node(name: str, ready: str = "True", *, heartbeat: str = "2024-05-01T09:00:00Z",
         taints: list[dict[str, Any]] | None = None, zone: str | None = None) -> dict[str, Any]:
    labels = {"topology.kubernetes.io/zone": zone} if zone else {}
    obj: dict[str, Any] = {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "uid": f"uid-{name}", "labels": labels, "creationTimestamp": "2024-05-01T08:00:00Z"},
        "spec": {},
        "status": {"conditions": [{"type": "Ready", "status": ready, "reason": "KubeletReady", "message": "ok",
                                   "lastHeartbeatTime": heartbeat, "lastTransitionTime": heartbeat}]},
    }
    if taints:
        obj["spec"]["taints"] = taints
    return obj


def lease(name: str, renew: float) -> dict[str, Any]:
    return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": name, "namespace": "kube-node-lease"},
            "spec": {"holderIdentity": name, "leaseDurationSeconds": 40, "renewTime": micro_time(renew)}}


def pod(name: str, node_name: str, *, tolerations: list[dict[str, Any]] | None = None,
        ready: bool = True) -> dict[str, Any]:
    spec: dict[str, Any] = {"nodeName": node_name, "containers": [{"name": "c", "image": "x"}]}
    if tolerations:
        spec["tolerations"] = tolerations
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}"},
            "spec": spec, "status": {"phase": "Running", "conditions": [
                {"type": "Ready", "status": "True" if ready else "False"}]}}


class Harness:
    def __init__(self, *objs: dict[str, Any], **options: Any) -> None:
        self.clock = FakeClock()
        self.fake = FakeClient()
        self.rec = Recorder()
        self.ctl = NodeLifecycleController(ControllerContext(
            client=self.fake, informers=InformerFactory(self.fake),  # type: ignore[arg-type]
            recorder=self.rec, clock=self.clock,  # type: ignore[arg-type]
            options={"node_monitor_grace_period": GRACE, "node_monitor_period": 1.0, **options}))
        for o in objs:
            self.fake.seed(o)
        self.refresh()

    def informer_for(self, plural: str) -> Any:
        return {"nodes": self.ctl.nodes, "pods": self.ctl.pods, "leases": self.ctl.leases}[plural]

    def refresh(self) -> None:
        """Play the informers: the caches become what the fake server holds (with events)."""
        for plural in ("nodes", "pods", "leases"):
            inf = self.informer_for(plural)
            held = {(o["metadata"].get("namespace", "") + "/" + o["metadata"]["name"]).lstrip("/"): o
                    for (_av, pl, _ns, _n), o in self.fake.objects.items() if pl == plural}
            for key, obj in list(inf.indexer.items()):
                if key not in held:
                    inf.indexer.delete(obj)
                    if plural == "pods":
                        self.ctl._pod_deleted(obj)
            for obj in held.values():
                old = inf.indexer.add(obj)
                if plural == "nodes":
                    self.ctl._node_added(obj) if old is None else self.ctl._node_updated(old, obj)
                elif plural == "pods":
                    self.ctl._pod_changed(obj) if old is None else self.ctl._pod_updated(old, obj)

    async def drain(self) -> None:
        for _ in range(20):
            if not len(self.ctl.queue):
                return
            while len(self.ctl.queue):
                key = await self.ctl.queue.get()
                try:
                    await self.ctl.sync(key)
                finally:
                    self.ctl.queue.done(key)
            self.refresh()

    async def pass_(self, advance: float = 0.0) -> None:
        self.clock.advance(advance)
        await self.clock.settle()
        await self.ctl.monitor_node_health()
        self.refresh()
        await self.drain()

    def node(self, name: str) -> dict[str, Any]:
        obj = self.fake.get_object("v1", "nodes", "", name)
        assert obj is not None
        return obj

    def taints(self, name: str) -> set[tuple[str, str]]:
        return {(t["key"], t["effect"]) for t in self.node(name)["spec"].get("taints") or ()}

    def conditions(self, name: str) -> dict[str, tuple[str, str]]:
        return {c["type"]: (c["status"], c.get("reason", "")) for c in self.node(name)["status"]["conditions"]}

    def pods(self) -> set[str]:
        return {n for (_av, pl, _ns, n) in self.fake.objects if pl == "pods"}


async def test_a_node_with_a_renewed_lease_stays_healthy() -> None:
    h = Harness(node("n1"), lease("n1", 0))
    await h.pass_()
    for i in range(1, 6):
        h.fake.seed(lease("n1", float(i)))
        h.refresh()
        await h.pass_(advance=2.0)
    assert h.fake.writes("update", "nodes") == []
    assert h.conditions("n1")["Ready"] == ("True", "KubeletReady")


async def test_silence_within_the_grace_period_changes_nothing() -> None:
    h = Harness(node("n1"), node("n2"), lease("n1", 0))
    await h.pass_()
    await h.pass_(advance=GRACE)
    assert h.fake.writes("update", "nodes") == []


async def test_a_silent_node_gets_unknown_conditions_after_the_grace_period() -> None:
    h = Harness(node("n1"), lease("n1", 0))
    await h.pass_()
    await h.pass_(advance=GRACE + 0.5)
    conds = h.conditions("n1")
    assert conds["Ready"] == ("Unknown", "NodeStatusUnknown")
    assert conds["MemoryPressure"] == ("Unknown", "NodeStatusNeverUpdated")
    assert set(conds) == {"Ready", "MemoryPressure", "DiskPressure", "PIDPressure"}
    ready = next(c for c in h.node("n1")["status"]["conditions"] if c["type"] == "Ready")
    assert ready["message"] == "Kubelet stopped posting node status."
    assert ready["lastHeartbeatTime"] == "2024-05-01T09:00:00Z"
    assert ("n1", "Normal", "NodeNotReady", "Node n1 status is now: NodeNotReady") in h.rec.events


async def test_an_unreachable_node_gets_unreachable_taints_and_its_pods_are_evicted() -> None:
    h = Harness(node("n1"), node("n2"), lease("n1", 0), pod("p", "n1"), pod("q", "n2"))
    await h.pass_()
    h.fake.seed(lease("n2", 5.0))  # n2 stays alive
    h.refresh()
    await h.pass_(advance=GRACE + 0.5)
    assert h.taints("n1") == {(UNREACHABLE, "NoSchedule"), (UNREACHABLE, "NoExecute")}
    assert h.taints("n2") == set()
    assert h.pods() == {"q"}
    patches = [a for a in h.fake.writes("patch", "pods") if a.name == "p"]
    assert any(c["type"] == "DisruptionTarget" and c["reason"] == "DeletionByTaintManager"
               for a in patches for c in a.body["status"]["conditions"])
    assert ("p", "Warning", "NodeNotReady", "Node is not ready") in h.rec.events
    assert ("p", "Normal", "TaintManagerEviction", "Marking for deletion Pod default/p") in h.rec.events


async def test_when_every_node_is_down_nothing_is_tainted_no_execute() -> None:
    h = Harness(node("n1"), node("n2"), pod("p", "n1"))
    await h.pass_()
    await h.pass_(advance=GRACE + 0.5)
    assert h.conditions("n1")["Ready"][0] == "Unknown"
    assert h.taints("n1") == {(UNREACHABLE, "NoSchedule")}
    assert "p" in h.pods()


@pytest.mark.parametrize("ready, key", [("False", NOT_READY), ("Unknown", UNREACHABLE)],
                         ids=["a not ready node gets the not-ready taints", "an unknown node gets the unreachable taints"])
async def test_taint_follows_the_ready_condition(ready: str, key: str) -> None:
    h = Harness(node("n1", ready), node("n2"), lease("n1", 0), lease("n2", 0))
    await h.pass_()
    assert h.taints("n1") == {(key, "NoSchedule"), (key, "NoExecute")}
    assert all(t.get("timeAdded") for t in h.node("n1")["spec"]["taints"])


async def test_a_recovered_node_loses_its_taints() -> None:
    h = Harness(node("n1", "False"), node("n2"), lease("n1", 0), lease("n2", 0))
    await h.pass_()
    assert h.taints("n1")
    recovered = h.node("n1")
    recovered["status"] = node("n1", "True", heartbeat="2024-05-01T09:05:00Z")["status"]
    h.fake.objects[("v1", "nodes", "", "n1")] = recovered
    h.refresh()
    await h.pass_(advance=1.0)
    assert h.taints("n1") == set()


async def test_swapping_not_ready_for_unreachable_keeps_one_no_execute_taint() -> None:
    h = Harness(node("n1", "False"), node("n2"), node("n3"), lease("n1", 0), lease("n2", 0), lease("n3", 0))
    await h.pass_()
    for i in (2, 3):
        h.fake.seed(lease(f"n{i}", 9.0))
    h.refresh()
    await h.pass_(advance=GRACE + 0.5)
    assert h.taints("n1") == {(UNREACHABLE, "NoSchedule"), (UNREACHABLE, "NoExecute")}


async def test_no_execute_taints_are_rate_limited_per_zone() -> None:
    nodes = [node(f"n{i}", "False" if i < 2 else "True") for i in range(4)]
    h = Harness(*nodes, *(lease(f"n{i}", 0) for i in range(4)))
    await h.pass_()
    tainted = [n for n in ("n0", "n1") if (NOT_READY, "NoExecute") in h.taints(n)]
    assert len(tainted) == 1
    await h.pass_(advance=2.0)
    assert len([n for n in ("n0", "n1") if (NOT_READY, "NoExecute") in h.taints(n)]) == 1
    for i in range(4):
        h.fake.seed(lease(f"n{i}", 9.0))  # all alive, two of them reporting NotReady
    h.refresh()
    await h.pass_(advance=8.0)
    assert all((NOT_READY, "NoExecute") in h.taints(n) for n in ("n0", "n1"))


async def test_unschedulable_nodes_get_the_unschedulable_taint() -> None:
    n = node("n1")
    n["spec"]["unschedulable"] = True
    h = Harness(n, lease("n1", 0))
    await h.drain()
    assert h.taints("n1") == {("node.kubernetes.io/unschedulable", "NoSchedule")}


async def test_pods_tolerating_the_taint_for_a_while_are_evicted_after_that_while() -> None:
    taint = [{"key": NOT_READY, "effect": "NoExecute"}]
    tol = [{"key": NOT_READY, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 30}]
    h = Harness(node("n1", taints=taint), pod("p", "n1", tolerations=tol),
                pod("forever", "n1", tolerations=[{"operator": "Exists"}]))
    await h.drain()
    assert h.pods() == {"p", "forever"}
    assert h.ctl.queue.waiting == 1
    h.clock.advance(30)
    await h.clock.settle()
    await h.drain()
    assert h.pods() == {"forever"}


async def test_a_removed_taint_cancels_a_scheduled_eviction() -> None:
    taint = [{"key": "example.com/x", "effect": "NoExecute"}]
    tol = [{"key": "example.com/x", "operator": "Exists", "tolerationSeconds": 60}]
    h = Harness(node("n1", taints=taint), pod("p", "n1", tolerations=tol))
    await h.drain()
    clean = h.node("n1")
    clean["spec"].pop("taints")
    h.fake.objects[("v1", "nodes", "", "n1")] = clean
    h.refresh()
    await h.drain()
    h.clock.advance(61)
    await h.clock.settle()
    await h.drain()
    assert h.pods() == {"p"}
    assert ("p", "Normal", "TaintManagerEviction", "Cancelling deletion of Pod default/p") in h.rec.events


@pytest.mark.parametrize("toleration, taint, expected", [
    ({"key": "k", "operator": "Equal", "value": "v", "effect": "NoExecute"}, {"key": "k", "value": "v", "effect": "NoExecute"}, True),
    ({"key": "k", "value": "w"}, {"key": "k", "value": "v", "effect": "NoExecute"}, False),
    ({"key": "k", "operator": "Exists"}, {"key": "k", "value": "v", "effect": "NoExecute"}, True),
    ({"operator": "Exists"}, {"key": "any", "effect": "NoSchedule"}, True),
    ({"key": "k", "operator": "Exists", "effect": "NoSchedule"}, {"key": "k", "effect": "NoExecute"}, False),
    ({"key": "other", "operator": "Exists"}, {"key": "k", "effect": "NoExecute"}, False),
], ids=["equal key value and effect tolerate", "a different value does not tolerate",
        "exists tolerates any value", "an empty key with exists tolerates everything",
        "another effect does not tolerate", "another key does not tolerate"])
def test_tolerates(toleration: dict[str, Any], taint: dict[str, Any], expected: bool) -> None:
    assert tolerates(toleration, taint) is expected


@pytest.mark.parametrize("seconds, expected", [
    ([None], -1.0), ([30, 10], 10.0), ([None, 20], 20.0), ([0], 0.0), ([-5, 100], 0.0),
], ids=["no limit means never", "the shortest limit wins", "an unlimited toleration does not shorten",
        "zero means now", "a negative limit means now"])
def test_min_toleration_seconds(seconds: list[int | None], expected: float) -> None:
    used = [{"operator": "Exists", **({"tolerationSeconds": s} if s is not None else {})} for s in seconds]
    assert min_toleration_seconds(used) == expected


def test_an_untolerated_taint_means_not_all_tolerated() -> None:
    ok, used = matching_tolerations([{"key": "a", "effect": "NoExecute"}, {"key": "b", "effect": "NoExecute"}],
                                    [{"key": "a", "operator": "Exists"}])
    assert (ok, used) == (False, [])


@pytest.mark.parametrize("statuses, expected", [
    (["True", "True"], "Normal"),
    (["Unknown", "Unknown"], "FullDisruption"),
    (["True", "Unknown", "Unknown"], "Normal"),
    (["True", "Unknown", "Unknown", "False"], "PartialDisruption"),
    (["True", "True", "Unknown", "Unknown", "False"], "PartialDisruption"),
    (["True", "True", "True", "Unknown", "Unknown", "False"], "Normal"),
], ids=["all ready is normal", "none ready is full disruption", "two down of three is still normal",
        "three down of four is partial disruption", "three down of five (60%) is partial disruption",
        "three down of six (50%) is normal"])
def test_zone_state(statuses: list[str], expected: str) -> None:
    assert zone_state(statuses) == expected
