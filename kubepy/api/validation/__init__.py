"""Validation of built-in kinds: the (group, kind) -> validator table and its entry points.

The API server's strategies call ``validate_create``, ``validate_update`` and
``validate_status_update`` after defaulting (and, for Jobs, after
``batch.generate_job_selector``); a non-empty result becomes a 422 Invalid Status whose
causes are ``FieldError.cause()``. Rules and messages follow upstream 1.32 validation.
Update validators already include the create rules and ObjectMeta update rules, so each
entry point returns one list with no duplicates. Kinds without a specific validator get
upstream's generic ObjectMeta checks (names must be valid path segments).

Nothing here mutates its input or deep-copies it; regexes are compiled at import.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kubepy.api.field_errors import FieldError
from kubepy.api.resources import BUILTIN
from kubepy.api.validation import apps, batch, coordination, core, discovery, events, names
from kubepy.api.validation import (  # the issue-6 groups
    admissionregistration,
    autoscaling,
    certificates,
    networking,
    node,
    policy,
    rbac,
    scheduling,
    storage,
)
from kubepy.api.validation import apiextensions
from kubepy.api.validation.meta import validate_object_meta, validate_object_meta_update

CreateFn = Callable[[Mapping[str, Any]], list[FieldError]]
UpdateFn = Callable[[Mapping[str, Any], Mapping[str, Any]], list[FieldError]]


@dataclass(frozen=True, kw_only=True, slots=True)
class KindValidator:
    """How one kind is validated. ``status_update`` is used for writes to /status."""

    create: CreateFn
    update: UpdateFn
    status_update: UpdateFn = core.validate_status_only_meta_update


validators: dict[tuple[str, str], KindValidator] = {
    ("", "Pod"): KindValidator(create=core.validate_pod, update=core.validate_pod_update, status_update=core.validate_pod_status_update),
    ("", "PodTemplate"): KindValidator(create=core.validate_pod_template, update=core.validate_pod_template_update),
    ("", "ReplicationController"): KindValidator(
        create=core.validate_replication_controller,
        update=core.validate_replication_controller_update,
        status_update=core.validate_replication_controller_status_update,
    ),
    ("", "Service"): KindValidator(
        create=core.validate_service_create, update=core.validate_service_update, status_update=core.validate_service_status_update
    ),
    ("", "ConfigMap"): KindValidator(create=core.validate_config_map, update=core.validate_config_map_update),
    ("", "Secret"): KindValidator(create=core.validate_secret, update=core.validate_secret_update),
    ("", "Namespace"): KindValidator(
        create=core.validate_namespace, update=core.validate_namespace_update, status_update=core.validate_namespace_status_update
    ),
    ("", "ServiceAccount"): KindValidator(create=core.validate_service_account, update=core.validate_service_account_update),
    ("", "Node"): KindValidator(create=core.validate_node, update=core.validate_node_update, status_update=core.validate_node_update),
    ("", "Endpoints"): KindValidator(create=core.validate_endpoints, update=core.validate_endpoints_update),
    ("", "Event"): KindValidator(create=core.validate_event, update=core.validate_event_update),
    ("", "LimitRange"): KindValidator(create=core.validate_limit_range, update=core.validate_limit_range_update),
    ("", "ResourceQuota"): KindValidator(
        create=core.validate_resource_quota,
        update=core.validate_resource_quota_update,
        status_update=core.validate_resource_quota_status_update,
    ),
    ("", "PersistentVolume"): KindValidator(create=core.validate_persistent_volume, update=core.validate_persistent_volume_update),
    ("", "PersistentVolumeClaim"): KindValidator(
        create=core.validate_persistent_volume_claim,
        update=core.validate_persistent_volume_claim_update,
        status_update=core.validate_persistent_volume_claim_status_update,
    ),
    ("apps", "Deployment"): KindValidator(
        create=apps.validate_deployment, update=apps.validate_deployment_update, status_update=apps.validate_deployment_status_update
    ),
    ("apps", "ReplicaSet"): KindValidator(
        create=apps.validate_replica_set, update=apps.validate_replica_set_update, status_update=apps.validate_replica_set_status_update
    ),
    ("apps", "StatefulSet"): KindValidator(
        create=apps.validate_stateful_set, update=apps.validate_stateful_set_update, status_update=apps.validate_stateful_set_status_update
    ),
    ("apps", "DaemonSet"): KindValidator(
        create=apps.validate_daemon_set, update=apps.validate_daemon_set_update, status_update=apps.validate_daemon_set_status_update
    ),
    ("apps", "ControllerRevision"): KindValidator(
        create=apps.validate_controller_revision, update=apps.validate_controller_revision_update
    ),
    ("batch", "Job"): KindValidator(create=batch.validate_job, update=batch.validate_job_update, status_update=batch.validate_job_status_update),
    ("batch", "CronJob"): KindValidator(
        create=batch.validate_cron_job, update=batch.validate_cron_job_update, status_update=batch.validate_cron_job_status_update
    ),
    ("coordination.k8s.io", "Lease"): KindValidator(create=coordination.validate_lease, update=coordination.validate_lease_update),
    ("discovery.k8s.io", "EndpointSlice"): KindValidator(
        create=discovery.validate_endpoint_slice, update=discovery.validate_endpoint_slice_update
    ),
    ("events.k8s.io", "Event"): KindValidator(create=events.validate_event, update=events.validate_event_update),
    **{(rbac.GROUP, kind): KindValidator(create=c, update=u) for kind, c, u in (
        ("Role", rbac.validate_role, rbac.validate_role_update),
        ("ClusterRole", rbac.validate_cluster_role, rbac.validate_cluster_role_update),
        ("RoleBinding", rbac.validate_role_binding, rbac.validate_role_binding_update),
        ("ClusterRoleBinding", rbac.validate_cluster_role_binding, rbac.validate_cluster_role_binding_update),
    )},
    **{("storage.k8s.io", kind): KindValidator(create=c, update=u) for kind, c, u in (
        ("StorageClass", storage.validate_storage_class, storage.validate_storage_class_update),
        ("CSIDriver", storage.validate_csi_driver, storage.validate_csi_driver_update),
        ("CSINode", storage.validate_csi_node, storage.validate_csi_node_update),
        ("CSIStorageCapacity", storage.validate_csi_storage_capacity, storage.validate_csi_storage_capacity_update),
    )},
    ("storage.k8s.io", "VolumeAttachment"): KindValidator(
        create=storage.validate_volume_attachment,
        update=storage.validate_volume_attachment_update,
        status_update=storage.validate_volume_attachment_status_update,
    ),
    ("policy", "PodDisruptionBudget"): KindValidator(
        create=policy.validate_pdb, update=policy.validate_pdb_update, status_update=policy.validate_pdb_status_update
    ),
    ("networking.k8s.io", "NetworkPolicy"): KindValidator(
        create=networking.validate_network_policy, update=networking.validate_network_policy_update
    ),
    ("networking.k8s.io", "Ingress"): KindValidator(
        create=networking.validate_ingress,
        update=networking.validate_ingress_update,
        status_update=networking.validate_ingress_status_update,
    ),
    ("networking.k8s.io", "IngressClass"): KindValidator(
        create=networking.validate_ingress_class, update=networking.validate_ingress_class_update
    ),
    ("autoscaling", "HorizontalPodAutoscaler"): KindValidator(
        create=autoscaling.validate_hpa,
        update=autoscaling.validate_hpa_update,
        status_update=autoscaling.validate_hpa_status_update,
    ),
    ("scheduling.k8s.io", "PriorityClass"): KindValidator(
        create=scheduling.validate_priority_class, update=scheduling.validate_priority_class_update
    ),
    ("node.k8s.io", "RuntimeClass"): KindValidator(create=node.validate_runtime_class, update=node.validate_runtime_class_update),
    ("certificates.k8s.io", "CertificateSigningRequest"): KindValidator(
        create=certificates.validate_csr,
        update=certificates.validate_csr_update,
        status_update=certificates.validate_csr_status_update,
    ),
    **{("admissionregistration.k8s.io", kind): KindValidator(create=c, update=u) for kind, c, u in (
        ("MutatingWebhookConfiguration", admissionregistration.validate_mutating_webhook_configuration,
         admissionregistration.validate_mutating_webhook_configuration_update),
        ("ValidatingWebhookConfiguration", admissionregistration.validate_validating_webhook_configuration,
         admissionregistration.validate_validating_webhook_configuration_update),
        ("ValidatingAdmissionPolicy", admissionregistration.validate_validating_admission_policy,
         admissionregistration.validate_validating_admission_policy_update),
        ("ValidatingAdmissionPolicyBinding", admissionregistration.validate_validating_admission_policy_binding,
         admissionregistration.validate_validating_admission_policy_binding_update),
    )},
    ("apiextensions.k8s.io", "CustomResourceDefinition"): KindValidator(
        create=apiextensions.validate_crd,
        update=apiextensions.validate_crd_update,
        status_update=apiextensions.validate_crd_status_update,
    ),
}

_NAMESPACED: dict[tuple[str, str], bool] = {(info.group, info.kind): info.namespaced for info in BUILTIN}


def _is_namespaced(group: str, kind: str, obj: Mapping[str, Any], namespaced: bool | None) -> bool:
    if namespaced is not None:
        return namespaced
    known = _NAMESPACED.get((group, kind))
    if known is not None:
        return known
    meta = obj.get("metadata")
    return isinstance(meta, dict) and bool(meta.get("namespace"))


def validate_create(group: str, kind: str, obj: Mapping[str, Any], *, namespaced: bool | None = None) -> list[FieldError]:
    """All errors of creating ``obj`` (defaulted, name generated). ``namespaced`` is only
    consulted for kinds the built-in registry does not know (custom resources)."""
    v = validators.get((group, kind))
    if v is not None:
        return v.create(obj)
    return validate_object_meta(
        obj.get("metadata"),
        namespaced=_is_namespaced(group, kind, obj, namespaced),
        name_fn=names.validate_path_segment_name,
        core_group=False,
    )


def validate_update(
    group: str, kind: str, new: Mapping[str, Any], old: Mapping[str, Any], *, namespaced: bool | None = None
) -> list[FieldError]:
    """All errors of replacing ``old`` with ``new``: create rules plus immutability rules."""
    v = validators.get((group, kind))
    if v is not None:
        return v.update(new, old)
    errs = validate_object_meta(
        new.get("metadata"),
        namespaced=_is_namespaced(group, kind, new, namespaced),
        name_fn=names.validate_path_segment_name,
        core_group=False,
    )
    errs.extend(validate_object_meta_update(new.get("metadata"), old.get("metadata"), core_group=False))
    return errs


def validate_status_update(group: str, kind: str, new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    """Errors of a write to the /status subresource (the spec was already copied from old)."""
    v = validators.get((group, kind))
    if v is not None:
        return v.status_update(new, old)
    return validate_object_meta_update(new.get("metadata"), old.get("metadata"), core_group=False)


__all__ = [
    "KindValidator",
    "validate_create",
    "validate_status_update",
    "validate_update",
    "validators",
]
