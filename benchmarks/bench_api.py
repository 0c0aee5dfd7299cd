"""API server benchmark (issues 2, 6): creates, LIST, watch, start, RSS, apply, custom resources.

Parts: pod creates, LIST of 10,000 pods, watch fan-out, start to /readyz, RSS, server-side
apply against merge patch, custom resources against pods.

Job: measure the figures issues 2 and 6 set targets for against a real ``kubepy apiserver``
child process, over HTTPS with the admin client certificate, print them as it goes, and
end with one line of ``key=value`` pairs that scripts and the README table read. The
custom-resource part is ``bench_crd``'s measurement, imported, run on this run's server.

Design: this process is the load generator (one asyncio loop) and the server is a child
process; on the 2-core machines we run on they share the cores, so the client side is
kept cheap: keep-alive connections, one per concurrent client, opened before timing
starts; watch events are matched by a byte search for the pod name instead of being
decoded. Every part is bounded in count and in time and fails on its own: a part that
errors prints ``<part>=error`` and the run goes on to the next; ``--parts`` picks some.
Apply and merge patch (and CRs and pods) alternate in rounds on one server, so that
noise from other work on the machine hits both sides of a ratio alike. ``--kubeconfig
PATH`` (or ``--external`` with ``$KUBECONFIG``) runs the load parts (creates, LIST, watch,
apply) against any cluster, so the same load can be compared with other implementations.
Servers started here talk on 127.0.0.1 only; they and their temp dirs are removed in
``finally`` blocks, also when the run fails or is interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import math
import os
import re
import secrets
import shutil
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import aiohttp
import orjson

from kubepy.pki.kubeconfig import load_kubeconfig
from kubepy.pki.tls import client_ssl_context
from kubepy.testing.processes import APIServerProcess, free_port

CONCURRENCY_LEVELS = (16, 32, 64)
CREATES_PER_LEVEL = 3_000
LEVEL_TIME_LIMIT = 35.0  # seconds; a level stops issuing creates after this
LIST_TARGET = 10_000
TOPUP_TIME_LIMIT = 45.0
TOPUP_CONCURRENCY = 64
LIST_REPEATS = 5
TABLE_ACCEPT = "application/json;as=Table;v=v1;g=meta.k8s.io"
WATCHERS = 100
WATCH_RATES = (500, 1_000, 2_000)
WATCH_STEP_SECONDS = 3.0
WATCH_SETTLE_SECONDS = 1.0  # all events must arrive within this of the last acknowledged write
WATCH_WRITERS = 64
READY_RUNS = 3
READY_TIMEOUT = 30.0
IDLE_SECONDS = 2.0
SSA_WORKERS = 16  # concurrent clients, each applying to (or patching) its own Deployment
SSA_CONTAINERS = 5
SSA_PER_WORKER = 40  # patches per worker per round
SSA_ROUNDS = 3  # apply and merge rounds alternate
SSA_ROUND_TIME_LIMIT = 20.0
SSA_COST_TARGET = 2.0  # issue 6: an apply may cost at most twice a merge patch
CRD_COUNT = 3_000  # per kind (CRs and pods), as bench_crd's default
CRD_CONCURRENCY = 32
CRD_ROUNDS = 3
PARTS = ("start", "creates", "watch", "ssa", "crd")
JSON_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}
# Watch events are matched by the pod name only: the names written in the watch part
# follow this pattern and no other field of those pods carries such a value.
WATCH_NAME_RE = re.compile(rb'"name":"(wpod-\d+-\d+)"')


# -- small helpers ---------------------------------------------------------------------------

def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..1) of `values`; NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def pod_manifest(name: str, index: int) -> dict[str, Any]:
    """A realistic small pod: one container with a port, labels, requests and limits."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "labels": {"app": "bench", "tier": "web", "shard": str(index % 16)},
        },
        "spec": {
            "containers": [{
                "name": "app",
                "image": "registry.k8s.io/pause:3.10",
                "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                "resources": {
                    "requests": {"cpu": "10m", "memory": "16Mi"},
                    "limits": {"cpu": "100m", "memory": "64Mi"},
                },
            }],
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 5,
        },
    }


def rss_mb(pid: int) -> float:
    """VmRSS of `pid` and its descendants, in MiB (from /proc/<pid>/status)."""
    total_kb = 0
    for p in (pid, *_descendants(pid)):
        try:
            status = Path(f"/proc/{p}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total_kb += int(line.split()[1])
    return total_kb / 1024


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds used so far by `pid` (from /proc/<pid>/stat); 0 if gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """Share of one core used by the server and by this load generator since creation:
    on 2 shared cores this tells which side limits a figure."""

    def __init__(self, server_pid: int | None) -> None:
        self.pid = server_pid
        self.wall = time.monotonic()
        self.client = time.process_time()
        self.server = cpu_seconds(server_pid) if server_pid else 0.0

    def text(self) -> str:
        wall = max(time.monotonic() - self.wall, 1e-9)
        client = (time.process_time() - self.client) / wall * 100
        if not self.pid:
            return f"load generator CPU {client:.0f}%"
        server = (cpu_seconds(self.pid) - self.server) / wall * 100
        return f"CPU of one core: server {server:.0f}%, load generator {client:.0f}%"


def fmt(value: float | int | str | None, digits: int = 1) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.{digits}f}"
    return str(value)


def say(line: str) -> None:
    print(line, flush=True)


