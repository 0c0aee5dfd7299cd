"""The served OpenAPI documents: /openapi/v3 (root + one per group/version) and /openapi/v2.

kubectl depends on these in three ways (kube-api-compat.md §3): ``apply/create/replace -f``
trust server-side validation only when the PATCH operation of the kind lists a
``fieldValidation`` parameter; ``apply`` on an existing object computes its strategic-merge
patch from the kind's ``components.schemas`` entry (found by its
``x-kubernetes-group-version-kind`` list) and the ``application/strategic-merge-patch+json``
content of that PATCH; ``explain`` walks ``components.schemas`` through ``allOf``/``$ref``.

Design:
- Pure functions of the resource ``Registry`` and the upstream definitions
  (``kubepy.api.openapi_defs``); no HTTP here. Routes call ``root_v3``,
  ``group_version_v3`` and ``v2_json``.
- Operations are first described once in a neutral form (``_Operation``) and then rendered
  as OpenAPI 3.0 or Swagger 2.0, so both documents always list the same paths.
- Documents are built lazily, per group/version, on first request, and cached as encoded
  bytes with their hash (upper-case hex SHA-512 of the bytes, as upstream kube-openapi's
  handler3 computes ETags). A cached document is rebuilt when the set of resources of its
  group/version changes; ``invalidate()`` drops everything (for changed CRD schemas).
- Custom resources (``ResourceInfo.schema == ""``) take their schema from
  ``info.extra["openapiV3Schema"]`` when present (else a schema that preserves unknown
  fields), named like upstream does (reversed group + version + kind), and advertise no
  strategic merge patch.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import orjson

from kubepy.api import openapi_defs
from kubepy.api.resources import Registry, ResourceInfo

__all__ = ["OpenAPIDocuments", "compute_hash", "gv_path", "operation_id_prefix"]

Schema = dict[str, Any]

_META = "io.k8s.apimachinery.pkg.apis.meta.v1."
OBJECT_META = _META + "ObjectMeta"
LIST_META = _META + "ListMeta"
STATUS = _META + "Status"
DELETE_OPTIONS = _META + "DeleteOptions"
PATCH = _META + "Patch"
WATCH_EVENT = _META + "WatchEvent"
API_RESOURCE_LIST = _META + "APIResourceList"

JSON = "application/json"
YAML = "application/yaml"
PROTOBUF = "application/vnd.kubernetes.protobuf"
OBJECT_MEDIA = (JSON, YAML, PROTOBUF)
LIST_MEDIA = (JSON, YAML, PROTOBUF, JSON + ";stream=watch", PROTOBUF + ";stream=watch")
WATCH_MEDIA = (JSON, YAML, PROTOBUF, JSON + ";stream=watch", PROTOBUF + ";stream=watch")
BUILTIN_PATCH_MEDIA = (
    "application/apply-patch+yaml",
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
)
CUSTOM_PATCH_MEDIA = (
    "application/apply-patch+yaml",
    "application/json-patch+json",
    "application/merge-patch+json",
)

_SCHEMA_KEYS_WITH_SUBSCHEMA = ("items", "additionalProperties", "not")
_SCHEMA_KEYS_WITH_SUBSCHEMA_LIST = ("allOf", "anyOf", "oneOf")


def compute_hash(data: bytes) -> str:
    """Upper-case hex SHA-512, the ETag/``hash`` format of upstream's /openapi/v3."""
    return hashlib.sha512(data).hexdigest().upper()


def gv_path(group: str, version: str) -> str:
    """``api/v1`` or ``apis/apps/v1``: a /openapi/v3 root key (no leading slash)."""
    return f"apis/{group}/{version}" if group else f"api/{version}"


def _camel(words: Iterable[str]) -> str:
    return "".join(w[:1].upper() + w[1:] for w in words if w)


def operation_id_prefix(group: str, version: str) -> str:
    """``CoreV1``, ``AppsV1``, ``RbacAuthorizationV1``: the group/version part of upstream's
    operation ids (``.k8s.io`` dropped, the rest camel-cased by dot and dash)."""
    if not group:
        return "Core" + _camel([version])
    g = group[: -len(".k8s.io")] if group.endswith(".k8s.io") else group
    return _camel(g.replace("-", ".").split(".")) + _camel([version])


def _tag(group: str, version: str) -> str:
    if not group:
        return f"core_{version}"
    g = group[: -len(".k8s.io")] if group.endswith(".k8s.io") else group
    return f"{g.replace('.', '_').replace('-', '_')}_{version}"


