"""Served-version conversion: events.k8s.io renames and HPA autoscaling/v1 <-> v2."""

from __future__ import annotations

import copy
import json

import pytest

from kubepy.api import conversion
from kubepy.api.conversion import (
    BEHAVIOR_ANNOTATION,
    CONDITIONS_ANNOTATION,
    CURRENT_METRICS_ANNOTATION,
    HPA_V1,
    METRICS_ANNOTATION,
)

REF = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}


def v1(spec_extra=None, annotations=None, status=None):
    obj = {"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
           "metadata": {"name": "h", "namespace": "default"},
           "spec": {"scaleTargetRef": REF, "minReplicas": 1, "maxReplicas": 4, **(spec_extra or {})}}
    if annotations:
        obj["metadata"]["annotations"] = annotations
    if status is not None:
        obj["status"] = status
    return obj


def cpu(util):
    return {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": util}}}


PODS_METRIC = {"type": "Pods", "pods": {"metric": {"name": "qps"}, "target": {"type": "AverageValue", "averageValue": "10"}}}
OBJECT_METRIC = {"type": "Object", "object": {
    "describedObject": {"kind": "Ingress", "name": "main", "apiVersion": "networking.k8s.io/v1"},
    "metric": {"name": "rps"}, "target": {"type": "Value", "value": "2k"}}}
EXTERNAL_METRIC = {"type": "External", "external": {
    "metric": {"name": "queue", "selector": {"matchLabels": {"q": "a"}}},
    "target": {"type": "AverageValue", "averageValue": "30"}}}
MEMORY_METRIC = {"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "100Mi"}}}


def test_v1_cpu_target_is_stored_as_a_v2_cpu_utilization_metric():
    stored = HPA_V1.to_storage(v1({"targetCPUUtilizationPercentage": 50}))
    assert stored["apiVersion"] == "autoscaling/v2"
    assert stored["spec"]["metrics"] == [cpu(50)]
    assert "targetCPUUtilizationPercentage" not in stored["spec"]


def test_v1_without_any_target_gets_upstreams_implicit_80_percent_cpu():
    assert HPA_V1.to_storage(v1())["spec"]["metrics"] == [cpu(80)]


def test_v2_cpu_utilization_reads_back_as_the_v1_field_without_annotations():
    served = HPA_V1.from_storage(HPA_V1.to_storage(v1({"targetCPUUtilizationPercentage": 50})))
    assert served["apiVersion"] == "autoscaling/v1"
    assert served["spec"]["targetCPUUtilizationPercentage"] == 50
    assert "annotations" not in served["metadata"]


@pytest.mark.parametrize("metric", [PODS_METRIC, OBJECT_METRIC, EXTERNAL_METRIC, MEMORY_METRIC],
                         ids=["pods metric", "object metric", "external metric", "memory average value"])
def test_v2_metrics_that_v1_cannot_express_travel_in_the_metrics_annotation_and_round_trip(metric):
    stored = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
              "metadata": {"name": "h", "namespace": "default"},
              "spec": {"scaleTargetRef": REF, "minReplicas": 1, "maxReplicas": 4, "metrics": [cpu(60), metric]}}
    before = copy.deepcopy(stored)
    served = HPA_V1.from_storage(stored)
    assert stored == before, "conversion must not mutate the stored object"
    assert served["spec"]["targetCPUUtilizationPercentage"] == 60
    carried = json.loads(served["metadata"]["annotations"][METRICS_ANNOTATION])
    assert len(carried) == 1 and carried[0]["type"] == metric["type"]
    back = HPA_V1.to_storage(served)
    assert back["spec"]["metrics"] == [metric, cpu(60)]  # upstream appends the v1 cpu target last
    assert "annotations" not in back["metadata"]


def test_v1_metric_annotation_uses_upstreams_v1_field_names():
    stored = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "h"},
              "spec": {"scaleTargetRef": REF, "maxReplicas": 3, "metrics": [PODS_METRIC]}}
    served = HPA_V1.from_storage(stored)
    assert "targetCPUUtilizationPercentage" not in served["spec"]
    carried = json.loads(served["metadata"]["annotations"][METRICS_ANNOTATION])
    assert carried == [{"type": "Pods", "pods": {"metricName": "qps", "targetAverageValue": "10"}}]


def test_status_current_metrics_and_conditions_round_trip_through_annotations():
    conditions = [{"type": "AbleToScale", "status": "True", "reason": "ReadyForNewScale",
                   "lastTransitionTime": "2026-01-01T00:00:00Z"}]
    stored = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
              "metadata": {"name": "h", "namespace": "default"},
              "spec": {"scaleTargetRef": REF, "maxReplicas": 3, "metrics": [cpu(50)]},
              "status": {"currentReplicas": 2, "desiredReplicas": 3, "conditions": conditions,
                         "currentMetrics": [{"type": "Resource", "resource": {
                             "name": "cpu", "current": {"averageUtilization": 71, "averageValue": "140m"}}}]}}
    served = HPA_V1.from_storage(stored)
    assert served["status"] == {"currentReplicas": 2, "desiredReplicas": 3, "currentCPUUtilizationPercentage": 71}
    ann = served["metadata"]["annotations"]
    assert json.loads(ann[CONDITIONS_ANNOTATION]) == conditions
    assert json.loads(ann[CURRENT_METRICS_ANNOTATION])[0]["resource"] == {
        "name": "cpu", "currentAverageUtilization": 71, "currentAverageValue": "140m"}
    back = HPA_V1.to_storage(served)
    assert back["status"] == stored["status"]


def test_behavior_round_trips_through_the_behavior_annotation():
    behavior = {"scaleDown": {"stabilizationWindowSeconds": 60, "selectPolicy": "Max",
                              "policies": [{"type": "Pods", "value": 1, "periodSeconds": 30}]}}
    stored = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "h"},
              "spec": {"scaleTargetRef": REF, "maxReplicas": 3, "metrics": [cpu(50)], "behavior": behavior}}
    served = HPA_V1.from_storage(stored)
    raw = json.loads(served["metadata"]["annotations"][BEHAVIOR_ANNOTATION])
    assert raw["ScaleDown"]["StabilizationWindowSeconds"] == 60  # upstream's internal-type field names
    assert HPA_V1.to_storage(served)["spec"]["behavior"] == behavior


def test_user_annotations_survive_both_directions():
    obj = v1({"targetCPUUtilizationPercentage": 40}, annotations={"team": "a"})
    stored = HPA_V1.to_storage(obj)
    assert stored["metadata"]["annotations"] == {"team": "a"}
    assert HPA_V1.from_storage(stored)["metadata"]["annotations"] == {"team": "a"}


def test_converters_are_registered_for_the_served_kinds():
    assert conversion.converter_for("autoscaling", "v1", "HorizontalPodAutoscaler") is HPA_V1
    assert conversion.converter_for("autoscaling", "v2", "HorizontalPodAutoscaler") is None
    assert conversion.converter_for("events.k8s.io", "v1", "Event") is conversion.EVENTS_V1


def test_events_renaming_converter_round_trips():
    served = {"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "e"}, "note": "hi",
              "regarding": {"kind": "Pod"}}
    stored = conversion.EVENTS_V1.to_storage(served)
    assert stored["message"] == "hi" and stored["involvedObject"] == {"kind": "Pod"}
    assert conversion.EVENTS_V1.from_storage(stored) == served
