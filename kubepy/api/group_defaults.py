"""Defaults of the rbac, storage, networking, autoscaling, scheduling, certificates and
admissionregistration types, keyed by OpenAPI definition name like ``defaults.DEFAULTERS``.

Kept apart from ``kubepy.api.defaults`` (which owns the walk and the core/apps/batch
defaulters) so each group's upstream ``SetDefaults_*`` stay together; the defaulting
table merges ``DEFAULTERS`` from here. Each function fills only what is unset, so running
it twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Obj = dict[str, Any]
Defaulter = Callable[[Obj], None]

RBAC_GROUP = "rbac.authorization.k8s.io"


def _missing(o: Obj, key: str) -> bool:
    return o.get(key) in (None, "")


def _subject(o: Obj) -> None:
    if _missing(o, "apiGroup") and o.get("kind") in ("User", "Group"):
        o["apiGroup"] = RBAC_GROUP


def _role_ref(o: Obj) -> None:
    if _missing(o, "apiGroup"):
        o["apiGroup"] = RBAC_GROUP


def _storage_class(o: Obj) -> None:
    if _missing(o, "reclaimPolicy"):
        o["reclaimPolicy"] = "Delete"
    if _missing(o, "volumeBindingMode"):
        o["volumeBindingMode"] = "Immediate"


def _csi_driver_spec(o: Obj) -> None:
    for key, value in (("attachRequired", True), ("podInfoOnMount", False), ("storageCapacity", False),
                       ("fsGroupPolicy", "ReadWriteOnceWithFSType"), ("requiresRepublish", False),
                       ("seLinuxMount", False)):
        if o.get(key) is None:
            o[key] = value
    if not o.get("volumeLifecycleModes"):
        o["volumeLifecycleModes"] = ["Persistent"]


def _network_policy_spec(o: Obj) -> None:
    if not o.get("policyTypes"):
        types = ["Ingress"]
        if o.get("egress"):
            types.append("Egress")
        o["policyTypes"] = types


def _network_policy_port(o: Obj) -> None:
    if _missing(o, "protocol"):
        o["protocol"] = "TCP"


def _priority_class(o: Obj) -> None:
    if _missing(o, "preemptionPolicy"):
        o["preemptionPolicy"] = "PreemptLowerPriority"


def _hpa_v1(o: Obj) -> None:
    spec = o.get("spec")
    if isinstance(spec, dict) and spec.get("minReplicas") is None:
        spec["minReplicas"] = 1


def scale_up_rules(rules: Obj | None) -> Obj:
    out = dict(rules or {})
    out.setdefault("stabilizationWindowSeconds", 0)
    out.setdefault("selectPolicy", "Max")
    if not out.get("policies"):
        out["policies"] = [{"type": "Pods", "value": 4, "periodSeconds": 15},
                           {"type": "Percent", "value": 100, "periodSeconds": 15}]
    return out


def scale_down_rules(rules: Obj | None) -> Obj:
    out = dict(rules or {})
    out.setdefault("stabilizationWindowSeconds", 300)
    out.setdefault("selectPolicy", "Max")
    if not out.get("policies"):
        out["policies"] = [{"type": "Percent", "value": 100, "periodSeconds": 15}]
    return out


def _hpa_v2(o: Obj) -> None:
    spec = o.get("spec")
    if not isinstance(spec, dict):
        return
    if spec.get("minReplicas") is None:
        spec["minReplicas"] = 1
    if not spec.get("metrics"):
        spec["metrics"] = [{"type": "Resource", "resource": {
            "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]
    behavior = spec.get("behavior")
    if isinstance(behavior, dict):  # only a given behavior is completed, as upstream
        behavior["scaleUp"] = scale_up_rules(behavior.get("scaleUp"))
        behavior["scaleDown"] = scale_down_rules(behavior.get("scaleDown"))


def _webhook(o: Obj, mutating: bool) -> None:
    for key, value in (("failurePolicy", "Fail"), ("matchPolicy", "Equivalent"), ("timeoutSeconds", 10)):
        if o.get(key) is None:
            o[key] = value
    for key in ("namespaceSelector", "objectSelector"):
        if o.get(key) is None:
            o[key] = {}
    if mutating and o.get("reinvocationPolicy") is None:
        o["reinvocationPolicy"] = "Never"
    service = (o.get("clientConfig") or {}).get("service")
    if isinstance(service, dict) and service.get("port") is None:
        service["port"] = 443


def _rule_with_operations(o: Obj) -> None:
    if _missing(o, "scope"):
        o["scope"] = "*"


def _policy_spec(o: Obj) -> None:
    if o.get("failurePolicy") is None:
        o["failurePolicy"] = "Fail"


def _match_resources(o: Obj) -> None:
    for key in ("namespaceSelector", "objectSelector"):
        if o.get(key) is None:
            o[key] = {}
    if o.get("matchPolicy") is None:
        o["matchPolicy"] = "Equivalent"


ADM = "io.k8s.api.admissionregistration.v1."

DEFAULTERS: dict[str, tuple[Defaulter, ...]] = {
    "io.k8s.api.rbac.v1.Subject": (_subject,),
    "io.k8s.api.rbac.v1.RoleRef": (_role_ref,),
    "io.k8s.api.storage.v1.StorageClass": (_storage_class,),
    "io.k8s.api.storage.v1.CSIDriverSpec": (_csi_driver_spec,),
    "io.k8s.api.networking.v1.NetworkPolicySpec": (_network_policy_spec,),
    "io.k8s.api.networking.v1.NetworkPolicyPort": (_network_policy_port,),
    "io.k8s.api.scheduling.v1.PriorityClass": (_priority_class,),
    "io.k8s.api.autoscaling.v1.HorizontalPodAutoscaler": (_hpa_v1,),
    "io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler": (_hpa_v2,),
    ADM + "MutatingWebhook": (lambda o: _webhook(o, True),),
    ADM + "ValidatingWebhook": (lambda o: _webhook(o, False),),
    ADM + "RuleWithOperations": (_rule_with_operations,),
    ADM + "NamedRuleWithOperations": (_rule_with_operations,),
    ADM + "ValidatingAdmissionPolicySpec": (_policy_spec,),
    ADM + "MatchResources": (_match_resources,),
}
