"""Decoding Kubernetes protobuf request bodies (kubectl's imperative commands).

Two sources of truth: bodies captured from the real kubectl 1.32 (POSTed to a logging fake
server), whose decoding must equal what the same command prints with
``--dry-run=client -o json``; and hand-built bodies whose field numbers are spelled out here
from upstream's generated.proto, so a wrong number in fields.json fails a test.
"""

from __future__ import annotations

import json
import time as _time

import pytest

from kubepy.api import openapi_defs
from kubepy.api import protobuf
from kubepy.api.protobuf import MAGIC, ProtobufError, decode_message, decode_object, decode_unknown, go_duration
from kubepy.api.protobuf import decode as decode_mod
from tests.unit.api.protobuf_encoder import (
    body,
    double,
    entry,
    int_or_str,
    key,
    msg,
    num,
    object_meta,
    quantity,
    raw,
    s,
    str_map,
    time,
    varint,
)

CAPTURED = [
    pytest.param(
        # kubectl create deployment web --image=nginx --replicas=2
        bytes.fromhex(
            "6b3873000a150a07617070732f7631120a4465706c6f796d656e7412ab010a1f0a0377656212001a0022002a00320038"
            "0042005a0a0a036170701203776562127a0802120c0a0a0a0361707012037765621a600a1c0a0012001a0022002a0032"
            "00380042005a0a0a036170701203776562124012220a056e67696e7812056e67696e782a0042006a0072008001008801"
            "00900100a201001a00320042004a0052005800600068008201008a01009a0100c2010022020a00280038001a0c080010"
            "0018002000280038001a002200"
        ),
        '{"kind":"Deployment","apiVersion":"apps/v1","metadata":{"name":"web","creationTimestamp":null,"labels":{"app":"web"}},"spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"creationTimestamp":null,"labels":{"app":"web"}},"spec":{"containers":[{"name":"nginx","image":"nginx","resources":{}}]}},"strategy":{}},"status":{}}',
        id="kubectl create deployment web --image=nginx --replicas=2",
    ),
    pytest.param(
        # kubectl create namespace foo
        bytes.fromhex(
            "6b3873000a0f0a02763112094e616d657370616365121b0a130a03666f6f12001a0022002a0032003800420012001a02"
            "0a001a002200"
        ),
        '{"kind":"Namespace","apiVersion":"v1","metadata":{"name":"foo","creationTimestamp":null},"spec":{},"status":{}}',
        id="kubectl create namespace foo",
    ),
    pytest.param(
        # kubectl create configmap cm1 --from-literal=a=1 --from-literal=b=two
        bytes.fromhex(
            "6b3873000a0f0a0276311209436f6e6669674d617012270a130a03636d3112001a0022002a0032003800420012060a01"
            "6112013112080a0162120374776f1a002200"
        ),
        '{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"cm1","creationTimestamp":null},"data":{"a":"1","b":"two"}}',
        id="kubectl create configmap cm1 --from-literal=a=1 --from-literal=b=two",
    ),
    pytest.param(
        # kubectl create secret generic s1 --from-literal=password=s3cr3t
        bytes.fromhex(
            "6b3873000a0c0a027631120653656372657412300a120a02733112001a0022002a0032003800420012120a0870617373"
            "776f726412067333637233741a064f70617175651a002200"
        ),
        '{"kind":"Secret","apiVersion":"v1","metadata":{"name":"s1","creationTimestamp":null},"data":{"password":"czNjcjN0"},"type":"Opaque"}',
        id="kubectl create secret generic s1 --from-literal=password=s3cr3t",
    ),
    pytest.param(
        # kubectl create serviceaccount sa1
        bytes.fromhex(
            "6b3873000a140a027631120e536572766963654163636f756e7412150a130a0373613112001a0022002a003200380042"
            "001a002200"
        ),
        '{"kind":"ServiceAccount","apiVersion":"v1","metadata":{"name":"sa1","creationTimestamp":null}}',
        id="kubectl create serviceaccount sa1",
    ),
    pytest.param(
        # kubectl create service clusterip svc1 --tcp=80:8080
        bytes.fromhex(
            "6b3873000a0d0a027631120753657276696365126c0a210a047376633112001a0022002a003200380042005a0b0a0361"
            "707012047376633112430a1b0a0738302d38303830120354435018502207080010903f1a002800120b0a036170701204"
            "737663311a002209436c757374657249503a00420052005a00600068001a020a001a002200"
        ),
        '{"kind":"Service","apiVersion":"v1","metadata":{"name":"svc1","creationTimestamp":null,"labels":{"app":"svc1"}},"spec":{"ports":[{"name":"80-8080","protocol":"TCP","port":80,"targetPort":8080}],"selector":{"app":"svc1"},"type":"ClusterIP"},"status":{"loadBalancer":{}}}',
        id="kubectl create service clusterip svc1 --tcp=80:8080",
    ),
    pytest.param(
        # kubectl create service nodeport svc2 --tcp=443:https
        bytes.fromhex(
            "6b3873000a0d0a02763112075365727669636512720a210a047376633212001a0022002a003200380042005a0b0a0361"
            "707012047376633212490a220a093434332d6874747073120354435018bb03220b080110001a0568747470732800120b"
            "0a036170701204737663321a0022084e6f6465506f72743a00420052005a00600068001a020a001a002200"
        ),
        '{"kind":"Service","apiVersion":"v1","metadata":{"name":"svc2","creationTimestamp":null,"labels":{"app":"svc2"}},"spec":{"ports":[{"name":"443-https","protocol":"TCP","port":443,"targetPort":"https"}],"selector":{"app":"svc2"},"type":"NodePort"},"status":{"loadBalancer":{}}}',
        id="kubectl create service nodeport svc2 --tcp=443:https",
    ),
    pytest.param(
        # kubectl create job j1 --image=busybox -- echo hi
        bytes.fromhex(
            "6b3873000a0f0a0862617463682f763112034a6f621284010a120a026a3112001a0022002a0032003800420012643262"
            "0a100a0012001a0022002a00320038004200124e122b0a026a31120762757379626f781a046563686f1a0268692a0042"
            "006a007200800100880100900100a201001a054e65766572320042004a0052005800600068008201008a01009a0100c2"
            "01001a082000280030003a001a002200"
        ),
        '{"kind":"Job","apiVersion":"batch/v1","metadata":{"name":"j1","creationTimestamp":null},"spec":{"template":{"metadata":{"creationTimestamp":null},"spec":{"containers":[{"name":"j1","image":"busybox","command":["echo","hi"],"resources":{}}],"restartPolicy":"Never"}}},"status":{}}',
        id="kubectl create job j1 --image=busybox -- echo hi",
    ),
    pytest.param(
        # kubectl create cronjob cj1 --image=busybox --schedule='*/5 * * * *' -- date
        bytes.fromhex(
            "6b3873000a130a0862617463682f7631120743726f6e4a6f6212a7010a130a03636a3112001a0022002a003200380042"
            "00128d010a0b2a2f35202a202a202a202a1a002a7c0a130a03636a3112001a0022002a00320038004200126532630a10"
            "0a0012001a0022002a00320038004200124f12280a03636a31120762757379626f781a04646174652a0042006a007200"
            "800100880100900100a201001a094f6e4661696c757265320042004a0052005800600068008201008a01009a0100c201"
            "001a001a002200"
        ),
        '{"kind":"CronJob","apiVersion":"batch/v1","metadata":{"name":"cj1","creationTimestamp":null},"spec":{"schedule":"*/5 * * * *","jobTemplate":{"metadata":{"name":"cj1","creationTimestamp":null},"spec":{"template":{"metadata":{"creationTimestamp":null},"spec":{"containers":[{"name":"cj1","image":"busybox","command":["date"],"resources":{}}],"restartPolicy":"OnFailure"}}}}},"status":{}}',
        id="kubectl create cronjob cj1 --image=busybox --schedule='*/5 * * * *' -- date",
    ),
    pytest.param(
        # kubectl auth can-i list pods
        bytes.fromhex(
            "6b3873000a320a17617574686f72697a6174696f6e2e6b38732e696f2f7631121753656c665375626a65637441636365"
            "7373526576696577123d0a100a0012001a0022002a00320038004200121f0a1d0a0764656661756c7412046c6973741a"
            "0022002a04706f647332003a001a08080012001a0020001a002200"
        ),
        '{"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectAccessReview","metadata":{"creationTimestamp":null},"spec":{"resourceAttributes":{"namespace":"default","verb":"list","resource":"pods"}},"status":{"allowed":false}}',
        id="kubectl auth can-i list pods",
    ),
    pytest.param(
        # kubectl auth whoami
        bytes.fromhex(
            "6b3873000a2d0a1861757468656e7469636174696f6e2e6b38732e696f2f7631121153656c665375626a656374526576"
            "696577121a0a100a0012001a0022002a0032003800420012060a040a0012001a002200"
        ),
        '{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview","metadata":{"creationTimestamp":null},"status":{"userInfo":{}}}',
        id="kubectl auth whoami",
    ),
    pytest.param(
        # kubectl create token sa1 --audience=api --audience=vault --duration=10m
        bytes.fromhex(
            "6b3873000a280a1861757468656e7469636174696f6e2e6b38732e696f2f7631120c546f6b656e526571756573741229"
            "0a100a0012001a0022002a00320038004200120f0a036170690a057661756c7420d8041a040a0012001a002200"
        ),
        '{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","metadata":{"creationTimestamp":null},"spec":{"audiences":["api","vault"],"expirationSeconds":600},"status":{"token":"","expirationTimestamp":null}}',
        id="kubectl create token sa1 --audience=api --audience=vault --duration=10m",
    ),
    pytest.param(
        # kubectl create quota q1 --hard=cpu=1,memory=1Gi,pods=10
        bytes.fromhex(
            "6b3873000a130a027631120d5265736f7572636551756f746112430a120a02713112001a0022002a0032003800420012"
            "2b0a0a0a0363707512030a01310a0f0a066d656d6f727912050a033147690a0c0a04706f647312040a0231301a001a00"
            "2200"
        ),
        '{"kind":"ResourceQuota","apiVersion":"v1","metadata":{"name":"q1","creationTimestamp":null},"spec":{"hard":{"cpu":"1","memory":"1Gi","pods":"10"}},"status":{}}',
        id="kubectl create quota q1 --hard=cpu=1,memory=1Gi,pods=10",
    ),
    pytest.param(
        # kubectl create priorityclass high --value=1000 --description=important
        bytes.fromhex(
            "6b3873000a250a147363686564756c696e672e6b38732e696f2f7631120d5072696f72697479436c617373123c0a140a"
            "046869676812001a0022002a0032003800420010e80718002209696d706f7274616e742a14507265656d70744c6f7765"
            "725072696f726974791a002200"
        ),
        '{"kind":"PriorityClass","apiVersion":"scheduling.k8s.io/v1","metadata":{"name":"high","creationTimestamp":null},"value":1000,"description":"important","preemptionPolicy":"PreemptLowerPriority"}',
        id="kubectl create priorityclass high --value=1000 --description=important",
    ),
    pytest.param(
        # kubectl create pdb pdb1 --selector=app=web --min-available=50%
        bytes.fromhex(
            "6b3873000a200a09706f6c6963792f76311213506f6444697372757074696f6e427564676574123d0a140a0470646231"
            "12001a0022002a0032003800420012190a09080110001a03353025120c0a0a0a0361707012037765621a0a0800180020"
            "00280030001a002200"
        ),
        '{"kind":"PodDisruptionBudget","apiVersion":"policy/v1","metadata":{"name":"pdb1","creationTimestamp":null},"spec":{"minAvailable":"50%","selector":{"matchLabels":{"app":"web"}}},"status":{"disruptionsAllowed":0,"currentHealthy":0,"desiredHealthy":0,"expectedPods":0}}',
        id="kubectl create pdb pdb1 --selector=app=web --min-available=50%",
    ),
    pytest.param(
        # kubectl create ingress ing1 --rule=foo.com/bar=svc1:8080
        bytes.fromhex(
            "6b3873000a1f0a146e6574776f726b696e672e6b38732e696f2f76311207496e6772657373124b0a140a04696e673112"
            "001a0022002a00320038004200122f1a2d0a07666f6f2e636f6d12220a200a1e0a042f626172120f220d0a0473766331"
            "12050a0010903f1a0545786163741a020a001a002200"
        ),
        '{"kind":"Ingress","apiVersion":"networking.k8s.io/v1","metadata":{"name":"ing1","creationTimestamp":null},"spec":{"rules":[{"host":"foo.com","http":{"paths":[{"path":"/bar","pathType":"Exact","backend":{"service":{"name":"svc1","port":{"number":8080}}}}]}}]},"status":{"loadBalancer":{}}}',
        id="kubectl create ingress ing1 --rule=foo.com/bar=svc1:8080",
    ),
    pytest.param(
        # kubectl create deployment web2 --image=nginx --port=80 --replicas=0
        bytes.fromhex(
            "6b3873000a150a07617070732f7631120a4465706c6f796d656e7412bc010a210a047765623212001a0022002a003200"
            "380042005a0b0a036170701204776562321288010800120d0a0b0a036170701204776562321a6d0a1d0a0012001a0022"
            "002a003200380042005a0b0a03617070120477656232124c122e0a056e67696e7812056e67696e782a00320a0a001000"
            "185022002a0042006a007200800100880100900100a201001a00320042004a0052005800600068008201008a01009a01"
            "00c2010022020a00280038001a0c0800100018002000280038001a002200"
        ),
        '{"kind":"Deployment","apiVersion":"apps/v1","metadata":{"name":"web2","creationTimestamp":null,"labels":{"app":"web2"}},"spec":{"replicas":0,"selector":{"matchLabels":{"app":"web2"}},"template":{"metadata":{"creationTimestamp":null,"labels":{"app":"web2"}},"spec":{"containers":[{"name":"nginx","image":"nginx","ports":[{"containerPort":80}],"resources":{}}]}},"strategy":{}},"status":{}}',
        id="kubectl create deployment web2 --image=nginx --port=80 --replicas=0",
    ),
]


