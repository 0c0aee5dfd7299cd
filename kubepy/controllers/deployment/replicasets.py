"""Pure arithmetic over a Deployment and its ReplicaSets (upstream's deployment/util).

Job: everything the sync, rolling, recreate and progress modules decide from, with no I/O:
which ReplicaSet is the new one (template equal ignoring the hash label) and which are
old, revisions and the annotations a ReplicaSet carries, maxSurge/maxUnavailable resolved
against the replica count (surge rounds up, unavailable down, never both zero), replica
sums, proportional shares for scaling during a rollout, and conditions. Keeping these pure
lets the unit tests check the numbers with tables and no client.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from kubepy.client.events import rfc3339

__all__ = [
    "DEFAULT_UNIQUE_LABEL",
    "DESIRED_REPLICAS_ANNOTATION",
    "MAX_REPLICAS_ANNOTATION",
    "MAX_REV_HISTORY_CHARS",
    "REVISION_ANNOTATION",
    "REVISION_HISTORY_ANNOTATION",
    "deployment_complete",
    "equal_ignore_hash",
    "find_active_or_latest",
    "find_new_replica_set",
    "find_old_replica_sets",
    "get_condition",
    "has_progress_deadline",
    "max_revision",
    "max_surge",
    "max_unavailable",
    "new_condition",
    "new_rs_new_replicas",
    "remove_condition",
    "replica_set_proportion",
    "replicas",
    "resolve_fenceposts",
    "revision",
    "scaled_value",
    "set_condition",
    "set_replicas_annotations",
    "sum_available",
    "sum_ready",
    "sum_spec",
    "sum_status",
]

Obj = dict[str, Any]
RS = Mapping[str, Any]

DEFAULT_UNIQUE_LABEL = "pod-template-hash"
REVISION_ANNOTATION = "deployment.kubernetes.io/revision"
REVISION_HISTORY_ANNOTATION = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS_ANNOTATION = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS_ANNOTATION = "deployment.kubernetes.io/max-replicas"
ROLLBACK_TO_ANNOTATION = "deprecated.deployment.rollback.to"
LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration"
#: annotations a Deployment does not copy onto its ReplicaSets
SKIP_COPY_ANNOTATIONS = frozenset({
    LAST_APPLIED_ANNOTATION, REVISION_ANNOTATION, REVISION_HISTORY_ANNOTATION,
    DESIRED_REPLICAS_ANNOTATION, MAX_REPLICAS_ANNOTATION, ROLLBACK_TO_ANNOTATION,
})
MAX_REV_HISTORY_CHARS = 2000
MAX_INT32 = 2**31 - 1

# condition reasons (upstream deployment/util)
NEW_RS_REASON = "NewReplicaSetCreated"
FOUND_NEW_RS_REASON = "FoundNewReplicaSet"
RS_UPDATED_REASON = "ReplicaSetUpdated"
NEW_RS_AVAILABLE_REASON = "NewReplicaSetAvailable"
TIMED_OUT_REASON = "ProgressDeadlineExceeded"
FAILED_RS_CREATE_REASON = "ReplicaSetCreateError"
PAUSED_REASON = "DeploymentPaused"
RESUMED_REASON = "DeploymentResumed"
MIN_AVAILABLE_REASON = "MinimumReplicasAvailable"
MIN_UNAVAILABLE_REASON = "MinimumReplicasUnavailable"


# -- small accessors --------------------------------------------------------------------------------

def replicas(obj: Mapping[str, Any]) -> int:
    """``spec.replicas`` (defaulted to 1 by the server; 1 if absent)."""
    value = (obj.get("spec") or {}).get("replicas")
    return 1 if value is None else int(value)


def _status_int(obj: Mapping[str, Any], field: str) -> int:
    return int((obj.get("status") or {}).get(field) or 0)


def sum_spec(rss: Iterable[RS | None]) -> int:
    return sum(replicas(rs) for rs in rss if rs is not None)


def sum_status(rss: Iterable[RS | None]) -> int:
    return sum(_status_int(rs, "replicas") for rs in rss if rs is not None)


def sum_ready(rss: Iterable[RS | None]) -> int:
    return sum(_status_int(rs, "readyReplicas") for rs in rss if rs is not None)


def sum_available(rss: Iterable[RS | None]) -> int:
    return sum(_status_int(rs, "availableReplicas") for rs in rss if rs is not None)


def annotations_of(obj: Mapping[str, Any]) -> Mapping[str, str]:
    return (obj.get("metadata") or {}).get("annotations") or {}


def revision(obj: Mapping[str, Any]) -> int:
    """The revision annotation as a number (0 when missing or not a number)."""
    try:
        return int(annotations_of(obj).get(REVISION_ANNOTATION, "0"))
    except ValueError:
        return 0


def max_revision(rss: Iterable[RS]) -> int:
    return max((revision(rs) for rs in rss), default=0)


def creation_key(rs: RS) -> tuple[str, str]:
    """Sort key: oldest first, name breaks ties (upstream ReplicaSetsByCreationTimestamp)."""
    meta = rs.get("metadata") or {}
    return (str(meta.get("creationTimestamp") or ""), str(meta.get("name") or ""))


# -- templates and which ReplicaSet is new ---------------------------------------------------------

def _without_hash(template: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = template.get("metadata") or {}
    labels = meta.get("labels") or {}
    if DEFAULT_UNIQUE_LABEL not in labels and "labels" in meta and labels:
        return template
    new_labels = {k: v for k, v in labels.items() if k != DEFAULT_UNIQUE_LABEL}
    new_meta = {k: v for k, v in meta.items() if k != "labels"}
    if new_labels:
        new_meta["labels"] = new_labels
    out = dict(template)
    if new_meta:
        out["metadata"] = new_meta
    else:
        out.pop("metadata", None)
    return out


def equal_ignore_hash(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> bool:
    """Templates equal once the pod-template-hash label is removed from both."""
    return _without_hash(a or {}) == _without_hash(b or {})


def find_new_replica_set(d: Mapping[str, Any], rss: Sequence[RS]) -> RS | None:
    """The oldest ReplicaSet whose template equals the Deployment's (ignoring the hash)."""
    template = (d.get("spec") or {}).get("template")
    for rs in sorted(rss, key=creation_key):
        if equal_ignore_hash((rs.get("spec") or {}).get("template"), template):
            return rs
    return None