def _custom_schema_name(group: str, version: str, kind: str) -> str:
    return ".".join([*reversed(group.split(".")), version, kind]) if group else f"{version}.{kind}"


# --------------------------------------------------------------------------------------
# Parameters


@dataclass(frozen=True, slots=True)
class _Param:
    name: str
    where: str  # "path" | "query"
    type: str
    description: str
    required: bool = False


def _q(name: str, type_: str, description: str) -> _Param:
    return _Param(name, "query", type_, description)


P_PRETTY = _q("pretty", "string", "If 'true', then the output is pretty printed.")
P_DRY_RUN = _q(
    "dryRun", "string",
    "When present, the request is fully validated and admitted but nothing is persisted. "
    "The only valid value is All.",
)
P_FIELD_MANAGER = _q(
    "fieldManager", "string",
    "Name of the actor making the change, recorded in managedFields; at most 128 printable "
    "characters. Required for apply patches.",
)
P_FIELD_VALIDATION = _q(
    "fieldValidation", "string",
    "How the server treats unknown and duplicate fields in the body: Ignore (drop them), "
    "Warn (drop them and answer with a warning header per field; the default) or Strict "
    "(fail the request with BadRequest).",
)
P_FORCE = _q(
    "force", "boolean",
    "Apply patches only: take ownership of fields that other managers own instead of "
    "failing with a conflict. Must be unset for other patch types.",
)
P_GRACE = _q(
    "gracePeriodSeconds", "integer",
    "Seconds before the object is deleted; zero means immediately. Unset uses the default "
    "of the type.",
)
P_ORPHAN = _q(
    "orphanDependents", "boolean",
    "Deprecated, use propagationPolicy. Whether dependents are orphaned (adds or removes "
    "the orphan finalizer).",
)
P_PROPAGATION = _q(
    "propagationPolicy", "string",
    "Garbage collection of dependents: Orphan, Background or Foreground.",
)
P_LABEL_SELECTOR = _q("labelSelector", "string", "Restrict the returned objects by their labels. Defaults to everything.")
P_FIELD_SELECTOR = _q("fieldSelector", "string", "Restrict the returned objects by their fields. Defaults to everything.")
P_LIMIT = _q(
    "limit", "integer",
    "Maximum number of items to return; when more exist, metadata.continue holds a token "
    "for the next page. Not supported with watch.",
)
P_CONTINUE = _q(
    "continue", "string",
    "Token from a previous list's metadata.continue, to fetch the next page with otherwise "
    "identical parameters. An expired token answers 410 Gone.",
)
P_RESOURCE_VERSION = _q(
    "resourceVersion", "string",
    "Constrains which resource versions the request may be served from. Defaults to unset.",
)
P_RESOURCE_VERSION_MATCH = _q(
    "resourceVersionMatch", "string",
    "How resourceVersion applies to a list: NotOlderThan or Exact. Defaults to unset.",
)
P_SEND_INITIAL_EVENTS = _q(
    "sendInitialEvents", "boolean",
    "With watch=true and resourceVersionMatch=NotOlderThan: start the watch with synthetic "
    "ADDED events for the current state, followed by a bookmark annotated "
    "\"k8s.io/initial-events-end\".",
)
P_TIMEOUT_SECONDS = _q("timeoutSeconds", "integer", "Ends the list/watch call after this many seconds.")
P_WATCH = _q(
    "watch", "boolean",
    "Watch for changes to the described resources and return them as a stream of "
    "notifications. Specify resourceVersion.",
)
P_ALLOW_BOOKMARKS = _q(
    "allowWatchBookmarks", "boolean",
    "Request BOOKMARK watch events. Servers send them at their own discretion. Ignored "
    "unless watching.",
)

LIST_PARAMS = (
    P_ALLOW_BOOKMARKS, P_CONTINUE, P_FIELD_SELECTOR, P_LABEL_SELECTOR, P_LIMIT,
    P_RESOURCE_VERSION, P_RESOURCE_VERSION_MATCH, P_SEND_INITIAL_EVENTS, P_TIMEOUT_SECONDS, P_WATCH,
)
WRITE_PARAMS = (P_DRY_RUN, P_FIELD_MANAGER, P_FIELD_VALIDATION)
PATCH_PARAMS = (P_DRY_RUN, P_FIELD_MANAGER, P_FIELD_VALIDATION, P_FORCE)
DELETE_PARAMS = (P_DRY_RUN, P_GRACE, P_ORPHAN, P_PROPAGATION)
DELETE_COLLECTION_PARAMS = (
    P_CONTINUE, P_DRY_RUN, P_FIELD_SELECTOR, P_GRACE, P_LABEL_SELECTOR, P_LIMIT, P_ORPHAN,
    P_PROPAGATION, P_RESOURCE_VERSION, P_RESOURCE_VERSION_MATCH, P_SEND_INITIAL_EVENTS,
    P_TIMEOUT_SECONDS,
)


