"""Conversion between served versions and the stored form of a resource.

Some kinds are served in one shape and stored in another, as upstream does through its
internal types. A ``Converter`` maps one served kind to its stored kind and back; kinds
without one are stored as served. Two kinds need one:

- events.k8s.io/v1 Events are core/v1 Events renamed field by field, in one shared
  storage, so ``kubectl events`` and ``kubectl describe`` see the same events whichever
  API wrote them (``RenamingConverter``).
- HorizontalPodAutoscalers are stored in the autoscaling/v2 form and also served as
  autoscaling/v1 (``HPA_V1``). v1 only knows a CPU utilization target; everything else
  (other metrics, current metrics, conditions, scaling behavior) travels in the
  ``autoscaling.alpha.kubernetes.io/*`` annotations of the v1 object, exactly as upstream's
  v1 conversion does, so a v1 client's read-modify-write loses nothing.

Converters never mutate their input and never share a changed sub-object with it: the
stored result goes into the watch cache, and a served view is cached and shared.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import orjson

Obj = dict[str, Any]


class Converter(Protocol):
    """One served (group, version, kind) stored in another form.

    ``to_storage`` turns a served object into the stored form; ``from_storage`` the
    reverse. Both are pure functions of their input (they may share unchanged values
    with it), cheap enough for every read of a watch-cache object, and must round-trip:
    ``from_storage(to_storage(x))`` equals ``x`` up to defaulting.
    """

    @property
    def stored_api_version(self) -> str: ...

    def to_storage(self, obj: Obj) -> Obj: ...

    def from_storage(self, obj: Obj) -> Obj: ...


@dataclass(frozen=True, slots=True)
class RenamingConverter:
    """A kind whose stored form only renames some top-level fields."""

    stored_api_version: str
    stored_kind: str
    served_api_version: str
    served_kind: str
    #: (served field, stored field) pairs renamed at the top level; others keep their name
    renames: tuple[tuple[str, str], ...]

    def to_storage(self, obj: Obj) -> Obj:
        return self._rename(obj, {s: t for s, t in self.renames}, self.stored_api_version, self.stored_kind)

    def from_storage(self, obj: Obj) -> Obj:
        return self._rename(obj, {t: s for s, t in self.renames}, self.served_api_version, self.served_kind)

    @staticmethod
    def _rename(obj: Obj, names: dict[str, str], api_version: str, kind: str) -> Obj:
        out: Obj = {"apiVersion": api_version, "kind": kind}
        for key, value in obj.items():
            if key in ("apiVersion", "kind"):
                continue
            out[names.get(key, key)] = value
        return out


EVENTS_V1 = RenamingConverter(
    stored_api_version="v1",
    stored_kind="Event",
    served_api_version="events.k8s.io/v1",
    served_kind="Event",
    renames=(
        ("note", "message"),
        ("regarding", "involvedObject"),
        ("reportingController", "reportingComponent"),
        ("deprecatedSource", "source"),
        ("deprecatedFirstTimestamp", "firstTimestamp"),
        ("deprecatedLastTimestamp", "lastTimestamp"),
        ("deprecatedCount", "count"),
    ),
)


# ---------------------------------------------------------------------------- autoscaling

METRICS_ANNOTATION = "autoscaling.alpha.kubernetes.io/metrics"
CURRENT_METRICS_ANNOTATION = "autoscaling.alpha.kubernetes.io/current-metrics"
CONDITIONS_ANNOTATION = "autoscaling.alpha.kubernetes.io/conditions"
BEHAVIOR_ANNOTATION = "autoscaling.alpha.kubernetes.io/behavior"
ROUND_TRIP_ANNOTATIONS = (METRICS_ANNOTATION, CURRENT_METRICS_ANNOTATION, CONDITIONS_ANNOTATION, BEHAVIOR_ANNOTATION)
#: upstream's implicit target when an HPA names no metric at all
DEFAULT_CPU_UTILIZATION = 80


def _put(out: Obj, key: str, value: Any) -> None:
    if value is not None:
        out[key] = value


def _is_cpu_utilization(metric: Obj) -> bool:
    res = metric.get("resource") or {}
    return (
        metric.get("type") == "Resource"
        and res.get("name") == "cpu"
        and (res.get("target") or {}).get("averageUtilization") is not None
    )


def _cpu_metric(utilization: int) -> Obj:
    return {"type": "Resource",
            "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": utilization}}}


def _ref(described: Obj | None) -> Obj:
    d = described or {}
    out: Obj = {"kind": d.get("kind", ""), "name": d.get("name", "")}
    _put(out, "apiVersion", d.get("apiVersion"))
    return out


def _identifier(name: Any, selector: Any) -> Obj:
    out: Obj = {"name": name or ""}
    _put(out, "selector", selector)
    return out


# v2 MetricSpec <-> v1 MetricSpec (the v2beta1-like shape upstream keeps in the annotation)
def metric_spec_to_v1(m: Obj) -> Obj:
    out: Obj = {"type": m.get("type", "")}
    if isinstance(m.get("object"), dict):
        src = m["object"]
        target = src.get("target") or {}
        metric = src.get("metric") or {}
        o: Obj = {"target": _ref(src.get("describedObject")), "metricName": metric.get("name", ""),
                  "targetValue": target.get("value", "0")}
        _put(o, "selector", metric.get("selector"))
        _put(o, "averageValue", target.get("averageValue"))
        out["object"] = o
    if isinstance(m.get("pods"), dict):
        src = m["pods"]
        metric = src.get("metric") or {}
        p: Obj = {"metricName": metric.get("name", ""),
                  "targetAverageValue": (src.get("target") or {}).get("averageValue", "0")}
        _put(p, "selector", metric.get("selector"))
        out["pods"] = p
    for key in ("resource", "containerResource"):
        if isinstance(m.get(key), dict):
            src = m[key]
            target = src.get("target") or {}
            r: Obj = {"name": src.get("name", "")}
            _put(r, "targetAverageUtilization", target.get("averageUtilization"))
            _put(r, "targetAverageValue", target.get("averageValue"))
            if key == "containerResource":
                r["container"] = src.get("container", "")
            out[key] = r
    if isinstance(m.get("external"), dict):
        src = m["external"]
        target = src.get("target") or {}
        metric = src.get("metric") or {}
        e: Obj = {"metricName": metric.get("name", "")}
        _put(e, "metricSelector", metric.get("selector"))
        _put(e, "targetValue", target.get("value"))
        _put(e, "targetAverageValue", target.get("averageValue"))
        out["external"] = e
    return out


def metric_spec_from_v1(m: Obj) -> Obj:
    out: Obj = {"type": m.get("type", "")}
    if isinstance(m.get("object"), dict):
        src = m["object"]
        avg = src.get("averageValue")
        target: Obj = {"type": "Value" if avg is None else "AverageValue", "value": src.get("targetValue", "0")}
        _put(target, "averageValue", avg)
        out["object"] = {"describedObject": _ref(src.get("target")), "target": target,
                         "metric": _identifier(src.get("metricName"), src.get("selector"))}
    if isinstance(m.get("pods"), dict):
        src = m["pods"]
        out["pods"] = {"metric": _identifier(src.get("metricName"), src.get("selector")),
                       "target": {"type": "AverageValue", "averageValue": src.get("targetAverageValue", "0")}}
    for key in ("resource", "containerResource"):
        if isinstance(m.get(key), dict):
            src = m[key]
            util = src.get("targetAverageUtilization")
            target = {"type": "AverageValue" if util is None else "Utilization"}
            _put(target, "averageUtilization", util)
            _put(target, "averageValue", src.get("targetAverageValue"))
            r: Obj = {"name": src.get("name", "")}
            if key == "containerResource":
                r["container"] = src.get("container", "")
            r["target"] = target
            out[key] = r
    if isinstance(m.get("external"), dict):
        src = m["external"]
        value = src.get("targetValue")
        target = {"type": "AverageValue" if value is None else "Value"}
        _put(target, "value", value)
        _put(target, "averageValue", src.get("targetAverageValue"))
        out["external"] = {"metric": _identifier(src.get("metricName"), src.get("metricSelector")),
                           "target": target}
    return out


# v2 MetricStatus <-> v1 MetricStatus
def metric_status_to_v1(m: Obj) -> Obj:
    out: Obj = {"type": m.get("type", "")}
    if isinstance(m.get("object"), dict):
        src = m["object"]
        cur = src.get("current") or {}
        metric = src.get("metric") or {}
        o: Obj = {"target": _ref(src.get("describedObject")), "metricName": metric.get("name", ""),
                  "currentValue": cur.get("value", "0")}
        _put(o, "selector", metric.get("selector"))
        _put(o, "averageValue", cur.get("averageValue"))
        out["object"] = o
    if isinstance(m.get("pods"), dict):
        src = m["pods"]
        metric = src.get("metric") or {}
        p: Obj = {"metricName": metric.get("name", ""),
                  "currentAverageValue": (src.get("current") or {}).get("averageValue", "0")}
        _put(p, "selector", metric.get("selector"))
        out["pods"] = p
    for key in ("resource", "containerResource"):
        if isinstance(m.get(key), dict):
            src = m[key]
            cur = src.get("current") or {}
            r: Obj = {"name": src.get("name", "")}
            _put(r, "currentAverageUtilization", cur.get("averageUtilization"))
            r["currentAverageValue"] = cur.get("averageValue", "0")
            if key == "containerResource":
                r["container"] = src.get("container", "")
            out[key] = r
    if isinstance(m.get("external"), dict):
        src = m["external"]
        cur = src.get("current") or {}
        metric = src.get("metric") or {}
        e: Obj = {"metricName": metric.get("name", "")}
        _put(e, "metricSelector", metric.get("selector"))
        e["currentValue"] = cur.get("value", "0")
        _put(e, "currentAverageValue", cur.get("averageValue"))
        out["external"] = e
    return out


def metric_status_from_v1(m: Obj) -> Obj:
    out: Obj = {"type": m.get("type", "")}
    if isinstance(m.get("object"), dict):
        src = m["object"]
        cur: Obj = {"value": src.get("currentValue", "0")}
        _put(cur, "averageValue", src.get("averageValue"))
        out["object"] = {"metric": _identifier(src.get("metricName"), src.get("selector")), "current": cur,
                         "describedObject": _ref(src.get("target"))}
    if isinstance(m.get("pods"), dict):
        src = m["pods"]
        out["pods"] = {"metric": _identifier(src.get("metricName"), src.get("selector")),
                       "current": {"averageValue": src.get("currentAverageValue", "0")}}
    for key in ("resource", "containerResource"):
        if isinstance(m.get(key), dict):
            src = m[key]
            cur = {"averageValue": src.get("currentAverageValue", "0")}
            _put(cur, "averageUtilization", src.get("currentAverageUtilization"))
            r: Obj = {"name": src.get("name", "")}
            if key == "containerResource":
                r["container"] = src.get("container", "")
            r["current"] = cur
            out[key] = r
    if isinstance(m.get("external"), dict):
        src = m["external"]
        cur = {"value": src.get("currentValue", "0")}
        _put(cur, "averageValue", src.get("currentAverageValue"))
        out["external"] = {"metric": _identifier(src.get("metricName"), src.get("metricSelector")), "current": cur}
    return out


# Behavior: upstream marshals its *internal* Go type into the annotation (no json tags, so
# capitalised field names); we write the same shape and read either that or the v2 shape.
_BEHAVIOR_KEYS = (("scaleUp", "ScaleUp"), ("scaleDown", "ScaleDown"))
_RULES_KEYS = (("stabilizationWindowSeconds", "StabilizationWindowSeconds"), ("selectPolicy", "SelectPolicy"))
_POLICY_KEYS = (("type", "Type"), ("value", "Value"), ("periodSeconds", "PeriodSeconds"))


def behavior_to_annotation(behavior: Obj) -> Obj:
    out: Obj = {}
    for wire, internal in _BEHAVIOR_KEYS:
        rules = behavior.get(wire)
        if not isinstance(rules, dict):
            out[internal] = None
            continue
        r: Obj = {internal_k: rules.get(wire_k) for wire_k, internal_k in _RULES_KEYS}
        r["Policies"] = [{ik: p.get(wk) for wk, ik in _POLICY_KEYS} for p in rules.get("policies") or ()
                         if isinstance(p, dict)] or None
        out[internal] = r
    return out


def behavior_from_annotation(raw: Obj) -> Obj:
    out: Obj = {}
    for wire, internal in _BEHAVIOR_KEYS:
        rules = raw.get(internal, raw.get(wire))
        if not isinstance(rules, dict):
            continue
        r: Obj = {}
        for wire_k, internal_k in _RULES_KEYS:
            _put(r, wire_k, rules.get(internal_k, rules.get(wire_k)))
        policies = rules.get("Policies", rules.get("policies"))
        if isinstance(policies, list):
            r["policies"] = [
                {wk: p.get(ik, p.get(wk)) for wk, ik in _POLICY_KEYS} for p in policies if isinstance(p, dict)
            ]
        out[wire] = r
    return out


def _json_annotation(annotations: dict[str, Any], key: str) -> Any:
    raw = annotations.get(key)
    if not isinstance(raw, str) or not raw:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None


def _dump(value: Any) -> str:
    return orjson.dumps(value).decode()


@dataclass(frozen=True, slots=True)
class HPAV1Converter:
    """autoscaling/v1 HorizontalPodAutoscaler served from the stored autoscaling/v2 form."""

    stored_api_version: str = "autoscaling/v2"
    served_api_version: str = "autoscaling/v1"

    def to_storage(self, obj: Obj) -> Obj:
        meta = dict(obj.get("metadata") or {})
        annotations = dict(meta.get("annotations") or {})
        other = _json_annotation(annotations, METRICS_ANNOTATION)
        current = _json_annotation(annotations, CURRENT_METRICS_ANNOTATION)
        conditions = _json_annotation(annotations, CONDITIONS_ANNOTATION)
        behavior = _json_annotation(annotations, BEHAVIOR_ANNOTATION)
        for key in ROUND_TRIP_ANNOTATIONS:
            annotations.pop(key, None)
        if annotations:
            meta["annotations"] = annotations
        else:
            meta.pop("annotations", None)

        spec = obj.get("spec") or {}
        out_spec: Obj = {}
        _put(out_spec, "scaleTargetRef", spec.get("scaleTargetRef"))
        _put(out_spec, "minReplicas", spec.get("minReplicas"))
        _put(out_spec, "maxReplicas", spec.get("maxReplicas"))
        metrics = [metric_spec_from_v1(m) for m in other or () if isinstance(m, dict)]
        cpu = spec.get("targetCPUUtilizationPercentage")
        if cpu is not None:
            metrics.append(_cpu_metric(cpu))
        if not metrics:
            metrics.append(_cpu_metric(DEFAULT_CPU_UTILIZATION))
        out_spec["metrics"] = metrics
        if isinstance(behavior, dict):
            out_spec["behavior"] = behavior_from_annotation(behavior)

        out: Obj = {"apiVersion": self.stored_api_version, "kind": "HorizontalPodAutoscaler", "metadata": meta,
                    "spec": out_spec}
        status = obj.get("status")
        if isinstance(status, dict):
            out_status: Obj = {}
            for key in ("observedGeneration", "lastScaleTime"):
                _put(out_status, key, status.get(key))
            if status.get("currentReplicas"):  # omitempty in v2
                out_status["currentReplicas"] = status["currentReplicas"]
            out_status["desiredReplicas"] = status.get("desiredReplicas", 0)
            if isinstance(current, list):
                out_status["currentMetrics"] = [metric_status_from_v1(m) for m in current if isinstance(m, dict)]
            elif status.get("currentCPUUtilizationPercentage") is not None:
                out_status["currentMetrics"] = [{"type": "Resource", "resource": {
                    "name": "cpu", "current": {"averageUtilization": status["currentCPUUtilizationPercentage"]}}}]
            if isinstance(conditions, list):
                out_status["conditions"] = conditions
            out["status"] = out_status
        return out

    def from_storage(self, obj: Obj) -> Obj:
        meta = dict(obj.get("metadata") or {})
        spec = obj.get("spec") or {}
        status = obj.get("status")
        annotations = dict(meta.get("annotations") or {})
        for key in ROUND_TRIP_ANNOTATIONS:
            annotations.pop(key, None)

        out_spec: Obj = {}
        _put(out_spec, "scaleTargetRef", spec.get("scaleTargetRef"))
        _put(out_spec, "minReplicas", spec.get("minReplicas"))
        _put(out_spec, "maxReplicas", spec.get("maxReplicas"))
        metrics = [m for m in spec.get("metrics") or () if isinstance(m, dict)]
        for m in metrics:
            if m.get("type") == "Resource" and (m.get("resource") or {}).get("name") == "cpu":
                util = ((m.get("resource") or {}).get("target") or {}).get("averageUtilization")
                _put(out_spec, "targetCPUUtilizationPercentage", util)
                break
        other = [metric_spec_to_v1(m) for m in metrics if not _is_cpu_utilization(m)]
        if other:
            annotations[METRICS_ANNOTATION] = _dump(other)
        if isinstance(spec.get("behavior"), dict):
            annotations[BEHAVIOR_ANNOTATION] = _dump(behavior_to_annotation(spec["behavior"]))

        out: Obj = {"kind": "HorizontalPodAutoscaler", "apiVersion": self.served_api_version, "metadata": meta,
                    "spec": out_spec}
        if isinstance(status, dict):
            out_status: Obj = {}
            for key in ("observedGeneration", "lastScaleTime"):
                _put(out_status, key, status.get(key))
            # neither is omitempty in v1
            out_status["currentReplicas"] = status.get("currentReplicas", 0)
            out_status["desiredReplicas"] = status.get("desiredReplicas", 0)
            current = [m for m in status.get("currentMetrics") or () if isinstance(m, dict)]
            for m in current:
                res = m.get("resource") or {}
                if m.get("type") == "Resource" and res.get("name") == "cpu":
                    _put(out_status, "currentCPUUtilizationPercentage", (res.get("current") or {}).get("averageUtilization"))
            if current:
                annotations[CURRENT_METRICS_ANNOTATION] = _dump([metric_status_to_v1(m) for m in current])
            conditions = status.get("conditions")
            if conditions:
                annotations[CONDITIONS_ANNOTATION] = _dump(conditions)
            out["status"] = out_status
        if annotations:
            meta["annotations"] = annotations
        else:
            meta.pop("annotations", None)
        return out


HPA_V1 = HPAV1Converter()

CONVERTERS: dict[tuple[str, str, str], Converter] = {
    ("events.k8s.io", "v1", "Event"): EVENTS_V1,
    ("autoscaling", "v1", "HorizontalPodAutoscaler"): HPA_V1,
}


def converter_for(group: str, version: str, kind: str) -> Converter | None:
    return CONVERTERS.get((group, version, kind))
