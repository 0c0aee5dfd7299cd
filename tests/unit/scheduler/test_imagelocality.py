"""ImageLocality: upstream's image_locality_test.go score table (spread-scaled sizes,
23 MiB / 1000 MiB-per-container thresholds) and image name normalization."""

from __future__ import annotations

import pytest

from kubepy.scheduler.framework.interface import Code, CycleState
from kubepy.scheduler.plugins import imagelocality as il
from kubepy.testing.scheduler_builders import FakeHandle, make_node, make_pod, node_infos

MB = 1024 * 1024


def _node(name, images):
    b = make_node().name(name)
    for names, size_mb in images:
        b.image(names, size_mb * MB)
    return b.obj()


NODE_40_300_2000 = [(["gcr.io/40:latest", "gcr.io/40:v1", "gcr.io/40:v1"], 40),
                    (["gcr.io/300:latest", "gcr.io/300:v1"], 300), (["gcr.io/2000:latest"], 2000)]
NODE_250_10 = [(["gcr.io/250:latest"], 250), (["gcr.io/10:latest", "gcr.io/10:v1"], 10)]
NODE_600_40_900 = [(["gcr.io/600:latest"], 600), (["gcr.io/40:latest"], 40), (["gcr.io/900:latest"], 900)]
NODE_300_600_900 = [(["gcr.io/300:latest"], 300), (["gcr.io/600:latest"], 600), (["gcr.io/900:latest"], 900)]
NODE_4000_30 = [(["gcr.io/4000:latest"], 4000), (["gcr.io/30:latest"], 30)]
NODE_20_30_40 = [(["gcr.io/20:latest"], 20), (["gcr.io/30:latest"], 30), (["gcr.io/40:latest"], 40)]


def _pod(*images, init=()):
    b = make_pod()
    for img in images:
        b.container(img)
    pod = b.obj()
    if init:
        pod["spec"]["initContainers"] = [{"name": f"init{i}", "image": img} for i, img in enumerate(init)]
    return pod


CASES = [
    ("two images spread on two nodes, prefer the larger image one", _pod("gcr.io/40", "gcr.io/250"),
     [NODE_40_300_2000, NODE_250_10], [0, 5]),
    ("two images on one node, prefer this node", _pod("gcr.io/40", "gcr.io/300"),
     [NODE_40_300_2000, NODE_250_10], [7, 0]),
    ("an image over the limit scores the maximum", _pod("gcr.io/10", "gcr.io/4000"),
     [NODE_4000_30, NODE_250_10], [100, 0]),
    ("the limit applies after scaling by spread, with a node without images", _pod("gcr.io/10", "gcr.io/4000"),
     [NODE_4000_30, NODE_250_10, []], [66, 0, 0]),
    ("pod with multiple large images, node2 is preferred", _pod("gcr.io/300", "gcr.io/600", "gcr.io/900"),
     [NODE_600_40_900, NODE_300_600_900, []], [32, 36, 0]),
    ("pod with multiple small images", _pod("gcr.io/30", "gcr.io/40"), [NODE_20_30_40, NODE_4000_30], [1, 0]),
    ("init containers' images count too", _pod("gcr.io/30", init=["gcr.io/300"]),
     [NODE_40_300_2000, NODE_20_30_40], [6, 0]),
]


@pytest.mark.parametrize("pod,nodes,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_score(pod, nodes, expected):
    infos = node_infos([_node(f"node{i}", imgs) for i, imgs in enumerate(nodes)])
    plugin = il.new({}, FakeHandle(infos))
    state = CycleState()
    assert plugin.pre_score(state, pod, infos).ok
    assert [plugin.score(state, pod, ni)[0] for ni in infos] == expected
    # without PreScore the plugin computes the same
    assert [plugin.score(CycleState(), pod, ni)[0] for ni in infos] == expected


def test_a_pod_without_containers_skips_scoring():
    assert il.new({}, FakeHandle([])).pre_score(CycleState(), make_pod().obj(), []).code is Code.SKIP


@pytest.mark.parametrize("name,normalized", [
    ("root", "root:latest"), ("gcr.io:5000/root", "gcr.io:5000/root:latest"), ("root:tag", "root:tag"),
    ("root@sha256:" + "a" * 64, "root@sha256:" + "a" * 64),
], ids=["a bare name gets latest", "a registry port is not a tag", "a tag is kept", "a digest is kept"])
def test_normalized_image_name(name, normalized):
    assert il.normalized_image_name(name) == normalized


@pytest.mark.parametrize("pod_image,node_name", [
    ("nginx", "docker.io/library/nginx:latest"),
    ("docker.io/library/nginx:1.25", "nginx:1.25"),
    ("library/nginx", "nginx:latest"),
    ("myorg/app:v1", "docker.io/myorg/app:v1"),
], ids=["a short name finds the fully qualified one", "a qualified name finds the short one",
        "library/ is implicit", "an organisation image on Docker Hub"])
def test_docker_hub_spellings_match(pod_image, node_name):
    infos = node_infos([make_node().name("n").image([node_name], 600 * MB).obj()])
    plugin = il.new({}, FakeHandle(infos))
    pod = make_pod().container(pod_image).obj()
    state = CycleState()
    plugin.pre_score(state, pod, infos)
    assert plugin.score(state, pod, infos[0])[0] == 59  # 100 * (600 - 23) / (1000 - 23)


def test_other_registries_are_not_confused_with_docker_hub():
    assert il.image_name_variants("gcr.io/nginx") == ("gcr.io/nginx:latest",)
    assert "quay.io/nginx:latest" not in il.image_name_variants("nginx")


def test_calculate_priority_clamps():
    assert il.calculate_priority(0, 1) == 0
    assert il.calculate_priority(5000 * MB, 2) == 100
