"""Namespace strategy: the ``kubernetes`` finalizer and two-phase deletion.

DELETE marks a namespace Terminating (deletionTimestamp + status.phase); the namespace
controller empties it and clears ``spec.finalizers`` through the ``finalize``
subresource, after which the namespace is removed.
"""

from __future__ import annotations

from kubepy.apiserver.registry.strategy import Obj, Strategy


class NamespaceStrategy(Strategy):
    def prepare_for_create(self, obj: Obj) -> None:
        super().prepare_for_create(obj)
        obj.setdefault("spec", {})["finalizers"] = ["kubernetes"]

    def initial_status(self, obj: Obj) -> Obj:
        return {"phase": "Active"}

    def prepare_for_update(self, new: Obj, old: Obj) -> None:
        super().prepare_for_update(new, old)
        # spec.finalizers change only through the finalize subresource
        new["spec"] = dict(new.get("spec") or {})
        if "finalizers" in (old.get("spec") or {}):
            new["spec"]["finalizers"] = old["spec"]["finalizers"]
        else:
            new["spec"].pop("finalizers", None)

    def delete_in_place(self, obj: Obj, now: str) -> bool:
        meta = obj["metadata"]
        if meta.get("deletionTimestamp") is None:
            meta["deletionTimestamp"] = now
            meta["deletionGracePeriodSeconds"] = 0
        obj.setdefault("status", {})["phase"] = "Terminating"
        return bool((obj.get("spec") or {}).get("finalizers")) or bool(meta.get("finalizers"))


def finalized(obj: Obj) -> bool:
    """A terminating namespace with no finalizers left is ready to be removed."""
    meta = obj["metadata"]
    return bool(meta.get("deletionTimestamp")) and not (obj.get("spec") or {}).get("finalizers") and not meta.get(
        "finalizers"
    )
