"""Controller benchmark (issue 3): Deployments of 1,000 pods, 100 small Deployments, a rolling
update of 1,000 pods, and the controller-manager's memory with 10,000 pods cached.

Job: start a real ``kubepy apiserver`` (sqlite) and a real ``kubepy controller-manager
--controllers=replicaset,deployment --leader-elect=false`` as child processes, play the
node in this process, and measure:

- ``deploy1000_s``: a Deployment of 1,000 replicas until all 1,000 pods exist;
  ``deploy1000_ready_s`` until the Deployment reports 1,000 available;
- ``rollout1000_s``: an image change of that Deployment until the rollout is complete
  (1,000 updated and available, no old pods left);
- ``deploy100x10_s``: 100 Deployments of 10 created at once until all are available;
- ``cm_rss_mb_10k``: VmRSS of the controller-manager with 10,000 pods (10 Deployments
  of 1,000) in its informer caches.

Design: the node is a lighter stand-in than FakeNode (which runs a task and an informer per
pod): one watch on pods, and a bounded pool of workers that bind each new pod and mark it
Running and Ready with one status patch, and finish graceful deletions, as a kubelet would.
This process's client is not rate limited; the controller-manager's is (its default:
100 requests/s, burst 200, like client-go's QPS/burst settings), and that limit is usually
what these figures measure. Every wait is bounded; the whole run stays under 5 minutes.
Processes and the temp dir are removed in ``finally``. The last line is ``key=value``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from kubepy.client import ApiError, Client, DeleteOptions
from kubepy.testing.processes import ComponentProcess, start_apiserver, start_controller_manager

NS = "bench"
WAIT_LIMIT = 120.0
MARK_WORKERS = 64

Obj = dict[str, Any]


def now_rfc3339() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Node:
    """Binds new pods to one node and marks them Running+Ready; finishes graceful deletes."""

    def __init__(self, client: Client, name: str = "bench-node") -> None:
        self.client = client
        self.name = name
        self.pods = client.resource("v1", "pods")
        self.queue: asyncio.Queue[Obj] = asyncio.Queue()
        self.created: dict[str, int] = {}  # app label -> pods seen created
        self.tasks: list[asyncio.Task[None]] = []
        self.ip = 0

    async def start(self) -> None:
        nodes = self.client.resource("v1", "nodes")
        with contextlib.suppress(ApiError):
            await self.client.create(nodes, {"apiVersion": "v1", "kind": "Node", "metadata": {"name": self.name}})
        self.tasks.append(asyncio.create_task(self._watch()))
        self.tasks += [asyncio.create_task(self._work()) for _ in range(MARK_WORKERS)]

    async def stop(self) -> None:
        for t in self.tasks:
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    async def _watch(self) -> None:
        rv: str | None = None
        while True:
            if rv is None:
                _, rv = await self.client.list_all(self.pods, namespace=NS)
            try:
                async with self.client.watch(self.pods, namespace=NS, resource_version=rv) as stream:
                    async for kind, pod in stream:
                        rv = pod["metadata"].get("resourceVersion", rv)
                        if kind == "ADDED":
                            app = (pod["metadata"].get("labels") or {}).get("app", "")
                            self.created[app] = self.created.get(app, 0) + 1
                        if kind in ("ADDED", "MODIFIED"):
                            meta, spec = pod["metadata"], pod.get("spec") or {}
                            if meta.get("deletionTimestamp") or not spec.get("nodeName"):
                                self.queue.put_nowait(pod)
            except ApiError:
                rv = None

    async def _work(self) -> None:
        while True:
            pod = await self.queue.get()
            meta = pod["metadata"]
            try:
                if meta.get("deletionTimestamp"):
                    await self.client.delete(self.pods, meta["name"], namespace=NS,
                                             options=DeleteOptions(grace_period_seconds=0))
                    continue
                await self.client.create(self.pods, {
                    "apiVersion": "v1", "kind": "Binding", "metadata": {"name": meta["name"], "uid": meta["uid"]},
                    "target": {"apiVersion": "v1", "kind": "Node", "name": self.name}},
                    namespace=NS, subresource="binding", name=meta["name"])
                await self.client.patch(self.pods, meta["name"], {"status": self._status(pod)}, namespace=NS,
                                        type="merge", subresource="status")
            except ApiError:
                pass

    def _status(self, pod: Obj) -> Obj:
        t = now_rfc3339()
        self.ip += 1
        ip = f"10.244.{(self.ip >> 8) & 255}.{self.ip & 255}"
        cond = [{"type": c, "status": "True", "lastProbeTime": None, "lastTransitionTime": t}
                for c in ("Initialized", "Ready", "ContainersReady", "PodScheduled")]
        containers = [{"name": c["name"], "image": c.get("image", ""), "imageID": "", "ready": True,
                       "restartCount": 0, "started": True, "state": {"running": {"startedAt": t}},
                       "containerID": f"fake://{pod['metadata']['uid']}"}
                      for c in (pod.get("spec") or {}).get("containers") or ()]
        return {"phase": "Running", "conditions": cond, "hostIP": "127.0.0.1", "podIP": ip,
                "podIPs": [{"ip": ip}], "startTime": t, "containerStatuses": containers}


def deployment(name: str, replicas: int, image: str = "nginx:1") -> Obj:
    return {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": NS},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}},
                              "spec": {"containers": [{"name": "c", "image": image}]}}},
    }


async def wait_for(check: Callable[[], Any], limit: float = WAIT_LIMIT, interval: float = 0.05) -> float:
    t0 = time.monotonic()
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return time.monotonic() - t0
        if time.monotonic() - t0 > limit:
            raise TimeoutError(f"not done within {limit}s")
        await asyncio.sleep(interval)


async def complete(client: Client, name: str) -> bool:
    d = await client.get(client.resource("apps/v1", "deployments"), name, namespace=NS)
    s, want = d.get("status") or {}, d["spec"]["replicas"]
    return bool(s.get("observedGeneration", 0) >= d["metadata"]["generation"] and s.get("updatedReplicas") == want
                and s.get("replicas") == want and s.get("availableReplicas") == want)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def emit(results: dict[str, Any], key: str, value: Any) -> None:
    results[key] = value
    print(f"{key}={value}", flush=True)


async def run(client: Client, cm: ComponentProcess, results: dict[str, Any], *, skip_memory: bool) -> None:
    deps = client.resource("apps/v1", "deployments")
    await client.create(client.resource("v1", "namespaces"),
                        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
    node = Node(client)
    await node.start()
    try:
        # 1. one Deployment of 1,000
        t0 = time.monotonic()
        await client.create(deps, deployment("d1000", 1000), namespace=NS)
        await wait_for(lambda: node.created.get("d1000", 0) >= 1000)
        emit(results, "deploy1000_s", round(time.monotonic() - t0, 2))
        await wait_for(lambda: complete(client, "d1000"), interval=0.2)
        emit(results, "deploy1000_ready_s", round(time.monotonic() - t0, 2))

        # 2. a rolling update of the 1,000
        t0 = time.monotonic()
        await client.patch(deps, "d1000", {"spec": {"template": {"spec": {"containers": [
            {"name": "c", "image": "nginx:2"}]}}}}, namespace=NS, type="strategic")
        await wait_for(lambda: complete(client, "d1000"), interval=0.2)
        await wait_for(lambda: node.queue.empty())
        emit(results, "rollout1000_s", round(time.monotonic() - t0, 2))

        # 3. 100 Deployments of 10 at once
        t0 = time.monotonic()
        await asyncio.gather(*(client.create(deps, deployment(f"s{i:03d}", 10), namespace=NS) for i in range(100)))

        async def all_small_complete() -> bool:
            items, _ = await client.list_all(deps, namespace=NS)
            small = [d for d in items if d["metadata"]["name"].startswith("s")]
            return len(small) == 100 and all((d.get("status") or {}).get("availableReplicas") == 10 for d in small)

        await wait_for(all_small_complete, interval=0.2)
        emit(results, "deploy100x10_s", round(time.monotonic() - t0, 2))
        emit(results, "cm_rss_mb_2k", round(rss_mb(cm.proc.pid), 1))
        if skip_memory:
            return

        # 4. 10,000 pods cached: drop the small ones, add 9 more Deployments of 1,000
        await delete_small(client)
        t0 = time.monotonic()
        await asyncio.gather(*(client.create(deps, deployment(f"m{i}", 1000), namespace=NS) for i in range(9)))
        await wait_for(lambda: sum(node.created.get(f"m{i}", 0) for i in range(9)) >= 9000, limit=150)
        emit(results, "pods9000_created_s", round(time.monotonic() - t0, 2))
        await wait_for(lambda: node.queue.empty(), limit=60)
        await asyncio.sleep(2.0)  # let the controller-manager's caches take the last updates
        emit(results, "cm_rss_mb_10k", round(rss_mb(cm.proc.pid), 1))
    finally:
        await node.stop()


async def delete_small(client: Client) -> None:
    """No garbage collector runs here: delete the small Deployments' objects by hand."""
    sel = ",".join(f"s{i:03d}" for i in range(100))
    for api, plural in (("apps/v1", "deployments"), ("apps/v1", "replicasets"), ("v1", "pods")):
        ref = client.resource(api, plural)
        if plural == "deployments":
            items, _ = await client.list_all(ref, namespace=NS)
            await asyncio.gather(*(client.delete(ref, d["metadata"]["name"], namespace=NS) for d in items
                                   if d["metadata"]["name"].startswith("s")))
        else:
            await client.delete_collection(ref, namespace=NS, label_selector=f"app in ({sel})",
                                           options=DeleteOptions(grace_period_seconds=0))