@pytest.mark.parametrize(("data", "expected"), CAPTURED)
def test_a_captured_kubectl_body_decodes_to_the_json_kubectl_would_send(data, expected):
    assert decode_object(data) == json.loads(expected)


def test_the_public_api_is_what_all_exports():
    assert sorted(protobuf.__all__) == sorted(
        ["MAGIC", "ProtobufError", "decode_message", "decode_object", "decode_unknown", "go_duration"]
    )
    assert MAGIC == b"k8s\x00"
    assert issubclass(ProtobufError, ValueError)


def test_decode_unknown_splits_type_meta_and_raw():
    data = body("apps/v1", "Deployment", msg(1, s(1, "web")))
    assert decode_unknown(data) == ("apps/v1", "Deployment", msg(1, s(1, "web")))


# --------------------------------------------------------------------------- kinds


def _container(name, image, *extra):
    # Container: 1 name, 2 image, 8 resources; the value fields Go always writes follow.
    return msg(2, s(1, name), s(2, image), msg(8), s(5, ""), s(13, ""), s(14, ""), num(16, 0), num(17, 0),
               num(18, 0), s(20, ""), *extra)


def _pod_template(field, labels, *containers, spec_extra=b""):
    # PodTemplateSpec: 1 metadata, 2 spec; PodSpec: 2 containers, 3 restartPolicy, 6 dnsPolicy.
    return msg(field, object_meta(1, labels=labels), msg(2, *containers, s(3, ""), s(6, ""), spec_extra))


