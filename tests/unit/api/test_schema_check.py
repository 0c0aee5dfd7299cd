"""Schema-driven decode checks reproduce upstream's typed-decode errors and strict errors."""

import copy

import orjson
import pytest

from kubepy.api.schema_check import (
    check_object,
    decode_error_message,
    find_duplicate_fields,
    go_base64_error,
    go_time_parse_error,
    prune,
)

POD = "io.k8s.api.core.v1.Pod"
DEPLOYMENT = "io.k8s.api.apps.v1.Deployment"
SECRET = "io.k8s.api.core.v1.Secret"
SERVICE = "io.k8s.api.core.v1.Service"
QUANTITY_ERR = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"


def pod(**container):
    c = {"name": "c", "image": "nginx"}
    c.update(container)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [c]}}


@pytest.mark.parametrize(
    ("obj", "schema", "unknown"),
    [
        pytest.param({"spec": {"foo": 1}}, DEPLOYMENT, ["spec.foo"], id="a top-level spec field"),
        pytest.param({"foo": 1}, DEPLOYMENT, ["foo"], id="a field at the root"),
        pytest.param({"metadata": {"nam": "x"}}, DEPLOYMENT, ["metadata.nam"], id="a typo in metadata"),
        pytest.param(
            {"spec": {"template": {"spec": {"containers": [{"name": "a"}, {"name": "b", "imagePullPolcy": "x"}]}}}},
            DEPLOYMENT,
            ["spec.template.spec.containers[1].imagePullPolcy"],
            id="a field inside the second list item carries its index",
        ),
        pytest.param(
            {"spec": {"template": {"metadata": {"labels": {"any-key": "v"}}}}},
            DEPLOYMENT,
            [],
            id="map keys are never unknown",
        ),
        pytest.param(
            {"spec": {"Replicas": 2}},
            DEPLOYMENT,
            ["spec.Replicas"],
            id="field names are case sensitive",
        ),
        pytest.param(
            {"metadata": {"name": "x"}, "data": {"k": "dg=="}, "extra": {"a": 1}},
            SECRET,
            ["extra"],
            id="an unknown object is reported once, not its contents",
        ),
    ],
)
def test_unknown_fields(obj, schema, unknown):
    result = check_object(obj, schema, strict_unknown=True)
    assert result.unknown == unknown
    assert result.strict_errors == [f'unknown field "{p}"' for p in unknown]


def test_unknown_fields_in_map_values_use_the_key_as_a_path_segment():
    obj = {"spec": {"template": {"spec": {"containers": [{"name": "c", "resources": {"limits": {"cpu": "1"}}}],
                                          "overhead": {"cpu": "1"}}}}}
    assert check_object(obj, DEPLOYMENT, strict_unknown=True).unknown == []
    crd_like = {"spec": {"template": {"spec": {"nodeSelector": {"a": "b"}, "foo": {"bar": 1}}}}}
    assert check_object(crd_like, DEPLOYMENT, strict_unknown=True).unknown == ["spec.template.spec.foo"]


def test_strict_message_matches_upstream_for_duplicates_and_unknown_fields_in_document_order():
    body = (
        b'{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"dupename","name":"x",'
        b'"labels":{"app":"nginx"},"unknownMeta":"metaVal"},"spec":{"unknown1":"val1",'
        b'"unknownDupe":"valDupe","unknownDupe":"valDupe2","paused":true,"paused":false,'
        b'"selector":{"matchLabels":{"app":"nginx"}},"template":{"metadata":{"labels":{"app":"nginx"}},'
        b'"spec":{"containers":[{"name":"nginx","image":"nginx:latest","unknownNested":"val1",'
        b'"imagePullPolicy":"Always","imagePullPolicy":"Never"}]}}}}'
    )
    result = check_object(orjson.loads(body), DEPLOYMENT, strict_unknown=True, body=body)
    assert result.strict_message() == (
        'strict decoding error: duplicate field "metadata.name", unknown field "metadata.unknownMeta", '
        'unknown field "spec.unknown1", unknown field "spec.unknownDupe", duplicate field "spec.paused", '
        'unknown field "spec.template.spec.containers[0].unknownNested", '
        'duplicate field "spec.template.spec.containers[0].imagePullPolicy"'
    )
    assert result.duplicates == ["metadata.name", "spec.paused", "spec.template.spec.containers[0].imagePullPolicy"]
    assert result.warnings()[0] == 'duplicate field "metadata.name"'


@pytest.mark.parametrize(
    ("body", "duplicates"),
    [
        pytest.param(b'{"a":1,"b":{"c":1,"c":2}}', ["b.c"], id="a nested duplicate"),
        pytest.param(b'{"a":[{"x":1},{"x":1,"x":2}]}', ["a[1].x"], id="a duplicate inside a list item"),
        pytest.param(b'{"a" :1,"a": 2}', ["a"], id="whitespace before the colon"),
        pytest.param(b'{"a":"{\\"k\\":1,\\"k\\":2}"}', [], id="escaped JSON inside a string is not a duplicate"),
        pytest.param(b'{"a":1,"b":2}', [], id="no duplicates"),
    ],
)
def test_find_duplicate_fields(body, duplicates):
    assert find_duplicate_fields(body) == duplicates


