"""Priority admission, PDB eviction decisions and the CSR strategy's status/approval split."""

from __future__ import annotations

import pytest

from kubepy.api.resources import Registry
from kubepy.apiserver import errors
from kubepy.apiserver.admission import Attributes
from kubepy.apiserver.admission.priority import Priority
from kubepy.apiserver.registry import disruption
from kubepy.apiserver.registry.certificates import CSRStrategy

REG = Registry()
PODS = REG.get("", "v1", "pods")
PCS = REG.get("scheduling.k8s.io", "v1", "priorityclasses")
CSRS = REG.get("certificates.k8s.io", "v1", "certificatesigningrequests")


def plugin(*classes):
    by_name = {c["metadata"]["name"]: c for c in classes}
    return Priority(by_name.get, lambda: by_name.values())


def pc(name, value, default=False, policy=None):
    out = {"metadata": {"name": name}, "value": value, "globalDefault": default}
    if policy:
        out["preemptionPolicy"] = policy
    return out


def pod_attrs(spec, op="CREATE", old=None):
    return Attributes(op, PODS, "d", "p", {"metadata": {"name": "p"}, "spec": spec}, old, None)


@pytest.mark.parametrize("classes,spec,want", [
    ([pc("high", 1000, policy="Never")], {"priorityClassName": "high"},
     {"priorityClassName": "high", "priority": 1000, "preemptionPolicy": "Never"}),
    ([pc("base", 5, default=True)], {}, {"priorityClassName": "base", "priority": 5}),
    ([], {}, {"priority": 0}),
], ids=["a named class gives its value and policy", "the global default applies to pods naming none",
        "no class and no default gives 0"])
async def test_priority_resolves_the_class(classes, spec, want):
    attrs = pod_attrs(spec)
    await plugin(*classes).admit(attrs)
    assert attrs.obj["spec"] == want


async def test_priority_refuses_an_unknown_class_with_403():
    with pytest.raises(errors.StatusError) as e:
        await plugin().admit(pod_attrs({"priorityClassName": "nope"}))
    assert e.value.code == 403
    assert e.value.message == 'pods "p" is forbidden: no PriorityClass with name nope was found'


async def test_priority_refuses_a_pod_giving_another_integer():
    with pytest.raises(errors.StatusError) as e:
        await plugin(pc("high", 1000)).admit(pod_attrs({"priorityClassName": "high", "priority": 7}))
    assert e.value.code == 403 and "the integer value of priority (7) must not be provided" in e.value.message


async def test_priority_keeps_the_value_on_update():
    attrs = pod_attrs({}, op="UPDATE", old={"spec": {"priority": 9}})
    await plugin().admit(attrs)
    assert attrs.obj["spec"]["priority"] == 9


async def test_only_one_global_default_and_system_classes_stay():
    p = plugin(pc("base", 5, default=True))
    with pytest.raises(errors.StatusError) as e:
        await p.validate(Attributes("CREATE", PCS, "", "other", pc("other", 6, default=True), None, None))
    assert "PriorityClass base is already marked as default. Only one default can exist" in e.value.message
    with pytest.raises(errors.StatusError) as e:
        await p.validate(Attributes("DELETE", PCS, "", "system-node-critical", None, {}, None))
    assert e.value.code == 403 and "this is a system priority class and cannot be deleted" in e.value.message


def running(labels, ready=True, phase="Running"):
    return {"metadata": {"name": "p", "namespace": "d", "labels": labels},
            "status": {"phase": phase, "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


def budget(selector, **status):
    return {"metadata": {"name": "b", "namespace": "d", "generation": 1}, "spec": {"selector": selector},
            "status": {"observedGeneration": 1, **status}}


@pytest.mark.parametrize("pod,budgets,uses_budget", [
    (running({"app": "a"}), [budget({"matchLabels": {"app": "a"}})], True),
    (running({"app": "a"}, phase="Pending"), [budget({"matchLabels": {"app": "a"}})], False),
    (running({"app": "a"}), [budget({})], False),
    (running({"app": "a"}, ready=False), [budget({"matchLabels": {"app": "a"}}, currentHealthy=2, desiredHealthy=1)],
     False),
], ids=["a running selected pod needs its budget", "pending pods are always evictable",
        "an empty selector selects nothing", "an unready pod in a healthy budget needs no disruption"])
def test_eviction_plan(pod, budgets, uses_budget):
    plan = disruption.eviction_plan(pod, disruption.budgets_for_pod(budgets, pod))
    assert (plan.budget is not None) is uses_budget


def test_check_and_decrement_refuses_with_429_and_the_upstream_cause():
    with pytest.raises(errors.StatusError) as e:
        disruption.check_and_decrement(budget({}, disruptionsAllowed=0, desiredHealthy=2, currentHealthy=2),
                                       "p", "now", dry_run=False)
    assert e.value.code == 429 and e.value.reason == "TooManyRequests"
    assert e.value.details == {"causes": [{"reason": "DisruptionBudget",
                                           "message": "The disruption budget b needs 2 healthy pods and has 2 currently"}]}


def test_check_and_decrement_takes_one_and_records_the_pod():
    out = disruption.check_and_decrement(budget({}, disruptionsAllowed=1), "p", "T", dry_run=False)
    assert out["status"]["disruptionsAllowed"] == 0
    assert out["status"]["disruptedPods"] == {"p": "T"}
    assert out["status"]["conditions"][0]["reason"] == "InsufficientPods"


def test_a_stale_budget_status_asks_to_retry():
    stale = budget({}, disruptionsAllowed=3)
    stale["metadata"]["generation"] = 2
    with pytest.raises(errors.StatusError) as e:
        disruption.check_and_decrement(stale, "p", "T", dry_run=False)
    assert e.value.code == 429 and e.value.headers == {"Retry-After": "10"}


def csr(conditions=(), spec=None):
    return {"metadata": {"name": "c", "resourceVersion": "1"}, "spec": spec or {"signerName": "a.io/b"},
            "status": {"conditions": list(conditions)}}


def test_csr_update_keeps_spec_and_status():
    s = CSRStrategy(CSRS)
    new = csr([{"type": "Approved", "status": "True"}], spec={"signerName": "evil.io/x"})
    s.prepare_for_update(new, csr())
    assert new["spec"] == {"signerName": "a.io/b"} and new["status"] == {"conditions": []}


def test_csr_approval_changes_only_conditions_and_stamps_times():
    s = CSRStrategy(CSRS)
    s.clock = lambda: 0.0
    old = csr()
    old["status"]["certificate"] = "CERT"
    new = csr([{"type": "Approved", "status": "True", "reason": "KubectlApprove"}], spec={"signerName": "x.io/y"})
    new["status"]["certificate"] = "FORGED"
    s.prepare_for_subresource_update("approval", new, old)
    assert new["spec"] == old["spec"] and new["status"]["certificate"] == "CERT"
    cond = new["status"]["conditions"][0]
    assert cond["lastUpdateTime"] == cond["lastTransitionTime"] == "1970-01-01T00:00:00Z"


def test_csr_status_write_cannot_touch_approval():
    s = CSRStrategy(CSRS)
    old = csr([{"type": "Approved", "status": "True"}])
    new = csr([{"type": "Failed", "status": "True"}])
    s.prepare_for_status_update(new, old)
    assert [c["type"] for c in new["status"]["conditions"]] == ["Failed", "Approved"]