HAND_BUILT = [
    pytest.param(
        body("v1", "ConfigMap", object_meta(name="cfg", namespace="ns1"),
             str_map(2, {"a": "1", "b": "two"}), entry(3, "bin", raw(2, b"\x00\xff")), num(4, 1)),
        {"apiVersion": "v1", "kind": "ConfigMap",
         "metadata": {"name": "cfg", "namespace": "ns1", "creationTimestamp": None},
         "data": {"a": "1", "b": "two"}, "binaryData": {"bin": "AP8="}, "immutable": True},
        id="a ConfigMap keeps its data map, base64s binaryData and keeps immutable",
    ),
    pytest.param(
        body("v1", "Secret", object_meta(name="s"), entry(2, "key", raw(2, b"\xde\xad\xbe\xef")),
             entry(2, "empty", raw(2, b"")), s(3, "Opaque")),
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "creationTimestamp": None},
         "data": {"key": "3q2+7w==", "empty": ""}, "type": "Opaque"},
        id="a Secret's bytes map becomes base64 strings",
    ),
    pytest.param(
        body("v1", "Namespace", object_meta(name="team-a", labels={"env": "dev"}),
             msg(2, s(1, "kubernetes")), msg(3, s(1, ""))),
        {"apiVersion": "v1", "kind": "Namespace",
         "metadata": {"name": "team-a", "creationTimestamp": None, "labels": {"env": "dev"}},
         "spec": {"finalizers": ["kubernetes"]}, "status": {}},
        id="a Namespace keeps its finalizers and drops the empty phase",
    ),
    pytest.param(
        body("v1", "ServiceAccount", object_meta(name="robot"), msg(3, s(1, "regcred")), num(4, 0)),
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "robot", "creationTimestamp": None},
         "imagePullSecrets": [{"name": "regcred"}], "automountServiceAccountToken": False},
        id="a ServiceAccount keeps automountServiceAccountToken false because it is a pointer",
    ),
    pytest.param(
        body("v1", "Service", object_meta(name="web"),
             msg(2,
                 msg(1, s(1, "http"), s(2, "TCP"), num(3, 80), int_or_str(4, 8080), num(5, 0)),
                 msg(1, s(1, "metrics"), s(2, "TCP"), num(3, 9090), int_or_str(4, "metrics"), num(5, 30001)),
                 str_map(2, {"app": "web"}), s(3, ""), s(4, "NodePort")),
             msg(3, msg(1))),
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "creationTimestamp": None},
         "spec": {"ports": [{"name": "http", "protocol": "TCP", "port": 80, "targetPort": 8080},
                            {"name": "metrics", "protocol": "TCP", "port": 9090, "targetPort": "metrics",
                             "nodePort": 30001}],
                  "selector": {"app": "web"}, "type": "NodePort"},
         "status": {"loadBalancer": {}}},
        id="a Service's targetPort is an int or a string",
    ),
    pytest.param(
        body("apps/v1", "Deployment", object_meta(name="web", labels={"app": "web"}),
             msg(2,
                 num(1, 2),
                 msg(2, str_map(1, {"app": "web"}), msg(2, s(1, "tier"), s(2, "In"), s(3, "a"), s(3, "b"))),
                 _pod_template(3, {"app": "web"}, _container(
                     "nginx", "nginx",
                     msg(6, s(1, ""), num(2, 0), num(3, 80), s(4, "TCP"), s(5, "")),
                     msg(7, s(1, "MODE"), s(2, "prod")),
                 )),
                 msg(4, s(1, "RollingUpdate"), msg(2, int_or_str(1, "25%"), int_or_str(2, 1))),
                 num(5, 0), num(7, 0)),
             msg(3)),
        {"apiVersion": "apps/v1", "kind": "Deployment",
         "metadata": {"name": "web", "creationTimestamp": None, "labels": {"app": "web"}},
         "spec": {
             "replicas": 2,
             "selector": {"matchLabels": {"app": "web"},
                          "matchExpressions": [{"key": "tier", "operator": "In", "values": ["a", "b"]}]},
             "template": {
                 "metadata": {"creationTimestamp": None, "labels": {"app": "web"}},
                 "spec": {"containers": [{
                     "name": "nginx", "image": "nginx", "resources": {},
                     "ports": [{"containerPort": 80, "protocol": "TCP"}],
                     "env": [{"name": "MODE", "value": "prod"}],
                 }]},
             },
             "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": 1}},
         },
         "status": {}},
        id="a Deployment as kubectl create deployment sends it, with strategy and selector",
    ),
    pytest.param(
        body("apps/v1", "Deployment", object_meta(name="idle"), msg(2, num(1, 0), num(5, 0), num(7, 0))),
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "idle", "creationTimestamp": None},
         "spec": {"replicas": 0}},
        id="replicas zero is kept (a pointer) while zero minReadySeconds and paused are dropped",
    ),
    pytest.param(
        body("v1", "Pod", object_meta(name="p"),
             msg(2, _container("c", "img", msg(8, entry(1, "cpu", quantity(2, "500m")),
                                                entry(2, "memory", quantity(2, "64Mi")))))),
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "creationTimestamp": None},
         "spec": {"containers": [{"name": "c", "image": "img",
                                  "resources": {"limits": {"cpu": "500m"}, "requests": {"memory": "64Mi"}}}]}},
        id="container resources are maps of quantities (and a later resources message merges)",
    ),
    pytest.param(
        body("batch/v1", "Job", object_meta(name="pi"),
             msg(2, num(7, 4),
                 msg(11, msg(1, s(1, "FailJob"), msg(2, s(1, "main"), s(2, "In"), raw(3, varint(1) + varint(42))))),
                 _pod_template(6, {}, _container("pi", "perl", s(3, "perl"), s(4, "-e")), spec_extra=s(3, "Never"))),
             msg(3)),
        {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "pi", "creationTimestamp": None},
         "spec": {"backoffLimit": 4,
                  "podFailurePolicy": {"rules": [{"action": "FailJob", "onExitCodes": {
                      "containerName": "main", "operator": "In", "values": [1, 42]}}]},
                  "template": {"metadata": {"creationTimestamp": None},
                               "spec": {"containers": [{"name": "pi", "image": "perl", "resources": {},
                                                        "command": ["perl"], "args": ["-e"]}],
                                        "restartPolicy": "Never"}}},
         "status": {}},
        id="a Job with a packed repeated int32 list of exit codes",
    ),
    pytest.param(
        body("batch/v1", "CronJob", object_meta(name="nightly"),
             msg(2, s(1, "0 3 * * *"), s(8, "Europe/Berlin"), s(3, "Forbid"), num(4, 0), num(6, 3),
                 msg(5, object_meta(1, name="nightly"),
                     msg(2, _pod_template(6, {}, _container("job", "busybox"), spec_extra=s(3, "OnFailure"))))),
             msg(3)),
        {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "nightly", "creationTimestamp": None},
         "spec": {"schedule": "0 3 * * *", "timeZone": "Europe/Berlin", "concurrencyPolicy": "Forbid",
                  "suspend": False, "successfulJobsHistoryLimit": 3,
                  "jobTemplate": {"metadata": {"name": "nightly", "creationTimestamp": None},
                                  "spec": {"template": {"metadata": {"creationTimestamp": None},
                                                        "spec": {"containers": [{"name": "job", "image": "busybox",
                                                                                 "resources": {}}],
                                                                 "restartPolicy": "OnFailure"}}}}},
         "status": {}},
        id="a CronJob with its job template, timeZone and pointer suspend false",
    ),
    pytest.param(
        body("authorization.k8s.io/v1", "SelfSubjectAccessReview", object_meta(),
             msg(2, msg(1, s(1, "default"), s(2, "create"), s(3, "apps"), s(4, ""), s(5, "deployments"),
                        s(6, "scale"), s(7, "web"))),
             msg(3, num(1, 0), num(4, 0), s(2, ""), s(3, ""))),
        {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
         "metadata": {"creationTimestamp": None},
         "spec": {"resourceAttributes": {"namespace": "default", "verb": "create", "group": "apps",
                                         "resource": "deployments", "subresource": "scale", "name": "web"}},
         "status": {"allowed": False}},
        id="a SelfSubjectAccessReview keeps required allowed false",
    ),
    pytest.param(
        body("authorization.k8s.io/v1", "SelfSubjectAccessReview", object_meta(),
             msg(2, msg(2, s(1, "/healthz"), s(2, "get")))),
        {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
         "metadata": {"creationTimestamp": None},
         "spec": {"nonResourceAttributes": {"path": "/healthz", "verb": "get"}}},
        id="a SelfSubjectAccessReview for a non-resource URL",
    ),
    pytest.param(
        body("authorization.k8s.io/v1", "SelfSubjectRulesReview", object_meta(), msg(2, s(1, "kube-system"))),
        {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview",
         "metadata": {"creationTimestamp": None}, "spec": {"namespace": "kube-system"}},
        id="a SelfSubjectRulesReview names its namespace",
    ),
    pytest.param(
        body("authentication.k8s.io/v1", "SelfSubjectReview"),
        {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"},
        id="an empty SelfSubjectReview is just apiVersion and kind",
    ),
    pytest.param(
        body("authentication.k8s.io/v1", "TokenRequest", object_meta(),
             msg(2, s(1, "api"), s(1, "vault"), num(4, 10_000_000_000),
                 msg(3, s(1, "Pod"), s(2, "v1"), s(3, "web-0"), s(4, "1234")))),
        {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "metadata": {"creationTimestamp": None},
         "spec": {"audiences": ["api", "vault"], "expirationSeconds": 10_000_000_000,
                  "boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": "web-0", "uid": "1234"}}},
        id="a TokenRequest with an int64 expiry and a bound object whose proto name uID is JSON uid",
    ),
    pytest.param(
        body("authorization.k8s.io/v1", "SubjectAccessReview", object_meta(),
             msg(2, s(3, "alice"), s(4, "devs"),
                 entry(5, "scopes", msg(2, s(1, "read"), s(1, "write"))), entry(5, "none", b""))),
        {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
         "metadata": {"creationTimestamp": None},
         "spec": {"user": "alice", "groups": ["devs"], "extra": {"scopes": ["read", "write"], "none": []}}},
        id="extra maps hold ExtraValue messages that become plain string lists",
    ),
    pytest.param(
        body("scheduling.k8s.io/v1", "PriorityClass", object_meta(name="low"), num(2, -5), num(3, 0)),
        {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
         "metadata": {"name": "low", "creationTimestamp": None}, "value": -5},
        id="a negative int32 arrives as a ten byte varint and stays negative",
    ),
    pytest.param(
        body("coordination.k8s.io/v1", "Lease", object_meta(name="leader"),
             msg(2, s(1, "node-a"), num(2, 15), time(3, 1714557600, 123456789), time(4, 1714557601, 5000))),
        {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "leader", "creationTimestamp": None},
         "spec": {"holderIdentity": "node-a", "leaseDurationSeconds": 15,
                  "acquireTime": "2024-05-01T10:00:00.123456Z", "renewTime": "2024-05-01T10:00:01.000005Z"}},
        id="MicroTime keeps microseconds",
    ),
    pytest.param(
        body("v1", "Pod", object_meta(name="p"),
             msg(2,
                 msg(1, s(1, "cfg"), msg(2, msg(19, msg(1, s(1, "app-config")), num(3, 420)))),
                 _container("c", "img", msg(10, msg(1, msg(2, s(1, "/healthz"), int_or_str(2, "http"), s(4, "HTTP"))),
                                            num(2, 5), num(3, 1))))),
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "creationTimestamp": None},
         "spec": {"volumes": [{"name": "cfg", "configMap": {"name": "app-config", "defaultMode": 420}}],
                  "containers": [{"name": "c", "image": "img", "resources": {},
                                  "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http", "scheme": "HTTP"},
                                                    "initialDelaySeconds": 5, "timeoutSeconds": 1}}]}},
        id="embedded Go structs (VolumeSource, ProbeHandler, LocalObjectReference) are inlined",
    ),
    pytest.param(
        body("apps/v1", "ControllerRevision", object_meta(name="web-1"),
             msg(2, raw(1, b'{"spec":{"replicas":3}}')), num(3, 7)),
        {"apiVersion": "apps/v1", "kind": "ControllerRevision", "metadata": {"name": "web-1", "creationTimestamp": None},
         "data": {"spec": {"replicas": 3}}, "revision": 7},
        id="a RawExtension holds JSON and becomes that JSON",
    ),
    pytest.param(
        body("v1", "ConfigMap",
             object_meta(name="m", extra=msg(17, s(1, "kubectl"), s(2, "Update"), s(3, "v1"), time(4, 1714557600),
                                             s(6, "FieldsV1"), msg(7, raw(1, b'{"f:data":{}}'))))),
        {"apiVersion": "v1", "kind": "ConfigMap",
         "metadata": {"name": "m", "creationTimestamp": None,
                      "managedFields": [{"manager": "kubectl", "operation": "Update", "apiVersion": "v1",
                                         "time": "2024-05-01T10:00:00Z", "fieldsType": "FieldsV1",
                                         "fieldsV1": {"f:data": {}}}]}},
        id="managedFields carry FieldsV1 JSON and a Time",
    ),
    pytest.param(
        body("apiextensions.k8s.io/v1", "CustomResourceDefinition", object_meta(name="widgets.example.com"),
             msg(2, s(1, "example.com"), msg(3, s(1, "widgets"), s(4, "Widget")), s(4, "Namespaced"),
                 msg(7, s(1, "v1"), num(2, 1), num(3, 1),
                     msg(4, msg(1, s(5, "object"), s(1, ""), s(4, ""), num(10, 0), num(37, 0),
                                entry(29, "size", msg(2, s(5, "integer"), double(9, 10.5), raw(8, raw(1, b"3")))),
                                entry(29, "tags", msg(2, s(5, "array"), num(16, 0),
                                                      msg(24, msg(1, s(5, "string"))))),
                                entry(29, "extra", msg(2, s(5, "object"), msg(30, num(1, 1)), num(38, 1))),
                                s(3, "#/x")))))),
        {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
         "metadata": {"name": "widgets.example.com", "creationTimestamp": None},
         "spec": {"group": "example.com", "names": {"plural": "widgets", "kind": "Widget"}, "scope": "Namespaced",
                  "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                      "type": "object", "$ref": "#/x",
                      "properties": {
                          "size": {"type": "integer", "maximum": 10.5, "default": 3},
                          "tags": {"type": "array", "maxItems": 0, "items": {"type": "string"}},
                          "extra": {"type": "object", "additionalProperties": True,
                                    "x-kubernetes-preserve-unknown-fields": True},
                      }}}}]}},
        id="a CRD schema with doubles, JSON defaults, renamed fields, unions and Go zero values dropped",
    ),
]