def find_old_replica_sets(d: Mapping[str, Any], rss: Sequence[RS], new_rs: RS | None = None) -> list[RS]:
    """Every ReplicaSet but the new one."""
    new_uid = ((new_rs or {}).get("metadata") or {}).get("uid")
    return [rs for rs in rss if new_rs is None or rs["metadata"].get("uid") != new_uid]


def active(rss: Iterable[RS | None]) -> list[RS]:
    """ReplicaSets with spec.replicas > 0."""
    return [rs for rs in rss if rs is not None and replicas(rs) > 0]


def find_active_or_latest(new_rs: RS | None, old_rss: Sequence[RS]) -> RS | None:
    """The one active ReplicaSet; with none active, the newest; with several, None."""
    if new_rs is None and not old_rss:
        return None
    all_rss = sorted([*old_rss, *([new_rs] if new_rs is not None else [])], key=creation_key, reverse=True)
    act = active(all_rss)
    if len(act) == 0:
        return all_rss[0]
    if len(act) == 1:
        return act[0]
    return None


def is_saturated(d: Mapping[str, Any], rs: RS | None) -> bool:
    if rs is None:
        return False
    try:
        desired = int(annotations_of(rs).get(DESIRED_REPLICAS_ANNOTATION, ""))
    except ValueError:
        return False
    want = replicas(d)
    return replicas(rs) == want and desired == want and _status_int(rs, "availableReplicas") == want


# -- maxSurge / maxUnavailable ---------------------------------------------------------------------

