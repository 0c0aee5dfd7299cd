"""Plugin interfaces of the scheduling framework, after upstream's framework/interface.go.

A plugin implements the extension points it needs by subclassing the Protocols below
(so mypy checks the signatures). Every plugin module has ``NAME`` and a factory
``new(args: dict, handle: Handle) -> Plugin``; plugins are registered in the explicit
table of kubepy/scheduler/plugins/registry.py. A plugin keeps per-cycle data in the
CycleState under a key derived from its name (``f"PreFilter{NAME}"``).

Contracts:
- Filter, Score and the PreX points are called on the scheduler's one event loop; they are
  plain (synchronous) functions and must be cheap: Filter runs once per (pod, node)
  examined. Binding-cycle points (PreBind, Bind, PostBind, Permit waits) are coroutines.
- A Status with code UNSCHEDULABLE says "this node does not fit, preemption may help";
  UNSCHEDULABLE_AND_UNRESOLVABLE says "preemption cannot help"; ERROR aborts the cycle.
  ``reasons`` are the human strings of the FailedScheduling message
  ("node(s) didn't match Pod's node affinity/selector").
- Scores are integers in [0, MAX_NODE_SCORE] after NormalizeScore; weights multiply them.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from kubepy.scheduler.framework.nodeinfo import NodeInfo

Obj = dict[str, Any]

MAX_NODE_SCORE = 100
MIN_NODE_SCORE = 0


class Code(enum.IntEnum):
    SUCCESS = 0
    ERROR = 1
    UNSCHEDULABLE = 2
    UNSCHEDULABLE_AND_UNRESOLVABLE = 3
    WAIT = 4
    SKIP = 5
    PENDING = 6


@dataclass(slots=True)
class Status:
    code: Code = Code.SUCCESS
    reasons: list[str] = field(default_factory=list)
    plugin: str = ""

    @property
    def ok(self) -> bool:
        return self.code is Code.SUCCESS

    @property
    def is_rejected(self) -> bool:
        return self.code in (Code.UNSCHEDULABLE, Code.UNSCHEDULABLE_AND_UNRESOLVABLE, Code.PENDING)

    @property
    def message(self) -> str:
        return ", ".join(self.reasons)

    @classmethod
    def unschedulable(cls, *reasons: str, resolvable: bool = True, plugin: str = "") -> Status:
        code = Code.UNSCHEDULABLE if resolvable else Code.UNSCHEDULABLE_AND_UNRESOLVABLE
        return cls(code, list(reasons), plugin)

    @classmethod
    def error(cls, reason: str, plugin: str = "") -> Status:
        return cls(Code.ERROR, [reason], plugin)


SUCCESS = Status()


class CycleState:
    """Per-pod, per-cycle scratch data shared by the plugins of one scheduling cycle."""

    __slots__ = ("_data", "skip_filter", "skip_score")

    def __init__(self) -> None:
        self._data: dict[str, Any] = {}
        #: plugins whose PreFilter/PreScore returned SKIP
        self.skip_filter: set[str] = set()
        self.skip_score: set[str] = set()

    def read(self, key: str) -> Any:
        return self._data[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self._data.get(key, default)

    def write(self, key: str, value: Any) -> None:
        self._data[key] = value

    def clone(self) -> CycleState:
        """A copy for preemption's what-if runs; values with a ``clone()`` method are cloned."""
        c = CycleState()
        c._data = {k: (v.clone() if hasattr(v, "clone") else v) for k, v in self._data.items()}
        c.skip_filter = set(self.skip_filter)
        c.skip_score = set(self.skip_score)
        return c


@dataclass(slots=True)
class PreFilterResult:
    """Restricts the nodes to examine (None: all nodes)."""

    node_names: set[str] | None = None


@dataclass(slots=True)
class PostFilterResult:
    nominated_node_name: str = ""


@dataclass(slots=True)
class NodeScore:
    name: str
    score: int


class Handle(Protocol):
    """What plugins may use of the scheduler (upstream's framework.Handle)."""

    @property
    def client(self) -> Any:
        """kubepy.client.Client (binding, evictions, status patches)."""

    def snapshot(self) -> Snapshot:
        """The node infos of this scheduling cycle (consistent for the whole cycle)."""

    def lister(self, api_version: str, plural: str) -> Any:
        """A shared informer's indexer for any resource (PriorityClasses, PVCs, ...)."""

    def run_filter_plugins_with_nominated_pods(self, state: CycleState, pod: Obj, node: NodeInfo) -> Status:
        """Filter as the cycle does, for preemption's what-if evaluation."""


