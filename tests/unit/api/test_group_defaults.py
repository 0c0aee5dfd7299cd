"""Upstream defaults of the issue-6 groups (kubepy.api.group_defaults), run through the
same definition-keyed walk that kubepy.api.defaults uses."""

from __future__ import annotations

import copy

import pytest

from kubepy.api import group_defaults


def run(schema: str, obj: dict) -> dict:
    """Apply the group defaulters along the definitions, as defaults.apply_defaults will."""
    from kubepy.api import defaults

    merged = {**defaults.DEFAULTERS, **group_defaults.DEFAULTERS}
    saved = dict(defaults.DEFAULTERS)
    defaults.DEFAULTERS.clear()
    defaults.DEFAULTERS.update(merged)
    defaults._plan.cache_clear()
    try:
        out = copy.deepcopy(obj)
        defaults.apply_defaults(out, schema)
        return out
    finally:
        defaults.DEFAULTERS.clear()
        defaults.DEFAULTERS.update(saved)
        defaults._plan.cache_clear()


@pytest.mark.parametrize("schema,obj,check", [
    ("io.k8s.api.storage.v1.StorageClass", {"provisioner": "p"},
     lambda o: (o["reclaimPolicy"], o["volumeBindingMode"]) == ("Delete", "Immediate")),
    ("io.k8s.api.rbac.v1.RoleBinding", {"roleRef": {"kind": "Role", "name": "r"}, "subjects": [{"kind": "User", "name": "a"}]},
     lambda o: o["roleRef"]["apiGroup"] == o["subjects"][0]["apiGroup"] == "rbac.authorization.k8s.io"),
    ("io.k8s.api.networking.v1.NetworkPolicy", {"spec": {"podSelector": {}, "egress": [{"ports": [{"port": 53}]}]}},
     lambda o: o["spec"]["policyTypes"] == ["Ingress", "Egress"] and o["spec"]["egress"][0]["ports"][0]["protocol"] == "TCP"),
    ("io.k8s.api.scheduling.v1.PriorityClass", {"value": 1}, lambda o: o["preemptionPolicy"] == "PreemptLowerPriority"),
    ("io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler", {"spec": {"maxReplicas": 2}},
     lambda o: o["spec"]["minReplicas"] == 1 and o["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 80),
    ("io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler", {"spec": {"maxReplicas": 2, "behavior": {}}},
     lambda o: o["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 300),
    ("io.k8s.api.storage.v1.CSIDriver", {"spec": {}},
     lambda o: o["spec"]["attachRequired"] is True and o["spec"]["volumeLifecycleModes"] == ["Persistent"]),
    ("io.k8s.api.admissionregistration.v1.ValidatingWebhookConfiguration",
     {"webhooks": [{"name": "a.b.c", "rules": [{"operations": ["CREATE"]}]}]},
     lambda o: (o["webhooks"][0]["failurePolicy"], o["webhooks"][0]["timeoutSeconds"],
                o["webhooks"][0]["rules"][0]["scope"]) == ("Fail", 10, "*")),
], ids=["storage class policies", "rbac api groups", "network policy types and port protocol",
        "priority class preemption", "hpa v2 min replicas and cpu target", "a given hpa behavior is completed",
        "csi driver flags", "webhook policies"])
def test_group_defaults(schema, obj, check):
    out = run(schema, obj)
    assert check(out), out
    assert run(schema, out) == out  # idempotent