@pytest.mark.parametrize(("data", "expected"), HAND_BUILT)
def test_a_hand_built_body_decodes(data, expected):
    assert decode_object(data) == expected


def test_json_schema_unions_decode_to_their_list_or_schema_forms():
    # JSONSchemaProps: 24 items (OrArray{1 schema, 2 jSONSchemas}), 30 additionalProperties (OrBool{1 allows,
    # 2 schema}), 32 dependencies (map of OrStringArray{1 schema, 2 property}), 33 additionalItems (OrBool)
    props = b"".join([
        s(5, "object"),
        msg(24, msg(2, s(5, "string")), msg(2, s(5, "integer"))),
        msg(30, num(1, 1), msg(2, s(5, "string"))),
        entry(32, "a", msg(2, s(2, "b"), s(2, "c"))),
        entry(32, "d", msg(2, msg(1, s(5, "object")))),
        msg(33, num(1, 0)),
    ])
    assert decode_message(props, "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps") == {
        "type": "object",
        "items": [{"type": "string"}, {"type": "integer"}],
        "additionalProperties": {"type": "string"},
        "dependencies": {"a": ["b", "c"], "d": {"type": "object"}},
        "additionalItems": False,
    }


def test_creation_timestamp_keeps_whole_seconds_like_upstream():
    data = body("v1", "Namespace", msg(1, s(1, "a"), time(8, 1714557600, 999_000_000)))
    assert decode_object(data)["metadata"] == {"name": "a", "creationTimestamp": "2024-05-01T10:00:00Z"}


