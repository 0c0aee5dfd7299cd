"""``kubepy server``: one command starts the cluster's components, restarts a crashed one,
and stops them all on SIGTERM / Ctrl-C, leaving no process behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kubepy.testing.processes import free_port

pytestmark = pytest.mark.integration


def wait_for(check, timeout: float = 20.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def component_pid(data_dir: Path, role: str) -> int | None:
    out = subprocess.run(["ps", "-ww", "-eo", "pid=,args="], capture_output=True, text=True).stdout
    for line in out.splitlines():
        pid, _, args = line.strip().partition(" ")
        if f"kubepy {role}" in args and str(data_dir) in args:
            return int(pid)
    return None


def test_server_runs_supervises_and_stops_its_components(tmp_path: Path) -> None:
    data = tmp_path / "data"
    out = tmp_path / "server.out"
    port = free_port()
    with open(out, "wb") as f:
        proc = subprocess.Popen([sys.executable, "-m", "kubepy", "server", "--data-dir", str(data),
                                 "--secure-port", str(port)], stdout=f, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: "export KUBECONFIG=" in out.read_text(), 40)
        text = out.read_text()
        assert f"export KUBECONFIG={data / 'admin.kubeconfig'}" in text
        assert "components: apiserver, controller-manager" in text
        env = {**os.environ, "KUBECONFIG": str(data / "admin.kubeconfig"), "HOME": str(tmp_path)}
        got = subprocess.run(["kubectl", "get", "ns", "-o", "name"], env=env, capture_output=True, text=True)
        assert "namespace/kube-system" in got.stdout, got.stderr
        # the controller manager leads through its Lease, with its own identity
        lease = wait_for(lambda: subprocess.run(
            ["kubectl", "-n", "kube-system", "get", "lease", "kube-controller-manager", "-o",
             "jsonpath={.spec.holderIdentity}"], env=env, capture_output=True, text=True).stdout)
        assert lease
        # a crashed component is restarted
        cm = component_pid(data, "controller-manager")
        assert cm is not None
        os.kill(cm, signal.SIGKILL)
        wait_for(lambda: (p := component_pid(data, "controller-manager")) is not None and p != cm, 30)
        # SIGTERM stops everything
        api = component_pid(data, "apiserver")
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        assert "kubepy stopped" in out.read_text()
        assert component_pid(data, "apiserver") is None
        assert component_pid(data, "controller-manager") is None
        assert api is not None
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for role in ("apiserver", "controller-manager"):
            pid = component_pid(data, role)
            if pid is not None:
                os.kill(pid, signal.SIGKILL)
