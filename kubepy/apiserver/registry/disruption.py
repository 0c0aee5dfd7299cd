"""Pod disruption budgets as the eviction subresource applies them.

Upstream's ``EvictionREST`` in three pure steps, so the handler only reads and writes:
``budgets_for_pod`` picks the PodDisruptionBudgets selecting a pod (an empty selector
selects nothing), ``eviction_plan`` says whether the budget must be consulted at all
(pods that are not running, or already deleting, are always evictable; an unready pod
does not count against a healthy budget), and ``check_and_decrement`` is the mutation
run inside a compare-and-swap status write: it refuses with 429 when the budget allows
no disruption (or its status is stale), else takes one disruption and records the pod
in ``status.disruptedPods`` for the disruption controller.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kubepy.api.validation.meta import selector_is_empty, selector_matches
from kubepy.apiserver import errors

Obj = dict[str, Any]

MAX_DISRUPTED_POD_SIZE = 2000
TOO_MANY_REQUESTS_MESSAGE = "Cannot evict pod as it would violate the pod's disruption budget."
DISRUPTION_BUDGET_CAUSE = "DisruptionBudget"
DISRUPTION_ALLOWED = "DisruptionAllowed"
SUFFICIENT_PODS, INSUFFICIENT_PODS = "SufficientPods", "InsufficientPods"


def is_pod_ready(pod: Mapping[str, Any]) -> bool:
    for cond in (pod.get("status") or {}).get("conditions") or ():
        if cond.get("type") == "Ready":
            return bool(cond.get("status") == "True")
    return False


def can_ignore_budget(pod: Mapping[str, Any]) -> bool:
    """Pods that are finished, not started yet, or already deleting need no budget."""
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        return True
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed", "Pending")


def budgets_for_pod(budgets: Iterable[Mapping[str, Any]], pod: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    meta = pod.get("metadata") or {}
    namespace, labels = meta.get("namespace"), meta.get("labels") or {}
    out = []
    for pdb in budgets:
        if (pdb.get("metadata") or {}).get("namespace") != namespace:
            continue
        selector = (pdb.get("spec") or {}).get("selector")
        if selector_is_empty(selector) or not selector_matches(selector, labels):
            continue
        out.append(pdb)
    return out


@dataclass(frozen=True, slots=True)
class Plan:
    #: the budget to decrement before deleting (None: delete without one)
    budget: Mapping[str, Any] | None


def eviction_plan(pod: Mapping[str, Any], budgets: list[Mapping[str, Any]]) -> Plan:
    """What evicting ``pod`` needs, given the budgets selecting it (StatusError if refused)."""
    if can_ignore_budget(pod) or not budgets:
        return Plan(budget=None)
    if len(budgets) > 1:
        raise errors.StatusError(
            500, "InternalError",
            "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
        )
    pdb = budgets[0]
    if not is_pod_ready(pod):
        spec, status = pdb.get("spec") or {}, pdb.get("status") or {}
        if spec.get("unhealthyPodEvictionPolicy") == "AlwaysAllow":
            return Plan(budget=None)
        desired = status.get("desiredHealthy", 0)
        if status.get("currentHealthy", 0) >= desired and desired > 0:
            return Plan(budget=None)  # an unready pod is not counted as healthy
    return Plan(budget=pdb)


def too_many_requests(cause: str, retry_after: int) -> errors.StatusError:
    details: dict[str, Any] = {"causes": [{"reason": DISRUPTION_BUDGET_CAUSE, "message": cause}]}
    headers = {}
    if retry_after:
        details["retryAfterSeconds"] = retry_after
        headers["Retry-After"] = str(retry_after)
    return errors.StatusError(429, "TooManyRequests", TOO_MANY_REQUESTS_MESSAGE, details=details, headers=headers)


def set_disruption_allowed_condition(status: Obj, now: str) -> None:
    """The DisruptionAllowed condition for ``status.disruptionsAllowed`` (as apimeta.SetStatusCondition)."""
    allowed = status.get("disruptionsAllowed", 0) > 0
    want = {
        "type": DISRUPTION_ALLOWED,
        "status": "True" if allowed else "False",
        "observedGeneration": status.get("observedGeneration", 0),
        "reason": SUFFICIENT_PODS if allowed else INSUFFICIENT_PODS,
        "message": "",
    }
    conditions = [c for c in status.get("conditions") or () if isinstance(c, dict)]
    for i, cond in enumerate(conditions):
        if cond.get("type") == DISRUPTION_ALLOWED:
            keep_time = cond.get("status") == want["status"] and cond.get("lastTransitionTime")
            want["lastTransitionTime"] = cond["lastTransitionTime"] if keep_time else now
            conditions[i] = want
            break
    else:
        want["lastTransitionTime"] = now
        conditions.append(want)
    status["conditions"] = conditions


def check_and_decrement(pdb: Obj, pod_name: str, now: str, *, dry_run: bool) -> Obj:
    """Take one disruption from ``pdb`` (a private copy, changed in place and returned)."""
    meta = pdb.get("metadata") or {}
    name = meta.get("name", "")
    status = pdb.get("status")
    if not isinstance(status, dict):
        status = pdb["status"] = {}
    if status.get("observedGeneration", 0) < meta.get("generation", 0):
        raise too_many_requests(f"The disruption budget {name} is still being processed by the server.", 10)
    allowed = status.get("disruptionsAllowed", 0)
    if allowed < 0:
        raise errors.forbidden("poddisruptionbudget", "policy", name, "pdb disruptions allowed is negative")
    disrupted = status.get("disruptedPods") or {}
    if len(disrupted) > MAX_DISRUPTED_POD_SIZE:
        raise errors.forbidden("poddisruptionbudget", "policy", name,
                               "DisruptedPods map too big - too many evictions not confirmed by PDB controller")
    if allowed == 0:
        raise too_many_requests(
            f"The disruption budget {name} needs {status.get('desiredHealthy', 0)} healthy pods and has "
            f"{status.get('currentHealthy', 0)} currently", 0)
    status["disruptionsAllowed"] = allowed - 1
    if allowed - 1 == 0:
        set_disruption_allowed_condition(status, now)
    if not dry_run:
        status["disruptedPods"] = {**disrupted, pod_name: now}
    return pdb