def test_a_pointer_time_at_the_unix_epoch_is_a_real_time():
    data = body("v1", "Namespace", msg(1, s(1, "a"), time(9, 0)))
    assert decode_object(data)["metadata"]["deletionTimestamp"] == "1970-01-01T00:00:00Z"


def test_unknown_field_numbers_are_skipped_whatever_their_wire_type():
    data = body("v1", "ConfigMap", msg(1, s(1, "a"), num(99, 5), s(98, "x")), key(97, 1) + b"\x00" * 8,
                key(96, 5) + b"\x00" * 4, str_map(2, {"k": "v"}))
    assert decode_object(data) == {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"},
                                   "data": {"k": "v"}}


def test_a_repeated_scalar_field_keeps_the_last_value():
    data = body("v1", "Secret", s(3, "Opaque"), s(3, "kubernetes.io/tls"))
    assert decode_object(data)["type"] == "kubernetes.io/tls"


def test_a_value_field_set_then_zeroed_is_dropped():
    data = body("apps/v1", "Deployment", msg(2, num(5, 10), num(5, 0)))
    assert decode_object(data)["spec"] == {}


def test_a_quantity_message_without_a_string_is_zero():
    data = body("v1", "ResourceQuota", msg(2, entry(1, "pods", msg(2))))
    assert decode_object(data)["spec"] == {"hard": {"pods": "0"}}


