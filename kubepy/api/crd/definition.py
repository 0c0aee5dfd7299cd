"""Reading a CustomResourceDefinition (apiextensions.k8s.io/v1) dict: defaults and accessors.

Defaults are the ones upstream's v1 defaulting functions set (``names.singular`` = lower
case kind, ``names.listKind`` = kind + "List", ``conversion.strategy: None``,
``conversion.webhook.conversionReviewVersions`` kept). Accessors answer the questions the
API server asks of a CRD: which versions are served, which is stored, the schema,
subresources, printer columns and selectable fields of one version, and its conditions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "CLEANUP_FINALIZER",
    "condition",
    "is_condition_true",
    "set_defaults",
    "storage_version",
    "served_versions",
    "version",
]

CLEANUP_FINALIZER = "customresourcecleanup.apiextensions.k8s.io"

Obj = dict[str, Any]


def set_defaults(crd: Obj) -> None:
    """Upstream's SetDefaults for a v1 CRD, in place."""
    spec = crd.get("spec")
    if not isinstance(spec, dict):
        return
    names = spec.get("names")
    if isinstance(names, dict):
        kind = names.get("kind")
        if isinstance(kind, str) and kind:
            if not names.get("singular"):
                names["singular"] = kind.lower()
            if not names.get("listKind"):
                names["listKind"] = kind + "List"
    conversion = spec.get("conversion")
    if not isinstance(conversion, dict):
        spec["conversion"] = {"strategy": "None"}
    elif not conversion.get("strategy"):
        conversion["strategy"] = "None"
    for v in spec.get("versions") or ():
        if not isinstance(v, dict):
            continue
        sub = v.get("subresources")
        scale = sub.get("scale") if isinstance(sub, dict) else None
        if isinstance(scale, dict) and scale.get("labelSelectorPath") == "":
            scale.pop("labelSelectorPath")


def versions(crd: Mapping[str, Any]) -> list[Obj]:
    spec = crd.get("spec") or {}
    return [v for v in spec.get("versions") or () if isinstance(v, dict)]


def version(crd: Mapping[str, Any], name: str) -> Obj | None:
    for v in versions(crd):
        if v.get("name") == name:
            return v
    return None


def served_versions(crd: Mapping[str, Any]) -> list[Obj]:
    """Served versions in upstream's priority order (GA > beta > alpha > other, newest first)."""
    return sorted((v for v in versions(crd) if v.get("served")), key=lambda v: version_priority(str(v.get("name", ""))))


def storage_version(crd: Mapping[str, Any]) -> str:
    for v in versions(crd):
        if v.get("storage"):
            return str(v.get("name", ""))
    return ""


def version_priority(name: str) -> tuple[int, int, int, str]:
    """Sort key of Kubernetes version names (``v1`` < ``v1beta2`` < ``v1alpha1`` < ``foo``)."""
    import re

    m = re.fullmatch(r"v(\d+)(?:(alpha|beta)(\d+))?", name)
    if not m:
        return (3, 0, 0, name)
    major = int(m.group(1))
    stage = {"beta": 1, "alpha": 2}.get(m.group(2) or "", 0)
    minor = int(m.group(3) or 0)
    return (stage, -major, -minor, name)


def schema_of(v: Mapping[str, Any]) -> Any:
    schema = v.get("schema")
    return schema.get("openAPIV3Schema") if isinstance(schema, dict) else None


def condition(crd: Mapping[str, Any], type_: str) -> Obj | None:
    status = crd.get("status") or {}
    for c in status.get("conditions") or ():
        if isinstance(c, dict) and c.get("type") == type_:
            return c
    return None


def is_condition_true(crd: Mapping[str, Any], type_: str) -> bool:
    c = condition(crd, type_)
    return c is not None and c.get("status") == "True"
