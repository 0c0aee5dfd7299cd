"""Scheduler benchmark (issue 4): pods/s scheduled end to end, and per-pod latency.

Job: run workloads named after upstream scheduler_perf against a real ``kubepy apiserver``
(sqlite) and a real ``kubepy scheduler`` process, print the figures as it goes, and end
with one line of ``key=value`` pairs:
- ``basic_500``  SchedulingBasic/500Nodes: 500 nodes, 500 initial pods, 10,000 measured;
- ``basic_5000`` SchedulingBasic/5000Nodes: 5,000 nodes, 1,000 initial pods, 10,000 measured;
- ``antiaffinity_1000`` SchedulingPodAntiAffinity/1000Nodes: 1,000 nodes, 200 initial pods in
  sched-0 and 800 measured in sched-1, all labelled ``color: green`` with required
  anti-affinity to ``color: green`` on ``kubernetes.io/hostname`` across both namespaces
  (upstream's template; so one pod per node);
- ``spread_1000`` TopologySpreading/1000Nodes: 1,000 nodes in zones moon-1..3, 2,000 default
  pods, then 2,000 measured pods with a ``maxSkew: 5`` DoNotSchedule zone constraint.
Nodes and pods are upstream's templates (node: 4 CPUs, 32Gi, 110 pods; pod: one container
requesting and limited to 100m / 500Mi, port 80).

Design:
- Each workload gets a fresh API server in a temp dir, its nodes (created here, in-process,
  with status; no leases, no kubelets: like scheduler_perf, nothing needs to run), then the
  scheduler, then its initial pods (scheduled, not measured), then the measured pods.
- Measuring: before the first measured create, a watch opens on the measured namespace with
  ``fieldSelector=spec.nodeName!=``; a pod's first event there is its binding. Throughput is
  measured pods / (first create sent → last binding seen). A pod's latency runs from sending
  its create to its binding event arriving, both on this process's ``perf_counter``
  (microseconds; it includes the create request and the watch delivery, as an end-to-end
  figure should). Creates are closed-loop from ``CREATE_CONCURRENCY`` workers, as fast as the
  server takes them: the scheduler's queue absorbs whatever it cannot keep up with, which
  shows in the latency.
- Bounds: each workload has a time budget for its measured phase and the whole run a
  deadline (< 10 min); a phase out of time stops and reports the rate so far, with
  ``<key>_complete`` telling how many were bound. Everything started here (servers,
  scheduler, py-spy) is stopped and its temp dir removed in ``finally`` blocks, also on
  SIGTERM/Ctrl-C.
- CPU: ``<key>_cpu_{api,sched,bench,other}_s`` are the CPU seconds the API server, the
  scheduler, this process and the rest of the machine used while measuring (from /proc), so a
  run disturbed by other work, or a component at its one-core ceiling, shows in the figures.
- Checks: anti-affinity pods must land on distinct nodes, spread pods within skew 5 across
  zones; violations are reported (a fast wrong scheduler must not look good).
- ``--binder fake`` replaces the scheduler with a trivial in-process binder (each pending
  pod bound to a random node), to validate the measuring code on its own.
- ``--py-spy PREFIX`` records the scheduler (raw collapsed stacks) during each measured
  phase into ``PREFIX-<key>.raw``; ``python -m benchmarks.profile_summary`` summarises them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from kubepy.client import ApiError, Client
from kubepy.sim.objects import NodeTemplate, build_node, node_status
from kubepy.testing import processes
from kubepy.testing.processes import APIServerProcess, ComponentProcess, start_apiserver, start_component

Obj = dict[str, Any]

CREATE_CONCURRENCY = 64
NODE_CONCURRENCY = 64
RUN_DEADLINE = 570.0  # seconds for the whole run
INIT_BUDGET = 120.0  # seconds for a workload's initial pods to be scheduled
NODE_TEMPLATE = NodeTemplate(name_prefix="scheduler-perf-", cpu="4", memory="32Gi", pods="110", zones=0)
INIT_NS = "sched-0"
MEASURE_NS = "sched-1"


# -- pod templates (upstream scheduler_perf's) ------------------------------------------------

def _container() -> Obj:
    res = {"cpu": "100m", "memory": "500Mi"}
    return {"name": "pause", "image": "registry.k8s.io/pause:3.10", "ports": [{"containerPort": 80}],
            "resources": {"requests": dict(res), "limits": dict(res)}}


def pod_default(ns: str, name: str) -> Obj:
    # automountServiceAccountToken: false = scheduler_perf's API server, which runs without
    # the ServiceAccount admission plugin (pods carry no token volume)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns},
            "spec": {"containers": [_container()], "automountServiceAccountToken": False}}


def pod_anti_affinity(ns: str, name: str) -> Obj:
    pod = pod_default(ns, name)
    pod["metadata"]["labels"] = {"color": "green"}
    pod["spec"]["affinity"] = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{
        "labelSelector": {"matchLabels": {"color": "green"}},
        "topologyKey": "kubernetes.io/hostname",
        "namespaces": [MEASURE_NS, INIT_NS],
    }]}}
    return pod


def pod_spreading(ns: str, name: str) -> Obj:
    pod = pod_default(ns, name)
    pod["metadata"]["labels"] = {"color": "blue"}
    pod["spec"]["topologySpreadConstraints"] = [{
        "maxSkew": 5, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "DoNotSchedule",
        "labelSelector": {"matchLabels": {"color": "blue"}},
    }]
    return pod


def moon_zones(index: int) -> dict[str, str]:
    return {"topology.kubernetes.io/zone": f"moon-{index % 3 + 1}"}


# -- workloads ---------------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class Workload:
    key: str
    name: str
    nodes: int
    init_pods: int
    measure_pods: int
    budget: float
    init_template: Callable[[str, str], Obj] = pod_default
    measure_template: Callable[[str, str], Obj] = pod_default
    node_labels: Callable[[int], dict[str, str]] | None = None
    check: Callable[[Workload, Result], dict[str, Any]] | None = None


@dataclass
class Result:
    created: int = 0
    create_errors: int = 0
    first_send: float = 0.0
    sent: dict[str, float] = field(default_factory=dict)
    bound: dict[str, tuple[float, str]] = field(default_factory=dict)
    node_zone: dict[str, str] = field(default_factory=dict)
    #: Initial pods per node (filled in before the checks run).
    init_nodes: Counter[str] = field(default_factory=Counter)


def check_anti_affinity(w: Workload, r: Result) -> dict[str, Any]:
    """Every green pod on a node of its own, the initial ones included."""
    per_node = Counter(node for _, node in r.bound.values()) + r.init_nodes
    return {"violations": sum(c - 1 for c in per_node.values() if c > 1)}


def check_spread(w: Workload, r: Result) -> dict[str, Any]:
    """The blue pods' zones within maxSkew 5 (measured pods are the only blue ones)."""
    zones = Counter(r.node_zone.get(node, "") for _, node in r.bound.values())
    counts = [zones.get(f"moon-{i}", 0) for i in (1, 2, 3)]
    return {"skew": max(counts) - min(counts), "violations": int(max(counts) - min(counts) > 5)}


