"""An acknowledged write survives kill -9 of the process that made it (SQLite store).

A child process opens a SQLiteStore and creates keys from several concurrent writers,
printing each acknowledged revision and key. After ~200 acknowledgements it is killed
with SIGKILL (no close, no checkpoint); the test reopens the file and checks that every
acknowledged key is there with its value and revision, and that revisions go on above
the last acknowledged one.
"""

from __future__ import annotations

import asyncio
import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import kubepy
from kubepy.storage.sqlite import SQLiteStore

pytestmark = pytest.mark.integration

ACKS_BEFORE_KILL = 200

CHILD = r"""
import asyncio, sys
from kubepy.storage.sqlite import SQLiteStore

def value_for(key):
    return key.encode() * 40

async def main(path):
    store = SQLiteStore(path)
    await store.start()

    async def writer(w):
        i = 0
        while True:
            key = f"/crash/{w}/{i:06d}"
            rev = await store.create(key, value_for(key))
            sys.stdout.write(f"{rev} {key}\n")
            sys.stdout.flush()
            i += 1

    await asyncio.gather(*(writer(w) for w in range(8)))

asyncio.run(main(sys.argv[1]))
"""


def value_for(key: str) -> bytes:
    return key.encode() * 40


def parse(lines: list[bytes], acks: dict[str, int]) -> None:
    for line in lines:
        rev, key = line.decode().split()
        acks[key] = int(rev)


def run_child_until_killed(path: Path, stderr_path: Path) -> dict[str, int]:
    """Start the writer, SIGKILL it after enough acks; return every ack it printed."""
    repo = str(Path(kubepy.__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": repo + os.pathsep + os.environ.get("PYTHONPATH", "")}
    acks: dict[str, int] = {}
    with open(stderr_path, "wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE, stderr=stderr, env=env, cwd=repo
        )
    assert proc.stdout is not None
    try:
        fd = proc.stdout.fileno()
        buffer = b""
        deadline = time.monotonic() + 60
        with selectors.DefaultSelector() as selector:
            selector.register(fd, selectors.EVENT_READ)
            while len(acks) < ACKS_BEFORE_KILL:
                left = deadline - time.monotonic()
                if left <= 0:
                    pytest.fail(f"only {len(acks)} acks in 60 s: {stderr_path.read_text()}")
                if not selector.select(left):
                    continue
                chunk = os.read(fd, 65536)
                if not chunk:
                    pytest.fail(f"the writer exited early: {stderr_path.read_text()}")
                *lines, buffer = (buffer + chunk).split(b"\n")
                parse(lines, acks)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        # Acks printed before the kill but not read yet count too.
        *lines, _partial = (buffer + proc.stdout.read()).split(b"\n")
        parse(lines, acks)
        assert proc.returncode == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        proc.stdout.close()
    return acks


async def check_reopened(path: Path, acks: dict[str, int]) -> None:
    store = SQLiteStore(path)
    await store.start()
    try:
        last_ack = max(acks.values())
        for key, rev in acks.items():
            kv = await store.get(key)
            assert kv is not None, f"acknowledged {key} at revision {rev} was lost"
            assert (kv.value, kv.mod_revision, kv.create_revision) == (value_for(key), rev, rev)
        assert store.current_revision() >= last_ack
        assert await store.create("/crash/after-restart", b"v") > last_ack
        listed = await store.list("/crash/")
        assert len(listed.items) >= len(acks) + 1
    finally:
        await store.close()


def test_acknowledged_writes_survive_kill_9(tmp_path: Path) -> None:
    path = tmp_path / "kv.db"
    acks = run_child_until_killed(path, tmp_path / "child.stderr")
    assert len(acks) >= ACKS_BEFORE_KILL
    assert len(set(acks.values())) == len(acks), "two keys acknowledged with one revision"
    asyncio.run(check_reopened(path, acks))