def _path_param(name: str, description: str) -> _Param:
    return _Param(name, "path", "string", description, required=True)


# --------------------------------------------------------------------------------------
# Neutral description of paths and operations


@dataclass(kw_only=True, slots=True)
class _Operation:
    method: str  # get | put | post | patch | delete
    operation_id: str
    description: str
    action: str
    gvk: dict[str, str] | None
    params: tuple[_Param, ...] = ()
    #: Definition name of the request body; "" for none.
    body: str = ""
    body_media: tuple[str, ...] = (JSON, YAML, PROTOBUF)
    body_required: bool = True
    #: status code -> definition name ("" for a plain string body).
    responses: dict[str, str] = field(default_factory=dict)
    produces: tuple[str, ...] = OBJECT_MEDIA
    tag: str = ""


@dataclass(kw_only=True, slots=True)
class _Path:
    params: tuple[_Param, ...]
    ops: list[_Operation] = field(default_factory=list)


@dataclass(slots=True)
class _GroupVersionPlan:
    paths: dict[str, _Path]
    #: Definitions the document must carry (roots; reachable ones are added when rendering).
    roots: set[str]
    #: Definitions made up here (custom resources), by name.
    extra_defs: dict[str, Schema]


def _gvk(group: str, version: str, kind: str) -> dict[str, str]:
    return {"group": group, "kind": kind, "version": version}