WORKLOADS = [
    Workload(key="basic_500", name="SchedulingBasic/500Nodes", nodes=500, init_pods=500, measure_pods=10_000,
             budget=120.0),
    Workload(key="basic_5000", name="SchedulingBasic/5000Nodes", nodes=5000, init_pods=1000,
             measure_pods=10_000, budget=150.0),
    Workload(key="antiaffinity_1000", name="SchedulingPodAntiAffinity/1000Nodes", nodes=1000, init_pods=200,
             measure_pods=800, budget=60.0, init_template=pod_anti_affinity, measure_template=pod_anti_affinity,
             check=check_anti_affinity),
    Workload(key="spread_1000", name="TopologySpreading/1000Nodes", nodes=1000, init_pods=2000,
             measure_pods=2000, budget=60.0, measure_template=pod_spreading, node_labels=moon_zones,
             check=check_spread),
]


def say(msg: str) -> None:
    print(msg, flush=True)


# -- cluster setup -----------------------------------------------------------------------------

async def create_nodes(client: Client, count: int, labels: Callable[[int], dict[str, str]] | None) -> list[str]:
    """``count`` Ready nodes with status (one POST, and a status PATCH if the server dropped it)."""
    ref = client.resource("v1", "nodes")
    sem = asyncio.Semaphore(NODE_CONCURRENCY)
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())

    async def one(i: int) -> str:
        node = build_node(NODE_TEMPLATE, i, now)
        if labels is not None:
            node["metadata"]["labels"].update(labels(i))
        async with sem:
            created = await client.create(ref, node)
            if not (created.get("status") or {}).get("conditions"):
                await client.patch(ref, node["metadata"]["name"], {"status": node_status(NODE_TEMPLATE, i, now)},
                                   type="merge", subresource="status")
        return str(node["metadata"]["name"])

    return list(await asyncio.gather(*(one(i) for i in range(count))))


