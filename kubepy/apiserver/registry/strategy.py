"""Per-resource write strategies (upstream's rest.RESTCreateStrategy & co.).

A ``Strategy`` prepares objects for create and update (status reset, generation bump,
status/spec split for the status subresource) and says how deletion behaves. The base
class does what most kinds need, driven by the resource's ``ResourceInfo``; kinds with
more rules (pods, services, namespaces, jobs) subclass it in their own modules.
Validation and defaulting live in ``kubepy.api``; strategies only call them.
"""

from __future__ import annotations

from typing import Any

from kubepy.api import openapi_defs
from kubepy.api.field_errors import FieldError
from kubepy.api.resources import ResourceInfo

Obj = dict[str, Any]

#: Kinds whose metadata.generation tracks spec changes (upstream sets it in PrepareForCreate).
GENERATION_KINDS = frozenset(
    {
        ("apps", "Deployment"),
        ("apps", "ReplicaSet"),
        ("apps", "StatefulSet"),
        ("apps", "DaemonSet"),
        ("batch", "Job"),
        ("batch", "CronJob"),
        ("", "ReplicationController"),
        ("policy", "PodDisruptionBudget"),
        ("networking.k8s.io", "NetworkPolicy"),
        ("networking.k8s.io", "Ingress"),
        ("autoscaling", "HorizontalPodAutoscaler"),
        ("apiextensions.k8s.io", "CustomResourceDefinition"),
        ("storage.k8s.io", "VolumeAttachment"),
        ("discovery.k8s.io", "EndpointSlice"),
    }
)

_ZERO: dict[str, Any] = {"integer": 0, "number": 0, "string": "", "boolean": False}


def required_status_zeroes(schema_name: str) -> Obj:
    """Zero values of a status type's required scalar fields (Go fields without omitempty)."""
    try:
        root = openapi_defs.schema(schema_name)
    except KeyError:
        return {}
    status_ref = root.get("properties", {}).get("status")
    if not status_ref:
        return {}
    status = openapi_defs.resolve(status_ref)
    out: Obj = {}
    for name in status.get("required", ()):
        prop = openapi_defs.resolve(status.get("properties", {}).get(name, {}))
        t = prop.get("type")
        if isinstance(t, str) and t in _ZERO:
            out[name] = _ZERO[t]
    return out


class Strategy:
    """Default behaviour for a resource; see the module docstring."""

    def __init__(self, info: ResourceInfo) -> None:
        self.info = info
        self.tracks_generation = (info.group, info.kind) in GENERATION_KINDS or (
            not info.schema and "status" in {s.name for s in info.subresources}
        )
        self.status_zeroes = required_status_zeroes(info.schema) if info.schema else {}

    # -- create -------------------------------------------------------------------------
    def prepare_for_create(self, obj: Obj) -> None:
        if self.info.has_status:
            # a Go status struct always serialises, so an empty status shows as {}
            obj["status"] = self.initial_status(obj)
        if self.tracks_generation:
            obj["metadata"]["generation"] = 1

    def initial_status(self, obj: Obj) -> Obj:
        return dict(self.status_zeroes)

    # -- update -------------------------------------------------------------------------
    def prepare_for_update(self, new: Obj, old: Obj) -> None:
        if self.info.has_status:
            if "status" in old:
                new["status"] = old["status"]
            else:
                new.pop("status", None)
        self.bump_generation(new, old)

    def bump_generation(self, new: Obj, old: Obj) -> None:
        old_gen = old["metadata"].get("generation")
        if old_gen is not None:
            new["metadata"]["generation"] = old_gen
        elif "generation" in new["metadata"]:
            del new["metadata"]["generation"]
        if not self.tracks_generation:
            return
        if _spec_of(new) != _spec_of(old):
            new["metadata"]["generation"] = (old_gen or 0) + 1
        # upstream: setting deletionTimestamp also bumps generation for graceful kinds; omitted

    def prepare_for_subresource_update(self, subresource: str, new: Obj, old: Obj) -> None:
        """Other subresource writes (binding, finalize, approval, scale): the handler built
        ``new`` itself; by default only the generation follows the spec."""
        self.bump_generation(new, old)

    def prepare_for_status_update(self, new: Obj, old: Obj) -> None:
        """Status writes change only status: spec and most metadata come from ``old``."""
        for k, v in old.items():
            if k not in ("status", "metadata"):
                new[k] = v
        for k in list(new):
            if k not in old and k not in ("status", "metadata", "kind", "apiVersion"):
                del new[k]
        meta_new = new["metadata"]
        meta_old = old["metadata"]
        for field in ("labels", "annotations", "finalizers", "ownerReferences", "deletionTimestamp", "generation"):
            if field in meta_old:
                meta_new[field] = meta_old[field]
            else:
                meta_new.pop(field, None)

    # -- validation hooks ---------------------------------------------------------------
    def validate_create(self, obj: Obj) -> list[FieldError]:
        from kubepy.api import validation

        return validation.validate_create(self.info.group, self.info.kind, obj)

    def validate_update(self, new: Obj, old: Obj) -> list[FieldError]:
        from kubepy.api import validation

        return validation.validate_update(self.info.group, self.info.kind, new, old)

    def validate_status_update(self, new: Obj, old: Obj) -> list[FieldError]:
        from kubepy.api import validation

        fn = getattr(validation, "validate_status_update", None)
        if fn is None:
            return []
        errs: list[FieldError] = fn(self.info.group, self.info.kind, new, old)
        return errs

    # -- deletion -----------------------------------------------------------------------
    def grace_period(self, obj: Obj, requested: int | None) -> int:
        """Seconds the object lingers after DELETE (0: remove at once)."""
        return 0

    def default_propagation(self) -> str:
        return "Background"

    def delete_in_place(self, obj: Obj, now: str) -> bool:
        """Kinds whose DELETE only marks the object (namespaces): mutate it, return True."""
        return False


def _spec_of(obj: Obj) -> Any:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "kind", "apiVersion")}
