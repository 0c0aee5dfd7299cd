"""Jobs and CronJobs end to end: real apiserver, `kubepy controller-manager`, FakeNode, kubectl.

Pods "run" on a FakeNode in the test's event loop and finish with the exit code in their
``fake.kubepy.io/exit-code`` annotation, so kubectl calls go through a thread to keep that
loop free. The CronJob test does not wait for a wall-clock minute: it creates the CronJob
suspended, sets ``status.lastScheduleTime`` two minutes back through the status
subresource (as any client may), and resumes it; the controller then sees a missed start
time for the current minute and starts it at once — upstream's own semantics, no test hook.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from kubepy.client import Client
from kubepy.testing.fake_node import FakeNode
from kubepy.testing.processes import APIServerProcess, ComponentProcess, start_controller_manager

from .conftest import Kubectl

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def controller_manager(apiserver: APIServerProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ComponentProcess]:
    log = Path(tmp_path_factory.mktemp("cm")) / "controller-manager.log"
    cm = start_controller_manager(apiserver.kubeconfig, log,
                                  "--controllers=job,cronjob,ttl-after-finished,garbagecollector",
                                  "--leader-elect=false")
    try:
        yield cm
    finally:
        cm.stop()


@pytest.fixture
async def node(apiserver: APIServerProcess, controller_manager: ComponentProcess) -> AsyncIterator[FakeNode]:
    async with Client(apiserver.kubeconfig) as client:
        fake = FakeNode(client, "job-node")
        await fake.start()
        try:
            yield fake
        finally:
            await fake.stop()


async def kc(kubectl: Kubectl, *args: str, input: str | None = None, timeout: float = 60) -> str:
    """kubectl in a thread, so the FakeNode keeps running meanwhile."""
    proc = await asyncio.to_thread(kubectl.run, *args, input=input, timeout=timeout)
    return proc.stdout


async def kc_json(kubectl: Kubectl, *args: str) -> Any:
    return json.loads(await kc(kubectl, *args, "-o", "json"))


async def poll(check: Any, *, timeout: float = 20.0, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last: {result!r})")
        await asyncio.sleep(interval)


def job_yaml(name: str, namespace: str, *, exit_code: int = 0, extra_spec: str = "", **spec: Any) -> str:
    fields = "".join(f"  {k}: {json.dumps(v)}\n" for k, v in spec.items())
    return f"""apiVersion: batch/v1
kind: Job
metadata:
  name: {name}
  namespace: {namespace}
spec:
{fields}{extra_spec}  template:
    metadata:
      annotations:
        fake.kubepy.io/exit-code: "{exit_code}"
        fake.kubepy.io/run-seconds: "0.2"
    spec:
      restartPolicy: Never
      containers:
      - name: c
        image: busybox