async def create_namespaces(client: Client) -> None:
    ref = client.resource("v1", "namespaces")
    for ns in (INIT_NS, MEASURE_NS):
        await client.create(ref, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})


def start_scheduler(kubeconfig: Path, log_path: Path) -> ComponentProcess:
    starter = getattr(processes, "start_scheduler", None)
    if starter is not None:
        handle: ComponentProcess = starter(kubeconfig, log_path, "--leader-elect=false")
        return handle
    return start_component("scheduler", ["--kubeconfig", str(kubeconfig), "--leader-elect=false"], log_path,
                           ready_marker="scheduler started", timeout=60)


class FakeBinder:
    """Validation stand-in for the scheduler: binds each pending pod to a random node."""

    def __init__(self, client: Client, nodes: list[str], seed: int = 1) -> None:
        self.client = client
        self.nodes = nodes
        self.rng = random.Random(seed)
        self.queue: asyncio.Queue[tuple[str, str, str]] = asyncio.Queue()
        self.tasks: list[asyncio.Task[None]] = []
        self.ref = client.resource("v1", "pods")

    async def start(self) -> None:
        rv = str((await self.client.list(self.ref, limit=1)).get("metadata", {}).get("resourceVersion", ""))
        self.tasks.append(asyncio.create_task(self._watch(rv)))
        self.tasks.extend(asyncio.create_task(self._bind()) for _ in range(64))

    async def _watch(self, rv: str) -> None:
        while True:
            try:
                async with self.client.watch(self.ref, field_selector="spec.nodeName=", resource_version=rv,
                                             timeout_seconds=3600) as stream:
                    async for kind, obj in stream:
                        meta = obj.get("metadata") or {}
                        rv = str(meta.get("resourceVersion") or rv)
                        if kind == "ADDED":
                            self.queue.put_nowait((meta["namespace"], meta["name"], meta["uid"]))
            except (ApiError, OSError, asyncio.TimeoutError) as e:
                say(f"fake binder: watch broke ({e!r}); resuming")

    async def _bind(self) -> None:
        while True:
            ns, name, uid = await self.queue.get()
            body = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": name, "uid": uid},
                    "target": {"apiVersion": "v1", "kind": "Node", "name": self.rng.choice(self.nodes)}}
            with contextlib.suppress(ApiError):
                await self.client.create(self.ref, body, namespace=ns, subresource="binding", name=name)

    async def stop(self) -> None:
        for t in self.tasks:
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


# -- creating and watching pods ----------------------------------------------------------------

async def create_pods(client: Client, ns: str, count: int, template: Callable[[str, str], Obj], result: Result,
                      stop: asyncio.Event) -> None:
    ref = client.resource("v1", "pods")
    names = iter(range(count))

    async def worker() -> None:
        for i in names:
            if stop.is_set():
                return
            name = f"pod-{i}"
            body = template(ns, name)
            t = time.perf_counter()
            if not result.first_send:
                result.first_send = t
            result.sent[name] = t
            try:
                await client.create(ref, body, namespace=ns)
                result.created += 1
            except ApiError as e:
                result.create_errors += 1
                result.sent.pop(name, None)
                if result.create_errors <= 3:
                    say(f"create {ns}/{name}: {e}")

    await asyncio.gather(*(worker() for _ in range(CREATE_CONCURRENCY)))


async def watch_bound(client: Client, ns: str, rv: str, result: Result, want: int, done: asyncio.Event) -> None:
    """Record each pod's first event with spec.nodeName set (its binding) until ``want`` are seen."""
    ref = client.resource("v1", "pods")
    while len(result.bound) < want:
        try:
            async with client.watch(ref, namespace=ns, field_selector="spec.nodeName!=", resource_version=rv,
                                    timeout_seconds=3600) as stream:
                async for _kind, obj in stream:
                    t = time.perf_counter()
                    meta = obj.get("metadata") or {}
                    rv = str(meta.get("resourceVersion") or rv)
                    name = str(meta.get("name", ""))
                    node = str((obj.get("spec") or {}).get("nodeName") or "")
                    if node and name not in result.bound:
                        result.bound[name] = (t, node)
                        if len(result.bound) >= want:
                            break
        except (ApiError, OSError, asyncio.TimeoutError) as e:
            say(f"watch broke ({e!r}); resuming from {rv}")
    done.set()


