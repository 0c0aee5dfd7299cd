"""Controller expectations: how many creates/deletes a controller still waits to observe.

A controller that just asked for N pods must not count its informer cache (which has not
seen them yet) and ask again: upstream's ControllerExpectations. ``expect(key, adds,
deletes)`` before writing; informer handlers call ``observed_add`` / ``observed_delete``;
``satisfied(key)`` is true once everything was seen or the expectation expired (5 min).
"""

from __future__ import annotations

from dataclasses import dataclass

from kubepy.client import REAL_CLOCK, Clock

EXPECTATIONS_TIMEOUT = 300.0


@dataclass(slots=True)
class _Expectation:
    adds: int
    deletes: int
    at: float


class Expectations:
    def __init__(self, clock: Clock = REAL_CLOCK) -> None:
        self._clock = clock
        self._items: dict[str, _Expectation] = {}

    def expect(self, key: str, *, adds: int = 0, deletes: int = 0) -> None:
        self._items[key] = _Expectation(adds, deletes, self._clock.monotonic())

    def lower(self, key: str, *, adds: int = 0, deletes: int = 0) -> None:
        e = self._items.get(key)
        if e is not None:
            e.adds -= adds
            e.deletes -= deletes

    def observed_add(self, key: str) -> None:
        self.lower(key, adds=1)

    def observed_delete(self, key: str) -> None:
        self.lower(key, deletes=1)

    def satisfied(self, key: str) -> bool:
        e = self._items.get(key)
        if e is None:
            return True
        if e.adds <= 0 and e.deletes <= 0:
            return True
        return self._clock.monotonic() - e.at > EXPECTATIONS_TIMEOUT

    def forget(self, key: str) -> None:
        self._items.pop(key, None)
