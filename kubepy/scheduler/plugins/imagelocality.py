"""ImageLocality: prefer nodes that already hold the pod's container images, so that the pod
starts without a long pull (upstream plugins/imagelocality).

Score: for each container and init container whose image the node has, add the image's
size scaled by its spread (nodes having it / all nodes, so that a popular image does not
pull every pod onto the same few nodes); clamp the sum to [23 MiB, 1000 MiB x containers]
and map it linearly onto 0..100. Integer arithmetic as upstream.

Image names: upstream appends ``:latest`` to a reference without tag or digest before the
lookup. Runtimes report fully qualified names (``docker.io/library/nginx:latest``) while
pods often say ``nginx``, so a reference is looked up under its equivalent Docker Hub
spellings too (``nginx:latest``, ``library/nginx:latest``, ``docker.io/library/nginx:latest``,
...): the upstream spelling first, the others only when it is absent.

Design: PreScore computes the pod's image spellings once and the number of nodes in the
snapshot; the per-image spread count walks the snapshot only the first time a node holding
that image is scored, so nodes without images (e.g. simulated ones) cost a dict lookup.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kubepy.scheduler.framework.interface import (
    MAX_NODE_SCORE,
    SUCCESS,
    ClusterEvent,
    Code,
    CycleState,
    EnqueueExtensions,
    Handle,
    NodeScore,
    PreScorePlugin,
    ScorePlugin,
    Status,
)
from kubepy.scheduler.framework.nodeinfo import NodeInfo

__all__ = [
    "MAX_CONTAINER_THRESHOLD",
    "MIN_THRESHOLD",
    "NAME",
    "ImageLocality",
    "calculate_priority",
    "image_name_variants",
    "new",
    "normalized_image_name",
]

Obj = dict[str, Any]

NAME = "ImageLocality"
MB = 1024 * 1024
MIN_THRESHOLD = 23 * MB
MAX_CONTAINER_THRESHOLD = 1000 * MB
_PRE_SCORE_KEY = "PreScore" + NAME
_DEFAULT_REGISTRY = "docker.io"


def normalized_image_name(name: str) -> str:
    """Upstream's normalizedImageName: ``:latest`` added when the reference has no tag or digest."""
    if name.rfind(":") <= name.rfind("/"):
        name += ":latest"
    return name


def image_name_variants(name: str) -> tuple[str, ...]:
    """The spellings a node may report the image under, upstream's normalized one first."""
    first = normalized_image_name(name)
    out = [first]
    head, _, rest = first.partition("/")
    if not rest or not ("." in head or ":" in head or head == "localhost"):
        # no registry host: implicit Docker Hub
        path = first
    elif head in (_DEFAULT_REGISTRY, "index.docker.io", "registry-1.docker.io"):
        path = rest
    else:
        return tuple(out)
    short = path[len("library/"):] if path.startswith("library/") and "/" not in path[len("library/"):] else path
    full = short if "/" in short else "library/" + short
    for v in (short, full, f"{_DEFAULT_REGISTRY}/{full}", f"{_DEFAULT_REGISTRY}/{short}"):
        if v not in out:
            out.append(v)
    return tuple(out)


def calculate_priority(sum_scores: int, num_containers: int) -> int:
    """Maps the summed scaled image sizes onto 0..MAX_NODE_SCORE."""
    max_threshold = MAX_CONTAINER_THRESHOLD * num_containers
    if sum_scores < MIN_THRESHOLD:
        sum_scores = MIN_THRESHOLD
    elif sum_scores > max_threshold:
        sum_scores = max_threshold
    return _go_div(MAX_NODE_SCORE * (sum_scores - MIN_THRESHOLD), max_threshold - MIN_THRESHOLD)


def _go_div(a: int, b: int) -> int:
    if b == 0:
        return 0
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def _size_on(node: NodeInfo, variants: tuple[str, ...]) -> int | None:
    sizes = node.image_sizes
    if not sizes:
        return None
    for v in variants:
        size = sizes.get(v)
        if size is not None:
            return size
    return None


@dataclass(slots=True)
class _State:
    #: the image spellings of every init and app container, in order
    images: list[tuple[str, ...]]
    total_nodes: int
    #: image variants -> number of nodes having it, filled on first use
    spread: dict[tuple[str, ...], int] = field(default_factory=dict)


class ImageLocality(PreScorePlugin, ScorePlugin, EnqueueExtensions):
    NAME = NAME
    HAS_NORMALIZE = False

    def normalize_score(self, state: CycleState, pod: Obj, scores: list[NodeScore]) -> Status:
        return SUCCESS  # not called: HAS_NORMALIZE is False

    def __init__(self, handle: Handle) -> None:
        self.handle = handle

    def events_to_register(self) -> list[ClusterEvent]:
        return []

    def _state(self, pod: Mapping[str, Any]) -> _State:
        spec = pod.get("spec") or {}
        containers = [*(spec.get("initContainers") or ()), *(spec.get("containers") or ())]
        images = [image_name_variants(str(c.get("image") or "")) for c in containers]
        return _State(images, len(self.handle.snapshot().node_infos()))

    def pre_score(self, state: CycleState, pod: Obj, nodes: list[NodeInfo]) -> Status:
        s = self._state(pod)
        if not s.images:
            return Status(Code.SKIP)
        state.write(_PRE_SCORE_KEY, s)
        return SUCCESS

    def score(self, state: CycleState, pod: Obj, node: NodeInfo) -> tuple[int, Status]:
        s: _State | None = state.get(_PRE_SCORE_KEY)
        if s is None:
            s = self._state(pod)
        total = 0
        if node.image_sizes:
            for variants in s.images:
                size = _size_on(node, variants)
                if size is None:
                    continue
                n = s.spread.get(variants)
                if n is None:
                    n = sum(1 for ni in self.handle.snapshot().node_infos() if _size_on(ni, variants) is not None)
                    s.spread[variants] = n
                spread = float(n) / float(s.total_nodes) if s.total_nodes else 0.0
                total += int(float(size) * spread)
        return calculate_priority(total, len(s.images)), SUCCESS


    def score_nodes(self, state: CycleState, pod: Obj, nodes: list[NodeInfo]) -> tuple[list[int], Status]:
        """Score every node in one call; nodes that report no images score 0 without work."""
        zero = calculate_priority(0, len(nodes and self._images_of(state, pod)))
        out = []
        for node in nodes:
            if node.image_sizes:
                out.append(self.score(state, pod, node)[0])
            else:
                out.append(zero)
        return out, SUCCESS

    def _images_of(self, state: CycleState, pod: Obj) -> list[tuple[str, ...]]:
        s: _State | None = state.get(_PRE_SCORE_KEY)
        return (s or self._state(pod)).images


def new(args: dict[str, Any], handle: Handle) -> ImageLocality:
    return ImageLocality(handle)