def scaled_value(value: int | str | None, total: int, round_up: bool) -> int:
    """An int-or-percent against ``total`` (upstream GetScaledValueFromIntOrPercent)."""
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    s = str(value)
    if s.endswith("%"):
        pct = int(s[:-1])
        x = total * pct / 100
        return int(math.ceil(x)) if round_up else int(math.floor(x))
    return int(s)


def _rolling(d: Mapping[str, Any]) -> Mapping[str, Any] | None:
    strategy = (d.get("spec") or {}).get("strategy") or {}
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        return None
    ru: Mapping[str, Any] = strategy.get("rollingUpdate") or {}
    return ru


def resolve_fenceposts(surge: int | str | None, unavailable: int | str | None, desired: int) -> tuple[int, int]:
    s = scaled_value(surge, desired, True)
    u = scaled_value(unavailable, desired, False)
    if s == 0 and u == 0:
        u = 1  # rounding made both zero: allow one unavailable rather than no progress
    return s, u


def max_surge(d: Mapping[str, Any]) -> int:
    ru = _rolling(d)
    if ru is None:
        return 0
    return resolve_fenceposts(ru.get("maxSurge", "25%"), ru.get("maxUnavailable", "25%"), replicas(d))[0]


def max_unavailable(d: Mapping[str, Any]) -> int:
    ru = _rolling(d)
    want = replicas(d)
    if ru is None or want == 0:
        return 0
    u = resolve_fenceposts(ru.get("maxSurge", "25%"), ru.get("maxUnavailable", "25%"), want)[1]
    return min(u, want)


def new_rs_new_replicas(d: Mapping[str, Any], all_rss: Sequence[RS | None], new_rs: RS) -> int:
    """How big the new ReplicaSet may be now (upstream NewRSNewReplicas)."""
    want = replicas(d)
    if _rolling(d) is None:
        return want
    current = sum_spec(all_rss)
    max_total = want + max_surge(d)
    if current >= max_total:
        return replicas(new_rs)
    up = min(max_total - current, want - replicas(new_rs))
    return replicas(new_rs) + up


# -- annotations on ReplicaSets ----------------------------------------------------------------------

def replicas_annotations_need_update(rs: RS, desired: int, max_replicas: int) -> bool:
    ann = annotations_of(rs)
    return ann.get(DESIRED_REPLICAS_ANNOTATION) != str(desired) or ann.get(MAX_REPLICAS_ANNOTATION) != str(max_replicas)


def set_replicas_annotations(rs: Obj, desired: int, max_replicas: int) -> bool:
    ann = rs.setdefault("metadata", {}).setdefault("annotations", {})
    changed = False
    for k, v in ((DESIRED_REPLICAS_ANNOTATION, str(desired)), (MAX_REPLICAS_ANNOTATION, str(max_replicas))):
        if ann.get(k) != v:
            ann[k] = v
            changed = True
    return changed


def copy_deployment_annotations(d: Mapping[str, Any], rs: Obj) -> bool:
    """Copy the Deployment's annotations (but its own bookkeeping ones) onto the RS."""
    ann = rs.setdefault("metadata", {}).setdefault("annotations", {})
    changed = False
    for k, v in annotations_of(d).items():
        if k in SKIP_COPY_ANNOTATIONS or ann.get(k) == v:
            continue
        ann[k] = v
        changed = True
    return changed


def set_new_rs_annotations(d: Mapping[str, Any], rs: Obj, new_revision: int, *, exists: bool) -> bool:
    """Upstream SetNewReplicaSetAnnotations: copy annotations, raise the revision to
    ``new_revision`` (remembering the old one in revision-history: this is what a rollback
    to an old template looks like), and on creation set desired/max replicas."""
    changed = copy_deployment_annotations(d, rs)
    ann = rs["metadata"]["annotations"]
    had = REVISION_ANNOTATION in ann
    old_raw = ann.get(REVISION_ANNOTATION, "")
    try:
        old_revision = int(old_raw) if old_raw else 0
    except ValueError:
        return changed
    if old_revision < new_revision:
        ann[REVISION_ANNOTATION] = str(new_revision)
        changed = True
        if had:
            _append_revision_history(ann, old_raw)
    if not exists and set_replicas_annotations(rs, replicas(d), replicas(d) + max_surge(d)):
        changed = True
    return changed


