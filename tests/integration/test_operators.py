"""Third-party operator frameworks against kubepy, unchanged: kopf and lightkube.

kopf runs as its own process (``kopf run handlers.py --standalone --namespace X`` with
KUBECONFIG pointing at the admin kubeconfig, ended by its PID): on a new ``Widget`` its
handler creates a child ConfigMap owned by the widget and reports into the widget's
status. lightkube creates, lists and watches the same custom resources through a
generic resource class.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from typing import Any

import kopf  # noqa: F401 - the operator runs as `python -m kopf`; fail early when it is missing
import lightkube
import lightkube.types
import pytest
from lightkube.generic_resource import create_namespaced_resource
from lightkube.models.meta_v1 import ObjectMeta

from kubepy.testing.processes import APIServerProcess
from tests.integration.conftest import Kubectl, poll
from tests.integration.httpclient import HTTPClient

pytestmark = pytest.mark.integration

GROUP = "ops.example.com"
CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": f"widgets.{GROUP}"},
    "spec": {
        "group": GROUP,
        "scope": "Namespaced",
        "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"]},
        "versions": [{
            "name": "v1", "served": True, "storage": True,
            "subresources": {"status": {}},
            "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                "spec": {"type": "object", "properties": {"size": {"type": "integer", "default": 1},
                                                          "colour": {"type": "string"}}},
                "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
            }}},
        }],
    },
}

HANDLERS = textwrap.dedent('''
    import kopf
    import kubernetes

    @kopf.on.startup()
    def configure(settings: kopf.OperatorSettings, **_):
        settings.posting.enabled = False
        settings.watching.server_timeout = 30

    @kopf.on.create("ops.example.com", "v1", "widgets")
    def create_widget(spec, name, namespace, body, patch, **_):
        kubernetes.config.load_kube_config()
        data = {"size": str(spec.get("size")), "colour": spec.get("colour", "")}
        cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"{name}-child"}, "data": data}
        kopf.adopt(cm, owner=body)
        kubernetes.client.CoreV1Api().create_namespaced_config_map(namespace, cm)
        patch.status["phase"] = "Ready"
        return {"child": f"{name}-child"}
''')


@pytest.fixture(scope="module")
def http(apiserver: APIServerProcess) -> HTTPClient:
    return HTTPClient(apiserver.url, apiserver.kubeconfig)


@pytest.fixture(scope="module")
def widgets(http: HTTPClient, kubectl: Kubectl) -> str:
    http.ok("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", body=CRD)
    kubectl("wait", "--for=condition=Established", f"crd/widgets.{GROUP}", "--timeout=20s")
    return f"widgets.{GROUP}"


@pytest.fixture(scope="module")
def kopf_operator(widgets: str, apiserver: APIServerProcess, namespace: str,
                  tmp_path_factory: pytest.TempPathFactory) -> Iterator[subprocess.Popen[bytes]]:
    work = tmp_path_factory.mktemp("kopf")
    (work / "handlers.py").write_text(HANDLERS)
    log = open(work / "kopf.log", "wb")  # noqa: SIM115 - owned by the child
    env = {**os.environ, "KUBECONFIG": str(apiserver.kubeconfig), "HOME": str(work)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "kopf", "run", "handlers.py", "--standalone", "--namespace", namespace],
        cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    log.close()
    try:
        yield proc
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()


def test_kopf_handler_creates_a_child_and_updates_status(
    kopf_operator: subprocess.Popen[bytes], http: HTTPClient, namespace: str
) -> None:
    base = f"/apis/{GROUP}/v1/namespaces/{namespace}/widgets"
    created = http.ok("POST", base, body={"apiVersion": f"{GROUP}/v1", "kind": "Widget",
                                          "metadata": {"name": "w1"}, "spec": {"colour": "red", "size": 3}})

    def child() -> Any:
        resp = http.get(f"/api/v1/namespaces/{namespace}/configmaps/w1-child")
        return resp.body if resp.status == 200 else None

    cm = poll(child, timeout=30, interval=0.2)
    assert cm["data"] == {"size": "3", "colour": "red"}
    owner = cm["metadata"]["ownerReferences"][0]
    assert owner["kind"] == "Widget" and owner["name"] == "w1" and owner["uid"] == created["metadata"]["uid"]

    def status() -> Any:
        obj = http.ok("GET", f"{base}/w1")
        st = obj.get("status") or {}
        return obj if st.get("phase") == "Ready" and "create_widget" in st else None

    obj = poll(status, timeout=30, interval=0.2)
    assert obj["status"]["create_widget"] == {"child": "w1-child"}
    # kopf records its progress in annotations on the object itself
    assert any(k.startswith("kopf.zalando.org/") for k in obj["metadata"].get("annotations", {}))
    assert kopf_operator.poll() is None, "kopf exited"


def test_lightkube_creates_lists_and_watches_custom_resources(
    widgets: str, apiserver: APIServerProcess, namespace: str
) -> None:
    Widget = create_namespaced_resource(GROUP, "v1", "Widget", "widgets")
    kc = lightkube.KubeConfig.from_file(str(apiserver.kubeconfig))
    client = lightkube.Client(config=kc, namespace=namespace, field_manager="lightkube-test")
    try:
        made = client.create(Widget(metadata=ObjectMeta(name="lk-1"), spec={"colour": "blue"}))
        assert made.spec["size"] == 1  # defaulted by the server
        names = {w.metadata.name for w in client.list(Widget)}
        assert "lk-1" in names
        events = []
        for op, obj in client.watch(Widget, server_timeout=5):
            events.append((op, obj.metadata.name))
            if op == "ADDED" and obj.metadata.name == "lk-2":
                break
            if op == "ADDED" and obj.metadata.name == "lk-1":
                client.create(Widget(metadata=ObjectMeta(name="lk-2"), spec={"size": 2}))
        assert ("ADDED", "lk-1") in events and ("ADDED", "lk-2") in events
        client.patch(Widget, "lk-2", {"spec": {"size": 5}}, patch_type=lightkube.types.PatchType.MERGE)
        assert client.get(Widget, "lk-2").spec["size"] == 5
        client.delete(Widget, "lk-1")
        client.delete(Widget, "lk-2")
    finally:
        client.close()
