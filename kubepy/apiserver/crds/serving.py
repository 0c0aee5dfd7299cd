"""Serving the custom resources of an established CRD: registry entries, stores, codecs.

For each served version of a CRD this module builds what a built-in resource gets from
static tables: a ``ResourceInfo`` (names from ``status.acceptedNames``, scope, status and
scale subresources, selectable fields as field selectors, and in ``extra`` the
``openAPIV3Schema`` that /openapi/v3 and server-side apply read, the Table printer, the
request-body checks and the scale paths) and a ``ResourceStore`` with a
``CustomResourceStrategy``. All versions share one storage prefix
(``/registry/<group>/<plural>/``) and one watch-cache entry; objects are stored in the
storage version and converted with the ``None`` strategy (only ``apiVersion`` changes),
and schema defaults are applied again when objects are read, as upstream does.

Registering and unregistering invalidates discovery and the OpenAPI documents, so
clients see new types at once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import orjson

from kubepy.api import schema_check
from kubepy.api.crd import CustomResourceSchema, definition
from kubepy.api.printers import JSONPathError, crd_printer
from kubepy.api.resources import STATUS_VERBS, ResourceInfo, Subresource
from kubepy.apiserver import errors
from kubepy.apiserver.crds.strategy import CustomResourceState, CustomResourceStrategy
from kubepy.apiserver.registry.generic import ResourceStore

if TYPE_CHECKING:
    from kubepy.apiserver.server import APIServer

log = logging.getLogger(__name__)

__all__ = ["CustomObjectChecks", "CustomResourceConverter", "ServedCRD", "Serving", "build_infos"]

Obj = dict[str, Any]


class CustomResourceConverter:
    """``None`` conversion between a served version and the storage version, plus
    defaulting on read (the served version's schema defaults)."""

    def __init__(self, *, served: str, storage: str, schema: CustomResourceSchema | None) -> None:
        self.served_api_version = served
        self.stored_api_version = storage
        self.schema = schema if schema is not None and schema.has_defaults else None

    def to_storage(self, obj: Obj) -> Obj:
        if obj.get("apiVersion") == self.stored_api_version:
            return obj
        out = dict(obj)
        out["apiVersion"] = self.stored_api_version
        return out

    def from_storage(self, obj: Obj) -> Obj:
        schema = self.schema
        needs_defaults = schema is not None and schema.needs_defaults(obj)
        if obj.get("apiVersion") == self.served_api_version and not needs_defaults:
            return obj
        out: Obj = orjson.loads(orjson.dumps(obj)) if needs_defaults else dict(obj)
        out["apiVersion"] = self.served_api_version
        if needs_defaults and schema is not None:
            schema.default(out)
        return out


class CustomObjectChecks:
    """Decoding checks of custom resource bodies (called by ``object_checks``):
    unknown fields are pruned and reported per ``fieldValidation``, defaults applied."""

    def __init__(self, info: ResourceInfo, schema: CustomResourceSchema) -> None:
        self.info = info
        self.schema = schema

    def _report(self, pruned: list[str], validation: str, warnings: list[str], *, body_kind: str,
                body_version: str) -> None:
        if not pruned:
            return
        texts = [f'unknown field "{p}"' for p in pruned]
        if validation == "Strict":
            raise errors.bad_request(schema_check.decode_error_message(
                schema_check.strict_error_message(texts), target_kind=self.info.kind,
                body_kind=body_kind or self.info.kind, body_version=body_version or self.info.version,
            ))
        if validation == "Warn":
            warnings.extend(texts)

    def check_body(self, obj: Obj, validation: str, warnings: list[str]) -> None:
        av = obj.get("apiVersion")
        version = av.rsplit("/", 1)[-1] if isinstance(av, str) else ""
        kind = obj.get("kind") if isinstance(obj.get("kind"), str) else ""
        self._report(self.schema.prune(obj), validation, warnings, body_kind=str(kind), body_version=version)
        self.schema.default(obj)

    def check_patched(self, obj: Obj, validation: str, warnings: list[str]) -> None:
        self._report(self.schema.prune(obj), validation, warnings, body_kind=self.info.kind,
                     body_version=self.info.version)
        self.schema.default(obj)

    def check_applied(self, obj: Obj, validation: str, warnings: list[str]) -> None:
        probe = orjson.loads(orjson.dumps(obj))
        self._report(self.schema.prune(probe), validation, warnings, body_kind=self.info.kind,
                     body_version=self.info.version)


def _path(json_path: str) -> tuple[str, ...]:
    return tuple(p for p in json_path.strip().lstrip(".").split(".") if p)


def build_infos(crd: Obj, state: CustomResourceState) -> list[tuple[ResourceInfo, CustomResourceStrategy, CustomResourceConverter]]:
    """ResourceInfo, strategy and converter of every served version of ``crd``."""
    spec = crd.get("spec") or {}
    accepted = (crd.get("status") or {}).get("acceptedNames") or {}
    names = spec.get("names") or {}
    group = str(spec.get("group", ""))
    plural = str(accepted.get("plural") or names.get("plural", ""))
    kind = str(accepted.get("kind") or names.get("kind", ""))
    singular = str(accepted.get("singular") or names.get("singular") or kind.lower())
    short = tuple(accepted.get("shortNames") or names.get("shortNames") or ())
    categories = tuple(accepted.get("categories") or names.get("categories") or ())
    namespaced = spec.get("scope") == "Namespaced"
    storage = definition.storage_version(crd)
    storage_api_version = f"{group}/{storage}"
    crd_name = str((crd.get("metadata") or {}).get("name", ""))
    served_versions = definition.served_versions(crd)
    out = []
    for v in served_versions:
        vname = str(v.get("name"))
        raw_schema = definition.schema_of(v)
        schema = CustomResourceSchema(raw_schema if isinstance(raw_schema, dict) else
                                      {"type": "object", "x-kubernetes-preserve-unknown-fields": True})
        subs = v.get("subresources") or {}
        subresources: list[Subresource] = []
        status_enabled = isinstance(subs, dict) and subs.get("status") is not None
        scale = subs.get("scale") if isinstance(subs, dict) else None
        if status_enabled:
            subresources.append(Subresource(name="status", kind=kind, verbs=STATUS_VERBS))
        if isinstance(scale, dict):
            subresources.append(Subresource(name="scale", kind="Scale", verbs=STATUS_VERBS,
                                            group="autoscaling", version="v1"))
        try:
            printer = crd_printer(v.get("additionalPrinterColumns"))
        except JSONPathError:
            printer = crd_printer(None)
        selectable = tuple(str(f.get("jsonPath", "")).lstrip(".") for f in v.get("selectableFields") or ()
                           if isinstance(f, dict) and f.get("jsonPath"))
        extra: dict[str, object] = {
            "openapiV3Schema": raw_schema if isinstance(raw_schema, dict) else None,
            "printer": printer,
            "crd": crd_name,
        }
        if isinstance(scale, dict):
            extra["scaleSubresource"] = {
                "specReplicasPath": _path(str(scale.get("specReplicasPath", ""))),
                "statusReplicasPath": _path(str(scale.get("statusReplicasPath", ""))),
                "labelSelectorPath": _path(str(scale.get("labelSelectorPath") or "")),
            }
        info = ResourceInfo(
            group=group, version=vname, kind=kind, plural=plural, singular=singular, namespaced=namespaced,
            short_names=short, categories=categories, subresources=tuple(subresources),
            field_selectors=selectable, schema="", extra=extra,
        )
        extra["objectChecks"] = CustomObjectChecks(info, schema)
        strategy = CustomResourceStrategy(info, schema=schema, status_enabled=status_enabled, state=state)
        converter = CustomResourceConverter(served=info.api_version, storage=storage_api_version, schema=schema)
        out.append((info, strategy, converter))
    return out


@dataclass
class ServedCRD:
    name: str
    uid: str
    prefix: str
    infos: list[ResourceInfo] = field(default_factory=list)
    state: CustomResourceState = field(default_factory=CustomResourceState)
    #: the CRD's resourceVersion these entries were built from
    built_from: str = ""


class Serving:
    """Adds and removes the registry entries and stores of custom resources, live."""

    def __init__(self, server: APIServer) -> None:
        self.server = server
        self.served: dict[str, ServedCRD] = {}

    def store_for(self, name: str) -> ResourceStore | None:
        """The storage version's store of a served CRD (for the cleanup of its objects)."""
        served = self.served.get(name)
        if served is None or not served.infos:
            return None
        info = served.infos[0]
        return self.server.stores.get((info.group, info.version, info.plural))

    async def serve(self, crd: Obj, *, terminating: bool = False) -> None:
        """Serve (or re-serve after a change) every served version of ``crd``."""
        meta = crd.get("metadata") or {}
        name = str(meta.get("name", ""))
        rv = str(meta.get("resourceVersion", ""))
        current = self.served.get(name)
        if current is not None and current.uid != meta.get("uid"):
            self.unserve(name)
            current = None
        if current is not None and current.built_from == rv:
            current.state.terminating = terminating
            return
        state = current.state if current is not None else CustomResourceState()
        state.terminating = terminating
        built = build_infos(crd, state)
        server = self.server
        if not built:
            if current is not None:
                self._remove_entries(current)
                current.infos = []
                current.built_from = rv
            return
        prefix = built[0][0].key_prefix()
        await server.watch_cache.ensure(prefix)
        if current is not None:
            self._remove_entries(current)
        served = ServedCRD(name=name, uid=str(meta.get("uid", "")), prefix=prefix, state=state, built_from=rv)
        # storage version first: the cleanup deletes through it
        storage = definition.storage_version(crd)
        built.sort(key=lambda b: b[0].version != storage)
        for info, strategy, converter in built:
            rs = ResourceStore(info, store=server.store, cache=server.watch_cache, strategy=strategy,
                               admission=server.admission, clock=server.clock)
            rs.converter = cast(Any, converter)
            server.stores[(info.group, info.version, info.plural)] = rs
            server.registry.add(info)
            served.infos.append(info)
        self.served[name] = served
        self._invalidate()

    def _remove_entries(self, served: ServedCRD) -> None:
        for info in served.infos:
            if self.server.registry.get(info.group, info.version, info.plural) is info:
                self.server.registry.remove(info)
                self.server.stores.pop((info.group, info.version, info.plural), None)

    def unserve(self, name: str) -> None:
        served = self.served.pop(name, None)
        if served is None:
            return
        self._remove_entries(served)
        if not any(s.prefix == served.prefix for s in self.served.values()):
            self.server.watch_cache.drop(served.prefix)
        self._invalidate()

    def _invalidate(self) -> None:
        self.server.discovery.invalidate()
        self.server.openapi.invalidate()
