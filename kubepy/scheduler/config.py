"""KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1): parsing, defaults, merging.

Job: turn the YAML a user hands ``kubepy scheduler --config`` into a ``SchedulerConfig``:
profiles (``schedulerName``, plugins per extension point, ``pluginConfig`` args,
``percentageOfNodesToScore``), back-off settings, leader election and client settings.
Each profile's plugins are merged with upstream's v1 defaults exactly as upstream's
``mergePlugins`` does: per extension point, the user's ``disabled`` names (``*`` for all)
remove defaults, a user ``enabled`` entry naming a default replaces it in place (keeping
the default order), and other user entries are appended. The defaults themselves are one
``multiPoint`` set, which the framework runtime expands to every extension point a plugin
implements (runtime.py), so user settings for one point override the multiPoint ones.

Design: plain dataclasses, no Kubernetes machinery; unknown top-level fields are ignored
as upstream's lenient decoder would for a newer file, but a wrong apiVersion/kind, a
negative or >100 percentage, or a duplicated schedulerName is an error with the field
path in the message. Plugin args stay dicts (minus apiVersion/kind): each plugin's
factory applies its own defaults, because it owns its args type.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "API_VERSION",
    "EXTENSION_POINTS",
    "DEFAULT_SCHEDULER_NAME",
    "LeaderElection",
    "PluginRef",
    "PluginSet",
    "Profile",
    "SchedulerConfig",
    "ConfigError",
    "default_plugins",
    "merge_plugins",
    "parse",
    "load",
    "default_config",
]

API_VERSION = "kubescheduler.config.k8s.io/v1"
KIND = "KubeSchedulerConfiguration"
DEFAULT_SCHEDULER_NAME = "default-scheduler"

#: the extension points in the order a pod meets them; "multiPoint" enables a plugin at
#: every point it implements
EXTENSION_POINTS: tuple[str, ...] = (
    "preEnqueue", "queueSort", "preFilter", "filter", "postFilter", "preScore", "score",
    "reserve", "permit", "preBind", "bind", "postBind", "multiPoint",
)

#: upstream v1 default plugins, in upstream's order, with their default score weights
_DEFAULT_MULTI_POINT: tuple[tuple[str, int | None], ...] = (
    ("SchedulingGates", None),
    ("PrioritySort", None),
    ("NodeUnschedulable", None),
    ("NodeName", None),
    ("TaintToleration", 3),
    ("NodeAffinity", 2),
    ("NodePorts", None),
    ("NodeResourcesFit", 1),
    ("VolumeRestrictions", None),
    ("NodeVolumeLimits", None),
    ("VolumeBinding", None),
    ("VolumeZone", None),
    ("PodTopologySpread", 2),
    ("InterPodAffinity", 2),
    ("DefaultPreemption", None),
    ("NodeResourcesBalancedAllocation", 1),
    ("ImageLocality", 1),
    ("DefaultBinder", None),
)


class ConfigError(ValueError):
    """The configuration file is invalid (the message names the field)."""


@dataclass(frozen=True, slots=True)
class PluginRef:
    name: str
    #: score weight (Score and multiPoint only); None = not given
    weight: int | None = None


@dataclass(slots=True)
class PluginSet:
    enabled: list[PluginRef] = field(default_factory=list)
    disabled: list[str] = field(default_factory=list)


@dataclass(slots=True, kw_only=True)
class Profile:
    scheduler_name: str = DEFAULT_SCHEDULER_NAME
    #: extension point -> plugin set, after merging with the defaults
    plugins: dict[str, PluginSet] = field(default_factory=dict)
    #: plugin name -> args (without apiVersion/kind)
    plugin_config: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: None: use the global setting
    percentage_of_nodes_to_score: int | None = None

    def args_for(self, name: str) -> dict[str, Any]:
        return dict(self.plugin_config.get(name) or {})


@dataclass(slots=True, kw_only=True)
class LeaderElection:
    leader_elect: bool = True
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0
    resource_name: str = "kube-scheduler"
    resource_namespace: str = "kube-system"


@dataclass(slots=True, kw_only=True)
class SchedulerConfig:
    profiles: list[Profile] = field(default_factory=list)
    #: 0 = adaptive (upstream's default)
    percentage_of_nodes_to_score: int = 0
    pod_initial_backoff_seconds: float = 1.0
    pod_max_backoff_seconds: float = 10.0
    leader_election: LeaderElection = field(default_factory=LeaderElection)
    #: clientConnection.qps/burst when the file sets them (None: the command's defaults)
    client_qps: float | None = None
    client_burst: int | None = None
    parallelism: int = 16

    def profile(self, scheduler_name: str) -> Profile | None:
        for p in self.profiles:
            if p.scheduler_name == scheduler_name:
                return p
        return None


def default_plugins() -> dict[str, PluginSet]:
    """Upstream's v1 defaults: every default plugin enabled through multiPoint."""
    return {"multiPoint": PluginSet(enabled=[PluginRef(n, w) for n, w in _DEFAULT_MULTI_POINT])}


