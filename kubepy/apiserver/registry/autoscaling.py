"""HorizontalPodAutoscaler strategy: one stored object served as autoscaling/v2 and v1.

The generic status split applies; the one addition is for autoscaling/v1 status writes.
A v1 object carries its v2-only status (current metrics, conditions) in annotations,
and a status write keeps the *old* metadata, so without care the old annotations would
override the status the writer just sent. The status annotations of the new object are
kept instead, and dropped when the writer sent none (its plain v1 fields then win).
"""

from __future__ import annotations

from kubepy.api.conversion import CONDITIONS_ANNOTATION, CURRENT_METRICS_ANNOTATION
from kubepy.apiserver.registry.strategy import Obj, Strategy

_STATUS_ANNOTATIONS = (CURRENT_METRICS_ANNOTATION, CONDITIONS_ANNOTATION)


class HPAStrategy(Strategy):
    def prepare_for_status_update(self, new: Obj, old: Obj) -> None:
        sent = dict((new.get("metadata") or {}).get("annotations") or {})
        super().prepare_for_status_update(new, old)
        if self.info.version != "v1":
            return
        meta = new["metadata"]
        annotations = dict(meta.get("annotations") or {})
        for key in _STATUS_ANNOTATIONS:
            if key in sent:
                annotations[key] = sent[key]
            else:
                annotations.pop(key, None)
        if annotations:
            meta["annotations"] = annotations
        else:
            meta.pop("annotations", None)