# -- where the load goes ---------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class Target:
    """An API server to load: its URL and the TLS context/headers of one kubeconfig user."""

    server: str
    ssl_context: ssl.SSLContext
    headers: dict[str, str]

    @classmethod
    def from_kubeconfig(cls, path: str | os.PathLike[str], *, server: str | None = None) -> Target:
        """The kubeconfig's current context; `server` overrides its URL (a restarted server)."""
        info = load_kubeconfig(path)
        ctx = client_ssl_context(
            info.ca_pem, info.client_cert_pem, info.client_key_pem,
            insecure_skip_verify=info.insecure_skip_tls_verify,
        )
        headers = {"Authorization": f"Bearer {info.token}"} if info.token else {}
        return cls(server=(server or info.server).rstrip("/"), ssl_context=ctx, headers=headers)

    def url(self, path: str) -> str:
        return self.server + path

    def session(self, limit: int) -> aiohttp.ClientSession:
        """A session of at most `limit` keep-alive connections (one per concurrent client)."""
        return aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=limit, ssl=self.ssl_context),
            headers=self.headers,
            timeout=aiohttp.ClientTimeout(total=60),
        )


async def ensure_namespace(session: aiohttp.ClientSession, target: Target, name: str) -> None:
    body = orjson.dumps({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    async with session.post(target.url("/api/v1/namespaces"), data=body, headers=JSON_HEADERS) as r:
        text = await r.text()
        if r.status not in (200, 201, 409):
            raise RuntimeError(f"POST /api/v1/namespaces -> {r.status}: {text[:500]}")


async def first_pod(session: aiohttp.ClientSession, target: Target, ns: str, name: str) -> None:
    """Create one pod, retrying for a while: a real cluster refuses pods until the namespace's
    default ServiceAccount exists."""
    url = target.url(f"/api/v1/namespaces/{ns}/pods")
    deadline = time.monotonic() + 15
    while True:
        async with session.post(url, data=orjson.dumps(pod_manifest(name, 0)), headers=JSON_HEADERS) as r:
            text = await r.text()
            if r.status in (201, 409):
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"POST {url} -> {r.status}: {text[:500]}")
        await asyncio.sleep(0.5)


async def warm_connections(session: aiohttp.ClientSession, target: Target, ns: str, n: int) -> None:
    """Open `n` keep-alive connections (TLS handshakes) before the clock starts."""
    async def one() -> None:
        async with session.get(target.url(f"/api/v1/namespaces/{ns}"), headers=JSON_HEADERS) as r:
            await r.read()
    await asyncio.gather(*(one() for _ in range(n)))


@dataclass(kw_only=True)
class CreateRun:
    """The outcome of creating a batch of pods with some concurrency."""

    concurrency: int
    latencies: list[float] = field(default_factory=list)  # seconds, successful creates only
    created: list[str] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    first_error: str = ""
    elapsed: float = 0.0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed > 0 else 0.0

    def line(self, label: str) -> str:
        errs = sum(self.errors.values())
        text = (
            f"{label} c={self.concurrency}: {len(self.latencies)} created, {errs} errors in "
            f"{self.elapsed:.2f} s = {self.rate:.0f}/s, p50={percentile(self.latencies, .5) * 1e3:.1f} ms "
            f"p99={percentile(self.latencies, .99) * 1e3:.1f} ms"
        )
        if errs:
            text += f" errors={dict(self.errors)} first: {self.first_error[:300]}"
        return text


async def create_pods(
    session: aiohttp.ClientSession, target: Target, ns: str, names: Iterator[tuple[int, str]],
    *, concurrency: int, time_limit: float,
) -> CreateRun:
    """`concurrency` clients create the pods named by `names` back to back (closed loop)."""
    run = CreateRun(concurrency=concurrency)
    url = target.url(f"/api/v1/namespaces/{ns}/pods")
    start = time.perf_counter()
    deadline = start + time_limit

    async def client() -> None:
        for index, name in names:  # the iterator is shared: each name is taken once
            if time.perf_counter() > deadline:
                return
            body = orjson.dumps(pod_manifest(name, index))
            t = time.perf_counter()
            try:
                async with session.post(url, data=body, headers=JSON_HEADERS) as r:
                    data = await r.read()
                    status = r.status
            except (aiohttp.ClientError, asyncio.TimeoutError) as e:
                run.errors[type(e).__name__] += 1
                run.first_error = run.first_error or repr(e)
                continue
            if status == 201:
                run.latencies.append(time.perf_counter() - t)
                run.created.append(name)
            else:
                run.errors[str(status)] += 1
                run.first_error = run.first_error or f"POST {url} -> {status}: {data[:300]!r}"

    await asyncio.gather(*(client() for _ in range(concurrency)))
    run.elapsed = time.perf_counter() - start
    return run


# -- part 1 and 2: creates, then LIST of 10,000 ----------------------------------------------

@dataclass(kw_only=True)
class Options:
    levels: tuple[int, ...] = CONCURRENCY_LEVELS
    creates_per_level: int = CREATES_PER_LEVEL
    list_target: int = LIST_TARGET
    watch_rates: tuple[int, ...] = WATCH_RATES
    watchers: int = WATCHERS
    storage: str = "sqlite"
    py_spy: Path | None = None
    py_spy_mode: str = "cpu"
    cprofile: Path | None = None
    parts: tuple[str, ...] = PARTS
    ssa_workers: int = SSA_WORKERS
    ssa_per_worker: int = SSA_PER_WORKER
    crd_count: int = CRD_COUNT
    crd_concurrency: int = CRD_CONCURRENCY


async def creates_and_lists(target: Target, ns: str, opts: Options, results: dict[str, Any],
                            server_pid: int | None) -> int:
    """Parts 1 and 2; returns how many pods the namespace holds at the end."""
    total = 0
    counter = iter(range(1, 10**9))
    names = ((i, f"bench-{i:06d}") for i in counter)
    async with target.session(limit=4) as setup:
        await ensure_namespace(setup, target, ns)
        await first_pod(setup, target, ns, "bench-000000")
        total += 1
    say(f"namespace {ns} ready")

    # part 1: creates at each concurrency level
    best: CreateRun | None = None
    profiler = start_py_spy(opts, "creates", server_pid)
    try:
        for c in opts.levels:
            async with target.session(limit=c) as session:
                await warm_connections(session, target, ns, c)
                level_names = (item for _, item in zip(range(opts.creates_per_level), names))
                meter = CpuMeter(server_pid)
                run = await create_pods(session, target, ns, level_names, concurrency=c,
                                        time_limit=LEVEL_TIME_LIMIT)
                cpu = meter.text()
            total += len(run.created)
            say(f"{run.line('creates')}; {cpu}")
            results[f"creates_c{c}_per_s"] = run.rate
            results[f"create_c{c}_p99_ms"] = percentile(run.latencies, .99) * 1e3
            if run.latencies and (best is None or run.rate > best.rate):
                best = run
    finally:
        stop_py_spy(profiler)
    if best is None:
        results.update(creates_per_s="error", create_p99_ms="error")
    else:
        results.update(
            creates_per_s=best.rate, create_p50_ms=percentile(best.latencies, .5) * 1e3,
            create_p99_ms=percentile(best.latencies, .99) * 1e3, create_concurrency=best.concurrency,
        )

    # part 2: top up to list_target pods, then LIST them
    missing = opts.list_target - total
    if missing > 0:
        async with target.session(limit=TOPUP_CONCURRENCY) as session:
            await warm_connections(session, target, ns, TOPUP_CONCURRENCY)
            topup_names = (item for _, item in zip(range(missing), names))
            run = await create_pods(session, target, ns, topup_names, concurrency=TOPUP_CONCURRENCY,
                                    time_limit=TOPUP_TIME_LIMIT)
        total += len(run.created)
        say(run.line("top-up"))
    say(f"namespace {ns} holds {total} pods")
    try:
        await list_pods(target, ns, results)
    except Exception as e:  # noqa: BLE001 - one part failing must not stop the others
        say(f"list=error: {e!r}")
        results.update(list10k_s="error", list10k_table_s="error")
    return total


async def list_pods(target: Target, ns: str, results: dict[str, Any]) -> None:
    url = target.url(f"/api/v1/namespaces/{ns}/pods")
    async with target.session(limit=1) as session:
        for key, accept in (("list10k_s", "application/json"), ("list10k_table_s", TABLE_ACCEPT)):
            times: list[float] = []
            count = -1
            encoding = ""
            size = 0
            for _ in range(LIST_REPEATS):
                t = time.perf_counter()
                async with session.get(url, headers={"Accept": accept}) as r:
                    body = await r.read()
                    status = r.status
                    encoding = r.headers.get("Content-Encoding", "identity")
                times.append(time.perf_counter() - t)
                if status != 200:
                    raise RuntimeError(f"GET {url} (Accept: {accept}) -> {status}: {body[:300]!r}")
                size = len(body)
                doc = orjson.loads(body)
                count = len((doc.get("rows") if accept == TABLE_ACCEPT else doc.get("items")) or [])
                if accept == TABLE_ACCEPT and doc.get("kind") != "Table":
                    raise RuntimeError(f"Table LIST answered kind={doc.get('kind')!r}")
            median = statistics.median(times)
            results[key] = median
            if key == "list10k_s":
                results["list_items"] = count
            say(
                f"LIST {'Table' if accept == TABLE_ACCEPT else 'JSON '}: {count} items, "
                f"{size / 1e6:.1f} MB ({encoding}), median {median * 1e3:.0f} ms of "
                f"[{', '.join(f'{x * 1e3:.0f}' for x in times)}] ms"
            )


# -- part 3: watch fan-out -------------------------------------------------------------------

class Watcher:
    """One watch stream; records when each watched pod name was first seen."""

    def __init__(self) -> None:
        self.connected = asyncio.Event()
        self.seen: dict[bytes, float] = {}
        self.status = 0
        self.errors = 0
        self.ended = False
        self.failure = ""

    async def run(self, session: aiohttp.ClientSession, url: str, rv: str) -> None:
        params = {"watch": "true", "resourceVersion": rv, "timeoutSeconds": "600"}
        try:
            async with session.get(url, params=params, headers={"Accept": "application/json"},
                                   timeout=aiohttp.ClientTimeout(total=None)) as r:
                self.status = r.status
                self.connected.set()
                if r.status != 200:
                    self.failure = f"{r.status}: {(await r.read())[:300]!r}"
                    return
                seen = self.seen
                buf = b""
                async for chunk in r.content.iter_any():
                    now = time.monotonic()
                    buf += chunk
                    cut = buf.rfind(b"\n")
                    if cut < 0:
                        continue
                    for name in WATCH_NAME_RE.findall(buf, 0, cut):
                        seen.setdefault(name, now)
                    if b'"type":"ERROR"' in buf[:cut]:
                        self.errors += 1
                    buf = buf[cut + 1:]
        except (aiohttp.ClientError, asyncio.TimeoutError) as e:
            self.failure = repr(e)
        finally:
            self.ended = True
            self.connected.set()


async def paced_creates(
    session: aiohttp.ClientSession, target: Target, ns: str, names: list[bytes], *, rate: float,
    time_limit: float,
) -> tuple[dict[bytes, float], Counter[str], float]:
    """Create pods at `rate`/s (open loop, at most WATCH_WRITERS in flight): acks by name,
    errors, and the achieved rate."""
    url = target.url(f"/api/v1/namespaces/{ns}/pods")
    acks: dict[bytes, float] = {}
    errors: Counter[str] = Counter()
    t0 = time.monotonic() + 0.02
    deadline = t0 + time_limit
    work = iter(enumerate(names))

    async def writer() -> None:
        for i, name in work:
            delay = t0 + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            if time.monotonic() > deadline:
                return
            body = orjson.dumps(pod_manifest(name.decode(), i))
            try:
                async with session.post(url, data=body, headers=JSON_HEADERS) as r:
                    await r.read()
                    if r.status == 201:
                        acks[name] = time.monotonic()
                    else:
                        errors[str(r.status)] += 1
            except (aiohttp.ClientError, asyncio.TimeoutError) as e:
                errors[type(e).__name__] += 1

    await asyncio.gather(*(writer() for _ in range(WATCH_WRITERS)))
    span = (max(acks.values()) - t0) if acks else 0.0
    return acks, errors, (len(acks) / span if span > 0 else 0.0)


async def watch_fanout(target: Target, ns: str, opts: Options, results: dict[str, Any],
                       server_pid: int | None) -> None:
    url = target.url(f"/api/v1/namespaces/{ns}/pods")
    async with target.session(limit=4) as setup:
        await ensure_namespace(setup, target, ns)
        await first_pod(setup, target, ns, "wpod-0-0")
        async with setup.get(url, params={"limit": "1"}, headers=JSON_HEADERS) as r:
            rv = orjson.loads(await r.read())["metadata"]["resourceVersion"]
    watchers = [Watcher() for _ in range(opts.watchers)]
    async with target.session(limit=opts.watchers) as wsession, \
            target.session(limit=WATCH_WRITERS) as writers:
        tasks = [asyncio.create_task(w.run(wsession, url, rv)) for w in watchers]
        profiler: tuple[subprocess.Popen[bytes], Path] | None = None
        best: dict[str, float] | None = None
        try:
            await asyncio.wait_for(asyncio.gather(*(w.connected.wait() for w in watchers)), 15)
            broken = [w for w in watchers if w.status != 200]
            if broken:
                raise RuntimeError(f"{len(broken)} watchers failed: {broken[0].failure}")
            await warm_connections(writers, target, ns, WATCH_WRITERS)
            # a warm-up write that every watcher must see before the clock starts
            await first_pod(writers, target, ns, "wpod-0-1")
            if not await _all_seen(watchers, [b"wpod-0-1"], time.monotonic() + 10):
                raise RuntimeError("not every watcher saw the warm-up event within 10 s")
            say(f"{len(watchers)} watchers on {url} from resourceVersion {rv}")
            profiler = start_py_spy(opts, "watch", server_pid)
            for rate in opts.watch_rates:
                names = [f"wpod-{rate}-{i}".encode() for i in range(int(rate * WATCH_STEP_SECONDS))]
                meter = CpuMeter(server_pid)
                acks, errors, achieved = await paced_creates(
                    writers, target, ns, names, rate=rate, time_limit=WATCH_STEP_SECONDS * 2)
                end = max(acks.values(), default=time.monotonic())
                ok = await _all_seen(watchers, list(acks), end + WATCH_SETTLE_SECONDS)
                lags = [w.seen[n] - t for w in watchers for n, t in acks.items() if n in w.seen]
                missing = len(acks) * len(watchers) - len(lags)
                p50, p99 = percentile(lags, .5) * 1e3, percentile(lags, .99) * 1e3
                ended = sum(w.ended for w in watchers)
                say(
                    f"watch target {rate}/s: {len(acks)} writes at {achieved:.0f}/s "
                    f"({sum(errors.values())} errors{' ' + str(dict(errors)) if errors else ''}), "
                    f"{'all delivered' if ok else f'{missing} deliveries missing'} within "
                    f"{WATCH_SETTLE_SECONDS:.0f} s of the last write, lag p50={p50:.1f} ms p99={p99:.1f} ms"
                    + (f", {ended} streams ended" if ended else "") + f"; {meter.text()}"
                )
                if not ok or not acks or errors:
                    break
                # the server may not take the target rate (it also fans out): keep the step
                # with the highest rate actually written and delivered
                if best is None or achieved > best["rate"]:
                    best = {"rate": achieved, "target": rate, "p50": p50, "p99": p99}
        finally:
            stop_py_spy(profiler)
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    if best is None:
        results.update(watch_writes_per_s=0, watch_lag_p50_ms="n/a", watch_lag_p99_ms="n/a")
    else:
        results.update(watch_writes_per_s=best["rate"], watch_target_per_s=int(best["target"]),
                       watch_lag_p50_ms=best["p50"], watch_lag_p99_ms=best["p99"])


async def _all_seen(watchers: list[Watcher], names: list[bytes], deadline: float) -> bool:
    """Wait until every watcher has seen every name (or `deadline`); cheap to poll: each
    watcher keeps a cursor into `names`, so each (watcher, name) pair is checked once."""
    cursors = [0] * len(watchers)
    while True:
        done = True
        for k, w in enumerate(watchers):
            c, seen = cursors[k], w.seen
            while c < len(names) and names[c] in seen:
                c += 1
            cursors[k] = c
            done = done and c == len(names)
        if done:
            return True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(0.01)


# -- part 6: server-side apply against merge patch --------------------------------------------

def deployment_manifest(name: str, revision: int) -> dict[str, Any]:
    """A Deployment of 5 containers (env, 2 ports, requests and limits each) whose image tags
    and REVISION env values carry `revision`: what a CD pipeline applies on every release."""
    labels = {"app": name, "tier": "web"}
    containers = []
    for k in range(SSA_CONTAINERS):
        containers.append({
            "name": f"c{k}",
            "image": f"registry.example.com/team/svc{k}:1.{revision}",
            "env": [{"name": "MODE", "value": "bench"}, {"name": "SHARD", "value": str(k)},
                    {"name": "REVISION", "value": str(revision)},
                    {"name": "LOG_LEVEL", "value": "info"}],
            "ports": [{"name": f"http{k}", "containerPort": 8080 + k, "protocol": "TCP"},
                      {"name": f"metrics{k}", "containerPort": 9090 + k, "protocol": "TCP"}],
            "resources": {"requests": {"cpu": "50m", "memory": "64Mi"},
                          "limits": {"cpu": "500m", "memory": "256Mi"}},
        })
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": containers}},
        },
    }


