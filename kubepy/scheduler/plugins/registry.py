"""The explicit table of in-tree plugins: upstream name -> ``module:factory``.

A factory is ``new(args: dict, handle: Handle) -> plugin``. The default profile
(upstream's v1 defaults) enables them with the weights in ``DEFAULT_SCORE_WEIGHTS``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

PLUGINS: dict[str, str] = {
    "PrioritySort": "kubepy.scheduler.plugins.queuesort:new",
    "SchedulingGates": "kubepy.scheduler.plugins.schedulinggates:new",
    "NodeUnschedulable": "kubepy.scheduler.plugins.nodeunschedulable:new",
    "NodeName": "kubepy.scheduler.plugins.nodename:new",
    "TaintToleration": "kubepy.scheduler.plugins.tainttoleration:new",
    "NodeAffinity": "kubepy.scheduler.plugins.nodeaffinity:new",
    "NodePorts": "kubepy.scheduler.plugins.nodeports:new",
    "NodeResourcesFit": "kubepy.scheduler.plugins.noderesources:new_fit",
    "NodeResourcesBalancedAllocation": "kubepy.scheduler.plugins.noderesources:new_balanced_allocation",
    "ImageLocality": "kubepy.scheduler.plugins.imagelocality:new",
    "InterPodAffinity": "kubepy.scheduler.plugins.interpodaffinity:new",
    "PodTopologySpread": "kubepy.scheduler.plugins.podtopologyspread:new",
    "DefaultPreemption": "kubepy.scheduler.plugins.defaultpreemption:new",
    "DefaultBinder": "kubepy.scheduler.plugins.defaultbinder:new",
}

#: upstream v1 default score weights
DEFAULT_SCORE_WEIGHTS: dict[str, int] = {
    "TaintToleration": 3,
    "NodeAffinity": 2,
    "NodeResourcesFit": 1,
    "NodeResourcesBalancedAllocation": 1,
    "ImageLocality": 1,
    "InterPodAffinity": 2,
    "PodTopologySpread": 2,
}


def factory(name: str) -> Callable[[dict[str, Any], Any], Any] | None:
    """The plugin's factory, or None when this build does not have the plugin module."""
    spec = PLUGINS.get(name)
    if spec is None:
        return None
    module_name, _, attr = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if e.name == module_name:
            return None
        raise
    fn: Callable[[dict[str, Any], Any], Any] = getattr(module, attr)
    return fn
