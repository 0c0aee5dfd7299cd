"""Streaming kubectl against a real kubepy API server: ``get -w`` and ``wait``.

A watching kubectl runs in the background with its output going to a file; tests poll that
file (never sleep) until the rows they expect arrive, then stop the process by its PID.
kubectl lists first and then watches from the list's resourceVersion, so objects written
after the first rows are printed cannot be missed.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .conftest import KUBECTL, Kubectl, poll

pytestmark = [
    pytest.mark.integration,
]


class Background:
    """A kubectl process whose stdout/stderr go to files that tests poll."""

    def __init__(self, kubectl: Kubectl, out_dir: Path, *args: str) -> None:
        self.out = out_dir / "stdout"
        self.err = out_dir / "stderr"
        with open(self.out, "wb") as out, open(self.err, "wb") as err:
            self.proc = subprocess.Popen([KUBECTL or "kubectl", *args], stdout=out, stderr=err, env=kubectl.env)

    def lines(self) -> list[list[str]]:
        return [line.split() for line in self.out.read_text().splitlines()]

    def wait_for_rows(self, count: int, timeout: float = 10.0) -> list[list[str]]:
        def enough() -> list[list[str]] | None:
            if self.proc.poll() is not None:
                raise AssertionError(f"kubectl exited {self.proc.returncode}: {self.err.read_text()}")
            got = self.lines()
            return got if len(got) >= count else None

        result: list[list[str]] = poll(enough, timeout=timeout)
        return result

    def wait_for_watch_request(self, timeout: float = 10.0) -> None:
        """With ``-v=6`` kubectl logs each request; once the watch is open, later writes are streamed."""
        poll(lambda: "watch=true" in self.err.read_text(), timeout=timeout)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


Start = Callable[..., Background]


@pytest.fixture
def background(kubectl: Kubectl, tmp_path: Path) -> Iterator[Start]:
    """Starts kubectl in the background; every process still running is stopped afterwards."""
    started: list[Background] = []

    def start(*args: str) -> Background:
        out_dir = tmp_path / f"bg{len(started)}"
        out_dir.mkdir()
        started.append(Background(kubectl, out_dir, *args))
        return started[-1]

    yield start
    for bg in started:
        bg.stop()


# -- get -w ---------------------------------------------------------------------------------------

def test_get_watch_streams_rows_for_added_modified_deleted(kubectl: Kubectl, namespace: str, background: Start) -> None:
    ns = namespace
    kubectl("-n", ns, "create", "configmap", "seed", "--from-literal=a=1")
    kubectl("-n", ns, "label", "configmap", "seed", "test=rows")
    watch = background("-n", ns, "get", "configmaps", "-w", "-l", "test=rows")
    header, first = watch.wait_for_rows(2)
    assert header == ["NAME", "DATA", "AGE"]
    assert first[:2] == ["seed", "1"]

    kubectl("-n", ns, "create", "configmap", "streamed", "--from-literal=x=1", "--from-literal=y=2")
    kubectl("-n", ns, "label", "configmap", "streamed", "test=rows")
    # created without the label (not streamed), then labelled into the selection (streamed)
    assert watch.wait_for_rows(3)[2][:2] == ["streamed", "2"]
    kubectl("-n", ns, "patch", "configmap", "streamed", "--type=merge", "-p", '{"data":{"z":"3"}}')
    assert watch.wait_for_rows(4)[3][:2] == ["streamed", "3"]
    kubectl("-n", ns, "delete", "configmap", "streamed")
    assert watch.wait_for_rows(5)[4][:2] == ["streamed", "3"]
    watch.stop()
    assert watch.proc.returncode is not None
    assert len(watch.lines()) == 5  # nothing else was streamed


def test_get_watch_with_event_types(kubectl: Kubectl, namespace: str, background: Start) -> None:
    ns = namespace
    kubectl("-n", ns, "create", "configmap", "seed2")
    kubectl("-n", ns, "label", "configmap", "seed2", "test=events")
    watch = background("-n", ns, "get", "configmaps", "-w", "--output-watch-events", "-l", "test=events")
    header, first = watch.wait_for_rows(2)[:2]
    assert header == ["EVENT", "NAME", "DATA", "AGE"]
    assert first[:3] == ["ADDED", "seed2", "0"]
    kubectl("-n", ns, "create", "configmap", "ev")
    kubectl("-n", ns, "label", "configmap", "ev", "test=events")  # enters the selection: ADDED
    kubectl("-n", ns, "annotate", "configmap", "ev", "k=v")
    kubectl("-n", ns, "delete", "configmap", "ev")
    got = watch.wait_for_rows(5)
    assert [r[:2] for r in got[2:]] == [["ADDED", "ev"], ["MODIFIED", "ev"], ["DELETED", "ev"]]
    watch.stop()
    assert len(watch.lines()) == 5


def test_get_watch_only_with_label_selector_and_name_output(kubectl: Kubectl, namespace: str, background: Start) -> None:
    ns = namespace
    watch = background("-n", ns, "get", "pods", "--watch-only", "-l", "watched=yes", "-o", "name", "-v=6")
    watch.wait_for_watch_request()
    # a pod that does not match the selector must not show up; the matching one must
    kubectl("-n", ns, "run", "ignored", "--image=nginx", "--labels=watched=no")
    kubectl("-n", ns, "run", "seen", "--image=nginx", "--labels=watched=yes")
    assert watch.wait_for_rows(1) == [["pod/seen"]]
    kubectl("-n", ns, "delete", "pod", "seen", "--grace-period=0", "--force")
    assert watch.wait_for_rows(2) == [["pod/seen"], ["pod/seen"]]
    watch.stop()
    assert watch.lines() == [["pod/seen"], ["pod/seen"]]
    kubectl("-n", ns, "delete", "pod", "ignored", "--grace-period=0", "--force")


def test_get_watch_single_object_by_name(kubectl: Kubectl, namespace: str, background: Start) -> None:
    ns = namespace
    kubectl("-n", ns, "create", "configmap", "one")
    kubectl("-n", ns, "create", "configmap", "other")
    watch = background("-n", ns, "get", "configmap", "one", "-w", "-o", "name")
    assert watch.wait_for_rows(1) == [["configmap/one"]]
    kubectl("-n", ns, "label", "configmap", "other", "a=b")  # not streamed: another name
    kubectl("-n", ns, "label", "configmap", "one", "a=b")
    assert watch.wait_for_rows(2) == [["configmap/one"], ["configmap/one"]]
    watch.stop()
    assert len(watch.lines()) == 2
    kubectl("-n", ns, "delete", "configmap", "one", "other")


def test_get_watch_all_namespaces(kubectl: Kubectl, namespace: str, background: Start) -> None:
    kubectl("create", "namespace", "watch-elsewhere")
    watch = background("get", "secrets", "-A", "--watch-only", "--output-watch-events", "-v=6")
    watch.wait_for_watch_request()
    kubectl("-n", "watch-elsewhere", "create", "secret", "generic", "far", "--from-literal=k=v")
    kubectl("-n", namespace, "create", "secret", "generic", "near")
    got = watch.wait_for_rows(3)
    assert got[0] == ["EVENT", "NAMESPACE", "NAME", "TYPE", "DATA", "AGE"]
    assert [r[:5] for r in got[1:]] == [["ADDED", "watch-elsewhere", "far", "Opaque", "1"],
                                        ["ADDED", namespace, "near", "Opaque", "0"]]
    watch.stop()


# -- wait -----------------------------------------------------------------------------------------

def test_wait_for_condition_set_through_status_patch(kubectl: Kubectl, namespace: str, background: Start) -> None:
    ns = namespace
    kubectl("-n", ns, "run", "cond", "--image=nginx")
    proc = kubectl.run("-n", ns, "wait", "--for=condition=Ready", "pod/cond", "--timeout=1s", check=False)
    assert proc.returncode == 1
    assert "timed out waiting for the condition on pods/cond" in proc.stderr

    waiter = background("-n", ns, "wait", "--for=condition=Ready", "pod/cond", "--timeout=20s")
    kubectl("-n", ns, "patch", "pod", "cond", "--subresource=status", "--type=merge",
            "-p", '{"status":{"conditions":[{"type":"Ready","status":"True"}]}}')
    assert waiter.proc.wait(20) == 0
    assert waiter.out.read_text().strip() == "pod/cond condition met"

    status = kubectl.json("-n", ns, "get", "pod", "cond")["status"]
    assert {"type": "Ready", "status": "True"}.items() <= status["conditions"][0].items()
    # the status patch did not touch the spec, and a spec patch cannot change the status
    assert kubectl("-n", ns, "get", "pod", "cond", "-o", "jsonpath={.spec.containers[0].image}") == "nginx"
    kubectl("-n", ns, "patch", "pod", "cond", "--type=merge", "-p", '{"status":{"phase":"Failed"}}')
    assert kubectl("-n", ns, "get", "pod", "cond", "-o", "jsonpath={.status.phase}") == "Pending"

    proc = kubectl.run("-n", ns, "wait", "--for=condition=Ready=false", "pod/cond", "--timeout=1s", check=False)
    assert (proc.returncode, proc.stdout) == (1, "")


def test_wait_for_jsonpath(kubectl: Kubectl, namespace: str, background: Start) -> None:
    ns = namespace
    kubectl("-n", ns, "create", "deployment", "jp", "--image=nginx", "--replicas=1")
    waiter = background("-n", ns, "wait", "--for=jsonpath={.spec.replicas}=4", "deployment/jp", "--timeout=20s")
    kubectl("-n", ns, "scale", "deployment", "jp", "--replicas=4")
    assert waiter.proc.wait(20) == 0
    assert waiter.out.read_text().strip() == "deployment.apps/jp condition met"
    # already true: returns at once
    out = kubectl("-n", ns, "wait", "--for=jsonpath={.metadata.labels.app}=jp", "deployment/jp", "--timeout=2s")
    assert out.strip() == "deployment.apps/jp condition met"


def test_wait_for_delete(kubectl: Kubectl, namespace: str, background: Start) -> None:
    ns = namespace
    kubectl("-n", ns, "create", "configmap", "doomed")
    kubectl("-n", ns, "patch", "configmap", "doomed", "--type=merge", "-p", '{"metadata":{"finalizers":["example.com/hold"]}}')
    kubectl("-n", ns, "delete", "configmap", "doomed", "--wait=false")
    waiter = background("-n", ns, "wait", "--for=delete", "configmap/doomed", "--timeout=20s")
    # the finalizer holds the object; it goes as soon as the finalizer is removed
    assert kubectl("-n", ns, "get", "configmap", "doomed", "-o", "jsonpath={.metadata.deletionTimestamp}")
    assert waiter.proc.poll() is None
    kubectl("-n", ns, "patch", "configmap", "doomed", "--type=json",
            "-p", '[{"op":"remove","path":"/metadata/finalizers"}]')
    assert waiter.proc.wait(20) == 0
    assert waiter.out.read_text().strip() == "configmap/doomed condition met"
    proc = kubectl.run("-n", ns, "get", "configmap", "doomed", check=False)
    assert "NotFound" in proc.stderr


def test_wait_for_delete_of_missing_object_returns_at_once(kubectl: Kubectl, namespace: str) -> None:
    proc = kubectl.run("-n", namespace, "wait", "--for=delete", "configmap/never-was", "--timeout=5s", check=False)
    assert proc.returncode == 0, proc.stderr