def merge_patch_body(name: str, revision: int) -> dict[str, Any]:
    """The same change as a JSON merge patch: lists are replaced whole in a merge patch, so
    it carries the full container list (and nothing else of the Deployment)."""
    containers = deployment_manifest(name, revision)["spec"]["template"]["spec"]["containers"]
    return {"spec": {"template": {"spec": {"containers": containers}}}}


@dataclass(kw_only=True)
class PatchRun:
    """The outcome of one round of closed-loop patches."""

    latencies: list[float] = field(default_factory=list)  # seconds, 200 answers only
    errors: Counter[str] = field(default_factory=Counter)
    first_error: str = ""
    elapsed: float = 0.0


async def patch_round(
    session: aiohttp.ClientSession, target: Target, ns: str, kind: str, *, workers: int, per_worker: int,
    first_revision: int, time_limit: float,
) -> PatchRun:
    """`workers` clients, each patching its own Deployment `per_worker` times back to back:
    `kind` is "ssa" (apply, force) or "merge" (JSON merge patch)."""
    run = PatchRun()
    base = target.url(f"/apis/apps/v1/namespaces/{ns}/deployments")
    if kind == "ssa":
        headers = {"Content-Type": "application/apply-patch+yaml", "Accept": "application/json"}
        params = "?fieldManager=bench&force=true"
        make = deployment_manifest
    else:
        headers = {"Content-Type": "application/merge-patch+json", "Accept": "application/json"}
        params = ""
        make = merge_patch_body
    start = time.perf_counter()
    deadline = start + time_limit

    async def worker(w: int) -> None:
        name = f"{kind}-{w:03d}"
        url = f"{base}/{name}{params}"
        for rev in range(first_revision, first_revision + per_worker):
            if time.perf_counter() > deadline:
                return
            # kubectl and client-go send apply configurations as JSON (JSON is YAML)
            body = orjson.dumps(make(name, rev))
            t = time.perf_counter()
            try:
                async with session.patch(url, data=body, headers=headers) as r:
                    data = await r.read()
                    status = r.status
            except (aiohttp.ClientError, asyncio.TimeoutError) as e:
                run.errors[type(e).__name__] += 1
                run.first_error = run.first_error or repr(e)
                continue
            if status == 200:
                run.latencies.append(time.perf_counter() - t)
            else:
                run.errors[str(status)] += 1
                run.first_error = run.first_error or f"PATCH {url} -> {status}: {data[:300]!r}"

    await asyncio.gather(*(worker(w) for w in range(workers)))
    run.elapsed = time.perf_counter() - start
    return run


