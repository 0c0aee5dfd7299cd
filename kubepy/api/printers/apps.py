"""Table printers for workload controllers: apps/v1 kinds, PodDisruptionBudgets and HPAs.

Columns and cells follow upstream v1.32 (wide). Desired counts come from ``spec.replicas``
(v1 defaulting makes a missing value 1); observed counts from ``status`` default to 0.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from .columns import (
    Cell,
    Column,
    Obj,
    TablePrinter,
    age_column,
    containers_column,
    doc_column,
    images_column,
    name_column,
)
from .helpers import (
    NONE,
    UNKNOWN,
    UNSET,
    age,
    controller_of,
    format_label_selector,
    format_labels,
    group_of,
    int_or_string,
    label_selector_string,
    name,
    resource_name,
    template_containers,
)

APPS = "io.k8s.api.apps.v1."


def _replicas(spec: dict[str, Any]) -> int:
    value = spec.get("replicas")
    return 1 if value is None else int(value)


def _deployment_printer() -> TablePrinter:
    def cells(obj: Obj, now: _dt.datetime) -> list[Cell]:
        spec = obj.get("spec") or {}
        status = obj.get("status") or {}
        names, images = template_containers(spec.get("template"))
        selector = label_selector_string(spec.get("selector"))
        return [
            name(obj),
            f"{status.get('readyReplicas') or 0}/{_replicas(spec)}",
            status.get("updatedReplicas") or 0,
            status.get("availableReplicas") or 0,
            age(obj, now),
            names,
            images,
            "<invalid>" if selector is None else selector,
        ]

    return TablePrinter(
        columns=(
            name_column(),
            Column("Ready", description="Number of the pod with ready state"),
            doc_column("Up-to-date", APPS + "DeploymentStatus", "updatedReplicas"),
            doc_column("Available", APPS + "DeploymentStatus", "availableReplicas"),
            age_column(),
            containers_column(),
            images_column(),
            doc_column("Selector", APPS + "DeploymentSpec", "selector", priority=1),
        ),
        cells=cells,
    )


def _replica_set_printer() -> TablePrinter:
    def cells(obj: Obj, now: _dt.datetime) -> list[Cell]:
        spec = obj.get("spec") or {}
        status = obj.get("status") or {}
        names, images = template_containers(spec.get("template"))
        return [
            name(obj),
            _replicas(spec),
            status.get("replicas") or 0,
            status.get("readyReplicas") or 0,
            age(obj, now),
            names,
            images,
            format_label_selector(spec.get("selector")),
        ]

    return TablePrinter(
        columns=(
            name_column(),
            doc_column("Desired", APPS + "ReplicaSetSpec", "replicas", type="integer"),
            doc_column("Current", APPS + "ReplicaSetStatus", "replicas", type="integer"),
            doc_column("Ready", APPS + "ReplicaSetStatus", "readyReplicas", type="integer"),
            age_column(),
            containers_column(),
            images_column(),
            doc_column("Selector", APPS + "ReplicaSetSpec", "selector", priority=1),
        ),
        cells=cells,
    )


def _stateful_set_printer() -> TablePrinter:
    def cells(obj: Obj, now: _dt.datetime) -> list[Cell]:
        spec = obj.get("spec") or {}
        status = obj.get("status") or {}
        names, images = template_containers(spec.get("template"))
        return [
            name(obj),
            f"{status.get('readyReplicas') or 0}/{_replicas(spec)}",
            age(obj, now),
            names,
            images,
        ]

    return TablePrinter(
        columns=(
            name_column(),
            Column("Ready", description="Number of the pod with ready state"),
            age_column(),
            containers_column(),
            images_column(),
        ),
        cells=cells,
    )


def _daemon_set_printer() -> TablePrinter:
    def cells(obj: Obj, now: _dt.datetime) -> list[Cell]:
        spec = obj.get("spec") or {}
        status = obj.get("status") or {}
        template = spec.get("template") or {}
        names, images = template_containers(template)
        return [
            name(obj),
            status.get("desiredNumberScheduled") or 0,
            status.get("currentNumberScheduled") or 0,
            status.get("numberReady") or 0,
            status.get("updatedNumberScheduled") or 0,
            status.get("numberAvailable") or 0,
            format_labels((template.get("spec") or {}).get("nodeSelector")),
            age(obj, now),
            names,
            images,
            format_label_selector(spec.get("selector")),
        ]

    st = APPS + "DaemonSetStatus"
    return TablePrinter(
        columns=(
            name_column(),
            doc_column("Desired", st, "desiredNumberScheduled", type="integer"),
            doc_column("Current", st, "currentNumberScheduled", type="integer"),
            doc_column("Ready", st, "numberReady", type="integer"),
            doc_column("Up-to-date", st, "updatedNumberScheduled", type="integer"),
            doc_column("Available", st, "numberAvailable", type="integer"),
            doc_column("Node Selector", "io.k8s.api.core.v1.PodSpec", "nodeSelector"),
            age_column(),
            containers_column(),
            images_column(),
            doc_column("Selector", APPS + "DaemonSetSpec", "selector", priority=1),
        ),
        cells=cells,
    )


def _controller_revision_printer() -> TablePrinter:
    def cells(obj: Obj, now: _dt.datetime) -> list[Cell]:
        ref = controller_of(obj)
        controller = NONE
        if ref is not None:
            controller = resource_name(
                str(ref.get("kind") or ""), group_of(str(ref.get("apiVersion") or "")), str(ref.get("name") or "")
            )
        return [name(obj), controller, obj.get("revision") or 0, age(obj, now)]

    return TablePrinter(
        columns=(
            name_column(),
            Column("Controller", description="Controller of the object"),
            doc_column("Revision", APPS + "ControllerRevision", "revision"),
            age_column(),
        ),
        cells=cells,
    )


def _pod_disruption_budget_printer() -> TablePrinter:
    def cells(obj: Obj, now: _dt.datetime) -> list[Cell]:
        spec = obj.get("spec") or {}
        min_available = spec.get("minAvailable")
        max_unavailable = spec.get("maxUnavailable")
        return [
            name(obj),
            "N/A" if min_available is None else int_or_string(min_available),
            "N/A" if max_unavailable is None else int_or_string(max_unavailable),
            (obj.get("status") or {}).get("disruptionsAllowed") or 0,
            age(obj, now),
        ]

    return TablePrinter(
        columns=(
            name_column(),
            Column("Min Available", description="The minimum number of pods that must be available."),
            Column("Max Unavailable", description="The maximum number of pods that may be unavailable."),
            Column(
                "Allowed Disruptions",
                type="integer",
                description="Calculated number of pods that may be disrupted at this time.",
            ),
            age_column(),
        ),
        cells=cells,
    )


# ---------------------------------------------------------------- HPA


def _target(spec_target: dict[str, Any], key: str) -> str:
    value = spec_target.get(key)
    return "0" if value is None else str(value)


def _hpa_metrics(specs: list[dict[str, Any]], statuses: list[dict[str, Any]]) -> str:
    """``formatHPAMetrics``: ``current/target`` per metric, two at most, then `` + N more...``."""
    if not specs:
        return NONE
    items: list[str] = []
    for i, spec in enumerate(specs):
        status = statuses[i] if i < len(statuses) else {}
        mtype = spec.get("type")
        if mtype == "External" or mtype == "Object":
            key = "external" if mtype == "External" else "object"
            target = (spec.get(key) or {}).get("target") or {}
            current_src = (status.get(key) or {}).get("current") if status.get(key) is not None else None
            if target.get("averageValue") is not None:
                current = UNKNOWN
                if current_src is not None and current_src.get("averageValue") is not None:
                    current = str(current_src["averageValue"])
                items.append(f"{current}/{target['averageValue']} (avg)")
            else:
                current = UNKNOWN
                if current_src is not None:
                    current = _target(current_src, "value")
                items.append(f"{current}/{_target(target, 'value')}")
        elif mtype == "Pods":
            target = (spec.get("pods") or {}).get("target") or {}
            current = UNKNOWN
            if status.get("pods") is not None:
                current = _target((status["pods"].get("current") or {}), "averageValue")
            items.append(f"{current}/{_target(target, 'averageValue')}")
        elif mtype in ("Resource", "ContainerResource"):
            key = "resource" if mtype == "Resource" else "containerResource"
            source = spec.get(key) or {}
            target = source.get("target") or {}
            current_src = (status.get(key) or {}).get("current") if status.get(key) is not None else None
            rname = source.get("name", "")
            if target.get("averageValue") is not None:
                current = UNKNOWN
                if current_src is not None:
                    current = _target(current_src, "averageValue")
                items.append(f"{rname}: {current}/{target['averageValue']}")
            else:
                current = UNKNOWN
                if current_src is not None and current_src.get("averageUtilization") is not None:
                    current = f"{current_src['averageUtilization']}%"
                util = target.get("averageUtilization")
                items.append(f"{rname}: {current}/{'<auto>' if util is None else f'{util}%'}")
        else:
            items.append("<unknown type>")
    limit = 2
    if len(items) > limit:
        return ", ".join(items[:limit]) + f" + {len(items) - limit} more..."
    return ", ".join(items)


def _hpa_printer() -> TablePrinter:
    def cells(obj: Obj, now: _dt.datetime) -> list[Cell]:
        spec = obj.get("spec") or {}
        status = obj.get("status") or {}
        ref = spec.get("scaleTargetRef") or {}
        metrics = spec.get("metrics")
        current_metrics = status.get("currentMetrics") or []
        if metrics is None and "targetCPUUtilizationPercentage" in spec:
            # autoscaling/v1 shape: one CPU utilization target
            metrics = [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": spec["targetCPUUtilizationPercentage"]},
                    },
                }
            ]
            cur = status.get("currentCPUUtilizationPercentage")
            current_metrics = (
                []
                if cur is None
                else [{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": cur}}}]
            )
        min_replicas = spec.get("minReplicas")
        return [
            name(obj),
            f"{ref.get('kind', '')}/{ref.get('name', '')}",
            _hpa_metrics(metrics or [], current_metrics),
            UNSET if min_replicas is None else str(min_replicas),
            spec.get("maxReplicas") or 0,
            status.get("currentReplicas") or 0,
            age(obj, now),
        ]

    hpa = "io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler"
    return TablePrinter(
        columns=(
            name_column(),
            doc_column("Reference", hpa + "Spec", "scaleTargetRef"),
            doc_column("Targets", hpa + "Spec", "metrics"),
            doc_column("MinPods", hpa + "Spec", "minReplicas"),
            doc_column("MaxPods", hpa + "Spec", "maxReplicas"),
            doc_column("Replicas", hpa + "Status", "currentReplicas"),
            age_column(),
        ),
        cells=cells,
    )


def printers() -> dict[tuple[str, str], TablePrinter]:
    """Workload printers by (group, kind)."""
    return {
        ("apps", "Deployment"): _deployment_printer(),
        ("apps", "ReplicaSet"): _replica_set_printer(),
        ("apps", "StatefulSet"): _stateful_set_printer(),
        ("apps", "DaemonSet"): _daemon_set_printer(),
        ("apps", "ControllerRevision"): _controller_revision_printer(),
        ("policy", "PodDisruptionBudget"): _pod_disruption_budget_printer(),
        ("autoscaling", "HorizontalPodAutoscaler"): _hpa_printer(),
    }