UNTHROTTLED = """
import sys
import kubepy.client.rest as rest
init = rest.Client.__init__
def unthrottled(self, *a, **kw):
    kw["qps"] = None
    init(self, *a, **kw)
rest.Client.__init__ = unthrottled
from kubepy.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def start_unthrottled_controller_manager(kubeconfig: Path, log_path: Path, args: list[str]) -> ComponentProcess:
    """The same controller-manager with its client's rate limit lifted (diagnosis only: shows
    how much of a figure is the 100 requests/s limit)."""
    log_file = open(log_path, "wb")  # noqa: SIM115 - owned by the child
    proc = subprocess.Popen([sys.executable, "-c", UNTHROTTLED, "controller-manager", "--kubeconfig", str(kubeconfig),
                             *args], stdout=log_file, stderr=subprocess.STDOUT)
    log_file.close()
    handle = ComponentProcess(proc=proc, log_path=log_path)
    deadline = time.monotonic() + 30
    while "controller-manager started" not in handle.log():
        if proc.poll() is not None or time.monotonic() > deadline:
            handle.stop()
            raise RuntimeError(f"controller-manager did not start:\n{handle.log()}")
        time.sleep(0.02)
    return handle


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {}
    tmp = Path(tempfile.mkdtemp(prefix="bench-controllers-"))
    server = None
    cm = None
    try:
        server = start_apiserver(tmp / "apiserver", storage="sqlite")
        cm_args = ["--controllers=replicaset,deployment", "--leader-elect=false"]
        if args.cm_qps:
            cm = start_unthrottled_controller_manager(server.kubeconfig, tmp / "cm.log", cm_args)
        else:
            cm = start_controller_manager(server.kubeconfig, tmp / "cm.log", *cm_args)
        async with Client(server.kubeconfig, qps=None, connection_limit=128) as client:
            try:
                await asyncio.wait_for(run(client, cm, results, skip_memory=args.quick), timeout=280)
            except (TimeoutError, ApiError) as e:
                print(f"error: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
                results.setdefault("error", type(e).__name__)
    finally:
        if cm is not None:
            cm.stop()
        if server is not None:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="skip the 10,000-pod memory part")
    parser.add_argument("--cm-qps", action="store_true",
                        help="diagnosis: lift the controller-manager client's 100 requests/s limit")
    args = parser.parse_args(argv)
    t0 = time.monotonic()
    results = asyncio.run(main_async(args))
    results["total_s"] = round(time.monotonic() - t0, 1)
    print(" ".join(f"{k}={v}" for k, v in results.items()), flush=True)
    return 0 if "error" not in results else 1


if __name__ == "__main__":
    sys.exit(main())