async def ssa_vs_merge(target: Target, ns: str, opts: Options, results: dict[str, Any],
                       server_pid: int | None) -> None:
    """Part 6: the same release (new image tags and env of 5 containers) written by server-side
    apply and by merge patch, alternating in rounds so that machine noise hits both alike."""
    workers = opts.ssa_workers
    async with target.session(limit=workers) as session:
        await ensure_namespace(session, target, ns)
        await warm_connections(session, target, ns, workers)
        coll = target.url(f"/apis/apps/v1/namespaces/{ns}/deployments")

        async def setup(w: int) -> None:
            # the applier's Deployments are created by an apply, the patcher's by a POST
            name = f"ssa-{w:03d}"
            async with session.patch(f"{coll}/{name}?fieldManager=bench&force=true",
                                     data=orjson.dumps(deployment_manifest(name, 0)),
                                     headers={"Content-Type": "application/apply-patch+yaml"}) as r:
                text = await r.text()
                if r.status not in (200, 201):
                    raise RuntimeError(f"apply {name} -> {r.status}: {text[:300]}")
            name = f"merge-{w:03d}"
            async with session.post(coll, data=orjson.dumps(deployment_manifest(name, 0)),
                                    headers=JSON_HEADERS) as r:
                text = await r.text()
                if r.status not in (201, 409):
                    raise RuntimeError(f"POST {name} -> {r.status}: {text[:300]}")

        await asyncio.gather(*(setup(w) for w in range(workers)))
        # one untimed round each: code paths and caches warm
        for kind in ("ssa", "merge"):
            await patch_round(session, target, ns, kind, workers=workers, per_worker=2, first_revision=1,
                              time_limit=SSA_ROUND_TIME_LIMIT)
        say(f"{workers} Deployments of {SSA_CONTAINERS} containers each for apply and for merge patch in {ns}")
        totals = {kind: PatchRun() for kind in ("ssa", "merge")}
        revision = 10
        profiler = start_py_spy(opts, "ssa", server_pid)
        try:
            for rnd in range(SSA_ROUNDS):
                for kind in ("ssa", "merge"):
                    meter = CpuMeter(server_pid)
                    run = await patch_round(session, target, ns, kind, workers=workers,
                                            per_worker=opts.ssa_per_worker, first_revision=revision,
                                            time_limit=SSA_ROUND_TIME_LIMIT)
                    total = totals[kind]
                    total.latencies.extend(run.latencies)
                    total.errors.update(run.errors)
                    total.first_error = total.first_error or run.first_error
                    total.elapsed += run.elapsed
                    errs = sum(run.errors.values())
                    say(f"{'apply' if kind == 'ssa' else 'merge'} round {rnd + 1}: {len(run.latencies)} patches, "
                        f"{errs} errors in {run.elapsed:.2f} s = {len(run.latencies) / run.elapsed:.0f}/s, "
                        f"p50={percentile(run.latencies, .5) * 1e3:.1f} ms "
                        f"p99={percentile(run.latencies, .99) * 1e3:.1f} ms; {meter.text()}"
                        + (f" errors={dict(run.errors)} first: {run.first_error[:300]}" if errs else ""))
                revision += opts.ssa_per_worker
        finally:
            stop_py_spy(profiler)
        # the last write of each kind must have landed (each one a new generation) unless a
        # round was cut short, and the apply must be owned by the applier
        for kind, operation in (("ssa", "Apply"), ("merge", "Update")):
            name = f"{kind}-000"
            async with session.get(f"{coll}/{name}", headers=JSON_HEADERS) as r:
                obj = orjson.loads(await r.read())
            image = obj["spec"]["template"]["spec"]["containers"][0]["image"]
            generation = obj["metadata"].get("generation")
            owners = {(m.get("manager"), m.get("operation")) for m in obj["metadata"].get("managedFields") or []}
            complete = len(totals[kind].latencies) == SSA_ROUNDS * workers * opts.ssa_per_worker
            expected = (f"registry.example.com/team/svc0:1.{revision - 1}", 3 + SSA_ROUNDS * opts.ssa_per_worker)
            if (complete and (image, generation) != expected) or not any(op == operation for _, op in owners):
                raise RuntimeError(f"unexpected state of {name} after the patches: image {image}, "
                                   f"generation {generation}, managers {sorted(owners)}")
    for kind, prefix in (("ssa", "ssa_applies"), ("merge", "merge_patches")):
        total = totals[kind]
        if total.errors or not total.latencies:
            raise RuntimeError(f"{kind}: {sum(total.errors.values())} errors, first: {total.first_error[:300]}")
        results[f"{prefix}_per_s"] = len(total.latencies) / total.elapsed
        results[f"{kind}_p50_ms"] = percentile(total.latencies, .5) * 1e3
        results[f"{kind}_p99_ms"] = percentile(total.latencies, .99) * 1e3
    results["ssa_cost_ratio"] = results["merge_patches_per_s"] / results["ssa_applies_per_s"]
    say(f"apply {results['ssa_applies_per_s']:.0f}/s (p99 {results['ssa_p99_ms']:.1f} ms) vs merge patch "
        f"{results['merge_patches_per_s']:.0f}/s (p99 {results['merge_p99_ms']:.1f} ms): apply costs "
        f"{results['ssa_cost_ratio']:.2f}x (target <= {SSA_COST_TARGET:.0f}x)")


