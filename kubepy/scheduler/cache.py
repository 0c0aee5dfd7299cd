"""The scheduler's cache of nodes and the pods on them, and the per-cycle Snapshot.

Job: informers feed ``Cache`` every node and every assigned pod; the scheduling cycle adds
*assumed* pods (chosen a node, not yet bound) so the next cycle already counts them. An
assumed pod is confirmed when the informer delivers it bound, forgotten when binding fails,
and — once its binding call has finished — expired after ``ttl`` seconds if the bound pod
never shows up (0 disables expiry, as upstream's scheduler sets it since issue #106361; we
default to 30 s so a lost watch event cannot hold resources forever).
``update_snapshot(snapshot)`` brings a ``CacheSnapshot`` (the Snapshot the plugins read
during one cycle) up to date.

Design, after upstream's internal/cache:
- Every change stamps the node's entry with the next value of a global generation counter
  and moves it to the end of an ordered dict, so ``update_snapshot`` walks only the entries
  changed since the snapshot's generation (newest first) and clones just those NodeInfos:
  a cycle after one bind costs one clone, not one per node.
- Node order is upstream's node tree: nodes grouped by zone (region + zone labels), listed
  round-robin across zones, so sampling a prefix of the list still spreads over zones. The
  snapshot's list is rebuilt only when nodes are added or removed (or change zone);
  otherwise changed entries are replaced in place (a name -> position map), as are the
  lists of nodes having pods with (required anti-)affinity.
- A pod whose node is not known yet gets a node-less NodeInfo; such entries are left out
  of snapshots until the node arrives.
"""

from __future__ import annotations

import collections
import logging
from dataclasses import dataclass, field
from typing import Any

from kubepy.client.clock import REAL_CLOCK, Clock
from kubepy.scheduler.framework.interface import NodeInfoList
from kubepy.scheduler.framework.nodeinfo import NodeInfo, PodInfo

__all__ = ["Cache", "CacheSnapshot", "pod_key", "zone_key", "DEFAULT_ASSUMED_TTL"]

log = logging.getLogger(__name__)

Obj = dict[str, Any]
DEFAULT_ASSUMED_TTL = 30.0
ZONE_LABELS = ("topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/zone")
REGION_LABELS = ("topology.kubernetes.io/region", "failure-domain.beta.kubernetes.io/region")


def pod_key(pod: Obj) -> str:
    meta = pod["metadata"]
    return f"{meta.get('namespace', '')}/{meta['name']}"


def _node_name(pod: Obj) -> str:
    return str((pod.get("spec") or {}).get("nodeName") or "")


def zone_key(node: Obj) -> str:
    """Upstream's GetZoneKey: ``region:\\x00:zone``, or "" when the node has neither label."""
    labels = (node.get("metadata") or {}).get("labels") or {}
    zone = next((labels[k] for k in ZONE_LABELS if labels.get(k)), "")
    region = next((labels[k] for k in REGION_LABELS if labels.get(k)), "")
    if not zone and not region:
        return ""
    return f"{region}:\x00:{zone}"


def _conditions(node: Obj) -> dict[str, str]:
    return {c.get("type", ""): c.get("status", "") for c in (node.get("status") or {}).get("conditions") or ()}


def _relevant_change(old: Obj, new: Obj) -> bool:
    """Whether a node update changes anything scheduling reads (spec, labels, allocatable,
    images, condition statuses) — heartbeat timestamps do not count."""
    om, nm = old.get("metadata") or {}, new.get("metadata") or {}
    os_, ns_ = old.get("status") or {}, new.get("status") or {}
    return (old.get("spec") != new.get("spec") or om.get("labels") != nm.get("labels")
            or om.get("annotations") != nm.get("annotations")
            or os_.get("allocatable") != ns_.get("allocatable") or os_.get("images") != ns_.get("images")
            or _conditions(old) != _conditions(new))


