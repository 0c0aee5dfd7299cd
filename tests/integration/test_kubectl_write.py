"""Write-side kubectl against a real kubepy API server: create, apply, edit, patch, label,
annotate, scale, run, the ``create <kind>`` generators (which send protobuf) and delete.

Every test checks the live object afterwards, not just kubectl's message. One server per
module; each test uses its own object names in the module's namespace.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import Kubectl

pytestmark = [
    pytest.mark.integration,
]

PROTOBUF = "application/vnd.kubernetes.protobuf"


def live(kubectl: Kubectl, ns: str, *what: str) -> dict[str, Any]:
    obj: dict[str, Any] = kubectl.json("-n", ns, "get", *what)
    return obj


def missing(kubectl: Kubectl, ns: str, *what: str) -> bool:
    proc = kubectl.run("-n", ns, "get", *what, check=False)
    return proc.returncode == 1 and "(NotFound)" in proc.stderr


# -- create -f --------------------------------------------------------------------------------

MULTI_DOC = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: multi-cm
  labels: {bundle: multi}
data:
  greeting: hello
---
apiVersion: v1
kind: Secret
metadata:
  name: multi-secret
  labels: {bundle: multi}
stringData:
  token: s3cret
---
apiVersion: v1
kind: Service
metadata:
  name: multi-svc
  labels: {bundle: multi}
spec:
  selector: {app: multi}
  ports:
  - port: 80
    targetPort: 8080
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: multi-deploy
  labels: {bundle: multi}
spec:
  replicas: 2
  selector: {matchLabels: {app: multi}}
  template:
    metadata: {labels: {app: multi}}
    spec:
      containers:
      - name: app
        image: nginx:1.27
"""


def test_create_from_multi_document_yaml(kubectl: Kubectl, namespace: str, tmp_path: Path) -> None:
    ns = namespace
    manifest = tmp_path / "bundle.yaml"
    manifest.write_text(MULTI_DOC)
    out = kubectl("-n", ns, "create", "-f", str(manifest))
    assert out.splitlines() == [
        "configmap/multi-cm created", "secret/multi-secret created",
        "service/multi-svc created", "deployment.apps/multi-deploy created",
    ]
    assert live(kubectl, ns, "configmap", "multi-cm")["data"] == {"greeting": "hello"}
    assert live(kubectl, ns, "secret", "multi-secret")["type"] == "Opaque"
    svc = live(kubectl, ns, "service", "multi-svc")
    assert svc["spec"]["type"] == "ClusterIP" and svc["spec"]["clusterIP"].count(".") == 3
    assert svc["spec"]["ports"] == [{"port": 80, "protocol": "TCP", "targetPort": 8080}]
    assert live(kubectl, ns, "deployment", "multi-deploy")["spec"]["replicas"] == 2
    names = kubectl("-n", ns, "get", "all,configmaps,secrets", "-l", "bundle=multi", "-o", "name").split()
    assert sorted(names) == ["configmap/multi-cm", "deployment.apps/multi-deploy",
                             "secret/multi-secret", "service/multi-svc"]

    again = kubectl.run("-n", ns, "create", "-f", str(manifest), check=False)
    assert again.returncode == 1
    assert f'Error from server (AlreadyExists): error when creating "{manifest}": configmaps "multi-cm" already exists' in again.stderr


def test_secret_string_data_is_merged_into_data(kubectl: Kubectl, namespace: str) -> None:
    ns = namespace
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "string-data"},
              "data": {"kept": "a2VwdA=="}, "stringData": {"token": "s3cret"}}
    kubectl("-n", ns, "create", "-f", "-", input=json.dumps(secret))
    obj = live(kubectl, ns, "secret", "string-data")
    assert obj["data"] == {"kept": "a2VwdA==", "token": "czNjcmV0"}
    assert "stringData" not in obj


def test_create_rejects_an_invalid_object(kubectl: Kubectl, namespace: str) -> None:
    bad = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "Bad_Name"},
           "spec": {"containers": [{"name": "c"}]}}
    proc = kubectl.run("-n", namespace, "create", "-f", "-", input=json.dumps(bad), check=False)
    assert proc.returncode == 1
    assert 'The Pod "Bad_Name" is invalid' in proc.stderr
    assert "metadata.name: Invalid value: \"Bad_Name\"" in proc.stderr
    assert "spec.containers[0].image: Required value" in proc.stderr


