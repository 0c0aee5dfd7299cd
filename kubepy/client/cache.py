"""The informer cache: objects by ``namespace/name`` with secondary indexes.

Job: ``Indexer`` holds the current state of one resource as an informer sees it, answers
``get_by_key``/``list`` and ``by_index`` (all pods of a namespace, all pods owned by a
uid, all nodes with a label) in O(answer), and keeps its indexes right on every
add/update/delete/replace. Standard index functions: ``namespace_index``,
``label_index(key)``, ``owner_uid_index``.

Design: as client-go's ``cache.Indexer`` minus the locks: one asyncio loop owns it, so no
thread safety is needed. Objects are stored as given and handed out *shared*, without
copies, because copying every read of a 10k-pod cache would dominate a controller's
cost. **Treat every object you get from the cache as read-only**; copy it with
``deepcopy`` (an orjson round trip, much faster than ``copy.deepcopy``) before changing it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import orjson

__all__ = [
    "Indexer",
    "IndexFunc",
    "KeyFunc",
    "meta_namespace_key",
    "split_key",
    "namespace_index",
    "label_index",
    "owner_uid_index",
    "deepcopy",
    "NAMESPACE_INDEX",
    "OWNER_UID_INDEX",
]

Obj = dict[str, Any]
IndexFunc = Callable[[Obj], Iterable[str]]
KeyFunc = Callable[[Mapping[str, Any]], str]
ObjList = list[Obj]
StrList = list[str]

NAMESPACE_INDEX = "namespace"
OWNER_UID_INDEX = "owner-uid"


def deepcopy(obj: Obj) -> Obj:
    """A deep copy of a JSON object (the way to get a mutable object out of the cache)."""
    out: Obj = orjson.loads(orjson.dumps(obj))
    return out


def meta_namespace_key(obj: Mapping[str, Any]) -> str:
    """``namespace/name`` for namespaced objects, ``name`` for cluster-scoped ones."""
    meta = obj.get("metadata") or {}
    name = meta.get("name") or ""
    ns = meta.get("namespace")
    return f"{ns}/{name}" if ns else str(name)


def split_key(key: str) -> tuple[str, str]:
    """``"ns/name"`` → ``("ns", "name")``; ``"name"`` → ``("", "name")``."""
    ns, _, name = key.rpartition("/")
    return ns, name


def namespace_index(obj: Obj) -> list[str]:
    ns = (obj.get("metadata") or {}).get("namespace")
    return [ns] if ns else []


def label_index(label: str) -> IndexFunc:
    """Index objects by the value of one label (objects without it are not indexed)."""

    def index(obj: Obj) -> list[str]:
        labels = (obj.get("metadata") or {}).get("labels") or {}
        value = labels.get(label)
        return [value] if value is not None else []

    return index


def owner_uid_index(obj: Obj) -> list[str]:
    """Index objects by the uid of each of their ownerReferences."""
    refs = (obj.get("metadata") or {}).get("ownerReferences") or ()
    return [r["uid"] for r in refs if r.get("uid")]


class Indexer:
    """Objects by key, plus named indexes of ``index value -> keys``.

    Not thread-safe; single event loop. Objects returned are shared: read-only.
    """

    def __init__(self, indexers: Mapping[str, IndexFunc] | None = None, *, key_func: KeyFunc = meta_namespace_key) -> None:
        self.key_func = key_func
        self._items: dict[str, Obj] = {}
        self._indexers: dict[str, IndexFunc] = dict(indexers or {})
        # index name -> index value -> keys
        self._indices: dict[str, dict[str, set[str]]] = {name: {} for name in self._indexers}

    # -- writes ----------------------------------------------------------------------------

    def add_indexers(self, indexers: Mapping[str, IndexFunc]) -> None:
        """Add indexes (built at once over the current contents). Re-adding the same function
        under the same name is a no-op; a different function under a taken name is an error."""
        for name, fn in indexers.items():
            existing = self._indexers.get(name)
            if existing is not None:
                if existing is not fn:
                    raise ValueError(f"indexer {name!r} already exists")
                continue
            self._indexers[name] = fn
            index: dict[str, set[str]] = {}
            self._indices[name] = index
            for key, obj in self._items.items():
                for value in fn(obj):
                    index.setdefault(value, set()).add(key)

    def add(self, obj: Obj) -> Obj | None:
        """Insert or replace; returns the previous object under the same key, if any."""
        key = self.key_func(obj)
        old = self._items.get(key)
        self._items[key] = obj
        self._reindex(key, old, obj)
        return old

    update = add

    def delete(self, obj: Obj) -> Obj | None:
        """Remove by the object's key; returns the removed object, if any."""
        return self.delete_key(self.key_func(obj))

    def delete_key(self, key: str) -> Obj | None:
        old = self._items.pop(key, None)
        if old is not None:
            self._reindex(key, old, None)
        return old

    def replace(self, objs: Iterable[Obj]) -> None:
        """Make the contents exactly ``objs``; indexes are rebuilt."""
        self._items = {self.key_func(o): o for o in objs}
        self._indices = {name: {} for name in self._indexers}
        for key, obj in self._items.items():
            self._reindex(key, None, obj)

    def _reindex(self, key: str, old: Obj | None, new: Obj | None) -> None:
        for name, fn in self._indexers.items():
            index = self._indices[name]
            old_values = set(fn(old)) if old is not None else set()
            new_values = set(fn(new)) if new is not None else set()
            if old_values == new_values:
                continue
            for value in old_values - new_values:
                keys = index.get(value)
                if keys is not None:
                    keys.discard(key)
                    if not keys:
                        del index[value]
            for value in new_values - old_values:
                index.setdefault(value, set()).add(key)

    # -- reads -----------------------------------------------------------------------------

    def get(self, obj: Mapping[str, Any]) -> Obj | None:
        return self._items.get(self.key_func(obj))

    def get_by_key(self, key: str) -> Obj | None:
        return self._items.get(key)

    def get_by_name(self, namespace: str | None, name: str) -> Obj | None:
        return self._items.get(f"{namespace}/{name}" if namespace else name)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)

    def list(self) -> ObjList:
        return list(self._items.values())

    def list_keys(self) -> StrList:
        return list(self._items)

    def items(self) -> Iterable[tuple[str, Obj]]:
        return self._items.items()

    def index_keys(self, index_name: str, value: str) -> StrList:
        return sorted(self._index(index_name).get(value, ()))

    def by_index(self, index_name: str, value: str) -> ObjList:
        """Objects whose index function returned ``value`` (in key order)."""
        keys = self._index(index_name).get(value)
        if not keys:
            return []
        return [self._items[k] for k in sorted(keys)]

    def list_index_values(self, index_name: str) -> StrList:
        return sorted(self._index(index_name))

    def by_namespace(self, namespace: str) -> ObjList:
        """Objects of one namespace (uses the namespace index when there is one)."""
        if NAMESPACE_INDEX in self._indices:
            return self.by_index(NAMESPACE_INDEX, namespace)
        prefix = namespace + "/"
        return [o for k, o in self._items.items() if k.startswith(prefix)]

    def _index(self, name: str) -> dict[str, set[str]]:
        try:
            return self._indices[name]
        except KeyError:
            raise KeyError(f"no index named {name!r}") from None