def test_duplicate_map_keys_are_reported_with_the_key_in_the_path():
    body = b'{"metadata":{"name":"p","labels":{"a":"1","a":"2"}},"spec":{"containers":[]}}'
    result = check_object(orjson.loads(body), POD, strict_unknown=True, body=body)
    assert result.strict_errors == ['duplicate field "metadata.labels.a"']


def test_annotations_with_escaped_json_take_the_fast_path_without_false_duplicates():
    obj = pod()
    obj["metadata"]["annotations"] = {"kubectl.kubernetes.io/last-applied-configuration": '{"a":1,"b":{"c":2}}'}
    body = orjson.dumps(obj)
    assert check_object(orjson.loads(body), POD, strict_unknown=True, body=body).strict_errors == []


@pytest.mark.parametrize(
    ("obj", "schema", "message"),
    [
        pytest.param(
            {"spec": {"replicas": "3"}}, DEPLOYMENT,
            "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32",
            id="a string for an int32",
        ),
        pytest.param(
            {"spec": {"replicas": 3000000000}}, DEPLOYMENT,
            "json: cannot unmarshal number 3000000000 into Go struct field DeploymentSpec.spec.replicas of type int32",
            id="an int32 overflow shows the number",
        ),
        pytest.param(
            {"spec": {"replicas": 1.5}}, DEPLOYMENT,
            "json: cannot unmarshal number 1.5 into Go struct field DeploymentSpec.spec.replicas of type int32",
            id="a fraction for an integer",
        ),
        pytest.param(
            {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": 5}]}}}}, DEPLOYMENT,
            "json: cannot unmarshal number into Go struct field Container.spec.template.spec.containers.image of type string",
            id="the field path omits list indices",
        ),
        pytest.param(
            {"spec": {"template": {"spec": {"containers": {"name": "c"}}}}}, DEPLOYMENT,
            "json: cannot unmarshal object into Go struct field PodSpec.spec.template.spec.containers of type []v1.Container",
            id="an object where a list is expected",
        ),
        pytest.param(
            {"spec": "x"}, DEPLOYMENT,
            "json: cannot unmarshal string into Go struct field Deployment.spec of type v1.DeploymentSpec",
            id="a string where a struct is expected",
        ),
        pytest.param(
            {"metadata": {"labels": {"a": 1}}}, DEPLOYMENT,
            "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string",
            id="a non-string label value",
        ),
        pytest.param(
            {"spec": {"paused": "yes"}}, DEPLOYMENT,
            "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.paused of type bool",
            id="a string for a bool",
        ),
        pytest.param(
            {"spec": {"restartPolicy": 1, "containers": []}}, POD,
            "json: cannot unmarshal number into Go struct field PodSpec.spec.restartPolicy of type v1.RestartPolicy",
            id="named string types are named",
        ),
        pytest.param(
            {"spec": {"ports": [{"port": 80, "targetPort": {"a": 1}}]}}, SERVICE,
            "json: cannot unmarshal object into Go struct field ServicePort.spec.ports.targetPort of type int32",
            id="an object for an int-or-string",
        ),
        pytest.param(
            {"spec": {"containers": [{"name": "c", "resources": {"limits": {"cpu": "1x"}}}]}}, POD,
            QUANTITY_ERR,
            id="a malformed quantity",
        ),
        pytest.param(
            {"spec": {"containers": [{"name": "c", "resources": {"limits": {"cpu": True}}}]}}, POD,
            QUANTITY_ERR,
            id="a bool quantity",
        ),
        pytest.param(
            {"spec": {"containers": [{"name": "c", "resources": {"limits": []}}]}}, POD,
            "json: cannot unmarshal array into Go struct field ResourceRequirements.spec.containers.resources.limits of type v1.ResourceList",
            id="a list for a resource list",
        ),
        pytest.param(
            {"data": {"k": "abc"}}, SECRET,
            "illegal base64 data at input byte 0",
            id="bad base64 in secret data",
        ),
        pytest.param(
            {"metadata": {"creationTimestamp": 5}}, SECRET,
            "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.creationTimestamp of type string",
            id="a number for a timestamp",
        ),
        pytest.param(
            {"metadata": {"creationTimestamp": "2024-13-01T00:00:00Z"}}, SECRET,
            'parsing time "2024-13-01T00:00:00Z": month out of range',
            id="a timestamp with a bad month",
        ),
    ],
)
def test_type_errors_use_upstream_messages(obj, schema, message):
    result = check_object(obj, schema, strict_unknown=False)
    assert result.decode_error is not None
    assert result.decode_error.message == message


@pytest.mark.parametrize(
    "container",
    [
        pytest.param({"resources": {"limits": {"cpu": 1, "memory": 1.5}}}, id="numeric quantities are accepted"),
        pytest.param({"ports": [{"containerPort": 80}], "env": [{"name": "A", "value": ""}]}, id="ordinary fields"),
        pytest.param({"livenessProbe": {"httpGet": {"port": "http"}}}, id="a named port"),
        pytest.param({"image": None, "args": None}, id="nulls are accepted anywhere"),
    ],
)
def test_valid_values_pass(container):
    assert check_object(pod(**container), POD, strict_unknown=True).ok


def test_a_fatal_error_wins_over_an_earlier_plain_type_error():
    obj = {"spec": {"replicas": "3", "strategy": {"rollingUpdate": {"maxSurge": True}}}}
    result = check_object(obj, DEPLOYMENT, strict_unknown=False)
    assert len(result.type_errors) == 2
    assert "maxSurge of type int32" in result.decode_error.message


def test_decode_error_message_wraps_like_transform_decode_error():
    base = "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32"
    assert decode_error_message(base, target_kind="Deployment", body_kind="Deployment", body_version="v1") == (
        'Deployment in version "v1" cannot be handled as a Deployment: ' + base
    )
    assert decode_error_message("x", target_kind="Pod", body=b'{"spec":{}}') == (
        'the object provided is unrecognized (must be of type Pod): x ({"spec":{}})'
    )


def test_prune_drops_unknown_fields_in_place_and_keeps_known_ones():
    obj = pod(imagePullPolcy="Always")
    obj["spec"]["foo"] = {"bar": 1}
    obj["metadata"]["labels"] = {"a": None}
    kept = copy.deepcopy(obj["spec"]["containers"][0]["image"])
    removed = prune(obj, POD)
    assert removed == ["spec.containers[0].imagePullPolcy", "spec.foo"]
    assert "foo" not in obj["spec"]
    assert "imagePullPolcy" not in obj["spec"]["containers"][0]
    assert obj["spec"]["containers"][0]["image"] == kept
    assert obj["metadata"]["labels"] == {"a": ""}


def test_without_prune_the_object_is_not_changed():
    obj = pod(imagePullPolcy="Always")
    before = copy.deepcopy(obj)
    check_object(obj, POD, strict_unknown=True)
    assert obj == before


def test_strict_errors_are_deduplicated_and_capped():
    obj = {"spec": {"containers": [{"name": str(i), "bad": 1} for i in range(150)]}}
    obj["spec"]["containers"].append({"name": "x", "bad": 1})
    result = check_object(obj, POD, strict_unknown=True)
    assert len(result.unknown) == 151
    assert len(result.strict_errors) == 100


@pytest.mark.parametrize(
    ("text", "error"),
    [
        pytest.param("dmFsdWU=", None, id="valid padded"),
        pytest.param("dmFsdWU", "illegal base64 data at input byte 4", id="missing padding"),
        pytest.param("dm!s", "illegal base64 data at input byte 2", id="a bad character"),
        pytest.param("dmFs\ndWU=", None, id="newlines are skipped"),
        pytest.param("dg==dg==", "illegal base64 data at input byte 4", id="data after padding"),
    ],
)
def test_base64_errors_match_go(text, error):
    assert go_base64_error(text) == error


@pytest.mark.parametrize(
    ("text", "micro", "error"),
    [
        pytest.param("2024-05-01T10:00:00Z", False, None, id="RFC3339 UTC"),
        pytest.param("2024-05-01T10:00:00.5+02:00", False, None, id="fraction and offset"),
        pytest.param("2024/05/01", False,
                     'parsing time "2024/05/01" as "2006-01-02T15:04:05Z07:00": cannot parse "/05/01" as "-"',
                     id="a wrong separator"),
        pytest.param("x", False,
                     'parsing time "x" as "2006-01-02T15:04:05Z07:00": cannot parse "x" as "2006"',
                     id="not a time at all"),
        pytest.param("2023-02-29T00:00:00Z", False, 'parsing time "2023-02-29T00:00:00Z": day out of range',
                     id="no leap day"),
        pytest.param("2024-05-01T10:00:00.123456Z", True, None, id="micro time"),
        pytest.param("2024-05-01T10:00:00Z", True,
                     'parsing time "2024-05-01T10:00:00Z" as "2006-01-02T15:04:05.000000Z07:00": '
                     'cannot parse "Z" as ".000000"',
                     id="micro time needs six fraction digits"),
    ],
)
def test_time_parse_errors_match_go(text, micro, error):
    assert go_time_parse_error(text, micro=micro) == error


def test_unknown_schema_checks_nothing():
    assert check_object({"anything": 1}, "example.com.v1.Widget", strict_unknown=True).ok
