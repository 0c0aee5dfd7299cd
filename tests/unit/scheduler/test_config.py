"""KubeSchedulerConfiguration parsing, defaults and upstream's plugin merging."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kubepy.scheduler import config as c

DEFAULT_ORDER = [
    "SchedulingGates", "PrioritySort", "NodeUnschedulable", "NodeName", "TaintToleration", "NodeAffinity",
    "NodePorts", "NodeResourcesFit", "VolumeRestrictions", "NodeVolumeLimits", "VolumeBinding", "VolumeZone",
    "PodTopologySpread", "InterPodAffinity", "DefaultPreemption", "NodeResourcesBalancedAllocation",
    "ImageLocality", "DefaultBinder",
]


def doc(**kw: Any) -> dict[str, Any]:
    return {"apiVersion": c.API_VERSION, "kind": "KubeSchedulerConfiguration", **kw}


def names(pset: c.PluginSet) -> list[str]:
    return [p.name for p in pset.enabled]


def test_no_file_gives_one_default_profile_with_upstream_v1_defaults() -> None:
    cfg = c.default_config()
    assert [p.scheduler_name for p in cfg.profiles] == ["default-scheduler"]
    prof = cfg.profiles[0]
    assert list(prof.plugins) == ["multiPoint"]
    assert names(prof.plugins["multiPoint"]) == DEFAULT_ORDER
    weights = {p.name: p.weight for p in prof.plugins["multiPoint"].enabled if p.weight is not None}
    assert weights == {"TaintToleration": 3, "NodeAffinity": 2, "NodeResourcesFit": 1, "PodTopologySpread": 2,
                       "InterPodAffinity": 2, "NodeResourcesBalancedAllocation": 1, "ImageLocality": 1}
    assert cfg.percentage_of_nodes_to_score == 0
    assert (cfg.pod_initial_backoff_seconds, cfg.pod_max_backoff_seconds) == (1.0, 10.0)
    le = cfg.leader_election
    assert (le.leader_elect, le.lease_duration, le.renew_deadline, le.retry_period) == (True, 15.0, 10.0, 2.0)
    assert (le.resource_name, le.resource_namespace) == ("kube-scheduler", "kube-system")


@pytest.mark.parametrize(("custom", "point", "enabled", "disabled"), [
    pytest.param({"score": {"disabled": [{"name": "*"}]}}, "score", [], ["*"],
                 id="disabling every score plugin records the star for the multiPoint expansion"),
    pytest.param({"filter": {"enabled": [{"name": "MyFilter"}]}}, "filter", ["MyFilter"], [],
                 id="a custom filter plugin is enabled at its point only"),
    pytest.param({"score": {"enabled": [{"name": "NodeResourcesFit", "weight": 5}]}}, "score",
                 ["NodeResourcesFit"], [], id="a default plugin re-weighted at score overrides multiPoint there"),
], )
def test_per_point_settings_are_kept_for_the_runtime(custom: dict[str, Any], point: str, enabled: list[str],
                                                     disabled: list[str]) -> None:
    prof = c.parse(doc(profiles=[{"plugins": custom}])).profiles[0]
    assert names(prof.plugins[point]) == enabled
    assert prof.plugins[point].disabled == disabled
    assert names(prof.plugins["multiPoint"]) == DEFAULT_ORDER


@pytest.mark.parametrize(("multi", "expected"), [
    pytest.param({"disabled": [{"name": "ImageLocality"}]},
                 [n for n in DEFAULT_ORDER if n != "ImageLocality"], id="a disabled default is removed"),
    pytest.param({"enabled": [{"name": "NodeAffinity", "weight": 7}]}, DEFAULT_ORDER,
                 id="a re-configured default keeps its place"),
    pytest.param({"enabled": [{"name": "Custom"}]}, [*DEFAULT_ORDER, "Custom"],
                 id="a new plugin is appended after the defaults"),
    pytest.param({"disabled": [{"name": "*"}], "enabled": [{"name": "PrioritySort"}, {"name": "DefaultBinder"}]},
                 ["PrioritySort", "DefaultBinder"], id="star disables every default"),
])
def test_multi_point_merges_like_upstream(multi: dict[str, Any], expected: list[str]) -> None:
    prof = c.parse(doc(profiles=[{"plugins": {"multiPoint": multi}}])).profiles[0]
    assert names(prof.plugins["multiPoint"]) == expected


def test_a_reconfigured_default_carries_the_new_weight() -> None:
    prof = c.parse(doc(profiles=[{"plugins": {"multiPoint": {"enabled": [{"name": "NodeAffinity", "weight": 7}]}}}]))
    weights = {p.name: p.weight for p in prof.profiles[0].plugins["multiPoint"].enabled}
    assert weights["NodeAffinity"] == 7


def test_profiles_plugin_args_and_percentages_are_read() -> None:
    cfg = c.parse(doc(
        percentageOfNodesToScore=30,
        podInitialBackoffSeconds=2, podMaxBackoffSeconds=20,
        leaderElection={"leaderElect": False, "leaseDuration": "1m30s", "renewDeadline": "500ms",
                        "retryPeriod": 0.2, "resourceName": "sched"},
        clientConnection={"qps": 80, "burst": 160},
        profiles=[
            {"schedulerName": "default-scheduler",
             "pluginConfig": [{"name": "NodeResourcesFit",
                               "args": {"apiVersion": c.API_VERSION, "kind": "NodeResourcesFitArgs",
                                        "scoringStrategy": {"type": "MostAllocated"}}}]},
            {"schedulerName": "bin-packer", "percentageOfNodesToScore": 100},
        ],
    ))
    assert cfg.percentage_of_nodes_to_score == 30
    assert (cfg.pod_initial_backoff_seconds, cfg.pod_max_backoff_seconds) == (2.0, 20.0)
    le = cfg.leader_election
    assert (le.leader_elect, le.lease_duration, le.renew_deadline, le.retry_period, le.resource_name) == \
        (False, 90.0, 0.5, 0.2, "sched")
    assert (cfg.client_qps, cfg.client_burst) == (80.0, 160)
    default = cfg.profile("default-scheduler")
    assert default is not None and default.args_for("NodeResourcesFit") == {"scoringStrategy": {"type": "MostAllocated"}}
    assert default.percentage_of_nodes_to_score is None
    packer = cfg.profile("bin-packer")
    assert packer is not None and packer.percentage_of_nodes_to_score == 100
    assert packer.args_for("NodeResourcesFit") == {}


@pytest.mark.parametrize(("document", "field"), [
    pytest.param({"apiVersion": "kubescheduler.config.k8s.io/v1beta3", "kind": "KubeSchedulerConfiguration"},
                 "apiVersion", id="an old apiVersion is refused"),
    pytest.param(doc(kind="Other"), "kind", id="a wrong kind is refused"),
    pytest.param(doc(percentageOfNodesToScore=101), "percentageOfNodesToScore", id="a percentage above 100"),
    pytest.param(doc(profiles=[{}, {}]), "profiles[1].schedulerName", id="two profiles with one name"),
    pytest.param(doc(profiles=[{"plugins": {"sideways": {}}}]), "profiles[0].plugins.sideways",
                 id="an unknown extension point"),
    pytest.param(doc(profiles=[{"plugins": {"score": {"enabled": [{"weight": 1}]}}}]),
                 "profiles[0].plugins.score.enabled[0]", id="a plugin without a name"),
    pytest.param(doc(podInitialBackoffSeconds=5, podMaxBackoffSeconds=1), "podMaxBackoffSeconds",
                 id="a max back-off below the initial one"),
    pytest.param(doc(leaderElection={"leaseDuration": "15 parsecs"}), "leaderElection.leaseDuration",
                 id="a duration that is not one"),
])
def test_invalid_files_name_the_field(document: dict[str, Any], field: str) -> None:
    with pytest.raises(c.ConfigError, match=field.replace("[", r"\[").replace("]", r"\]")):
        c.parse(document)


def test_load_reads_yaml(tmp_path: Path) -> None:
    path = tmp_path / "sched.yaml"
    path.write_text(
        "apiVersion: kubescheduler.config.k8s.io/v1\n"
        "kind: KubeSchedulerConfiguration\n"
        "profiles:\n"
        "- schedulerName: my-scheduler\n"
        "  plugins:\n"
        "    score:\n"
        "      disabled:\n"
        "      - name: '*'\n"
    )
    cfg = c.load(path)
    assert [p.scheduler_name for p in cfg.profiles] == ["my-scheduler"]
    assert cfg.profiles[0].plugins["score"].disabled == ["*"]
    path.write_text("profiles: [unclosed\n")
    with pytest.raises(c.ConfigError, match="not valid YAML"):
        c.load(path)