"""


async def job_pods(kubectl: Kubectl, namespace: str, job: str) -> list[Any]:
    pods = await kc_json(kubectl, "get", "pods", "-n", namespace, "-l", f"batch.kubernetes.io/job-name={job}")
    return list(pods["items"])


async def test_a_job_with_parallelism_runs_to_its_completions(kubectl: Kubectl, namespace: str, node: FakeNode) -> None:
    await kc(kubectl, "apply", "-f", "-", input=job_yaml("para", namespace, completions=4, parallelism=2))
    await kc(kubectl, "wait", "--for=condition=complete", "job/para", "-n", namespace, "--timeout=30s", timeout=40)
    table = await kc(kubectl, "get", "job", "para", "-n", namespace)
    assert "4/4" in table.splitlines()[1], table
    job = await kc_json(kubectl, "get", "job", "para", "-n", namespace)
    status = job["status"]
    assert status["succeeded"] == 4 and status.get("active", 0) == 0
    assert {c["type"] for c in status["conditions"]} == {"SuccessCriteriaMet", "Complete"}
    assert status["completionTime"] and status["startTime"]
    pods = await job_pods(kubectl, namespace, "para")
    assert len(pods) == 4
    assert all(not p["metadata"].get("finalizers") for p in pods)  # tracking finalizers removed
    events = await kc(kubectl, "get", "events", "-n", namespace, "--field-selector", "involvedObject.name=para")
    assert "SuccessfulCreate" in events and "Completed" in events


async def test_a_failing_job_fails_after_its_backoff_limit(kubectl: Kubectl, namespace: str, node: FakeNode) -> None:
    # upstream's 10 s back-off lies between the two failures
    await kc(kubectl, "apply", "-f", "-", input=job_yaml("fails", namespace, exit_code=1, backoffLimit=1))
    await kc(kubectl, "wait", "--for=condition=failed", "job/fails", "-n", namespace, "--timeout=40s", timeout=50)
    job = await kc_json(kubectl, "get", "job", "fails", "-n", namespace)
    failed = next(c for c in job["status"]["conditions"] if c["type"] == "Failed")
    assert failed["reason"] == "BackoffLimitExceeded"
    assert job["status"]["failed"] == 2
    assert len(await job_pods(kubectl, namespace, "fails")) == 2


async def test_an_indexed_job_completes_every_index(kubectl: Kubectl, namespace: str, node: FakeNode) -> None:
    await kc(kubectl, "apply", "-f", "-",
             input=job_yaml("idx", namespace, completions=3, parallelism=3, completionMode="Indexed"))
    await kc(kubectl, "wait", "--for=condition=complete", "job/idx", "-n", namespace, "--timeout=30s", timeout=40)
    job = await kc_json(kubectl, "get", "job", "idx", "-n", namespace)
    assert job["status"]["completedIndexes"] == "0-2"
    pods = await job_pods(kubectl, namespace, "idx")
    indexes = sorted(p["metadata"]["labels"]["batch.kubernetes.io/job-completion-index"] for p in pods)
    assert indexes == ["0", "1", "2"]
    assert sorted(p["spec"]["hostname"] for p in pods) == ["idx-0", "idx-1", "idx-2"]


async def test_a_suspended_job_starts_only_when_resumed(kubectl: Kubectl, namespace: str, node: FakeNode) -> None:
    await kc(kubectl, "apply", "-f", "-", input=job_yaml("susp", namespace, suspend=True))

    async def suspended() -> bool:
        job = await kc_json(kubectl, "get", "job", "susp", "-n", namespace)
        return any(c["type"] == "Suspended" and c["status"] == "True" for c in job["status"].get("conditions") or ())

    await poll(suspended)
    assert await job_pods(kubectl, namespace, "susp") == []
    await kc(kubectl, "patch", "job", "susp", "-n", namespace, "-p", '{"spec":{"suspend":false}}')
    await kc(kubectl, "wait", "--for=condition=complete", "job/susp", "-n", namespace, "--timeout=30s", timeout=40)
    assert len(await job_pods(kubectl, namespace, "susp")) == 1


async def test_a_cronjob_starts_the_job_of_a_due_schedule(kubectl: Kubectl, namespace: str, node: FakeNode) -> None:
    manifest = f"""apiVersion: batch/v1
kind: CronJob
metadata:
  name: every
  namespace: {namespace}
spec:
  schedule: "* * * * *"
  suspend: true
  jobTemplate:
    spec:
      template:
        metadata:
          annotations:
            fake.kubepy.io/exit-code: "0"
        spec:
          restartPolicy: Never
          containers:
          - name: c
            image: busybox
"""
    await kc(kubectl, "apply", "-f", "-", input=manifest)
    earlier = (datetime.now(UTC) - timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:00Z")
    await kc(kubectl, "patch", "cronjob", "every", "-n", namespace, "--subresource=status", "--type=merge",
             "-p", json.dumps({"status": {"lastScheduleTime": earlier}}))
    await kc(kubectl, "patch", "cronjob", "every", "-n", namespace, "-p", '{"spec":{"suspend":false}}')

    async def owned_jobs() -> list[Any]:
        jobs = await kc_json(kubectl, "get", "jobs", "-n", namespace)
        return [j for j in jobs["items"]
                if any(r.get("kind") == "CronJob" and r.get("name") == "every"
                       for r in j["metadata"].get("ownerReferences") or ())]

    [job] = await poll(owned_jobs)
    scheduled = job["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"]
    minutes = int(datetime.fromisoformat(scheduled.replace("Z", "+00:00")).timestamp()) // 60
    assert job["metadata"]["name"] == f"every-{minutes}"
    cj = await kc_json(kubectl, "get", "cronjob", "every", "-n", namespace)
    assert cj["status"]["lastScheduleTime"] == scheduled

    async def succeeded() -> Any:
        status = (await kc_json(kubectl, "get", "cronjob", "every", "-n", namespace))["status"]
        return status.get("lastSuccessfulTime") and not status.get("active")

    await poll(succeeded, timeout=25)


async def test_ttl_after_finished_deletes_a_finished_job(kubectl: Kubectl, namespace: str, node: FakeNode) -> None:
    await kc(kubectl, "apply", "-f", "-", input=job_yaml("ttl", namespace, ttlSecondsAfterFinished=0))

    async def gone() -> bool:
        proc = await asyncio.to_thread(kubectl.run, "get", "job", "ttl", "-n", namespace, "-o", "json", check=False)
        if proc.returncode != 0:
            return "NotFound" in proc.stderr
        return bool(json.loads(proc.stdout)["metadata"].get("deletionTimestamp"))

    await poll(gone, timeout=25)
