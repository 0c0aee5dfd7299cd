"""RateLimitingQueue on a fake clock: dedup, one worker per key, delays and back-off."""

from __future__ import annotations

import asyncio

import pytest

from kubepy.client import FakeClock, ItemExponentialLimiter, RateLimitingQueue, ShutDown
from kubepy.client.ratelimit import default_controller_rate_limiter


def make(clock: FakeClock) -> RateLimitingQueue[str]:
    return RateLimitingQueue(name="t", clock=clock, rate_limiter=default_controller_rate_limiter(clock))


async def drain(q: RateLimitingQueue[str]) -> list[str]:
    out = []
    while len(q):
        key = await q.get()
        out.append(key)
        q.done(key)
    return out


async def test_a_key_added_twice_is_queued_once() -> None:
    q = make(FakeClock())
    for key in ("a", "b", "a", "a", "c", "b"):
        q.add(key)
    assert await drain(q) == ["a", "b", "c"]


async def test_a_key_added_while_processing_waits_for_done() -> None:
    q = make(FakeClock())
    q.add("a")
    key = await q.get()
    q.add("a")
    q.add("a")
    assert len(q) == 0, "must not be handed out again while in process"
    assert q.processing == frozenset({"a"})
    q.done(key)
    assert len(q) == 1
    assert await q.get() == "a"


async def test_two_workers_never_process_the_same_key_at_once() -> None:
    q = make(FakeClock())
    active: set[str] = set()
    overlaps: list[str] = []
    processed: list[str] = []

    async def worker() -> None:
        while True:
            try:
                key = await q.get()
            except ShutDown:
                return
            if key in active:
                overlaps.append(key)
            active.add(key)
            await asyncio.sleep(0)
            q.add(key if len(processed) < 20 else "other")  # re-add while processing
            await asyncio.sleep(0)
            processed.append(key)
            active.discard(key)
            q.done(key)

    workers = [asyncio.create_task(worker()) for _ in range(4)]
    q.add("k")
    for _ in range(200):
        await asyncio.sleep(0)
    q.shutdown()
    await asyncio.gather(*workers)
    assert overlaps == []
    assert processed.count("k") >= 2


async def test_get_waits_for_an_add() -> None:
    q = make(FakeClock())
    getter = asyncio.create_task(q.get())
    await asyncio.sleep(0)
    assert not getter.done()
    q.add("x")
    assert await asyncio.wait_for(getter, 1) == "x"


async def test_shutdown_drains_then_raises() -> None:
    q = make(FakeClock())
    q.add("a")
    q.shutdown()
    q.add("b")  # ignored
    assert await q.get() == "a"
    with pytest.raises(ShutDown):
        await q.get()


async def test_shutdown_wakes_idle_workers() -> None:
    q = make(FakeClock())
    getter = asyncio.create_task(q.get())
    await asyncio.sleep(0)
    q.shutdown()
    with pytest.raises(ShutDown):
        await asyncio.wait_for(getter, 1)


async def test_add_after_hands_keys_out_in_deadline_order() -> None:
    clock = FakeClock()
    q = make(clock)
    q.add_after("late", 3.0)
    q.add_after("early", 1.0)
    q.add_after("middle", 2.0)
    await clock.settle()
    assert len(q) == 0 and q.waiting == 3
    order = []
    for _ in range(3):
        clock.advance(1.0)
        await clock.settle()
        order.extend(await drain(q))
    assert order == ["early", "middle", "late"]


@pytest.mark.parametrize(
    ("first", "second", "ready_at"),
    [(5.0, 1.0, 1.0), (1.0, 5.0, 1.0)],
    ids=["a sooner second delay wins", "a later second delay does not postpone the key"],
)
async def test_add_after_keeps_the_earliest_deadline(first: float, second: float, ready_at: float) -> None:
    clock = FakeClock()
    q = make(clock)
    q.add_after("k", first)
    q.add_after("k", second)
    clock.advance(ready_at - 0.01)
    await clock.settle()
    assert len(q) == 0
    clock.advance(0.01)
    await clock.settle()
    assert await drain(q) == ["k"]
    clock.advance(10)
    await clock.settle()
    assert len(q) == 0, "the stale later deadline must not queue it again"


async def test_add_after_non_positive_delay_adds_at_once() -> None:
    q = make(FakeClock())
    q.add_after("k", 0)
    assert len(q) == 1


async def test_rate_limited_back_off_grows_per_key_and_forget_resets_it() -> None:
    clock = FakeClock()
    limiter = ItemExponentialLimiter(0.005, 1000.0)
    q: RateLimitingQueue[str] = RateLimitingQueue(clock=clock, rate_limiter=limiter)
    delays = []
    for _ in range(5):
        start = clock.monotonic()
        q.add_rate_limited("k")
        await clock.settle()
        while not len(q):
            nxt = clock.next_deadline()
            assert nxt is not None
            clock.advance(nxt - clock.monotonic())
            await clock.settle()
        delays.append(round(clock.monotonic() - start, 6))
        await drain(q)
    assert delays == [0.005, 0.01, 0.02, 0.04, 0.08]
    assert q.num_requeues("k") == 5
    q.forget("k")
    assert q.num_requeues("k") == 0
    assert limiter.when("k") == 0.005


@pytest.mark.parametrize(
    ("failures", "expected"),
    [(0, 0.005), (1, 0.01), (10, 5.12), (17, 655.36), (18, 1000.0), (500, 1000.0)],
    ids=["first failure waits 5ms", "second 10ms", "eleventh about 5s", "eighteenth about 11min",
         "then capped at 1000s", "and stays capped"],
)
def test_per_item_back_off(failures: int, expected: float) -> None:
    limiter = ItemExponentialLimiter(0.005, 1000.0)
    for _ in range(failures):
        limiter.when("k")
    assert limiter.when("k") == pytest.approx(expected)


def test_default_limiter_applies_the_overall_bucket_after_the_burst() -> None:
    clock = FakeClock()
    limiter = default_controller_rate_limiter(clock)
    delays = [limiter.when(f"key-{i}") for i in range(101)]
    assert delays[:100] == [0.005] * 100  # burst of 100: only the per-item delay
    assert delays[100] == pytest.approx(0.1)  # 10 qps: the 101st waits for a token


async def test_a_key_due_while_processing_is_held_back_until_done() -> None:
    clock = FakeClock()
    q = make(clock)
    q.add("k")
    key = await q.get()
    q.add_after("k", 1.0)
    clock.advance(1.0)
    await clock.settle()
    assert len(q) == 0
    q.done(key)
    assert await drain(q) == ["k"]