def _merge_set(default: PluginSet, custom: PluginSet) -> PluginSet:
    disabled_names = set(custom.disabled) | set(default.disabled)
    disabled = [*custom.disabled, *default.disabled]
    custom_index = {p.name: i for i, p in enumerate(custom.enabled)}
    replaced: set[int] = set()
    enabled: list[PluginRef] = []
    if "*" not in disabled_names:
        for plugin in default.enabled:
            if plugin.name in disabled_names:
                continue
            i = custom_index.get(plugin.name)
            if i is not None:
                plugin = custom.enabled[i]  # re-configured: keep the default's position
                replaced.add(i)
            enabled.append(plugin)
    enabled.extend(p for i, p in enumerate(custom.enabled) if i not in replaced)
    return PluginSet(enabled=enabled, disabled=disabled)


def merge_plugins(default: Mapping[str, PluginSet], custom: Mapping[str, PluginSet] | None) -> dict[str, PluginSet]:
    """Upstream's mergePlugins: the defaults, per extension point, adjusted by ``custom``."""
    out: dict[str, PluginSet] = {}
    for point in EXTENSION_POINTS:
        d = default.get(point) or PluginSet()
        c = (custom or {}).get(point)
        merged = _merge_set(d, c) if c is not None else PluginSet(list(d.enabled), list(d.disabled))
        if merged.enabled or merged.disabled:
            out[point] = merged
    return out


# -- parsing -------------------------------------------------------------------------------------

def _expect(cond: bool, path: str, msg: str) -> None:
    if not cond:
        raise ConfigError(f"{path}: {msg}")