class _Planner:
    """Turns the resources of one group/version into paths and operations."""

    def __init__(self, defs: Mapping[str, Schema], gvk_index: Mapping[tuple[str, str, str], str]) -> None:
        self._defs = defs
        self._gvk_index = gvk_index

    def plan(self, group: str, version: str, infos: list[ResourceInfo]) -> _GroupVersionPlan:
        prefix = "/" + gv_path(group, version)
        gv = operation_id_prefix(group, version)
        tag = _tag(group, version)
        paths: dict[str, _Path] = {}
        roots: set[str] = {STATUS, DELETE_OPTIONS, PATCH, WATCH_EVENT, API_RESOURCE_LIST}
        extra: dict[str, Schema] = {}

        paths[prefix + "/"] = _Path(params=(), ops=[_Operation(
            method="get", operation_id=f"get{gv}APIResources", description="get available resources",
            action="", gvk=None, responses={"200": API_RESOURCE_LIST}, produces=OBJECT_MEDIA, tag=tag,
        )])

        for info in sorted(infos, key=lambda i: i.plural):
            kind_schema, list_schema, custom = self._schemas(info, extra)
            roots.update((kind_schema, list_schema))
            self._resource(paths, roots, prefix, gv, tag, info, kind_schema, list_schema, custom)
        return _GroupVersionPlan(paths=paths, roots=roots, extra_defs=extra)

    def _schemas(self, info: ResourceInfo, extra: dict[str, Schema]) -> tuple[str, str, bool]:
        if info.schema and info.schema in self._defs:
            list_name = info.schema + "List"
            if list_name not in self._defs:
                list_name = self._custom_list(info, info.schema, extra)
            return info.schema, list_name, False
        name = info.schema or _custom_schema_name(info.group, info.version, info.kind)
        extra[name] = _custom_kind_schema(info)
        return name, self._custom_list(info, name, extra), True

    @staticmethod
    def _custom_list(info: ResourceInfo, item_schema: str, extra: dict[str, Schema]) -> str:
        name = item_schema + "List"
        extra[name] = {
            "description": f"{info.kind}List is a list of {info.kind}",
            "type": "object",
            "required": ["items"],
            "properties": {
                "apiVersion": {"type": "string", "description": _API_VERSION_DESC},
                "kind": {"type": "string", "description": _KIND_DESC},
                "items": {
                    "type": "array",
                    "description": f"List of {info.plural}.",
                    "items": {"$ref": item_schema},
                },
                "metadata": {"$ref": LIST_META, "description": "Standard list metadata."},
            },
            "x-kubernetes-group-version-kind": [_gvk(info.group, info.version, info.list_kind)],
        }
        return name

    def _sub_schema(self, info: ResourceInfo, group: str, version: str, kind: str) -> str:
        if (group, version, kind) == (info.group, info.version, info.kind):
            return ""  # the resource's own schema; caller substitutes
        return self._gvk_index.get((group, version, kind), "")

    def _resource(
        self,
        paths: dict[str, _Path],
        roots: set[str],
        prefix: str,
        gv: str,
        tag: str,
        info: ResourceInfo,
        kind_schema: str,
        list_schema: str,
        custom: bool,
    ) -> None:
        kind = info.kind
        verbs = set(info.verbs)
        ns_word = "Namespaced" if info.namespaced else ""
        gvk = _gvk(info.group, info.version, kind)
        patch_media = CUSTOM_PATCH_MEDIA if custom else BUILTIN_PATCH_MEDIA
        name_param = _path_param("name", f"name of the {kind}")
        ns_param = _path_param("namespace", "object name and auth scope, such as for teams and projects")
        coll_params = (ns_param, P_PRETTY) if info.namespaced else (P_PRETTY,)
        item_params = (name_param, ns_param, P_PRETTY) if info.namespaced else (name_param, P_PRETTY)
        base = f"{prefix}/namespaces/{{namespace}}/{info.plural}" if info.namespaced else f"{prefix}/{info.plural}"
        item = base + "/{name}"
        delete_answer = kind_schema if info.delete_returns_object else STATUS

        def op(**kw: Any) -> _Operation:
            kw.setdefault("tag", tag)
            kw.setdefault("gvk", gvk)
            return _Operation(**kw)

        coll = _Path(params=coll_params)
        if "list" in verbs:
            coll.ops.append(op(
                method="get", operation_id=f"list{gv}{ns_word}{kind}",
                description=f"list or watch objects of kind {kind}", action="list",
                params=LIST_PARAMS, responses={"200": list_schema}, produces=LIST_MEDIA,
            ))
        if "create" in verbs:
            coll.ops.append(op(
                method="post", operation_id=f"create{gv}{ns_word}{kind}", description=f"create a {kind}",
                action="post", params=WRITE_PARAMS, body=kind_schema,
                responses={"200": kind_schema, "201": kind_schema, "202": kind_schema},
            ))
        if "deletecollection" in verbs:
            coll.ops.append(op(
                method="delete", operation_id=f"delete{gv}Collection{ns_word}{kind}",
                description=f"delete collection of {kind}", action="deletecollection",
                params=DELETE_COLLECTION_PARAMS, body=DELETE_OPTIONS, body_media=(JSON,),
                body_required=False, responses={"200": STATUS},
            ))
        if coll.ops:
            paths[base] = coll

        one = _Path(params=item_params)
        if "get" in verbs:
            one.ops.append(op(
                method="get", operation_id=f"read{gv}{ns_word}{kind}",
                description=f"read the specified {kind}", action="get", responses={"200": kind_schema},
            ))
        if "update" in verbs:
            one.ops.append(op(
                method="put", operation_id=f"replace{gv}{ns_word}{kind}",
                description=f"replace the specified {kind}", action="put", params=WRITE_PARAMS,
                body=kind_schema, responses={"200": kind_schema, "201": kind_schema},
            ))
        if "patch" in verbs:
            one.ops.append(op(
                method="patch", operation_id=f"patch{gv}{ns_word}{kind}",
                description=f"partially update the specified {kind}", action="patch",
                params=PATCH_PARAMS, body=PATCH, body_media=patch_media,
                responses={"200": kind_schema, "201": kind_schema},
            ))
        if "delete" in verbs:
            one.ops.append(op(
                method="delete", operation_id=f"delete{gv}{ns_word}{kind}",
                description=f"delete a {kind}", action="delete", params=DELETE_PARAMS,
                body=DELETE_OPTIONS, body_media=(JSON,), body_required=False,
                responses={"200": delete_answer, "202": delete_answer},
            ))
        if one.ops:
            paths[item] = one

        if info.namespaced and "list" in verbs:
            paths[f"{prefix}/{info.plural}"] = _Path(params=(*LIST_PARAMS, P_PRETTY), ops=[op(
                method="get", operation_id=f"list{gv}{kind}ForAllNamespaces",
                description=f"list or watch objects of kind {kind}", action="list",
                responses={"200": list_schema}, produces=LIST_MEDIA,
            )])
        if "watch" in verbs:
            wbase = (f"{prefix}/watch/namespaces/{{namespace}}/{info.plural}" if info.namespaced
                     else f"{prefix}/watch/{info.plural}")
            paths[wbase] = _Path(params=(*LIST_PARAMS, *coll_params), ops=[op(
                method="get", operation_id=f"watch{gv}{ns_word}{kind}List",
                description=f"watch individual changes to a list of {kind}. deprecated: use the "
                            "'watch' parameter with a list operation instead.",
                action="watchlist", responses={"200": WATCH_EVENT}, produces=WATCH_MEDIA,
            )])
            paths[wbase + "/{name}"] = _Path(params=(*LIST_PARAMS, *item_params), ops=[op(
                method="get", operation_id=f"watch{gv}{ns_word}{kind}",
                description=f"watch changes to an object of kind {kind}. deprecated: use the "
                            "'watch' parameter with a list operation instead, filtered to a "
                            "single item with the 'fieldSelector' parameter.",
                action="watch", responses={"200": WATCH_EVENT}, produces=WATCH_MEDIA,
            )])
            if info.namespaced:
                paths[f"{prefix}/watch/{info.plural}"] = _Path(params=(*LIST_PARAMS, P_PRETTY), ops=[op(
                    method="get", operation_id=f"watch{gv}{kind}ListForAllNamespaces",
                    description=f"watch individual changes to a list of {kind}. deprecated: use "
                                "the 'watch' parameter with a list operation instead.",
                    action="watchlist", responses={"200": WATCH_EVENT}, produces=WATCH_MEDIA,
                )])

        for sub in info.subresources:
            sg = sub.group if sub.group is not None else info.group
            sv = sub.version if sub.version is not None else info.version
            sub_schema = self._sub_schema(info, sg, sv, sub.kind) or (
                kind_schema if sub.kind == kind else "")
            suffix = _camel(sub.name.replace("-", "_").split("_"))
            sgvk = _gvk(sg, sv, sub.kind)
            spath = _Path(params=item_params)
            sverbs = set(sub.verbs)
            if sub.kind.endswith("Options"):  # connect-style: exec, attach, log options, proxy
                for verb, method in (("get", "get"), ("create", "post")):
                    if verb in sverbs:
                        spath.ops.append(op(
                            method=method, operation_id=f"connect{method.capitalize()}{gv}{ns_word}{kind}{suffix}",
                            description=f"connect {method.upper()} requests to {sub.name} of {kind}",
                            action="connect", gvk=sgvk, responses={"200": ""}, produces=("*/*",),
                        ))
            else:
                if sub_schema:
                    roots.add(sub_schema)
                what = f"{sub.name} of the specified {kind}"
                if "get" in sverbs:
                    spath.ops.append(op(
                        method="get", operation_id=f"read{gv}{ns_word}{kind}{suffix}",
                        description=f"read {what}", action="get", gvk=sgvk,
                        responses={"200": sub_schema},
                    ))
                if "update" in sverbs:
                    spath.ops.append(op(
                        method="put", operation_id=f"replace{gv}{ns_word}{kind}{suffix}",
                        description=f"replace {what}", action="put", gvk=sgvk, params=WRITE_PARAMS,
                        body=sub_schema, responses={"200": sub_schema, "201": sub_schema},
                    ))
                if "patch" in sverbs:
                    spath.ops.append(op(
                        method="patch", operation_id=f"patch{gv}{ns_word}{kind}{suffix}",
                        description=f"partially update {what}", action="patch", gvk=sgvk,
                        params=PATCH_PARAMS, body=PATCH, body_media=patch_media,
                        responses={"200": sub_schema, "201": sub_schema},
                    ))
                if "create" in sverbs:
                    spath.ops.append(op(
                        method="post", operation_id=f"create{gv}{ns_word}{kind}{suffix}",
                        description=f"create {sub.name} of a {kind}", action="post", gvk=sgvk,
                        params=WRITE_PARAMS, body=sub_schema,
                        responses={"200": sub_schema, "201": sub_schema, "202": sub_schema},
                    ))
                if "delete" in sverbs:
                    spath.ops.append(op(
                        method="delete", operation_id=f"delete{gv}{ns_word}{kind}{suffix}",
                        description=f"delete {what}", action="delete", gvk=sgvk, params=DELETE_PARAMS,
                        body=DELETE_OPTIONS, body_media=(JSON,), body_required=False,
                        responses={"200": STATUS, "202": STATUS},
                    ))
            if spath.ops:
                paths[f"{item}/{sub.name}"] = spath


