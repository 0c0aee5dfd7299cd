"""The Store protocol: a revisioned key-value store, like etcd v3 or k3s's kine.

Every write gets the next value of one global, strictly increasing revision. A key's
``mod_revision`` is the revision of its last write; the API server exposes it as
``metadata.resourceVersion``. Values are opaque bytes (the API server stores JSON).

Contract shared by every backend (one conformance suite checks them all):
- ``create`` fails with KeyExists if the key is live; ``update``/``delete`` with
  ``expected_mod_revision`` fail with Conflict unless it equals the key's mod_revision,
  and with KeyNotFound if the key is absent.
- ``list`` returns keys in lexical order; at ``revision=R`` it returns the state as of R
  (Compacted if R is older than the compacted revision); ``start_after`` and ``limit``
  page through a snapshot; ``ListResult.revision`` is the revision the list reflects.
- ``watch(prefix, after_revision)`` yields, in order, every event with revision greater
  than ``after_revision`` whose key starts with ``prefix``, none twice, then follows new
  writes live. It raises Compacted at once if ``after_revision`` is older than history.
  Watchers see an event before the write that caused it returns to its caller.
- All methods are safe to call concurrently from one event loop.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol


class EventType(enum.Enum):
    ADDED = "ADDED"
    MODIFIED = "MODIFIED"
    DELETED = "DELETED"


@dataclass(frozen=True, slots=True)
class KeyValue:
    key: str
    value: bytes
    mod_revision: int
    create_revision: int


@dataclass(frozen=True, slots=True)
class ListResult:
    items: list[KeyValue]
    revision: int
    #: How many keys under the prefix come after the last returned one (0 if none).
    remaining: int


@dataclass(frozen=True, slots=True)
class WatchEvent:
    type: EventType
    key: str
    #: The new value; for DELETED, the last value before deletion.
    value: bytes
    #: The value before this write (None for ADDED).
    prev_value: bytes | None
    #: The revision of this write.
    revision: int


class Store(Protocol):
    async def start(self) -> None:
        """Open files/connections; idempotent."""

    async def close(self) -> None:
        """Release resources; pending watches end."""

    async def get(self, key: str) -> KeyValue | None: ...

    async def list(
        self,
        prefix: str,
        *,
        revision: int | None = None,
        limit: int | None = None,
        start_after: str | None = None,
    ) -> ListResult: ...

    async def count(self, prefix: str) -> int: ...

    async def create(self, key: str, value: bytes) -> int:
        """Store a new key; return its revision."""

    async def update(self, key: str, value: bytes, *, expected_mod_revision: int | None) -> int:
        """Replace a live key (compare-and-swap when expected_mod_revision is given)."""

    async def delete(self, key: str, *, expected_mod_revision: int | None = None) -> int:
        """Delete a live key; return the revision of the deletion."""

    def watch(self, prefix: str, after_revision: int) -> AsyncIterator[WatchEvent]: ...

    async def compact(self, revision: int) -> None:
        """Forget history at and below ``revision`` (current values are kept)."""

    def current_revision(self) -> int:
        """The revision of the last write (0 for an empty store). Cheap."""

    def compacted_revision(self) -> int:
        """The newest compacted revision (0 if never compacted). Cheap."""