def test_an_embedded_raw_extension_may_itself_be_protobuf():
    inner = body("v1", "ConfigMap", msg(1, s(1, "inner")))
    data = body("apps/v1", "ControllerRevision", msg(2, raw(1, inner)))
    assert decode_object(data)["data"] == {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "inner"}}


def test_decode_message_reads_a_bare_message_of_a_definition():
    # DeleteOptions: 1 gracePeriodSeconds, 2 preconditions{1 uid}, 4 propagationPolicy, 5 dryRun
    data = num(1, 0) + msg(2, s(1, "x")) + s(4, "Foreground") + s(5, "All")
    assert decode_message(data, "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions") == {
        "gracePeriodSeconds": 0, "preconditions": {"uid": "x"}, "propagationPolicy": "Foreground", "dryRun": ["All"]}


@pytest.mark.parametrize(
    ("ns", "text"),
    [
        pytest.param(0, "0s", id="zero is 0s"),
        pytest.param(3600 * 10**9, "1h0m0s", id="one hour is 1h0m0s"),
        pytest.param(90 * 10**9, "1m30s", id="ninety seconds is 1m30s"),
        pytest.param(1_500_000_000, "1.5s", id="fractional seconds keep their digits"),
        pytest.param(300_000_000, "300ms", id="under a second is milliseconds"),
        pytest.param(2_500, "2.5µs", id="under a millisecond is microseconds"),
        pytest.param(7, "7ns", id="under a microsecond is nanoseconds"),
        pytest.param(-(3600 + 1) * 10**9, "-1h0m1s", id="negative durations carry a minus sign"),
    ],
)
def test_go_duration_formats_like_go(ns, text):
    assert go_duration(ns) == text


