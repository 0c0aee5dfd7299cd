"""Fixtures for integration tests: a real API server process and the real kubectl."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kubepy.testing.processes import APIServerProcess, start_apiserver

KUBECTL = shutil.which("kubectl")


@pytest.fixture(scope="module")
def apiserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[APIServerProcess]:
    server = start_apiserver(tmp_path_factory.mktemp("apiserver"))
    try:
        yield server
    finally:
        server.stop()


class Kubectl:
    """Runs the real kubectl against a server, with a private HOME (fresh caches)."""

    def __init__(self, kubeconfig: Path, home: Path) -> None:
        if KUBECTL is None:
            raise RuntimeError("kubectl is not on PATH: integration tests need the real kubectl")
        self.kubeconfig = kubeconfig
        self.env = {**os.environ, "HOME": str(home), "KUBECONFIG": str(kubeconfig)}

    def run(self, *args: str, input: str | None = None, check: bool = True, timeout: float = 60,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [KUBECTL or "kubectl", *args], input=input, capture_output=True, text=True, timeout=timeout,
            env={**self.env, **(env or {})},
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"kubectl {' '.join(args)} exited {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
            )
        return proc

    def __call__(self, *args: str, **kw: Any) -> str:
        return self.run(*args, **kw).stdout

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "-o", "json").stdout)


@pytest.fixture(scope="module")
def kubectl(apiserver: APIServerProcess, tmp_path_factory: pytest.TempPathFactory) -> Kubectl:
    return Kubectl(apiserver.kubeconfig, tmp_path_factory.mktemp("home"))


# -- shared helpers for the kubectl and Python-client suites (appended) ---------------------------

def poll(check: Any, *, timeout: float = 5.0, interval: float = 0.02) -> Any:
    """Call ``check()`` until it returns something truthy; return that, or fail after ``timeout``."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last result: {result!r})")
        time.sleep(interval)


@pytest.fixture(scope="module")
def namespace(kubectl: Kubectl, request: pytest.FixtureRequest) -> str:
    """A namespace of this test module's own, created once (named after the module)."""
    module: str = request.module.__name__.rsplit(".", 1)[-1]
    name = "it-" + module.removeprefix("test_").replace("_", "-")[:40]
    kubectl("create", "namespace", name)
    return name
