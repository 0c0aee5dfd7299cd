"""Label and field selectors (kubepy.api.selectors), against upstream apimachinery's behaviour."""

from __future__ import annotations

from typing import Any

import pytest

from kubepy.api.selectors import (
    EVERYTHING,
    NOTHING,
    SelectorError,
    escape_field_value,
    field_value,
    from_label_selector_dict,
    parse_field_selector,
    parse_label_selector,
    selector_to_string,
)

QUALIFIED_NAME_ERR = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
    "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
LABEL_VALUE_ERR = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    "'my_value',  or '12345', regex used for validation is "
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        pytest.param("", "", id="an empty selector parses to nothing to check"),
        pytest.param("   ", "", id="a blank selector parses to nothing to check"),
        pytest.param("a=b", "a=b", id="equality"),
        pytest.param("a==b", "a==b", id="double equals keeps its spelling"),
        pytest.param("a!=b", "a!=b", id="inequality"),
        pytest.param("a in (y,x,x)", "a in (x,y)", id="set values are sorted and de-duplicated"),
        pytest.param("a notin (x)", "a notin (x)", id="notin"),
        pytest.param("a", "a", id="a bare key means exists"),
        pytest.param("!a", "!a", id="a bang means does not exist"),
        pytest.param("a>1,b<10", "a>1,b<10", id="greater and less than"),
        pytest.param("b=2,a=1", "a=1,b=2", id="requirements are sorted by key"),
        pytest.param(" env in ( prod , dev ) , tier ", "env in (dev,prod),tier", id="whitespace between tokens is ignored"),
        pytest.param("a=", "a=", id="an empty exact value is allowed"),
        pytest.param("a in ()", "a in ()", id="an empty set means the empty value"),
        pytest.param("a in (,x)", "a in (,x)", id="a leading comma in a set adds the empty value"),
        pytest.param("in in (notin)", "in in (notin)", id="keywords are plain words in key and value positions"),
        pytest.param("example.com/app=web", "example.com/app=web", id="prefixed keys"),
        pytest.param("a=b,a!=c", "a=b,a!=c", id="one key may appear twice"),
    ],
)
def test_label_selector_parses(text: str, canonical: str) -> None:
    assert str(parse_label_selector(text)) == canonical


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("a in", "unable to parse requirement: found '' expected: '('", id="in without a set"),
        pytest.param("a in x", "unable to parse requirement: found 'x' expected: '('", id="in without parentheses"),
        pytest.param("a in (x y)", "unable to parse requirement: found 'y', expected: ',' or ')'",
                     id="set values need commas"),
        pytest.param("a in (x", "unable to parse requirement: found '', expected: ',' or ')'", id="unclosed set"),
        pytest.param("a=b,", "found '', expected: identifier after ','", id="trailing comma"),
        pytest.param(",a", "found ',', expected: !, identifier, or 'end of string'", id="leading comma"),
        pytest.param("a b", "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt",
                     id="missing operator"),
        pytest.param("!a=b", "found '=', expected: ',' or 'end of string'", id="does-not-exist takes no value"),
        pytest.param("a=b=c", "found '=', expected: ',' or 'end of string'", id="two operators"),
        pytest.param("a=(b)", "unable to parse requirement: found '(', expected: identifier",
                     id="exact values are not sets"),
        pytest.param("!", "unable to parse requirement: found '', expected: identifier", id="a lone bang"),
        pytest.param("a>b", "unable to parse requirement: values[0]: Invalid value: \"b\": for 'Gt', 'Lt' "
                     "operators, the value must be an integer", id="gt needs an integer"),
        pytest.param("-a=b", "unable to parse requirement: <nil>: Invalid value: \"-a\": name part "
                     + QUALIFIED_NAME_ERR, id="keys must be qualified names"),
        pytest.param("a=-b", "unable to parse requirement: values[0][a]: Invalid value: \"-b\": "
                     + LABEL_VALUE_ERR, id="values must be label values"),
        pytest.param("a/b/c=d", "unable to parse requirement: <nil>: Invalid value: \"a/b/c\": a qualified name "
                     + QUALIFIED_NAME_ERR + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
                     id="keys have at most one slash"),
    ],
)
def test_label_selector_errors_match_upstream(text: str, message: str) -> None:
    with pytest.raises(SelectorError) as err:
        parse_label_selector(text)
    assert str(err.value) == message