# --------------------------------------------------------------------------- errors


def _meta_body(*parts):
    return body("v1", "ConfigMap", *parts)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(b"", "prefix", id="an empty body"),
        pytest.param(b'{"kind":"ConfigMap"}', "prefix", id="a JSON body"),
        pytest.param(MAGIC + b"\x0a", "end of data", id="a body cut after a key"),
        pytest.param(MAGIC + b"\x0a\x05\x0a\x02v1", "past the end", id="a length running past the end"),
        pytest.param(MAGIC + b"\x08\xff\xff", "varint", id="a varint cut short"),
        pytest.param(MAGIC + b"\x08" + b"\xff" * 11 + b"\x01", "10 bytes", id="a varint longer than ten bytes"),
        pytest.param(MAGIC + b"\x0b", "wire type 3", id="a group start wire type"),
        pytest.param(MAGIC + b"\x0f", "wire type 7", id="an illegal wire type"),
        pytest.param(body("v1", ""), "Kind", id="a missing kind"),
        pytest.param(body("", "ConfigMap"), "apiVersion", id="a missing apiVersion"),
        pytest.param(body("example.com/v1", "Widget"), "no protobuf decoding", id="a kind without a schema"),
        pytest.param(body("v1", "ConfigMapList"), "no protobuf decoding", id="a list kind"),
        pytest.param(MAGIC + msg(1, s(1, "v1"), s(2, "ConfigMap")) + s(3, "gzip"), "encoding",
                     id="a content encoding"),
        pytest.param(MAGIC + msg(1, s(1, "v1"), s(2, "ConfigMap")) + s(4, "application/json"), "content type",
                     id="an embedded JSON content type"),
        pytest.param(_meta_body(num(1, 5)), "wire type 0 for field 1", id="a varint where a message belongs"),
        pytest.param(_meta_body(msg(1, num(1, 3))), "wire type 0 for field 1", id="a varint where a string belongs"),
        pytest.param(_meta_body(msg(1, key(1, 1) + bytes(8))), "wire type 1 for field 1",
                     id="a fixed64 where a string belongs"),
        pytest.param(_meta_body(num(2, 1)), "map field 2", id="a varint where a map entry belongs"),
        pytest.param(_meta_body(msg(1, msg(8, s(1, "x")))), "Time", id="a malformed Time"),
        pytest.param(_meta_body(msg(1, time(8, 10**15))), "out of range", id="a Time past year 9999"),
        pytest.param(body("apps/v1", "ControllerRevision", msg(2, raw(1, b"{nope"))), "raw JSON",
                     id="malformed JSON in a RawExtension"),
        pytest.param(body("apps/v1", "Deployment", msg(2, raw(1, varint(1)))), "packed",
                     id="a packed list for a single number"),
    ],
)
def test_malformed_input_raises_a_clear_protobuf_error(data, message):
    with pytest.raises(ProtobufError, match=message):
        decode_object(data)


def test_deep_nesting_is_a_protobuf_error_not_a_crash():
    # a JSONSchemaProps nested far deeper than Python's recursion limit allows
    inner = msg(1, s(5, "object"))
    for _ in range(2000):
        inner = entry(29, "x", msg(2, inner))
    data = body("apiextensions.k8s.io/v1", "CustomResourceDefinition",
                msg(2, msg(7, msg(4, msg(1, inner)))))
    with pytest.raises(ProtobufError, match="nested too deeply"):
        decode_object(data)