_API_VERSION_DESC = (
    "APIVersion defines the versioned schema of this representation of an object. Servers "
    "should convert recognized schemas to the latest internal value, and may reject "
    "unrecognized values. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources"
)
_KIND_DESC = (
    "Kind is a string value representing the REST resource this object represents. Servers "
    "may infer this from the endpoint the client submits requests to. Cannot be updated. In "
    "CamelCase. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds"
)


def _custom_kind_schema(info: ResourceInfo) -> Schema:
    """A custom resource's definition: its structural schema plus apiVersion/kind/metadata."""
    given = info.extra.get("openapiV3Schema")
    out: Schema = dict(given) if isinstance(given, dict) else {
        "type": "object", "x-kubernetes-preserve-unknown-fields": True}
    out.setdefault("type", "object")
    props = dict(out.get("properties") or {})
    props["apiVersion"] = {"type": "string", "description": _API_VERSION_DESC}
    props["kind"] = {"type": "string", "description": _KIND_DESC}
    props["metadata"] = {
        "$ref": OBJECT_META,
        "description": "Standard object's metadata. More info: "
        "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata",
    }
    out["properties"] = props
    out["x-kubernetes-group-version-kind"] = [_gvk(info.group, info.version, info.kind)]
    return out


# --------------------------------------------------------------------------------------
# Schema conversion


