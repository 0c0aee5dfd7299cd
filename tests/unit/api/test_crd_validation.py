"""CRD and custom-resource schema machinery: structural checks, CRD validation, pruning,
defaulting, schema validation messages and CEL rules (kubepy.api.crd, validation.apiextensions)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kubepy.api import validation
from kubepy.api.crd import CustomResourceSchema, definition
from kubepy.api.crd.schema_rules import validate_schema
from kubepy.api.validation.apiextensions import validate_crd, validate_crd_update

BASE = "spec.validation.openAPIV3Schema"


def texts(errs: Any) -> list[str]:
    return [e.text for e in errs]


# -- structural schema checks ---------------------------------------------------------------
STRUCTURAL_CASES = [
    pytest.param({"properties": {"spec": {"type": "object"}}},
                 f"{BASE}.type: Required value: must not be empty at the root", id="root without type is rejected"),
    pytest.param({"type": "object", "properties": {"spec": {"properties": {"a": {"type": "string"}}}}},
                 f"{BASE}.properties[spec].type: Required value: must not be empty for specified object fields",
                 id="a property without type is rejected"),
    pytest.param({"type": "object", "properties": {"l": {"type": "array"}}},
                 f"{BASE}.properties[l].items: Required value: must be specified", id="an array without items is rejected"),
    pytest.param({"type": "object", "properties": {"l": {"type": "array", "items": {}}}},
                 f"{BASE}.properties[l].items.type: Required value: must not be empty for specified array items",
                 id="array items without type are rejected"),
    pytest.param({"type": "string"}, f'{BASE}.type: Invalid value: "string": must be object at the root',
                 id="a non-object root is rejected"),
    pytest.param({"type": "object", "additionalProperties": {"type": "string"}},
                 f"{BASE}.additionalProperties: Forbidden: must not be used at the root",
                 id="additionalProperties at the root is rejected"),
    pytest.param({"type": "object", "properties": {"m": {"type": "object", "properties": {"a": {"type": "string"}},
                                                         "additionalProperties": {"type": "string"}}}},
                 f"{BASE}.properties[m].additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive",
                 id="additionalProperties together with properties is rejected"),
    pytest.param({"type": "object", "properties": {"x": {"type": "object", "x-kubernetes-preserve-unknown-fields": False}}},
                 f"{BASE}.properties[x].x-kubernetes-preserve-unknown-fields: Invalid value: false: must be true or undefined",
                 id="preserve-unknown-fields false is rejected"),
    pytest.param({"type": "object", "properties": {"x": {"x-kubernetes-int-or-string": True,
                                                         "x-kubernetes-preserve-unknown-fields": True}}},
                 f"{BASE}.properties[x].x-kubernetes-preserve-unknown-fields: Invalid value: true: "
                 "must be false if x-kubernetes-int-or-string is true",
                 id="int-or-string with preserve-unknown-fields is rejected"),
    pytest.param({"type": "object", "properties": {"x": {"type": "string", "x-kubernetes-embedded-resource": True}}},
                 f'{BASE}.properties[x].type: Invalid value: "string": must be object if x-kubernetes-embedded-resource is true',
                 id="an embedded resource must be an object"),
    pytest.param({"type": "object", "properties": {"x": {"type": "object", "x-kubernetes-embedded-resource": True}}},
                 f"{BASE}.properties[x].properties: Required value: must not be empty if x-kubernetes-embedded-resource "
                 "is true without x-kubernetes-preserve-unknown-fields",
                 id="an embedded resource needs properties or preserve-unknown-fields"),
    pytest.param({"type": "object", "properties": {"metadata": {"type": "object", "properties": {
        "labels": {"type": "object"}}}}},
                 f"{BASE}.properties[metadata]: Forbidden: must not specify anything other than name and generateName, "
                 "but metadata is implicitly specified", id="metadata may only restrict name and generateName"),
    pytest.param({"type": "object", "properties": {"x": {"type": "string", "anyOf": [{"type": "string"}]}}},
                 f"{BASE}.properties[x].anyOf[0].type: Forbidden: must be empty to be structural",
                 id="types inside anyOf are not structural"),
    pytest.param({"type": "object", "properties": {"x": {"type": "null"}}},
                 f"{BASE}.properties[x].type: Forbidden: type cannot be set to null, use nullable as an alternative",
                 id="type null is rejected"),
    pytest.param({"type": "object", "properties": {"x": {"type": "array", "items": {"type": "string"}, "uniqueItems": True}}},
                 f"{BASE}.properties[x].uniqueItems: Forbidden: uniqueItems cannot be set to true since the runtime "
                 "complexity becomes quadratic", id="uniqueItems is rejected"),
    pytest.param({"type": "object", "properties": {"x": {"$ref": "#/definitions/a", "type": "string"}}},
                 f"{BASE}.properties[x].$ref: Forbidden: $ref is not supported", id="$ref is rejected"),
    pytest.param({"type": "object", "properties": {"x": {"type": "integer", "default": "three"}}},
                 f'{BASE}.properties[x].default: Invalid value: "string": x in body must be of type integer: "string"',
                 id="a default must validate against its schema"),
    pytest.param({"type": "object", "properties": {"metadata": {"type": "object", "default": {"name": "x"}}}},
                 f"{BASE}.properties[metadata].default: Forbidden: must not be set in top-level metadata",
                 id="a default in the root metadata is rejected"),
    pytest.param({"type": "object", "properties": {"l": {"type": "array", "x-kubernetes-list-type": "map",
                                                         "items": {"type": "object", "properties": {"k": {"type": "string"}}}}}},
                 f"{BASE}.properties[l].x-kubernetes-list-map-keys: Required value: must not be empty if "
                 "x-kubernetes-list-type is map", id="a map list needs map keys"),
    pytest.param({"type": "object", "x-kubernetes-validations": [{"rule": "self.a >"}]},
                 f"{BASE}.x-kubernetes-validations[0].rule: Invalid value: ", id="a CEL rule that does not compile is rejected"),
    pytest.param({"type": "object", "x-kubernetes-validations": [{"rule": "true", "reason": "Bogus"}]},
                 f'{BASE}.x-kubernetes-validations[0].reason: Unsupported value: "Bogus": supported values: '
                 '"FieldValueDuplicate", "FieldValueForbidden", "FieldValueInvalid", "FieldValueRequired"',
                 id="an unknown rule reason is rejected"),
]


@pytest.mark.parametrize(("schema", "expected"), STRUCTURAL_CASES)
def test_structural_schema_checks(schema: dict[str, Any], expected: str) -> None:
    got = texts(validate_schema(schema, BASE, status_enabled=False))
    assert any(t.startswith(expected) for t in got), got


def test_a_structural_schema_with_every_extension_passes() -> None:
    schema = {
        "type": "object",
        "properties": {
            "metadata": {"type": "object", "properties": {"name": {"type": "string", "maxLength": 20}}},
            "spec": {
                "type": "object",
                "x-kubernetes-validations": [{"rule": "self.a <= 5", "message": "too big"}],
                "properties": {
                    "a": {"type": "integer", "default": 1, "minimum": 0},
                    "port": {"x-kubernetes-int-or-string": True, "anyOf": [{"type": "integer"}, {"type": "string"}]},
                    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                    "any": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                    "template": {"type": "object", "x-kubernetes-embedded-resource": True,
                                 "x-kubernetes-preserve-unknown-fields": True},
                    "items": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
                              "items": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}},
                },
            },
            "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        },
    }
    assert validate_schema(schema, BASE, status_enabled=True) == []


# -- CRD validation -------------------------------------------------------------------------
def make_crd(**changes: Any) -> dict[str, Any]:
    crd: dict[str, Any] = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "crontabs.stable.example.com"},
        "spec": {
            "group": "stable.example.com",
            "scope": "Namespaced",
            "names": {"plural": "crontabs", "kind": "CronTab", "shortNames": ["ct"]},
            "versions": [{"name": "v1", "served": True, "storage": True,
                          "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                              "spec": {"type": "object", "properties": {"color": {"type": "string"}}}}}}}],
        },
        "status": {"storedVersions": ["v1"]},
    }
    for path, value in changes.items():
        node = crd
        parts = path.split("__")
        for p in parts[:-1]:
            node = node[int(p)] if isinstance(node, list) else node[p]
        if isinstance(node, list):
            node[int(parts[-1])] = value
        else:
            node[parts[-1]] = value
    definition.set_defaults(crd)
    return crd


CRD_CASES = [
    pytest.param({"metadata__name": "crontabs.other.com"},
                 'metadata.name: Invalid value: "crontabs.other.com": must be spec.names.plural+"."+spec.group',
                 id="the name must be plural dot group"),
    pytest.param({"spec__group": "example"}, 'spec.group: Invalid value: "example": should be a domain with at least one dot',
                 id="the group needs a dot"),
    pytest.param({"spec__scope": "Global"},
                 'spec.scope: Unsupported value: "Global": supported values: "Cluster", "Namespaced"',
                 id="an unknown scope is rejected"),
    pytest.param({"spec__versions__0__storage": False},
                 "spec.versions: Invalid value: ", id="exactly one storage version is required"),
    pytest.param({"spec__versions__0__schema": None},
                 "spec.versions[0].schema.openAPIV3Schema: Required value: schemas are required",
                 id="v1 CRDs need a schema"),
    pytest.param({"spec__names__plural": "CronTabs", "metadata__name": "CronTabs.stable.example.com"},
                 'spec.names.plural: Invalid value: "CronTabs": a DNS-1035 label must consist of lower case',
                 id="the plural must be a DNS-1035 label"),
    pytest.param({"spec__names__listKind": "CronTab"},
                 'spec.names.listKind: Invalid value: "CronTab": kind and listKind may not be the same',
                 id="kind and listKind must differ"),
    pytest.param({"spec__versions__0__additionalPrinterColumns": [{"name": "X", "type": "text", "jsonPath": ".spec.x"}]},
                 'spec.additionalPrinterColumns[0].type: Invalid value: "text": must be one of boolean,date,integer,number,string',
                 id="a printer column needs a known type"),
    pytest.param({"spec__versions__0__additionalPrinterColumns": [{"name": "X", "type": "string", "jsonPath": "spec.x"}]},
                 'spec.additionalPrinterColumns[0].JSONPath: Invalid value: "spec.x": must be a simple json path starting with .',
                 id="a printer column path starts with a dot"),
    pytest.param({"spec__versions__0__subresources": {"scale": {"specReplicasPath": ".replicas",
                                                               "statusReplicasPath": ".status.replicas"}}},
                 'spec.subresources.scale.specReplicasPath: Invalid value: ".replicas": should be a json path under .spec',
                 id="the scale spec path must be under spec"),
    pytest.param({"spec__versions__0__selectableFields": [{"jsonPath": ".spec.nope"}]},
                 'spec.selectableFields[0].jsonPath: Invalid value: ".spec.nope": is an invalid path',
                 id="a selectable field must exist in the schema"),
    pytest.param({"spec__preserveUnknownFields": True},
                 "spec.preserveUnknownFields: Invalid value: true: cannot set to true",
                 id="preserveUnknownFields true is rejected in v1"),
]


@pytest.mark.parametrize(("changes", "expected"), CRD_CASES)
def test_crd_validation(changes: dict[str, Any], expected: str) -> None:
    got = texts(validate_crd(make_crd(**changes)))
    assert any(t.startswith(expected) for t in got), got


def test_a_valid_crd_passes_and_is_defaulted() -> None:
    crd = make_crd()
    assert validate_crd(crd) == []
    assert crd["spec"]["names"]["singular"] == "crontab"
    assert crd["spec"]["names"]["listKind"] == "CronTabList"
    assert crd["spec"]["conversion"] == {"strategy": "None"}


def test_the_validation_table_knows_crds() -> None:
    crd = make_crd(metadata__name="wrong.stable.example.com")
    assert validation.validate_create("apiextensions.k8s.io", "CustomResourceDefinition", crd)


def test_several_versions_with_different_schemas_report_per_version_paths() -> None:
    crd = make_crd()
    v2 = copy.deepcopy(crd["spec"]["versions"][0])
    v2.update(name="v2", storage=False)
    v2["schema"]["openAPIV3Schema"]["properties"]["spec"] = {"properties": {}}
    crd["spec"]["versions"].append(v2)
    got = texts(validate_crd(crd))
    assert ("spec.versions[1].schema.openAPIV3Schema.properties[spec].type: Required value: "
            "must not be empty for specified object fields") in got


def test_group_and_plural_are_immutable() -> None:
    old = make_crd()
    old["metadata"]["resourceVersion"] = "1"
    new = copy.deepcopy(old)
    new["spec"]["group"] = "other.example.com"
    got = texts(validate_crd_update(new, old))
    assert 'spec.group: Invalid value: "other.example.com": field is immutable' in got


# -- custom resource validation ------------------------------------------------------------
CR_SCHEMA = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "required": ["cronSpec"],
            "properties": {
                "cronSpec": {"type": "string", "pattern": r"^(\d+|\*)(/\d+)?(\s+(\d+|\*)(/\d+)?){4}$"},
                "image": {"type": "string", "enum": ["nginx", "busybox"]},
                "replicas": {"type": "integer", "minimum": 1, "maximum": 10},
                "name": {"type": "string", "minLength": 2, "maxLength": 5},
                "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 2},
                "when": {"type": "string", "format": "date-time"},
                "note": {"type": "string", "nullable": True},
                "port": {"x-kubernetes-int-or-string": True},
            },
        },
    },
}


def cr(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": "stable.example.com/v1", "kind": "CronTab", "metadata": {"name": "x"},
            "spec": {"cronSpec": "* * * * */5", **spec}}


CR_CASES = [
    pytest.param(cr(replicas="three"),
                 'spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"',
                 "FieldValueTypeInvalid", id="a wrong type is a type error"),
    pytest.param({**cr(), "spec": {}}, "spec.cronSpec: Required value", "FieldValueRequired",
                 id="a missing required field"),
    pytest.param(cr(image="alpine"), 'spec.image: Unsupported value: "alpine": supported values: "nginx", "busybox"',
                 "FieldValueNotSupported", id="a value outside the enum"),
    pytest.param(cr(cronSpec="bad"),
                 "spec.cronSpec: Invalid value: \"bad\": spec.cronSpec in body should match "
                 r"'^(\d+|\*)(/\d+)?(\s+(\d+|\*)(/\d+)?){4}$'", "FieldValueInvalid", id="a pattern mismatch"),
    pytest.param(cr(replicas=0), "spec.replicas: Invalid value: 0: spec.replicas in body should be greater than or equal to 1",
                 "FieldValueInvalid", id="below the minimum"),
    pytest.param(cr(replicas=11), "spec.replicas: Invalid value: 11: spec.replicas in body should be less than or equal to 10",
                 "FieldValueInvalid", id="above the maximum"),
    pytest.param(cr(name="a"), 'spec.name: Invalid value: "a": spec.name in body should be at least 2 chars long',
                 "FieldValueInvalid", id="shorter than minLength"),
    pytest.param(cr(name="abcdef"), "spec.name: Too long: may not be more than 5 bytes", "FieldValueTooLong",
                 id="longer than maxLength"),
    pytest.param(cr(tags=[]), "spec.tags: Invalid value: []: spec.tags in body should have at least 1 items",
                 "FieldValueInvalid", id="fewer items than minItems"),
    pytest.param(cr(tags=["a", "b", "c"]), "spec.tags: Too many: 3: must have at most 2 items", "FieldValueTooMany",
                 id="more items than maxItems"),
    pytest.param(cr(when="yesterday"),
                 'spec.when: Invalid value: "yesterday": spec.when in body must be of type date-time: "yesterday"',
                 "FieldValueTypeInvalid", id="a malformed date-time"),
    pytest.param(cr(port=[1]),
                 'spec.port: Invalid value: "array": spec.port in body must be of type integer,string: "array"',
                 "FieldValueTypeInvalid", id="int-or-string takes neither a list"),
]


@pytest.mark.parametrize(("obj", "expected", "reason"), CR_CASES)
def test_custom_resource_validation_messages(obj: dict[str, Any], expected: str, reason: str) -> None:
    errs = CustomResourceSchema(CR_SCHEMA).validate(obj)
    assert [(e.text, e.reason) for e in errs] == [(expected, reason)]


@pytest.mark.parametrize("spec", [
    pytest.param({"note": None}, id="null is fine where nullable"),
    pytest.param({"port": 80}, id="int-or-string takes an integer"),
    pytest.param({"port": "http"}, id="int-or-string takes a string"),
    pytest.param({"when": "2024-05-01T10:00:00Z", "replicas": 3.0}, id="a date-time and an integral float"),
])
def test_valid_custom_resources_pass(spec: dict[str, Any]) -> None:
    assert CustomResourceSchema(CR_SCHEMA).validate(cr(**spec)) == []


# -- pruning --------------------------------------------------------------------------------
PRUNE_SCHEMA = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "properties": {
                "known": {"type": "string"},
                "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True,
                         "properties": {"strict": {"type": "object", "properties": {"a": {"type": "string"}}}}},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "list": {"type": "array", "items": {"type": "object", "properties": {"n": {"type": "string"}}}},
                "template": {"type": "object", "x-kubernetes-embedded-resource": True,
                             "properties": {"spec": {"type": "object", "properties": {"x": {"type": "string"}}}}},
            },
        },
    },
}


def test_pruning_drops_undeclared_fields_and_reports_their_paths() -> None:
    obj = {
        "apiVersion": "g/v1", "kind": "K", "metadata": {"name": "a", "bogus": 1}, "top": 1,
        "spec": {
            "known": "k", "unknown": 1,
            "free": {"anything": {"goes": True}, "strict": {"a": "x", "b": "y"}},
            "labels": {"x": "1", "y": "2"},
            "list": [{"n": "a", "m": "b"}],
            "template": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"x": "1", "y": "2"}},
        },
    }
    pruned = CustomResourceSchema(PRUNE_SCHEMA).prune(obj)
    assert sorted(pruned) == sorted([
        "metadata.bogus", "top", "spec.unknown", "spec.free.strict.b", "spec.list[0].m", "spec.template.spec.y",
    ])
    assert obj["spec"]["free"]["anything"] == {"goes": True}
    assert obj["spec"]["labels"] == {"x": "1", "y": "2"}
    assert obj["spec"]["template"]["apiVersion"] == "v1" and obj["spec"]["template"]["metadata"] == {"name": "p"}
    assert obj["apiVersion"] == "g/v1" and obj["metadata"] == {"name": "a"}


# -- defaulting -----------------------------------------------------------------------------
DEFAULT_SCHEMA = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "default": {},
            "properties": {
                "replicas": {"type": "integer", "default": 1},
                "strategy": {"type": "object", "default": {"type": "Rolling"},
                             "properties": {"type": {"type": "string"}, "maxSurge": {"type": "integer", "default": 25}}},
                "ports": {"type": "array", "items": {"type": "object", "properties": {
                    "protocol": {"type": "string", "default": "TCP"}, "port": {"type": "integer"}}}},
                "name": {"type": "string"},
            },
        },
    },
}


@pytest.mark.parametrize(("spec", "expected"), [
    pytest.param(None, {"replicas": 1, "strategy": {"type": "Rolling", "maxSurge": 25}}, id="a missing spec is defaulted whole"),
    pytest.param({"replicas": 3}, {"replicas": 3, "strategy": {"type": "Rolling", "maxSurge": 25}},
                 id="set values are kept and defaults fill the rest"),
    pytest.param({"ports": [{"port": 80}]}, {"replicas": 1, "strategy": {"type": "Rolling", "maxSurge": 25},
                                              "ports": [{"port": 80, "protocol": "TCP"}]}, id="list items are defaulted"),
    pytest.param({"replicas": None, "name": None}, {"replicas": 1, "strategy": {"type": "Rolling", "maxSurge": 25}},
                 id="nulls take the default or disappear"),
])
def test_defaulting(spec: Any, expected: dict[str, Any]) -> None:
    obj: dict[str, Any] = {"apiVersion": "g/v1", "kind": "K", "metadata": {"name": "a"}}
    if spec is not None:
        obj["spec"] = spec
    schema = CustomResourceSchema(DEFAULT_SCHEMA)
    assert schema.needs_defaults(obj)
    assert schema.default(obj) is True
    assert obj["spec"] == expected
    assert not schema.needs_defaults(obj)


def test_defaults_are_private_copies() -> None:
    schema = CustomResourceSchema(DEFAULT_SCHEMA)
    a: dict[str, Any] = {"metadata": {}}
    b: dict[str, Any] = {"metadata": {}}
    schema.default(a)
    schema.default(b)
    a["spec"]["strategy"]["type"] = "changed"
    assert b["spec"]["strategy"]["type"] == "Rolling"


# -- CEL rules ------------------------------------------------------------------------------
def cel_schema(*rules: dict[str, Any], where: str = "spec") -> dict[str, Any]:
    spec: dict[str, Any] = {"type": "object", "properties": {
        "replicas": {"type": "integer"}, "maxReplicas": {"type": "integer"}, "name": {"type": "string"},
        "items": {"type": "array", "items": {"type": "string"}}}}
    if where == "spec":
        spec["x-kubernetes-validations"] = list(rules)
        return {"type": "object", "properties": {"spec": spec}}
    return {"type": "object", "properties": {"spec": spec}, "x-kubernetes-validations": list(rules)}


CEL_CASES = [
    pytest.param(cel_schema({"rule": "self.replicas <= self.maxReplicas",
                             "message": "replicas should be smaller than or equal to maxReplicas."}),
                 {"replicas": 5, "maxReplicas": 3}, None,
                 ['spec: Invalid value: "object": replicas should be smaller than or equal to maxReplicas.'],
                 id="a failing rule reports its message on the object"),
    pytest.param(cel_schema({"rule": "self.replicas <= self.maxReplicas"}), {"replicas": 5, "maxReplicas": 3}, None,
                 ['spec: Invalid value: "object": failed rule: self.replicas <= self.maxReplicas'],
                 id="without a message the rule itself is quoted"),
    pytest.param(cel_schema({"rule": "self.replicas <= self.maxReplicas"}), {"replicas": 1, "maxReplicas": 3}, None, [],
                 id="a passing rule reports nothing"),
    pytest.param(cel_schema({"rule": "self.size() < 2"}), {"name": "abc", "replicas": 1}, None,
                 ['spec: Invalid value: "object": failed rule: self.size() < 2'], id="maps have a size too"),
    pytest.param(cel_schema({"rule": "self.replicas > 0"}), {"maxReplicas": 3}, None,
                 ['spec: Invalid value: "object": no such key: replicas evaluating rule: self.replicas > 0'],
                 id="a missing field is an evaluation error"),
    pytest.param(cel_schema({"rule": "self.replicas >= oldSelf.replicas", "message": "replicas may not shrink"}),
                 {"replicas": 1}, {"replicas": 3},
                 ['spec: Invalid value: "object": replicas may not shrink'], id="a transition rule sees oldSelf"),
    pytest.param(cel_schema({"rule": "self.replicas >= oldSelf.replicas"}), {"replicas": 1}, None, [],
                 id="transition rules are skipped on create"),
    pytest.param(cel_schema({"rule": "has(self.name)", "reason": "FieldValueRequired", "fieldPath": ".name",
                             "message": "name is needed"}), {}, None,
                 ["spec.name: Required value: name is needed"], id="reason and fieldPath shape the error"),
    pytest.param(cel_schema({"rule": "self.spec.replicas < 3", "messageExpression": "'got ' + string(self.spec.replicas)"},
                            where="root"),
                 {"replicas": 7}, None, ['<nil>: Invalid value: "object": got 7'],
                 id="a root rule reports <nil> with its messageExpression"),
]


@pytest.mark.parametrize(("schema", "spec", "old_spec", "expected"), CEL_CASES)
def test_cel_rules(schema: dict[str, Any], spec: dict[str, Any], old_spec: Any, expected: list[str] | None) -> None:
    obj = {"apiVersion": "g/v1", "kind": "K", "metadata": {"name": "a"}, "spec": spec}
    old = None if old_spec is None else {**obj, "spec": old_spec}
    got = texts(CustomResourceSchema(schema).validate(obj, old))
    if expected is None:
        assert got == []
    else:
        assert got == expected


def test_cel_rules_are_not_run_after_a_type_error() -> None:
    schema = cel_schema({"rule": "self.replicas <= self.maxReplicas"})
    obj = {"apiVersion": "g/v1", "kind": "K", "metadata": {"name": "a"}, "spec": {"replicas": "x", "maxReplicas": 1}}
    got = texts(CustomResourceSchema(schema).validate(obj))
    assert got[-1] == ('<nil>: Invalid value: "null": some validation rules were not checked because the object was '
                       "invalid; correct the existing errors to complete validation")