# -- apply -----------------------------------------------------------------------------------

APPLY_V1 = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: applied
  labels: {app: applied, stage: beta}
spec:
  replicas: 2
  selector: {matchLabels: {app: applied}}
  template:
    metadata: {labels: {app: applied}}
    spec:
      containers:
      - name: app
        image: nginx:1.27
        env:
        - {name: KEEP, value: "1"}
        - {name: DROP, value: "2"}
"""
APPLY_V2 = APPLY_V1.replace("nginx:1.27", "nginx:1.28").replace("replicas: 2", "replicas: 4")
APPLY_V3 = APPLY_V2.replace(", stage: beta", "").replace('        - {name: DROP, value: "2"}\n', "")


def test_apply_create_change_and_remove_fields(kubectl: Kubectl, namespace: str) -> None:
    ns = namespace

    def apply(manifest: str) -> str:
        return kubectl("-n", ns, "apply", "-f", "-", input=manifest).strip()

    def container(obj: dict[str, Any]) -> dict[str, Any]:
        c: dict[str, Any] = obj["spec"]["template"]["spec"]["containers"][0]
        return c

    assert apply(APPLY_V1) == "deployment.apps/applied created"
    obj = live(kubectl, ns, "deployment", "applied")
    assert obj["metadata"]["generation"] == 1
    assert obj["metadata"]["labels"] == {"app": "applied", "stage": "beta"}
    last = json.loads(obj["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"])
    assert last["spec"]["replicas"] == 2 and last["metadata"]["namespace"] == ns
    assert apply(APPLY_V1) == "deployment.apps/applied unchanged"

    assert apply(APPLY_V2) == "deployment.apps/applied configured"
    obj = live(kubectl, ns, "deployment", "applied")
    assert obj["spec"]["replicas"] == 4 and container(obj)["image"] == "nginx:1.28"
    assert container(obj)["env"] == [{"name": "KEEP", "value": "1"}, {"name": "DROP", "value": "2"}]
    assert obj["metadata"]["generation"] == 2
    assert apply(APPLY_V2) == "deployment.apps/applied unchanged"

    assert apply(APPLY_V3) == "deployment.apps/applied configured"
    obj = live(kubectl, ns, "deployment", "applied")
    assert obj["metadata"]["labels"] == {"app": "applied"}
    assert container(obj)["env"] == [{"name": "KEEP", "value": "1"}]
    assert obj["spec"]["replicas"] == 4 and container(obj)["image"] == "nginx:1.28"
    assert obj["metadata"]["generation"] == 3
    assert apply(APPLY_V3) == "deployment.apps/applied unchanged"
    assert live(kubectl, ns, "deployment", "applied")["metadata"]["resourceVersion"] == obj["metadata"]["resourceVersion"]


def test_apply_keeps_fields_it_does_not_own(kubectl: Kubectl, namespace: str) -> None:
    ns = namespace
    manifest = APPLY_V1.replace("name: applied\n", "name: shared\n", 1)
    kubectl("-n", ns, "apply", "-f", "-", input=manifest)
    kubectl("-n", ns, "annotate", "deployment", "shared", "owner=someone-else")
    assert kubectl("-n", ns, "apply", "-f", "-", input=manifest).strip() == "deployment.apps/shared unchanged"
    obj = live(kubectl, ns, "deployment", "shared")
    assert obj["metadata"]["annotations"]["owner"] == "someone-else"


def test_apply_dry_run_server_does_not_persist(kubectl: Kubectl, namespace: str) -> None:
    ns = namespace
    manifest = APPLY_V1.replace("name: applied\n", "name: dry\n", 1)
    out = kubectl("-n", ns, "apply", "-f", "-", "--dry-run=server", input=manifest)
    assert out.strip() == "deployment.apps/dry created (server dry run)"
    assert missing(kubectl, ns, "deployment", "dry")


# -- edit ------------------------------------------------------------------------------------

EDITOR_SCRIPT = """\
import sys, yaml
path = sys.argv[1]
with open(path) as f:
    obj = yaml.safe_load(f)