# -- part 7: custom resources against pods (bench_crd) ---------------------------------------

async def crd_vs_pods(target: Target, opts: Options, results: dict[str, Any]) -> None:
    """Part 7: ``bench_crd``'s measurement (CR creates and LIST of 1,000 vs pods) on this server."""
    # imported here: bench_crd imports its helpers from this module
    from benchmarks import bench_crd

    results.update(await bench_crd.run(target, count=opts.crd_count, concurrency=opts.crd_concurrency,
                                       rounds=CRD_ROUNDS))
    say(f"CR creates {results['cr_creates_per_s']}/s vs pod creates {results['pod_creates_per_s']}/s "
        f"(ratio {results['cr_vs_pod_creates']}); LIST of 1,000: CRs {results['cr_list1k_s']} s, "
        f"pods {results['pod_list1k_s']} s")


# -- parts 4 and 5: start to /readyz, RSS ----------------------------------------------------

def launch(data_dir: Path, *, storage: str, cprofile: Path | None = None) -> tuple[APIServerProcess, float]:
    """Start ``kubepy apiserver`` on a free port; return it and seconds from spawn to /readyz 200."""
    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / "apiserver.log"
    prefix = [sys.executable, "-m", "cProfile", "-o", str(cprofile)] if cprofile else [sys.executable]
    cmd = [*prefix, "-m", "kubepy", "apiserver", "--data-dir", str(data_dir),
           "--secure-port", str(port), "--storage", storage]
    with open(log_path, "ab") as log_file:
        t0 = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=log_file, stderr=subprocess.STDOUT)
    handle = APIServerProcess(proc=proc, data_dir=data_dir, port=port, log_path=log_path)
    try:
        return handle, _wait_ready(handle, t0)
    except BaseException:
        handle.stop()
        raise