def _append_revision_history(ann: dict[str, str], old_revision: str) -> None:
    history = ann.get(REVISION_HISTORY_ANNOTATION, "")
    if not history:
        ann[REVISION_HISTORY_ANNOTATION] = old_revision
        return
    parts = history.split(",")
    total = len(history) + len(old_revision) + 1
    start = 0
    while total > MAX_REV_HISTORY_CHARS and start < len(parts):
        total -= len(parts[start]) + 1
        start += 1
    if total <= MAX_REV_HISTORY_CHARS:
        ann[REVISION_HISTORY_ANNOTATION] = ",".join([*parts[start:], old_revision])


# -- proportional scaling -----------------------------------------------------------------------------

def _round(x: float) -> int:
    return int(x - 0.5) if x < 0 else int(x + 0.5)


def replica_set_proportion(rs: RS | None, d: Mapping[str, Any], to_add: int, added: int) -> int:
    """This RS's share of ``to_add`` (upstream GetReplicaSetProportion)."""
    if rs is None or replicas(rs) == 0 or to_add == 0 or to_add == added:
        return 0
    fraction = _replica_set_fraction(rs, d)
    allowed = to_add - added
    return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)


def _replica_set_fraction(rs: RS, d: Mapping[str, Any]) -> int:
    if replicas(d) == 0:
        return -replicas(rs)
    deployment_max = replicas(d) + max_surge(d)
    try:
        annotated = int(annotations_of(rs).get(MAX_REPLICAS_ANNOTATION, ""))
    except ValueError:
        annotated = 0
    if annotated == 0:
        annotated = _status_int(d, "replicas")
    if annotated == 0:
        return 0
    return _round(replicas(rs) * deployment_max / annotated) - replicas(rs)


# -- conditions and completion ------------------------------------------------------------------------

def has_progress_deadline(d: Mapping[str, Any]) -> bool:
    pds = (d.get("spec") or {}).get("progressDeadlineSeconds")
    return pds is not None and int(pds) != MAX_INT32


def new_condition(type_: str, status: str, reason: str, message: str, now: float) -> Obj:
    t = rfc3339(now)
    return {"type": type_, "status": status, "lastUpdateTime": t, "lastTransitionTime": t,
            "reason": reason, "message": message}


def get_condition(status: Mapping[str, Any], type_: str) -> Obj | None:
    for c in status.get("conditions") or ():
        if c.get("type") == type_:
            return c  # type: ignore[no-any-return]
    return None


def set_condition(status: Obj, cond: Obj) -> None:
    """Upstream SetDeploymentCondition: same status and reason is a no-op; same status keeps
    lastTransitionTime; the condition moves to the end of the list."""
    cur = get_condition(status, cond["type"])
    if cur is not None and cur.get("status") == cond["status"] and cur.get("reason") == cond["reason"]:
        return
    if cur is not None and cur.get("status") == cond["status"]:
        cond = {**cond, "lastTransitionTime": cur.get("lastTransitionTime")}
    status["conditions"] = [c for c in status.get("conditions") or () if c.get("type") != cond["type"]] + [cond]


def remove_condition(status: Obj, type_: str) -> None:
    conds = [c for c in status.get("conditions") or () if c.get("type") != type_]
    if conds:
        status["conditions"] = conds
    else:
        status.pop("conditions", None)


def deployment_complete(d: Mapping[str, Any], status: Mapping[str, Any]) -> bool:
    want = replicas(d)
    return (int(status.get("updatedReplicas") or 0) == want and int(status.get("replicas") or 0) == want
            and int(status.get("availableReplicas") or 0) == want
            and int(status.get("observedGeneration") or 0) >= int((d.get("metadata") or {}).get("generation") or 0))
