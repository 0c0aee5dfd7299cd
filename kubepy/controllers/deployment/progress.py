"""Rollout progress: the Progressing and Available conditions and the progress deadline.

Job (upstream's progress.go): after each rollout step compute the status and set
Progressing to NewReplicaSetAvailable (complete), ReplicaSetUpdated (some progress since
the last status: more updated, ready or available pods, or fewer old ones; only
lastUpdateTime moves) or ProgressDeadlineExceeded (no progress for
``progressDeadlineSeconds`` since lastUpdateTime); copy a ReplicaSet's ReplicaFailure
condition up; and, while a rollout is under way with nothing to write, requeue the
Deployment for when its deadline would pass, so the timeout is noticed without any other
event. Paused and resumed Deployments get DeploymentPaused/DeploymentResumed (status
Unknown).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .replicasets import (
    NEW_RS_AVAILABLE_REASON,
    PAUSED_REASON,
    RESUMED_REASON,
    RS_UPDATED_REASON,
    TIMED_OUT_REASON,
    deployment_complete,
    get_condition,
    has_progress_deadline,
    new_condition,
    remove_condition,
    set_condition,
)
from .sync import calculate_status, status_equal

if TYPE_CHECKING:
    from .controller import DeploymentController

__all__ = ["check_paused_conditions", "deployment_progressing", "deployment_timed_out", "sync_rollout_status"]

Obj = dict[str, Any]
RS = Mapping[str, Any]


def _time(value: Any) -> float | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def deployment_progressing(d: Mapping[str, Any], new_status: Mapping[str, Any]) -> bool:
    old = d.get("status") or {}

    def n(s: Mapping[str, Any], f: str) -> int:
        return int(s.get(f) or 0)

    old_old = n(old, "replicas") - n(old, "updatedReplicas")
    new_old = n(new_status, "replicas") - n(new_status, "updatedReplicas")
    return (n(new_status, "updatedReplicas") > n(old, "updatedReplicas") or new_old < old_old
            or n(new_status, "readyReplicas") > n(old, "readyReplicas")
            or n(new_status, "availableReplicas") > n(old, "availableReplicas"))


def deployment_timed_out(d: Mapping[str, Any], new_status: Mapping[str, Any], now: float) -> bool:
    if not has_progress_deadline(d):
        return False
    cond = get_condition(new_status, "Progressing")
    if cond is None or cond.get("reason") == NEW_RS_AVAILABLE_REASON:
        return False
    if cond.get("reason") == TIMED_OUT_REASON:
        return True
    since = _time(cond.get("lastUpdateTime"))
    if since is None:
        return False
    return since + int((d.get("spec") or {}).get("progressDeadlineSeconds") or 0) < now


def _replica_failure(all_rss: Sequence[RS | None], new_rs: RS | None) -> Obj | None:
    """The first ReplicaFailure condition: the new RS's first, then the old ones'."""
    def failure(rs: RS | None) -> Obj | None:
        for c in ((rs or {}).get("status") or {}).get("conditions") or ():
            if c.get("type") == "ReplicaFailure":
                return {"type": "ReplicaFailure", "status": c.get("status"), "reason": c.get("reason"),
                        "message": c.get("message"), "lastUpdateTime": c.get("lastTransitionTime"),
                        "lastTransitionTime": c.get("lastTransitionTime")}
        return None

    found = failure(new_rs)
    if found is not None:
        return found
    for rs in all_rss:
        if rs is not None and rs is not new_rs:
            found = failure(rs)
            if found is not None:
                return found
    return None


async def sync_rollout_status(dc: DeploymentController, all_rss: Sequence[RS | None], new_rs: RS | None,
                              d: Obj) -> None:
    now = dc.now()
    new_status = calculate_status(all_rss, new_rs, d, now)
    if not has_progress_deadline(d):
        remove_condition(new_status, "Progressing")
    current = get_condition(d.get("status") or {}, "Progressing")
    complete_already = (int(new_status.get("replicas") or 0) == int(new_status.get("updatedReplicas") or 0)
                        and current is not None and current.get("reason") == NEW_RS_AVAILABLE_REASON)
    if has_progress_deadline(d) and not complete_already:
        name = d["metadata"]["name"]
        if deployment_complete(d, new_status):
            msg = (f'ReplicaSet "{new_rs["metadata"]["name"]}" has successfully progressed.' if new_rs is not None
                   else f'Deployment "{name}" has successfully progressed.')
            set_condition(new_status, new_condition("Progressing", "True", NEW_RS_AVAILABLE_REASON, msg, now))
        elif deployment_progressing(d, new_status):
            msg = (f'ReplicaSet "{new_rs["metadata"]["name"]}" is progressing.' if new_rs is not None
                   else f'Deployment "{name}" is progressing.')
            cond = new_condition("Progressing", "True", RS_UPDATED_REASON, msg, now)
            if current is not None:
                if current.get("status") == "True":
                    cond["lastTransitionTime"] = current.get("lastTransitionTime")
                remove_condition(new_status, "Progressing")
            set_condition(new_status, cond)
        elif deployment_timed_out(d, new_status, now):
            msg = (f'ReplicaSet "{new_rs["metadata"]["name"]}" has timed out progressing.' if new_rs is not None
                   else f'Deployment "{name}" has timed out progressing.')
            set_condition(new_status, new_condition("Progressing", "False", TIMED_OUT_REASON, msg, now))
    failure = _replica_failure(all_rss, new_rs)
    if failure is not None:
        set_condition(new_status, failure)
    else:
        remove_condition(new_status, "ReplicaFailure")
    if status_equal(d.get("status"), new_status):
        _requeue_stuck(dc, d, new_status, now)
        return
    d["status"] = new_status
    await dc.write_status(d)


def _requeue_stuck(dc: DeploymentController, d: Obj, new_status: Mapping[str, Any], now: float) -> None:
    """Come back when the progress deadline would pass (upstream requeueStuckDeployment)."""
    current = get_condition(d.get("status") or {}, "Progressing")
    if not has_progress_deadline(d) or current is None:
        return
    if deployment_complete(d, new_status) or current.get("reason") == TIMED_OUT_REASON:
        return
    since = _time(current.get("lastUpdateTime"))
    if since is None:
        return
    after = since + int((d.get("spec") or {}).get("progressDeadlineSeconds") or 0) - now
    key = f"{d['metadata']['namespace']}/{d['metadata']['name']}"
    if after < 1.0:
        dc.queue.add_rate_limited(key)
    else:
        dc.queue.add_after(key, after + 1.0)


async def check_paused_conditions(dc: DeploymentController, d: Obj) -> None:
    if not has_progress_deadline(d):
        return
    status = d.setdefault("status", {})
    cond = get_condition(status, "Progressing")
    if cond is not None and cond.get("reason") == TIMED_OUT_REASON:
        return
    paused_cond = cond is not None and cond.get("reason") == PAUSED_REASON
    paused = bool((d.get("spec") or {}).get("paused"))
    if paused and not paused_cond:
        set_condition(status, new_condition("Progressing", "Unknown", PAUSED_REASON, "Deployment is paused", dc.now()))
    elif not paused and paused_cond:
        set_condition(status, new_condition("Progressing", "Unknown", RESUMED_REASON, "Deployment is resumed",
                                            dc.now()))
    else:
        return
    await dc.write_status(d)