def _wait_ready(handle: APIServerProcess, t0: float) -> float:
    # /readyz is public, and the CA may not exist yet when polling starts: no verification.
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    while time.monotonic() - t0 < READY_TIMEOUT:
        if handle.proc.poll() is not None:
            raise RuntimeError(f"apiserver exited with {handle.proc.returncode}:\n{handle.log()[-3000:]}")
        conn = http.client.HTTPSConnection("127.0.0.1", handle.port, timeout=2.0, context=ctx)
        try:
            conn.request("GET", "/readyz")
            if conn.getresponse().status == 200:
                return time.monotonic() - t0
        except (OSError, http.client.HTTPException):
            pass
        finally:
            conn.close()
        time.sleep(0.005)
    raise RuntimeError(f"apiserver not ready after {READY_TIMEOUT} s:\n{handle.log()[-3000:]}")


def _wait_kubeconfig(handle: APIServerProcess) -> None:
    deadline = time.monotonic() + 10
    while not handle.kubeconfig.exists():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{handle.kubeconfig} was not written")
        time.sleep(0.02)


# -- profiling (optional, for finding where the server's time goes) --------------------------

def start_py_spy(opts: Options, part: str, pid: int | None) -> tuple[subprocess.Popen[bytes], Path] | None:
    """Record the server with py-spy into ``<prefix>-<part>.raw`` (collapsed stacks, one root
    frame per thread). Modes: ``cpu`` samples running threads (waiting for the GIL counts),
    ``gil`` only the thread holding the GIL (pure work), ``idle`` every thread, also when
    blocked (where the event loop waits)."""
    if opts.py_spy is None or pid is None:
        return None
    exe = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not os.path.exists(exe):
        say("py-spy not found; not profiling")
        return None
    out = opts.py_spy.with_name(f"{opts.py_spy.name}-{part}.raw")
    cmd = [exe, "record", "--pid", str(pid), "--format", "raw", "--rate", "200", "--nonblocking",
           "--threads", *{"gil": ["--gil"], "idle": ["--idle"]}.get(opts.py_spy_mode, []),
           "--output", str(out)]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), out