# --------------------------------------------------------------------------- the table


SERVED_GROUP_VERSIONS = {
    ("", "v1"), ("apps", "v1"), ("batch", "v1"), ("coordination.k8s.io", "v1"), ("discovery.k8s.io", "v1"),
    ("events.k8s.io", "v1"), ("policy", "v1"), ("autoscaling", "v1"), ("autoscaling", "v2"),
    ("rbac.authorization.k8s.io", "v1"), ("networking.k8s.io", "v1"), ("scheduling.k8s.io", "v1"),
    ("storage.k8s.io", "v1"), ("node.k8s.io", "v1"), ("certificates.k8s.io", "v1"),
    ("authentication.k8s.io", "v1"), ("authorization.k8s.io", "v1"), ("admissionregistration.k8s.io", "v1"),
    ("apiextensions.k8s.io", "v1"),
}


def _table():
    return decode_mod._table()


def _check_fields(message, schema_name, fields, problems, seen):
    if (message, schema_name) in seen:
        return
    seen.add((message, schema_name))
    props = openapi_defs.schema(schema_name).get("properties", {})
    for number, target in fields[message].items():
        if isinstance(target, dict):
            _check_fields(target["inline"], schema_name, fields, problems, seen)
        elif target not in props:
            problems.append(f"{message} field {number} {target!r} is not a property of {schema_name}")


def test_every_field_in_the_table_exists_in_the_openapi_definitions():
    fields, value_scalars = _table()
    defs = openapi_defs.definitions()
    inline_targets = {t["inline"] for spec in fields.values() for t in spec.values() if isinstance(t, dict)}
    problems: list[str] = []
    seen: set[tuple[str, str]] = set()
    for message in fields:
        if message in defs:
            _check_fields(message, message, fields, problems, seen)
        elif message not in inline_targets:
            problems.append(f"{message} is neither an OpenAPI definition nor embedded by one")
    for message, numbers in value_scalars.items():
        for number in numbers:
            if str(number) not in fields.get(message, {}):
                problems.append(f"valueScalars names {message} field {number} that the table lacks")
    assert problems == []


def test_every_served_kind_of_the_protobuf_groups_has_a_table():
    missing = []
    for (group, version, kind), name in openapi_defs.gvk_index().items():
        if (group, version) in SERVED_GROUP_VERSIONS and not kind.endswith("List") and kind != "WatchEvent":
            api_version = f"{group}/{version}" if group else version
            if decode_mod.definition_for(api_version, kind) != name:
                missing.append(f"{api_version} {kind}")
    assert missing == []


def test_every_message_in_the_table_compiles_to_a_plan():
    fields, _ = _table()
    defs = openapi_defs.definitions()
    todo = [(message, message) for message in fields if message in defs]
    compiled = set()
    while todo:
        plan_key = todo.pop()
        if plan_key not in compiled:
            compiled.add(plan_key)
            plan = decode_mod._plan(*plan_key)
            todo.extend(f.value.arg for f in plan.values() if f.shape == decode_mod._INLINE)
    assert len(compiled) > len(fields)  # inline messages compile once per embedding definition


@pytest.mark.parametrize(
    ("definition", "numbers"),
    [
        pytest.param("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
                     {1: "name", 2: "generateName", 3: "namespace", 5: "uid", 6: "resourceVersion",
                      7: "generation", 8: "creationTimestamp", 11: "labels", 12: "annotations",
                      13: "ownerReferences", 14: "finalizers"}, id="ObjectMeta numbers match the compat doc"),
        pytest.param("io.k8s.api.core.v1.ConfigMap", {1: "metadata", 2: "data", 3: "binaryData", 4: "immutable"},
                     id="ConfigMap numbers match the compat doc"),
        pytest.param("io.k8s.api.core.v1.Secret",
                     {1: "metadata", 2: "data", 3: "type", 4: "stringData", 5: "immutable"},
                     id="Secret numbers match the compat doc"),
        pytest.param("io.k8s.api.core.v1.ServiceAccount",
                     {1: "metadata", 2: "secrets", 3: "imagePullSecrets", 4: "automountServiceAccountToken"},
                     id="ServiceAccount numbers match the compat doc"),
        pytest.param("io.k8s.api.core.v1.ServicePort",
                     {1: "name", 2: "protocol", 3: "port", 4: "targetPort", 5: "nodePort"},
                     id="ServicePort numbers match the compat doc"),
        pytest.param("io.k8s.api.apps.v1.DeploymentSpec", {1: "replicas", 2: "selector", 3: "template", 4: "strategy"},
                     id="DeploymentSpec numbers match the compat doc"),
        pytest.param("io.k8s.api.authentication.v1.TokenRequestSpec",
                     {1: "audiences", 3: "boundObjectRef", 4: "expirationSeconds"},
                     id="TokenRequestSpec numbers match the compat doc"),
    ],
)
def test_field_numbers_agree_with_the_compat_doc(definition, numbers):
    fields, _ = _table()
    assert {n: fields[definition][str(n)] for n in numbers} == numbers


def test_decoding_a_deployment_takes_well_under_a_millisecond():
    data = CAPTURED[0].values[0]
    assert isinstance(data, bytes)
    decode_object(data)  # compile the plans once
    runs = 200
    start = _time.perf_counter()
    for _ in range(runs):
        decode_object(data)
    assert (_time.perf_counter() - start) / runs < 0.001
