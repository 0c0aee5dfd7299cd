import pytest
from multidict import MultiDict

from kubepy.apiserver.request_info import parse

CASES = [
    ("GET", "/api/v1/namespaces/default/pods", {}, ("list", "", "v1", "default", "pods", "", "")),
    ("GET", "/api/v1/pods", {"watch": "true"}, ("watch", "", "v1", "", "pods", "", "")),
    ("GET", "/api/v1/namespaces/ns/pods/p", {}, ("get", "", "v1", "ns", "pods", "p", "")),
    ("PUT", "/api/v1/namespaces/ns/pods/p/status", {}, ("update", "", "v1", "ns", "pods", "p", "status")),
    ("POST", "/apis/apps/v1/namespaces/ns/deployments", {}, ("create", "apps", "v1", "ns", "deployments", "", "")),
    ("PATCH", "/apis/apps/v1/namespaces/ns/deployments/d/scale", {}, ("patch", "apps", "v1", "ns", "deployments", "d", "scale")),
    ("DELETE", "/api/v1/namespaces/ns/configmaps", {}, ("deletecollection", "", "v1", "ns", "configmaps", "", "")),
    ("GET", "/api/v1/namespaces/kube-system", {}, ("get", "", "v1", "kube-system", "namespaces", "kube-system", "")),
    ("PUT", "/api/v1/namespaces/x/finalize", {}, ("update", "", "v1", "x", "namespaces", "x", "finalize")),
    ("GET", "/api/v1/namespaces", {}, ("list", "", "v1", "", "namespaces", "", "")),
    ("GET", "/api/v1/nodes/n1", {}, ("get", "", "v1", "", "nodes", "n1", "")),
    ("GET", "/api/v1/watch/namespaces/ns/pods", {}, ("watch", "", "v1", "ns", "pods", "", "")),
]


@pytest.mark.parametrize("method,path,query,want", CASES, ids=[f"{c[0]} {c[1]}" for c in CASES])
def test_resource_requests_are_parsed_like_upstream(method, path, query, want):
    info = parse(method, path, MultiDict(query))
    assert info.is_resource
    got = (info.verb, info.group, info.version, info.namespace, info.resource, info.name, info.subresource)
    assert got == want


@pytest.mark.parametrize("path", ["/version", "/healthz", "/api", "/apis", "/apis/apps", "/apis/apps/v1", "/openapi/v3"])
def test_non_resource_paths_are_not_resources(path):
    assert not parse("GET", path, MultiDict()).is_resource