def stop_py_spy(profiler: tuple[subprocess.Popen[bytes], Path] | None) -> None:
    if profiler is None:
        return
    proc, out = profiler
    proc.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    say(f"py-spy profile written to {out}")


# -- the run ---------------------------------------------------------------------------------

def run_kubepy(opts: Options, results: dict[str, Any]) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="kubepy-bench-"))
    servers: list[APIServerProcess] = []
    try:
        if "start" in opts.parts:
            start_and_idle(tmp, opts, results, servers)
        data_dir = tmp / "main"
        pods = 0
        if "creates" in opts.parts:
            main, _ = launch(data_dir, storage=opts.storage, cprofile=opts.cprofile)
            servers.append(main)
            _wait_kubeconfig(main)
            target = Target.from_kubeconfig(main.kubeconfig, server=main.url)
            ns = f"bench-{secrets.token_hex(3)}"
            try:
                pods = asyncio.run(creates_and_lists(target, ns, opts, results, main.proc.pid))
                results["rss_10k_mb"] = rss_mb(main.proc.pid)
                say(f"RSS with {pods} pods (after the creates and LISTs): {results['rss_10k_mb']:.1f} MB")
            except Exception as e:  # noqa: BLE001
                say(f"creates=error: {e!r}")
                results.setdefault("creates_per_s", "error")
            main.stop()
            if opts.cprofile:
                say(f"cProfile of the create/LIST server written to {opts.cprofile}")

        if "watch" in opts.parts:
            if pods and opts.storage == "sqlite":
                main, seconds = launch(data_dir, storage=opts.storage)
                servers.append(main)
                results["ready_restart_s"] = seconds
                time.sleep(IDLE_SECONDS)
                results["rss_10k_restart_mb"] = rss_mb(main.proc.pid)
                say(f"restart to /readyz with {pods} pods: {seconds:.2f} s; RSS after "
                    f"{IDLE_SECONDS:.0f} s idle: {results['rss_10k_restart_mb']:.1f} MB")
            else:
                main, _ = launch(tmp / "watch", storage=opts.storage)
                servers.append(main)
                _wait_kubeconfig(main)
            target = Target.from_kubeconfig(main.kubeconfig, server=main.url)
            try:
                watch_ns = f"bench-watch-{secrets.token_hex(3)}"
                asyncio.run(watch_fanout(target, watch_ns, opts, results, main.proc.pid))
            except Exception as e:  # noqa: BLE001
                say(f"watch=error: {e!r}")
                results.update(watch_writes_per_s="error", watch_lag_p99_ms="error")
            main.stop()  # the next parts get a fresh server of their own

        if "ssa" in opts.parts or "crd" in opts.parts:
            main, _ = launch(tmp / "writes", storage=opts.storage)
            servers.append(main)
            _wait_kubeconfig(main)
            target = Target.from_kubeconfig(main.kubeconfig, server=main.url)
            if "ssa" in opts.parts:
                try:
                    asyncio.run(ssa_vs_merge(target, f"bench-ssa-{secrets.token_hex(3)}", opts, results,
                                             main.proc.pid))
                except Exception as e:  # noqa: BLE001
                    say(f"ssa=error: {e!r}")
                    results.update(dict.fromkeys(SSA_KEYS, "error"))
            if "crd" in opts.parts:
                try:
                    asyncio.run(crd_vs_pods(target, opts, results))
                except Exception as e:  # noqa: BLE001
                    say(f"crd=error: {e!r}")
                    results.update(dict.fromkeys(CRD_KEYS, "error"))
    finally:
        for handle in servers:
            handle.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def start_and_idle(tmp: Path, opts: Options, results: dict[str, Any], servers: list[APIServerProcess]) -> None:
    """Parts 4 and 5 on fresh data dirs."""
    ready: list[float] = []
    idle: list[float] = []
    for i in range(READY_RUNS):
        handle, seconds = launch(tmp / f"fresh-{i}", storage=opts.storage)
        servers.append(handle)
        ready.append(seconds)
        time.sleep(IDLE_SECONDS)
        idle.append(rss_mb(handle.proc.pid))
        handle.stop()
    results.update(ready_s=statistics.median(ready), idle_rss_mb=statistics.median(idle))
    say(f"start to /readyz (fresh data dir, {opts.storage}): median {statistics.median(ready):.2f} s "
        f"of [{', '.join(f'{x:.2f}' for x in ready)}]")
    say(f"idle RSS after {IDLE_SECONDS:.0f} s: median {statistics.median(idle):.1f} MB "
        f"of [{', '.join(f'{x:.1f}' for x in idle)}]")


def run_external(kubeconfig: str, opts: Options, results: dict[str, Any]) -> None:
    target = Target.from_kubeconfig(kubeconfig)
    say(f"external cluster {target.server} (kubeconfig {kubeconfig})")
    suffix = secrets.token_hex(3)
    namespaces = [f"bench-{suffix}", f"bench-watch-{suffix}", f"bench-ssa-{suffix}"]
    if "crd" in opts.parts:
        say("crd: skipped against an external cluster (it would leave a CRD behind)")
    try:
        if "creates" in opts.parts:
            try:
                asyncio.run(creates_and_lists(target, namespaces[0], opts, results, None))
            except Exception as e:  # noqa: BLE001
                say(f"creates=error: {e!r}")
                results.setdefault("creates_per_s", "error")
        if "watch" in opts.parts:
            try:
                asyncio.run(watch_fanout(target, namespaces[1], opts, results, None))
            except Exception as e:  # noqa: BLE001
                say(f"watch=error: {e!r}")
                results.update(watch_writes_per_s="error", watch_lag_p99_ms="error")
        if "ssa" in opts.parts:
            try:
                asyncio.run(ssa_vs_merge(target, namespaces[2], opts, results, None))
            except Exception as e:  # noqa: BLE001
                say(f"ssa=error: {e!r}")
                results.update(dict.fromkeys(SSA_KEYS, "error"))
    finally:
        asyncio.run(_delete_namespaces(target, namespaces))


