"""Rollback: an existing ReplicaSet becomes the new one again.

Job: apps/v1 has no ``spec.rollbackTo``; ``kubectl rollout undo`` copies an old
ReplicaSet's template back into the Deployment. From then on the old ReplicaSet's template
equals the Deployment's, so it *is* the new ReplicaSet; what is left to do server-side is
upstream's existing-new-ReplicaSet branch of getNewReplicaSet: copy the Deployment's
annotations onto it, give it the next revision (remembering its previous revision in
``deployment.kubernetes.io/revision-history``), align ``minReadySeconds``, and record the
revision on the Deployment (plus a FoundNewReplicaSet Progressing condition if it has
none yet). The same branch runs on every sync for the current ReplicaSet, where it writes
nothing because nothing changed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kubepy.client import deepcopy

from .replicasets import (
    FOUND_NEW_RS_REASON,
    REVISION_ANNOTATION,
    get_condition,
    has_progress_deadline,
    new_condition,
    set_condition,
    set_new_rs_annotations,
)

if TYPE_CHECKING:
    from .controller import DeploymentController

__all__ = ["sync_existing_new_replica_set"]

Obj = dict[str, Any]


async def sync_existing_new_replica_set(dc: DeploymentController, d: Obj, existing: Obj, new_revision: int) -> Obj:
    """Bring the existing new ReplicaSet's annotations and revision up to date; returns it."""
    rs = deepcopy(existing)
    annotations_changed = set_new_rs_annotations(d, rs, new_revision, exists=True)
    min_ready = int((d.get("spec") or {}).get("minReadySeconds") or 0)
    min_ready_changed = int((rs.get("spec") or {}).get("minReadySeconds") or 0) != min_ready
    if annotations_changed or min_ready_changed:
        rs.setdefault("spec", {})["minReadySeconds"] = min_ready
        return await dc.update_rs(rs)
    rev = (rs["metadata"].get("annotations") or {}).get(REVISION_ANNOTATION)
    if rev is not None:
        await dc.set_revision(d, rev)
    status = d.setdefault("status", {})
    if has_progress_deadline(d) and get_condition(status, "Progressing") is None:
        set_condition(status, new_condition("Progressing", "True", FOUND_NEW_RS_REASON,
                                            f'Found new replica set "{rs["metadata"]["name"]}"', dc.now()))
        await dc.write_status(d)
    return rs
