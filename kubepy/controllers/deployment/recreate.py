"""Recreate: scale every old ReplicaSet to zero, wait until their pods are gone, then
scale the new one up to the full count (upstream's recreate.go).

Job: the new ReplicaSet is not even created until no old pod is left running (pods in
Succeeded/Failed do not count; pods being deleted do), so old and new pods never run side
by side. The pod-deletion handler in the controller requeues the Deployment when the last
old pod disappears.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .progress import sync_rollout_status
from .replicasets import deployment_complete, replicas, sum_status
from .sync import cleanup_deployment, get_all_replica_sets_and_sync_revision, scale_replica_set_and_record_event

if TYPE_CHECKING:
    from .controller import DeploymentController

__all__ = ["old_pods_running", "rollout_recreate"]

Obj = dict[str, Any]


def old_pods_running(new_rs: Mapping[str, Any] | None, old_rss: Sequence[Mapping[str, Any]],
                     pods_by_rs: Mapping[str, Sequence[Mapping[str, Any]]]) -> bool:
    if sum_status(old_rss) > 0:
        return True
    new_uid = ((new_rs or {}).get("metadata") or {}).get("uid")
    for uid, pods in pods_by_rs.items():
        if new_rs is not None and uid == new_uid:
            continue
        for pod in pods:
            if (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed"):
                return True
    return False


async def rollout_recreate(dc: DeploymentController, d: Obj, rs_list: list[Obj],
                           pods_by_rs: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
    new_rs, old_rss = await get_all_replica_sets_and_sync_revision(dc, d, rs_list, create=False)
    all_rss: list[Obj | None] = [*old_rss, new_rs]
    scaled_down = False
    for rs in old_rss:
        if replicas(rs) == 0:
            continue
        scaled, _ = await scale_replica_set_and_record_event(dc, rs, 0, d)
        scaled_down = scaled_down or scaled
    if scaled_down:
        await sync_rollout_status(dc, all_rss, new_rs, d)
        return
    if old_pods_running(new_rs, old_rss, pods_by_rs):
        await sync_rollout_status(dc, all_rss, new_rs, d)
        return
    if new_rs is None:
        new_rs, old_rss = await get_all_replica_sets_and_sync_revision(dc, d, rs_list, create=True)
        all_rss = [*old_rss, new_rs]
    assert new_rs is not None
    await scale_replica_set_and_record_event(dc, new_rs, replicas(d), d)
    if deployment_complete(d, d.get("status") or {}):
        await cleanup_deployment(dc, old_rss, d)
    await sync_rollout_status(dc, all_rss, new_rs, d)
