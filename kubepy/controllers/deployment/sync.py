"""Deployment sync: the new ReplicaSet, scaling, history cleanup and status.

Job (upstream's sync.go): find or create the new ReplicaSet for the current pod template
(named ``<deployment>-<pod-template-hash>``, the hash added to its labels, selector and
template labels, with the revision and desired/max-replicas annotations), handle a hash
collision by bumping ``status.collisionCount``, scale ReplicaSets (all at once when one is
active, proportionally across old and new ones when the replica count changes in the
middle of a rollout), delete old ReplicaSets past ``revisionHistoryLimit`` that have no
replicas left, and compute the Deployment's status from its ReplicaSets.

Design: functions over ``dc`` (the controller, for writes and the clock) and ``d`` (the
Deployment working copy); decisions come from replicasets.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from kubepy.client import NORMAL, WARNING, ApiError, deepcopy, is_already_exists
from kubepy.controllers.podcontrol import controller_of, owner_reference

from . import rollback
from .hashing import compute_hash
from .replicasets import (
    DEFAULT_UNIQUE_LABEL,
    DESIRED_REPLICAS_ANNOTATION,
    FAILED_RS_CREATE_REASON,
    MIN_AVAILABLE_REASON,
    MIN_UNAVAILABLE_REASON,
    NEW_RS_REASON,
    active,
    creation_key,
    equal_ignore_hash,
    find_active_or_latest,
    find_new_replica_set,
    find_old_replica_sets,
    has_progress_deadline,
    is_saturated,
    max_revision,
    max_surge,
    max_unavailable,
    new_condition,
    new_rs_new_replicas,
    replica_set_proportion,
    replicas,
    replicas_annotations_need_update,
    revision,
    set_condition,
    set_new_rs_annotations,
    set_replicas_annotations,
    sum_available,
    sum_ready,
    sum_spec,
    sum_status,
)

if TYPE_CHECKING:
    from .controller import DeploymentController

__all__ = [
    "calculate_status",
    "cleanup_deployment",
    "get_all_replica_sets_and_sync_revision",
    "is_scaling_event",
    "scale",
    "scale_replica_set",
    "scale_replica_set_and_record_event",
    "sync_paused_or_scaled",
    "sync_deployment_status",
    "sync_status_only",
]

Obj = dict[str, Any]
RS = Mapping[str, Any]


async def sync_status_only(dc: DeploymentController, d: Obj, rs_list: list[Obj]) -> None:
    new_rs, old_rss = await get_all_replica_sets_and_sync_revision(dc, d, rs_list, create=False)
    await sync_deployment_status(dc, [*old_rss, new_rs], new_rs, d)


async def sync_paused_or_scaled(dc: DeploymentController, d: Obj, rs_list: list[Obj]) -> None:
    """Scaling without a rollout: paused Deployments and replica-count changes."""
    new_rs, old_rss = await get_all_replica_sets_and_sync_revision(dc, d, rs_list, create=False)
    await scale(dc, d, new_rs, old_rss)
    if (d.get("spec") or {}).get("paused"):
        await cleanup_deployment(dc, old_rss, d)
    await sync_deployment_status(dc, [*old_rss, new_rs], new_rs, d)


async def is_scaling_event(dc: DeploymentController, d: Obj, rs_list: list[Obj]) -> bool:
    """True when an active ReplicaSet was sized for a different ``spec.replicas``."""
    new_rs, old_rss = await get_all_replica_sets_and_sync_revision(dc, d, rs_list, create=False)
    want = str(replicas(d))
    for rs in active([*old_rss, new_rs]):
        desired = ((rs.get("metadata") or {}).get("annotations") or {}).get(DESIRED_REPLICAS_ANNOTATION)
        if desired is not None and desired != want:
            return True
    return False


async def get_all_replica_sets_and_sync_revision(
    dc: DeploymentController, d: Obj, rs_list: list[Obj], *, create: bool
) -> tuple[Obj | None, list[Obj]]:
    """(new ReplicaSet or None, old ReplicaSets); creates the new one when ``create``."""
    existing = find_new_replica_set(d, rs_list)
    old_rss = [dict(rs) for rs in find_old_replica_sets(d, rs_list, existing)]
    new_rs = await get_new_replica_set(dc, d, rs_list, old_rss, create=create)
    return new_rs, old_rss


async def get_new_replica_set(
    dc: DeploymentController, d: Obj, rs_list: list[Obj], old_rss: list[Obj], *, create: bool
) -> Obj | None:
    existing = find_new_replica_set(d, rs_list)
    new_revision = max_revision(old_rss) + 1
    if existing is not None:
        synced = await rollback.sync_existing_new_replica_set(dc, d, dict(existing), new_revision)
        _replace(rs_list, synced)
        return synced
    if not create:
        return None
    spec = d.get("spec") or {}
    meta = d["metadata"]
    template = deepcopy(spec.get("template") or {})
    collision_count = (d.get("status") or {}).get("collisionCount")
    pod_hash = compute_hash(template, collision_count)
    tmeta = template.setdefault("metadata", {})
    tmeta["labels"] = {**(tmeta.get("labels") or {}), DEFAULT_UNIQUE_LABEL: pod_hash}
    selector = deepcopy(dict(spec.get("selector") or {}))
    selector["matchLabels"] = {**(selector.get("matchLabels") or {}), DEFAULT_UNIQUE_LABEL: pod_hash}
    new_rs: Obj = {
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {
            "name": f"{meta['name']}-{pod_hash}", "namespace": meta["namespace"],
            "ownerReferences": [owner_reference(d)], "labels": dict(tmeta["labels"]),
        },
        "spec": {"replicas": 0, "minReadySeconds": int(spec.get("minReadySeconds") or 0),
                 "selector": selector, "template": template},
    }
    count = new_rs_new_replicas(d, [*old_rss, new_rs], new_rs)
    new_rs["spec"]["replicas"] = count
    set_new_rs_annotations(d, new_rs, new_revision, exists=False)
    already_exists = False
    try:
        created = await dc.create_rs(new_rs)
    except ApiError as e:
        if is_already_exists(e):
            already_exists = True
            found = dc.rs_informer.indexer.get_by_name(meta["namespace"], new_rs["metadata"]["name"])
            if found is None:
                raise
            ref = controller_of(found)
            if ref is not None and ref.get("uid") == meta["uid"] and equal_ignore_hash(
                    spec.get("template"), (found.get("spec") or {}).get("template")):
                created = dict(found)
            else:
                # a different template already has this name: step the hash and retry
                status = d.setdefault("status", {})
                status["collisionCount"] = int(status.get("collisionCount") or 0) + 1
                await dc.write_status(d)
                raise
        else:
            msg = f'Failed to create new replica set "{new_rs["metadata"]["name"]}": {e}'
            if has_progress_deadline(d):
                set_condition(d.setdefault("status", {}),
                              new_condition("Progressing", "False", FAILED_RS_CREATE_REASON, msg, dc.now()))
                try:
                    await dc.write_status(d)
                except ApiError:
                    pass
            dc.event(d, WARNING, FAILED_RS_CREATE_REASON, msg)
            raise
    _replace(rs_list, created)
    if not already_exists and count > 0:
        dc.event(d, NORMAL, "ScalingReplicaSet",
                 f"Scaled up replica set {created['metadata']['name']} from 0 to {count}")
    await dc.set_revision(d, str(new_revision))
    if not already_exists and has_progress_deadline(d):
        set_condition(d.setdefault("status", {}), new_condition(
            "Progressing", "True", NEW_RS_REASON, f'Created new replica set "{created["metadata"]["name"]}"',
            dc.now()))
        await dc.write_status(d)
    return created


def _replace(rs_list: list[Obj], rs: Obj) -> None:
    """Keep this sync's list of ReplicaSets current after writing one (later steps of the
    same sync must not write a stale copy and conflict)."""
    uid = rs["metadata"].get("uid")
    for i, cur in enumerate(rs_list):
        if cur["metadata"].get("uid") == uid:
            rs_list[i] = rs
            return
    rs_list.append(rs)


async def scale(dc: DeploymentController, d: Obj, new_rs: Obj | None, old_rss: list[Obj]) -> None:
    """Upstream's scale(): one active RS takes the whole count; a saturated new RS means old
    ones go to zero; otherwise (rolling) the change is split proportionally."""
    want = replicas(d)
    target = find_active_or_latest(new_rs, old_rss)
    if target is not None:
        if replicas(target) != want:
            await scale_replica_set_and_record_event(dc, dict(target), want, d)
        return
    if is_saturated(d, new_rs):
        for old in active(old_rss):
            await scale_replica_set_and_record_event(dc, dict(old), 0, d)
        return
    if ((d.get("spec") or {}).get("strategy") or {}).get("type", "RollingUpdate") != "RollingUpdate":
        return
    all_rss = active([*old_rss, new_rs])
    allowed = want + max_surge(d) if want > 0 else 0
    to_add = allowed - sum_spec(all_rss)
    op = ""
    if to_add > 0:
        # bigger first; among equals the newer one scales up first
        all_rss = sorted(sorted(all_rss, key=creation_key, reverse=True), key=replicas, reverse=True)
        op = "up"
    elif to_add < 0:
        # bigger first; among equals the older one scales down first
        all_rss = sorted(sorted(all_rss, key=creation_key), key=replicas, reverse=True)
        op = "down"
    added = 0
    sizes: dict[str, int] = {}
    for rs in all_rss:
        name = rs["metadata"]["name"]
        if to_add != 0:
            share = replica_set_proportion(rs, d, to_add, added)
            sizes[name] = replicas(rs) + share
            added += share
        else:
            sizes[name] = replicas(rs)
    for i, rs in enumerate(all_rss):
        name = rs["metadata"]["name"]
        if i == 0 and to_add != 0:
            sizes[name] = max(0, sizes[name] + to_add - added)
        await scale_replica_set(dc, dict(rs), sizes[name], d, op)


async def scale_replica_set_and_record_event(
    dc: DeploymentController, rs: Obj, new_scale: int, d: Obj
) -> tuple[bool, Obj]:
    if replicas(rs) == new_scale:
        return False, rs
    return await scale_replica_set(dc, rs, new_scale, d, "up" if replicas(rs) < new_scale else "down")


async def scale_replica_set(
    dc: DeploymentController, rs: Obj, new_scale: int, d: Obj, op: str
) -> tuple[bool, Obj]:
    """Set the RS's replicas (and desired/max annotations); event when the size changed."""
    size_changed = replicas(rs) != new_scale
    want = replicas(d)
    max_replicas = want + max_surge(d)
    if not size_changed and not replicas_annotations_need_update(rs, want, max_replicas):
        return False, rs
    old_scale = replicas(rs)
    copy = deepcopy(rs)
    copy.setdefault("spec", {})["replicas"] = new_scale
    set_replicas_annotations(copy, want, max_replicas)
    updated = await dc.update_rs(copy)
    if size_changed:
        dc.event(d, NORMAL, "ScalingReplicaSet",
                 f"Scaled {op} replica set {updated['metadata']['name']} from {old_scale} to {new_scale}")
    return size_changed, updated


