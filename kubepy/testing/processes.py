"""Start kubepy components as real processes for integration tests and benchmarks.

``start_apiserver`` launches ``python -m kubepy apiserver`` on a free loopback port with
its own data dir, waits for its ready line, and returns a handle that stops the process
(by its PID, SIGTERM then SIGKILL) and knows the admin kubeconfig.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class ComponentProcess:
    """A kubepy component started as a process: its log, and stop / kill by PID."""

    proc: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> None:
        if self.proc.poll() is not None:
            return
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


@dataclass
class APIServerProcess(ComponentProcess):
    data_dir: Path
    port: int

    @property
    def kubeconfig(self) -> Path:
        return self.data_dir / "admin.kubeconfig"

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"


def start_apiserver(
    data_dir: Path,
    *,
    port: int | None = None,
    storage: str = "sqlite",
    extra_args: list[str] | None = None,
    timeout: float = 30.0,
) -> APIServerProcess:
    port = port or free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / "apiserver.log"
    cmd = [
        sys.executable, "-m", "kubepy", "apiserver", "--data-dir", str(data_dir),
        "--secure-port", str(port), "--storage", storage, *(extra_args or []),
    ]
    log_file = open(log_path, "wb")  # noqa: SIM115 - owned by the child for its lifetime
    proc = subprocess.Popen(cmd, stdout=log_file, stderr=subprocess.STDOUT)
    log_file.close()
    handle = APIServerProcess(proc=proc, data_dir=data_dir, port=port, log_path=log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"apiserver exited with {proc.returncode}:\n{handle.log()}")
        if "ready: " in handle.log():
            return handle
        time.sleep(0.02)
    handle.stop()
    raise RuntimeError(f"apiserver not ready after {timeout}s:\n{handle.log()}")


def start_component(
    role: str, args: list[str], log_path: Path, *, ready_marker: str, timeout: float = 30.0
) -> ComponentProcess:
    """Run ``python -m kubepy <role> <args>`` and wait for ``ready_marker`` in its output."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_file = open(log_path, "wb")  # noqa: SIM115 - owned by the child
    proc = subprocess.Popen([sys.executable, "-m", "kubepy", role, *args], stdout=log_file, stderr=subprocess.STDOUT)
    log_file.close()
    handle = ComponentProcess(proc=proc, log_path=log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{role} exited with {proc.returncode}:\n{handle.log()}")
        if ready_marker in handle.log():
            return handle
        time.sleep(0.02)
    handle.stop()
    raise RuntimeError(f"{role} not ready after {timeout}s:\n{handle.log()}")


def start_controller_manager(kubeconfig: Path, log_path: Path, *extra: str) -> ComponentProcess:
    return start_component(
        "controller-manager", ["--kubeconfig", str(kubeconfig), *extra], log_path,
        ready_marker="controller-manager started",
    )


def start_scheduler(kubeconfig: Path, log_path: Path, *extra: str) -> ComponentProcess:
    """``kubepy scheduler``; ready once its informers have synced (then it leads or waits)."""
    return start_component(
        "scheduler", ["--kubeconfig", str(kubeconfig), *extra], log_path, ready_marker="scheduler started",
    )