class Snapshot(Protocol):
    def node_infos(self) -> NodeInfoList:
        """Every node, in a stable order."""

    def get(self, name: str) -> NodeInfo | None: ...

    def have_pods_with_affinity(self) -> NodeInfoList: ...

    def have_pods_with_required_anti_affinity(self) -> NodeInfoList: ...


NodeInfoList = list["NodeInfo"]


class Plugin(Protocol):
    NAME: str


@runtime_checkable
class QueueSortPlugin(Protocol):
    def less(self, a: QueuedPodInfo, b: QueuedPodInfo) -> bool: ...


@runtime_checkable
class PreFilterPlugin(Protocol):
    def pre_filter(self, state: CycleState, pod: Obj, nodes: list[NodeInfo]) -> tuple[PreFilterResult | None, Status]:
        ...

    def add_pod(self, state: CycleState, pod: Obj, pod_to_add: Obj, node: NodeInfo) -> Status:
        """PreFilterExtensions: keep the cycle state right when preemption adds a pod."""
        ...

    def remove_pod(self, state: CycleState, pod: Obj, pod_to_remove: Obj, node: NodeInfo) -> Status:
        """PreFilterExtensions: ... or removes one (a victim)."""
        ...


@runtime_checkable
class FilterPlugin(Protocol):
    def filter(self, state: CycleState, pod: Obj, node: NodeInfo) -> Status: ...


@runtime_checkable
class PostFilterPlugin(Protocol):
    async def post_filter(
        self, state: CycleState, pod: Obj, statuses: Mapping[str, Status]
    ) -> tuple[PostFilterResult | None, Status]: ...


@runtime_checkable
class PreScorePlugin(Protocol):
    def pre_score(self, state: CycleState, pod: Obj, nodes: list[NodeInfo]) -> Status: ...


@runtime_checkable
class ScorePlugin(Protocol):
    def score(self, state: CycleState, pod: Obj, node: NodeInfo) -> tuple[int, Status]: ...

    def normalize_score(self, state: CycleState, pod: Obj, scores: list[NodeScore]) -> Status:
        """Called only when ``HAS_NORMALIZE`` is true on the plugin."""
        ...


@runtime_checkable
class ReservePlugin(Protocol):
    def reserve(self, state: CycleState, pod: Obj, node_name: str) -> Status: ...

    def unreserve(self, state: CycleState, pod: Obj, node_name: str) -> None: ...


@runtime_checkable
class PermitPlugin(Protocol):
    def permit(self, state: CycleState, pod: Obj, node_name: str) -> tuple[Status, float]: ...


@runtime_checkable
class PreBindPlugin(Protocol):
    async def pre_bind(self, state: CycleState, pod: Obj, node_name: str) -> Status: ...


@runtime_checkable
class BindPlugin(Protocol):
    async def bind(self, state: CycleState, pod: Obj, node_name: str) -> Status: ...


@runtime_checkable
class PostBindPlugin(Protocol):
    def post_bind(self, state: CycleState, pod: Obj, node_name: str) -> None: ...


@runtime_checkable
class EnqueueExtensions(Protocol):
    def events_to_register(self) -> Iterable[ClusterEvent]:
        """The cluster events that may make a pod this plugin rejected schedulable."""
        ...


@dataclass(frozen=True, slots=True)
class ClusterEvent:
    resource: str  # "Pod", "Node", "PersistentVolumeClaim", ...
    action: str  # "Add", "Update", "Delete", "UpdateNodeLabel", "UpdateNodeTaint", "UpdateNodeAllocatable", ...


@dataclass(slots=True)
class QueuedPodInfo:
    pod: Obj
    #: when the pod entered the queue (for FIFO among equal priorities)
    timestamp: float
    attempts: int = 0
    initial_attempt_timestamp: float | None = None
    unschedulable_plugins: set[str] = field(default_factory=set)
    pending_plugins: set[str] = field(default_factory=set)

    @property
    def key(self) -> str:
        meta = self.pod["metadata"]
        return f"{meta.get('namespace', '')}/{meta['name']}"
