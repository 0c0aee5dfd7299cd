"""RollingUpdate: grow the new ReplicaSet and shrink old ones within maxSurge/maxUnavailable.

Job (upstream's rolling.go): each sync first tries to scale the new ReplicaSet up (never
past ``replicas + maxSurge`` pods in all ReplicaSets together, nor past ``replicas``
itself); only when it could not, scales old ReplicaSets down: first the unhealthy replicas
of old ReplicaSets (they do not count as available, so removing them costs nothing and
unblocks a stuck rollout), then as many available ones as keep ``replicas -
maxUnavailable`` available. Once complete, old ReplicaSets past the history limit are
deleted. Each step ends by recomputing progress and status.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .progress import sync_rollout_status
from .replicasets import (
    creation_key,
    deployment_complete,
    max_unavailable,
    new_rs_new_replicas,
    replicas,
    sum_available,
    sum_spec,
)
from .sync import cleanup_deployment, get_all_replica_sets_and_sync_revision, scale_replica_set_and_record_event

if TYPE_CHECKING:
    from .controller import DeploymentController

__all__ = [
    "cleanup_unhealthy_replicas",
    "reconcile_new_replica_set",
    "reconcile_old_replica_sets",
    "rollout_rolling",
    "scale_down_old_replica_sets",
]

Obj = dict[str, Any]


def _available(rs: Mapping[str, Any]) -> int:
    return int((rs.get("status") or {}).get("availableReplicas") or 0)


async def rollout_rolling(dc: DeploymentController, d: Obj, rs_list: list[Obj]) -> None:
    new_rs, old_rss = await get_all_replica_sets_and_sync_revision(dc, d, rs_list, create=True)
    assert new_rs is not None
    all_rss: list[Obj | None] = [*old_rss, new_rs]
    if await reconcile_new_replica_set(dc, all_rss, new_rs, d):
        await sync_rollout_status(dc, all_rss, new_rs, d)
        return
    if await reconcile_old_replica_sets(dc, all_rss, [rs for rs in old_rss if replicas(rs) > 0], new_rs, d):
        await sync_rollout_status(dc, all_rss, new_rs, d)
        return
    if deployment_complete(d, d.get("status") or {}):
        await cleanup_deployment(dc, old_rss, d)
    await sync_rollout_status(dc, all_rss, new_rs, d)


async def reconcile_new_replica_set(dc: DeploymentController, all_rss: list[Obj | None], new_rs: Obj,
                                    d: Obj) -> bool:
    want = replicas(d)
    if replicas(new_rs) == want:
        return False
    if replicas(new_rs) > want:
        scaled, _ = await scale_replica_set_and_record_event(dc, new_rs, want, d)
        return scaled
    count = new_rs_new_replicas(d, [rs for rs in all_rss if rs is not None], new_rs)
    scaled, _ = await scale_replica_set_and_record_event(dc, new_rs, count, d)
    return scaled


async def reconcile_old_replica_sets(dc: DeploymentController, all_rss: list[Obj | None], old_rss: list[Obj],
                                     new_rs: Obj, d: Obj) -> bool:
    if sum_spec(old_rss) == 0:
        return False
    all_pods = sum_spec(all_rss)
    min_available = replicas(d) - max_unavailable(d)
    new_unavailable = replicas(new_rs) - _available(new_rs)
    max_scaled_down = all_pods - min_available - new_unavailable
    if max_scaled_down <= 0:
        return False
    old_rss, cleaned = await cleanup_unhealthy_replicas(dc, old_rss, d, max_scaled_down)
    scaled_down = await scale_down_old_replica_sets(dc, [*old_rss, new_rs], old_rss, d)
    return cleaned + scaled_down > 0


async def cleanup_unhealthy_replicas(dc: DeploymentController, old_rss: list[Obj], d: Obj,
                                     max_cleanup: int) -> tuple[list[Obj], int]:
    """Scale old ReplicaSets down by their unavailable replicas, oldest first."""
    old_rss = sorted(old_rss, key=creation_key)
    total = 0
    for i, rs in enumerate(old_rss):
        if total >= max_cleanup:
            break
        if replicas(rs) == 0 or replicas(rs) == _available(rs):
            continue
        down = min(max_cleanup - total, replicas(rs) - _available(rs))
        _, old_rss[i] = await scale_replica_set_and_record_event(dc, rs, replicas(rs) - down, d)
        total += down
    return old_rss, total


async def scale_down_old_replica_sets(dc: DeploymentController, all_rss: list[Obj], old_rss: list[Obj],
                                      d: Obj) -> int:
    """Scale old ReplicaSets down while ``replicas - maxUnavailable`` stay available."""
    min_available = replicas(d) - max_unavailable(d)
    available = sum_available(all_rss)
    if available <= min_available:
        return 0
    budget = available - min_available
    total = 0
    for rs in sorted(old_rss, key=creation_key):
        if total >= budget:
            break
        if replicas(rs) == 0:
            continue
        down = min(replicas(rs), budget - total)
        await scale_replica_set_and_record_event(dc, rs, replicas(rs) - down, d)
        total += down
    return total