class _NodeTree:
    """Node names per zone, listed round-robin across zones (upstream's nodeTree)."""

    def __init__(self) -> None:
        self.zones: dict[str, list[str]] = {}
        self.zone_of: dict[str, str] = {}
        self.version = 0

    def add(self, name: str, zone: str) -> None:
        if self.zone_of.get(name) == zone:
            return
        if name in self.zone_of:
            self.remove(name)
        self.zones.setdefault(zone, []).append(name)
        self.zone_of[name] = zone
        self.version += 1

    def remove(self, name: str) -> None:
        zone = self.zone_of.pop(name, None)
        if zone is None:
            return
        names = self.zones[zone]
        names.remove(name)
        if not names:
            del self.zones[zone]
        self.version += 1

    def __len__(self) -> int:
        return len(self.zone_of)

    def list(self) -> list[str]:
        zones = list(self.zones.values())
        if len(zones) == 1:
            return list(zones[0])
        out: list[str] = []
        i = 0
        total = len(self.zone_of)
        while len(out) < total:
            for names in zones:
                if i < len(names):
                    out.append(names[i])
            i += 1
        return out


@dataclass(slots=True)
class _PodState:
    pod: Obj
    assumed: bool = False
    binding_finished: bool = False
    deadline: float | None = None


@dataclass(slots=True)
class _Entry:
    info: NodeInfo
    generation: int = 0


@dataclass(slots=True)
class CacheSnapshot:
    """The node infos of one scheduling cycle (implements interface.Snapshot).

    Its NodeInfos are clones: the cache may change while a cycle runs (binding tasks,
    informer events) without the plugins seeing it half-way."""

    generation: int = 0
    node_info_map: dict[str, NodeInfo] = field(default_factory=dict)
    node_info_list: NodeInfoList = field(default_factory=list)
    affinity_list: NodeInfoList = field(default_factory=list)
    anti_affinity_list: NodeInfoList = field(default_factory=list)
    _pos: dict[str, int] = field(default_factory=dict)
    _aff_pos: dict[str, int] = field(default_factory=dict)
    _anti_pos: dict[str, int] = field(default_factory=dict)
    _tree_version: int = -1

    def node_infos(self) -> NodeInfoList:
        return self.node_info_list

    def get(self, name: str) -> NodeInfo | None:
        return self.node_info_map.get(name)

    def have_pods_with_affinity(self) -> NodeInfoList:
        return self.affinity_list

    def have_pods_with_required_anti_affinity(self) -> NodeInfoList:
        return self.anti_affinity_list

    def num_nodes(self) -> int:
        return len(self.node_info_list)

    @classmethod
    def of(cls, node_infos: list[NodeInfo]) -> CacheSnapshot:
        """A standalone snapshot of the given NodeInfos, in that order (tests, what-ifs)."""
        snap = cls()
        snap.node_info_map = {ni.name: ni for ni in node_infos}
        snap._rebuild(list(snap.node_info_map))
        return snap

    def _rebuild(self, order: list[str]) -> None:
        m = self.node_info_map
        self.node_info_list = [m[n] for n in order if n in m]
        self._pos = {ni.name: i for i, ni in enumerate(self.node_info_list)}
        self._rebuild_affinity()

    def _rebuild_affinity(self) -> None:
        self.affinity_list = [ni for ni in self.node_info_list if ni.pods_with_affinity]
        self.anti_affinity_list = [ni for ni in self.node_info_list if ni.pods_with_required_anti_affinity]
        self._aff_pos = {ni.name: i for i, ni in enumerate(self.affinity_list)}
        self._anti_pos = {ni.name: i for i, ni in enumerate(self.anti_affinity_list)}


