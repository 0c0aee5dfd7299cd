"""Registry strategies of CustomResourceDefinitions and of the custom resources they define.

``CRDStrategy`` adds upstream's CRD bookkeeping to the generic strategy: v1 defaults
(singular, listKind, conversion strategy), the CustomResourceCleanup finalizer on create
(so that deleting a CRD first deletes its custom resources), the initial status
(empty accepted names, the storage version in ``storedVersions``), and a new storage
version appended to ``storedVersions`` on update.

``CustomResourceStrategy`` is upstream's ``customResourceStrategy``: ``metadata.generation``
starts at 1 and grows on every change outside metadata (outside metadata and status when
the status subresource is on); creates and main-resource updates cannot set status when
the status subresource is on; validation is ObjectMeta (names are DNS subdomains) plus
the structural schema and its CEL rules (``kubepy.api.crd``); no creates while the CRD
is terminating.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kubepy.api.crd import CustomResourceSchema, definition
from kubepy.api.field_errors import FieldError
from kubepy.api.resources import ResourceInfo
from kubepy.api.validation import names
from kubepy.api.validation.meta import validate_object_meta, validate_object_meta_update
from kubepy.apiserver import errors
from kubepy.apiserver.registry.strategy import Obj, Strategy

__all__ = ["CRDStrategy", "CustomResourceState", "CustomResourceStrategy"]


class CRDStrategy(Strategy):
    """apiextensions.k8s.io/v1 CustomResourceDefinitions."""

    def prepare_for_create(self, obj: Obj) -> None:
        definition.set_defaults(obj)
        meta = obj["metadata"]
        finalizers = list(meta.get("finalizers") or ())
        if definition.CLEANUP_FINALIZER not in finalizers:
            finalizers.append(definition.CLEANUP_FINALIZER)
        meta["finalizers"] = finalizers
        meta["generation"] = 1
        storage = definition.storage_version(obj)
        obj["status"] = {"acceptedNames": {"plural": "", "kind": ""}, "storedVersions": [storage] if storage else []}

    def prepare_for_update(self, new: Obj, old: Obj) -> None:
        definition.set_defaults(new)
        super().prepare_for_update(new, old)
        self._record_storage_version(new)

    def prepare_for_status_update(self, new: Obj, old: Obj) -> None:
        super().prepare_for_status_update(new, old)

    @staticmethod
    def _record_storage_version(crd: Obj) -> None:
        storage = definition.storage_version(crd)
        status = crd.setdefault("status", {})
        stored = list(status.get("storedVersions") or ())
        if storage and storage not in stored:
            stored.append(storage)
            status["storedVersions"] = stored


@dataclass
class CustomResourceState:
    """What the strategies of one CRD's versions share and the CRD controller updates."""

    terminating: bool = False


class CustomResourceStrategy(Strategy):
    """One served version of a custom resource."""

    def __init__(
        self, info: ResourceInfo, *, schema: CustomResourceSchema, status_enabled: bool, state: CustomResourceState
    ) -> None:
        super().__init__(info)
        self.schema = schema
        self.status_enabled = status_enabled
        self.state = state
        self.tracks_generation = True

    # -- create / update --------------------------------------------------------------
    def prepare_for_create(self, obj: Obj) -> None:
        if self.state.terminating:
            raise errors.StatusError(
                405, "MethodNotAllowed", "create not allowed while custom resource definition is terminating",
                details={},
            )
        if self.status_enabled:
            obj.pop("status", None)
        obj["metadata"]["generation"] = 1

    def prepare_for_update(self, new: Obj, old: Obj) -> None:
        if self.status_enabled:
            if "status" in old:
                new["status"] = old["status"]
            else:
                new.pop("status", None)
        self.bump_generation(new, old)

    def bump_generation(self, new: Obj, old: Obj) -> None:
        old_gen = old["metadata"].get("generation")
        gen = old_gen if old_gen is not None else 0
        skip = ("metadata", "status") if self.status_enabled else ("metadata",)
        if _without(new, skip) != _without(old, skip):
            gen += 1
        new["metadata"]["generation"] = gen or 1

    # -- validation ---------------------------------------------------------------------
    def validate_create(self, obj: Obj) -> list[FieldError]:
        errs = validate_object_meta(obj.get("metadata"), namespaced=self.info.namespaced,
                                    name_fn=names.name_is_dns_subdomain, core_group=False)
        errs.extend(self.schema.validate(obj))
        return errs

    def validate_update(self, new: Obj, old: Obj) -> list[FieldError]:
        errs = validate_object_meta_update(new.get("metadata"), old.get("metadata"), core_group=False)
        errs.extend(self.schema.validate(new, old))
        return errs

    def validate_status_update(self, new: Obj, old: Obj) -> list[FieldError]:
        errs = validate_object_meta_update(new.get("metadata"), old.get("metadata"), core_group=False)
        errs.extend(self.schema.validate(new, old))
        return errs


def _without(obj: Obj, skip: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in skip and k not in ("apiVersion", "kind")}