@pytest.mark.parametrize(
    ("text", "labels", "expected"),
    [
        pytest.param("", None, True, id="the empty selector matches an object without labels"),
        pytest.param("a=b", {"a": "b"}, True, id="equality matches the same value"),
        pytest.param("a=b", {"a": "c"}, False, id="equality rejects another value"),
        pytest.param("a=b", {}, False, id="equality rejects a missing key"),
        pytest.param("a=b", None, False, id="equality rejects no labels at all"),
        pytest.param("a!=b", {}, True, id="inequality accepts a missing key"),
        pytest.param("a!=b", {"a": "b"}, False, id="inequality rejects the value"),
        pytest.param("a in (x,y)", {"a": "y"}, True, id="in accepts a member"),
        pytest.param("a in (x,y)", {"a": "z"}, False, id="in rejects a non-member"),
        pytest.param("a notin (x)", {}, True, id="notin accepts a missing key"),
        pytest.param("a notin (x)", {"a": "x"}, False, id="notin rejects a member"),
        pytest.param("a", {"a": ""}, True, id="exists accepts an empty value"),
        pytest.param("a", {"b": "1"}, False, id="exists rejects a missing key"),
        pytest.param("!a", {"b": "1"}, True, id="does-not-exist accepts a missing key"),
        pytest.param("!a", {"a": "1"}, False, id="does-not-exist rejects a present key"),
        pytest.param("a>1", {"a": "2"}, True, id="gt compares as integers"),
        pytest.param("a>1", {"a": "10"}, True, id="gt is numeric not lexical"),
        pytest.param("a>1", {"a": "1"}, False, id="gt is strict"),
        pytest.param("a>1", {"a": "x"}, False, id="gt rejects a non-integer label"),
        pytest.param("a>1", {}, False, id="gt rejects a missing key"),
        pytest.param("a<1", {"a": "-5"}, True, id="lt accepts negative labels"),
        pytest.param("a<1", {"a": " 0"}, False, id="labels with spaces are not integers"),
        pytest.param("a=b,c", {"a": "b"}, False, id="commas are AND"),
        pytest.param("a=b,c", {"a": "b", "c": "d"}, True, id="every requirement holds"),
        pytest.param("a in ()", {"a": ""}, True, id="an empty set matches the empty value"),
    ],
)
def test_label_selector_matches(text: str, labels: dict[str, str] | None, expected: bool) -> None:
    assert parse_label_selector(text).matches(labels) is expected


@pytest.mark.parametrize(
    ("selector", "printed", "labels", "expected"),
    [
        pytest.param(None, "<none>", {"a": "b"}, False, id="a missing selector selects nothing"),
        pytest.param({}, "<none>", {"a": "b"}, True, id="an empty selector selects everything"),
        pytest.param({"matchLabels": {"b": "1", "a": "2"}}, "a=2,b=1", {"a": "2", "b": "1"}, True,
                     id="match labels print sorted by key"),
        pytest.param({"matchExpressions": [{"key": "c", "operator": "In", "values": ["y", "x"]}]},
                     "c in (x,y)", {"c": "x"}, True, id="In"),
        pytest.param({"matchExpressions": [{"key": "c", "operator": "NotIn", "values": ["x"]}]},
                     "c notin (x)", {"c": "x"}, False, id="NotIn"),
        pytest.param({"matchExpressions": [{"key": "c", "operator": "Exists"}]}, "c", {"c": ""}, True,
                     id="Exists"),
        pytest.param({"matchLabels": {"a": "1"}, "matchExpressions": [{"key": "d", "operator": "DoesNotExist"}]},
                     "a=1,!d", {"a": "1", "d": "x"}, False, id="DoesNotExist together with match labels"),
    ],
)
def test_structured_selectors(selector: dict[str, Any] | None, printed: str, labels: dict[str, str],
                              expected: bool) -> None:
    assert selector_to_string(selector) == printed
    assert from_label_selector_dict(selector).matches(labels) is expected


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        pytest.param({"matchExpressions": [{"key": "a", "operator": "Foo"}]},
                     "\"Foo\" is not a valid label selector operator", id="unknown operator"),
        pytest.param({"matchExpressions": [{"key": "a", "operator": "In", "values": []}]},
                     "values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty",
                     id="In without values"),
        pytest.param({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]},
                     "values: Invalid value: []string{\"x\"}: values set must be empty for exists and does not exist",
                     id="Exists with values"),
        pytest.param({"matchLabels": {"a b": "c"}}, "key: Invalid value: \"a b\": name part " + QUALIFIED_NAME_ERR,
                     id="bad match label key"),
        pytest.param({"matchLabels": {"a": "-"}}, "values[0][a]: Invalid value: \"-\": " + LABEL_VALUE_ERR,
                     id="bad match label value"),
    ],
)
def test_structured_selector_errors(selector: dict[str, Any], message: str) -> None:
    with pytest.raises(SelectorError) as err:
        from_label_selector_dict(selector)
    assert str(err.value) == message
    assert selector_to_string(selector) == "<error>"


