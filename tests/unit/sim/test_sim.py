"""kubepy.sim's pure parts: the Node it registers, pod IPs, and the status it reports for a pod."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from kubepy.sim import (
    NodeTemplate,
    PodIPAllocator,
    build_lease,
    build_node,
    fallback_pod_cidr,
    node_internal_ip,
    parse_labels,
    parse_taints,
    running_status,
)
from kubepy.sim.pods import PodPlayer, SimNode, slim_pod

NOW = "2025-01-01T00:00:00Z"


# -- flags ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, want", [
    ("", {}),
    ("a=b", {"a": "b"}),
    ("a=b, c=d", {"a": "b", "c": "d"}),
    ("example.com/role=db,empty=", {"example.com/role": "db", "empty": ""}),
], ids=["no labels", "one label", "two labels with spaces", "prefixed key and empty value"])
def test_parse_labels(text: str, want: dict[str, str]) -> None:
    assert parse_labels(text) == want


@pytest.mark.parametrize("text", ["novalue", "=v"], ids=["a label without = is refused", "an empty key is refused"])
def test_parse_labels_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_labels(text)


@pytest.mark.parametrize("text, want", [
    ("", []),
    ("dedicated=gpu:NoSchedule", [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]),
    ("spot:PreferNoSchedule,x=y:NoExecute", [{"key": "spot", "effect": "PreferNoSchedule"},
                                            {"key": "x", "value": "y", "effect": "NoExecute"}]),
    ("example.com/k=v:NoSchedule", [{"key": "example.com/k", "value": "v", "effect": "NoSchedule"}]),
], ids=["no taints", "key value and effect", "a taint without value and a second one", "prefixed key"])
def test_parse_taints(text: str, want: list[dict[str, str]]) -> None:
    assert parse_taints(text) == want


@pytest.mark.parametrize("text", ["k=v", "k=v:Sometimes", ":NoSchedule"],
                         ids=["a taint without effect is refused", "an unknown effect is refused",
                              "an empty key is refused"])
def test_parse_taints_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_taints(text)


# -- the Node ------------------------------------------------------------------------------------

def test_node_has_capacity_ready_conditions_addresses_and_node_info() -> None:
    t = NodeTemplate(cpu="8", memory="64Gi", pods="50")
    node = build_node(t, 7, NOW)
    assert node["metadata"]["name"] == "sim-node-7"
    status = node["status"]
    want = {"cpu": "8", "memory": "64Gi", "pods": "50", "ephemeral-storage": "1Ti"}
    assert status["capacity"] == want and status["allocatable"] == want
    conds = {c["type"]: c["status"] for c in status["conditions"]}
    assert conds == {"Ready": "True", "MemoryPressure": "False", "DiskPressure": "False", "PIDPressure": "False"}
    assert {"type": "Hostname", "address": "sim-node-7"} in status["addresses"]
    assert {"type": "InternalIP", "address": node_internal_ip(7)} in status["addresses"]
    assert status["nodeInfo"]["kubeletVersion"] == "v1.32.0"
    assert status["nodeInfo"]["operatingSystem"] == "linux"
    assert "taints" not in node["spec"]


@pytest.mark.parametrize("zones, index, want", [
    (3, 0, "zone-0"), (3, 4, "zone-1"), (3, 5, "zone-2"), (1, 9, "zone-0"), (0, 1, None),
], ids=["first node in the first zone", "fifth node wraps to the second zone", "sixth node in the third zone",
        "one zone holds every node", "zones 0 sets no zone label"])
def test_node_zone_spread(zones: int, index: int, want: str | None) -> None:
    labels = build_node(NodeTemplate(zones=zones), index, NOW)["metadata"]["labels"]
    assert labels.get("topology.kubernetes.io/zone") == want
    assert labels["kubernetes.io/hostname"] == f"sim-node-{index}"


def test_node_extra_labels_override_and_taints_are_copied() -> None:
    taints = parse_taints("a=b:NoSchedule")
    t = NodeTemplate(name_prefix="n-", labels={"role": "db", "topology.kubernetes.io/zone": "z"}, taints=taints)
    node = build_node(t, 1, NOW)
    assert node["metadata"]["labels"]["role"] == "db"
    assert node["metadata"]["labels"]["topology.kubernetes.io/zone"] == "z"
    assert node["spec"]["taints"] == [{"key": "a", "value": "b", "effect": "NoSchedule"}]
    node["spec"]["taints"][0]["key"] = "changed"
    assert taints[0]["key"] == "a"  # each node gets its own copy


def test_nodes_get_distinct_internal_ips() -> None:
    ips = {node_internal_ip(i) for i in range(5000)}
    assert len(ips) == 5000
    assert all(ipaddress.ip_address(ip) in ipaddress.ip_network("172.16.0.0/12") for ip in ips)


def test_lease_names_its_node_as_holder() -> None:
    lease = build_lease("n1", "2025-01-01T00:00:00.000000Z", 40)
    assert lease["metadata"] == {"name": "n1", "namespace": "kube-node-lease"}
    assert lease["spec"]["holderIdentity"] == "n1" and lease["spec"]["leaseDurationSeconds"] == 40


# -- pod CIDRs and IPs -----------------------------------------------------------------------------

@pytest.mark.parametrize("index, want", [
    (0, "10.244.0.0/24"), (255, "10.244.255.0/24"), (256, "10.245.0.0/24"), (4999, "10.7.135.0/24"),
], ids=["node 0 gets the first /24", "node 255 the last /24 of 10.244/16", "node 256 moves on to 10.245/16",
        "node 4999 wraps past 10.255 within 10/8"])
def test_fallback_pod_cidr(index: int, want: str) -> None:
    assert fallback_pod_cidr(index) == want


def test_fallback_pod_cidrs_are_distinct_for_5000_nodes() -> None:
    assert len({fallback_pod_cidr(i) for i in range(5000)}) == 5000


def test_allocator_skips_network_and_gateway_and_reuses_only_after_wrapping() -> None:
    a = PodIPAllocator("10.244.3.0/29")  # .2 .. .6 usable
    got = [a.allocate() for _ in range(3)]
    assert got == ["10.244.3.2", "10.244.3.3", "10.244.3.4"]
    a.release("10.244.3.2")
    assert a.allocate() == "10.244.3.5"
    assert a.allocate() == "10.244.3.6"
    assert a.allocate() == "10.244.3.2"  # wrapped: the freed address comes back
    with pytest.raises(RuntimeError):
        a.allocate()


def test_allocator_reserves_addresses_in_use_and_ignores_foreign_ones() -> None:
    a = PodIPAllocator("10.244.0.0/24")
    assert a.reserve("10.244.0.2")
    assert not a.reserve("10.9.9.9")
    assert a.allocate() == "10.244.0.3"
    assert a.in_use == 2 and a.capacity == 253


def test_sim_node_follows_ipam_cidr_until_it_has_pods() -> None:
    node = SimNode(name="n", index=0, host_ip="172.16.0.1", fallback_cidr="10.244.0.0/24")
    assert node.ip_allocator().cidr == "10.244.0.0/24"
    node.pod_cidr = "10.100.5.0/24"
    alloc = node.ip_allocator()
    assert alloc.cidr == "10.100.5.0/24"
    alloc.allocate()
    node.pod_cidr = "10.100.6.0/24"
    assert node.ip_allocator() is alloc  # pods hold addresses: the block stays


# -- the pod status ------------------------------------------------------------------------------

def pod(**spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": "p", "namespace": "ns", "uid": "u1"},
            "spec": {"nodeName": "n", "containers": [{"name": "a", "image": "img-a"}, {"name": "b", "image": "img-b"}],
                     **spec},
            "status": {"phase": "Pending", "qosClass": "BestEffort",
                       "conditions": [{"type": "PodScheduled", "status": "True", "lastTransitionTime": "T0"}]}}


def test_running_status_reports_phase_ips_conditions_and_containers() -> None:
    st = running_status(pod(), pod_ip="10.244.0.2", host_ip="172.16.0.1", now=NOW)
    assert st["phase"] == "Running"
    assert st["podIP"] == "10.244.0.2" and st["podIPs"] == [{"ip": "10.244.0.2"}]
    assert st["hostIP"] == "172.16.0.1" and st["hostIPs"] == [{"ip": "172.16.0.1"}]
    assert st["startTime"] == NOW
    conds = {c["type"]: c for c in st["conditions"]}
    assert {k: c["status"] for k, c in conds.items()} == {
        "PodReadyToStartContainers": "True", "Initialized": "True", "Ready": "True", "ContainersReady": "True",
        "PodScheduled": "True"}
    assert conds["PodScheduled"]["lastTransitionTime"] == "T0"  # unchanged condition keeps its time
    assert conds["Ready"]["lastTransitionTime"] == NOW
    assert [(c["name"], c["image"], c["ready"], "running" in c["state"]) for c in st["containerStatuses"]] == [
        ("a", "img-a", True, True), ("b", "img-b", True, True)]
    assert "initContainerStatuses" not in st


def test_running_status_completes_init_containers_and_runs_sidecars() -> None:
    st = running_status(pod(initContainers=[{"name": "init", "image": "i"},
                                            {"name": "side", "image": "s", "restartPolicy": "Always"}]),
                        pod_ip="10.244.0.2", host_ip="h", now=NOW)
    init, side = st["initContainerStatuses"]
    assert init["state"]["terminated"]["exitCode"] == 0 and init["state"]["terminated"]["reason"] == "Completed"
    assert "running" in side["state"] and side["started"] is True


@pytest.mark.parametrize("gate_status, want_ready", [(None, "False"), ("False", "False"), ("True", "True")],
                         ids=["a readiness gate without its condition keeps the pod not Ready",
                              "a false gate condition keeps the pod not Ready",
                              "a true gate condition lets the pod be Ready"])
def test_running_status_honours_readiness_gates(gate_status: str | None, want_ready: str) -> None:
    p = pod(readinessGates=[{"conditionType": "example.com/lb"}])
    if gate_status is not None:
        p["status"]["conditions"].append({"type": "example.com/lb", "status": gate_status})
    st = running_status(p, pod_ip="10.244.0.2", host_ip="h", now=NOW)
    conds = {c["type"]: c["status"] for c in st["conditions"]}
    assert conds["Ready"] == want_ready
    assert conds.get("example.com/lb") == gate_status  # foreign conditions are carried over


def test_running_status_keeps_an_earlier_start_time() -> None:
    p = pod()
    p["status"]["startTime"] = "2024-12-31T00:00:00Z"
    assert running_status(p, pod_ip="x", host_ip="h", now=NOW)["startTime"] == "2024-12-31T00:00:00Z"


@pytest.mark.parametrize("p", [
    pod(),
    pod(initContainers=[{"name": "i", "image": "x", "command": ["sh"]}, {"name": "s", "image": "y",
                                                                          "restartPolicy": "Always"}]),
    pod(readinessGates=[{"conditionType": "g"}]),
], ids=["plain pod", "pod with an init container and a sidecar", "pod with a readiness gate"])
def test_slim_pod_keeps_all_the_status_depends_on(p: dict[str, Any]) -> None:
    p["spec"]["containers"][0]["resources"] = {"requests": {"cpu": "1"}}
    assert running_status(slim_pod(p), pod_ip="i", host_ip="h", now=NOW) == running_status(
        p, pod_ip="i", host_ip="h", now=NOW)
    assert "resources" not in slim_pod(p)["spec"]["containers"][0]


# -- the pod player's bookkeeping (no API calls: workers are not started) -------------------------

class _NoClient:
    @staticmethod
    def resource(api_version: str, plural: str) -> Any:
        return (api_version, plural)


def _player() -> PodPlayer:
    nodes = {"n": SimNode(name="n", index=0, host_ip="172.16.0.1", fallback_cidr="10.244.0.0/24")}
    return PodPlayer(_NoClient(), nodes)  # type: ignore[arg-type]


@pytest.mark.parametrize("obj, queued", [
    (pod(), True),
    ({**pod(), "spec": {"nodeName": "other", "containers": []}}, False),
    ({**pod(), "status": {"phase": "Running", "podIP": "10.244.0.9"}}, False),
    ({**pod(), "metadata": {"name": "p", "namespace": "ns", "uid": "u1", "deletionTimestamp": NOW}}, True),
], ids=["a pending pod on our node is queued to start", "a pod on another node is ignored",
        "a pod already running is only remembered", "a pod being deleted is queued for its final delete"])
async def test_player_queues_what_needs_doing(obj: dict[str, Any], queued: bool) -> None:
    player = _player()
    player.add(obj)
    assert (player.backlog == 1) is queued


async def test_player_queues_a_key_once_and_reserves_running_pods_ips() -> None:
    player = _player()
    player.add(pod())
    player.update(pod())
    assert player.backlog == 1 and player._queue.qsize() == 1
    running = {**pod(), "metadata": {"name": "q", "namespace": "ns", "uid": "u2"},
               "status": {"phase": "Running", "podIP": "10.244.0.2"}}
    player.add(running)
    assert player.pod_ip("ns/q") == "10.244.0.2"
    assert player.nodes["n"].ip_allocator().allocate() == "10.244.0.3"
    player.delete(running)
    assert player.pod_ip("ns/q") == "" and len(player) == 1
    assert player.nodes["n"].ip_allocator().in_use == 1  # q's address was released


async def test_player_replace_forgets_pods_that_vanished() -> None:
    player = _player()
    player.add(pod())
    player.replace([], "5")
    assert len(player) == 0 and player.backlog == 0
