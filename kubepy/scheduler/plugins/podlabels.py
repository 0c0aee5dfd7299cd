"""Pod-label helpers shared by the InterPodAffinity and PodTopologySpread plugins.

Both plugins count, per node, the pods of one namespace (or set of namespaces) whose
labels match a selector, and both narrow a selector with the incoming pod's own label
values (``matchLabelKeys`` / ``mismatchLabelKeys``). Selectors are compiled once per
scheduling cycle with ``kubepy.api.selectors`` (no parsing per node or per pod); the
counting loop skips terminating pods and other namespaces before touching labels, as
upstream's ``countPodsMatchSelector`` does.

Counting every pod of every node each cycle would make a cycle cost O(pods in the
cluster). ``PerNodeCache`` keeps such per-node results across cycles, keyed by what was
asked (a hashable description: selector, namespace, ...) and valid while the snapshot
hands out the same NodeInfo object at the same generation: the scheduler cache clones a
NodeInfo into the snapshot when the node or its pods change, and a NodeInfo mutated in
place bumps its generation, so a stale entry is never read. Pods of one workload ask the
same questions, so after the first pod a cycle costs O(nodes) dict lookups.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any, TypeVar

from kubepy.api.selectors import IN, NOT_IN, NOTHING, LabelSelector, Requirement
from kubepy.scheduler.framework.nodeinfo import NodeInfo

__all__ = [
    "PerNodeCache",
    "count_matching_pods",
    "pod_labels",
    "pod_namespace",
    "with_label_values",
]

Obj = dict[str, Any]
T = TypeVar("T")
_EMPTY: Mapping[str, str] = {}


def pod_namespace(pod: Mapping[str, Any]) -> str:
    ns: str = (pod.get("metadata") or {}).get("namespace") or ""
    return ns


def pod_labels(pod: Mapping[str, Any]) -> Mapping[str, str]:
    labels: Mapping[str, str] | None = (pod.get("metadata") or {}).get("labels")
    return labels if labels is not None else _EMPTY


def with_label_values(selector: LabelSelector, labels: Mapping[str, str], match_keys: Iterable[str] = (),
                      mismatch_keys: Iterable[str] = ()) -> LabelSelector:
    """``selector`` ANDed with ``key in (labels[key])`` for each match key and
    ``key notin (labels[key])`` for each mismatch key the labels carry.

    A selector that selects nothing stays so (upstream keeps a Nothing selector as is).
    """
    extra: list[Requirement] = []
    for key in match_keys:
        value = labels.get(key)
        if value is not None:
            extra.append(Requirement(key, IN, (value,)))
    for key in mismatch_keys:
        value = labels.get(key)
        if value is not None:
            extra.append(Requirement(key, NOT_IN, (value,)))
    if not extra or selector == NOTHING:
        return selector
    return LabelSelector([*selector.requirements, *extra])


def count_matching_pods(node: NodeInfo, selector: LabelSelector, namespace: str) -> int:
    """Pods on ``node`` in ``namespace``, not terminating, whose labels match ``selector``.

    An empty selector counts nothing (upstream's ``countPodsMatchSelector``).
    """
    if selector.empty:
        return 0
    count = 0
    matches = selector.matches
    for info in node.pods.values():
        meta = info.pod["metadata"]
        if meta.get("deletionTimestamp") or (meta.get("namespace") or "") != namespace:
            continue
        if matches(meta.get("labels")):
            count += 1
    return count


class PerNodeCache:
    """Per-node results reused across cycles (see the module docstring).

    ``table(key)`` returns the entries of one question; ``get(table, node, compute)``
    returns ``compute(node)``, from the table while the node's NodeInfo is unchanged.
    At most ``max_keys`` questions are kept, the least recently asked dropped first.
    """

    __slots__ = ("_tables", "max_keys")

    def __init__(self, max_keys: int = 32) -> None:
        self.max_keys = max_keys
        self._tables: OrderedDict[Hashable, dict[str, tuple[NodeInfo, int, Any]]] = OrderedDict()

    def table(self, key: Hashable) -> dict[str, tuple[NodeInfo, int, Any]]:
        t = self._tables.get(key)
        if t is None:
            t = self._tables[key] = {}
            if len(self._tables) > self.max_keys:
                self._tables.popitem(last=False)
        else:
            self._tables.move_to_end(key)
        return t

    @staticmethod
    def get(table: dict[str, tuple[NodeInfo, int, Any]], node: NodeInfo, compute: Callable[[NodeInfo], T]) -> T:
        entry = table.get(node.name)
        if entry is not None and entry[0] is node and entry[1] == node.generation:
            value: T = entry[2]
            return value
        value = compute(node)
        table[node.name] = (node, node.generation, value)
        return value

    def clear(self) -> None:
        self._tables.clear()