def _direct_refs(node: Any, out: set[str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                out.add(value)
            elif not key.startswith("x-"):
                _direct_refs(value, out)
    elif isinstance(node, list):
        for x in node:
            _direct_refs(x, out)


class _SchemaConverter:
    """Converts normalised definitions (bare ``$ref`` names) to a document's dialect."""

    def __init__(self, defs: Mapping[str, Schema]) -> None:
        self._defs = defs
        self._refs: dict[str, frozenset[str]] = {}
        self._v3: dict[str, Schema] = {}
        self._v2: dict[str, Schema] = {}

    def refs_of(self, name: str, schema: Schema | None = None) -> frozenset[str]:
        got = self._refs.get(name) if schema is None else None
        if got is None:
            found: set[str] = set()
            _direct_refs(schema if schema is not None else self._defs.get(name, {}), found)
            got = frozenset(found)
            if schema is None:
                self._refs[name] = got
        return got

    def closure(self, roots: Iterable[str], extra: Mapping[str, Schema]) -> list[str]:
        seen: set[str] = set()
        todo = [r for r in roots if r]
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            if name not in self._defs and name not in extra:
                continue
            seen.add(name)
            refs = self.refs_of(name, extra[name]) if name in extra else self.refs_of(name)
            todo.extend(r for r in refs if r not in seen)
        return sorted(seen)

    def v3(self, name: str, schema: Schema | None = None) -> Schema:
        if schema is not None:
            return _convert(schema, "#/components/schemas/", True, top=True)
        got = self._v3.get(name)
        if got is None:
            got = self._v3[name] = _convert(self._defs[name], "#/components/schemas/", True, top=True)
        return got

    def v2(self, name: str, schema: Schema | None = None) -> Schema:
        if schema is not None:
            return _convert(schema, "#/definitions/", False, top=True)
        got = self._v2.get(name)
        if got is None:
            got = self._v2[name] = _convert(self._defs[name], "#/definitions/", False, top=True)
        return got


def _convert(node: Schema, ref_prefix: str, wrap_refs: bool, *, top: bool = False) -> Schema:
    """One schema node in the target dialect.

    v3 (``wrap_refs``): a ``$ref`` with siblings becomes ``{"allOf": [{"$ref": ...}], ...}``
    (OpenAPI 3.0 ignores siblings of ``$ref``); v2 keeps the siblings, as upstream's v2 does.
    """
    out: Schema = {}
    ref = node.get("$ref")
    for key, value in node.items():
        if key == "$ref":
            continue
        if key == "properties" and isinstance(value, dict):
            props: Schema = {}
            for pname, pnode in value.items():
                if isinstance(pnode, dict):
                    converted = _convert(pnode, ref_prefix, wrap_refs)
                    if top and pname in ("apiVersion", "kind"):
                        # kubernetes-validate pins these with enums; upstream does not
                        converted.pop("enum", None)
                    props[pname] = converted
                else:
                    props[pname] = pnode
            out[key] = props
        elif key in _SCHEMA_KEYS_WITH_SUBSCHEMA and isinstance(value, dict):
            out[key] = _convert(value, ref_prefix, wrap_refs)
        elif key in _SCHEMA_KEYS_WITH_SUBSCHEMA_LIST and isinstance(value, list):
            out[key] = [_convert(v, ref_prefix, wrap_refs) if isinstance(v, dict) else v for v in value]
        else:
            out[key] = value
    if isinstance(ref, str):
        target = {"$ref": ref_prefix + ref}
        if not out:
            return target
        if wrap_refs:
            all_of = out.pop("allOf", [])
            return {"allOf": [target, *all_of], **out}
        return {"$ref": target["$ref"], **out}
    return out


# --------------------------------------------------------------------------------------
# Rendering


def _v3_param(p: _Param) -> Schema:
    out: Schema = {"name": p.name, "in": p.where, "description": p.description,
                   "schema": {"type": p.type, "uniqueItems": True}}
    if p.required:
        out["required"] = True
    return out


def _v2_param(p: _Param) -> Schema:
    out: Schema = {"name": p.name, "in": p.where, "description": p.description,
                   "type": p.type, "uniqueItems": True}
    if p.required:
        out["required"] = True
    return out


def _v3_ref(name: str) -> Schema:
    return {"$ref": "#/components/schemas/" + name} if name else {"type": "string"}


def _v2_ref(name: str) -> Schema:
    return {"$ref": "#/definitions/" + name} if name else {"type": "string"}


_RESPONSE_TEXT = {"200": "OK", "201": "Created", "202": "Accepted"}


def _v3_operation(o: _Operation) -> Schema:
    out: Schema = {"description": o.description, "operationId": o.operation_id, "tags": [o.tag]}
    if o.params:
        out["parameters"] = [_v3_param(p) for p in o.params]
    if o.body:
        schema = _v3_ref(o.body)
        out["requestBody"] = {"content": {m: {"schema": schema} for m in o.body_media}}
        if o.body_required:
            out["requestBody"]["required"] = True
    out["responses"] = {
        code: {"description": _RESPONSE_TEXT.get(code, "OK"),
               "content": {m: {"schema": _v3_ref(name)} for m in o.produces}}
        for code, name in o.responses.items()
    }
    out["responses"]["401"] = {"description": "Unauthorized"}
    if o.action:
        out["x-kubernetes-action"] = o.action
    if o.gvk is not None:
        out["x-kubernetes-group-version-kind"] = o.gvk
    return out


def _v2_operation(o: _Operation) -> Schema:
    out: Schema = {"description": o.description, "operationId": o.operation_id, "tags": [o.tag],
                   "schemes": ["https"], "produces": list(o.produces)}
    params = [_v2_param(p) for p in o.params]
    if o.body:
        body: Schema = {"name": "body", "in": "body", "schema": _v2_ref(o.body)}
        if o.body_required:
            body["required"] = True
        params.insert(0, body)
        out["consumes"] = list(o.body_media) if o.method == "patch" else ["*/*"]
    else:
        out["consumes"] = ["*/*"]
    if params:
        out["parameters"] = params
    out["responses"] = {code: {"description": _RESPONSE_TEXT.get(code, "OK"), "schema": _v2_ref(name)}
                        for code, name in o.responses.items()}
    out["responses"]["401"] = {"description": "Unauthorized"}
    if o.action:
        out["x-kubernetes-action"] = o.action
    if o.gvk is not None:
        out["x-kubernetes-group-version-kind"] = o.gvk
    return out


_SECURITY_SCHEME = {
    "BearerToken": {"type": "apiKey", "name": "authorization", "in": "header",
                    "description": "Bearer Token authentication"},
}


def _dumps(doc: Schema) -> bytes:
    return orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)


@dataclass(slots=True)
class _Cached:
    key: tuple[ResourceInfo, ...]
    body: bytes
    hash: str


class OpenAPIDocuments:
    """The /openapi/v3 and /openapi/v2 documents of a registry, built lazily and cached.

    Not thread-safe; meant for the API server's event loop. Every method is cheap once the
    document it returns was built; building one group/version takes tens of milliseconds.
    """

    def __init__(
        self,
        registry: Registry,
        definitions: Mapping[str, Schema] | None = None,
        *,
        version: str = openapi_defs.KUBE_VERSION,
    ) -> None:
        self._registry = registry
        self._defs_given = definitions
        self._version = version
        self._planner: _Planner | None = None
        self._converter: _SchemaConverter | None = None
        self._v3: dict[str, _Cached] = {}
        self._v2: _Cached | None = None

    # -- caches

    def invalidate(self) -> None:
        """Drop every cached document (call when a served schema changed, e.g. a CRD's)."""
        self._v3.clear()
        self._v2 = None

    def _defs(self) -> Mapping[str, Schema]:
        if self._defs_given is None:
            self._defs_given = openapi_defs.definitions()
        return self._defs_given

    def _tools(self) -> tuple[_Planner, _SchemaConverter]:
        if self._planner is None or self._converter is None:
            defs = self._defs()
            index: dict[tuple[str, str, str], str] = {}
            for name, s in defs.items():
                for g in s.get("x-kubernetes-group-version-kind", ()):
                    index.setdefault((g["group"], g["version"], g["kind"]), name)
            self._planner = _Planner(defs, index)
            self._converter = _SchemaConverter(defs)
        return self._planner, self._converter

    def _by_gv(self) -> dict[str, tuple[str, str, list[ResourceInfo]]]:
        out: dict[str, tuple[str, str, list[ResourceInfo]]] = {}
        for info in self._registry:
            key = gv_path(info.group, info.version)
            entry = out.setdefault(key, (info.group, info.version, []))
            entry[2].append(info)
        return out

    # -- public documents

    def group_versions(self) -> list[str]:
        """Root keys of /openapi/v3 (``api/v1``, ``apis/apps/v1``...), sorted."""
        return sorted(self._by_gv())

    def root_v3(self) -> bytes:
        """``GET /openapi/v3``: every served group/version with its hashed URL."""
        paths: dict[str, dict[str, str]] = {}
        for key in self.group_versions():
            built = self.group_version_v3(key)
            if built is None:
                continue
            paths[key] = {"serverRelativeURL": f"/openapi/v3/{key}?hash={quote(built[1])}"}
        return _dumps({"paths": paths})

    def group_version_v3(self, path: str) -> tuple[bytes, str] | None:
        """``GET /openapi/v3/<path>`` (``api/v1``, ``apis/apps/v1``): the JSON document and
        its hash (the ETag, without quotes); None if that group/version is not served."""
        path = path.strip("/")
        entry = self._by_gv().get(path)
        if entry is None:
            self._v3.pop(path, None)
            return None
        group, version, infos = entry
        key = tuple(sorted(infos, key=lambda i: i.plural))
        cached = self._v3.get(path)
        if cached is None or cached.key != key:
            body = self._build_v3(group, version, list(key))
            cached = self._v3[path] = _Cached(key, body, compute_hash(body))
        return cached.body, cached.hash

    def v2_json(self) -> bytes:
        """A Swagger 2.0 document (JSON) of every served kind."""
        by_gv = self._by_gv()
        key = tuple(sorted((i for _, _, infos in by_gv.values() for i in infos),
                           key=lambda i: (i.group, i.version, i.plural)))
        if self._v2 is None or self._v2.key != key:
            body = self._build_v2(by_gv)
            self._v2 = _Cached(key, body, compute_hash(body))
        return self._v2.body

    def v2_hash(self) -> str:
        """ETag of ``v2_json()``."""
        self.v2_json()
        assert self._v2 is not None
        return self._v2.hash

    # -- builders

    def _build_v3(self, group: str, version: str, infos: list[ResourceInfo]) -> bytes:
        planner, conv = self._tools()
        plan = planner.plan(group, version, infos)
        paths: Schema = {}
        for url, p in plan.paths.items():
            item: Schema = {o.method: _v3_operation(o) for o in p.ops}
            if p.params:
                item["parameters"] = [_v3_param(x) for x in p.params]
            paths[url] = item
        schemas: Schema = {}
        for name in conv.closure(plan.roots, plan.extra_defs):
            if name in plan.extra_defs:
                schemas[name] = conv.v3(name, plan.extra_defs[name])
            else:
                schemas[name] = conv.v3(name)
        doc = {
            "openapi": "3.0.0",
            "info": {"title": "Kubernetes", "version": self._version},
            "paths": paths,
            "components": {"schemas": schemas, "securitySchemes": _SECURITY_SCHEME},
        }
        return _dumps(doc)

    def _build_v2(self, by_gv: Mapping[str, tuple[str, str, list[ResourceInfo]]]) -> bytes:
        planner, conv = self._tools()
        paths: Schema = {}
        roots: set[str] = set()
        extra: dict[str, Schema] = {}
        for key in sorted(by_gv):
            group, version, infos = by_gv[key]
            plan = planner.plan(group, version, infos)
            roots |= plan.roots
            extra.update(plan.extra_defs)
            for url, p in plan.paths.items():
                item: Schema = {o.method: _v2_operation(o) for o in p.ops}
                if p.params:
                    item["parameters"] = [_v2_param(x) for x in p.params]
                paths[url] = item
        definitions: Schema = {}
        for name in conv.closure(roots, extra):
            definitions[name] = conv.v2(name, extra[name]) if name in extra else conv.v2(name)
        doc = {
            "swagger": "2.0",
            "info": {"title": "Kubernetes", "version": self._version},
            "paths": paths,
            "definitions": definitions,
            "securityDefinitions": _SECURITY_SCHEME,
            "security": [{"BearerToken": []}],
        }
        return _dumps(doc)
