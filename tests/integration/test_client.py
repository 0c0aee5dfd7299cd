"""kubepy.client against a real kubepy API server process.

REST verbs and their errors, watches resumed from a resourceVersion, a reflector that
relists after the server restarts (410 Expired on the old resourceVersion), an informer's
handlers, leader election between two electors, and event aggregation. One API server per
module; the restart test starts its own so the shared one is never disturbed.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from kubepy.client import (
    ApiError,
    Backoff,
    Client,
    DeletedFinalStateUnknown,
    DeleteOptions,
    EventRecorder,
    InformerFactory,
    LeaderElectionConfig,
    LeaderElector,
    Preconditions,
    ResourceListerWatcher,
    ResourceRef,
    SharedInformer,
    is_already_exists,
    is_conflict,
    is_gone,
    is_invalid,
    is_not_found,
    label_index,
)
from kubepy.client.events import EVENTS
from kubepy.client.leaderelection import LEASES
from kubepy.testing.processes import APIServerProcess, start_apiserver

pytestmark = pytest.mark.integration

CONFIGMAPS = ResourceRef("", "v1", "configmaps", True)
NAMESPACES = ResourceRef("", "v1", "namespaces", False)
PODS = ResourceRef("", "v1", "pods", True)
NS = "it-client"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def cm(name: str, **labels: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": labels},
            "data": {"k": "v"}}


async def eventually(check: Callable[[], Any], timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last: {result!r})")
        await asyncio.sleep(0.02)


@pytest.fixture
async def client(apiserver: APIServerProcess) -> AsyncIterator[Client]:
    async with Client(apiserver.kubeconfig) as c:
        try:
            await c.create(NAMESPACES, {"metadata": {"name": NS}})
        except ApiError as e:
            if not is_already_exists(e):
                raise
        yield c


async def test_crud_and_errors(client: Client) -> None:
    name = unique("crud")
    created = await client.create(CONFIGMAPS, cm(name, app="crud"), namespace=NS)
    assert created["metadata"]["resourceVersion"]
    got = await client.get(CONFIGMAPS, name, namespace=NS)
    assert got["metadata"]["uid"] == created["metadata"]["uid"]

    with pytest.raises(ApiError) as dup:
        await client.create(CONFIGMAPS, cm(name), namespace=NS)
    assert is_already_exists(dup.value) and dup.value.code == 409

    with pytest.raises(ApiError) as missing:
        await client.get(CONFIGMAPS, "no-such-" + name, namespace=NS)
    assert is_not_found(missing.value) and missing.value.code == 404 and not is_conflict(missing.value)

    got["data"] = {"k": "v2"}
    updated = await client.update(CONFIGMAPS, got)
    assert updated["data"] == {"k": "v2"}
    with pytest.raises(ApiError) as stale:
        await client.update(CONFIGMAPS, got)  # still carries the old resourceVersion
    assert is_conflict(stale.value)

    merged = await client.patch(CONFIGMAPS, name, {"data": {"m": "1"}}, namespace=NS, type="merge")
    assert merged["data"] == {"k": "v2", "m": "1"}
    strategic = await client.patch(CONFIGMAPS, name, {"metadata": {"labels": {"s": "1"}}}, namespace=NS,
                                   type="strategic")
    assert strategic["metadata"]["labels"] == {"app": "crud", "s": "1"}
    jsonp = await client.patch(CONFIGMAPS, name, [{"op": "remove", "path": "/data/m"}], namespace=NS, type="json")
    assert jsonp["data"] == {"k": "v2"}

    listed = await client.list(CONFIGMAPS, namespace=NS, label_selector="app=crud")
    assert [i["metadata"]["name"] for i in listed["items"]] == [name]
    assert listed["kind"] == "ConfigMapList" and listed["metadata"]["resourceVersion"]
    by_field = await client.list(CONFIGMAPS, namespace=NS, field_selector=f"metadata.name={name}")
    assert len(by_field["items"]) == 1

    with pytest.raises(ApiError) as precondition:
        await client.delete(CONFIGMAPS, name, namespace=NS,
                            options=DeleteOptions(preconditions=Preconditions(uid="not-the-uid")))
    assert is_conflict(precondition.value)
    await client.delete(CONFIGMAPS, name, namespace=NS, options=DeleteOptions(propagation_policy="Background"))
    with pytest.raises(ApiError) as gone:
        await client.get(CONFIGMAPS, name, namespace=NS)
    assert is_not_found(gone.value)

    with pytest.raises(ApiError) as invalid:
        await client.create(CONFIGMAPS, cm("Not_Valid"), namespace=NS)
    assert is_invalid(invalid.value) and invalid.value.code == 422


async def test_paging_delete_collection_and_subresources(client: Client) -> None:
    tag = unique("page")
    for i in range(5):
        await client.create(CONFIGMAPS, cm(f"{tag}-{i}", batch=tag), namespace=NS)
    first = await client.list(CONFIGMAPS, namespace=NS, label_selector=f"batch={tag}", limit=2)
    assert len(first["items"]) == 2 and first["metadata"].get("continue")
    items, rv = await client.list_all(CONFIGMAPS, namespace=NS, label_selector=f"batch={tag}", page_size=2)
    assert sorted(i["metadata"]["name"] for i in items) == [f"{tag}-{i}" for i in range(5)] and rv

    await client.delete_collection(CONFIGMAPS, namespace=NS, label_selector=f"batch={tag}")
    left = await client.list(CONFIGMAPS, namespace=NS, label_selector=f"batch={tag}")
    assert left["items"] == []

    pod_name = unique("pod")
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": pod_name},
           "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
    created = await client.create(PODS, pod, namespace=NS)
    created["status"]["phase"] = "Running"
    after_status = await client.update_status(PODS, created)
    assert after_status["status"]["phase"] == "Running"
    binding = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": pod_name},
               "target": {"apiVersion": "v1", "kind": "Node", "name": "node-a"}}
    await client.create(PODS, binding, namespace=NS, subresource="binding", name=pod_name)
    bound = await client.get(PODS, pod_name, namespace=NS)
    assert bound["spec"]["nodeName"] == "node-a"
    raw = await client.request("GET", f"/api/v1/namespaces/{NS}/pods/{pod_name}")
    assert raw is not None and raw["metadata"]["name"] == pod_name
    await client.delete(PODS, pod_name, namespace=NS, options=DeleteOptions(grace_period_seconds=0))


async def test_watch_resumes_from_resource_version(client: Client) -> None:
    tag = unique("w")
    start = await client.list(CONFIGMAPS, namespace=NS, label_selector=f"w={tag}")
    rv = start["metadata"]["resourceVersion"]
    a = await client.create(CONFIGMAPS, cm(f"{tag}-a", w=tag), namespace=NS)
    a["data"] = {"k": "changed"}
    await client.update(CONFIGMAPS, a)
    await client.delete(CONFIGMAPS, f"{tag}-a", namespace=NS)

    seen: list[tuple[str, str]] = []
    last_rv = rv
    async with client.watch(CONFIGMAPS, namespace=NS, label_selector=f"w={tag}", resource_version=rv,
                            timeout_seconds=10) as stream:
        async for kind, obj in stream:
            seen.append((kind, obj["metadata"]["name"]))
            last_rv = obj["metadata"]["resourceVersion"]
            if len(seen) == 3:
                break
    assert seen == [("ADDED", f"{tag}-a"), ("MODIFIED", f"{tag}-a"), ("DELETED", f"{tag}-a")]

    await client.create(CONFIGMAPS, cm(f"{tag}-b", w=tag), namespace=NS)
    async with client.watch(CONFIGMAPS, namespace=NS, label_selector=f"w={tag}", resource_version=last_rv,
                            timeout_seconds=10) as stream:
        kind, obj = await asyncio.wait_for(stream.__anext__(), 5)
    assert (kind, obj["metadata"]["name"]) == ("ADDED", f"{tag}-b")


async def test_watch_timeout_ends_the_stream(client: Client) -> None:
    started = time.monotonic()
    events = []
    async for ev in client.watch(CONFIGMAPS, namespace=NS, label_selector="never=matches", timeout_seconds=1):
        events.append(ev)
    assert events == [] and 0.5 < time.monotonic() - started < 5


async def test_informer_sees_add_update_delete(client: Client) -> None:
    tag = unique("inf")
    factory = InformerFactory(client, namespace=NS)
    informer = factory.informer(CONFIGMAPS, label_selector=f"inf={tag}", indexers={"color": label_index("color")})
    assert factory.informer(CONFIGMAPS, label_selector=f"inf={tag}") is informer
    log: list[tuple[str, str]] = []
    informer.add_event_handler(
        on_add=lambda o: log.append(("add", o["metadata"]["name"])),
        on_update=lambda old, new: log.append(("update", new["data"]["k"])),
        on_delete=lambda o: log.append(("delete", o["metadata"]["name"] if isinstance(o, dict) else o.key)),
    )
    await client.create(CONFIGMAPS, {**cm(f"{tag}-0", inf=tag, color="red")}, namespace=NS)
    factory.start()
    try:
        assert await factory.wait_for_sync(timeout=5)
        assert log == [("add", f"{tag}-0")]
        one = await client.create(CONFIGMAPS, cm(f"{tag}-1", inf=tag, color="blue"), namespace=NS)
        await eventually(lambda: ("add", f"{tag}-1") in log)
        one["data"] = {"k": "v2"}
        await client.update(CONFIGMAPS, one)
        await eventually(lambda: ("update", "v2") in log)
        assert (informer.indexer.get_by_key(f"{NS}/{tag}-1") or {})["data"] == {"k": "v2"}
        assert [o["metadata"]["name"] for o in informer.indexer.by_index("color", "red")] == [f"{tag}-0"]
        assert len(informer.indexer.by_index("namespace", NS)) == 2
        assert (informer.indexer.get_by_key(f"{NS}/{tag}-0") or {})["kind"] == "ConfigMap"  # filled in on list
        await client.delete(CONFIGMAPS, f"{tag}-0", namespace=NS)
        await eventually(lambda: ("delete", f"{tag}-0") in log)
        assert informer.indexer.by_index("color", "red") == []
    finally:
        await factory.stop()


async def test_reflector_relists_after_server_restart(tmp_path: Path) -> None:
    server = start_apiserver(tmp_path / "restart")
    try:
        async with Client(server.kubeconfig) as c:
            await c.create(NAMESPACES, {"metadata": {"name": "r"}})
            await c.create(CONFIGMAPS, cm("before"), namespace="r")
            informer = SharedInformer(
                ResourceListerWatcher(c, CONFIGMAPS, namespace="r"), name="cm",
                backoff=Backoff(initial=0.05, cap=0.5, jitter=0.1),
            )
            deleted: list[Any] = []
            informer.add_event_handler(on_delete=deleted.append)
            informer.start()
            try:
                assert await informer.wait_for_sync(5)
                assert informer.reflector.list_count == 1
                # Move the global revision past what the informer has seen, so that its
                # resourceVersion is older than the restarted server's watch window.
                await c.create(CONFIGMAPS, cm("other"), namespace="default")
                seen_rv = informer.last_sync_resource_version
                port = server.port
                server.stop()
                server = start_apiserver(tmp_path / "restart", port=port)
                with pytest.raises(ApiError) as expired:
                    async for _ in c.watch(CONFIGMAPS, namespace="r", resource_version=seen_rv, timeout_seconds=5):
                        pass
                assert is_gone(expired.value) and expired.value.code == 410
                await c.delete(CONFIGMAPS, "before", namespace="r")
                await c.create(CONFIGMAPS, cm("after"), namespace="r")
                await eventually(lambda: informer.indexer.list_keys() == ["r/after"], timeout=10)
                assert informer.reflector.list_count >= 2, "the 410 must have caused a relist"
                assert [d.obj["metadata"]["name"] if isinstance(d, DeletedFinalStateUnknown)
                        else d["metadata"]["name"] for d in deleted] == ["before"]
            finally:
                await informer.stop()
    finally:
        server.stop()


async def _until(pred: Callable[[], bool], timeout: float) -> float:
    started = time.monotonic()
    await eventually(pred, timeout)
    return time.monotonic() - started


async def test_leader_election_handover(client: Client) -> None:
    lease_name = unique("lease")
    leading: dict[str, bool] = {}
    stopped: list[str] = []
    new_leaders: list[tuple[str, str]] = []

    def elector(identity: str, *, release: bool = True) -> LeaderElector:
        async def lead() -> None:
            leading[identity] = True
            try:
                await asyncio.Event().wait()
            finally:
                leading[identity] = False

        cfg = LeaderElectionConfig(name=lease_name, namespace=NS, identity=identity, lease_duration=2.0,
                                   renew_deadline=1.5, retry_period=0.25, release_on_cancel=release)
        return LeaderElector(client, cfg, on_started_leading=lead, on_stopped_leading=lambda: stopped.append(identity),
                             on_new_leader=lambda holder: new_leaders.append((identity, holder)))

    async def stop(task: asyncio.Task[None]) -> None:
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass

    a = elector("a")
    ta = asyncio.create_task(a.run())
    await eventually(lambda: leading.get("a"), 3)
    b = elector("b", release=False)
    tb = asyncio.create_task(b.run())
    await asyncio.sleep(0.8)
    assert not leading.get("b") and b.leader == "a" and not b.is_leader()

    # a releases on shutdown: b takes over within about one retry period, not a lease duration.
    await stop(ta)
    assert stopped == ["a"] and leading["a"] is False
    lease = await client.get(LEASES, lease_name, namespace=NS)
    assert not lease["spec"].get("holderIdentity")
    took = await _until(lambda: bool(leading.get("b")), 2.0)
    assert took < 1.0
    lease = await client.get(LEASES, lease_name, namespace=NS)
    spec = lease["spec"]
    assert spec["holderIdentity"] == "b" and spec["leaseDurationSeconds"] == 2
    assert spec["leaseTransitions"] == 1
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", spec["renewTime"])

    # b stops renewing without releasing: c must wait out the lease duration.
    c = elector("c")
    tc = asyncio.create_task(c.run())
    await asyncio.sleep(0.6)
    await stop(tb)
    assert stopped == ["a", "b"]
    lease = await client.get(LEASES, lease_name, namespace=NS)
    assert lease["spec"]["holderIdentity"] == "b"
    took = await _until(lambda: bool(leading.get("c")), 4.0)
    assert 1.2 < took < 3.5, took
    lease = await client.get(LEASES, lease_name, namespace=NS)
    assert lease["spec"]["holderIdentity"] == "c" and lease["spec"]["leaseTransitions"] == 2
    assert [h for who, h in new_leaders if who == "b"] == ["a", "b"]
    assert [h for who, h in new_leaders if who == "c"] == ["b", "c"]
    await stop(tc)
    assert stopped == ["a", "b", "c"]


async def test_event_recorder_aggregates_repeats(client: Client) -> None:
    target = await client.create(CONFIGMAPS, cm(unique("ev")), namespace=NS)
    name = target["metadata"]["name"]
    recorder = EventRecorder(client, component="test-controller", host="h1")
    try:
        for _ in range(3):
            recorder.event(target, "Normal", "Synced", "all good")
            await recorder.flush()
        recorder.eventf(target, "Warning", "Failed", "broke %d times", 1)
        await recorder.flush()
    finally:
        await recorder.close()
    listed = await client.list(EVENTS, namespace=NS, field_selector=f"involvedObject.name={name}")
    by_reason = {e["reason"]: e for e in listed["items"]}
    assert set(by_reason) == {"Synced", "Failed"}
    synced = by_reason["Synced"]
    assert synced["count"] == 3 and synced["message"] == "all good" and synced["type"] == "Normal"
    assert synced["involvedObject"]["uid"] == target["metadata"]["uid"]
    assert synced["involvedObject"]["kind"] == "ConfigMap"
    assert synced["source"] == {"component": "test-controller", "host": "h1"}
    assert re.fullmatch(re.escape(name) + r"\.[0-9a-f]+", synced["metadata"]["name"])
    assert synced["firstTimestamp"] <= synced["lastTimestamp"]
    assert by_reason["Failed"]["count"] == 1 and by_reason["Failed"]["message"] == "broke 1 times"
