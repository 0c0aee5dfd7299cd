"""Core and events.k8s.io Events are one stored object seen through two APIs, as upstream."""

from __future__ import annotations

import json

import pytest

from .conftest import Kubectl
from .httpclient import HTTPClient

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def api(apiserver) -> HTTPClient:  # type: ignore[no-untyped-def]
    return HTTPClient(apiserver.url, apiserver.kubeconfig)


def test_a_core_event_is_served_by_events_k8s_io_with_its_field_names(api: HTTPClient, kubectl: Kubectl) -> None:
    kubectl("create", "namespace", "ev1")
    api.ok("POST", "/api/v1/namespaces/ev1/events", body={
        "metadata": {"name": "pod-a.1"},
        "involvedObject": {"kind": "Pod", "namespace": "ev1", "name": "pod-a", "apiVersion": "v1"},
        "reason": "Pulled", "message": "image pulled", "type": "Normal", "count": 3,
        "source": {"component": "kubelet"}, "firstTimestamp": "2026-01-01T00:00:00Z",
        "lastTimestamp": "2026-01-01T00:01:00Z", "reportingComponent": "kubelet",
    })
    ev = api.ok("GET", "/apis/events.k8s.io/v1/namespaces/ev1/events/pod-a.1")
    assert ev["apiVersion"] == "events.k8s.io/v1" and ev["kind"] == "Event"
    assert ev["note"] == "image pulled"
    assert ev["regarding"]["name"] == "pod-a"
    assert ev["deprecatedCount"] == 3
    assert ev["deprecatedSource"] == {"component": "kubelet"}
    assert ev["reportingController"] == "kubelet"
    assert "message" not in ev and "involvedObject" not in ev
    listed = api.ok("GET", "/apis/events.k8s.io/v1/namespaces/ev1/events")
    assert [i["note"] for i in listed["items"]] == ["image pulled"]
    out = kubectl("events", "-n", "ev1")
    assert "Pulled" in out and "image pulled" in out and "Pod/pod-a" in out and "x3" in out


def test_an_events_k8s_io_event_shows_up_as_a_core_event(api: HTTPClient, kubectl: Kubectl) -> None:
    kubectl("create", "namespace", "ev2")
    api.ok("POST", "/apis/events.k8s.io/v1/namespaces/ev2/events", body={
        "metadata": {"name": "web.2"},
        "eventTime": "2026-01-01T00:00:00.000000Z",
        "reportingController": "example.com/ctl", "reportingInstance": "ctl-1",
        "action": "Scale", "reason": "Scaled", "note": "scaled to 3", "type": "Normal",
        "regarding": {"kind": "Deployment", "namespace": "ev2", "name": "web", "apiVersion": "apps/v1"},
    })
    core = api.ok("GET", "/api/v1/namespaces/ev2/events/web.2")
    assert core["apiVersion"] == "v1"
    assert core["message"] == "scaled to 3"
    assert core["involvedObject"]["name"] == "web"
    assert core["reportingComponent"] == "example.com/ctl"
    got = json.loads(kubectl("get", "events", "-n", "ev2", "-o", "json"))
    assert [i["reason"] for i in got["items"]] == ["Scaled"]


def test_watching_events_k8s_io_sees_core_writes_in_its_own_shape(api: HTTPClient) -> None:
    start = api.ok("GET", "/apis/events.k8s.io/v1/namespaces/default/events")["metadata"]["resourceVersion"]
    api.ok("POST", "/api/v1/namespaces/default/events", body={
        "metadata": {"name": "watched.1"}, "involvedObject": {"kind": "Node", "name": "n1"},
        "reason": "Ready", "message": "node ready", "type": "Normal",
    })
    events = api.collect("/apis/events.k8s.io/v1/namespaces/default/events",
                         query={"resourceVersion": start, "timeoutSeconds": "2"}, count=1)
    assert events[0]["type"] == "ADDED"
    assert events[0]["object"]["note"] == "node ready"
    assert events[0]["object"]["apiVersion"] == "events.k8s.io/v1"
