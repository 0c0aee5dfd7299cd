"""Revisioned key-value storage: the only state the API server keeps.

Backends: ``memory`` (tests, throw-away clusters), ``sqlite`` (embedded default).
"""

from kubepy.storage.errors import Compacted, Conflict, KeyExists, KeyNotFound, StorageError
from kubepy.storage.store import EventType, KeyValue, ListResult, Store, WatchEvent

__all__ = [
    "Compacted",
    "Conflict",
    "EventType",
    "KeyExists",
    "KeyNotFound",
    "KeyValue",
    "ListResult",
    "StorageError",
    "Store",
    "WatchEvent",
    "open_store",
]


def open_store(kind: str, path: str | None = None) -> Store:
    """Build a store backend by name: ``memory`` or ``sqlite`` (``path`` is the file)."""
    if kind == "memory":
        from kubepy.storage.memory import MemoryStore

        return MemoryStore()
    if kind == "sqlite":
        if not path:
            raise ValueError("the sqlite store needs a file path")
        from kubepy.storage.sqlite import SQLiteStore

        return SQLiteStore(path)
    raise ValueError(f"unknown storage backend {kind!r}")
