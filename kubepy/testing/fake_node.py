"""A stand-in node for tests until the kubelet lands: it registers a Node, keeps its Lease
renewed, binds unscheduled pods to itself, and plays the kubelet for them.

Pods bound to it become Running and Ready at once (with a pod IP, container statuses and
conditions as a kubelet reports them). A pod annotated ``fake.kubepy.io/exit-code: "N"``
instead runs for ``fake.kubepy.io/run-seconds`` (default 0) and then terminates with that
exit code (Succeeded for 0, else Failed) — how Job tests make pods finish. Graceful
deletion is honoured: a pod with a deletionTimestamp is removed with a final DELETE.
Only the public API is used, exactly as a kubelet would.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import itertools
import logging
import time
from datetime import datetime, timezone
from typing import Any

from kubepy.client import ApiError, Client, DeleteOptions, Preconditions, micro_time
from kubepy.client.informer import InformerFactory, object_of

log = logging.getLogger(__name__)

EXIT_CODE = "fake.kubepy.io/exit-code"
RUN_SECONDS = "fake.kubepy.io/run-seconds"
Obj = dict[str, Any]


def now_rfc3339() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class FakeNode:
    def __init__(self, client: Client, name: str = "fake-node", *, pod_cidr: str = "10.244.0.0/24",
                 bind_unscheduled: bool = True, ready: bool = True) -> None:
        self.client = client
        self.name = name
        self.bind_unscheduled = bind_unscheduled
        self.ready = ready
        net = ipaddress.ip_network(pod_cidr)
        self._ips = (str(net.network_address + i) for i in itertools.count(2))
        self._tasks: set[asyncio.Task[None]] = set()
        self._handled: set[str] = set()
        self.pods = client.resource("v1", "pods")
        self.nodes = client.resource("v1", "nodes")
        self.leases = client.resource("coordination.k8s.io/v1", "leases")
        self.informers = InformerFactory(client)
        self._main: asyncio.Task[None] | None = None

    # -- lifecycle ------------------------------------------------------------------------------
    async def start(self) -> None:
        await self._register()
        inf = self.informers.informer(self.pods)
        inf.add_event_handler(on_add=self._on_pod, on_update=lambda old, new: self._on_pod(new),
                              on_delete=lambda obj: self._handled.discard(object_of(obj)["metadata"].get("uid", "")))
        self.informers.start()
        await self.informers.wait_for_sync(10)
        self._main = asyncio.create_task(self._heartbeat())

    async def stop(self) -> None:
        if self._main is not None:
            self._main.cancel()
        for t in list(self._tasks):
            t.cancel()
        await asyncio.gather(*self._tasks, *(x for x in [self._main] if x), return_exceptions=True)
        await self.informers.stop()

    async def __aenter__(self) -> FakeNode:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- node -----------------------------------------------------------------------------------
    def _node_status(self) -> Obj:
        t = now_rfc3339()
        ready = "True" if self.ready else "False"
        return {
            "capacity": {"cpu": "4", "memory": "8Gi", "pods": "110"},
            "allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"},
            "conditions": [{"type": "Ready", "status": ready, "reason": "KubeletReady" if self.ready else "KubeletNotReady",
                            "message": "fake node", "lastHeartbeatTime": t, "lastTransitionTime": t}],
            "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}, {"type": "Hostname", "address": self.name}],
            "nodeInfo": {"kubeletVersion": "v1.32.0", "kubeProxyVersion": "v1.32.0", "operatingSystem": "linux",
                         "architecture": "amd64", "containerRuntimeVersion": "fake://1.0", "osImage": "fake",
                         "kernelVersion": "", "machineID": "", "systemUUID": "", "bootID": ""},
        }

    async def _register(self) -> None:
        node = {"apiVersion": "v1", "kind": "Node",
                "metadata": {"name": self.name, "labels": {"kubernetes.io/hostname": self.name,
                                                           "kubernetes.io/os": "linux"}}}
        try:
            await self.client.create(self.nodes, node)
        except ApiError as e:
            if e.code != 409:
                raise
        # a patch, not a read-modify-write: controllers (node IPAM) may be writing the node too
        await self.client.patch(self.nodes, self.name, {"status": self._node_status()}, type="merge",
                                subresource="status")

    async def _heartbeat(self) -> None:
        while True:
            with contextlib.suppress(Exception):
                await self._renew_lease()
            await asyncio.sleep(2)

    async def _renew_lease(self) -> None:
        t = micro_time(time.time())
        try:
            lease = await self.client.get(self.leases, self.name, namespace="kube-node-lease")
        except ApiError as e:
            if e.code != 404:
                raise
            await self.client.create(self.leases, {
                "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                "metadata": {"name": self.name, "namespace": "kube-node-lease"},
                "spec": {"holderIdentity": self.name, "leaseDurationSeconds": 40, "renewTime": t},
            }, namespace="kube-node-lease")
            return
        lease["spec"]["renewTime"] = t
        await self.client.update(self.leases, lease, namespace="kube-node-lease")

    # -- pods -----------------------------------------------------------------------------------
    def _on_pod(self, pod: Obj) -> None:
        self._spawn(self._sync_pod(pod))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _sync_pod(self, pod: Obj) -> None:
        meta, spec = pod["metadata"], pod.get("spec") or {}
        ns, name = meta.get("namespace", ""), meta["name"]
        try:
            if meta.get("deletionTimestamp"):
                if spec.get("nodeName") == self.name:
                    await self.client.delete(self.pods, name, namespace=ns, options=DeleteOptions(
                        grace_period_seconds=0, preconditions=Preconditions(uid=meta["uid"])))
                return
            if not spec.get("nodeName"):
                if self.bind_unscheduled and spec.get("schedulerName", "default-scheduler") == "default-scheduler":
                    await self.client.create(self.pods, {
                        "apiVersion": "v1", "kind": "Binding", "metadata": {"name": name, "uid": meta["uid"]},
                        "target": {"apiVersion": "v1", "kind": "Node", "name": self.name},
                    }, namespace=ns, subresource="binding", name=name)
                return
            if spec["nodeName"] != self.name or meta["uid"] in self._handled:
                return
            if (pod.get("status") or {}).get("phase") in ("Running", "Succeeded", "Failed"):
                self._handled.add(meta["uid"])
                return
            self._handled.add(meta["uid"])
            await self._run(pod)
        except ApiError as e:
            if e.code not in (404, 409):
                log.warning("fake node: pod %s/%s: %s", ns, name, e)
                self._handled.discard(meta["uid"])

    async def _run(self, pod: Obj) -> None:
        meta = pod["metadata"]
        annotations = meta.get("annotations") or {}
        started = now_rfc3339()
        ip = next(self._ips)
        containers = (pod.get("spec") or {}).get("containers") or []
        exit_code = annotations.get(EXIT_CODE)
        await self._set_status(pod, self._status(pod, ip, started, running=True))
        if exit_code is None:
            return
        await asyncio.sleep(float(annotations.get(RUN_SECONDS, "0")))
        code = int(exit_code)
        status = self._status(pod, ip, started, running=False, exit_code=code)
        del containers
        await self._set_status(pod, status)

    def _status(self, pod: Obj, ip: str, started: str, *, running: bool, exit_code: int = 0) -> Obj:
        now = now_rfc3339()
        spec = pod.get("spec") or {}
        statuses = []
        for c in spec.get("containers") or []:
            if running:
                state: Obj = {"running": {"startedAt": started}}
            else:
                state = {"terminated": {"exitCode": exit_code, "reason": "Completed" if exit_code == 0 else "Error",
                                        "startedAt": started, "finishedAt": now}}
            statuses.append({"name": c["name"], "image": c.get("image", ""), "imageID": "", "ready": running,
                             "restartCount": 0, "started": running, "state": state,
                             "containerID": f"fake://{pod['metadata']['uid']}-{c['name']}"})
        ready = "True" if running else "False"
        phase = "Running" if running else ("Succeeded" if exit_code == 0 else "Failed")
        conditions = [
            {"type": "PodReadyToStartContainers", "status": "True", "lastProbeTime": None, "lastTransitionTime": started},
            {"type": "Initialized", "status": "True", "lastProbeTime": None, "lastTransitionTime": started},
            {"type": "Ready", "status": ready, "lastProbeTime": None, "lastTransitionTime": now},
            {"type": "ContainersReady", "status": ready, "lastProbeTime": None, "lastTransitionTime": now},
            {"type": "PodScheduled", "status": "True", "lastProbeTime": None, "lastTransitionTime": started},
        ]
        return {"phase": phase, "conditions": conditions, "hostIP": "127.0.0.1", "hostIPs": [{"ip": "127.0.0.1"}],
                "podIP": ip, "podIPs": [{"ip": ip}], "startTime": started, "containerStatuses": statuses,
                "qosClass": (pod.get("status") or {}).get("qosClass", "BestEffort")}

    async def _set_status(self, pod: Obj, status: Obj) -> None:
        meta = pod["metadata"]
        await self.client.patch(self.pods, meta["name"], {"status": status}, namespace=meta.get("namespace"),
                                type="merge", subresource="status")
