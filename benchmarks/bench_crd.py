"""Custom resource benchmark (issue 6 item 6): CR creates/s and LIST of 1,000 CRs, vs pods.

Job: measure whether custom resources are served at the rate of built-in pods, in one run
against one ``kubepy apiserver`` child process (sqlite store, HTTPS, admin client
certificate), and end with one ``key=value`` line: ``cr_creates_per_s cr_create_p99_ms
cr_list1k_s pod_creates_per_s pod_create_p99_ms pod_list1k_s cr_vs_pod_creates``.

Design: the load generator and its helpers come from ``bench_api`` (keep-alive aiohttp
connections opened before the clock starts, closed-loop clients). The CRD is realistic:
a structural schema with defaults, an enum, a pattern and one CEL rule, the status
subresource and printer columns, so a create pays for pruning, defaulting, validation and
CEL. Pods and CRs are created alternately in rounds with the same concurrency so that
background noise on the machine hits both alike. Bounded: ``--count`` objects per kind
(default 3,000), 60 s per round; the server and its temp dir are removed in ``finally``.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from benchmarks.bench_api import JSON_HEADERS, Target, ensure_namespace, launch, percentile, pod_manifest, say

GROUP = "bench.example.com"
CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": f"workloads.{GROUP}"},
    "spec": {
        "group": GROUP,
        "scope": "Namespaced",
        "names": {"plural": "workloads", "singular": "workload", "kind": "Workload"},
        "versions": [{
            "name": "v1", "served": True, "storage": True,
            "subresources": {"status": {}},
            "additionalPrinterColumns": [{"name": "Image", "type": "string", "jsonPath": ".spec.image"},
                                         {"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"}],
            "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                "spec": {
                    "type": "object",
                    "required": ["image"],
                    "x-kubernetes-validations": [{"rule": "self.replicas <= self.maxReplicas",
                                                  "message": "replicas must not exceed maxReplicas"}],
                    "properties": {
                        "image": {"type": "string", "pattern": "^[a-z0-9./:-]+$"},
                        "replicas": {"type": "integer", "minimum": 0, "default": 1},
                        "maxReplicas": {"type": "integer", "default": 10},
                        "tier": {"type": "string", "enum": ["web", "batch", "cache"]},
                        "ports": {"type": "array", "items": {"type": "object", "properties": {
                            "name": {"type": "string"}, "port": {"type": "integer"},
                            "protocol": {"type": "string", "default": "TCP"}}}},
                        "env": {"type": "object", "additionalProperties": {"type": "string"}},
                    },
                },
                "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
            }}},
        }],
    },
}


def cr_manifest(name: str, index: int) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/v1", "kind": "Workload",
        "metadata": {"name": name, "labels": {"app": "bench", "tier": "web", "index": str(index % 10)}},
        "spec": {"image": "registry.example.com/web:1.2.3", "replicas": 2, "tier": "web",
                 "ports": [{"name": "http", "port": 8080}], "env": {"MODE": "bench", "LEVEL": "3"}},
    }


async def closed_loop(session: Any, url: str, make: Callable[[str, int], dict[str, Any]], prefix: str,
                      count: int, concurrency: int, time_limit: float = 60.0) -> tuple[int, float, list[float], str]:
    """(created, elapsed s, latencies, first error) of `count` creates by `concurrency` clients."""
    names = iter((i, f"{prefix}-{i}") for i in range(count))
    latencies: list[float] = []
    first_error = ""
    start = time.perf_counter()
    deadline = start + time_limit

    async def client() -> None:
        nonlocal first_error
        for index, name in names:
            if time.perf_counter() > deadline:
                return
            t = time.perf_counter()
            async with session.post(url, data=orjson.dumps(make(name, index)), headers=JSON_HEADERS) as r:
                data = await r.read()
                if r.status == 201:
                    latencies.append(time.perf_counter() - t)
                elif not first_error:
                    first_error = f"{r.status}: {data[:300]!r}"

    await asyncio.gather(*(client() for _ in range(concurrency)))
    return len(latencies), time.perf_counter() - start, latencies, first_error


async def list_time(session: Any, url: str, expect: int, repeats: int = 5) -> float:
    """Median seconds of a full JSON LIST of `url` (checks the item count)."""
    times: list[float] = []
    for _ in range(repeats):
        t = time.perf_counter()
        async with session.get(url, headers=JSON_HEADERS) as r:
            body = await r.read()
        times.append(time.perf_counter() - t)
        items = len(orjson.loads(body)["items"])
        if items < expect:
            raise RuntimeError(f"LIST {url}: {items} items, expected {expect}")
    return statistics.median(times)


async def run(target: Target, *, count: int, concurrency: int, rounds: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    async with target.session(concurrency + 2) as session:
        async with session.post(target.url("/apis/apiextensions.k8s.io/v1/customresourcedefinitions"),
                                data=orjson.dumps(CRD), headers=JSON_HEADERS) as r:
            if r.status not in (201, 409):
                raise RuntimeError(f"CRD create -> {r.status}: {(await r.read())[:300]!r}")
        cr_list = target.url(f"/apis/{GROUP}/v1/namespaces/bench-cr/workloads")
        for _ in range(100):  # until the CRD is established and served
            async with session.get(cr_list, headers=JSON_HEADERS) as r:
                await r.read()
                if r.status == 200:
                    break
            await asyncio.sleep(0.05)
        for ns in ("bench-cr", "bench-pod"):
            await ensure_namespace(session, target, ns)
        pod_url = target.url("/api/v1/namespaces/bench-pod/pods")
        per_round = max(1, count // rounds)
        stats: dict[str, list[Any]] = {"cr": [0, 0.0, []], "pod": [0, 0.0, []]}
        for rnd in range(rounds):
            for kind, url, make in (("cr", cr_list, cr_manifest), ("pod", pod_url, pod_manifest)):
                created, elapsed, lat, err = await closed_loop(session, url, make, f"{kind}{rnd}", per_round, concurrency)
                if err:
                    say(f"{kind} round {rnd}: first error {err}")
                say(f"{kind} round {rnd}: {created} created in {elapsed:.2f} s = {created / elapsed:.0f}/s")
                s = stats[kind]
                s[0] += created
                s[1] += elapsed
                s[2].extend(lat)
        for kind in ("cr", "pod"):
            created, elapsed, lat = stats[kind]
            results[f"{kind}_creates_per_s"] = round(created / elapsed) if elapsed else 0
            results[f"{kind}_create_p99_ms"] = round(percentile(lat, 0.99) * 1e3, 1)
        expect = min(1000, stats["cr"][0])
        results["cr_list1k_s"] = round(await list_time(session, cr_list + "?limit=1000", expect), 3)
        results["pod_list1k_s"] = round(await list_time(session, pod_url + "?limit=1000", expect), 3)
        results["cr_vs_pod_creates"] = round(results["cr_creates_per_s"] / max(1, results["pod_creates_per_s"]), 2)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=3000, help="objects per kind")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--storage", default="sqlite")
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="kubepy-bench-crd-"))
    handle = None
    try:
        handle, ready = launch(tmp / "data", storage=args.storage)
        say(f"apiserver ready in {ready:.2f} s (pid {handle.proc.pid})")
        target = Target.from_kubeconfig(handle.kubeconfig, server=handle.url)
        results = asyncio.run(run(target, count=args.count, concurrency=args.concurrency, rounds=args.rounds))
    finally:
        if handle is not None:
            handle.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    say(" ".join(f"{k}={v}" for k, v in results.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
