"""Per-resource registry strategies and the table that picks one for each resource.

``STRATEGIES`` maps (group, plural) to a Strategy class; resources not listed get the
generic ``Strategy``. Strategies needing server state (the Service IP allocator) get it
from ``make_strategy``'s caller afterwards.
"""

from __future__ import annotations

from kubepy.api.resources import ResourceInfo
from kubepy.apiserver.registry.autoscaling import HPAStrategy
from kubepy.apiserver.registry.certificates import CSRStrategy
from kubepy.apiserver.registry.jobs import JobStrategy
from kubepy.apiserver.registry.namespaces import NamespaceStrategy
from kubepy.apiserver.registry.nodes import NodeStrategy
from kubepy.apiserver.registry.pods import PodStrategy
from kubepy.apiserver.registry.secrets import SecretStrategy
from kubepy.apiserver.registry.services import ServiceStrategy
from kubepy.apiserver.registry.strategy import Strategy

STRATEGIES: dict[tuple[str, str], type[Strategy]] = {
    ("", "pods"): PodStrategy,
    ("", "namespaces"): NamespaceStrategy,
    ("", "nodes"): NodeStrategy,
    ("", "services"): ServiceStrategy,
    ("", "secrets"): SecretStrategy,
    ("batch", "jobs"): JobStrategy,
    ("certificates.k8s.io", "certificatesigningrequests"): CSRStrategy,
    ("autoscaling", "horizontalpodautoscalers"): HPAStrategy,
}


def make_strategy(info: ResourceInfo) -> Strategy:
    return STRATEGIES.get((info.group, info.plural), Strategy)(info)