async def _delete_namespaces(target: Target, names: list[str]) -> None:
    async with target.session(limit=2) as session:
        for name in names:
            try:
                async with session.delete(target.url(f"/api/v1/namespaces/{name}")) as r:
                    await r.read()
            except aiohttp.ClientError:
                pass


SUMMARY_KEYS = (
    "creates_per_s", "create_p50_ms", "create_p99_ms", "create_concurrency", "list_items",
    "list10k_s", "list10k_table_s", "watch_writes_per_s", "watch_target_per_s", "watch_lag_p50_ms",
    "watch_lag_p99_ms", "ready_s", "ready_restart_s", "idle_rss_mb", "rss_10k_mb", "rss_10k_restart_mb",
)
SSA_KEYS = ("ssa_applies_per_s", "ssa_p50_ms", "ssa_p99_ms", "merge_patches_per_s", "merge_p50_ms", "merge_p99_ms",
            "ssa_cost_ratio")
CRD_KEYS = ("cr_creates_per_s", "cr_create_p99_ms", "cr_list1k_s", "pod_creates_per_s", "pod_create_p99_ms",
            "pod_list1k_s", "cr_vs_pod_creates")


def summary(results: dict[str, Any]) -> str:
    """The last line: the fixed keys (parts 1-5, then apply against merge patch, then custom
    resources against pods), then the per-concurrency-level create figures."""
    digits = {"list10k_s": 3, "list10k_table_s": 3, "ready_s": 2, "ready_restart_s": 2, "ssa_cost_ratio": 2,
              "cr_list1k_s": 3, "pod_list1k_s": 3, "cr_vs_pod_creates": 2}
    keys = [*SUMMARY_KEYS, *SSA_KEYS, *CRD_KEYS, *(k for k in results if re.match(r"creates?_c\d", k))]
    return " ".join(f"{k}={fmt(results.get(k), digits.get(k, 1))}" for k in keys)


def _interrupted(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # so that the finally blocks stop the servers and remove temp dirs


def parse_args(argv: list[str] | None) -> tuple[argparse.Namespace, Options]:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_api", description=__doc__.split("\n")[0])
    p.add_argument("--kubeconfig", help="load this cluster (creates, LIST, watch, apply) instead of starting kubepy")
    p.add_argument("--external", action="store_true", help="like --kubeconfig, with $KUBECONFIG")
    p.add_argument("--storage", choices=("sqlite", "memory"), default="sqlite")
    p.add_argument("--levels", default=",".join(map(str, CONCURRENCY_LEVELS)), help="concurrent clients")
    p.add_argument("--creates", type=int, default=CREATES_PER_LEVEL, help="pods created per level")
    p.add_argument("--list-target", type=int, default=LIST_TARGET, help="pods in the LISTed namespace")
    p.add_argument("--watch-rates", default=",".join(map(str, WATCH_RATES)), help="writes/s steps")
    p.add_argument("--watchers", type=int, default=WATCHERS)
    p.add_argument("--parts", default=",".join(PARTS),
                   help=f"comma list of the parts to run, of {','.join(PARTS)} (default: all)")
    p.add_argument("--ssa-workers", type=int, default=SSA_WORKERS, help="concurrent appliers (and patchers)")
    p.add_argument("--ssa-per-worker", type=int, default=SSA_PER_WORKER, help="patches per worker per round")
    p.add_argument("--crd-count", type=int, default=CRD_COUNT, help="CRs (and pods) created in the crd part")
    p.add_argument("--py-spy", type=Path, metavar="PREFIX",
                   help="record py-spy profiles of the server: PREFIX-creates.raw, PREFIX-watch.raw, "
                        "PREFIX-ssa.raw")
    p.add_argument("--py-spy-mode", choices=("cpu", "gil", "idle"), default="cpu",
                   help="py-spy samples running threads / only the GIL holder / all threads")
    p.add_argument("--cprofile", type=Path, help="run the load server under cProfile, stats to this file")
    a = p.parse_args(argv)
    parts = tuple(x.strip() for x in a.parts.split(",") if x.strip())
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        p.error(f"unknown parts {unknown}; known: {', '.join(PARTS)}")
    opts = Options(
        levels=tuple(int(x) for x in a.levels.split(",")), creates_per_level=a.creates,
        list_target=a.list_target, watch_rates=tuple(int(x) for x in a.watch_rates.split(",")),
        watchers=a.watchers, storage=a.storage,
        py_spy=a.py_spy.resolve() if a.py_spy else None, py_spy_mode=a.py_spy_mode,
        cprofile=a.cprofile.resolve() if a.cprofile else None,
        parts=parts, ssa_workers=a.ssa_workers, ssa_per_worker=a.ssa_per_worker, crd_count=a.crd_count,
    )
    return a, opts


def main(argv: list[str] | None = None) -> int:
    args, opts = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupted)
    results: dict[str, Any] = {}
    kubeconfig = args.kubeconfig or (os.environ.get("KUBECONFIG") if args.external else None)
    if args.external and not kubeconfig:
        say("--external needs $KUBECONFIG")
        return 2
    started = time.monotonic()
    try:
        if kubeconfig:
            run_external(kubeconfig, opts, results)
        else:
            run_kubepy(opts, results)
    except KeyboardInterrupt:
        say("run=interrupted")
        code = 130
    except Exception as e:  # noqa: BLE001 - still print what was measured
        say(f"run=error: {e!r}")
        code = 1
    else:
        code = 0
    say(f"total {time.monotonic() - started:.0f} s")
    say(summary(results))
    return code


if __name__ == "__main__":
    sys.exit(main())
