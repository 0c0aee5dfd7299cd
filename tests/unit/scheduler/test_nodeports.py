"""NodePorts: upstream's node_ports_test.go table (hostIP/protocol/port conflicts with the
0.0.0.0 wildcard rules)."""

from __future__ import annotations

import pytest

from kubepy.scheduler.framework.interface import Code, CycleState, Status
from kubepy.scheduler.plugins import nodeports as np_
from kubepy.testing.scheduler_builders import make_node, make_pod, node_info

CONFLICT = Status(Code.UNSCHEDULABLE, ["node(s) didn't have free ports for the requested pod ports"], "NodePorts")


def _pod(name, *specs):
    """specs like "UDP/127.0.0.1/8080"."""
    ports = []
    for s in specs:
        proto, ip, port = s.split("/")
        ports.append({"protocol": proto, "hostIP": ip, "hostPort": int(port), "containerPort": int(port)})
    b = make_pod().name(name)
    return (b.container_port(ports) if ports else b).obj()


CASES = [
    ("nothing running and nothing wanted fits", [], [], None),
    ("another port on the same IP fits", ["UDP/127.0.0.1/8080"], ["UDP/127.0.0.1/9090"], None),
    ("the same UDP port conflicts", ["UDP/127.0.0.1/8080"], ["UDP/127.0.0.1/8080"], CONFLICT),
    ("the same TCP port conflicts", ["TCP/127.0.0.1/8080"], ["TCP/127.0.0.1/8080"], CONFLICT),
    ("the same port on another host IP fits", ["TCP/127.0.0.1/8080"], ["TCP/127.0.0.2/8080"], None),
    ("the same port with another protocol fits", ["UDP/127.0.0.1/8080"], ["TCP/127.0.0.1/8080"], None),
    ("the second of two wanted ports conflicting is enough", ["UDP/127.0.0.1/8000", "UDP/127.0.0.1/8080"],
     ["UDP/127.0.0.1/8080"], CONFLICT),
    ("the first of two wanted ports conflicting is enough", ["TCP/127.0.0.1/8001", "UDP/127.0.0.1/8080"],
     ["TCP/127.0.0.1/8001", "UDP/127.0.0.1/8081"], CONFLICT),
    ("a wanted 0.0.0.0 port conflicts with that port on a specific IP", ["TCP/0.0.0.0/8001"],
     ["TCP/127.0.0.1/8001"], CONFLICT),
    ("a wanted 0.0.0.0 port among others conflicts", ["TCP/10.0.10.10/8001", "TCP/0.0.0.0/8001"],
     ["TCP/127.0.0.1/8001"], CONFLICT),
    ("a port used on 0.0.0.0 conflicts with any wanted IP", ["TCP/127.0.0.1/8001"], ["TCP/0.0.0.0/8001"], CONFLICT),
    ("a 0.0.0.0 port of another protocol does not conflict", ["UDP/127.0.0.1/8001"], ["TCP/0.0.0.0/8001"], None),
    ("the UDP port on 0.0.0.0 conflicts beside a TCP one", ["UDP/127.0.0.1/8001"],
     ["TCP/0.0.0.0/8001", "UDP/0.0.0.0/8001"], CONFLICT),
]


@pytest.mark.parametrize("wanted,used,want", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_filter(wanted, used, want):
    plugin = np_.new({}, None)
    pod = _pod("p", *wanted)
    ni = node_info(make_node().name("n").obj(), _pod("existing", *used))
    state = CycleState()
    _, pre = plugin.pre_filter(state, pod, [ni])
    if not wanted:
        assert pre.code is Code.SKIP
        return
    assert pre.ok
    status = plugin.filter(state, pod, ni)
    assert status.ok if want is None else status == want


def test_defaults_empty_host_ip_and_protocol():
    pod = make_pod().container_port([{"hostPort": 80, "containerPort": 80}]).obj()
    assert np_.wanted_host_ports(pod) == [("0.0.0.0", "TCP", 80)]


def test_sidecar_init_containers_hold_ports_but_plain_init_containers_do_not():
    pod = (make_pod().init_container_port([{"hostPort": 81}], sidecar=True)
           .init_container_port([{"hostPort": 82}]).host_port(80).obj())
    assert np_.wanted_host_ports(pod) == [("0.0.0.0", "TCP", 81), ("0.0.0.0", "TCP", 80)]


def test_check_conflict_ignores_non_positive_ports():
    assert not np_.check_conflict({("0.0.0.0", "TCP", 0): 1}, "", "", 0)


def test_events_are_pod_deletion_and_node_changes():
    events = {(e.resource, e.action) for e in np_.new({}, None).events_to_register()}
    assert events == {("Pod", "Delete"), ("Node", "Add"), ("Node", "Update")}