obj["metadata"].setdefault("labels", {})["edited"] = "yes"
obj["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.29"
with open(path, "w") as f:
    yaml.safe_dump(obj, f)
"""


def test_edit_through_kube_editor(kubectl: Kubectl, namespace: str, tmp_path: Path) -> None:
    ns = namespace
    kubectl("-n", ns, "create", "deployment", "editme", "--image=nginx:1.27")
    script = tmp_path / "editor.py"
    script.write_text(EDITOR_SCRIPT)
    out = kubectl("-n", ns, "edit", "deployment", "editme", env={"KUBE_EDITOR": f"{sys.executable} {script}"})
    assert out.strip() == "deployment.apps/editme edited"
    obj = live(kubectl, ns, "deployment", "editme")
    assert obj["metadata"]["labels"] == {"app": "editme", "edited": "yes"}
    assert obj["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.29"
    assert obj["metadata"]["generation"] == 2


def test_edit_with_sed_and_with_no_change(kubectl: Kubectl, namespace: str) -> None:
    ns = namespace
    kubectl("-n", ns, "create", "configmap", "sedme", "--from-literal=color=red")
    out = kubectl("-n", ns, "edit", "configmap", "sedme", env={"KUBE_EDITOR": "sed -i s/red/blue/"})
    assert out.strip() == "configmap/sedme edited"
    assert live(kubectl, ns, "configmap", "sedme")["data"] == {"color": "blue"}
    proc = kubectl.run("-n", ns, "edit", "configmap", "sedme", env={"KUBE_EDITOR": "true"})
    assert "Edit cancelled, no changes made." in proc.stderr


def test_edit_that_breaks_validation_is_refused(kubectl: Kubectl, namespace: str, tmp_path: Path) -> None:
    ns = namespace
    kubectl("-n", ns, "create", "deployment", "editbad", "--image=nginx:1.27")
    proc = kubectl.run("-n", ns, "edit", "deployment", "editbad",
                       env={"KUBE_EDITOR": "sed -i s/replicas:.*/replicas:\\ -3/", "TMPDIR": str(tmp_path)},
                       check=False)
    assert proc.returncode == 1
    assert 'error: deployments.apps "editbad" is invalid' in proc.stderr
    assert "Edit cancelled, no valid changes were saved." in proc.stderr
    # kubectl keeps the rejected edit, headed by the server's field errors
    kept = [p for p in tmp_path.glob("kubectl-edit-*.yaml") if "was not valid" in p.read_text()]
    assert len(kept) == 1
    assert '# deployments.apps "editbad" was not valid:\n# * spec.replicas: ' in kept[0].read_text()
    assert live(kubectl, ns, "deployment", "editbad")["spec"]["replicas"] == 1


# -- patch -----------------------------------------------------------------------------------

def test_patch_json_merge_and_strategic(kubectl: Kubectl, namespace: str) -> None:
    ns = namespace
    kubectl("-n", ns, "create", "deployment", "patchme", "--image=nginx:1.27")

    def patch(kind: str, body: Any) -> None:
        out = kubectl("-n", ns, "patch", "deployment", "patchme", f"--type={kind}", "-p", json.dumps(body))
        assert out.strip() == "deployment.apps/patchme patched"

    def containers() -> list[dict[str, Any]]:
        spec: dict[str, Any] = live(kubectl, ns, "deployment", "patchme")["spec"]["template"]["spec"]
        return spec["containers"]  # type: ignore[no-any-return]

    patch("json", [{"op": "replace", "path": "/spec/replicas", "value": 3},
                   {"op": "add", "path": "/metadata/labels/patched", "value": "json"}])
    obj = live(kubectl, ns, "deployment", "patchme")
    assert obj["spec"]["replicas"] == 3 and obj["metadata"]["labels"]["patched"] == "json"

    patch("merge", {"metadata": {"labels": {"patched": None, "merged": "yes"}}, "spec": {"paused": True}})
    obj = live(kubectl, ns, "deployment", "patchme")
    assert obj["metadata"]["labels"] == {"app": "patchme", "merged": "yes"}
    assert obj["spec"]["paused"] is True

    # strategic: containers merge by name, so a new container is added next to the old one
    patch("strategic", {"spec": {"template": {"spec": {"containers": [{"name": "sidecar", "image": "busybox"}]}}}})
    assert sorted(c["name"] for c in containers()) == ["nginx", "sidecar"]
    patch("strategic", {"spec": {"template": {"spec": {"containers": [{"name": "nginx", "image": "nginx:1.28"}]}}}})
    assert {c["name"]: c["image"] for c in containers()} == {"nginx": "nginx:1.28", "sidecar": "busybox"}
    patch("strategic", {"spec": {"template": {"spec": {"containers": [{"name": "sidecar", "$patch": "delete"}]}}}})
    assert [c["name"] for c in containers()] == ["nginx"]

    # merge patch replaces the whole list
    patch("merge", {"spec": {"template": {"spec": {"containers": [{"name": "only", "image": "redis"}]}}}})
    assert [(c["name"], c["image"]) for c in containers()] == [("only", "redis")]
    # defaults are applied to the new container
    assert containers()[0]["imagePullPolicy"] == "Always"


def test_patch_errors(kubectl: Kubectl, namespace: str) -> None:
    ns = namespace
    kubectl("-n", ns, "create", "configmap", "patcherr", "--from-literal=a=1")
    proc = kubectl.run("-n", ns, "patch", "configmap", "patcherr", "--type=json",
                       "-p", '[{"op":"test","path":"/data/a","value":"2"}]', check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip() == "The request is invalid: the server rejected our request due to an error in our request"
    proc = kubectl.run("-n", ns, "patch", "configmap", "patcherr", "--type=merge", "-p", '{"data":{"a":"1"}}')
    assert proc.stdout.strip() == "configmap/patcherr patched (no change)"
    proc = kubectl.run("-n", ns, "patch", "configmap", "nope", "--type=merge", "-p", "{}", check=False)
    assert 'configmaps "nope" not found' in proc.stderr


# -- label, annotate -------------------------------------------------------------------------

def test_label_add_overwrite_and_remove(kubectl: Kubectl, namespace: str) -> None:
    ns = namespace
    kubectl("-n", ns, "create", "configmap", "labelme")
    assert kubectl("-n", ns, "label", "configmap", "labelme", "color=red", "size=xl").strip() == "configmap/labelme labeled"
    assert live(kubectl, ns, "configmap", "labelme")["metadata"]["labels"] == {"color": "red", "size": "xl"}
    proc = kubectl.run("-n", ns, "label", "configmap", "labelme", "color=blue", check=False)
    assert proc.returncode == 1 and "'color' already has a value (red), and --overwrite is false" in proc.stderr
    kubectl("-n", ns, "label", "configmap", "labelme", "color=blue", "--overwrite")
    assert kubectl("-n", ns, "label", "configmap", "labelme", "size-").strip() == "configmap/labelme unlabeled"
    assert live(kubectl, ns, "configmap", "labelme")["metadata"]["labels"] == {"color": "blue"}
    proc = kubectl.run("-n", ns, "label", "configmap", "labelme", "bad key=x", check=False)
    assert proc.returncode == 1


def test_label_by_selector(kubectl: Kubectl, namespace: str) -> None:
    ns = namespace
    for name in ("sel-a", "sel-b", "sel-c"):
        kubectl("-n", ns, "create", "configmap", name)
    kubectl("-n", ns, "label", "configmap", "sel-a", "sel-b", "group=one")
    out = kubectl("-n", ns, "label", "configmap", "-l", "group=one", "touched=yes")
    assert sorted(out.split()) == ["configmap/sel-a", "configmap/sel-b", "labeled", "labeled"]
    assert kubectl("-n", ns, "get", "configmap", "-l", "touched=yes", "-o", "name").split() == [
        "configmap/sel-a", "configmap/sel-b"]


def test_annotate_add_overwrite_and_remove(kubectl: Kubectl, namespace: str) -> None:
    ns = namespace
    kubectl("-n", ns, "create", "configmap", "annotateme")
    assert kubectl("-n", ns, "annotate", "configmap", "annotateme", "note=first", "ticket=42").strip() \
        == "configmap/annotateme annotated"
    assert live(kubectl, ns, "configmap", "annotateme")["metadata"]["annotations"] == {"note": "first", "ticket": "42"}
    proc = kubectl.run("-n", ns, "annotate", "configmap", "annotateme", "note=second", check=False)
    assert proc.returncode == 1 and "--overwrite is false" in proc.stderr
    kubectl("-n", ns, "annotate", "configmap", "annotateme", "note=second", "--overwrite")
    kubectl("-n", ns, "annotate", "configmap", "annotateme", "ticket-")
    assert live(kubectl, ns, "configmap", "annotateme")["metadata"]["annotations"] == {"note": "second"}


@pytest.mark.parametrize("command", ["label", "annotate"], ids=["last label", "last annotation"])
def test_removing_the_last_key_drops_the_map(kubectl: Kubectl, namespace: str, command: str) -> None:
    ns = namespace
    name = f"lastkey-{command}"
    kubectl("-n", ns, "create", "configmap", name)
    kubectl("-n", ns, command, "configmap", name, "only=one")
    kubectl("-n", ns, command, "configmap", name, "only-")
    field = "labels" if command == "label" else "annotations"
    assert field not in live(kubectl, ns, "configmap", name)["metadata"]


def test_empty_maps_are_dropped_on_create(kubectl: Kubectl, namespace: str) -> None:
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "data": {},
          "metadata": {"name": "empty-maps", "labels": {}, "annotations": {}}}
    created = json.loads(kubectl("-n", namespace, "create", "-f", "-", "-o", "json", input=json.dumps(cm)))
    assert "data" not in created
    assert "labels" not in created["metadata"] and "annotations" not in created["metadata"]


# -- scale -----------------------------------------------------------------------------------

def test_scale_and_current_replicas_precondition(kubectl: Kubectl, namespace: str) -> None:
    ns = namespace
    kubectl("-n", ns, "create", "deployment", "scaleme", "--image=nginx", "--replicas=2")
    assert kubectl("-n", ns, "scale", "deployment", "scaleme", "--replicas=5").strip() == "deployment.apps/scaleme scaled"
    obj = live(kubectl, ns, "deployment", "scaleme")
    assert obj["spec"]["replicas"] == 5 and obj["metadata"]["generation"] == 2

    proc = kubectl.run("-n", ns, "scale", "deployment", "scaleme", "--current-replicas=2", "--replicas=6", check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip() == "error: Expected replicas to be 2, was 5"
    assert live(kubectl, ns, "deployment", "scaleme")["spec"]["replicas"] == 5

    kubectl("-n", ns, "scale", "deployment", "scaleme", "--current-replicas=5", "--replicas=0")
    assert live(kubectl, ns, "deployment", "scaleme")["spec"]["replicas"] == 0

    scale = json.loads(kubectl("get", "--raw", f"/apis/apps/v1/namespaces/{ns}/deployments/scaleme/scale"))
    assert scale["kind"] == "Scale" and scale["apiVersion"] == "autoscaling/v1"
    assert scale["spec"] == {"replicas": 0}
    assert scale["status"]["selector"] == "app=scaleme"


def test_scale_negative_is_rejected(kubectl: Kubectl, namespace: str) -> None:
    ns = namespace
    kubectl("-n", ns, "create", "deployment", "scaleneg", "--image=nginx")
    proc = kubectl.run("-n", ns, "scale", "deployment", "scaleneg", "--replicas=-1", check=False)
    assert proc.returncode == 1
    assert live(kubectl, ns, "deployment", "scaleneg")["spec"]["replicas"] == 1


# -- create <kind> generators (protobuf bodies) and run --------------------------------------

@pytest.mark.parametrize(
    ("args", "printed", "get", "check"),
    [
        (("create", "namespace", "gen-ns"), "namespace/gen-ns created", ("namespace", "gen-ns"),
         lambda o: o["status"]["phase"] == "Active" and o["spec"]["finalizers"] == ["kubernetes"]),
        (("create", "configmap", "gen-cm", "--from-literal=a=1", "--from-literal=b=two"),
         "configmap/gen-cm created", ("configmap", "gen-cm"),
         lambda o: o["data"] == {"a": "1", "b": "two"}),
        (("create", "secret", "generic", "gen-secret", "--from-literal=password=hunter2"),
         "secret/gen-secret created", ("secret", "gen-secret"),
         lambda o: o["data"] == {"password": "aHVudGVyMg=="} and o["type"] == "Opaque"),
        (("create", "deployment", "gen-deploy", "--image=nginx:1.27", "--replicas=3", "--port=80"),
         "deployment.apps/gen-deploy created", ("deployment", "gen-deploy"),
         lambda o: o["spec"]["replicas"] == 3
         and o["spec"]["selector"] == {"matchLabels": {"app": "gen-deploy"}}
         and o["spec"]["template"]["spec"]["containers"][0]["ports"] == [{"containerPort": 80, "protocol": "TCP"}]
         and o["spec"]["strategy"]["type"] == "RollingUpdate"),
        (("create", "job", "gen-job", "--image=busybox", "--", "echo", "hi"),
         "job.batch/gen-job created", ("job", "gen-job"),
         lambda o: o["spec"]["template"]["spec"]["containers"][0]["command"] == ["echo", "hi"]
         and o["spec"]["template"]["spec"]["restartPolicy"] == "Never"
         and o["spec"]["backoffLimit"] == 6
         and o["spec"]["selector"]["matchLabels"]["batch.kubernetes.io/controller-uid"] == o["metadata"]["uid"]),
        (("create", "serviceaccount", "gen-sa"), "serviceaccount/gen-sa created", ("serviceaccount", "gen-sa"),
         lambda o: o["metadata"]["name"] == "gen-sa"),
        (("create", "service", "clusterip", "gen-svc", "--tcp=80:8080"), "service/gen-svc created",
         ("service", "gen-svc"),
         lambda o: o["spec"]["type"] == "ClusterIP" and o["spec"]["clusterIP"] != "None"
         and o["spec"]["ports"] == [{"name": "80-8080", "port": 80, "protocol": "TCP", "targetPort": 8080}]
         and o["spec"]["selector"] == {"app": "gen-svc"}),
        (("create", "service", "clusterip", "gen-headless", "--clusterip=None"), "service/gen-headless created",
         ("service", "gen-headless"), lambda o: o["spec"]["clusterIP"] == "None"),
    ],
    ids=["namespace", "configmap from literals", "generic secret", "deployment with replicas and port",
         "job with a command", "service account", "cluster IP service", "headless service"],
)
def test_create_generators_send_protobuf(kubectl: Kubectl, namespace: str, args: tuple[str, ...], printed: str,
                                         get: tuple[str, ...], check: Any) -> None:
    proc = kubectl.run("-v=8", "-n", namespace, *args)
    assert proc.stdout.strip() == printed
    assert f"Content-Type: {PROTOBUF}" in proc.stderr  # the body went as protobuf
    obj = live(kubectl, namespace, *get)
    assert check(obj), obj


def test_run_builds_a_pod(kubectl: Kubectl, namespace: str) -> None:
    ns = namespace
    out = kubectl("-n", ns, "run", "runner", "--image=busybox:1.36", "--labels=app=runner,team=x",
                  "--env=MODE=fast", "--port=8080", "--restart=Never", "--", "sleep", "3600")
    assert out.strip() == "pod/runner created"
    pod = live(kubectl, ns, "pod", "runner")
    assert pod["metadata"]["labels"] == {"app": "runner", "team": "x"}
    c = pod["spec"]["containers"][0]
    assert (c["name"], c["image"], c["args"]) == ("runner", "busybox:1.36", ["sleep", "3600"])
    assert c["env"] == [{"name": "MODE", "value": "fast"}]
    assert c["ports"] == [{"containerPort": 8080, "protocol": "TCP"}]
    assert pod["spec"]["restartPolicy"] == "Never"
    assert pod["status"]["phase"] == "Pending" and pod["status"]["qosClass"] == "BestEffort"


def test_run_dry_run_server_returns_defaulted_object_without_storing(kubectl: Kubectl, namespace: str) -> None:
    ns = namespace
    pod = yaml.safe_load(kubectl("-n", ns, "run", "dry-pod", "--image=nginx", "--dry-run=server", "-o", "yaml"))
    assert pod["metadata"]["name"] == "dry-pod" and pod["metadata"]["uid"]
    assert pod["spec"]["containers"][0]["imagePullPolicy"] == "Always"
    assert missing(kubectl, ns, "pod", "dry-pod")


# -- delete ----------------------------------------------------------------------------------

def test_delete_by_name_label_and_all(kubectl: Kubectl, tmp_path: Path) -> None:
    ns = "delete-basic"
    kubectl("create", "namespace", ns)
    for name in ("d1", "d2", "d3", "d4", "d5"):
        kubectl("-n", ns, "create", "configmap", name)
    kubectl("-n", ns, "label", "configmap", "d2", "d3", "doomed=yes")

    assert kubectl("-n", ns, "delete", "configmap", "d1").strip() == 'configmap "d1" deleted'
    assert missing(kubectl, ns, "configmap", "d1")
    out = kubectl("-n", ns, "delete", "configmap", "-l", "doomed=yes")
    assert out.splitlines() == ['configmap "d2" deleted', 'configmap "d3" deleted']
    assert kubectl("-n", ns, "get", "configmap", "-o", "name").split() == ["configmap/d4", "configmap/d5"]
    out = kubectl("-n", ns, "delete", "configmap", "--all")
    assert out.splitlines() == ['configmap "d4" deleted', 'configmap "d5" deleted']
    assert kubectl("-n", ns, "get", "configmap", "-o", "name") == ""

    proc = kubectl.run("-n", ns, "delete", "configmap", "d1", check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip() == 'Error from server (NotFound): configmaps "d1" not found'
    assert kubectl("-n", ns, "delete", "configmap", "d1", "--ignore-not-found") == ""


def test_delete_force_with_zero_grace(kubectl: Kubectl, namespace: str) -> None:
    ns = namespace
    kubectl("-n", ns, "run", "forceme", "--image=nginx")
    proc = kubectl.run("-n", ns, "delete", "pod", "forceme", "--grace-period=0", "--force")
    assert proc.stdout.strip() == 'pod "forceme" force deleted'
    assert "Immediate deletion does not wait for confirmation" in proc.stderr
    assert missing(kubectl, ns, "pod", "forceme")


def test_delete_cascade_background_removes_at_once(kubectl: Kubectl, namespace: str) -> None:
    ns = namespace
    kubectl("-n", ns, "create", "deployment", "bg", "--image=nginx")
    out = kubectl("-n", ns, "delete", "deployment", "bg", "--cascade=background")
    assert out.strip() == 'deployment.apps "bg" deleted'
    assert missing(kubectl, ns, "deployment", "bg")


@pytest.mark.parametrize(
    ("cascade", "finalizer"),
    [("foreground", "foregroundDeletion"), ("orphan", "orphan")],
    ids=["foreground leaves the foregroundDeletion finalizer", "orphan leaves the orphan finalizer"],
)
def test_delete_cascade_records_finalizer(kubectl: Kubectl, namespace: str, cascade: str, finalizer: str) -> None:
    ns = namespace
    name = f"cascade-{cascade}"
    kubectl("-n", ns, "create", "deployment", name, "--image=nginx")
    out = kubectl("-n", ns, "delete", "deployment", name, f"--cascade={cascade}", "--wait=false")
    assert out.strip() == f'deployment.apps "{name}" deleted'
    meta = live(kubectl, ns, "deployment", name)["metadata"]
    assert meta["finalizers"] == [finalizer]
    assert meta["deletionTimestamp"] and meta["deletionGracePeriodSeconds"] == 0
    # no garbage collector yet: remove the finalizer by hand and the object goes
    kubectl("-n", ns, "patch", "deployment", name, "--type=json", "-p",
            '[{"op":"remove","path":"/metadata/finalizers"}]')
    assert missing(kubectl, ns, "deployment", name)


def test_delete_while_finalizer_pending_keeps_object_readable(kubectl: Kubectl, namespace: str) -> None:
    ns = namespace
    kubectl("-n", ns, "create", "configmap", "held")
    kubectl("-n", ns, "patch", "configmap", "held", "--type=merge",
            "-p", '{"metadata":{"finalizers":["example.com/hold"]}}')
    kubectl("-n", ns, "delete", "configmap", "held", "--wait=false")
    meta = live(kubectl, ns, "configmap", "held")["metadata"]
    assert meta["finalizers"] == ["example.com/hold"] and meta["deletionTimestamp"]
    # a deleting object refuses new finalizers
    proc = kubectl.run("-n", ns, "patch", "configmap", "held", "--type=merge",
                       "-p", '{"metadata":{"finalizers":["example.com/hold","example.com/more"]}}', check=False)
    assert proc.returncode == 1 and "Forbidden" in proc.stderr
    kubectl("-n", ns, "patch", "configmap", "held", "--type=merge", "-p", '{"metadata":{"finalizers":null}}')
    assert missing(kubectl, ns, "configmap", "held")


NODE = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "write-node"}, "spec": {}}


@pytest.fixture(scope="module")
def node(kubectl: Kubectl) -> str:
    kubectl("create", "-f", "-", input=json.dumps(NODE))
    return "write-node"


def assert_graceful_then_forced_delete(kubectl: Kubectl, ns: str, pod: str) -> None:
    out = kubectl("-n", ns, "delete", "pod", pod, "--wait=false")
    assert out.strip() == f'pod "{pod}" deleted'
    meta = live(kubectl, ns, "pod", pod)["metadata"]
    assert meta["deletionTimestamp"] and meta["deletionGracePeriodSeconds"] == 30
    table = kubectl("-n", ns, "get", "pod", pod).splitlines()
    assert table[1].split()[2] == "Terminating"
    proc = kubectl.run("-n", ns, "delete", "pod", pod, "--grace-period=0", "--force")
    assert proc.stdout.strip() == f'pod "{pod}" force deleted'
    assert missing(kubectl, ns, "pod", pod)


def test_delete_pod_created_on_a_node_is_graceful(kubectl: Kubectl, namespace: str, node: str) -> None:
    ns = namespace
    kubectl("-n", ns, "run", "placed", "--image=nginx", f"--overrides={json.dumps({'spec': {'nodeName': node}})}")
    assert live(kubectl, ns, "pod", "placed")["spec"]["nodeName"] == node
    assert_graceful_then_forced_delete(kubectl, ns, "placed")


def test_delete_pod_bound_through_binding_is_graceful(kubectl: Kubectl, namespace: str, node: str) -> None:
    ns = namespace
    kubectl("-n", ns, "run", "bound", "--image=nginx")
    binding = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "bound"},
               "target": {"apiVersion": "v1", "kind": "Node", "name": node}}
    try:
        kubectl("-n", ns, "create", "--raw", f"/api/v1/namespaces/{ns}/pods/bound/binding", "-f", "-",
                input=json.dumps(binding))
        pod = live(kubectl, ns, "pod", "bound")
        assert pod["spec"]["nodeName"] == node
        assert [(c["type"], c["status"]) for c in pod["status"]["conditions"]] == [("PodScheduled", "True")]
        assert_graceful_then_forced_delete(kubectl, ns, "bound")
    finally:
        kubectl("-n", ns, "delete", "pod", "bound", "--grace-period=0", "--force", "--ignore-not-found")


def test_delete_unbound_pod_is_immediate(kubectl: Kubectl, namespace: str) -> None:
    ns = namespace
    kubectl("-n", ns, "run", "unbound", "--image=nginx")
    assert kubectl("-n", ns, "delete", "pod", "unbound", "--wait=false").strip() == 'pod "unbound" deleted'
    assert missing(kubectl, ns, "pod", "unbound")


def test_delete_namespace_waits_for_finalize(kubectl: Kubectl) -> None:
    ns = "delete-ns"
    kubectl("create", "namespace", ns)
    kubectl("-n", ns, "create", "configmap", "inside")
    assert kubectl("delete", "namespace", ns, "--wait=false").strip() == f'namespace "{ns}" deleted'
    obj = kubectl.json("get", "namespace", ns)
    assert obj["status"]["phase"] == "Terminating" and obj["metadata"]["deletionTimestamp"]
    assert obj["spec"]["finalizers"] == ["kubernetes"]
    proc = kubectl.run("-n", ns, "create", "configmap", "late", check=False)
    assert proc.returncode == 1
    assert (f'configmaps "late" is forbidden: unable to create new content in namespace {ns} '
            "because it is being terminated") in proc.stderr
    # no namespace controller yet: finalize by hand, and the namespace goes
    obj["spec"]["finalizers"] = []
    kubectl("replace", "--raw", f"/api/v1/namespaces/{ns}/finalize", "-f", "-", input=json.dumps(obj))
    assert missing(kubectl, "default", "namespace", ns)


# -- create token -------------------------------------------------------------------------------


def test_create_token_issues_a_token_the_server_accepts(kubectl: Kubectl, namespace: str,
                                                         tmp_path: Path) -> None:
    kubectl("-n", namespace, "create", "serviceaccount", "tok-sa")
    token = kubectl("-n", namespace, "create", "token", "tok-sa", "--duration=15m").strip()
    assert token.count(".") == 2
    # a kubeconfig that carries only the token (the admin one also has a client certificate)
    cfg = yaml.safe_load(Path(kubectl.kubeconfig).read_text())
    cfg["users"][0]["user"] = {"token": token}
    token_only = tmp_path / "token.kubeconfig"
    token_only.write_text(yaml.safe_dump(cfg))
    proc = kubectl.run("auth", "whoami", "-o", "json", env={"KUBECONFIG": str(token_only)})
    user = json.loads(proc.stdout)["status"]["userInfo"]
    assert user["username"] == f"system:serviceaccount:{namespace}:tok-sa"
    assert f"system:serviceaccounts:{namespace}" in user["groups"]
    missing_sa = kubectl.run("-n", namespace, "create", "token", "no-such-sa", check=False)
    assert missing_sa.returncode == 1
    assert 'serviceaccounts "no-such-sa" not found' in missing_sa.stderr
