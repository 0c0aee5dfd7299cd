"""Pods owned by a controller: build them from a template, adopt and release them.

``pod_from_template`` is upstream's GetPodFromTemplate: the template's labels, annotations
and spec, a ``generateName`` of ``<owner>-``, and a controller ownerReference with
``blockOwnerDeletion``. ``claim`` is the ControllerRefManager decision: which of the pods
matching a selector this owner keeps (its own), adopts (orphans that match) or releases
(its own that stopped matching), as pure functions over cached objects; the caller writes
the patches it returns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from kubepy.client import deepcopy

Obj = dict[str, Any]


def owner_reference(owner: Mapping[str, Any], *, block: bool = True) -> Obj:
    meta = owner["metadata"]
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": meta["name"],
        "uid": meta["uid"],
        "controller": True,
        "blockOwnerDeletion": block,
    }


def pod_from_template(
    template: Mapping[str, Any], owner: Mapping[str, Any], *, name: str | None = None, generate_name: str | None = None
) -> Obj:
    tmeta = template.get("metadata") or {}
    meta: Obj = {
        "labels": dict(tmeta.get("labels") or {}),
        "ownerReferences": [owner_reference(owner)],
    }
    if tmeta.get("annotations"):
        meta["annotations"] = dict(tmeta["annotations"])
    if tmeta.get("finalizers"):
        meta["finalizers"] = list(tmeta["finalizers"])
    if name:
        meta["name"] = name
    else:
        meta["generateName"] = generate_name or f"{owner['metadata']['name']}-"
    meta["namespace"] = owner["metadata"].get("namespace", "")
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": deepcopy(dict(template.get("spec") or {}))}


def controller_of(obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or ():
        if ref.get("controller"):
            return ref  # type: ignore[no-any-return]
    return None


def is_owned_by(obj: Mapping[str, Any], owner_uid: str) -> bool:
    ref = controller_of(obj)
    return ref is not None and ref.get("uid") == owner_uid


def claim(
    owner: Mapping[str, Any],
    candidates: Iterable[Mapping[str, Any]],
    matches: Callable[[Mapping[str, Any]], bool],
) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]], list[Mapping[str, Any]]]:
    """Split candidates into (owned, to_adopt, to_release).

    An owner being deleted adopts nothing. Objects being deleted are neither adopted nor
    released. ``owned`` includes the adopted ones (the caller adopts them first).
    """
    uid = owner["metadata"]["uid"]
    deleting_owner = bool(owner["metadata"].get("deletionTimestamp"))
    owned: list[Mapping[str, Any]] = []
    adopt: list[Mapping[str, Any]] = []
    release: list[Mapping[str, Any]] = []
    for obj in candidates:
        ref = controller_of(obj)
        deleting = bool(obj["metadata"].get("deletionTimestamp"))
        if ref is not None:
            if ref.get("uid") != uid:
                continue
            if matches(obj):
                owned.append(obj)
            elif not deleting:
                release.append(obj)
            continue
        if deleting_owner or deleting or not matches(obj):
            continue
        adopt.append(obj)
        owned.append(obj)
    return owned, adopt, release


def adopt_patch(owner: Mapping[str, Any], obj: Mapping[str, Any]) -> Obj:
    """Strategic merge patch that adds this owner as controller (uid precondition included)."""
    return {"metadata": {"ownerReferences": [owner_reference(owner)], "uid": obj["metadata"]["uid"]}}


def release_patch(owner: Mapping[str, Any], obj: Mapping[str, Any]) -> Obj:
    """Strategic merge patch that drops this owner's reference."""
    return {"metadata": {"ownerReferences": [{"$patch": "delete", "uid": owner["metadata"]["uid"]}],
                         "uid": obj["metadata"]["uid"]}}


def selector_matches(selector: Mapping[str, Any] | None) -> Callable[[Mapping[str, Any]], bool]:
    """A predicate over objects' labels for a metav1.LabelSelector (None/empty: nothing)."""
    from kubepy.api.selectors import from_label_selector_dict

    if not selector:
        return lambda obj: False
    parsed = from_label_selector_dict(dict(selector))
    return lambda obj: parsed.matches((obj.get("metadata") or {}).get("labels") or {})


def active(pod: Mapping[str, Any]) -> bool:
    """Not finished and not being deleted (upstream's IsPodActive)."""
    phase = (pod.get("status") or {}).get("phase")
    return phase not in ("Succeeded", "Failed") and not pod["metadata"].get("deletionTimestamp")


def is_ready(pod: Mapping[str, Any]) -> bool:
    for c in (pod.get("status") or {}).get("conditions") or ():
        if c.get("type") == "Ready":
            return bool(c.get("status") == "True")
    return False


def owner_for_ref(indexer: Any, namespace: str, ref: Mapping[str, Any] | None, kind: str) -> Obj | None:
    """The cached owner a controller reference points at (same kind, name and uid), if any."""
    if ref is None or ref.get("kind") != kind:
        return None
    owner: Obj | None = indexer.get_by_name(namespace, ref.get("name", ""))
    if owner is None or owner["metadata"].get("uid") != ref.get("uid"):
        return None
    return owner


def owners_selecting(indexer: Any, obj: Mapping[str, Any]) -> list[Obj]:
    """Cached owners in the object's namespace whose label selector matches its labels."""
    from kubepy.api.selectors import SelectorError, from_label_selector_dict

    labels = obj["metadata"].get("labels") or {}
    if not labels:
        return []
    out: list[Obj] = []
    for owner in indexer.by_namespace(obj["metadata"].get("namespace", "")):
        selector = (owner.get("spec") or {}).get("selector")
        if not selector:
            continue
        try:
            if from_label_selector_dict(selector).matches(labels):
                out.append(owner)
        except SelectorError:
            continue
    return out
