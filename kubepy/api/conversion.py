"""Conversion between served versions and the stored form of a resource.

Some kinds are served in one shape and stored in another, as upstream does through its
internal types: events.k8s.io/v1 Events are core/v1 Events renamed field by field, in one
shared storage, so ``kubectl events`` and ``kubectl describe`` see the same events
whichever API wrote them. A ``Converter`` maps one served kind to its stored kind and back;
kinds without one are stored as served.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Obj = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Converter:
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


EVENTS_V1 = Converter(
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

CONVERTERS: dict[tuple[str, str, str], Converter] = {
    ("events.k8s.io", "v1", "Event"): EVENTS_V1,
}


def converter_for(group: str, version: str, kind: str) -> Converter | None:
    return CONVERTERS.get((group, version, kind))