async def cleanup_deployment(dc: DeploymentController, old_rss: Sequence[RS], d: Obj) -> None:
    """Delete the oldest ReplicaSets beyond revisionHistoryLimit that are fully scaled down."""
    limit = (d.get("spec") or {}).get("revisionHistoryLimit")
    if limit is None:
        return
    alive = [rs for rs in old_rss if not (rs.get("metadata") or {}).get("deletionTimestamp")]
    diff = len(alive) - int(limit)
    if diff <= 0:
        return
    alive.sort(key=lambda rs: (revision(rs), creation_key(rs)))
    for rs in alive[:diff]:
        meta = rs.get("metadata") or {}
        status = rs.get("status") or {}
        if (int(status.get("replicas") or 0) != 0 or replicas(rs) != 0
                or int(meta.get("generation") or 0) > int(status.get("observedGeneration") or 0)):
            continue
        await dc.delete_rs(rs)


def calculate_status(all_rss: Sequence[RS | None], new_rs: RS | None, d: Mapping[str, Any], now: float) -> Obj:
    """The Deployment status from its ReplicaSets (zero counts left out, as omitempty does)."""
    available = sum_available(all_rss)
    unavailable = max(0, sum_spec(all_rss) - available)
    old = d.get("status") or {}
    status: Obj = {}
    for field, value in (
        ("observedGeneration", int((d.get("metadata") or {}).get("generation") or 0)),
        ("replicas", sum_status(all_rss)),
        ("updatedReplicas", sum_status([new_rs])),
        ("readyReplicas", sum_ready(all_rss)),
        ("availableReplicas", available),
        ("unavailableReplicas", unavailable),
    ):
        if value:
            status[field] = value
    if old.get("collisionCount") is not None:
        status["collisionCount"] = old["collisionCount"]
    if old.get("conditions"):
        status["conditions"] = [dict(c) for c in old["conditions"]]
    if available >= replicas(d) - max_unavailable(d):
        set_condition(status, new_condition("Available", "True", MIN_AVAILABLE_REASON,
                                            "Deployment has minimum availability.", now))
    else:
        set_condition(status, new_condition("Available", "False", MIN_UNAVAILABLE_REASON,
                                            "Deployment does not have minimum availability.", now))
    return status


def status_equal(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> bool:
    """Equal as the Go struct would be: missing and zero counts are the same."""
    def norm(s: Mapping[str, Any] | None) -> dict[str, Any]:
        return {k: v for k, v in (s or {}).items() if v not in (0, None, [], {})}
    return norm(a) == norm(b)


async def sync_deployment_status(dc: DeploymentController, all_rss: Sequence[RS | None], new_rs: RS | None,
                                 d: Obj) -> None:
    new_status = calculate_status(all_rss, new_rs, d, dc.now())
    if status_equal(d.get("status"), new_status):
        return
    d["status"] = new_status
    await dc.write_status(d)