async def current_rv(client: Client, ns: str) -> str:
    page = await client.list(client.resource("v1", "pods"), namespace=ns, limit=1)
    return str((page.get("metadata") or {}).get("resourceVersion") or "")


async def run_pods(client: Client, ns: str, count: int, template: Callable[[str, str], Obj],
                   budget: float) -> tuple[Result, float, bool]:
    """Create ``count`` pods and wait for their bindings; (result, elapsed seconds, finished)."""
    result = Result()
    rv = await current_rv(client, ns)
    done = asyncio.Event()
    stop = asyncio.Event()
    watcher = asyncio.create_task(watch_bound(client, ns, rv, result, count, done))
    creator = asyncio.create_task(create_pods(client, ns, count, template, result, stop))
    finished = True
    try:
        await asyncio.wait_for(done.wait(), budget)
    except TimeoutError:
        finished = False
    end = max((t for t, _ in result.bound.values()), default=time.perf_counter())
    stop.set()
    watcher.cancel()
    await asyncio.gather(watcher, return_exceptions=True)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(creator, 10)
    return result, max(end - result.first_send, 1e-9), finished


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU seconds all processes of the machine have used (from /proc/stat), to see how much
    of it went to processes not in this benchmark."""
    try:
        parts = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in parts[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


# -- profiling ---------------------------------------------------------------------------------

def start_py_spy(pid: int, out: Path) -> subprocess.Popen[bytes] | None:
    exe = Path(sys.executable).with_name("py-spy")
    if not exe.exists():
        say("py-spy not found next to the interpreter; not profiling")
        return None
    return subprocess.Popen([str(exe), "record", "-p", str(pid), "-f", "raw", "-o", str(out), "--nonblocking",
                             "-r", "200"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop_py_spy(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# -- one workload ------------------------------------------------------------------------------

async def run_workload(w: Workload, args: argparse.Namespace, deadline: float) -> dict[str, Any]:
    out: dict[str, Any] = {}
    tmp = Path(tempfile.mkdtemp(prefix=f"bench-sched-{w.key}-"))
    api: APIServerProcess | None = None
    sched: ComponentProcess | None = None
    binder: FakeBinder | None = None
    spy: subprocess.Popen[bytes] | None = None
    scale = args.scale
    init_pods, measure_pods = int(w.init_pods * scale), int(w.measure_pods * scale)
    try:
        api = start_apiserver(tmp / "apiserver", storage="sqlite")
        async with Client(api.kubeconfig, qps=None, connection_limit=256, max_retries=10) as client:
            t0 = time.monotonic()
            nodes = await create_nodes(client, w.nodes, w.node_labels)
            await create_namespaces(client)
            say(f"{w.name}: {len(nodes)} nodes in {time.monotonic() - t0:.1f} s")
            if args.binder == "fake":
                binder = FakeBinder(client, nodes)
                await binder.start()
            else:
                t0 = time.monotonic()
                sched = start_scheduler(api.kubeconfig, tmp / "scheduler.log")
                say(f"{w.name}: scheduler ready in {time.monotonic() - t0:.1f} s (pid {sched.proc.pid})")
            node_zone = {n: (w.node_labels(i) if w.node_labels else {}).get("topology.kubernetes.io/zone", "")
                         for i, n in enumerate(nodes)}
            if init_pods:
                budget = min(INIT_BUDGET, deadline - time.monotonic())
                r0, el0, ok0 = await run_pods(client, INIT_NS, init_pods, w.init_template, budget)
                say(f"{w.name}: {len(r0.bound)}/{init_pods} initial pods scheduled in {el0:.1f} s")
                if not ok0:
                    raise TimeoutError(f"initial pods not scheduled within {budget:.0f} s")
                init_nodes = Counter(node for _, node in r0.bound.values())
            else:
                init_nodes = Counter[str]()
            if args.py_spy and sched is not None:
                spy = start_py_spy(sched.proc.pid, Path(f"{args.py_spy}-{w.key}.raw"))
            budget = min(w.budget, deadline - time.monotonic())
            pids = {"api": api.proc.pid, "bench": os.getpid(), **({"sched": sched.proc.pid} if sched else {})}
            cpu0 = {k: cpu_seconds(pid) for k, pid in pids.items()}
            busy0 = machine_busy_seconds()
            r, elapsed, finished = await run_pods(client, MEASURE_NS, measure_pods, w.measure_template, budget)
            cpu = {k: cpu_seconds(pid) - cpu0[k] for k, pid in pids.items()}
            cpu["other"] = max(0.0, machine_busy_seconds() - busy0 - sum(cpu.values()))
            stop_py_spy(spy)
            spy = None
            r.node_zone = node_zone
            lat = [(t - r.sent[name]) * 1000 for name, (t, _) in r.bound.items() if name in r.sent]
            rate = len(r.bound) / elapsed
            out[f"{w.key}_pods_per_s"] = round(rate, 1)
            out[f"{w.key}_p50_ms"] = round(percentile(lat, 0.50), 1)
            out[f"{w.key}_p99_ms"] = round(percentile(lat, 0.99), 1)
            out[f"{w.key}_complete"] = f"{len(r.bound)}/{measure_pods}"
            r.init_nodes = init_nodes
            if w.check is not None:
                for k, v in w.check(w, r).items():
                    out[f"{w.key}_{k}"] = v
            for k, v in cpu.items():
                out[f"{w.key}_cpu_{k}_s"] = round(v, 1)
            say(f"{w.name}: {len(r.bound)}/{measure_pods} pods bound in {elapsed:.2f} s = {rate:.1f} pods/s; "
                f"latency p50 {out[f'{w.key}_p50_ms']} ms p99 {out[f'{w.key}_p99_ms']} ms; "
                f"create errors {r.create_errors}" + ("" if finished else " (out of time: partial)"))
            say(f"{w.name}: CPU seconds while measuring: "
                + ", ".join(f"{k} {v:.1f}" for k, v in cpu.items()))
            if binder is not None:
                await binder.stop()
                binder = None
    except Exception as e:  # noqa: BLE001 - one workload's failure must not stop the others
        say(f"{w.name}: error: {type(e).__name__}: {e}")
        if sched is not None:
            say(sched.log()[-3000:])
        out.setdefault(f"{w.key}_pods_per_s", "error")
    finally:
        stop_py_spy(spy)
        if binder is not None:
            await binder.stop()
        if sched is not None:
            sched.stop()
            if args.keep_logs:
                shutil.copy(sched.log_path, Path(args.keep_logs) / f"scheduler-{w.key}.log")
        if api is not None:
            api.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return out


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {}
    deadline = time.monotonic() + RUN_DEADLINE
    chosen = [w for w in WORKLOADS if not args.only or w.key in args.only.split(",")]
    for w in chosen:
        if time.monotonic() > deadline - 30:
            say(f"{w.name}: skipped, out of time")
            results[f"{w.key}_pods_per_s"] = "skipped"
            continue
        results.update(await run_workload(w, args, deadline))
    return results


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # unwinds through the finally blocks that stop processes


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    p.add_argument("--binder", choices=("scheduler", "fake"), default="scheduler",
                   help="fake: bind pods to random nodes in-process (validates the measuring code)")
    p.add_argument("--only", default="", help="comma-separated workload keys: "
                   + ",".join(w.key for w in WORKLOADS))
    p.add_argument("--scale", type=float, default=1.0, help="multiply the pod counts (quick runs)")
    p.add_argument("--py-spy", default="", metavar="PREFIX", help="record the scheduler into PREFIX-<key>.raw")
    p.add_argument("--keep-logs", default="", metavar="DIR", help="copy each scheduler log into DIR")
    args = p.parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    t0 = time.monotonic()
    try:
        results = asyncio.run(main_async(args))
    except KeyboardInterrupt:
        say("interrupted")
        return 130
    results["binder"] = args.binder
    results["total_s"] = round(time.monotonic() - t0, 1)
    print(" ".join(f"{k}={v}" for k, v in results.items()), flush=True)
    return 0 if all(v not in ("error",) for v in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