def _duration(value: Any, path: str) -> float:
    """metav1.Duration: "15s", "1m30s", "500ms", or a number of seconds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    _expect(isinstance(value, str) and bool(value), path, f"invalid duration {value!r}")
    s = str(value)
    units = (("ms", 0.001), ("h", 3600.0), ("m", 60.0), ("s", 1.0))
    total, num = 0.0, ""
    i = 0
    while i < len(s):
        ch = s[i]
        if ch.isdigit() or ch == ".":
            num += ch
            i += 1
            continue
        for unit, factor in units:
            if s.startswith(unit, i):
                _expect(bool(num), path, f"invalid duration {value!r}")
                total += float(num) * factor
                num = ""
                i += len(unit)
                break
        else:
            raise ConfigError(f"{path}: invalid duration {value!r}")
    _expect(num == "", path, f"invalid duration {value!r} (missing unit)")
    return total


def _plugin_set(doc: Any, path: str) -> PluginSet:
    _expect(isinstance(doc, dict), path, "must be an object")
    out = PluginSet()
    for i, item in enumerate(doc.get("enabled") or ()):
        p = f"{path}.enabled[{i}]"
        _expect(isinstance(item, dict) and bool(item.get("name")), p, "name is required")
        weight = item.get("weight")
        if weight is not None:
            _expect(isinstance(weight, int) and not isinstance(weight, bool) and weight >= 0, f"{p}.weight",
                    "must be a non-negative integer")
        out.enabled.append(PluginRef(str(item["name"]), weight))
    for i, item in enumerate(doc.get("disabled") or ()):
        p = f"{path}.disabled[{i}]"
        _expect(isinstance(item, dict) and bool(item.get("name")), p, "name is required")
        out.disabled.append(str(item["name"]))
    return out


def _percentage(value: Any, path: str) -> int:
    _expect(isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 100, path,
            f"Invalid value: {value!r}: not in valid range [0-100]")
    return int(value)


def _profile(doc: Any, path: str) -> Profile:
    _expect(isinstance(doc, dict), path, "must be an object")
    name = doc.get("schedulerName") or DEFAULT_SCHEDULER_NAME
    custom: dict[str, PluginSet] = {}
    plugins = doc.get("plugins") or {}
    _expect(isinstance(plugins, dict), f"{path}.plugins", "must be an object")
    for point, value in plugins.items():
        _expect(point in EXTENSION_POINTS, f"{path}.plugins.{point}", "unknown extension point")
        if value is not None:
            custom[point] = _plugin_set(value, f"{path}.plugins.{point}")
    args: dict[str, dict[str, Any]] = {}
    for i, pc in enumerate(doc.get("pluginConfig") or ()):
        p = f"{path}.pluginConfig[{i}]"
        _expect(isinstance(pc, dict) and bool(pc.get("name")), p, "name is required")
        pname = str(pc["name"])
        _expect(pname not in args, f"{p}.name", f"Duplicate value: {pname!r}")
        a = copy.deepcopy(pc.get("args") or {})
        _expect(isinstance(a, dict), f"{p}.args", "must be an object")
        a.pop("apiVersion", None)
        a.pop("kind", None)
        args[pname] = a
    pct = doc.get("percentageOfNodesToScore")
    return Profile(
        scheduler_name=str(name),
        plugins=merge_plugins(default_plugins(), custom),
        plugin_config=args,
        percentage_of_nodes_to_score=None if pct is None else _percentage(pct, f"{path}.percentageOfNodesToScore"),
    )


def parse(doc: Mapping[str, Any] | None) -> SchedulerConfig:
    """A decoded KubeSchedulerConfiguration document (None or {} = all defaults)."""
    doc = dict(doc or {})
    if doc:
        _expect(doc.get("apiVersion") == API_VERSION, "apiVersion",
                f"unsupported {doc.get('apiVersion')!r} (want {API_VERSION})")
        _expect(doc.get("kind") == KIND, "kind", f"unsupported {doc.get('kind')!r} (want {KIND})")
    cfg = SchedulerConfig()
    if doc.get("percentageOfNodesToScore") is not None:
        cfg.percentage_of_nodes_to_score = _percentage(doc["percentageOfNodesToScore"], "percentageOfNodesToScore")
    if doc.get("podInitialBackoffSeconds") is not None:
        cfg.pod_initial_backoff_seconds = float(doc["podInitialBackoffSeconds"])
        _expect(cfg.pod_initial_backoff_seconds > 0, "podInitialBackoffSeconds", "must be greater than 0")
    if doc.get("podMaxBackoffSeconds") is not None:
        cfg.pod_max_backoff_seconds = float(doc["podMaxBackoffSeconds"])
    _expect(cfg.pod_max_backoff_seconds >= cfg.pod_initial_backoff_seconds, "podMaxBackoffSeconds",
            "must be greater than or equal to PodInitialBackoffSeconds")
    if doc.get("parallelism") is not None:
        cfg.parallelism = int(doc["parallelism"])
    le = doc.get("leaderElection") or {}
    _expect(isinstance(le, dict), "leaderElection", "must be an object")
    el = cfg.leader_election
    if le.get("leaderElect") is not None:
        el.leader_elect = bool(le["leaderElect"])
    for key, attr in (("leaseDuration", "lease_duration"), ("renewDeadline", "renew_deadline"),
                      ("retryPeriod", "retry_period")):
        if le.get(key) is not None:
            setattr(el, attr, _duration(le[key], f"leaderElection.{key}"))
    if le.get("resourceName"):
        el.resource_name = str(le["resourceName"])
    if le.get("resourceNamespace"):
        el.resource_namespace = str(le["resourceNamespace"])
    if le.get("resourceLock") not in (None, "leases"):
        raise ConfigError(f"leaderElection.resourceLock: unsupported {le['resourceLock']!r} (only leases)")
    cc = doc.get("clientConnection") or {}
    if cc.get("qps") is not None:
        cfg.client_qps = float(cc["qps"])
    if cc.get("burst") is not None:
        cfg.client_burst = int(cc["burst"])
    profiles = doc.get("profiles")
    if not profiles:
        cfg.profiles = [_profile({}, "profiles[0]")]
    else:
        _expect(isinstance(profiles, list), "profiles", "must be a list")
        seen: set[str] = set()
        for i, p in enumerate(profiles):
            prof = _profile(p, f"profiles[{i}]")
            _expect(prof.scheduler_name not in seen, f"profiles[{i}].schedulerName",
                    f"Duplicate value: {prof.scheduler_name!r}")
            seen.add(prof.scheduler_name)
            cfg.profiles.append(prof)
    return cfg


def load(path: str | Path) -> SchedulerConfig:
    """Read and parse a KubeSchedulerConfiguration YAML (or JSON) file."""
    text = Path(path).read_text()
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML: {e}") from None
    if doc is not None and not isinstance(doc, dict):
        raise ConfigError(f"{path}: the document must be an object")
    return parse(doc)


def default_config() -> SchedulerConfig:
    return parse(None)