class Cache:
    """Nodes and assigned pods as the scheduler believes them (assumed pods included)."""

    def __init__(self, *, ttl: float = DEFAULT_ASSUMED_TTL, clock: Clock = REAL_CLOCK) -> None:
        self.ttl = ttl
        self._clock = clock
        self._entries: collections.OrderedDict[str, _Entry] = collections.OrderedDict()
        self._pods: dict[str, _PodState] = {}
        self._tree = _NodeTree()
        self._generation = 0

    # -- bookkeeping -------------------------------------------------------------------------

    def _touch(self, name: str) -> _Entry:
        """The entry of ``name`` (created node-less if new), stamped as changed now."""
        entry = self._entries.get(name)
        if entry is None:
            info = NodeInfo()
            info.name = name
            entry = _Entry(info)
            self._entries[name] = entry
        else:
            self._entries.move_to_end(name)
        self._generation += 1
        entry.generation = self._generation
        return entry

    def _drop_if_empty(self, name: str) -> None:
        entry = self._entries.get(name)
        if entry is not None and entry.info.node is None and not entry.info.pods:
            del self._entries[name]

    def _add_to_node(self, pod: Obj) -> None:
        self._touch(_node_name(pod)).info.add_pod(PodInfo.of(pod))

    def _remove_from_node(self, pod: Obj) -> None:
        name = _node_name(pod)
        entry = self._entries.get(name)
        if entry is None:
            return
        self._touch(name)
        entry.info.remove_pod(pod_key(pod))
        self._drop_if_empty(name)

    # -- nodes -------------------------------------------------------------------------------

    def add_node(self, node: Obj) -> None:
        name = node["metadata"]["name"]
        self._touch(name).info.set_node(node)
        self._tree.add(name, zone_key(node))

    def update_node(self, old: Obj | None, new: Obj) -> None:
        """A node update; one that changes nothing the plugins read (a heartbeat) only swaps
        the stored object, so it costs no snapshot clone."""
        entry = self._entries.get(new["metadata"]["name"])
        if entry is not None and entry.info.node is not None and old is not None and not _relevant_change(old, new):
            entry.info.node = new
            return
        self.add_node(new)

    def remove_node(self, node: Obj) -> None:
        """The node goes; its NodeInfo stays node-less while pods still point at it."""
        name = node["metadata"]["name"]
        entry = self._entries.get(name)
        self._tree.remove(name)
        if entry is None:
            return
        self._touch(name)
        entry.info.node = None
        self._drop_if_empty(name)

    # -- pods --------------------------------------------------------------------------------

    def assume_pod(self, pod: Obj) -> None:
        """Count ``pod`` (with ``spec.nodeName`` set) on its node until bound or forgotten."""
        key = pod_key(pod)
        if key in self._pods:
            raise ValueError(f"pod {key} is in the cache, so can't be assumed")
        self._add_to_node(pod)
        self._pods[key] = _PodState(pod, assumed=True)

    def finish_binding(self, pod: Obj) -> None:
        """The bind call returned: start the assumed pod's expiry clock."""
        state = self._pods.get(pod_key(pod))
        if state is not None and state.assumed:
            state.binding_finished = True
            state.deadline = self._clock.monotonic() + self.ttl

    def forget_pod(self, pod: Obj) -> None:
        """Undo ``assume_pod`` (binding failed)."""
        key = pod_key(pod)
        state = self._pods.get(key)
        if state is None:
            return
        if not state.assumed:
            raise ValueError(f"pod {key} was not assumed, so can't be forgotten")
        if _node_name(state.pod) != _node_name(pod):
            raise ValueError(f"pod {key} was assumed on {_node_name(state.pod)} but forgotten on {_node_name(pod)}")
        self._remove_from_node(state.pod)
        del self._pods[key]

    def is_assumed_pod(self, pod: Obj) -> bool:
        state = self._pods.get(pod_key(pod))
        return state is not None and state.assumed

    def get_pod(self, pod: Obj) -> Obj | None:
        state = self._pods.get(pod_key(pod))
        return state.pod if state is not None else None

    def add_pod(self, pod: Obj) -> None:
        """An assigned pod from the informer (confirms an assumed one)."""
        key = pod_key(pod)
        state = self._pods.get(key)
        if state is not None and state.assumed:
            # confirmed: count the informer's object (fresh labels, the real node)
            self._remove_from_node(state.pod)
            self._add_to_node(pod)
            self._pods[key] = _PodState(pod)
            return
        if state is not None:
            self.update_pod(state.pod, pod)
            return
        self._add_to_node(pod)
        self._pods[key] = _PodState(pod)

    def update_pod(self, old: Obj, new: Obj) -> None:
        key = pod_key(new)
        state = self._pods.get(key)
        if state is None:
            self.add_pod(new)
            return
        if state.assumed:
            # an update for a pod we only assumed: the informer's object wins
            self.add_pod(new)
            return
        self._remove_from_node(state.pod)
        self._add_to_node(new)
        state.pod = new

    def remove_pod(self, pod: Obj) -> None:
        key = pod_key(pod)
        state = self._pods.pop(key, None)
        if state is None:
            return
        self._remove_from_node(state.pod)

    def cleanup_assumed_pods(self) -> list[Obj]:
        """Expire assumed pods whose binding finished more than ``ttl`` ago; returns them."""
        if self.ttl <= 0:
            return []
        now = self._clock.monotonic()
        expired = [s.pod for s in self._pods.values()
                   if s.assumed and s.binding_finished and s.deadline is not None and now >= s.deadline]
        for pod in expired:
            log.warning("assumed pod %s expired: its binding never showed up", pod_key(pod))
            self._remove_from_node(pod)
            del self._pods[pod_key(pod)]
        return expired

    # -- reads -------------------------------------------------------------------------------

    def node_count(self) -> int:
        return len(self._tree)

    def pod_count(self) -> int:
        return len(self._pods)

    def assumed_count(self) -> int:
        return sum(1 for s in self._pods.values() if s.assumed)

    def node_info(self, name: str) -> NodeInfo | None:
        """The live NodeInfo (read-only; tests and debugging)."""
        entry = self._entries.get(name)
        return entry.info if entry is not None else None

    # -- snapshot ----------------------------------------------------------------------------

    def update_snapshot(self, snap: CacheSnapshot) -> None:
        """Make ``snap`` reflect the cache now, cloning only NodeInfos changed since its last
        update."""
        rebuild_all = snap._tree_version != self._tree.version
        rebuild_affinity = False
        replaced: list[NodeInfo] = []
        m = snap.node_info_map
        for name in reversed(self._entries):
            entry = self._entries[name]
            if entry.generation <= snap.generation:
                break
            info = entry.info
            if info.node is None:
                if m.pop(name, None) is not None:
                    rebuild_all = True
                continue
            clone = info.clone()
            old = m.get(name)
            m[name] = clone
            if old is None:
                rebuild_all = True
                continue
            if bool(old.pods_with_affinity) != bool(clone.pods_with_affinity) or \
                    bool(old.pods_with_required_anti_affinity) != bool(clone.pods_with_required_anti_affinity):
                rebuild_affinity = True
            replaced.append(clone)
        if len(m) > len(self._tree):
            for name in [n for n in m if n not in self._tree.zone_of]:
                del m[name]
            rebuild_all = True
        snap.generation = self._generation
        if rebuild_all:
            snap._rebuild(self._tree.list())
            snap._tree_version = self._tree.version
            return
        for clone in replaced:
            name = clone.name
            snap.node_info_list[snap._pos[name]] = clone
            if not rebuild_affinity:
                i = snap._aff_pos.get(name)
                if i is not None:
                    snap.affinity_list[i] = clone
                i = snap._anti_pos.get(name)
                if i is not None:
                    snap.anti_affinity_list[i] = clone
        if rebuild_affinity:
            snap._rebuild_affinity()