def test_everything_and_nothing() -> None:
    assert EVERYTHING.empty and EVERYTHING.matches({"x": "y"})
    assert not NOTHING.empty and not NOTHING.matches({}) and not NOTHING.matches(None)
    assert not parse_label_selector("a").empty


@pytest.mark.parametrize(
    ("text", "terms", "canonical"),
    [
        pytest.param("", [], "", id="empty"),
        pytest.param("metadata.name=foo", [("metadata.name", "=", "foo")], "metadata.name=foo", id="equality"),
        pytest.param("a==b", [("a", "=", "b")], "a=b", id="double equals is equality"),
        pytest.param("a!=b", [("a", "!=", "b")], "a!=b", id="inequality"),
        pytest.param("b=1,a=2", [("a", "=", "2"), ("b", "=", "1")], "a=2,b=1", id="terms are sorted"),
        pytest.param("a=", [("a", "=", "")], "a=", id="empty value"),
        pytest.param("a=b\\,c", [("a", "=", "b,c")], "a=b\\,c", id="escaped comma stays in the value"),
        pytest.param("a=x\\=y\\\\", [("a", "=", "x=y\\")], "a=x\\=y\\\\", id="escaped equals and backslash"),
        pytest.param("a=b,,c=d", [("a", "=", "b"), ("c", "=", "d")], "a=b,c=d", id="empty terms are skipped"),
    ],
)
def test_field_selector_parses(text: str, terms: list[tuple[str, str, str]], canonical: str) -> None:
    sel = parse_field_selector(text)
    assert [(r.field, r.operator, r.value) for r in sel.requirements] == terms
    assert str(sel) == canonical


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("a", "invalid selector: 'a'; can't understand 'a'", id="no operator"),
        pytest.param("x=1,a", "invalid selector: 'x=1,a'; can't understand 'a'", id="one bad term"),
        pytest.param("a=b=c", "invalid field selector: unescaped character in value: 61", id="unescaped equals"),
        pytest.param("a=b\\x", "invalid field selector: invalid escape sequence: \\x", id="unknown escape"),
        pytest.param("a=b\\", "invalid field selector: invalid escape sequence: \\", id="trailing backslash"),
    ],
)
def test_field_selector_errors(text: str, message: str) -> None:
    with pytest.raises(SelectorError) as err:
        parse_field_selector(text)
    assert str(err.value) == message


def test_field_selector_unsupported_names_the_first_unknown_field() -> None:
    allowed = {"metadata.name", "metadata.namespace", "spec.nodeName"}
    assert parse_field_selector("spec.nodeName=n1,metadata.name=x").unsupported(allowed) is None
    assert parse_field_selector("spec.nodeName=n1,spec.foo=x,spec.bar=y").unsupported(allowed) == "spec.bar"


