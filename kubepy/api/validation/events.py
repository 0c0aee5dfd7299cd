"""Validation of events.k8s.io/v1 Event (``pkg/apis/core/validation/events.go``, strict path).

Upstream converts an events.k8s.io Event to the internal core Event and validates that,
so errors carry the internal field names (``involvedObject.namespace``, ``message``,
``reportingController``); the v1 JSON names are mapped here (regarding, note, ...).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubepy.api.field_errors import FieldError, invalid, required
from kubepy.api.validation import names
from kubepy.api.validation.meta import (
    as_dict,
    as_int,
    as_str,
    validate_immutable,
    validate_object_meta,
    validate_object_meta_update,
)

# internal field name -> events.k8s.io/v1 JSON name
_FIELD_MAP = {
    "involvedObject": "regarding",
    "message": "note",
    "source": "deprecatedSource",
    "firstTimestamp": "deprecatedFirstTimestamp",
    "lastTimestamp": "deprecatedLastTimestamp",
    "count": "deprecatedCount",
    "reason": "reason",
    "type": "type",
    "eventTime": "eventTime",
    "action": "action",
    "related": "related",
    "reportingController": "reportingController",
    "reportingInstance": "reportingInstance",
}


def _legacy(ev: Mapping[str, Any]) -> list[FieldError]:
    """The checks shared with core/v1 Events, run on the core form of this event (the form
    it is stored in), as upstream validates the internal type for both versions."""
    from kubepy.api.conversion import EVENTS_V1
    from kubepy.api.validation.core import validate_event as validate_core_event

    return validate_core_event(EVENTS_V1.to_storage(dict(ev)))


def _series(ev: Mapping[str, Any]) -> list[FieldError]:
    series = ev.get("series")
    if not isinstance(series, dict):
        return []
    errs: list[FieldError] = []
    if as_int(series.get("count")) < 2:
        errs.append(invalid("series.count", "", "should be at least 2"))
    if not series.get("lastObservedTime"):
        errs.append(required("series.lastObservedTime", ""))
    return errs


def validate_event(ev: Mapping[str, Any]) -> list[FieldError]:
    errs = _legacy(ev)
    errs.extend(validate_object_meta(ev.get("metadata"), namespaced=True, name_fn=names.name_is_dns_subdomain))
    errs.extend(_series(ev))
    if not ev.get("eventTime"):
        errs.append(required("eventTime", ""))
    etype = as_str(ev.get("type"))
    if etype not in ("Normal", "Warning"):
        errs.append(invalid("type", "", f"has invalid value: {etype}"))
    for internal in ("firstTimestamp", "lastTimestamp", "count"):
        if ev.get(_FIELD_MAP[internal]):
            errs.append(invalid(internal, "", "needs to be unset"))
    source = as_dict(ev.get("deprecatedSource"))
    if as_str(source.get("component")) or as_str(source.get("host")):
        errs.append(invalid("source", "", "needs to be unset"))
    return errs


def validate_event_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    errs = _legacy(new)
    errs.extend(validate_object_meta_update(new.get("metadata"), old.get("metadata")))
    if new.get("series") != old.get("series"):
        errs.extend(_series(new))
    for internal in (
        "involvedObject", "reason", "message", "source", "firstTimestamp", "lastTimestamp", "count",
        "reason", "type", "eventTime", "action", "related", "reportingController", "reportingInstance",
    ):
        key = _FIELD_MAP[internal]
        errs.extend(validate_immutable(new.get(key), old.get(key), internal))
    return errs
