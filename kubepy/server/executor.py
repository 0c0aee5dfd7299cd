"""Launch components as child processes, one method per component, each reporting readiness.

As k3s's executor: the supervisor and the tests start components the same way. A
``Child`` knows its command, waits for its ready line, restarts after a crash with
exponential back-off (logged), and stops with SIGTERM then SIGKILL, by PID.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

RESTART_INITIAL = 1.0
RESTART_CAP = 30.0


@dataclass
class Child:
    name: str
    args: list[str]
    log_path: Path
    ready_marker: str
    proc: asyncio.subprocess.Process | None = None
    restarts: int = 0
    _stopping: bool = field(default=False, repr=False)
    _ready: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    async def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        out = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child
        try:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "kubepy", *self.args, stdout=asyncio.subprocess.PIPE, stderr=out,
                start_new_session=True,
            )
        finally:
            out.close()
        self._ready.clear()
        asyncio.get_running_loop().create_task(self._pump())

    async def _pump(self) -> None:
        proc = self.proc
        assert proc is not None and proc.stdout is not None
        with open(self.log_path, "ab") as logf:
            async for line in proc.stdout:
                logf.write(line)
                logf.flush()
                if self.ready_marker.encode() in line:
                    self._ready.set()

    async def wait_ready(self, timeout: float = 30.0) -> None:
        waiter = asyncio.ensure_future(self._ready.wait())
        assert self.proc is not None
        exited = asyncio.ensure_future(self.proc.wait())
        done, _ = await asyncio.wait({waiter, exited}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        if exited in done and not self._ready.is_set():
            raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; see {self.log_path}")
        exited.cancel()
        if not self._ready.is_set():
            raise RuntimeError(f"{self.name} not ready after {timeout:.0f}s; see {self.log_path}")

    async def supervise(self) -> None:
        """Restart the child whenever it exits, until ``stop``."""
        delay = RESTART_INITIAL
        while not self._stopping:
            assert self.proc is not None
            code = await self.proc.wait()
            if self._stopping:
                return
            self.restarts += 1
            log.warning("%s exited with %s; restarting in %.0fs (restart %d)", self.name, code, delay, self.restarts)
            await asyncio.sleep(delay)
            delay = min(delay * 2, RESTART_CAP)
            if self._stopping:
                return
            await self.start()
            with contextlib.suppress(RuntimeError):
                await self.wait_ready()
                delay = RESTART_INITIAL

    async def stop(self, timeout: float = 15.0) -> None:
        self._stopping = True
        proc = self.proc
        if proc is None or proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), timeout)
        except asyncio.TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)
            await proc.wait()


class Executor:
    """One method per component; each returns a started Child (not yet known ready)."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.logs = data_dir / "logs"

    async def apiserver(self, *, port: int, bind_address: str, storage: str, extra: list[str]) -> Child:
        child = Child("apiserver", ["apiserver", "--data-dir", str(self.data_dir), "--secure-port", str(port),
                                    "--bind-address", bind_address, "--storage", storage, *extra],
                      self.logs / "apiserver.log", ready_marker="ready: ")
        await child.start()
        return child

    async def controller_manager(self, *, kubeconfig: Path, extra: list[str]) -> Child:
        child = Child("controller-manager", ["controller-manager", "--kubeconfig", str(kubeconfig), *extra],
                      self.logs / "controller-manager.log", ready_marker="controller-manager started")
        await child.start()
        return child

    async def scheduler(self, *, kubeconfig: Path, extra: list[str]) -> Child:
        child = Child("scheduler", ["scheduler", "--kubeconfig", str(kubeconfig), *extra],
                      self.logs / "scheduler.log", ready_marker="scheduler started")
        await child.start()
        return child