def test_escape_round_trip() -> None:
    value = "a,b=c\\d"
    sel = parse_field_selector("f=" + escape_field_value(value))
    assert sel.requirements[0].value == value


POD = {
    "metadata": {"name": "p", "namespace": "ns"},
    "spec": {"nodeName": "n1", "restartPolicy": "Always", "schedulerName": "default-scheduler",
             "serviceAccountName": "default"},
    "status": {"phase": "Running", "podIP": "10.0.0.9", "podIPs": [{"ip": "10.0.0.5"}, {"ip": "fd00::5"}]},
}
EVENT = {
    "metadata": {"name": "e", "namespace": "ns"},
    "involvedObject": {"kind": "Pod", "name": "p", "namespace": "ns", "uid": "u1", "apiVersion": "v1",
                       "fieldPath": "spec.containers{c}"},
    "reason": "Started", "type": "Normal", "reportingComponent": "kubelet",
}


@pytest.mark.parametrize(
    ("obj", "field", "value"),
    [
        pytest.param(POD, "metadata.name", "p", id="metadata name"),
        pytest.param(POD, "metadata.namespace", "ns", id="metadata namespace"),
        pytest.param(POD, "spec.nodeName", "n1", id="pod node name"),
        pytest.param({"spec": {}}, "spec.nodeName", "", id="an unset field reads as empty"),
        pytest.param(POD, "status.podIP", "10.0.0.5", id="pod IP is the first of podIPs"),
        pytest.param({"status": {"podIP": "1.2.3.4"}}, "status.podIP", "", id="pod IP without podIPs is empty"),
        pytest.param(POD, "spec.hostNetwork", "false", id="host network defaults to false"),
        pytest.param({"spec": {"hostNetwork": True}}, "spec.hostNetwork", "true", id="host network true"),
        pytest.param({"spec": {}}, "spec.unschedulable", "false", id="node unschedulable defaults to false"),
        pytest.param({"spec": {"unschedulable": True}}, "spec.unschedulable", "true", id="node unschedulable"),
        pytest.param(POD, "status.phase", "Running", id="phase"),
        pytest.param(EVENT, "involvedObject.fieldPath", "spec.containers{c}", id="event involved object"),
        pytest.param(EVENT, "source", "kubelet", id="event source falls back to the reporting component"),
        pytest.param({**EVENT, "source": {"component": "scheduler"}}, "source", "scheduler",
                     id="event source component"),
        pytest.param(EVENT, "reportingComponent", "kubelet", id="reporting component"),
        pytest.param({"status": {"succeeded": 3}}, "status.successful", "3", id="job successful reads succeeded"),
        pytest.param({"status": {}}, "status.successful", "0", id="job successful defaults to zero"),
        pytest.param({"status": {"replicas": 2}}, "status.replicas", "2", id="replica counts print as integers"),
        pytest.param({"type": "kubernetes.io/tls"}, "type", "kubernetes.io/tls", id="secret type"),
    ],
)
def test_field_values(obj: dict[str, Any], field: str, value: str) -> None:
    assert field_value(obj, field) == value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("spec.nodeName=n1", True, id="equal value matches"),
        pytest.param("spec.nodeName=n2", False, id="other value does not match"),
        pytest.param("spec.nodeName!=n2,status.phase=Running", True, id="inequality and equality together"),
        pytest.param("spec.nodeName=", False, id="empty value matches only unset fields"),
        pytest.param("status.nominatedNodeName=", True, id="an unset field equals the empty value"),
        pytest.param("spec.hostNetwork=false", True, id="booleans compare as text"),
    ],
)
def test_field_selector_matches(text: str, expected: bool) -> None:
    sel = parse_field_selector(text)
    assert sel.matches(POD) is expected
    fields = {r.field: field_value(POD, r.field) for r in sel.requirements}
    assert sel.matches_fields(fields) is expected


def test_value_for_finds_a_name_equality() -> None:
    assert parse_field_selector("metadata.name=x,spec.nodeName=n").value_for("metadata.name") == "x"
    assert parse_field_selector("metadata.name!=x").value_for("metadata.name") is None
