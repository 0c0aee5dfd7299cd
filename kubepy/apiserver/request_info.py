"""Parse a request path into what it addresses (upstream's RequestInfoFactory).

``/api/v1/namespaces/ns/pods/p/status`` → group "", version v1, namespace ns, resource
pods, name p, subresource status; the verb comes from the method and whether a name is
present (list vs get, deletecollection vs delete, watch from ``?watch=``).
"""

from __future__ import annotations

from dataclasses import dataclass

from multidict import MultiMapping


@dataclass(slots=True)
class RequestInfo:
    is_resource: bool
    path: str
    verb: str = ""
    api_prefix: str = ""
    group: str = ""
    version: str = ""
    namespace: str = ""
    resource: str = ""
    name: str = ""
    subresource: str = ""
    parts: tuple[str, ...] = ()


_METHOD_VERBS = {"POST": "create", "GET": "get", "HEAD": "get", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}


def parse(method: str, path: str, query: MultiMapping[str]) -> RequestInfo:
    info = RequestInfo(is_resource=False, path=path, verb=method.lower())
    parts = [p for p in path.strip("/").split("/") if p]
    if not parts or parts[0] not in ("api", "apis"):
        return info
    prefix = parts[0]
    rest = parts[1:]
    if prefix == "api":
        if not rest:
            return info
        group, version, rest = "", rest[0], rest[1:]
    else:
        if len(rest) < 2:
            return info
        group, version, rest = rest[0], rest[1], rest[2:]
    if not rest:
        return info
    info.api_prefix, info.group, info.version = prefix, group, version
    verb = _METHOD_VERBS.get(method.upper(), "")
    if rest[0] == "watch":  # legacy /watch/ paths
        rest = rest[1:]
        verb = "watch"
    if len(rest) >= 2 and rest[0] == "namespaces":
        if len(rest) == 2 or (len(rest) == 3 and rest[2] in ("status", "finalize")):
            # /namespaces/<name>[/status|/finalize] addresses the namespace itself
            # upstream also reports the namespace itself as the request's namespace
            info.resource, info.name, info.namespace = "namespaces", rest[1], rest[1]
            info.subresource = rest[2] if len(rest) == 3 else ""
            rest = []
        else:
            info.namespace = rest[1]
            rest = rest[2:]
    if rest:
        info.resource = rest[0]
        if len(rest) > 1:
            info.name = rest[1]
        if len(rest) > 2:
            info.subresource = rest[2]
        info.parts = tuple(rest[3:])
    if not info.resource:
        return info
    info.is_resource = True
    if not info.name and verb in ("get", "delete"):
        verb = "list" if verb == "get" else "deletecollection"
    if verb in ("list", "get") and query.get("watch", "") in ("true", "1"):
        verb = "watch"
    info.verb = verb
    return info
