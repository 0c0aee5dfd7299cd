"""LeaderElector timings on a fake clock against an in-memory Lease API.

Each elector sees the shared Lease through its own view, which a test can cut off to
simulate a leader that can no longer reach the API server.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import Any

import orjson
import pytest

from kubepy.client import ApiError, FakeClock, LeaderElectionConfig, LeaderElector, ResourceRef


class Leases:
    def __init__(self) -> None:
        self.objects: dict[str, dict[str, Any]] = {}
        self.rv = 0
        self.writes: list[tuple[str, str]] = []  # (verb, holder)

    def _stored(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        self.rv += 1
        out: dict[str, Any] = orjson.loads(orjson.dumps(obj))
        out["metadata"]["resourceVersion"] = str(self.rv)
        self.writes.append(("write", str(out["spec"].get("holderIdentity", ""))))
        return out


class View:
    def __init__(self, leases: Leases) -> None:
        self.leases = leases
        self.cut_off = False

    def _check(self) -> None:
        if self.cut_off:
            raise OSError("connection refused")

    async def get(self, ref: ResourceRef, name: str, *, namespace: str | None = None) -> dict[str, Any]:
        self._check()
        obj = self.leases.objects.get(name)
        if obj is None:
            raise ApiError({"kind": "Status", "code": 404, "reason": "NotFound"})
        return orjson.loads(orjson.dumps(obj))  # type: ignore[no-any-return]

    async def create(self, ref: ResourceRef, obj: Mapping[str, Any], *, namespace: str | None = None) -> dict[str, Any]:
        self._check()
        name = obj["metadata"]["name"]
        if name in self.leases.objects:
            raise ApiError({"kind": "Status", "code": 409, "reason": "AlreadyExists"})
        self.leases.objects[name] = self.leases._stored(obj)
        return await self.get(ref, name)

    async def update(self, ref: ResourceRef, obj: Mapping[str, Any], *, namespace: str | None = None) -> dict[str, Any]:
        self._check()
        name = obj["metadata"]["name"]
        current = self.leases.objects[name]
        if obj["metadata"].get("resourceVersion") != current["metadata"]["resourceVersion"]:
            raise ApiError({"kind": "Status", "code": 409, "reason": "Conflict"})
        self.leases.objects[name] = self.leases._stored(obj)
        return await self.get(ref, name)


class Candidate:
    def __init__(self, identity: str, leases: Leases, clock: FakeClock, *, release: bool = True) -> None:
        self.view = View(leases)
        self.leading_since: float | None = None
        self.stopped_at: float | None = None
        self.lead_cancelled = False
        self.clock = clock
        cfg = LeaderElectionConfig(name="lock", namespace="ns", identity=identity, lease_duration=15,
                                   renew_deadline=10, retry_period=2, release_on_cancel=release)
        self.elector = LeaderElector(self.view, cfg, on_started_leading=self._lead,
                                     on_stopped_leading=self._stopped, clock=clock)
        self.task = asyncio.create_task(self.elector.run())

    async def _lead(self) -> None:
        self.leading_since = self.clock.monotonic()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.lead_cancelled = True
            raise

    def _stopped(self) -> None:
        self.stopped_at = self.clock.monotonic()

    async def cancel(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


async def run_for(clock: FakeClock, seconds: float, step: float = 0.1) -> None:
    for _ in range(round(seconds / step)):
        clock.advance(step)
        for _ in range(20):
            await asyncio.sleep(0)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start=0.0)


async def test_first_candidate_leads_and_the_second_waits_while_it_renews(clock: FakeClock) -> None:
    leases = Leases()
    a = Candidate("a", leases, clock)
    await run_for(clock, 0.5)
    assert a.leading_since == pytest.approx(0.0, abs=0.2)
    b = Candidate("b", leases, clock)
    await run_for(clock, 60)
    assert b.leading_since is None and not b.elector.is_leader()
    assert b.elector.leader == "a"
    spec = leases.objects["lock"]["spec"]
    assert spec["holderIdentity"] == "a" and spec["leaseDurationSeconds"] == 15 and spec["leaseTransitions"] == 0
    assert sum(1 for _, holder in leases.writes if holder == "a") >= 25, "renewed about every 2s"
    await a.cancel()
    await b.cancel()


async def test_a_leader_that_cannot_renew_steps_down_and_another_takes_over_after_the_lease(clock: FakeClock) -> None:
    leases = Leases()
    a = Candidate("a", leases, clock, release=False)
    await run_for(clock, 0.5)
    b = Candidate("b", leases, clock)
    await run_for(clock, 5)
    a.view.cut_off = True
    cut = clock.monotonic()
    await run_for(clock, 25)
    assert a.stopped_at is not None and a.lead_cancelled and a.task.done()
    assert 8 <= a.stopped_at - cut <= 12.5, "gives up after the renew deadline"
    assert b.leading_since is not None
    assert 13 <= b.leading_since - cut <= 18, "takes over once the lease has not changed for 15s"
    assert a.stopped_at < b.leading_since, "never two leaders at once"
    assert leases.objects["lock"]["spec"]["leaseTransitions"] == 1
    await b.cancel()


async def test_release_on_shutdown_hands_over_within_a_retry_period(clock: FakeClock) -> None:
    leases = Leases()
    a = Candidate("a", leases, clock)
    await run_for(clock, 0.5)
    b = Candidate("b", leases, clock)
    await run_for(clock, 3)
    await a.cancel()
    released = clock.monotonic()
    assert "holderIdentity" not in leases.objects["lock"]["spec"]
    await run_for(clock, 5)
    assert b.leading_since is not None and b.leading_since - released <= 2.5
    await b.cancel()


@pytest.mark.parametrize(
    ("kw", "message"),
    [({"lease_duration": 5, "renew_deadline": 10}, "lease_duration"),
     ({"renew_deadline": 2, "retry_period": 2}, "retry_period"),
     ({"identity": ""}, "identity")],
    ids=["the lease must outlast the renew deadline", "the renew deadline must allow retries",
         "an identity is required"],
)
def test_config_checks(kw: dict[str, Any], message: str) -> None:
    args: dict[str, Any] = {"name": "l", "identity": "me", **kw}
    with pytest.raises(ValueError, match=message):
        LeaderElectionConfig(**args)
